"""costsim.estimate and the memory guard of simulate()."""

import dataclasses
import math
import time
from pathlib import Path

import numpy as np
import pytest

import costsim as cs
from costsim.run import sizing as _estimate
from costsim._model import uncertain_parameters
from costsim.scenario import load_scenario


@pytest.fixture(scope="module")
def capacity_scenario():
    """An example with capacity options (their extra variables) and uncertain parameters."""
    from costsim.scenario import examples

    scenario = next(load_scenario(p) for p in examples() if p.stem == "deployment_options")
    assert not all(isinstance(m, cs.PricingModel) for m in scenario.options.values())
    return scenario


def test_result_bytes_match_the_dataset(capacity_scenario):
    s = capacity_scenario
    for traffic, options in [(s.traffic, s.options), (cs.demo.demo_traffic(days=2), cs.demo.demo_options())]:
        ds = cs.simulate(traffic, options, trials=3, seed=1)
        est = cs.estimate(traffic, options, trials=3, seed=1)
        assert (est.trials, est.bins, est.classes, est.options) == (3, ds.sizes["time"], ds.sizes["qclass"],
                                                                     ds.sizes["option"])
        # all but the labels of the option, class and parameter coordinates (a few hundred bytes)
        assert 0 <= ds.nbytes - est.result_bytes < 500, (ds.nbytes, est.result_bytes)


def test_expected_queries():
    # deterministic rates: exact (the kernel's Poisson counts scatter around it)
    traffic = cs.Traffic([cs.QueryClass("chat", 1.0, cs.LogNormal(6.0, 1.0), cs.LogNormal(5.0, 0.8))],
                         cs.Arrivals(volume=10_000, horizon="2D", bin="1h", growth=0.5))
    est = cs.estimate(traffic, cs.demo.demo_options(), trials=[3, 5])
    assert est.queries == pytest.approx(2 * traffic.rates().sum(), rel=1e-12)
    # the demo's uncertain growth: the mean over the first SAMPLE_TRIALS trials, scaled up
    uncertain = cs.demo.demo_traffic(days=2, volume=10_000)
    assert "arrivals.growth" in uncertain_parameters(uncertain)
    est = cs.estimate(uncertain, cs.demo.demo_options(), trials=100, seed=4)
    ds = cs.simulate(uncertain, cs.demo.demo_options(), trials=_estimate.SAMPLE_TRIALS, seed=4)
    growth = ds["uncertain"].sel(parameter="traffic.arrivals.growth").values  # each trial's draw
    expected = sum(
        dataclasses.replace(uncertain, arrivals=dataclasses.replace(uncertain.arrivals, growth=float(g))).rates().sum()
        for g in growth
    )
    assert est.queries == pytest.approx(100 / _estimate.SAMPLE_TRIALS * expected, rel=1e-12)
    assert est.seconds == pytest.approx(est.queries / (_estimate.QUERIES_PER_THREAD_SECOND * est.threads))
    text = str(est)
    assert text.startswith(f"{est.queries:,.0f} queries expected (100 trials x 48 time bins x 4 classes, 3 options)")
    assert f"; result {est.result_bytes / 2**20:.3g} MiB, peak memory " in text
    assert "; roughly under a second on " in text


def test_simulate_refuses_a_result_above_the_limit():
    traffic, options = cs.demo.demo_traffic(days=2), cs.demo.demo_options()
    size = cs.estimate(traffic, options, trials=4).result_bytes
    assert size > 50_000
    with pytest.raises(ValueError, match=rf"the result would take {size / 1024:.3g} KiB, more than "
                                         r"max_result_bytes=50000: run fewer trials"):
        cs.simulate(traffic, options, trials=4, seed=1, max_result_bytes=50_000)
    cs.simulate(traffic, options, trials=4, seed=1, max_result_bytes=size)  # at the limit: runs
    cs.simulate(traffic, options, trials=4, seed=1, max_result_bytes=math.inf)
    with pytest.raises(ValueError, match="max_result_bytes must be a number of bytes > 0 or None; got -1"):
        cs.simulate(traffic, options, trials=4, seed=1, max_result_bytes=-1)


def test_default_limit_is_the_available_memory_and_checked_first(monkeypatch):
    traffic, options = cs.demo.demo_traffic(days=365), cs.demo.demo_options()
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=r"would take .* TiB, more than 50% of the .* of memory available"):
        cs.simulate(traffic, options, trials=10**7, seed=1)  # ~30 TiB
    assert time.perf_counter() - t0 < 5  # refused before drawing or lowering anything
    monkeypatch.setattr(_estimate, "available_memory", lambda: None)  # unknown: no check
    _estimate.check_result_fits(2**60, None)


def test_available_memory_reads_proc_meminfo_without_psutil(monkeypatch):
    import builtins

    if not Path("/proc/meminfo").exists():
        pytest.skip("no /proc/meminfo on this system")
    real_import = builtins.__import__

    def no_psutil(name, *args, **kwargs):
        if name == "psutil":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    with_psutil = _estimate.available_memory()
    monkeypatch.setattr(builtins, "__import__", no_psutil)
    without = _estimate.available_memory()
    # the same kernel figure read twice: other processes move it a little
    assert without == pytest.approx(with_psutil, rel=0.2)
    assert np.isfinite(without) and without > 0
