"""Regression tests for what the fuzz suite (tests/fuzz) found in the traffic models:
each input is refused naming its argument, or gives the right number."""

import math

import numpy as np
import pytest

import costsim as cs

API = {"api": cs.TokenPricing(3.0, 15.0)}


def _refused(build, words):
    with pytest.raises((ValueError, TypeError), match=words):
        build()


def test_mixture_quantiles_are_exact_and_monotone_across_huge_magnitudes():
    m = cs.Mixture([cs.LogNormal(700.0, 1.0), cs.Constant(1), cs.LogNormal(0.0, 1.0)], [1.0, 1.0, 1.0])
    q = np.array([0.01, 0.3, 0.5, 0.7, 0.99])
    x = m.ppf(q)
    assert np.all(np.diff(x) >= 0)
    # the smallest x with cdf(x) >= q: at x, not one float below
    assert np.all(m.cdf(x) >= q) and np.all(m.cdf(np.nextafter(x, -np.inf)) < q)


def test_mixture_quantiles_of_negative_values_are_exact():
    m = cs.Mixture((cs.Normal(-5.0, 1.0), cs.Normal(3.0, 2.0)), (0.3, 0.7))
    q = np.array([0.001, 0.2, 0.31, 0.9])
    x = m.ppf(q)
    assert np.all(m.cdf(x) >= q) and np.all(m.cdf(np.nextafter(x, -np.inf)) < q)


def test_mixture_weights_round_trip_bit_for_bit():
    m = cs.Mixture([cs.Constant(0)] * 3, [1.09375, 0.5, 0.01])
    assert cs.from_dict(cs.to_dict(m)) == m
    assert math.fsum(m.weights) == pytest.approx(1.0, abs=1e-15)


@pytest.mark.parametrize("build, words", [
    (lambda: cs.LogNormal(mu=1e300, sigma=1.0), r"LogNormal: mu must be in \[-700, 700\]; got 1e\+300"),
    (lambda: cs.QueryClass("c", 1.0, cs.Constant(0), cs.LogNormal(2147483648, 1.0)), r"LogNormal: mu must be in"),
    (lambda: cs.Uniform(-1e308, 1e308), r"Uniform: high must be within the float range of low"),
    (lambda: cs.Empirical([1.0, 10**400]), r"Empirical: values\[1\] must be a finite number"),
    (lambda: cs.LogNormal.from_median_p90(1.0, float("inf")), r"LogNormal: p90 must be finite"),
    (lambda: cs.LogNormal.from_interval(1.0, 2.0, coverage=0.0), r"LogNormal: coverage must be in \(0, 1\)"),
    (lambda: cs.LogNormal.from_interval(1.0, 2.0, coverage=None), r"LogNormal: coverage must be a real number"),
    (lambda: cs.LogNormal.from_interval(1.0, cs.Pareto(1.0, 0.01)), r"LogNormal: high must be a real number"),
    (lambda: cs.LogNormal.from_quantiles((0.25, 1.0), None), r"LogNormal: b must be a \(probability, value\) pair"),
    (lambda: cs.LogNormal.from_quantiles((0.25, 1.0), ""), r"LogNormal: b must be a \(probability, value\) pair"),
    (lambda: cs.LogNormal(0.0, 1.0).sample(-1), r"shape must be an int >= 0"),
    (lambda: cs.LogNormal(0.0, 1.0).sample("a"), r"shape must be an int >= 0"),
    (lambda: cs.Geometric(1.0).sample((), rng="x"), r"rng must be a numpy Generator"),
    (lambda: cs.Geometric(1.0).sample((), rng=-1), r"rng must be a numpy Generator"),
    (lambda: cs.Arrivals(volume=1.0, horizon="12h", bin="1h", weekly_profile=True),
     r"Arrivals: weekly_profile must be a sequence of 7 numbers"),
    (lambda: cs.QueryClass.session("chat", 1.0, first_prompt=cs.Constant(0), user_tokens=cs.Constant(0),
                                   output_tokens=cs.Constant(0), turns=0), r"QueryClass 'chat': turns must be in"),
    (lambda: cs.QueryClass.session("chat", 1.0, first_prompt=None, user_tokens=cs.Constant(0),
                                   output_tokens=cs.Constant(0), turns=2), r"first_prompt must be a costsim Distribution"),
    (lambda: cs.Gamma.from_mean_cv(1.0, 1e308), r"Gamma: cv must be <= 1e\+100"),
    (lambda: cs.Capped(cs.Gamma(0.5, 1.0), 5e-324), r"Capped: upper must be 0 or at least 2.22507e-308 in size"),
    (lambda: cs.LongContextTier(threshold=10**400, input=1.0, output=1.0),
     r"LongContextTier: threshold must be <= 1,073,741,824 \(MAX_TOKENS_PER_CALL\); got '<int of ~401 digits>'"),
    (lambda: cs.Gamma.from_mean_cv(1e308, 2.0), r"Gamma: mean must keep the scale mean \* cv\*\*2 finite"),
    (lambda: cs.LogNormal.from_interval(1.0, 2.0, coverage=5e-324), r"LogNormal: coverage must be large enough"),
    (lambda: cs.estimate_on_off([0, 1, 0, 0], sigma=None), r"sigma must be a real number"),
    (lambda: cs.estimate_on_off([0, 1, 0, 0], sigma=1e300), r"sigma must be in \(0, 10\]"),
    (lambda: cs.estimate_on_off([0, 1, 0, 0], unit="x"), r"unit must be a positive duration"),
    (lambda: cs.estimate_on_off(1 + 2j), r"counts must be a 1-D sequence of finite numbers >= 0"),
    (lambda: cs.calibrate.read_log({"timestamp": [0.0, 1.0, 2.0], "input_tokens": [1, 2, 3],
                                    "output_tokens": [1, 2, 3], "cached_tokens": [0, 0, 10**400]}),
     r"log column 'cached_tokens': token counts must be <= 1,073,741,824 .*first at row 2: '<int of ~401 digits>'"),
    (lambda: cs.TokenPricing.from_litellm("gpt-4o", price_map="/nonexistent/prices.json"),
     r"price_map '/nonexistent/prices.json' cannot be read"),
])
def test_hostile_inputs_are_refused_naming_the_argument(build, words):
    _refused(build, words)


