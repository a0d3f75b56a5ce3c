"""Arrival fits against their definitions: volume, gamma burstiness, daily profile, on/off, bootstrap.

Tolerances are 4 standard errors of the estimator at the test's sample size
(derivations next to each assertion).
"""

import math

import numpy as np
import pandas as pd

import costsim as cs
from costsim.calibrate import fit_arrivals
from costsim.calibrate._bootstrap import log_ratio_variance

T0 = pd.Timestamp("2026-01-05T00:00")


def _times(offsets_s):
    return T0.to_datetime64() + np.sort(np.asarray(offsets_s) * 1e9).astype("timedelta64[ns]")


def _from_counts(counts, width_s, rng):
    """Arrival times spread uniformly within bins of the given counts."""
    starts = np.repeat(np.arange(counts.size) * width_s, counts)
    return _times(starts + rng.uniform(0, width_s, starts.size))


def test_poisson_volume_and_no_burstiness():
    rng = np.random.default_rng(0)
    n = rng.poisson(3600)
    fit = fit_arrivals(_times(rng.uniform(0, 3600, n)), start=T0, span=pd.Timedelta("1h"), block="1min")
    # volume = n / span: relative standard error 1 / sqrt(3600)
    assert abs(fit.volume / 86_400 - 1) < 4 / math.sqrt(3600)
    # counts of 60 per minute over 60 bins: the moment estimate of cv**2 has sd ~ sqrt(2 / 60) / 60 = 0.003
    assert fit.modulation == () or fit.modulation[0].cv ** 2 < 4 * 0.003
    assert fit.daily_profile is None and fit.empty_fraction == 0.0
    # block bootstrap of independent minutes: var(log rate) ~ 1 / n times the small-sample factor
    # 60 / 59 * (t_0.95,59 / z_0.95)**2 = 1.05; the variance estimate from 60 blocks has relative sd
    # sqrt(2 / 59) = 0.18, so the sd has ~0.09: 4 of them
    ratio = fit.volume_log_sd / math.sqrt(1.05 / n)
    assert abs(ratio - 1) < 4 * 0.09


def test_gamma_poisson_counts_give_their_cv():
    rng = np.random.default_rng(1)
    bins, m, cv = 600, 100.0, 0.5
    counts = rng.poisson(m * rng.gamma(1 / cv**2, cv**2, bins))
    fit = fit_arrivals(_from_counts(counts, 60, rng), start=T0, span=pd.Timedelta(minutes=bins))
    (noise,) = fit.modulation
    assert isinstance(noise, cs.Overdispersion)
    # count variance m + m^2 cv^2 = 2600; its estimate over 600 bins has sd ~ 2600 sqrt(2 / 599) = 150
    # (x 1.5 for the gamma's excess kurtosis), i.e. 0.0225 on cv^2 = var / m^2: 4 sd = 0.09
    assert abs(noise.cv**2 - cv**2) < 0.09
    assert fit.dispersion_index > 20


def test_daily_profile_recovered():
    rng = np.random.default_rng(2)
    hours = np.arange(48)
    shape = 1.0 + 0.5 * np.sin(2 * np.pi * hours / 24)
    counts = rng.poisson(500 * shape)
    fit = fit_arrivals(_from_counts(counts, 3600, rng), start=T0, span=pd.Timedelta("2D"), bin="1h")
    truth = shape[:24] / shape[:24].mean()
    # each hour of day holds ~1000 arrivals over the 2 days: relative sd 1 / sqrt(1000 * shape)
    tol = 4 / np.sqrt(1000 * truth)
    assert np.all(np.abs(np.asarray(fit.daily_profile) / truth - 1) < tol)
    # the volume is the daily mean, not the mean of the hours the log happened to see
    assert abs(fit.volume / (500 * 24) - 1) < 4 / math.sqrt(24_000)


