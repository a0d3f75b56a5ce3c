"""Arrival modulation: definitions (moments, exact curves), randomness contract, scenario files, Azure trace."""

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import costsim as cs
from costsim.run.prepare import check_run, prepare
from costsim.scenario import from_dict, to_dict
from costsim.traffic.processes import modulation_rng

API = {"api": cs.TokenPricing(input=3.0, output=15.0)}
CHAT = cs.QueryClass("chat", 0.8, cs.LogNormal(6.0, 1.0), cs.LogNormal(5.0, 0.8))
AGENT = cs.QueryClass("agent", 0.2, cs.LogNormal(7.0, 0.5), cs.LogNormal(5.0, 0.5))
BURSTS = cs.OnOff(on=cs.LogNormal.from_median_p90(5.0, 20.0), off=cs.LogNormal.from_median_p90(2.0, 8.0))


def _pinned_traffic():
    daily = tuple(1.0 + 0.5 * np.sin(np.pi * h / 12) for h in range(24))
    chat = cs.QueryClass("chat", cs.Uniform(0.6, 0.9), cs.LogNormal(6.0, 1.0), cs.LogNormal(5.0, 0.8))
    agent = cs.QueryClass("agent", 0.2, cs.LogNormal(7.0, 0.5), cs.LogNormal(5.0, 0.5), steps=cs.Geometric(0.5))
    arrivals = cs.Arrivals(volume=cs.Uniform(2000, 4000), horizon="2D", bin="1h", daily_profile=daily, growth=0.3,
                           overdispersion=0.4)
    return cs.Traffic([chat, agent], arrivals)


def test_traffic_without_modulation_gives_the_numbers_it_gave_before_modulation_existed():
    # computed once with the code before arrival modulation was added (same seed, trials)
    traffic = _pinned_traffic()
    trials = np.arange(3)
    lowered = prepare(check_run(traffic, API, trials=3), 7).traffic
    assert lowered.rate.shape == (3, 48, 2)
    assert lowered.rate[0, 0].tolist() == [86.847143152495, 25.741992354426824]
    assert lowered.rate[2, 47].tolist() == [60.089323629573606, 15.210584476867433]
    assert float(lowered.rate.sum()) == 14302.179933479334
    assert lowered.burst_shape.tolist() == [1.0 / (0.4 * 0.4)] * 3
    # the kernel's draws too (these move only if the kernel's streams change)
    ds = cs.simulate(traffic, API, trials=3, seed=7)
    assert ds["requests"].sum("time").values.tolist() == [[3864, 1207], [3872, 1069], [3388, 820]]


def test_deterministic_modulation_keeps_one_rate_table_for_all_trials():
    arrivals = cs.Arrivals(1000, horizon="1D", bin="1h")
    plain = cs.Traffic([CHAT, AGENT], arrivals)
    flash = cs.Traffic([CHAT, AGENT], arrivals, modulation=(cs.FlashEvent("2026-01-05T06:00", "2h", 3.0),))
    assert not flash.random and cs.Traffic([CHAT], arrivals, class_modulation={"chat": (BURSTS,)}).random
    rate = prepare(check_run(flash, API, trials=4), 1).traffic.rate
    assert rate.shape == (1, 24, 2)
    np.testing.assert_array_equal(rate[0, 6:8], 3.0 * plain.rates()[6:8])
    np.testing.assert_array_equal(rate[0, 8:], plain.rates()[8:])


UNCERTAIN_NOISE = (cs.Overdispersion(cv=cs.Uniform(0.1, 0.3)),)


def _bursty_traffic(chat=UNCERTAIN_NOISE, **arrivals):
    return cs.Traffic(
        [CHAT, AGENT],
        cs.Arrivals(2_000, horizon="6h", bin="15min", **arrivals),
        modulation=(cs.LogisticGrowth(ceiling=3.0, rate=5.0),),
        class_modulation={"agent": (BURSTS, cs.Overdispersion(0.5)), "chat": chat},
        mix_shift=cs.MixShift({"chat": 0.6, "agent": 0.4}, curve="logistic"),
    )


