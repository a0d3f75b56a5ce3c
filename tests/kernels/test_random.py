"""The counter-based generator and the variate samplers of the compiled engine."""

import math

import numpy as np
import pytest
from scipy import stats

from costsim.kernels import _engine as E

MASK = (1 << 64) - 1


def _rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK


def xoshiro256pp(s):
    """Reference xoshiro256++ (Blackman & Vigna), on Python ints."""
    s = list(s)
    while True:
        result = (_rotl((s[0] + s[3]) & MASK, 23) + s[0]) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = _rotl(s[3], 45)
        yield result


def test_splitmix64_matches_published_sequence():
    # splitmix64 seeded with 1234567: the sequence published with the algorithm's test vectors
    golden = 0x9E3779B97F4A7C15
    got = [int(E.splitmix64_mix(np.uint64((1234567 + (k + 1) * golden) & MASK))) for k in range(3)]
    assert got == [6457827717110365317, 3203168211198807973, 9817491932198370423]


def test_xoshiro256pp_matches_reference():
    state = np.empty(4, dtype=np.uint64)
    E.seed_state(state, np.uint64(42), 7, 3, np.uint64(99))
    ref = xoshiro256pp([int(x) for x in state])
    assert [int(E.next_u64(state)) for _ in range(1000)] == [next(ref) for _ in range(1000)]


def test_seed_state_is_a_pure_function_of_its_keys():
    a, b = np.empty(4, np.uint64), np.empty(4, np.uint64)
    E.seed_state(a, np.uint64(1), 2, 3, np.uint64(4))
    E.seed_state(b, np.uint64(1), 2, 3, np.uint64(4))
    assert np.array_equal(a, b)
    seen = {tuple(a)}
    for keys in [(2, 2, 3, 4), (1, 3, 3, 4), (1, 2, 4, 4), (1, 2, 3, 5)]:
        E.seed_state(b, np.uint64(keys[0]), keys[1], keys[2], np.uint64(keys[3]))
        seen.add(tuple(b))
    assert len(seen) == 5


def _draws(fn, n, *args):
    state = np.empty(4, dtype=np.uint64)
    E.seed_state(state, np.uint64(2026), 1, 2, np.uint64(3))
    return np.array([fn(state, *args) for _ in range(n)])


def test_uniforms_are_uniform_and_open():
    u = _draws(E.next_double, 50_000)
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    v = _draws(E.next_open, 50_000)
    assert v.min() > 0 and v.max() < 1
    assert stats.kstest(v, "uniform").pvalue > 1e-3


def test_normal_matches_scipy_including_the_tail():
    z = _draws(E.next_normal, 200_000)
    assert stats.kstest(z, "norm").pvalue > 1e-3
    # the ziggurat's tail branch (|z| > 3.44): mass 2 * Phi(-3.4426) = 5.8e-4
    n_tail = np.count_nonzero(np.abs(z) > 3.442619855899)
    p = 2 * stats.norm.sf(3.442619855899)
    assert abs(n_tail - p * z.size) < 5 * math.sqrt(p * z.size)


@pytest.mark.parametrize("shape", [0.3, 1.0, 4.5])
def test_gamma_matches_scipy(shape):
    g = _draws(E.next_gamma, 40_000, shape)
    assert stats.kstest(g, stats.gamma(shape).cdf).pvalue > 1e-3


@pytest.mark.parametrize("lam", [0.0, 0.7, 9.5, 10.5, 250.0, 1e6])
def test_poisson_moments_and_distribution(lam):
    n = 40_000
    k = _draws(E.next_poisson, n, lam)
    if lam == 0:
        assert np.all(k == 0)
        return
    # mean within 5 standard errors; variance within 5 of its standard errors
    assert abs(k.mean() - lam) < 5 * math.sqrt(lam / n)
    var_se = math.sqrt((2 * lam**2 + lam) / n)
    assert abs(k.var() - lam) < 5 * var_se
    if lam < 1000:  # chi-square on the bulk of the pmf
        lo, hi = stats.poisson.ppf(0.001, lam), stats.poisson.ppf(0.999, lam)
        support = np.arange(lo, hi + 1)
        observed = np.array([np.count_nonzero(k == v) for v in support])
        expected = stats.poisson.pmf(support, lam) * n
        keep = expected > 5
        chi2 = ((observed[keep] - expected[keep]) ** 2 / expected[keep]).sum()
        assert stats.chi2.sf(chi2, keep.sum() - 1) > 1e-3


def test_trial_uniforms_depend_only_on_their_own_keys():
    trials = np.arange(10, dtype=np.int64)
    u = E.trial_uniforms(np.uint64(5), trials, np.uint64(77))
    assert np.array_equal(u[3:6], E.trial_uniforms(np.uint64(5), trials[3:6], np.uint64(77)))
    assert not np.array_equal(u, E.trial_uniforms(np.uint64(5), trials, np.uint64(78)))
    assert np.all((u > 0) & (u < 1))


