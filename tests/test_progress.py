"""Progress bars (costsim.run.progress): chunking the trials for the bar leaves every
number unchanged; ``progress=None`` decides from the estimated time and the output."""

import re

import numba
import numpy as np
import pytest
import xarray as xr

import costsim as cs
from costsim import kernels
from costsim.run import progress as _progress


@pytest.fixture
def kernel_calls(monkeypatch):
    """Count the kernel calls simulate() makes (it looks the kernel up at call time)."""
    calls, n_parts = [], []
    original = kernels.simulate_kernel

    def counting(*args):
        calls.append(args[1].tolist())  # the chunk's trial ids
        n_parts.append(args[2])
        return original(*args)

    monkeypatch.setattr(kernels, "simulate_kernel", counting)
    monkeypatch.setattr(numba, "get_num_threads", lambda: 2)  # chunks and parts as on 2 threads
    return calls, n_parts


def test_chunked_progress_run_is_bit_identical(monkeypatch, kernel_calls, capsys):
    calls, n_parts = kernel_calls
    # per-trial rates (a random modulation), per-trial prices (an uncertain parameter)
    # and per-trial burst shapes: every per-trial input is sliced per chunk
    arrivals = cs.Arrivals(3_000, horizon="2D", bin="1h", overdispersion=cs.Uniform(0.1, 0.4))
    traffic = cs.Traffic(
        [cs.QueryClass("chat", 3.0, cs.LogNormal(6.0, 1.0), cs.LogNormal(5.0, 0.8)),
         cs.QueryClass("rag", 1.0, cs.LogNormal(8.0, 0.5), cs.LogNormal(5.5, 0.5))],
        arrivals, class_modulation={"rag": (cs.OnOff(cs.Gamma(2.0, 60.0), cs.Gamma(2.0, 120.0), off_level=0.2),)},
    )
    assert traffic.random
    options = {"api": cs.TokenPricing(input=3.0, output=15.0),
               "uncertain": cs.TokenPricing(input=cs.Uniform(1.0, 4.0), output=12.0)}
    trials = [9, 0, 4, 7, 1, 3, 8, 2, 6, 5, 11]
    whole = cs.simulate(traffic, options, trials=trials, seed=31, progress=False)
    assert calls == [trials] and n_parts == [1]
    calls.clear()
    n_parts.clear()

    monkeypatch.setattr(_progress, "CHUNK_SECONDS", 0.0)  # the smallest chunks: 2 x threads trials
    chunked = cs.simulate(traffic, options, trials=trials, seed=31, progress=True)
    assert calls == [trials[0:4], trials[4:8], trials[8:]] and n_parts == [1, 1, 2]
    xr.testing.assert_identical(chunked, whole)
    for name in whole.data_vars:
        np.testing.assert_array_equal(chunked[name].values, whole[name].values, err_msg=name)
    assert "11/11" in capsys.readouterr().err  # the bar went to stderr and finished


def test_few_trials_run_in_one_call_with_parts_of_the_bins(kernel_calls):
    traffic = cs.demo.demo_traffic(days=1, volume=2_000)
    cs.simulate(traffic, cs.demo.demo_options(), trials=3, seed=1, progress=True)
    assert kernel_calls == ([[0, 1, 2]], [2])  # 2 parts x 3 trials: work for 2 x 2 threads


def test_automatic_progress_needs_a_long_run_and_a_person(monkeypatch):
    monkeypatch.setattr(_progress, "interactive", lambda: True)
    assert _progress.show_progress(None, 2 * _progress.AUTO_SECONDS)
    assert not _progress.show_progress(None, 0.5 * _progress.AUTO_SECONDS)
    monkeypatch.setattr(_progress, "interactive", lambda: False)
    assert not _progress.show_progress(None, 1e6)
    assert _progress.show_progress(True, 0.0) and not _progress.show_progress(False, 1e6)
    with pytest.raises(TypeError, match="progress must be True, False or None"):
        _progress.show_progress("yes", 1.0)


def test_pytest_output_is_not_interactive():
    # under pytest stderr is captured: a long run would show no bar by default
    assert not _progress.interactive()


def test_sweep_shows_one_bar_and_the_same_numbers(capsys):
    traffic = cs.demo.demo_traffic(days=1, volume=1.0)
    options = cs.demo.demo_options()
    quiet = cs.sweep(traffic, options, [500, 2_000], trials=3, seed=5, progress=False)
    assert capsys.readouterr().err == ""
    shown = cs.sweep(traffic, options, [500, 2_000], trials=3, seed=5, progress=True)
    err = capsys.readouterr().err
    xr.testing.assert_identical(shown, quiet)
    expected = sum(cs.estimate(cs.demo.demo_traffic(days=1, volume=v), options, trials=3, seed=5).queries
                   for v in (500, 2_000))  # the seed of the sweep: the estimate depends on the trial draws
    final = err.replace("\r", "\n").strip().splitlines()[-1]
    done, total = re.search(r"\| (\S+)k/(\S+)k \[", final).groups()  # the expected queries of both volumes
    assert "100%" in final and "queries/s" in final and done == total
    assert float(total) == pytest.approx(expected / 1e3, abs=0.01)
    assert err.count("\n") == 1  # one bar for the sweep, none per volume
    assert err.startswith("\rcostsim: 0.00queries")  # drawn before the run is estimated (total unknown yet)


def test_a_shown_bar_keeps_its_clock_running(monkeypatch):
    """Between updates (a first call compiling the kernel), the bar is redrawn every TICK_SECONDS."""
    import time

    class Bar:
        redraws = 0

        def refresh(self):
            Bar.redraws += 1

    monkeypatch.setattr(_progress, "TICK_SECONDS", 0.01)
    with _progress._ticking(Bar()):
        time.sleep(0.5)
    stopped = Bar.redraws
    time.sleep(0.05)
    assert stopped >= 5 and Bar.redraws == stopped  # redrawn while open, never after