def test_random_modulation_is_identical_whatever_the_chunking_of_trials():
    traffic = _bursty_traffic(overdispersion=0.3)
    whole = cs.simulate(traffic, API, trials=4, seed=11)
    parts = [cs.simulate(traffic, API, trials=ids, seed=11) for ids in ([0, 1], [3, 2])]
    for name in ("requests", "cost"):
        joined = xr.concat([p[name] for p in parts], "trial").sortby("trial")
        np.testing.assert_array_equal(joined.values, whole[name].values)
    # and the trials differ from each other: the modulation is drawn per trial
    per_trial = whole["requests"].sum("time").sel(qclass="agent").values
    assert len(set(per_trial.tolist())) == 4


@pytest.mark.slow
def test_random_modulation_is_identical_on_dask():
    distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed")
    traffic = _bursty_traffic()
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                                  env={"NUMBA_NUM_THREADS": "1"}) as cluster, \
            distributed.Client(cluster, set_as_default=False) as client:
        remote = cs.simulate(traffic, API, trials=3, seed=11, client=client, trials_per_task=2)
    xr.testing.assert_identical(remote, cs.simulate(traffic, API, trials=3, seed=11))


def test_rates_depend_on_seed_trial_and_scope_only():
    traffic = _bursty_traffic(chat=(cs.Overdispersion(0.2),))
    a = traffic.rates(seed=3, trial=5)
    np.testing.assert_array_equal(a, traffic.rates(seed=3, trial=5))
    assert not np.array_equal(a, traffic.rates(seed=4, trial=5))
    assert not np.array_equal(a, traffic.rates(seed=3, trial=6))
    # appending a modulation to one class leaves the other class's draws alone
    more = _bursty_traffic(chat=(cs.Overdispersion(0.2), cs.Overdispersion(0.1))).rates(seed=3, trial=5)
    np.testing.assert_array_equal(a[:, 1], more[:, 1])
    assert not np.array_equal(a[:, 0], more[:, 0])
    with pytest.raises(TypeError, match="uncertain parameters"):
        _bursty_traffic().rates()


def test_overdispersion_gives_gamma_poisson_counts_per_class():
    # per-bin counts of a constant rate m with gamma factors: variance m + m^2 cv^2 (negative binomial)
    m, cv, trials = 20.0, 0.5, 4
    halves = [dataclasses.replace(qc, share=0.5) for qc in (CHAT, AGENT)]
    traffic = cs.Traffic(halves, cs.Arrivals(2 * m * 1440, horizon="1D", bin="1min"),
                         class_modulation={"chat": (cs.Overdispersion(cv),), "agent": (cs.Overdispersion(cv),)})
    counts = cs.simulate(traffic, API, trials=trials, seed=5)["requests"].values  # [trial, time, class]
    n = counts.shape[0] * counts.shape[1]  # 5760 bins per class
    for c in range(2):
        x = counts[:, :, c].ravel().astype(float)
        s2 = x.var(ddof=1)
        # standard error of a sample variance: sqrt((m4 - s^4) / n), m4 the 4th central moment
        se = math.sqrt((np.mean((x - x.mean()) ** 4) - s2 * s2) / n)
        assert abs(s2 - (m + m * m * cv * cv)) < 4 * se, (s2, se)
        assert abs(x.mean() - m) < 4 * math.sqrt((m + m * m * cv * cv) / n)
    # independent between classes: correlation within 4 / sqrt(n) of 0
    r = np.corrcoef(counts[:, :, 0].ravel(), counts[:, :, 1].ravel())[0, 1]
    assert abs(r) < 4 / math.sqrt(n)


def test_shared_modulation_moves_all_classes_together():
    traffic = cs.Traffic([CHAT, AGENT], cs.Arrivals(1440, horizon="1D", bin="1min"), modulation=(BURSTS,))
    rate = traffic.rates(seed=1, trial=0)
    np.testing.assert_allclose(rate[:, 1], 0.25 * rate[:, 0], rtol=1e-12)
    assert (rate[:, 0] == 0).any()


