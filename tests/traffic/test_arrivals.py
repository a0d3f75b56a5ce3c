"""Arrivals: expected requests per bin (profiles, exact compound growth), counts, validation."""

import math

import numpy as np
import pandas as pd
import pytest

import costsim as cs

MONTH_DAYS = 365.25 / 12.0
DAILY = tuple(0.5 + math.sin(math.pi * h / 24) ** 2 for h in range(24))
WEEKLY = (1.2, 1.1, 1.0, 1.0, 0.9, 0.5, 0.4)


def _growth_integral(volume, growth, t0_days, t1_days):
    """volume * integral from t0 to t1 of (1 + growth) ** (t / month) dt (t in days)."""
    if growth == 0:
        return volume * (t1_days - t0_days)
    r = math.log1p(growth) / MONTH_DAYS
    return volume * math.exp(r * t0_days) * math.expm1(r * (t1_days - t0_days)) / r


def _hourly_reference(volume, growth, start, hours, daily=None, weekly=None):
    """Expected requests of each UTC hour [start + h, start + h + 1), by hand."""
    d = np.ones(24) if daily is None else np.asarray(daily) / np.mean(daily)
    w = np.ones(7) if weekly is None else np.asarray(weekly) / np.mean(weekly)
    t0 = pd.Timestamp(start)
    out = []
    for h in range(hours):
        when = t0 + pd.Timedelta(hours=h)
        profile = d[when.hour] * w[when.day_of_week]
        out.append(profile * _growth_integral(volume, growth, h / 24, (h + 1) / 24))
    return np.array(out)


@pytest.mark.parametrize("bin_", ["15min", "1h", "6h", "1D"])
@pytest.mark.parametrize("growth", [0.0, 0.25, -0.3])
def test_growth_is_integrated_exactly(bin_, growth):
    volume, days = 1_000.0, 14
    a = cs.Arrivals(volume=volume, horizon=f"{days}D", bin=bin_, growth=growth)
    expected = a.expected_requests()
    width_days = pd.Timedelta(bin_) / pd.Timedelta(days=1)
    assert expected.shape == (a.n_bins,) == (round(days / width_days),)
    # total over the horizon: volume * integral of (1+g)^(t/month) over [0, horizon]
    assert math.isclose(expected.sum(), _growth_integral(volume, growth, 0.0, days), rel_tol=1e-12)
    # and every bin on its own
    edges = np.arange(a.n_bins + 1) * width_days
    per_bin = [_growth_integral(volume, growth, lo, hi) for lo, hi in zip(edges[:-1], edges[1:])]
    np.testing.assert_allclose(expected, per_bin, rtol=1e-12)


def test_a_month_of_growth_multiplies_the_rate_by_one_plus_growth():
    # a month is 365.25 / 12 days = 2922 quarter-hours exactly
    a = cs.Arrivals(volume=100.0, horizon="31D", bin="15min", growth=0.5)
    rate = a.expected_requests()
    np.testing.assert_allclose(rate[2922:] / rate[: rate.size - 2922], 1.5, rtol=1e-12)
    assert np.all(np.diff(rate) > 0)
    assert math.isclose(rate[0], 100.0 / 96 * (1.5 ** (1 / 2922) - 1) / math.log(1.5 ** (1 / 2922)), rel_tol=1e-12)


@pytest.mark.parametrize("bin_", ["15min", "1h", "1D"])
@pytest.mark.parametrize("start", ["2026-01-05T00:00", "2026-03-11T07:00"])
def test_profiles_and_growth_per_bin(bin_, start):
    volume, growth, days = 5_000.0, 0.2, 7
    a = cs.Arrivals(volume=volume, horizon=f"{days}D", bin=bin_, start=start, growth=growth,
                    daily_profile=DAILY, weekly_profile=WEEKLY)
    hourly = _hourly_reference(volume, growth, start, 24 * days, DAILY, WEEKLY)
    expected = a.expected_requests()
    if bin_ == "1D":
        np.testing.assert_allclose(expected, hourly.reshape(days, 24).sum(axis=1), rtol=1e-12)
    elif bin_ == "1h":
        np.testing.assert_allclose(expected, hourly, rtol=1e-12)
    else:  # four quarter-hours share their hour's profile, each with its own growth integral
        quarters = expected.reshape(-1, 4)
        np.testing.assert_allclose(quarters.sum(axis=1), hourly, rtol=1e-12)
        np.testing.assert_array_less(quarters[:, :-1], quarters[:, 1:])  # growth within the hour
        np.testing.assert_allclose(quarters / quarters[:, :1], np.broadcast_to(quarters[0] / quarters[0, 0],
                                                                                quarters.shape), rtol=1e-9)


