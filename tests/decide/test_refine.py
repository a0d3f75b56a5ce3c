"""``method="refine"``: the local search finds the grid's optimum where the objective
is convex along the grid, pricing far fewer candidates, and says what it is
elsewhere (a local optimum; a budget that ran out)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from test_analytic import PER_QUERY, TRIALS, _commitment, _newsvendor

import costsim as cs
from costsim.decide import optimize
from costsim.decide.refine import pattern_search

# --- the search on its own -----------------------------------------------------


def _brute(sizes, f):
    return min(itertools.product(*(range(n) for n in sizes)), key=f)


@pytest.mark.parametrize("sizes, centre, weights", [
    ((1_000,), (3,), (1.0,)),
    ((1_000,), (999,), (1.0,)),
    ((120, 80), (17, 61), (1.0, 3.0)),
    ((50, 60, 70), (0, 59, 33), (1.0, 0.2, 5.0)),
])
def test_convex_separable_scores_reach_the_grid_optimum(sizes, centre, weights):
    def f(p):
        return sum(w * (x - c) ** 2 for w, x, c in zip(weights, p, centre))

    calls = []
    trace = pattern_search(sizes, lambda p: (calls.append(p), (0.0, f(p)))[1], budget=10_000)
    assert trace.converged and trace.best == _brute(sizes, f) == centre
    assert len(calls) == len(set(calls)) == len(trace.points)  # each point priced once
    assert len(calls) <= 40 * len(sizes)  # the grids hold 1,000 to 210,000 points


def test_a_convex_non_separable_score_reaches_the_grid_optimum():
    """A rotated elliptic bowl (its axes not along the keys), sampled on 150 x 150."""
    def f(p):
        x, y = p[0] - 90.3, p[1] - 40.7
        return (0.0, x * x + y * y + 1.2 * x * y)

    trace = pattern_search((150, 150), f, budget=10_000)
    assert trace.best == _brute((150, 150), lambda p: f(p)[1])
    assert len(trace.points) < 0.01 * 150 * 150


def test_violations_come_before_the_objective():
    """Feasible only at positions >= 70 (violation falling towards it), objective rising: the answer is 70."""
    def f(p):
        return (max(0.0, 70 - p[0]) / 70, float(p[0]))

    trace = pattern_search((200,), f, budget=1_000)
    assert trace.best == (70,) and trace.converged


def test_on_two_valleys_it_stops_in_the_near_one_a_local_optimum():
    """Minima at 90 (value 0, wide) and 190 (value -5, narrow); from the start (99) refine ends
    at 90, where no neighbour is better, though 190 is lower: a local optimum, as documented."""
    def g(x):
        return min((x - 90) ** 2 / 50, (x - 190) ** 2 / 2 - 5)

    trace = pattern_search((200,), lambda p: (0.0, g(p[0])), budget=1_000)
    assert trace.converged and trace.best == (90,)
    assert g(89) > g(90) < g(91)
    assert _brute((200,), lambda p: g(p[0])) == (190,)


def test_the_budget_stops_the_search_with_the_best_priced():
    trace = pattern_search((10_000,), lambda p: (0.0, abs(p[0] - 7_777)), budget=6)
    assert not trace.converged and len(trace.points) == 6
    assert trace.best == min(trace.points, key=lambda p: abs(p[0] - 7_777))


# --- through optimize ------------------------------------------------------------


@pytest.mark.parametrize("ratio", [0.1, 0.5, 0.8])
def test_refine_finds_the_newsvendor_grid_optimum_pricing_a_tenth(ratio):
    p = 0.02
    traffic, options = _newsvendor(ratio * p, p)
    search = {"ptu.units": range(1, 301)}
    grid = optimize(traffic, options, search, trials=TRIALS, seed=11)
    refine = optimize(traffic, options, search, trials=TRIALS, seed=11, method="refine")
    assert refine.best == grid.best
    priced = refine.dataset.sizes["candidate"]
    assert priced <= 30  # of 300
    assert refine.dataset.attrs["method"] == "refine" and refine.dataset.attrs["converged"] == 1
    assert refine.dataset.attrs["grid_size"] == 300
    # the candidates refine priced are the grid's, to the cent (the same simulated requests)
    units = refine.dataset["ptu.units"].values
    np.testing.assert_allclose(refine.dataset["total_cost"].values, grid.dataset["total_cost"].values[units - 1],
                               rtol=1e-12)


@pytest.mark.parametrize("d", [0.2, 0.7])
def test_refine_finds_the_commitment_grid_optimum(d):
    """A linked key (thresholds, minimum): its values are taken in the order given."""
    traffic, options = _commitment(d)
    commitments = np.arange(2_000, 3_001, 5) + 2  # 201 values
    key = ("disc.thresholds", "commit.monthly_minimum")
    search = {key: [(((1 - d) * PER_QUERY * m,), (1 - d) * PER_QUERY * m) for m in commitments]}
    grid = optimize(traffic, options, search, trials=200, seed=3)
    refine = optimize(traffic, options, search, trials=200, seed=3, method="refine")
    assert refine.best == grid.best
    assert refine.dataset.sizes["candidate"] <= 30


def test_refine_over_two_keys_beyond_the_grid_cap():
    """Two query classes on their own provisioned units (a newsvendor each, spilling to the API):
    450 x 450 candidates, too many for a grid; refine finds each class's own optimum."""
    traffic = cs.Traffic([cs.QueryClass("chat", 0.6, cs.Constant(1_000), cs.Constant(1)),
                          cs.QueryClass("rag", 0.4, cs.Constant(1_000), cs.Constant(1))],
                         cs.Arrivals(volume=100 * 24, horizon="14D", bin="1h"))
    api = cs.TokenPricing(input=0.0, output=0.0, fee_per_request=0.02)

    def units(price):
        return cs.ProvisionedCapacity(units=1, price_per_unit_hour=price, tokens_per_minute=1_000 / 60.0,
                                      output_weight=0.0, fallback="api")

    options = {"api": api, "a": units(0.004), "b": units(0.012),
               "both": cs.Hybrid(routes={"chat": "a", "rag": "b"})}
    search = {"a.units": range(1, 451), "b.units": range(1, 451)}
    with pytest.raises(cs.ParameterError, match="method='refine'"):
        optimize(traffic, options, search, trials=8, seed=4)
    result = optimize(traffic, options, search, trials=8, seed=4, method="refine")
    assert result.dataset.sizes["candidate"] <= 80
    assert f"method refine: {result.dataset.sizes['candidate']} of 202,500 candidates priced, a local optimum\n" \
        in result.summary()
    # each class alone, by a grid over its own units (the other's cost does not depend on it)
    for key, other in (("a.units", "b.units"), ("b.units", "a.units")):
        alone = optimize(traffic, options, {key: range(1, 451), other: [result.best[other]]}, trials=8, seed=4)
        assert result.best[key] == alone.best[key]


def test_refine_refuses_unordered_values_and_bad_methods(traffic, options):
    with pytest.raises(cs.ParameterError, match=r"search\['ptu.units'\] must hold increasing"):
        optimize(traffic, options, {"ptu.units": [1, 5, 3]}, trials=2, seed=1, method="refine")
    with pytest.raises(cs.ParameterError, match="method must be 'grid'"):
        optimize(traffic, options, {"ptu.units": [1, 5, 3]}, trials=2, seed=1, method="anneal")
    with pytest.raises(cs.ParameterError, match="max_candidates must be >= 1"):
        optimize(traffic, options, {"ptu.units": [1, 5, 3]}, trials=2, seed=1, max_candidates=0)


def test_refine_warns_when_its_budget_runs_out(traffic, options):
    with pytest.warns(UserWarning, match="priced max_candidates=3 candidates before converging"):
        result = optimize(traffic, options, {"ptu.units": range(1, 200)}, trials=2, seed=1, method="refine",
                          max_candidates=3)
    assert result.dataset.sizes["candidate"] == 3 and result.dataset.attrs["converged"] == 0