@pytest.mark.parametrize(("on", "off"), [
    # lognormal durations with sigma = 1 (means 4 and 2 minutes)
    (cs.LogNormal(math.log(4.0) - 0.5, 1.0), cs.LogNormal(math.log(2.0) - 0.5, 1.0)),
    # Pareto durations, alpha 2.5: heavy tails with a finite variance, so the CLT bounds below hold
    (cs.Pareto(alpha=2.5, scale=2.4), cs.Pareto(alpha=2.5, scale=1.2)),
], ids=["lognormal", "pareto"])
def test_on_off_matches_its_on_fraction_and_mean_durations(on, off):
    process = cs.OnOff(on=on, off=off, unit="1min", off_level=0.25)
    cycle = on.mean() + off.mean()
    p = on.mean() / cycle
    assert process.on_fraction == pytest.approx(p, rel=1e-12)
    high, low = process.levels
    assert high * p + low * (1 - p) == pytest.approx(1.0) and low == pytest.approx(0.25 * high)
    arrivals = cs.Arrivals(1440, horizon="100D", bin="1h")
    horizon = arrivals.n_bins * 60.0
    switches, _, state = process._path(horizon, p, cycle, modulation_rng(2, 0, "traffic", 0, "OnOff"))
    inside = (switches[:-1] >= 0) & (switches[1:] <= horizon)  # whole periods within the horizon
    durations = np.diff(switches)[inside]
    for value, dist in ((1.0, on), (0.0, off)):
        d = durations[state[:-1][inside] == value]
        assert abs(d.mean() - dist.mean()) < 4 * math.sqrt(dist.var() / d.size)
    # time-average of the factor, renewal-reward CLT over horizon / cycle cycles:
    # se = sd((1 - p) on - p off) / (cycle sqrt(cycles))
    f = process.factors(arrivals, modulation_rng(2, 0, "traffic", 0, "OnOff"))
    cycles = horizon / cycle
    se_fraction = math.sqrt(((1 - p) ** 2 * on.var() + p**2 * off.var()) / cycles) / cycle
    fraction = (f.mean() - low) / (high - low)
    assert abs(fraction - p) < 4 * se_fraction
    assert f.min() >= low - 1e-12 and f.max() <= high + 1e-12


def test_on_off_rejects_durations_without_a_mean():
    with pytest.raises(cs.ParameterError, match="OnOff: on must have a finite, positive mean"):
        cs.OnOff(on=cs.Pareto(alpha=0.9, scale=1.0), off=cs.LogNormal(0.0, 1.0))
    with pytest.raises(cs.ParameterError, match=r"off_level must be in \[0, 1\]"):
        cs.OnOff(on=cs.LogNormal(0.0, 1.0), off=cs.LogNormal(0.0, 1.0), off_level=2.0)


@pytest.mark.parametrize(("bin_", "start"), [("15min", "2026-01-05T00:00"), ("1h", "2026-01-05T00:00+05:30"),
                                             ("1D", "2026-01-05T00:00")])
def test_a_class_profile_shapes_the_class_as_an_arrivals_profile_would(bin_, start):
    daily = tuple(1.0 + math.sin(math.pi * h / 24) ** 2 for h in range(24))
    weekly = (1.2, 1.1, 1.0, 1.0, 0.9, 0.5, 0.4)
    flat = cs.Arrivals(1000, horizon="14D", bin=bin_, start=start)
    shaped = dataclasses.replace(flat, daily_profile=daily, weekly_profile=weekly)
    traffic = cs.Traffic([CHAT, AGENT], flat, class_modulation={"agent": (cs.Profile(daily, weekly),)})
    rate = traffic.rates()
    np.testing.assert_allclose(rate[:, 1], 0.2 * shaped.expected_requests(), rtol=1e-12)
    np.testing.assert_allclose(rate[:, 0], 0.8 * flat.expected_requests(), rtol=1e-12)
    with pytest.raises(cs.ParameterError, match="Profile: daily must have 24 values"):
        cs.Profile(daily=daily[:23])