def test_profiles_are_normalised_to_mean_one():
    # a whole week without growth: the profiles only move traffic around, volume per day stays
    plain = cs.Arrivals(volume=1_000.0, horizon="7D", bin="1h")
    shaped = cs.Arrivals(volume=1_000.0, horizon="7D", bin="1h", daily_profile=DAILY, weekly_profile=WEEKLY)
    scaled = cs.Arrivals(volume=1_000.0, horizon="7D", bin="1h", daily_profile=tuple(10 * x for x in DAILY),
                         weekly_profile=tuple(3 * x for x in WEEKLY))
    assert math.isclose(plain.expected_requests().sum(), 7_000.0, rel_tol=1e-12)
    assert math.isclose(shaped.expected_requests().sum(), 7_000.0, rel_tol=1e-12)
    np.testing.assert_allclose(scaled.expected_requests(), shaped.expected_requests(), rtol=1e-12)
    # Monday (weekly 1.2 of mean 6.1/7) 03:00 UTC vs Sunday (0.4) 03:00 UTC
    rate = shaped.expected_requests()
    assert math.isclose(rate[3] / rate[6 * 24 + 3], 1.2 / 0.4, rel_tol=1e-12)
    assert math.isclose(rate[12] / rate[0], DAILY[12] / DAILY[0], rel_tol=1e-12)


def test_bins_that_straddle_hours_average_the_profile():
    # a start on the half hour (here from a +05:30 offset): each hourly bin covers two profile hours
    daily = tuple(float(h + 1) for h in range(24))
    a = cs.Arrivals(volume=2_400.0, horizon="1D", bin="1h", start="2026-01-05T00:00+05:30", daily_profile=daily)
    assert a.bin_starts()[0] == np.datetime64("2026-01-04T18:30")
    mean = np.mean(daily)
    expected = [100.0 * (daily[(18 + i) % 24] + daily[(19 + i) % 24]) / 2 / mean for i in range(24)]
    np.testing.assert_allclose(a.expected_requests(), expected, rtol=1e-12)


def test_bin_starts_are_utc():
    a = cs.Arrivals(volume=1.0, horizon="3h", bin="1h", start="2026-06-01T02:00+02:00")
    np.testing.assert_array_equal(
        a.bin_starts(), np.array(["2026-06-01T00:00", "2026-06-01T01:00", "2026-06-01T02:00"], dtype="datetime64[ns]"))
    assert a.bin_width == pd.Timedelta("1h") and a.n_bins == 3


def test_numpy_profiles_are_accepted_and_stored_as_floats():
    a = cs.Arrivals(volume=np.int64(100), horizon="1D", bin="1h", daily_profile=np.arange(1, 25),
                    weekly_profile=np.ones(7, dtype=np.float32))
    assert a.daily_profile == tuple(float(x) for x in range(1, 25))
    assert all(type(x) is float for x in a.daily_profile + a.weekly_profile)
    assert type(a.volume) is float
    cs.to_dict(a)  # JSON-ready
    import json

    json.dumps(cs.to_dict(a))


def _single_class(arrivals):
    return cs.Traffic(cs.QueryClass("q", 1.0, cs.Constant(100.0), cs.Constant(10.0)), arrivals)


def test_counts_are_poisson_around_the_expected_rate():
    trials, bins, mu = 40, 24, 200.0
    arrivals = cs.Arrivals(volume=mu * 24, horizon=f"{bins}h", bin="1h")
    ds = cs.simulate(_single_class(arrivals), {"api": cs.TokenPricing(1.0, 1.0)}, trials=trials, seed=7)
    counts = ds["requests"].values[..., 0].ravel().astype(float)
    n = counts.size
    # mean: Poisson variance mu per cell; 5 standard errors
    assert abs(counts.mean() - mu) < 5 * math.sqrt(mu / n)
    # dispersion index var/mean = 1 for Poisson; its standard error is about sqrt(2 / n)
    assert abs(counts.var(ddof=1) / counts.mean() - 1.0) < 5 * math.sqrt(2.0 / n)


