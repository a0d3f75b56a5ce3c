"""Token fits against their definitions: parameter recovery, AIC choice, caps, KS, errors.

Tolerances: a maximum-likelihood estimate on n rows has standard error about
sigma / sqrt(n) for a lognormal's mu and sigma / sqrt(2 n) for its sigma; a
proportion p has sqrt(p (1 - p) / n).  Each test allows 4 standard errors
(two-sided false-alarm rate ~6e-5 at a fixed seed, so a failure means a bug).
"""

import math
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import optimize

import costsim as cs
from costsim.calibrate import find_pile, fit_tokens, ks_distance, read_log
from costsim.calibrate.tokens import FAMILIES, _Cells, _fit_family
from costsim.datasets import load_azure_trace


def _rounded_lognormal(mu, sigma, n, seed):
    return np.round(np.random.default_rng(seed).lognormal(mu, sigma, n))


def test_lognormal_parameters_recovered():
    n, mu, sigma = 4000, 5.0, 0.8
    fit = fit_tokens(_rounded_lognormal(mu, sigma, n, 0), families=["LogNormal"])
    d = fit.body  # the family, fitted with the rows of the tail censored
    assert abs(d.mu - mu) < 4 * sigma / math.sqrt(n)
    assert abs(d.sigma - sigma) < 4 * sigma / math.sqrt(2 * n)
    assert fit.pile is None


def test_short_counts_fitted_as_rounded_draws():
    # outputs of ~7 tokens: the likelihood is P(round(X) = k), so the lognormal is recovered
    n, mu, sigma = 3000, 2.0, 0.3
    d = fit_tokens(_rounded_lognormal(mu, sigma, n, 1), families=["LogNormal"]).body
    assert abs(d.mu - mu) < 4 * sigma / math.sqrt(n)
    assert abs(d.sigma - sigma) < 4 * sigma / math.sqrt(2 * n)


@pytest.mark.parametrize("truth", ["Gamma", "LogNormal", "Weibull"])
def test_aic_picks_the_generating_family(truth):
    rng = np.random.default_rng(2)
    n = 3000
    x = {"Gamma": rng.gamma(2.0, 100.0, n), "LogNormal": rng.lognormal(5.0, 0.7, n),
         "Weibull": 150.0 * rng.weibull(1.5, n)}[truth]
    fit = fit_tokens(np.round(x), families=["LogNormal", "Gamma", "Weibull"])
    assert fit.family == truth
    assert fit.aic[truth] == min(fit.aic.values())


def test_mixture_weights_and_ks():
    n = 4000
    rng = np.random.default_rng(3)
    low = rng.random(n) < 0.75
    x = np.round(np.where(low, rng.lognormal(4.0, 0.4, n), rng.lognormal(6.5, 0.6, n)))
    fit = fit_tokens(x, families=["LogNormal", "Mixture2"])
    assert fit.family == "Mixture2"
    w = sorted(fit.body.weights)
    # components 6 sd apart: the weight's error is about that of a proportion
    assert abs(w[1] - 0.75) < 4 * math.sqrt(0.75 * 0.25 / n)
    # DKW: P(sup |F_n - F| > sqrt(log(2 / 0.01) / (2 n))) <= 0.01 for the true F; a fit is closer
    assert fit.ks < math.sqrt(math.log(2 / 0.01) / (2 * n))


def test_cap_becomes_point_mass_of_the_right_size():
    n, cap = 20_000, 4096
    x = np.minimum(_rounded_lognormal(6.0, 1.5, n, 4), cap)
    fit = fit_tokens(x, families=["LogNormal"])
    assert fit.pile is not None and fit.pile.cap == cap
    d = fit.distribution
    assert isinstance(d, cs.Capped) and d.upper == cap
    true_mass = 1.0 - float(cs.LogNormal(6.0, 1.5).cdf(cap - 0.5))  # draws that round to >= cap
    fitted_mass = 1.0 - float(d.dist.cdf(cap - 0.5))
    assert abs(fitted_mass - true_mass) < 4 * math.sqrt(true_mass * (1 - true_mass) / n)
    # the censored fit recovers the uncapped parameters
    assert abs(d.dist.mu - 6.0) < 4 * 1.5 / math.sqrt(n)