def test_fast_exp_is_within_one_ulp_of_libm():
    x = np.concatenate([np.linspace(-707.0, 708.0, 200_001), np.random.default_rng(0).normal(7, 2, 100_000)])
    got = np.array([E.fast_exp(v) for v in x[::7]])
    ref = np.exp(x[::7])
    assert np.max(np.abs(got - ref) / np.spacing(ref)) <= 1.0
    assert E.fast_exp(-800.0) == 0.0 and E.fast_exp(800.0) == np.inf and E.fast_exp(0.0) == 1.0


def test_block_fill_equals_one_draw_at_a_time_for_every_kind():
    from costsim import (Beta, Capped, Constant, Empirical, Gamma, GeneralizedPareto, Geometric,
                         LogNormal, Mixture, Normal, Pareto, Uniform, Weibull)
    from costsim.traffic.distributions import DistTable

    dists = [Constant(3.0), LogNormal(5.0, 1.0), Pareto(100.0, 1.5), GeneralizedPareto(0.0, 50.0, 0.3),
             Gamma(2.0, 10.0), Weibull(1.5, 100.0), Normal(0.0, 1.0), Uniform(1.0, 2.0), Beta(2.0, 3.0),
             Geometric(0.3), Empirical((1.0, 5.0, 9.0)), Capped(LogNormal(5.0, 2.0), 400.0),
             Mixture((LogNormal(5.0, 0.5), Capped(Pareto(50.0, 1.2), 1e4)), (0.7, 0.3)),
             Capped(Mixture((Mixture((LogNormal(5.0, 0.5), Gamma(2.0, 9.0)), (0.5, 0.5)),
                             Capped(LogNormal(8.0, 1.0), 5e3), Empirical((3.0, 4.0))), (0.5, 0.3, 0.2)), 4e3),
             Mixture((LogNormal(6.2, 0.8), LogNormal(8.3, 1.0)), (0.85, 0.15)),  # the block path of mixtures
             Capped(Mixture((LogNormal(6.0, 0.8), Capped(LogNormal(9.0, 1.0), 2e4), LogNormal(4.0, 0.3)),
                            (0.5, 0.3, 0.2)), 1.5e4)]
    for dist in dists:
        table = DistTable()
        row = dist._lower(table)
        kind, off, par, data = table.arrays()
        a, b, pa, pb = (np.empty(4, np.uint64) for _ in range(4))
        E.seed_state(a, np.uint64(1), 2, 3, np.uint64(4))
        E.seed_state(pa, np.uint64(1), 2, 3, np.uint64(5))
        b[:] = a
        pb[:] = pa
        block = np.empty(300)
        assert E.fill_block(kind, off, par, data, row, a, pa, math.inf, block, np.empty(300), 300) == 0
        single = [E.sample_dist(kind, off, par, data, row, b, pb) for _ in range(300)]
        np.testing.assert_array_equal(block, single, err_msg=repr(dist))
        np.testing.assert_array_equal(a, b)  # and the generators end in the same state
        np.testing.assert_array_equal(pa, pb)


@pytest.mark.parametrize("name", ["constant", "lognormal", "pareto", "capped", "mixture"])
def test_fill_block_clips_at_the_limit_and_counts_what_it_clipped(name):
    """Draws above ``limit`` become ``limit`` and are counted; a user's cap below the
    limit is not a clip; the values below the limit are the unclipped draws."""
    from costsim import Capped, Constant, LogNormal, Mixture, Pareto
    from costsim.traffic.distributions import DistTable

    dist = {"constant": Constant(500.0), "lognormal": LogNormal(5.0, 1.0), "pareto": Pareto(100.0, 1.5),
            "capped": Capped(LogNormal(5.0, 2.0), 400.0),
            "mixture": Mixture((LogNormal(5.0, 0.5), Capped(Pareto(50.0, 1.2), 1e4)), (0.7, 0.3))}[name]
    table = DistTable()
    row = dist._lower(table)
    kind, off, par, data = table.arrays()
    a, b, pa, pb = (np.empty(4, np.uint64) for _ in range(4))
    E.seed_state(a, np.uint64(1), 2, 3, np.uint64(4))
    E.seed_state(pa, np.uint64(1), 2, 3, np.uint64(5))
    b[:] = a
    pb[:] = pa
    limit = 300.0
    block = np.empty(500)
    clipped = E.fill_block(kind, off, par, data, row, a, pa, limit, block, np.empty(500), 500)
    single = np.array([E.sample_dist(kind, off, par, data, row, b, pb) for _ in range(500)])
    np.testing.assert_array_equal(block, np.minimum(single, limit))
    assert clipped == int((single > limit).sum())
    assert 0 < clipped < 500 or isinstance(dist, Constant) and clipped == 500


