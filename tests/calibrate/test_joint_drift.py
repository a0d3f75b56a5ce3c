"""Joint trial-level uncertainty, drift learned from the log, and project(scale=)."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import costsim as cs
from costsim._model import draw_uncertain
from costsim._validation import ParameterError
from costsim.calibrate.arrivals import fit_arrivals
from costsim.calibrate.drift import fit_drift

API = cs.TokenPricing(input=3.0, output=15.0)
T0 = pd.Timestamp("2026-01-05")


def _correlated_log(seed=0, segments=20, minutes=6, rate=2.0, sd=0.3, coupling=-1.0):
    """A log of ``segments`` stretches whose rate is ``rate * exp(z)`` and whose input-token
    location is ``6 + coupling * z`` (z ~ N(0, sd) per stretch): volume and token location
    correlated by construction (-1 at the latent level for coupling < 0)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0.0, sd, segments)
    ts, inp = [], []
    for k, zk in enumerate(z):
        n = rng.poisson(rate * 60 * minutes * math.exp(zk))
        ts.append(np.sort(rng.uniform(k * minutes * 60, (k + 1) * minutes * 60, n)))
        inp.append(np.round(rng.lognormal(6.0 + coupling * zk, 0.5, n)))
    ts, inp = np.concatenate(ts), np.concatenate(inp)
    out = np.round(rng.lognormal(4.0, 0.5, ts.size))
    return pd.DataFrame({"timestamp": T0 + pd.to_timedelta(ts, unit="s"), "input_tokens": inp,
                         "output_tokens": out})