def test_overdispersion_is_the_cv_of_a_per_bin_multiplier():
    trials, bins, mu, cv = 40, 24, 200.0, 0.3
    arrivals = cs.Arrivals(volume=mu * 24, horizon=f"{bins}h", bin="1h", overdispersion=cv)
    ds = cs.simulate(_single_class(arrivals), {"api": cs.TokenPricing(1.0, 1.0)}, trials=trials, seed=7)
    counts = ds["requests"].values[..., 0].ravel().astype(float)
    n = counts.size
    var = mu + (cv * mu) ** 2  # negative binomial: Poisson noise plus the gamma multiplier's
    assert abs(counts.mean() - mu) < 5 * math.sqrt(var / n)
    # relative standard error of a sample variance ~ sqrt((2 + excess kurtosis) / n); the
    # gamma(1/cv^2) multiplier has excess kurtosis 6 cv^2
    rel_se = math.sqrt((2 + 6 * cv**2) / n)
    assert abs(counts.var(ddof=1) / var - 1.0) < 5 * rel_se


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(bin="1D", horizon="1h"), "Arrivals: bin must be <= horizon (0 days 01:00:00); got '1D'"),
        (dict(bin="2h", horizon="25h"), "Arrivals: horizon must be a whole number of bins of 0 days 02:00:00; got '25h'"),
        (dict(bin="0h"), "Arrivals: bin must be a positive duration such as '30D' or '1h'; got '0h'"),
        (dict(horizon="soon"), "Arrivals: horizon must be a positive duration such as '30D' or '1h'; got 'soon'"),
        (dict(volume=float("nan")), "Arrivals: volume must not be NaN; got nan"),
        (dict(volume=-5.0), "Arrivals: volume must be in [0, 1e+15]; got -5.0"),
        (dict(volume=float("inf")), "Arrivals: volume must be finite; got inf"),
        (dict(volume="lots"), "Arrivals: volume must be a real number; got 'lots'"),
        (dict(growth=-1.0), "Arrivals: growth must be > -1; got -1.0"),
        (dict(overdispersion=-0.1), "Arrivals: overdispersion must be >= 0; got -0.1"),
        (dict(daily_profile=(1.0,) * 23), "Arrivals: daily_profile must have 24 values; got (1.0,"),
        (dict(weekly_profile=(1.0,) * 8), "Arrivals: weekly_profile must have 7 values; got (1.0,"),
        (dict(daily_profile=(1.0,) * 5 + (-1.0,) + (1.0,) * 18),
         "Arrivals: daily_profile[5] must be a finite number >= 0; got -1.0"),
        (dict(weekly_profile=(1.0, float("nan"), 1.0, 1.0, 1.0, 1.0, 1.0)),
         "Arrivals: weekly_profile[1] must be a finite number >= 0; got nan"),
        (dict(weekly_profile=(0.0,) * 7), "Arrivals: weekly_profile must have a positive sum; got (0.0,"),
        (dict(start="someday"), "Arrivals: start must be a date-time such as '2026-01-05T00:00'; got 'someday'"),
    ],
)
def test_validation_names_argument_rule_and_value(kwargs, message):
    args = dict(volume=1_000.0, horizon="2D", bin="1h") | kwargs
    with pytest.raises(cs.ParameterError) as info:
        cs.Arrivals(**args)
    assert str(info.value).startswith(message)


def test_uncertain_parameters_skip_validation_until_drawn():
    a = cs.Arrivals(volume=cs.Uniform(100.0, 200.0), horizon="1D", growth=cs.Normal(0.1, 0.05))
    assert set(cs._model.uncertain_parameters(a)) == {"volume", "growth"}


@pytest.mark.parametrize("kwargs, message", [
    (dict(start="2026-01-05T00:00:00.5"), "Arrivals: start must be a whole second"),
    (dict(bin="1500ms", horizon="3s"), "Arrivals: bin must be a whole number of seconds"),
])
def test_sub_second_times_are_refused(kwargs, message):
    """Sub-second precision would tile the bins into sub-second steps (gigabytes)."""
    with pytest.raises(ValueError, match=message):
        cs.Arrivals(volume=1.0, **kwargs)
