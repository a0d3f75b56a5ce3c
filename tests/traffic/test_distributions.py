"""Distributions: the compiled sampler and the NumPy path against each object's own cdf,
the objects against scipy.stats and closed forms, lowering layouts and validation."""

import math
import re

import numpy as np
import pytest
from scipy import stats

from _kernels import fill_samples
from costsim import kernels as K
from costsim._model import resolve, uncertain_parameters
from costsim._validation import ParameterError
from costsim.traffic.distributions import (
    Beta,
    Capped,
    Constant,
    DistTable,
    Empirical,
    Gamma,
    GeneralizedPareto,
    Geometric,
    LogNormal,
    Mixture,
    Normal,
    Pareto,
    Uniform,
    Weibull,
)

N = 20_000
SEED = np.uint64(20240611)
ALPHA = 1e-3  # KS p-value floor; the seeds are fixed, so a pass is reproducible


def kernel_draws(dist, n=N, stream=1):
    """``n`` draws of ``dist`` from the compiled sampler."""
    table = DistTable()
    row = dist._lower(table)
    kind, off, par, data = table.arrays()
    out = np.empty(n)
    fill_samples(kind, off, par, data, row, SEED, np.uint64(stream), out)
    return out


def binom_tol(p, n=N):
    """Five binomial standard errors (plus one count of slack) around probability ``p``."""
    return 5.0 * math.sqrt(p * (1.0 - p) / n) + 1.0 / n


def assert_ecdf(x, dist, points):
    """The empirical cdf of ``x`` matches ``dist.cdf`` at every point (atoms, cap)."""
    for v in points:
        p = float(dist.cdf(v))
        assert abs(np.mean(x <= v) - p) <= binom_tol(p), (v, np.mean(x <= v), p)


def assert_capped(x, capped):
    """Atom at the cap with mass 1 - F(upper); below it, KS against F(x) / F(upper)."""
    u, f = capped.upper, capped.dist.cdf
    assert x.max() == u
    p_atom = 1.0 - float(f(u))
    assert abs(np.mean(x == u) - p_atom) <= binom_tol(p_atom)
    body = x[x < u]
    assert stats.kstest(body, lambda t: f(t) / f(u)).pvalue > ALPHA


# --------------------------------------------------------------------------------------
# Continuous families: kernel and NumPy draws against the object's own cdf.
# --------------------------------------------------------------------------------------
CONTINUOUS = [
    LogNormal(6.0, 1.2),
    Pareto(100.0, 1.5),
    Pareto(2.0, 0.7),
    GeneralizedPareto(10.0, 50.0, 0.4),
    GeneralizedPareto(0.0, 3.0, 0.0),
    GeneralizedPareto(5.0, 2.0, -0.3),
    Gamma(0.4, 300.0),
    Gamma(3.0, 2.0),
    Weibull(0.6, 400.0),
    Weibull(2.0, 10.0),
    Normal(-1.0, 3.0),
    Uniform(-2.0, 5.0),
    Beta(0.5, 0.8),
    Beta(6.0, 2.0),
    Mixture((LogNormal(5.0, 0.5), LogNormal(8.0, 1.0)), (0.7, 0.3)),
    Mixture((Gamma(2.0, 50.0), Uniform(0.0, 2000.0), Pareto(500.0, 1.2)), (0.5, 0.2, 0.3)),
]


@pytest.mark.parametrize("dist", CONTINUOUS, ids=repr)
def test_kernel_draws_follow_cdf(dist):
    x = kernel_draws(dist)
    lo, hi = dist.support()
    assert np.all((x >= lo) & (x <= hi))
    assert stats.kstest(x, dist.cdf).pvalue > ALPHA


@pytest.mark.parametrize("dist", CONTINUOUS, ids=repr)
def test_numpy_sample_follows_cdf(dist):
    x = dist.sample(N, rng=7)
    assert x.shape == (N,)
    assert stats.kstest(x, dist.cdf).pvalue > ALPHA


def test_kernel_streams_differ_and_repeat():
    d = LogNormal(6.0, 1.2)
    a, b = kernel_draws(d, stream=1), kernel_draws(d, stream=2)
    np.testing.assert_array_equal(a, kernel_draws(d, stream=1))
    assert not np.array_equal(a, b)