@pytest.mark.parametrize("capped", [False, True])
def test_block_path_of_lognormal_mixtures_follows_the_cdf(capped):
    """The block path of a mixture of (capped) lognormals: component picks from their
    own stream, normals from the value stream.  KS against the mixture's cdf below the
    cap, and the atom at the cap within five binomial standard errors."""
    from scipy import stats

    from costsim import Capped, LogNormal, Mixture
    from costsim.traffic.distributions import DistTable

    mixture = Mixture((LogNormal(6.2, 0.8), LogNormal(8.3, 1.0), LogNormal(10.0, 0.5)), (0.6, 0.3, 0.1))
    dist = Capped(mixture, 3e4) if capped else mixture
    table = DistTable()
    row = dist._lower(table)
    kind, off, par, data = table.arrays()
    n = 40_000
    state, picks = np.empty(4, np.uint64), np.empty(4, np.uint64)
    E.seed_state(state, np.uint64(11), 0, 0, np.uint64(1))
    E.seed_state(picks, np.uint64(11), 0, 0, np.uint64(2))
    x = np.empty(n)
    for first in range(0, n, E.BLOCK):
        m = min(E.BLOCK, n - first)
        E.fill_block(kind, off, par, data, row, state, picks, math.inf, x[first:], np.empty(m), m)
    upper = 3e4 if capped else math.inf
    body = x[x < upper]
    assert stats.kstest(body, lambda t: mixture.cdf(t) / mixture.cdf(upper) if capped else mixture.cdf(t)).pvalue > 1e-3
    p_atom = 1.0 - float(mixture.cdf(upper)) if capped else 0.0
    assert abs(np.mean(x == upper) - p_atom) <= 5.0 * math.sqrt(p_atom * (1.0 - p_atom) / n) + 1.0 / n


def _one_output_trees():
    """Mixture trees whose leaves draw at most one output of the value stream each."""
    from costsim import (Capped, Constant, Empirical, GeneralizedPareto, Geometric, LogNormal, Mixture, Pareto,
                         Truncated, Uniform, Weibull)
    from costsim.calibrate.tails import Tail, splice

    body = Mixture((LogNormal(6.0, 0.8), LogNormal(8.0, 1.2)), (0.7, 0.3))
    return {
        "spliced tail under a limit": Capped(splice(body, Tail(3000, 0.03, 900.0, 0.25, 400, 0.01)), 32_768.0),
        "spliced tail, shape 0": splice(LogNormal(5.0, 1.0), Tail(500, 0.1, 80.0, 0.0, 400, 0.01)),
        "truncated body": Truncated(LogNormal(5.0, 1.0), 500.0),
        "caps at three levels": Capped(Mixture((Capped(Mixture((Uniform(0.0, 10.0), Capped(Pareto(5.0, 1.1), 50.0)),
                                                               (0.4, 0.6)), 30.0),
                                                GeneralizedPareto(1.0, 5.0, 0.4)), (0.8, 0.2)), 40.0),
        "every one-output kind": Mixture((Uniform(1.0, 2.0), GeneralizedPareto(0.0, 50.0, 0.3), Pareto(100.0, 1.5),
                                          Weibull(1.5, 100.0), Geometric(0.3), Empirical((1.0, 5.0, 9.0))),
                                         (0.2, 0.2, 0.2, 0.2, 0.1, 0.1)),
        "constants and geometric(1) draw no output": Mixture(
            (Constant(0.0), Uniform(0.0, 1.0), Geometric(1.0), Mixture((Constant(7.0), Geometric(0.5)), (0.5, 0.5))),
            (0.2, 0.3, 0.2, 0.3)),
        "zero weights": Mixture((Uniform(0.0, 1.0), Uniform(5.0, 6.0), Uniform(9.0, 10.0)), (0.5, 0.0, 0.5)),
    }


def _tree_of(dist):
    from costsim.traffic.distributions import DistTable

    table = DistTable()
    row = dist._lower(table)
    kind, off, par, data = table.arrays()
    code = np.empty(E.TREE_LEAF * kind.size + par.size, np.int64)
    val = np.empty(code.size)
    return (kind, off, par, data, row), (code, val, E.compact_tree(kind, off, par, row, code, val, 0))