def test_empty_bins_give_on_off():
    rng = np.random.default_rng(3)
    on = np.repeat(rng.random(60) < 0.6, 5)  # 5-minute on/off blocks
    counts = rng.poisson(np.where(on, 200, 0))
    fit = fit_arrivals(_from_counts(counts, 60, rng), start=T0, span=pd.Timedelta(minutes=300))
    assert isinstance(fit.modulation[0], cs.OnOff)
    assert fit.empty_fraction == np.mean(counts == 0)


def test_modulation_rescaled_to_longer_bins():
    fit = fit_arrivals(_times(np.linspace(0, 3599, 7200) + np.repeat([0, 0.5], 3600)), start=T0,
                       span=pd.Timedelta("1h"))
    fake = cs.Overdispersion(0.4)
    rescaled = type(fit)(**{**fit.__dict__, "modulation": (fake,)}).modulation_for(pd.Timedelta("4min"))
    assert rescaled[0].cv == 0.2  # four independent 1-minute factors averaged: cv / sqrt(4)


def test_block_bootstrap_small_sample_factor():
    # two blocks that differ: the t-factor with 1 degree of freedom makes the band very wide
    wide = log_ratio_variance(np.array([100.0, 50.0]), np.ones(2))
    many = log_ratio_variance(np.tile([100.0, 50.0], 50), np.ones(100))
    assert wide > 50 * many


def _poisson_with_daily_profile(seed, days=3, per_minute=2.5, amplitude=0.8):
    """Arrival seconds of a Poisson process whose rate follows a smooth daily profile
    (``per_minute * (1 + amplitude * sin)``), by thinning."""
    rng = np.random.default_rng(seed)
    horizon = days * 86_400.0
    top = per_minute / 60 * (1 + amplitude)
    t = np.sort(rng.uniform(0, horizon, rng.poisson(top * horizon)))
    rate = per_minute / 60 * (1 + amplitude * np.sin(2 * np.pi * (t / 86_400 - 0.25)))
    return t[rng.random(t.size) < rate / top]


def _fit_profiled(seed):
    t0 = pd.Timestamp("2026-01-05")
    ts = (t0 + pd.to_timedelta(_poisson_with_daily_profile(seed), unit="s")).to_numpy()
    return fit_arrivals(ts, start=t0, span=pd.Timedelta(days=3))


def _bursty_fits(seeds):
    return sum(bool(_fit_profiled(seed).modulation) for seed in seeds)


def test_a_daily_profile_is_not_read_as_bursts():
    # issue 13, acceptance 4: a Poisson log with a daily profile is fitted without burstiness in >= 95 % of
    # 40 seeds.  The quiet night leaves the empty minutes Poisson predicts; the tests compare the counts with
    # the volume and profile at a 5 % false-alarm rate together (3 or more alarms of 40: 32 % at exactly 5 %;
    # 0 were seen)
    assert _bursty_fits(range(40)) <= 2


def test_a_profiled_poisson_log_simulates_its_empty_minutes():
    t0 = pd.Timestamp("2026-01-05")
    seconds = _poisson_with_daily_profile(7)
    log = {"timestamp": t0 + pd.to_timedelta(seconds, unit="s"), "input_tokens": np.full(seconds.size, 100),
           "output_tokens": np.full(seconds.size, 10)}
    fit = cs.fit_traffic(log, families=["LogNormal"], segments=1, span=(t0, t0 + pd.Timedelta(days=3)))
    assert fit.arrivals.modulation == ()
    observed = fit.arrivals.empty_fraction
    assert 0.1 < observed < 0.3  # the night makes many empty minutes
    ds = cs.simulate(cs.project(fit, horizon="3D", bin="1min", start=t0), {"api": cs.TokenPricing(1.0, 1.0)},
                     trials=4, seed=1)
    simulated = float((ds["requests"].sum("qclass") == 0).mean())
    assert 1 / 1.2 < simulated / observed < 1.2