# --------------------------------------------------------------------------------------
# The scipy families against scipy.stats (pins the parametrisation) and closed forms.
# --------------------------------------------------------------------------------------
SCIPY = [
    (LogNormal(6.0, 1.2), stats.lognorm(s=1.2, scale=math.exp(6.0)), math.exp(6.0 + 0.72)),
    (Pareto(100.0, 2.5), stats.pareto(b=2.5, scale=100.0), 2.5 * 100.0 / 1.5),
    (GeneralizedPareto(10.0, 50.0, 0.4), stats.genpareto(c=0.4, loc=10.0, scale=50.0), 10.0 + 50.0 / 0.6),
    (GeneralizedPareto(5.0, 2.0, -0.3), stats.genpareto(c=-0.3, loc=5.0, scale=2.0), 5.0 + 2.0 / 1.3),
    (Gamma(3.0, 2.0), stats.gamma(a=3.0, scale=2.0), 6.0),
    (Weibull(0.6, 400.0), stats.weibull_min(c=0.6, scale=400.0), 400.0 * math.gamma(1.0 + 1.0 / 0.6)),
    (Normal(-1.0, 3.0), stats.norm(loc=-1.0, scale=3.0), -1.0),
    (Uniform(-2.0, 5.0), stats.uniform(loc=-2.0, scale=7.0), 1.5),
    (Beta(6.0, 2.0), stats.beta(6.0, 2.0), 0.75),
    (Geometric(0.3), stats.geom(0.3), 1.0 / 0.3),
]


@pytest.mark.parametrize(("dist", "ref", "mean"), SCIPY, ids=lambda v: repr(v) if not isinstance(v, float) else "")
def test_matches_scipy_and_closed_form_mean(dist, ref, mean):
    q = np.array([0.001, 0.1, 0.5, 0.9, 0.999])
    x = ref.ppf(q)
    np.testing.assert_allclose(dist.cdf(x), ref.cdf(x), rtol=1e-12)
    np.testing.assert_allclose(dist.ppf(q), x, rtol=1e-12)
    assert dist.mean() == pytest.approx(mean, rel=1e-12)
    assert dist.var() == pytest.approx(float(ref.var()), rel=1e-12)
    assert dist.support() == tuple(float(v) for v in ref.support())


def test_infinite_moments_are_inf():
    assert Pareto(1.0, 0.8).mean() == math.inf
    assert Pareto(1.0, 1.5).var() == math.inf
    assert GeneralizedPareto(0.0, 1.0, 0.6).var() == math.inf  # scipy says nan
    assert GeneralizedPareto(0.0, 1.0, 1.2).mean() == math.inf


# --------------------------------------------------------------------------------------
# Discrete families: frequencies with binomial tolerances.
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [0.3, 0.02, 1.0])
def test_geometric_kernel_and_numpy(p):
    d = Geometric(p)
    atoms = np.arange(1, int(d.ppf(0.999)) + 1)
    for x in (kernel_draws(d), d.sample(N, rng=3)):
        assert np.all(x == np.round(x)) and x.min() >= 1
        assert_ecdf(x, d, atoms)


def test_empirical_kernel_and_numpy():
    obs = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0, 5.0]
    d = Empirical(obs)
    assert d.mean() == pytest.approx(np.mean(obs))
    assert d.var() == pytest.approx(np.var(obs))
    for x in (kernel_draws(d), d.sample(N, rng=3)):
        assert set(np.unique(x)) == set(obs)
        assert_ecdf(x, d, sorted(set(obs)))


def test_empirical_cdf_ppf_are_ecdf_and_its_inverse():
    d = Empirical([10.0, 20.0, 20.0, 30.0, 40.0])
    np.testing.assert_array_equal(d.cdf([9.9, 10.0, 19.9, 20.0, 40.0]), [0.0, 0.2, 0.2, 0.6, 1.0])
    # smallest x with F(x) >= q, exact at the jumps
    np.testing.assert_array_equal(
        d.ppf([0.0, 0.2, 0.2000001, 0.6, 0.61, 1.0]), [10.0, 10.0, 20.0, 20.0, 30.0, 40.0]
    )
    assert np.isnan(d.ppf(1.5))
    q = np.linspace(0.0, 1.0, 101)
    assert np.all(d.cdf(d.ppf(q)) >= q)
    assert d.support() == (10.0, 40.0)


def test_empirical_is_hashable_and_compares_by_values():
    a, b = Empirical([3, 1, 2]), Empirical(np.array([1.0, 2.0, 3.0]))
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != Empirical([1.0, 2.0, 4.0])
    assert "1000 values from 0 to 999" in repr(Empirical(range(1000)))


