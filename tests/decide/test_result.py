"""The result of optimize: its Dataset, the chosen plan, frontier, regret and flexibility,
each checked against its definition recomputed from the per-candidate arrays."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr
from _optimize_scenario import small_options, small_traffic

import costsim as cs
from costsim.decide import (
    OptimizeResult,
    candidate_table,
    frontier_table,
    optimize,
    plan_bands,
    search_bands,
    search_slice,
)

SEARCH = {"ptu.units": range(1, 9), "ptu.price_per_unit_hour": [0.08, 0.12]}


@pytest.fixture(scope="module")
def result() -> OptimizeResult:
    # 40 days from Jan 10: two calendar months (January, February)
    traffic = small_traffic(days=40, volume=2_000.0, horizon_start="2026-01-10")
    return optimize(traffic, small_options(), SEARCH, objective=("cvar", 0.8),
                    constraints={"budget": (1_300.0, 0.3), "utilisation": 0.5}, trials=12, seed=4)


def test_dataset_layout(result):
    ds = result.dataset
    assert ds.sizes["candidate"] == 16 and ds.sizes["trial"] == 12 and ds.sizes["month"] == 2
    assert ds["month"].values.astype("datetime64[D]").astype(str).tolist() == ["2026-01-01", "2026-02-01"]
    assert ds["ptu.units"].values.tolist() == [u for u in range(1, 9) for _ in range(2)]
    assert ds["ptu.price_per_unit_hour"].values.tolist() == [0.08, 0.12] * 8
    for name, var in ds.data_vars.items():
        assert "units" in var.attrs and var.attrs.get("long_name"), name
    assert ds["total_cost"].dims == ("candidate", "trial")
    np.testing.assert_allclose(ds["monthly_cost"].sum("month"), ds["total_cost"], rtol=1e-12)
    np.testing.assert_allclose(ds["chosen_cost"].sum("time"), ds["total_cost"][result.best_index], rtol=1e-12)
    assert json.loads(ds.attrs["constraints"]) == {"budget": [1300.0, 0.3], "utilisation": 0.5}
    assert ds.attrs["objective"] == "CVaR80" and ds.attrs["tail"] == "CVaR80" and ds.attrs["seed"] == 4
    assert "uncertain" in ds and ds["parameter"].values.tolist() == ["traffic.arrivals.volume"]


def test_chosen_plan_is_the_best_feasible_candidate(result):
    ds = result.dataset
    total = ds["total_cost"].values
    exceed = (total > 1_300.0).mean(axis=1)
    utilisation = (ds["capacity_cost"] - ds["unused_capacity_cost"]).sum("trial") / ds["capacity_cost"].sum("trial")
    np.testing.assert_allclose(ds["budget_exceedance"], exceed)
    np.testing.assert_allclose(ds["capacity_utilisation"], utilisation, rtol=1e-12)
    feasible = (exceed <= 0.3) & (utilisation.values >= 0.5)
    np.testing.assert_array_equal(ds["feasible"], feasible)
    assert 0 < feasible.sum() < feasible.size  # the constraints bind
    objective = ds["objective"].values
    assert result.best_index == int(np.argmin(np.where(feasible, objective, np.inf)))
    i = result.best_index
    assert result.best == {"ptu.units": int(ds["ptu.units"][i]),
                           "ptu.price_per_unit_hour": float(ds["ptu.price_per_unit_hour"][i])}
    assert result.options["ptu"].units == result.best["ptu.units"]
    assert result.options["api"] == small_options()["api"] and set(result.options) == set(small_options())


def test_regret_perfect_flexible_and_adaptive_plans(result):
    ds = result.dataset
    feasible = ds["feasible"].values
    total = ds["total_cost"].values[feasible]  # [n, T]
    monthly = ds["monthly_cost"].values[feasible]  # [n, T, M]
    chosen = ds["total_cost"].values[result.best_index]
    perfect = total.min(axis=0)
    np.testing.assert_allclose(ds["perfect_cost"], perfect, rtol=1e-12)
    np.testing.assert_allclose(ds["regret"], chosen - perfect, rtol=1e-12, atol=1e-9)
    assert (ds["regret"] >= 0).all()
    flexible = monthly.min(axis=0).sum(axis=1)
    np.testing.assert_allclose(ds["flexible_cost"], flexible, rtol=1e-12)
    assert (ds["flexible_cost"] <= ds["perfect_cost"] + 1e-9).all()
    chosen_monthly = ds["monthly_cost"].values[result.best_index]
    adaptive = [chosen_monthly[t, 0] + monthly[np.argmin(monthly[:, t, 0]), t, 1] for t in range(ds.sizes["trial"])]
    np.testing.assert_allclose(ds["adaptive_cost"], adaptive, rtol=1e-12)
    assert result.value_of_information == pytest.approx(float(np.mean(chosen - perfect)), rel=1e-12)
    assert result.value_of_flexibility == pytest.approx(float(np.mean(chosen - flexible)), rel=1e-9)
    assert result.value_of_adaptation == pytest.approx(float(np.mean(chosen - np.array(adaptive))), rel=1e-9)
    assert result.value_of_flexibility >= result.value_of_information >= 0.0


def test_frontier_is_the_set_of_efficient_feasible_candidates(result):
    ds = result.dataset
    mean, tail, feasible = ds["mean_cost"].values, ds["tail_cost"].values, ds["feasible"].values
    np.testing.assert_allclose(mean, ds["total_cost"].mean("trial"))
    for i in range(mean.size):
        beaten = feasible & (mean <= mean[i]) & (tail <= tail[i]) & ((mean < mean[i]) | (tail < tail[i]))
        assert ds["on_frontier"].values[i] == (feasible[i] and not beaten.any()), i
    assert ds["on_frontier"].values[result.best_index]  # CVaR80 is the tail measure: its minimum is efficient
    front = frontier_table(result)
    assert front["mean_cost"].is_monotonic_increasing and front["tail_cost"].is_monotonic_decreasing
    table = candidate_table(result)
    assert list(table.columns[:2]) == ["ptu.units", "ptu.price_per_unit_hour"] and len(table) == 16


def test_bands_and_slices(result):
    ds = result.dataset
    bands = search_bands(result, q=(0.1, 0.5, 0.9))
    np.testing.assert_allclose(bands.sel(quantile=0.5), ds["total_cost"].median("trial"))
    plan = plan_bands(result, q=(0.5,), cumulative=True)
    np.testing.assert_allclose(plan.isel(time=-1).sel(quantile=0.5), np.median(ds["chosen_cost"].sum("time")))
    along = search_slice(result, "ptu.units")
    price = ds["ptu.price_per_unit_hour"].values[result.best_index]
    assert (ds["ptu.price_per_unit_hour"].values[along] == price).all() and along.size == 8
    assert result.best_index in along
    with pytest.raises(ValueError, match="parameter must be one of the searched parameters"):
        search_slice(result, "ptu.nope")


@pytest.mark.parametrize("bands", [search_bands, plan_bands])
@pytest.mark.parametrize("q", [(0.5, 1.5), (float("nan"),), ()])
def test_bands_name_bad_quantiles(result, bands, q):
    # they reached numpy's "Quantiles must be in the range [0, 1]" (or an empty quantile dim), naming no argument
    with pytest.raises(ValueError, match=r"q must be quantiles in \[0, 1\]"):
        bands(result, q=q)


def test_summary_and_repr(result):
    text = result.summary()
    assert text.startswith("chosen plan for 'ptu': ptu.units = ")
    assert "P(total cost > 1,300.00 USD) <= 0.3" in text and "capacity utilisation >= 0.5" in text
    assert repr(result).startswith("<OptimizeResult: 16 candidates, 12 trials; best {'ptu.units'")


def test_netcdf_round_trip(result, tmp_path):
    path = tmp_path / "optimize.nc"
    result.dataset.to_netcdf(path)
    with xr.open_dataset(path) as back:
        xr.testing.assert_identical(back.load(), result.dataset)


def test_chosen_options_simulate_to_the_same_numbers(result):
    traffic = small_traffic(days=40, volume=2_000.0, horizon_start="2026-01-10")
    ds = cs.simulate(traffic, result.options, trials=12, seed=4)
    np.testing.assert_allclose(ds["cost"].sel(option="ptu").sum(("time", "qclass")),
                               result.dataset["total_cost"][result.best_index], rtol=1e-12)


def test_same_seed_same_result_and_seed_none_is_recorded():
    traffic, options = small_traffic(), small_options()
    a = optimize(traffic, options, {"ptu.units": [1, 3]}, trials=3, seed=9)
    b = optimize(traffic, options, {"ptu.units": [1, 3]}, trials=[0, 1, 2], seed=9)
    xr.testing.assert_identical(a.dataset, b.dataset)
    c = optimize(traffic, options, {"ptu.units": [1, 3]}, trials=3, seed=None)
    assert 0 <= c.dataset.attrs["seed"] < 2**63
    d = optimize(traffic, options, {"ptu.units": [1, 3]}, trials=3, seed=c.dataset.attrs["seed"])
    xr.testing.assert_identical(c.dataset, d.dataset)


def test_mean_objective_frontier_uses_cvar95_and_a_tail_can_be_chosen():
    traffic, options = small_traffic(), small_options()
    r = optimize(traffic, options, {"ptu.units": [1, 3, 5]}, trials=5, seed=2)
    assert r.dataset.attrs["objective"] == "mean" and r.dataset.attrs["tail"] == "CVaR95"
    r = optimize(traffic, options, {"ptu.units": [1, 3, 5]}, tail=("quantile", 0.9), trials=5, seed=2)
    np.testing.assert_allclose(r.dataset["tail_cost"], r.dataset["total_cost"].quantile(0.9, "trial"))
    with pytest.raises(cs.ParameterError, match="tail must be"):
        optimize(traffic, options, {"ptu.units": [1]}, tail="p90", trials=2, seed=2)
