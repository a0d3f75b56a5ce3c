"""The kernel's thread pool (costsim.kernels._driver): any thread count and any split
of the work items gives the same numbers."""

import numba
import numpy as np
import pytest

import costsim as cs
from costsim.kernels import _driver


def test_thread_counts_and_chunks_give_identical_results(monkeypatch):
    traffic = cs.demo.demo_traffic(days=2, volume=3_000)
    options = cs.demo.demo_options()
    results = []
    for threads, per_thread in ((1, 4), (2, 4), (3, 1), (5, 7)):
        monkeypatch.setattr(numba, "get_num_threads", lambda threads=threads: threads)
        monkeypatch.setattr(_driver, "CHUNKS_PER_THREAD", per_thread)
        results.append(cs.simulate(traffic, options, trials=3, seed=4, progress=False))
    assert int(results[0]["requests"].sum()) > 5_000
    for other in results[1:]:
        for name in results[0].data_vars:
            np.testing.assert_array_equal(other[name].values, results[0][name].values, err_msg=name)


def test_an_error_in_a_worker_thread_reaches_the_caller(monkeypatch):
    def failing(*args):
        raise RuntimeError("boom")

    monkeypatch.setattr(_driver, "simulate_items", failing)
    traffic = cs.demo.demo_traffic(days=1, volume=1_000)
    monkeypatch.setattr(numba, "get_num_threads", lambda: 3)
    with pytest.raises(RuntimeError, match="boom"):
        cs.simulate(traffic, cs.demo.demo_options(), trials=4, seed=1, progress=False)