def test_explicit_cap_and_no_cap():
    x = np.minimum(_rounded_lognormal(6.0, 1.5, 3000, 5), 4096)
    assert fit_tokens(x, families=["LogNormal"], cap=None).pile is None
    assert fit_tokens(x, families=["LogNormal"], cap=4000).pile.lo == 4000


def test_find_pile_ignores_smooth_tails_and_body_spikes():
    rng = np.random.default_rng(6)
    assert find_pile(np.round(rng.lognormal(6.0, 1.0, 20_000))) is None
    # a spike at the 80th percentile with a fat tail above it is a template, not a cap
    body = np.round(rng.lognormal(5.0, 1.0, 20_000))
    spike = np.full(2_000, np.quantile(body, 0.8))
    assert find_pile(np.r_[body, spike]) is None


def test_ks_distance_matches_brute_force():
    x = _rounded_lognormal(3.0, 0.6, 2000, 7)
    d = cs.LogNormal(3.05, 0.55)
    k = np.arange(-1, x.max() + 2)
    ecdf = np.searchsorted(np.sort(x), k, side="right") / x.size
    brute = np.max(np.abs(d.cdf(k + 0.5) - ecdf))  # rounded draws: P(round(X) <= k) = F(k + 0.5)
    assert ks_distance(d, x) == pytest.approx(brute, abs=1e-12)


def test_location_gradient_and_uncertain_locations():
    x = np.round(np.r_[_rounded_lognormal(4.0, 0.4, 1500, 8), _rounded_lognormal(6.5, 0.6, 500, 9)])
    fit = fit_tokens(x, families=["Mixture2"], cap=None, tail=False)  # the family alone
    # scaling every component by e^d scales the mean by e^d: the gradient sums to 1
    assert fit.log_mean_gradient().sum() == pytest.approx(1.0, abs=1e-3)
    uncertain = cs._model.uncertain_parameters(fit.with_location_sd(0.1))
    assert sorted(uncertain) == ["components[0].mu", "components[1].mu"]
    assert all(isinstance(v, cs.Normal) and v.sigma == 0.1 for v in uncertain.values())


@pytest.mark.parametrize("x, kwargs, message", [
    ([3, 4, 5], {"families": ["LogNormal"]}, "too few rows to fit LogNormal"),
    (np.arange(100), {"families": ["Lognormal"]},
     r"families must be a non-empty list of names among .* got \[.Lognormal.\]"),
    ([1.5, 2.0] * 50, {}, "whole numbers >= 0"),
    ([-1, 2] * 50, {}, "whole numbers >= 0"),
])
def test_errors(x, kwargs, message):
    with pytest.raises(ValueError, match=message):
        fit_tokens(x, **kwargs)


def test_too_few_rows_for_a_mixture_leaves_it_out():
    fit = fit_tokens(_rounded_lognormal(5.0, 1.0, 30, 10), families=["LogNormal", "Mixture2"])
    assert list(fit.aic) == ["LogNormal"]  # Mixture2 needs 50 rows (10 per parameter)


@pytest.mark.parametrize(("family", "theta"), [
    ("LogNormal", [6.0, math.log(0.8)]),
    ("Gamma", [math.log(2.0), math.log(300.0)]),
    ("Weibull", [math.log(1.3), math.log(500.0)]),
    ("GeneralizedPareto", [math.log(200.0), 0.3]),
    ("GeneralizedPareto", [math.log(200.0), -0.2]),
    ("GeneralizedPareto", [math.log(200.0), 0.0]),
    ("Mixture2", [5.0, math.log(0.5), 7.0, math.log(0.7), 0.3]),
])
def test_closed_form_partial_means_equal_quadrature(family, theta):
    fam = FAMILIES[family]
    theta = np.array(theta)
    dist = fam.build(theta, [None] * len(fam.log_loc))
    for c in (300.0, 2000.0, math.inf):
        below, p = fam.partial(theta, c)
        assert below == pytest.approx(dist._partial(lambda v: v, c), rel=1e-9)
        assert p == pytest.approx(float(dist.cdf(c)) if math.isfinite(c) else 1.0, rel=1e-12)


