"""Acceptance 1 and 2 of issue 15: optima with a closed form.

1. Newsvendor: a constant capacity of ``u`` units over iid Poisson bin demand D
   (one unit serves one query a bin), each unit-hour at ``c``, the overflow spilled to
   an API at ``p`` a query.  A bin costs ``c u + p (D - u)+``; the mean is minimal at the
   critical fractile, the smallest ``u`` with ``F(u) >= 1 - c/p``.
2. Committed spend: list spend ``S`` a month; committing to ``M`` buys a discount ``d``
   on the spend up to ``M`` and the shortfall is charged: ``(1 - d) M + (S - M)+``,
   minimal at ``M* = F_S^-1(d)``.

The optimum found is that of the empirical distribution of the simulated demand
(checked exactly against a direct evaluation of the cost formula on the simulated
demand), so its distance to the analytic optimum is the sampling error of an empirical
quantile: sd ~ sqrt(q (1 - q) / n) / f(x_q) for n independent draws with density (or
pmf) f.  The sizes below make the tolerance (one unit, one grid step) at least ten of
those standard deviations.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats as st

import costsim as cs
from costsim.decide import optimize

# --- 1. newsvendor ----------------------------------------------------------------

LAM = 50.0  # mean queries per hourly bin
DAYS, TRIALS = 42, 20  # 1,008 bins a trial, 20,160 iid bins in all
TOKENS = 1_000  # every query: 1,000 prompt tokens (output weighted 0): one unit serves one query a bin


def _newsvendor(c: float, p: float):
    traffic = cs.Traffic([cs.QueryClass("q", 1.0, cs.Constant(TOKENS), cs.Constant(1))],
                         cs.Arrivals(volume=LAM * 24, horizon=f"{DAYS}D", bin="1h"))
    options = {
        "api": cs.TokenPricing(input=0.0, output=0.0, fee_per_request=p),
        "ptu": cs.ProvisionedCapacity(units=1, price_per_unit_hour=c, tokens_per_minute=TOKENS / 60.0,
                                      input_weight=1.0, output_weight=0.0, fallback="api"),
    }
    return traffic, options


@pytest.mark.parametrize("ratio", [0.1, 0.25, 0.5, 0.8])
def test_newsvendor_optimum_is_the_critical_fractile(ratio):
    p = 0.02
    c = ratio * p
    traffic, options = _newsvendor(c, p)
    units = np.arange(20, 91)
    result = optimize(traffic, options, {"ptu.units": units}, trials=TRIALS, seed=11)
    best = result.best["ptu.units"]
    analytic = st.poisson.ppf(1.0 - ratio, LAM)
    # sampling sd of the empirical quantile: sqrt(q(1-q)/n) / pmf, at most ~0.1 unit here
    q, n = 1.0 - ratio, DAYS * 24 * TRIALS
    sd = math.sqrt(q * (1 - q) / n) / st.poisson.pmf(analytic, LAM)
    assert 10 * sd < 1.0
    assert abs(best - analytic) <= 1, (best, analytic)

    # the same optimum from the cost formula on the simulated demand (same seed, same requests)
    demand = cs.simulate(traffic, {"api": options["api"]}, trials=TRIALS, seed=11)["requests"].values.ravel()
    mean_cost = [c * u + p * np.clip(demand - u, 0, None).mean() for u in units]
    assert best == units[int(np.argmin(mean_cost))]
    np.testing.assert_allclose(result.dataset["mean_cost"].values / (DAYS * 24), mean_cost, rtol=1e-12)


# --- 2. committed spend -----------------------------------------------------------

PER_QUERY = 0.01  # USD a query at list price
MONTH_QUERIES = 2_500.0  # expected queries in the month: S = PER_QUERY x Poisson(2,500)
MONTH_TRIALS = 400
STEP = 40  # grid step, in queries


def _commitment(d: float):
    """Feb 2026 (28 days, so the whole month: no proration).  The API is priced at the
    discounted rate; beyond the commitment the discount is undone (x 1 / (1 - d)); the
    commitment's minimum is the discounted commitment.  Both move together (a linked key)."""
    traffic = cs.Traffic([cs.QueryClass("q", 1.0, cs.Constant(100), cs.Constant(10))],
                         cs.Arrivals(volume=MONTH_QUERIES / 28, horizon="28D", bin="1D", start="2026-02-01"))
    options = {
        "api": cs.TokenPricing(input=0.0, output=0.0, fee_per_request=(1 - d) * PER_QUERY),
        "disc": cs.VolumeDiscount("api", thresholds=(1.0,), multipliers=(1 / (1 - d),), measure="spend"),
        "commit": cs.CommittedSpend("disc", monthly_minimum=1.0),
    }
    return traffic, options


@pytest.mark.parametrize("d", [0.2, 0.5, 0.7])
def test_commitment_optimum_is_the_discount_quantile(d):
    traffic, options = _commitment(d)
    analytic = st.poisson.ppf(d, MONTH_QUERIES)  # in queries
    commitments = np.arange(2_300, 2_701, STEP) + 7  # USD = PER_QUERY x queries; not aligned with the answer
    search = {("disc.thresholds", "commit.monthly_minimum"):
              [(((1 - d) * PER_QUERY * m,), (1 - d) * PER_QUERY * m) for m in commitments]}
    result = optimize(traffic, options, search, trials=MONTH_TRIALS, seed=3)
    key = ("disc.thresholds", "commit.monthly_minimum")
    best = result.best[key][1] / ((1 - d) * PER_QUERY)  # back to queries
    # sampling sd of the empirical d-quantile of a Poisson(2,500) over 400 trials: 3 to 3.6 queries
    sd = math.sqrt(d * (1 - d) / MONTH_TRIALS) / st.norm.pdf(st.norm.ppf(d)) * math.sqrt(MONTH_QUERIES)
    assert 10 * sd < STEP
    assert abs(best - analytic) <= STEP, (best, analytic)

    # the billed cost is the closed form, trial by trial
    spend = PER_QUERY * result.dataset["requests"].values
    for i, m in enumerate(commitments):
        usd = PER_QUERY * m
        expected = (1 - d) * usd + np.clip(spend - usd, 0, None)
        np.testing.assert_allclose(result.dataset["total_cost"].values[i], expected, rtol=1e-12)
