"""Input/output dependence through a Gaussian copula (QueryClass.io_rank_correlation)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import stats

import costsim as cs
from costsim.kernels import _engine as E
from costsim.results import CostHistogram
from costsim.traffic.distributions import DistTable

from .._reference import simulate_reference

INPUT = cs.Capped(cs.Mixture([cs.LogNormal(6.0, 0.8), cs.LogNormal(8.0, 0.6)], [0.7, 0.3]), upper=7_437.0)
OUTPUT = cs.LogNormal(5.0, 0.9)


def copula_draws(rank_correlation, n, seed=1):
    """n (input, output) pairs straight from the kernel's copula sampler."""
    qc = cs.QueryClass("q", 1.0, INPUT, OUTPUT, io_rank_correlation=rank_correlation)
    table = DistTable()
    copula = np.array(qc._lower_copula(table))
    data = table.arrays()[3]
    state_in, state_out = np.empty(4, np.uint64), np.empty(4, np.uint64)
    E.seed_state(state_in, np.uint64(seed), 0, 0, np.uint64(11))
    E.seed_state(state_out, np.uint64(seed), 0, 1, np.uint64(11))
    inputs, outputs, scores = np.empty(n), np.empty(n), np.empty(n)
    assert E.fill_copula(data, copula, state_in, state_out, np.ones(n), True, scores, inputs, outputs, n, n,
                         np.full(E.N_CLASS_DISTS, np.inf)) == 0
    return inputs, outputs


def ks_below(samples, cdf, cap):
    """KS distance between the sample and ``cdf`` over x < cap (the input's point mass
    at its cap would otherwise count as a gap of its own size)."""
    x = np.sort(samples)
    below = x < cap
    n = x.size
    i = np.arange(1, n + 1)[below]
    f = cdf(x[below])
    return max(np.max(i / n - f), np.max(f - (i - 1) / n))


@pytest.mark.parametrize("target", [-0.5, 0.3, 0.8])
def test_rank_correlation_and_marginals(target):
    """n = 20,000 pairs: the Spearman SE is below 1/sqrt(n - 1) = 0.0071, so 4 SE = 0.028;
    each marginal passes a KS test against its distribution at the 0.1% level
    (critical distance 1.95 / sqrt(n) = 0.0138), the input's capped point mass checked
    on its own (binomial SE sqrt(p(1-p)/n), 4 SE)."""
    n = 20_000
    inputs, outputs = copula_draws(target, n)
    rho_s = stats.spearmanr(inputs, outputs).statistic
    assert abs(rho_s - target) < 4 / np.sqrt(n - 1)
    assert ks_below(inputs, INPUT.cdf, INPUT.upper) < 1.95 / np.sqrt(n)
    atom = 1.0 - INPUT.dist.cdf(INPUT.upper)
    assert abs(np.mean(inputs == INPUT.upper) - atom) < 4 * np.sqrt(atom * (1 - atom) / n)
    assert stats.kstest(outputs, OUTPUT.cdf).statistic < 1.95 / np.sqrt(n)


def test_kernel_equals_reference_with_copula_classes():
    base = cs.Traffic([cs.QueryClass("chat", 1.0, INPUT, OUTPUT, io_rank_correlation=0.6, cached_fraction=0.2),
                       cs.QueryClass("agent", 0.5, cs.LogNormal(7.0, 0.5), OUTPUT, steps=cs.Geometric(0.4),
                                     tool_tokens=cs.LogNormal(5.0, 1.0), io_rank_correlation=-0.4),
                       cs.QueryClass("plain", 0.5, INPUT, OUTPUT)],
                      cs.Arrivals(volume=2_000, horizon="12h", bin="1h"))
    options = {"api": cs.TokenPricing(3.0, 15.0, cached_input=0.3)}
    ds = cs.simulate(base, options, trials=2, seed=4)
    ref = simulate_reference(base, options, [0, 1], 4, CostHistogram.from_range((1e-7, 1e3), 16))
    for name in ("requests", "calls", "input_tokens", "cached_tokens", "output_tokens", "cost"):
        np.testing.assert_array_equal(ds[name].values, ref[name], err_msg=name)
    np.testing.assert_array_equal(ds["cost_hist"].values, ref["hist"])
    # another class's copula leaves a class's draws alone; without it, a class draws as before
    independent = dataclasses.replace(base, classes=tuple(dataclasses.replace(qc, io_rank_correlation=0.0)
                                                          for qc in base.classes))
    ind = cs.simulate(independent, options, trials=2, seed=4)
    np.testing.assert_array_equal(ind["cost"].sel(qclass="plain"), ds["cost"].sel(qclass="plain"))
    np.testing.assert_array_equal(ind["requests"], ds["requests"])
    assert not np.array_equal(ind["output_tokens"].sel(qclass="chat"), ds["output_tokens"].sel(qclass="chat"))


def test_correlation_moves_the_per_request_cost_tail_not_the_mean():
    """Cost = a * input + b * output is linear, so its mean ignores the dependence; its
    p99 rises with positive dependence and falls with negative."""
    def run(r):
        qc = cs.QueryClass("q", 1.0, cs.LogNormal(7.0, 1.0), cs.LogNormal(6.0, 1.0), io_rank_correlation=r)
        ds = cs.simulate(cs.Traffic([qc], cs.Arrivals(volume=40_000, horizon="1D", bin="1h")),
                         {"api": cs.TokenPricing(3.0, 15.0)}, trials=1, seed=2, hist_bins_per_octave=64)
        return (float(ds["cost"].sum() / ds["requests"].sum()),
                float(cs.analysis.request_cost_quantiles(ds, q=[0.99]).squeeze()))

    (m_neg, p_neg), (m0, p0), (m_pos, p_pos) = run(-0.7), run(0.0), run(0.7)
    assert p_neg < p0 < p_pos
    # 40k queries: the mean cost's relative SE is ~0.6% (lognormal sigma 1); 4 SE
    assert abs(m_neg / m0 - 1) < 0.025 and abs(m_pos / m0 - 1) < 0.025


def test_copula_needs_concrete_marginals():
    with pytest.raises(ValueError, match="input_tokens must have concrete parameters when io_rank_correlation"):
        cs.QueryClass("q", 1.0, cs.LogNormal(cs.Uniform(5.0, 6.0), 1.0), OUTPUT, io_rank_correlation=0.5)
    with pytest.raises(ValueError, match=r"io_rank_correlation must be in \[-1, 1\]; got 1.5"):
        cs.QueryClass("q", 1.0, INPUT, OUTPUT, io_rank_correlation=1.5)