def test_on_off_periods_too_short_for_the_horizon_are_refused_not_a_hang():
    traffic = cs.Traffic([cs.QueryClass("chat", 1.0, cs.Constant(10), cs.Constant(10))],
                         cs.Arrivals(100.0, horizon="1h", bin="1h"),
                         modulation=[cs.OnOff(on=cs.Constant(1e-300), off=cs.Constant(1e-300))])
    _refused(lambda: cs.simulate(traffic, API, trials=1, seed=0), r"OnOff: on and off must last longer")


def test_a_tiny_overdispersion_is_poisson():
    """cv**2 underflows to 0: the burst multiplier is 1 (was a ZeroDivisionError)."""
    def requests(cv):
        traffic = cs.Traffic([cs.QueryClass("chat", 1.0, cs.Constant(5), cs.Constant(5))],
                             cs.Arrivals(500.0, horizon="12h", bin="1h", overdispersion=cv))
        return cs.simulate(traffic, API, trials=2, seed=4)["requests"].values

    np.testing.assert_array_equal(requests(1e-208), requests(0.0))


def test_an_overdispersion_modulation_whose_square_underflows_is_no_noise():
    arrivals = cs.Arrivals(500.0, horizon="12h", bin="1h")
    factors = cs.Overdispersion(cv=2.2250738585072014e-308).factors(arrivals, np.random.default_rng(1))
    np.testing.assert_array_equal(factors, np.ones(arrivals.n_bins))


def test_a_growth_that_underflows_is_no_growth():
    grown = cs.Arrivals(volume=1000.0, horizon="12h", bin="1h", growth=5e-324).expected_requests()
    np.testing.assert_allclose(grown, cs.Arrivals(volume=1000.0, horizon="12h", bin="1h").expected_requests(),
                               rtol=1e-15)


def test_a_start_near_the_lower_datetime_limit_works():
    a = cs.Arrivals(volume=24.0, horizon="12h", bin="1h", start="1677-09-22")
    assert str(a.bin_starts()[0]).startswith("1677-09-22") and float(a.expected_requests().sum()) == 12.0