def _body_mean(fit, x):
    """The fitted body's mean against the rows' (below the tail's threshold where there is one)."""
    if fit.tail is None:
        return fit.distribution.mean(), x.mean()
    below, p = FAMILIES[fit.family].partial(fit.theta, fit.tail.threshold - 0.5)
    return below / p, x[x < fit.tail.threshold].mean()


@pytest.mark.parametrize("tail", [True, False])
def test_the_fitted_body_has_the_rows_mean(tail):
    """A lognormal fitted to Weibull counts (the wrong family): maximum likelihood puts the mean
    more than 3 % off; the fit keeps the rows' mean, below the tail's threshold or overall."""
    x = np.round(np.random.default_rng(3).weibull(0.8, 5000) * 300.0)
    fit = fit_tokens(x, families=["LogNormal"], tail=tail)
    assert (fit.tail is not None) == tail
    fitted, rows = _body_mean(fit, x)
    assert fitted == pytest.approx(rows, rel=1e-6)
    free = FAMILIES["LogNormal"].partial(_mle_theta(fit, x), fit.tail.threshold - 0.5 if tail else math.inf)
    free_mean = free[0] / free[1] if tail else free[0]
    assert abs(free_mean / rows - 1) > 0.03  # without the constraint the mean is off


def _mle_theta(fit, x):
    """The unconstrained maximum-likelihood parameters of the fit's family on the same rows."""
    lo = float(fit.pile.lo) if fit.pile else float(fit.tail.threshold) if fit.tail else math.inf
    theta, _ = _fit_family(FAMILIES[fit.family], _Cells.of(x, lo), np.log(x + 0.5))
    return theta


def test_the_mean_is_kept_without_spoiling_the_fit_of_a_real_trace():
    """Pilot windows of the Azure code trace's outputs, where maximum likelihood puts the body's
    mean 3-4 % off its rows': the fit has the rows' mean, and a KS distance below the 5 % critical
    value of a KS test on that many rows (1.36 / sqrt(n))."""
    log = read_log(load_azure_trace("code"))
    t = (log.timestamp - log.timestamp[0]) / np.timedelta64(1, "s")
    for k in (0, 3):
        x = log.output_tokens[(t >= k * t[-1] / 10) & (t < (k + 1) * t[-1] / 10)]
        fit = fit_tokens(x)
        fitted, rows = _body_mean(fit, x)
        assert fitted == pytest.approx(rows, rel=1e-6)
        below, p = FAMILIES[fit.family].partial(_mle_theta(fit, x), fit.tail.threshold - 0.5)
        assert abs(below / p / rows - 1) > 0.02
        assert fit.ks < 1.36 / math.sqrt(x.size)


def test_a_wide_component_does_not_overflow_the_partial_mean():
    """exp(mu + sigma**2 / 2) overflows at sigma ~ 38; the mean below a bound is finite (a step of the
    constrained fit far out once raised OverflowError from a backtest)."""
    below, p = FAMILIES["Mixture2"].partial(np.array([5.0, math.log(60.0), 7.0, math.log(0.7), 0.0]), 2000.0)
    assert math.isfinite(below) and 0.0 < p < 1.0
    assert FAMILIES["LogNormal"].partial(np.array([5.0, math.log(60.0)]), math.inf)[0] == math.inf


def test_the_fit_keeps_the_unconstrained_parameters_when_the_constrained_fit_fails(monkeypatch):
    """The constrained refit raising (an overflow far out) leaves the maximum-likelihood fit."""
    x = np.round(np.random.default_rng(3).weibull(0.8, 2000) * 300.0)
    calls = []

    def fail_constrained(*args, **kwargs):
        if kwargs.get("method") == "SLSQP":
            calls.append(1)
            raise OverflowError("math range error")
        return optimize.minimize(*args, **kwargs)

    monkeypatch.setattr("costsim.calibrate.tokens.optimize", SimpleNamespace(minimize=fail_constrained))
    fit = fit_tokens(x, families=["LogNormal"], tail=False)
    assert calls and np.allclose(fit.theta, _mle_theta(fit, x))