@pytest.mark.parametrize("name", list(_one_output_trees()))
def test_compact_trees_fill_blocks_bit_for_bit_as_one_draw_at_a_time(name):
    """The compact-tree path of fill_block (nested mixtures and caps over leaves that
    draw at most one output) gives sample_dist's values, clips and generator states."""
    (kind, off, par, data, row), (code, val, end) = _tree_of(_one_output_trees()[name])
    assert end > 0
    a, b, pa, pb = (np.empty(4, np.uint64) for _ in range(4))
    E.seed_state(a, np.uint64(1), 2, 3, np.uint64(4))
    E.seed_state(pa, np.uint64(1), 2, 3, np.uint64(5))
    b[:] = a
    pb[:] = pa
    single = np.array([E.sample_dist(kind, off, par, data, row, b, pb) for _ in range(3000)])
    limit = float(np.quantile(single, 0.9))
    block = np.empty(3000)
    clipped, first = 0, 0
    for m in (1, 256, 7, 1000, 1736):  # blocks of any size continue the streams
        clipped += E.fill_block(kind, off, par, data, row, a, pa, limit, block[first:], np.empty(m), m,
                                True, True, (code, val), 0)
        first += m
    np.testing.assert_array_equal(block, np.minimum(single, limit))
    assert clipped == int((single > limit).sum()) > 0
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(pa, pb)


def _python_sample(kind, off, par, data, row, values, picks):
    """One draw of a lowered row from Python generators, straight from the documented
    layout: a uniform from ``picks`` per mixture on the path, the smallest cap on the
    path, the leaf from the next output of ``values`` (none for a constant)."""
    cap = math.inf
    while kind[row] in (E.MIXTURE, E.CAPPED):
        o = off[row]
        if kind[row] == E.CAPPED:
            cap = min(cap, par[o])
            row = int(par[o + 1])
            continue
        n = int(par[o])
        u = (next(picks) >> 11) * 2.0**-53
        j = next((k for k in range(n - 1) if u < par[o + 1 + k]), n - 1)
        row = int(par[o + 1 + n + j])
    o, k = off[row], kind[row]
    if k == E.CONSTANT or k == E.GEOMETRIC and par[o] >= 1.0:
        return min(par[o] if k == E.CONSTANT else 1.0, cap)
    bits = next(values)
    u, u_open = (bits >> 11) * 2.0**-53, ((bits >> 11) + 0.5) * 2.0**-53
    if k == E.UNIFORM:
        x = par[o] + (par[o + 1] - par[o]) * u
    elif k == E.GENPARETO:
        c = par[o + 2]
        x = par[o] - par[o + 1] * math.log(u_open) if c == 0.0 else par[o] + par[o + 1] * (u_open ** -c - 1.0) / c
    elif k == E.PARETO:
        x = par[o] * u_open ** (-1.0 / par[o + 1])
    elif k == E.WEIBULL:
        x = par[o + 1] * (-math.log(u_open)) ** (1.0 / par[o])
    elif k == E.GEOMETRIC:
        x = 1.0 + math.floor(math.log(u_open) / math.log1p(-par[o]))
    else:
        assert k == E.EMPIRICAL
        x = data[int(par[o]) + min(int(u * par[o + 1]), int(par[o + 1]) - 1)]
    return min(x, cap)


@pytest.mark.parametrize("name", list(_one_output_trees()))
def test_compact_trees_match_a_python_walk_of_the_layout(name):
    """The compact-tree path against a plain-Python reading of the random layout (the
    reference xoshiro256++ for both streams), so the layout itself is pinned."""
    (kind, off, par, data, row), (code, val, _) = _tree_of(_one_output_trees()[name])
    state, picks = np.empty(4, np.uint64), np.empty(4, np.uint64)
    E.seed_state(state, np.uint64(9), 8, 7, np.uint64(6))
    E.seed_state(picks, np.uint64(9), 8, 7, np.uint64(6) ^ E.PICK_STREAM)
    values, pick_bits = xoshiro256pp([int(x) for x in state]), xoshiro256pp([int(x) for x in picks])
    expected = [_python_sample(kind, off, par, data, row, values, pick_bits) for _ in range(2000)]
    got = np.empty(2000)
    E.fill_block(kind, off, par, data, row, state, picks, math.inf, got, np.empty(2000), 2000, True, True, (code, val), 0)
    np.testing.assert_array_equal(got, expected)


def test_compact_tree_refuses_leaves_of_a_variable_number_of_outputs_and_short_buffers():
    from costsim import Gamma, LogNormal, Mixture, Normal, Uniform

    for leaf in (LogNormal(3.0, 1.0), Normal(0.0, 1.0), Gamma(2.0, 3.0)):
        assert _tree_of(Mixture((Uniform(0.0, 1.0), leaf), (0.5, 0.5)))[1][2] == -1
    (kind, off, par, _, row), (code, val, end) = _tree_of(_one_output_trees()["truncated body"])
    assert end == 17 + 16 * 17 + 256 * E.TREE_LEAF  # two levels of 16 components, 256 leaves
    assert E.compact_tree(kind, off, par, row, code[:end - 1], val[:end - 1], 0) == -1
    assert E.compact_tree(kind, off, par, row, code, val, code.size - end + 1) == -1  # one entry short from there
    assert E.compact_tree(kind, off, par, row, code, val, code.size - end) == code.size
