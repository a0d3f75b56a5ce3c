"""Cost per period and cumulative, against a budget."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import costsim as cs
from costsim.analysis import exceedance_probability, per_period


def test_per_period_sums_costs_and_counts_and_averages_levels(ds):
    daily = per_period(ds, "1D")
    assert daily.sizes["time"] == 2 and daily.attrs["bin_width"] == "1D"
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


def test_budget_over_time_must_have_the_compared_periods(ds):
    hourly = xr.DataArray(np.ones(ds.sizes["time"]), dims="time", coords={"time": ds["time"].values})
    # per day, an hourly plan shared only its midnights with the days: it was compared on those, silently
    with pytest.raises(ValueError, match=r"budget's time coordinate must be the periods compared \(2 from"):
        exceedance_probability(ds, hourly, period="1D")
    days = per_period(ds, "1D")["time"].values
    with pytest.raises(ValueError, match=r"budget's time coordinate must be the bins compared"):
        exceedance_probability(ds, xr.DataArray([1.0, 2.0], dims="time", coords={"time": days}))
    daily = xr.DataArray([1.0, 2.0], dims="time", coords={"time": days})
    assert exceedance_probability(ds, daily, period="1D").sizes["time"] == 2


@pytest.fixture(scope="module")
def long_ds():
    """Hourly bins from mid-January to mid-April: partial first and last months, four quarters' worth of edges."""
    from _analysis_scenario import small_options, small_traffic

    traffic = small_traffic()
    arrivals = dataclasses.replace(traffic.arrivals, horizon="90D", bin="6h", start="2026-01-17T06:00")
    return cs.simulate(dataclasses.replace(traffic, arrivals=arrivals), small_options(), trials=3, seed=2)


@pytest.mark.parametrize("period, rule", [("MS", "MS"), ("M", "MS"), ("1M", "MS"), ("month", "MS"),
                                          ("QS", "QS"), ("Q", "QS"), ("quarter", "QS")])
def test_calendar_periods_match_pandas_resample(long_ds, period, rule):
    out = per_period(long_ds, period)
    # by hand: pandas resample on the time axis, per trial, option and class
    cost = long_ds["cost"].to_dataframe()["cost"].unstack("time").T
    expected = cost.resample(rule).sum()
    assert pd.DatetimeIndex(out["time"].values).equals(expected.index.rename(None))
    got = out["cost"].to_dataframe()["cost"].unstack("time").T
    np.testing.assert_allclose(got.to_numpy(), expected[got.columns].to_numpy(), rtol=1e-12)
    levels = long_ds["capacity_units"].to_dataframe()["capacity_units"].unstack("time").T.resample(rule).mean()
    units = out["capacity_units"].to_dataframe()["capacity_units"].unstack("time").T
    np.testing.assert_allclose(units.to_numpy(), levels[units.columns].to_numpy())
    assert out.attrs["bin_width"] == ("month" if rule == "MS" else "quarter")
    assert out["cost"].attrs == long_ds["cost"].attrs


def test_calendar_months_have_their_own_lengths(long_ds):
    out = per_period(long_ds, "MS")
    assert [str(t)[:10] for t in out["time"].values] == ["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"]
    requests = long_ds["requests"].sum(("trial", "qclass")).to_series()
    assert float(out["requests"].sum(("trial", "qclass")).isel(time=1)) == requests["2026-02"].sum()  # 28 days


def test_calendar_period_refuses_bins_crossing_a_month(ds):
    weekly_bins = ds.assign_attrs(bin_width="7 days")  # bins that would straddle month ends
    with pytest.raises(ValueError, match="needs bins that stay inside one month"):
        per_period(weekly_bins.assign_coords(time=pd.date_range("2026-01-26", periods=ds.sizes["time"], freq="7D")),
                   "MS")


def test_exceedance_per_calendar_month(long_ds):
    monthly = per_period(long_ds, "MS")["cost"].sum("qclass")
    budget = float(monthly.isel(time=1).sel(option="big").median())
    p = exceedance_probability(long_ds, budget, period="MS")
    np.testing.assert_allclose(p.isel(time=1), (monthly.isel(time=1) > budget).mean("trial"))


@pytest.mark.parametrize("budget, message", [
    ({"big": float("nan"), "small": 1.0, "gpu": 1.0}, r"budget\['big'\] must be a finite number of USD >= 0; got nan"),
    ({"big": 1.0, "small": float("inf"), "gpu": 1.0}, r"budget\['small'\] must be .*; got inf"),
    ({"big": 1.0, "small": 1.0, "gpu": "10"}, r"budget\['gpu'\] must be .*; got '10'"),
    (True, r"budget must be a finite number of USD >= 0; got True"),
    ("10", r"budget must be .*; got '10'"),
    (-5.0, r"budget must be .*; got -5.0"),
    (xr.DataArray(np.nan), r"budget must be a finite number of USD >= 0 everywhere \(1 of 1 are not\); got nan"),
    (xr.DataArray(["a"]), r"budget must be .* \(a numeric DataArray\); got 'dtype <U1'"),
])
def test_budgets_that_no_cost_can_be_compared_with_are_refused(ds, budget, message):
    # a NaN budget compares False everywhere: the chance of exceeding it read 0 for every option
    with pytest.raises(ValueError, match=message):
        exceedance_probability(ds, budget)


def test_utilisation_of_a_period_weights_its_bins_by_the_capacity_running():
    # 12 quiet hours on one replica at ~5%, 12 busy ones on two at ~63%: the day's load over
    # its capacity is ~44%; the plain mean of the hourly utilisation (~34%) was reported
    chat = cs.QueryClass("chat", share=1.0, input_tokens=cs.Constant(2000), output_tokens=cs.Constant(200))
    traffic = cs.Traffic([chat], cs.Arrivals(volume=50_000, horizon="2D", bin="1h",
                                             daily_profile=(0.1,) * 12 + (3.0,) * 12))
    gpu = cs.SelfHostedGPU(gpu_hour_price=2.0, prefill_tokens_per_s=6000, decode_tokens_per_s=250,
                           min_replicas=1, max_replicas=20, fallback=None)
    ds = cs.simulate(traffic, {"gpu": gpu}, trials=2, seed=1, progress=False)
    daily = per_period(ds, "1D")
    hourly_util, units = ds["utilisation"].values, ds["capacity_units"].values  # trial, time, option
    assert np.unique(units).tolist() == [1.0, 2.0]
    for day in range(2):
        hours = slice(24 * day, 24 * (day + 1))
        expected = (hourly_util[:, hours] * units[:, hours]).sum(axis=1) / units[:, hours].sum(axis=1)
        np.testing.assert_allclose(daily["utilisation"].values[:, day], expected, rtol=1e-12)
    assert daily["utilisation"].dims == ds["utilisation"].dims
    assert daily["utilisation"].attrs == ds["utilisation"].attrs
