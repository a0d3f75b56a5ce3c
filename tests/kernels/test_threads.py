"""The kernel's thread driver (costsim.kernels._threads): every work item runs
exactly once whatever the thread count, the numbers do not depend on it, and a
failure in a worker thread reaches the caller."""

import numba
import numpy as np
import pytest
import xarray as xr

import costsim as cs
from costsim.kernels import _threads


def _small_run() -> xr.Dataset:
    traffic = cs.Traffic(
        [cs.QueryClass("chat", 3.0, cs.LogNormal(6.0, 1.0), cs.LogNormal(5.0, 0.8)),
         cs.QueryClass("agent", 1.0, cs.LogNormal(7.0, 0.5), cs.LogNormal(5.5, 0.5), steps=cs.Geometric(0.4),
                       tool_tokens=cs.LogNormal(6.0, 0.7))],
        cs.Arrivals(2_000, horizon="2D", bin="1h", overdispersion=0.3),
    )
    return cs.simulate(traffic, {"api": cs.TokenPricing(input=3.0, output=15.0)}, trials=5, seed=11, progress=False)


@pytest.fixture
def ranges(monkeypatch):
    """Record the (first_item, end_item) ranges the driver hands to the compiled kernel."""
    seen = []
    original = _threads.simulate_items

    def recording(seed, trials, n_parts, first_item, end_item, *rest):
        seen.append((first_item, end_item, trials.shape[0] * n_parts))
        return original(seed, trials, n_parts, first_item, end_item, *rest)

    monkeypatch.setattr(_threads, "simulate_items", recording)
    return seen


def test_every_work_item_runs_once_and_threads_change_no_number(ranges, monkeypatch):
    monkeypatch.setattr(numba, "get_num_threads", lambda: 1)
    one = _small_run()
    assert [(a, b) for a, b, _ in ranges] == [(0, ranges[0][2])]  # one thread: one call over all items
    ranges.clear()
    monkeypatch.setattr(numba, "get_num_threads", lambda: 2)  # as on 2 cores (the driver and simulate's split of the bins)
    two = _small_run()
    n_items = ranges[0][2]
    covered = sorted(i for a, b, _ in ranges for i in range(a, b))
    assert covered == list(range(n_items))
    assert len(ranges) > 2  # the items were split into ranges, taken by two threads
    for name in one.data_vars:
        np.testing.assert_array_equal(one[name].values, two[name].values, err_msg=name)


def test_a_failure_in_a_worker_thread_reaches_the_caller(monkeypatch):
    monkeypatch.setattr(numba, "get_num_threads", lambda: 2)

    def failing(seed, trials, n_parts, first_item, *rest):
        if first_item > 0:
            raise FloatingPointError(f"item {first_item}")

    monkeypatch.setattr(_threads, "simulate_items", failing)
    with pytest.raises(FloatingPointError, match="item"):
        _small_run()


def test_the_specialisation_for_simple_traffic_changes_no_number(monkeypatch):
    # lognormal tokens, geometric steps, no copula: the kernel compiled without the general samplers
    assert _threads.compiled_features(_prepared_traffic()) == (None, None, None)
    specialised = _small_run()
    monkeypatch.setattr(_threads, "compiled_features", lambda traffic: (True, True, True))  # everything compiled
    general = _small_run()
    for name in specialised.data_vars:
        np.testing.assert_array_equal(specialised[name].values, general[name].values, err_msg=name)


def _prepared_traffic():
    seen = []
    original = _threads.compiled_features

    def recording(traffic):
        seen.append(traffic)
        return original(traffic)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_threads, "compiled_features", recording)
        _small_run()
    return seen[0]