def test_logistic_growth_is_the_exact_bin_mean_of_the_curve():
    from scipy import integrate

    growth = cs.LogisticGrowth(ceiling=8.0, rate=0.7)
    arrivals = cs.Arrivals(1000, horizon="364D", bin="7D")
    f = growth.factors(arrivals)
    month = 365.25 / 12

    def curve(t_days):
        return 8.0 / (1.0 + 7.0 * math.exp(-0.7 * t_days / month))

    expected = [integrate.quad(curve, 7 * b, 7 * (b + 1))[0] / 7 for b in range(arrivals.n_bins)]
    np.testing.assert_allclose(f, expected, rtol=1e-10)
    assert cs.LogisticGrowth(ceiling=0.5, rate=2.0).factors(arrivals)[-1] == pytest.approx(0.5, rel=1e-3)


def test_flash_event_adds_its_extra_volume():
    arrivals = cs.Arrivals(2400, horizon="2D", bin="1h", start="2026-01-05T00:00")
    f = cs.FlashEvent("2026-01-05T10:20", "90min", 4.0).factors(arrivals)
    # extra volume (4 - 1) x 1.5 hours at 100 requests an hour
    assert (f - 1).sum() * 100 == pytest.approx(450.0, rel=1e-12)
    assert f[10] == pytest.approx(1 + 3 * 40 / 60) and f[11] == pytest.approx(1 + 3 * 50 / 60)
    assert f[9] == f[12] == 1.0


def test_mix_shift_moves_the_shares_and_keeps_the_volume():
    arrivals = cs.Arrivals(10_000, horizon="10D", bin="1h")
    agent = cs.QueryClass("agent", 0.05, cs.LogNormal(7.0, 0.5), cs.LogNormal(5.0, 0.5))
    chat = cs.QueryClass("chat", 0.95, cs.LogNormal(6.0, 1.0), cs.LogNormal(5.0, 0.8))
    for curve in ("linear", "logistic"):
        shift = cs.MixShift({"chat": 0.7, "agent": 0.3}, curve=curve, midpoint=0.3, steepness=8.0)
        traffic = cs.Traffic([agent, chat], arrivals, mix_shift=shift)
        rate = traffic.rates()
        np.testing.assert_allclose(rate.sum(axis=1), arrivals.expected_requests(), rtol=1e-12)
        u = (np.arange(240) + 0.5) / 240
        if curve == "linear":
            w = u
        else:
            s = 1 / (1 + np.exp(-8.0 * (np.r_[0.0, 1.0, u] - 0.3)))
            w = (s[2:] - s[0]) / (s[1] - s[0])
        np.testing.assert_allclose(rate[:, 0] / rate.sum(axis=1), 0.05 + 0.25 * w, rtol=1e-12)
    # realised: the agent share of the last day's requests, binomial standard error
    ds = cs.simulate(cs.Traffic([agent, chat], arrivals, mix_shift=cs.MixShift({"chat": 0.7, "agent": 0.3})),
                     API, trials=2, seed=3)
    last = ds["requests"].isel(time=slice(-24, None)).sum(("trial", "time")).values
    expected = float(np.mean(0.05 + 0.25 * u[-24:]))
    n = last.sum()
    assert abs(last[0] / n - expected) < 4 * math.sqrt(expected * (1 - expected) / n)