def test_constant():
    d = Constant(7.0)
    np.testing.assert_array_equal(kernel_draws(d, n=100), 7.0)
    np.testing.assert_array_equal(d.sample((2, 3)), np.full((2, 3), 7.0))
    np.testing.assert_array_equal(d.cdf([6.9, 7.0, 7.1]), [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(d.ppf([0.0, 0.3, 1.0]), 7.0)
    assert (d.mean(), d.var(), d.support()) == (7.0, 0.0, (7.0, 7.0))


# --------------------------------------------------------------------------------------
# Mixture
# --------------------------------------------------------------------------------------
def test_mixture_weights_are_relative():
    assert Mixture((_LN, Uniform(0.0, 1.0)), (3, 1)).weights == (0.75, 0.25)


def test_mixture_component_pick_matches_weights():
    weights = (0.2, 0.0, 0.5, 0.3)
    d = Mixture((Uniform(0.0, 1.0), Uniform(10.0, 11.0), Constant(20.0), Uniform(30.0, 31.0)), weights)
    for x in (kernel_draws(d), d.sample(N, rng=5)):
        band = np.floor(x / 10.0).astype(int)  # component j lands in [10 j, 10 j + 1]
        freq = np.bincount(band, minlength=4) / N
        for f, w in zip(freq, weights):
            assert abs(f - w) <= binom_tol(w)
        assert np.mean(x == 20.0) == freq[2]


def test_mixture_cdf_ppf_are_inverses():
    d = Mixture((LogNormal(5.0, 0.5), Gamma(2.0, 400.0), Pareto(3000.0, 1.1)), (0.5, 0.3, 0.2))
    q = np.linspace(0.0005, 0.9995, 201)
    np.testing.assert_allclose(d.cdf(d.ppf(q)), q, rtol=1e-12, atol=0)
    x = np.geomspace(20.0, 1e6, 50)
    np.testing.assert_allclose(d.ppf(d.cdf(x)), x, rtol=1e-9)
    assert d.ppf(np.array([[0.1, 0.5], [0.9, 0.99]])).shape == (2, 2)
    assert d.ppf(0.0) == 0.0 and d.ppf(1.0) == math.inf and np.isnan(d.ppf(-0.1))


def test_mixture_ppf_is_exact_at_atoms():
    d = Mixture((Constant(1.0), Geometric(0.5)), (0.4, 0.6))
    assert float(d.cdf(1.0)) == pytest.approx(0.7)
    np.testing.assert_array_equal(d.ppf([0.3, 0.69, 0.71, 0.85, 0.86]), [1.0, 1.0, 2.0, 2.0, 3.0])


def test_mixture_mean_and_var_are_analytic():
    a, b = LogNormal(5.0, 0.5), Gamma(2.0, 400.0)
    d = Mixture((a, b), (0.6, 0.4))
    mean = 0.6 * math.exp(5.125) + 0.4 * 800.0
    second = 0.6 * math.exp(10.0 + 0.5) + 0.4 * (2.0 * 400.0**2 + 800.0**2)
    assert d.mean() == pytest.approx(mean, rel=1e-12)
    assert d.var() == pytest.approx(second - mean**2, rel=1e-12)
    x = kernel_draws(d)
    assert abs(x.mean() - mean) <= 5.0 * math.sqrt(d.var() / N)
    assert d.support() == (0.0, math.inf)


def test_mixture_of_heavy_tail_has_infinite_mean():
    d = Mixture((LogNormal(5.0, 0.5), Pareto(100.0, 0.9)), (0.9, 0.1))
    assert d.mean() == math.inf and d.var() == math.inf
    # a zero weight does not bring its infinite mean in
    assert Mixture((LogNormal(5.0, 0.5), Pareto(100.0, 0.9)), (1.0, 0.0)).mean() == pytest.approx(
        math.exp(5.125)
    )


# --------------------------------------------------------------------------------------
# Capped
# --------------------------------------------------------------------------------------
def _capped_lognormal_moments(mu, s, c):
    phi = stats.norm.cdf
    z = (math.log(c) - mu) / s
    m1 = math.exp(mu + s * s / 2) * phi(z - s) + c * (1.0 - phi(z))
    m2 = math.exp(2 * mu + 2 * s * s) * phi(z - 2 * s) + c * c * (1.0 - phi(z))
    return m1, m2 - m1 * m1


@pytest.mark.parametrize(("mu", "s", "c"), [(6.0, 1.5, 4096.0), (5.0, 2.5, 1e12), (5.0, 0.3, 1e7), (7.0, 1.0, 10.0)])
def test_capped_lognormal_mean_and_var_are_exact(mu, s, c):
    d = Capped(LogNormal(mu, s), c)
    mean, var = _capped_lognormal_moments(mu, s, c)
    assert d.mean() == pytest.approx(mean, rel=1e-9)
    assert d.var() == pytest.approx(var, rel=1e-8)


def test_capped_lognormal_kernel_and_numpy():
    d = Capped(LogNormal(6.0, 1.5), 4096.0)
    for x in (kernel_draws(d), d.sample(N, rng=11)):
        assert_capped(x, d)
        assert abs(x.mean() - d.mean()) <= 5.0 * math.sqrt(d.var() / N)


def test_capped_cdf_ppf_support():
    d = Capped(LogNormal(6.0, 1.5), 4096.0)
    f_cap = float(d.dist.cdf(4096.0))
    assert float(d.cdf(4095.999)) < f_cap < float(d.cdf(4096.0)) == 1.0
    np.testing.assert_array_equal(d.ppf([f_cap + 1e-6, 0.999, 1.0]), 4096.0)
    assert float(d.ppf(0.5)) == pytest.approx(math.exp(6.0))
    assert d.support() == (0.0, 4096.0)


def test_capped_heavy_tail_mean_is_finite_and_exact():
    # E[min(X, c)] = scale + int_scale^c (scale / x)**a dx for Pareto(scale, a)
    scale, a, c = 2.0, 0.7, 1e9
    d = Capped(Pareto(scale, a), c)
    assert d.mean() == pytest.approx(scale + scale**a * (c ** (1 - a) - scale ** (1 - a)) / (1 - a), rel=1e-9)


def test_capped_geometric_mean_is_exact_and_kernel_atom():
    p, c = 0.1, 10.0
    d = Capped(Geometric(p), c)
    assert d.mean() == pytest.approx((1.0 - (1.0 - p) ** c) / p, rel=1e-12)
    x = kernel_draws(d)
    assert x.max() == c
    assert_ecdf(x, d, np.arange(1.0, c + 1.0))
    p_atom = (1.0 - p) ** (c - 1.0)  # P(X >= c)
    assert abs(np.mean(x == c) - p_atom) <= binom_tol(p_atom)


def test_capped_mixture_nested():
    d = Capped(Mixture((LogNormal(5.0, 0.6), LogNormal(7.5, 0.8)), (0.6, 0.4)), 4000.0)
    x = kernel_draws(d)
    assert_capped(x, d)
    assert abs(x.mean() - d.mean()) <= 5.0 * math.sqrt(d.var() / N)
    assert_capped(d.sample(N, rng=13), d)


def test_mixture_of_capped_caps_only_its_component():
    a = Capped(LogNormal(6.0, 1.0), 1000.0)
    d = Mixture((a, LogNormal(7.0, 1.0)), (0.5, 0.5))
    x = kernel_draws(d)
    p_atom = 0.5 * (1.0 - float(a.dist.cdf(1000.0)))
    assert abs(np.mean(x == 1000.0) - p_atom) <= binom_tol(p_atom)
    assert x.max() > 5000.0  # the uncapped component still reaches past the cap
    assert_ecdf(x, d, [300.0, 999.0, 1000.0, 3000.0])
    assert d.mean() == pytest.approx(0.5 * _capped_lognormal_moments(6.0, 1.0, 1000.0)[0] + 0.5 * math.exp(7.5))


def test_nested_caps_smallest_applies():
    d = Capped(Capped(LogNormal(6.0, 1.5), 3000.0), 5000.0)
    x = kernel_draws(d, n=2000)
    assert x.max() == 3000.0
    assert d.mean() == pytest.approx(_capped_lognormal_moments(6.0, 1.5, 3000.0)[0], rel=1e-9)
    assert float(d.cdf(3000.0)) == 1.0


# --------------------------------------------------------------------------------------
# Lowering layouts (the kernel's parameter contract)
# --------------------------------------------------------------------------------------
def test_lowering_layout():
    table = DistTable()
    emp = Empirical([5.0, 3.0, 4.0])
    row = Capped(Mixture((Constant(1.0), emp), (0.25, 0.75)), 4.5)._lower(table)
    kind, off, par, data = table.arrays()
    assert row == 3
    np.testing.assert_array_equal(kind, [K.CONSTANT, K.EMPIRICAL, K.MIXTURE, K.CAPPED])
    np.testing.assert_array_equal(off, [0, 1, 3, 8])
    np.testing.assert_array_equal(par, [1.0, 0.0, 3.0, 2.0, 0.25, 1.0, 0.0, 1.0, 4.5, 2.0])
    np.testing.assert_array_equal(data, [3.0, 4.0, 5.0])


@pytest.mark.parametrize(
    ("dist", "kind", "params"),
    [
        (LogNormal(1.0, 2.0), K.LOGNORMAL, [1.0, 2.0]),
        (Pareto(3.0, 1.5), K.PARETO, [3.0, 1.5]),
        (GeneralizedPareto(1.0, 2.0, -0.5), K.GENPARETO, [1.0, 2.0, -0.5]),
        (Gamma(2.0, 3.0), K.GAMMA, [2.0, 3.0]),
        (Weibull(0.5, 9.0), K.WEIBULL, [0.5, 9.0]),
        (Normal(-1.0, 2.0), K.NORMAL, [-1.0, 2.0]),
        (Uniform(1.0, 2.0), K.UNIFORM, [1.0, 2.0]),
        (Beta(2.0, 5.0), K.BETA, [2.0, 5.0]),
        (Geometric(0.25), K.GEOMETRIC, [0.25]),
        (Constant(4.0), K.CONSTANT, [4.0]),
    ],
    ids=repr,
)
def test_leaf_layout(dist, kind, params):
    table = DistTable()
    assert dist._lower(table) == 0
    assert table.kind == [kind] and table.par == params


# --------------------------------------------------------------------------------------
# Uncertain (trial-level) parameters
# --------------------------------------------------------------------------------------
ALL = [*CONTINUOUS, Geometric(0.3), Empirical([1.0, 2.0, 2.0, 7.0]), Constant(3.0), Capped(LogNormal(6.0, 1.5), 4096.0)]


@pytest.mark.parametrize("dist", ALL, ids=repr)
def test_ppf_of_trial_uniforms(dist):
    u = K.trial_uniforms(SEED, np.arange(64, dtype=np.int64), np.uint64(99)).reshape(8, 8)
    x = dist.ppf(u)
    assert x.shape == (8, 8) and np.all(np.isfinite(x))
    assert np.all(dist.cdf(x) >= u - 1e-12)


def test_uncertain_parameters_pass_validation_and_resolve():
    ln = LogNormal(mu=Uniform(5.0, 6.0), sigma=1.0)
    assert uncertain_parameters(ln) == {"mu": Uniform(5.0, 6.0)}
    with pytest.raises(TypeError, match="uncertain parameters"):
        ln.mean()
    with pytest.raises(TypeError, match="uncertain parameters"):
        ln._lower(DistTable())
    assert resolve(ln, {"mu": 5.5}) == LogNormal(5.5, 1.0)

    mix = Mixture((ln, LogNormal(7.0, 0.5)), (Beta(2.0, 5.0), 0.7))  # normalised once drawn
    assert set(uncertain_parameters(mix)) == {"components[0].mu", "weights[0]"}
    resolved = resolve(mix, {"components[0].mu": 5.5, "weights[0]": 0.3})
    assert resolved.mean() == pytest.approx(0.3 * math.exp(6.0) + 0.7 * math.exp(7.125))
    # a draw that does not sum to 1 with the fixed weight is normalised, not rejected
    assert resolve(mix, {"components[0].mu": 5.5, "weights[0]": 0.7}).weights == (0.5, 0.5)

    cap = Capped(ln, Uniform(1000.0, 2000.0))
    assert set(uncertain_parameters(cap)) == {"dist.mu", "upper"}
    assert resolve(cap, {"dist.mu": 5.0, "upper": 1500.0}).support() == (0.0, 1500.0)


# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------
_LN = LogNormal(5.0, 1.0)

BAD = [
    (lambda: LogNormal(0.0, -1.0), "LogNormal: sigma must be > 0; got -1.0"),
    (lambda: Pareto(0.0, 1.0), "Pareto: scale must be > 0; got 0.0"),
    (lambda: Pareto(1.0, math.inf), "Pareto: alpha must be finite; got inf"),
    (lambda: GeneralizedPareto(0.0, 1.0, math.nan), "GeneralizedPareto: shape must not be NaN; got nan"),
    (lambda: GeneralizedPareto(-math.inf, 1.0, 0.0), "GeneralizedPareto: loc must be finite; got -inf"),
    (lambda: GeneralizedPareto(0.0, 0.0, 0.1), "GeneralizedPareto: scale must be > 0; got 0.0"),
    (lambda: Gamma(0.0, 1.0), "Gamma: shape must be > 0; got 0.0"),
    (lambda: Gamma.from_mean_cv(100.0, 0.0), "Gamma: cv must be > 0; got 0.0"),
    (lambda: Gamma.from_mean_cv(-1.0, 0.5), "Gamma: mean must be > 0; got -1.0"),
    (lambda: Weibull(1.0, -2.0), "Weibull: scale must be > 0; got -2.0"),
    (lambda: Normal(0.0, 0.0), "Normal: sigma must be > 0; got 0.0"),
    (lambda: Normal("1", 1.0), "Normal: mu must be a real number; got '1'"),
    (lambda: Uniform(5.0, 4.0), "Uniform: high must be > low (5); got 4.0"),
    (lambda: Uniform(5.0, 5.0), "Uniform: high must be > low (5); got 5.0"),
    (lambda: Beta(-1.0, 1.0), "Beta: a must be > 0; got -1.0"),
    (lambda: Beta(1.0, math.nan), "Beta: b must not be NaN; got nan"),
    (lambda: Geometric(1.7), "Geometric: p must be in (0, 1]; got 1.7"),
    (lambda: Geometric(0.0), "Geometric: p must be in (0, 1]; got 0.0"),
    (lambda: Geometric(True), "Geometric: p must be a real number; got True"),
    (lambda: Constant(math.nan), "Constant: value must not be NaN; got nan"),
    (lambda: Empirical([]), "Empirical: values must be a non-empty 1-d sequence; got []"),
    (lambda: Empirical([1.0, math.inf]), "Empirical: values[1] must be finite; got inf"),
    (lambda: Empirical(["a"]), "Empirical: values must be a sequence of real numbers; got ['a']"),
    (lambda: Mixture((_LN,), (0.5, 0.5)), "Mixture: weights must hold one weight per component (1); got (0.5, 0.5)"),
    (lambda: Mixture((_LN, _LN), (1.2, -0.2)), "Mixture: weights[1] must be >= 0; got -0.2"),
    (lambda: Mixture((_LN, _LN), (0.0, 0.0)), "Mixture: weights must have a positive sum; got (0.0, 0.0)"),
    (lambda: Mixture((_LN, 3.0), (0.5, 0.5)), "Mixture: components[1] must be a Distribution; got 3.0"),
    (lambda: Mixture((), ()), "Mixture: components must hold at least one distribution; got ()"),
    (lambda: Mixture(_LN, (1.0,)), "Mixture: components must be a sequence; got LogNormal(mu=5.0, sigma=1.0)"),
    (lambda: Capped(_LN, 0.0), "Capped: upper must be > 0 (the lower end of dist's support); got 0.0"),
    (lambda: Capped(Pareto(100.0, 2.0), 50.0), "Capped: upper must be > 100 (the lower end of dist's support); got 50.0"),
    (lambda: Capped(_LN, math.nan), "Capped: upper must not be NaN; got nan"),
    (lambda: Capped(500.0, 100.0), "Capped: dist must be a Distribution; got 500.0"),
]


@pytest.mark.parametrize(("make", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_parameters_raise_with_name_rule_and_value(make, message):
    with pytest.raises(ParameterError, match=f"^{re.escape(message)}$") as info:
        make()
    assert isinstance(info.value, ValueError)


def test_numbers_are_normalised_to_float():
    d = Mixture([Gamma(2, 3)], [1])
    assert d.components == (Gamma(2.0, 3.0),) and d.weights == (1.0,)
    assert isinstance(Gamma(np.int64(2), 3).shape, float)


# --------------------------------------------------------------------------------------
# LogNormal constructors
# --------------------------------------------------------------------------------------
def test_lognormal_from_median_p90():
    d = LogNormal.from_median_p90(median=500.0, p90=2000.0)
    np.testing.assert_allclose(d.ppf([0.5, 0.9]), [500.0, 2000.0], rtol=1e-12)


@pytest.mark.parametrize("coverage", [0.5, 0.8, 0.9, 0.98])
def test_lognormal_from_interval(coverage):
    d = LogNormal.from_interval(100.0, 8000.0, coverage=coverage)
    tail = (1.0 - coverage) / 2.0
    np.testing.assert_allclose(d.ppf([tail, 1.0 - tail]), [100.0, 8000.0], rtol=1e-12)