def _block_values(log, minutes=6, segments=20):
    block = ((log["timestamp"] - T0) // pd.Timedelta(minutes=minutes)).clip(upper=segments - 1)
    g = log.groupby(block)
    return np.log(g.size().to_numpy()), np.log(g["input_tokens"].mean().to_numpy())


def _trial_draws(traffic):
    """Per joint scenario (a trial draws one, each equally likely): the volume and the log of the
    (single) class's mean input tokens, up to a constant (the lognormal's mu)."""
    body = traffic.classes[0].input_tokens
    while not isinstance(body, cs.LogNormal):  # the body under a generalized Pareto tail (the top 2 %)
        body = body.components[0] if isinstance(body, cs.Mixture) else body.dist
    return np.asarray(traffic.arrivals.volume.values), np.exp(body.mu.values)


def test_joint_draws_share_one_index():
    a = cs.Joint([1.0, 2.0, 3.0, 4.0], key="k")
    b = cs.Joint([40.0, 30.0, 20.0, 10.0], key="k")
    c = cs.Joint([40.0, 30.0, 20.0, 10.0], key="other")
    d = draw_uncertain({"a": a, "b": b, "c": c}, seed=5, trials=np.arange(2000))
    np.testing.assert_array_equal(d["a"] + d["b"] / 10, 5.0)  # the same scenario in every trial
    # another key draws independently: correlation of 2000 independent draws has sd 1 / sqrt(2000)
    assert abs(np.corrcoef(d["a"], d["c"])[0, 1]) < 4 / math.sqrt(2000)
    # every scenario equally likely: counts of 2000 draws over 4 values, binomial sd sqrt(2000 * 0.25 * 0.75)
    counts = np.bincount(d["a"].astype(int) - 1, minlength=4)
    assert np.all(np.abs(counts - 500) < 4 * math.sqrt(2000 * 0.25 * 0.75))
    assert a.support() == (1.0, 4.0) and a.mean() == 2.5
    with pytest.raises(ParameterError, match="key must be a non-empty string"):
        cs.Joint([1.0], key="")
    with pytest.raises(ParameterError, match=r"values\[1\] must be finite"):
        cs.Joint([1.0, math.nan])


def test_volume_and_token_location_keep_their_correlation():
    log = _correlated_log()
    x, y = _block_values(log)
    r_blocks = np.corrcoef(x, y)[0, 1]
    fit = cs.fit_traffic(log, families=["LogNormal"], segments=1, block="6min")
    vol, mean_in = _trial_draws(cs.project(fit, horizon="20D", bin="1D", drift=0))
    r_trials = np.corrcoef(np.log(vol), np.log(mean_in))[0, 1]
    # the bootstrap of 20 blocks' means carries their sample correlation (up to the log of a ratio):
    # from 1000 scenarios the correlation has sd about (1 - r**2) / sqrt(1000)
    assert abs(r_trials - r_blocks) < 4 * (1 - r_blocks**2) / math.sqrt(1000) + 0.05
    # and the truth: -1 at the latent level, diluted by the noise of a stretch's mean (input: sigma 0.5 over
    # ~700 rows; count: Poisson over ~700): latent sd 0.3, so the population correlation is about -0.99;
    # a correlation from 20 blocks has sd about (1 - r**2) / sqrt(17), small
    assert r_trials < -0.8
    # independent draws (the old behaviour) would give about 0: this is what the joint resampling adds
    independent = cs.fit_traffic(_correlated_log(coupling=0.0), families=["LogNormal"], segments=1, block="6min")
    vol0, mean0 = _trial_draws(cs.project(independent, horizon="20D", bin="1D", drift=0))
    x0, y0 = _block_values(_correlated_log(coupling=0.0))
    r0 = np.corrcoef(x0, y0)[0, 1]
    assert abs(np.corrcoef(np.log(vol0), np.log(mean0))[0, 1] - r0) < 4 / math.sqrt(1000) + 0.05


def test_simulated_cost_carries_the_correlation():
    # busy stretches have shorter prompts: trial-level requests and cost per request move against each other
    fit = cs.fit_traffic(_correlated_log(seed=1), families=["LogNormal"], segments=1, block="6min")
    ds = cs.simulate(cs.project(fit, horizon="2h", bin="10min", drift=0), {"api": API}, trials=300, seed=2)
    requests = ds["requests"].sum(("time", "qclass")).to_numpy()
    per_request = ds["cost"].sum(("time", "qclass")).sel(option="api").to_numpy() / requests
    r = np.corrcoef(np.log(requests), np.log(per_request))[0, 1]
    # strongly negative by construction; from 300 trials a correlation near -0.8 has sd about 0.02
    assert r < -0.5


def test_scale_keeps_the_relative_band():
    rng = np.random.default_rng(0)
    n = 3000
    log = {"timestamp": np.sort(rng.uniform(0, 3600, n)), "input_tokens": np.round(rng.lognormal(6, 1, n)),
           "output_tokens": np.round(rng.lognormal(4, 0.7, n))}
    fit = cs.fit_traffic(log, families=["LogNormal"], segments=1)

    def rel_width(traffic):
        total = cs.simulate(traffic, {"api": API}, trials=200, seed=1)["cost"].sum(("time", "qclass")).to_numpy()
        p5, p50, p95 = np.quantile(total, [0.05, 0.5, 0.95])
        return (p95 - p5) / p50

    one = rel_width(cs.project(fit, horizon="6h", bin="1h"))
    ten = rel_width(cs.project(fit, horizon="6h", bin="1h", scale=10))
    # the same trial-level scenarios (common random numbers) at 10x the volume: only the request-level
    # noise shrinks, 1 / sqrt(18k requests) against a trial-level spread of about 3 percent: 3 % narrower
    assert abs(ten / one - 1) < 0.1
    # a fixed volume drops the volume's uncertainty: the band is narrower (what scale= is for)
    fixed = rel_width(cs.project(fit, horizon="6h", bin="1h", volume=10 * fit.arrivals.volume))
    assert fixed < 0.9 * ten
    point = cs.project(fit, horizon="6h", bin="1h", scale=10, uncertainty=False)
    assert point.arrivals.volume == pytest.approx(10 * fit.arrivals.volume)
    with pytest.raises(ParameterError, match="scale multiplies the fitted volume: give volume or scale, not both"):
        cs.project(fit, scale=2, volume=1e5)
    with pytest.raises(ParameterError, match=r"^scale must be > 0; got 0$"):
        cs.project(fit, scale=0)
    with pytest.raises(ParameterError, match=r"^scale must be finite; got inf$"):
        cs.project(fit, scale=math.inf)


def _drift_inputs(ts_seconds, inp, out):
    ts = (T0 + pd.to_timedelta(ts_seconds, unit="s")).to_numpy()
    span = pd.Timedelta(seconds=float(ts_seconds.max()) + 1.0)
    arr = fit_arrivals(ts, start=T0, span=span)
    return fit_drift(ts, inp, out, start=T0, span=span, arrivals=arr)


def test_drift_of_a_stationary_log_is_the_independent_windows_prediction():
    # Poisson arrivals, iid tokens: the predicted variance of the log volume of a horizon 9x the log is
    # (1 + 1/9) / n.  Over 8 seeds the median ratio to it sits near 1; each fit's alpha near -1
    ratios = []
    for seed in range(8):
        rng = np.random.default_rng(seed)
        n = 4000
        d = _drift_inputs(np.sort(rng.uniform(0, 3600, n)), rng.lognormal(6, 1, n), rng.lognormal(4, 1, n))
        ratios.append(d.variance(pd.Timedelta("9h"))["volume"] / ((1 + 1 / 9) / n))
        assert d.exponent["volume"] < -0.5
    assert 0.7 < np.median(ratios) < 1.5


def test_drift_of_a_wandering_level_is_seen():
    # the rate follows a random walk (sd 0.08 per minute on the log scale): adjacent stretches drift apart,
    # and the predicted variance far exceeds the independent-windows one
    rng = np.random.default_rng(1)
    level = np.cumsum(rng.normal(0, 0.08, 60))
    ts = np.concatenate([np.sort(rng.uniform(60 * k, 60 * (k + 1), rng.poisson(80 * math.exp(v))))
                         for k, v in enumerate(level)])
    n = ts.size
    d = _drift_inputs(ts, rng.lognormal(6, 1, n), rng.lognormal(4, 1, n))
    assert d.exponent["volume"] > -0.5
    assert d.variance(pd.Timedelta("9h"))["volume"] > 5 * (1 + 1 / 9) / n
    assert "drift estimated from" in d.note


def test_too_short_a_log_says_so():
    rng = np.random.default_rng(0)
    log = {"timestamp": np.sort(rng.uniform(0, 600, 200)), "input_tokens": np.round(rng.lognormal(6, 1, 200)),
           "output_tokens": np.round(rng.lognormal(4, 1, 200))}
    fit = cs.fit_traffic(log, families=["LogNormal"], segments=1)
    assert not fit.drift.estimated and fit.drift.variance(pd.Timedelta("1h")) is None
    assert fit.report.drift_note.startswith("drift not estimated: it needs 16 windows of at least 20 rows on average;")
    assert fit.report.drift_note.endswith("give 10")
    assert "drift not estimated" in str(fit.report)
    # the projection falls back to the bootstrap: it still runs, with uncertainty
    assert isinstance(cs.project(fit).arrivals.volume, cs.Joint)


def _short_log(seed, counts_per_minute):
    """Six minutes of Poisson arrivals at the given per-minute rates, iid lognormal tokens."""
    rng = np.random.default_rng(seed)
    ts = np.concatenate([np.sort(rng.uniform(60 * k, 60 * (k + 1), rng.poisson(c)))
                         for k, c in enumerate(counts_per_minute)])
    return {"timestamp": ts, "input_tokens": np.round(rng.lognormal(6, 1, ts.size)),
            "output_tokens": np.round(rng.lognormal(4, 1, ts.size))}


def test_a_short_pilot_estimates_what_its_windows_allow():
    # six minutes: too few one-minute count bins, but 64 windows of 20+ rows.  Poisson counts: the volume's
    # windows need not span a bin, so every quantity is estimated (independent windows, as generated)
    fit = cs.fit_traffic(_short_log(1, [330] * 6), families=["LogNormal"], segments=1)
    assert fit.arrivals.modulation == ()
    assert {q: s.windows for q, s in fit.drift.scaling.items()} == dict.fromkeys(
        ("volume", "input_tokens", "output_tokens"), 64)
    assert fit.drift.exponent == dict.fromkeys(("volume", "input_tokens", "output_tokens"), -1.0)
    # overdispersed minutes: the simulation draws that burstiness per count bin, so the volume's windows
    # must span one (only 5 fit): not estimated, and the note says why; the token means still are
    rates = 330 * np.random.default_rng(2).gamma(2.0, 0.5, 6)
    fit = cs.fit_traffic(_short_log(2, rates), families=["LogNormal"], segments=1)
    assert fit.arrivals.modulation, "the counts should read as overdispersed"
    assert fit.drift.scaling["volume"] is None and fit.drift.scaling["output_tokens"].windows == 64
    assert set(fit.drift.variance(pd.Timedelta("1h"))) == {"input_tokens", "output_tokens"}
    assert "not estimated for volume: it needs 16 windows of at least 20 rows on average, each at least " \
           "1 min (the count bin, the counts being overdispersed)" in fit.report.drift_note
    assert isinstance(cs.project(fit).arrivals.volume, cs.Joint)


def test_a_wander_that_grows_with_the_scale_is_extrapolated_as_a_level_shift_at_most():
    # a steep random walk makes D(w) grow with w (slope > 0); extrapolating that growth past the log's own
    # scales would turn minutes of wander into hours of drift: alpha is clipped to 0, a persistent shift
    rng = np.random.default_rng(3)
    level = np.cumsum(rng.normal(0, 0.3, 60))
    ts = np.concatenate([np.sort(rng.uniform(60 * k, 60 * (k + 1), rng.poisson(80 * math.exp(v))))
                         for k, v in enumerate(level)])
    d = _drift_inputs(ts, rng.lognormal(6, 1, ts.size), rng.lognormal(4, 1, ts.size))
    assert d.exponent["volume"] == 0.0
    assert d.variance(pd.Timedelta("90h"))["volume"] == d.variance(pd.Timedelta("9h"))["volume"] > 0.05


def test_drift_as_a_distribution():
    rng = np.random.default_rng(0)
    n = 3000
    log = {"timestamp": np.sort(rng.uniform(0, 3600, n)), "input_tokens": np.round(rng.lognormal(6, 1, n)),
           "output_tokens": np.round(rng.lognormal(4, 0.7, n))}
    fit = cs.fit_traffic(log, families=["LogNormal"], segments=1)
    base = np.log(cs.project(fit, horizon="1D", bin="1h", drift=0).arrivals.volume.values)
    shifted = np.log(cs.project(fit, horizon="1D", bin="1h", drift=cs.Normal(0.1, 0.2)).arrivals.volume.values)
    # the log level moves by the distribution's draws: mean 0.1 (sd 0.2 / sqrt(1000) = 0.006) and variance
    # 0.04 more (sd 0.04 sqrt(2 / 1000) = 0.0018, plus a covariance term of about 0.0004)
    assert abs(np.mean(shifted - base) - 0.1) < 4 * 0.0064
    assert abs(np.var(shifted) - np.var(base) - 0.04) < 4 * 0.0019
    with pytest.raises(ParameterError, match=r"^drift must be 'auto', a number >= 0 or a costsim Distribution"):
        cs.project(fit, drift="on")
    with pytest.raises(TypeError, match="uncertain parameters"):
        cs.project(fit, drift=cs.Normal(cs.Uniform(0.0, 0.1), 0.2))


def test_a_location_shift_multiplies_a_spliced_column():
    """A joint location shift of a column with a generalized Pareto tail spliced on a truncated body moves the
    body's bound and the tail's threshold with it: the whole column is multiplied by exp(shift)."""
    from costsim.calibrate.fitted import shifted

    column = cs.Mixture((cs.Truncated(cs.LogNormal(5.0, 1.0), upper=399.5), cs.GeneralizedPareto(399.5, 50.0, 0.2)),
                        (0.98, 0.02))
    s = 0.3
    body, tail = shifted(column, np.array([s])).components  # one joint scenario: each Joint holds one value
    moved = cs.Mixture((cs.Truncated(cs.LogNormal(body.dist.mu.values[0], 1.0), upper=body.upper.values[0]),
                        cs.GeneralizedPareto(tail.loc.values[0], tail.scale.values[0], 0.2)), (0.98, 0.02))
    x = np.array([50.0, 300.0, 399.0, 399.5, 450.0, 2_000.0])
    np.testing.assert_allclose(moved.cdf(x * np.exp(s)), column.cdf(x), rtol=1e-12)


def test_a_column_of_mostly_zeros_fits_without_numpy_warnings():
    # bootstrap resamples with no output tokens at all: log(0) - log(0) in the class's own part
    # leaked "RuntimeWarning: invalid value encountered in subtract" to the user
    rng = np.random.default_rng(0)
    n = 200
    log = {"timestamp": np.sort(rng.uniform(0, 3600, n)), "input_tokens": rng.integers(100, 2000, n),
           "output_tokens": np.r_[np.zeros(n - 5, dtype=int), [5, 6, 7, 8, 9]]}
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        fit = cs.fit_traffic(log)
    assert np.all(np.isfinite(fit.joint.output_own))