def test_traffic_checks_modulation_and_mix_shift():
    arrivals = cs.Arrivals(1000, horizon="1D", bin="1h")
    with pytest.raises(cs.ParameterError, match=r"class_modulation must name classes of this traffic"):
        cs.Traffic([CHAT], arrivals, class_modulation={"rag": (BURSTS,)})
    with pytest.raises(cs.ParameterError, match=r"modulation\[0\] must be a Modulation"):
        cs.Traffic([CHAT], arrivals, modulation=(1.0,))
    with pytest.raises(cs.ParameterError, match="mix_shift.shares must give a share for exactly the classes"):
        cs.Traffic([CHAT, AGENT], arrivals, mix_shift=cs.MixShift({"chat": 1.0}))
    with pytest.raises(cs.ParameterError, match="curve must be 'linear' or 'logistic'"):
        cs.MixShift({"chat": 1.0}, curve="cubic")


def test_modulated_traffic_round_trips_through_scenario_data():
    traffic = _bursty_traffic()
    traffic = cs.Traffic(traffic.classes, traffic.arrivals,
                         (*traffic.modulation, cs.FlashEvent("2026-01-05T02:00", "30min", 2.0)),
                         traffic.class_modulation, traffic.mix_shift)
    assert from_dict(to_dict(traffic)) == traffic
    scenario = cs.scenario.Scenario(traffic, API, trials=2, seed=1)
    assert cs.scenario.Scenario.from_dict(scenario.to_dict()) == scenario
    from jsonschema import validate

    validate(scenario.to_dict(), cs.scenario.json_schema())


# ---- the Azure code trace: on/off arrivals ---------------------------------------------------------

def _dispersion_and_empty(counts):
    """Index of dispersion (variance / mean) of per-bin counts, and the fraction of empty bins."""
    counts = np.asarray(counts, dtype=float)
    return counts.var(ddof=1) / counts.mean(), float(np.mean(counts == 0))


@pytest.fixture(scope="module")
def code_counts():
    stamps = cs.datasets.load_azure_trace("code")["TIMESTAMP"]
    minute = ((stamps - stamps.min()) // pd.Timedelta("1min")).to_numpy()
    return np.bincount(minute)[:57]  # the 57 whole minutes from the first request


def test_estimate_on_off_needs_empty_and_busy_bins():
    with pytest.raises(ValueError, match="both empty and non-empty bins.*got 0 empty of 3"):
        cs.estimate_on_off([1, 2, 3])
    with pytest.raises(ValueError, match="finite numbers >= 0"):
        cs.estimate_on_off([0, -1, 3])
    # runs of 2 busy and 2 empty bins: on 1 bin (at least 1), off 3 bins, Poisson-like counts need no noise
    (on_off,) = cs.estimate_on_off([5, 5, 0, 0] * 10)
    assert on_off.on.mean() == pytest.approx(1.0) and on_off.off.mean() == pytest.approx(3.0)


@pytest.mark.parametrize("how", ["estimated", "by hand"])
def test_on_off_reproduces_the_azure_code_trace(code_counts, how):
    trace_d, trace_empty = _dispersion_and_empty(code_counts)
    assert trace_d > 100 and 11 / 57 <= trace_empty <= 12 / 57  # what the data README reports
    if how == "estimated":
        modulation = cs.estimate_on_off(code_counts, unit="1min")
    else:
        modulation = (cs.OnOff(on=cs.LogNormal.from_median_p90(3.0, 15.0), off=cs.LogNormal.from_median_p90(1.5, 6.0)),
                      cs.Overdispersion(0.7))
    code = cs.QueryClass("code", 1.0, cs.LogNormal(7.5, 0.8), cs.LogNormal(3.0, 1.0))
    traffic = cs.Traffic([code], cs.Arrivals(code_counts.mean() * 1440, horizon="57min", bin="1min"),
                         class_modulation={"code": modulation})
    counts = cs.simulate(traffic, API, trials=200, seed=2)["requests"].values[:, :, 0]
    stats = np.array([_dispersion_and_empty(c) for c in counts if c.sum() > 0])
    sim_d, sim_empty = stats.mean(axis=0)
    assert 1 / 1.5 < sim_d / trace_d < 1.5, (sim_d, trace_d)
    assert 1 / 1.5 < sim_empty / trace_empty < 1.5, (sim_empty, trace_empty)
