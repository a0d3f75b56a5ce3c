"""Cost per period and cumulative, against a budget."""

import numpy as np
import pytest
import xarray as xr

from costsim.analysis import exceedance_probability, per_period


def test_per_period_sums_costs_and_counts_and_averages_levels(ds):
    daily = per_period(ds, "1D")
    assert daily.sizes["time"] == 2 and daily.attrs["bin_width"] == "1 days 00:00:00"
    assert daily["time"].values.tolist() == ds["time"].values[[0, 24]].tolist()
    for name in ("cost", "requests", "input_tokens", "capacity_cost"):
        np.testing.assert_allclose(daily[name].isel(time=0), ds[name].isel(time=slice(0, 24)).sum("time"))
        assert daily[name].attrs == ds[name].attrs
    np.testing.assert_allclose(daily["capacity_units"].isel(time=1),
                               ds["capacity_units"].isel(time=slice(24, 48)).mean("time"))
    xr.testing.assert_identical(daily["cost_hist"], ds["cost_hist"])  # no time dim: untouched


@pytest.mark.parametrize("period", ["30min", "90min", "soon"])
def test_per_period_needs_whole_bins(ds, period):
    with pytest.raises(ValueError, match="period must be"):
        per_period(ds, period)


def test_exceedance_per_period_is_the_share_of_trials_above(ds):
    budget = float(ds["cost"].sel(option="big").sum("qclass").isel(time=slice(0, 24)).sum("time").median())
    p = exceedance_probability(ds, budget, period="1D")
    assert p.dims == ("time", "option")
    daily = ds["cost"].sum("qclass").isel(time=slice(0, 24)).sum("time")
    np.testing.assert_allclose(p.isel(time=0), (daily > budget).mean("trial"))
    assert float(p.isel(time=0).sel(option="big")) == pytest.approx(0.5, abs=0.05)  # budget at the median
    assert float(p.sel(option="small").max()) == 0.0


def test_cumulative_exceedance_never_falls_and_ends_at_the_total(ds):
    budget = {"big": 300.0, "small": 40.0, "gpu": 100.0}
    p = exceedance_probability(ds, budget, cumulative=True)
    assert np.all(p.diff("time") >= 0)  # cost only accumulates
    total = ds.costsim.total()
    for option, b in budget.items():
        assert float(p.sel(option=option).isel(time=-1)) == float((total.sel(option=option) > b).mean())
    assert p.attrs["long_name"] == "Chance of exceeding the budget (cumulative)"


def test_budget_can_follow_a_plan_over_time(ds):
    # a spending plan: $2 per hour accumulated, compared with the cumulative cost of "small"
    plan = xr.DataArray(2.0 * np.arange(1, ds.sizes["time"] + 1), dims="time", coords={"time": ds["time"]})
    p = exceedance_probability(ds, plan, cumulative=True, option="small")
    cum = ds["cost"].sel(option="small").sum("qclass").cumsum("time")
    np.testing.assert_allclose(p.sel(option="small"), (cum > plan).mean("trial"))


def test_budget_mapping_must_cover_the_options(ds):
    with pytest.raises(ValueError, match=r"budget must give a value for every option; missing \['gpu'\]"):
        exceedance_probability(ds, {"big": 1.0, "small": 1.0})
    with pytest.raises(ValueError, match="budget must be a finite number of USD"):
        exceedance_probability(ds, float("nan"))
