"""Capacity models and compositions: agreement with the plain-Python reference on
randomised cases (hypothesis), analytic checks, results schema and bad input."""

from __future__ import annotations

import dataclasses
import math

import numba
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import costsim as cs
from costsim.kernels import _capacity as KC

from . import _capacity_reference as ref

API = cs.TokenPricing(input=3.0, output=15.0, cached_input=0.3)
CHEAP = cs.TokenPricing(input=0.5, output=1.5)

# Two classes over three days of 1 h bins that cross a month boundary, with a daily
# profile and bursts: demand varies bin to bin.
TRAFFIC = cs.Traffic(
    [
        cs.QueryClass("chat", 0.7, cs.LogNormal(6.0, 1.0), cs.LogNormal(5.0, 0.8), cached_fraction=0.3),
        cs.QueryClass("rag", 0.3, cs.LogNormal(8.0, 0.5), cs.LogNormal(5.5, 0.7), reasoning_tokens=cs.Constant(50)),
    ],
    cs.Arrivals(volume=20_000, horizon="3D", bin="1h", start="2026-01-30", overdispersion=0.3,
                daily_profile=[0.3] * 8 + [2.0] * 8 + [0.7] * 8),
)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run(option, trials=2, **more):
    """Simulate ``option`` as "x" beside the per-request options it may name."""
    return cs.simulate(TRAFFIC, {"api": API, "cheap": CHEAP, **more, "x": option}, trials=trials, seed=7)


def reference(ds, option):
    """(cost, spill, throttled) [trial][bin][class] of option "x" by the reference."""
    options = {"api": API, "cheap": CHEAP}
    out = []
    for t in range(ds.sizes["trial"]):
        api_cost = {name: ds["cost"].isel(trial=t).sel(option=name).values.tolist() for name in options}
        d = ref.Demand(ds, t, api_cost)
        out.append(ref.bill(option, options, d, [[1.0] * d.n_classes for _ in range(d.n_bins)]))
    return [np.array([o[i] for o in out]) for i in range(3)]


def assert_matches_reference(option):
    ds = run(option)
    cost, spill, throttled = reference(ds, option)
    x = ds.sel(option="x")
    np.testing.assert_allclose(x["cost"].values, cost, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(x["spill_cost"].values, spill, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(x["throttled_requests"].values, throttled, rtol=1e-12, atol=1e-12)
    return ds


# ---- randomised agreement with the reference -------------------------------------------------------

def amounts(high, low=1e-3):
    """0, or a float in [low, high]: no subnormal numbers, whose products and ratios round coarsely."""
    return st.one_of(st.just(0.0), st.floats(low, high))


fallbacks = st.sampled_from([None, "api", "cheap", API])
provisioned = st.builds(
    cs.ProvisionedCapacity,
    units=st.integers(1, 6),
    price_per_unit_hour=amounts(20.0),
    tokens_per_minute=st.floats(1e3, 5e4),
    input_weight=amounts(2.0),
    cached_weight=amounts(1.0),
    output_weight=amounts(8.0),
    fallback=fallbacks,
)


@st.composite
def gpus(draw, fallback=fallbacks):
    low = draw(st.integers(0, 2))
    return cs.SelfHostedGPU(
        gpu_hour_price=draw(st.floats(0.5, 10.0)),
        prefill_tokens_per_s=draw(st.floats(500.0, 2e4)),
        decode_tokens_per_s=draw(st.floats(50.0, 3e3)),
        gpus_per_replica=draw(st.integers(1, 4)),
        target_utilisation=draw(st.floats(0.3, 1.0)),
        min_replicas=low,
        max_replicas=draw(st.one_of(st.none(), st.integers(max(low, 1), 6))),
        scale_step=draw(st.integers(1, 3)),
        scale_lag=f"{draw(st.integers(0, 3))}h",
        interruption_overhead=draw(amounts(0.3)),
        fixed_monthly=draw(amounts(5e3)),
        fallback=draw(fallback),
    )


@given(provisioned)
@SETTINGS
def test_provisioned_capacity_matches_reference(option):
    assert_matches_reference(option)


@given(gpus())
@SETTINGS
def test_self_hosted_gpu_matches_reference(option):
    assert_matches_reference(option)


@given(st.one_of(provisioned, gpus()), st.sampled_from(["api", "cheap"]))
@SETTINGS
def test_capacity_fallback_chain_matches_reference(first, last):
    """A capacity option spilling to another capacity option spilling to an API."""
    second = cs.SelfHostedGPU(gpu_hour_price=2.0, prefill_tokens_per_s=3e3, decode_tokens_per_s=300.0,
                              max_replicas=1, fallback=last)
    assert_matches_reference(dataclasses.replace(first, fallback=second))


@given(
    st.lists(st.floats(1e4, 1e8), min_size=1, max_size=3, unique=True).map(sorted),
    st.lists(amounts(1.5), min_size=3, max_size=3),
    st.sampled_from(["tokens", "spend"]),
    st.one_of(st.just("api"), provisioned),
)
@SETTINGS
def test_volume_discount_matches_reference(thresholds, multipliers, measure, base):
    if measure == "spend":
        thresholds = [t / 1e5 for t in thresholds]  # USD, not tokens: cross some within the month
    option = cs.VolumeDiscount(base, thresholds=thresholds, multipliers=multipliers[: len(thresholds)],
                               measure=measure)
    assert_matches_reference(option)


@given(amounts(3e3), st.one_of(st.just("cheap"), provisioned, gpus()))
@SETTINGS
def test_committed_spend_matches_reference(minimum, base):
    assert_matches_reference(cs.CommittedSpend(base, monthly_minimum=minimum))


@given(st.sampled_from(["api", "cheap"]), st.one_of(provisioned, gpus()), st.booleans())
@SETTINGS
def test_hybrid_matches_reference(default, capacity, route_both):
    routes = {"chat": capacity, "rag": capacity} if route_both else {"rag": capacity}
    assert_matches_reference(cs.Hybrid(routes, default=default))


def banded_demand(ref_out, trial, ds, per_request, edges):
    """A reference Demand whose columns are (class, prompt-size band) pairs, from the
    plain reference simulation's per-band sums."""
    d = ref.Demand.__new__(ref.Demand)
    n_bins, n_classes, n_bands = ref_out["band_requests"].shape[1:]
    d.n_bins, d.n_classes = n_bins, n_classes * n_bands
    d.classes = [str(c) for c in ds["qclass"].values for _ in range(n_bands)]
    d.band_floor = [floor for _ in range(n_classes) for floor in (-math.inf, *edges)]
    d.starts = [str(t) for t in ds["time"].values]
    d.bin_hours = 1.0

    def columns(a):
        return a.reshape(n_bins, n_classes * n_bands).tolist()

    d.requests = columns(ref_out["band_requests"][trial])
    d.input, d.cached = columns(ref_out["band_input_tokens"][trial]), columns(ref_out["band_cached_tokens"][trial])
    d.output = columns(ref_out["band_output_tokens"][trial])
    d.reasoning = columns(ref_out["band_reasoning_tokens"][trial])
    d.api_cost = {name: columns(ref_out["band_cost"][trial, :, o]) for o, name in enumerate(per_request)}
    return d


def test_prompt_routers_match_the_reference_band_by_band():
    """Routers of per-request and capacity options, alone and inside a Hybrid, priced
    from the kernel's per-band aggregates, equal a plain simulation that routes each
    query by its own prompt (tests/_reference.py) billed by the plain capacity reference."""
    from costsim.results import CostHistogram

    from .._reference import simulate_reference

    gpu = cs.SelfHostedGPU(gpu_hour_price=2.0, prefill_tokens_per_s=3e3, decode_tokens_per_s=30.0, max_replicas=1,
                           scale_lag="1h", fallback="api")
    ptu = cs.ProvisionedCapacity(units=1, price_per_unit_hour=3.0, tokens_per_minute=3e3, fallback="cheap")
    edges = (2_000, 6_000)
    per_request = {"api": API, "cheap": CHEAP}
    routed = {
        "router": cs.PromptRouter(edges, (gpu, "cheap", "api")),
        "nested": cs.Hybrid({"rag": cs.PromptRouter((6_000,), (ptu, "api"))}, default="cheap"),
        "tokens_only": cs.PromptRouter((2_000,), ("cheap", API)),
    }
    ds = cs.simulate(TRAFFIC, {**per_request, **routed}, trials=2, seed=9)
    out = simulate_reference(TRAFFIC, per_request, [0, 1], 9, CostHistogram.from_range((1e-7, 1e3), 16),
                             size_edges=edges)
    np.testing.assert_array_equal(out["band_requests"].sum(axis=3), ds["requests"].values)
    for t in range(2):
        d = banded_demand(out, t, ds, per_request, edges)
        ones = [[1.0] * d.n_classes for _ in range(d.n_bins)]
        for name, option in routed.items():
            cost, spill, throttled = (np.array(a).reshape(d.n_bins, -1, len(edges) + 1).sum(axis=2)
                                      for a in ref.bill(option, per_request, d, ones))
            got = ds.isel(trial=t).sel(option=name)
            np.testing.assert_allclose(got["cost"].values, cost, rtol=1e-12, atol=1e-12, err_msg=name)
            np.testing.assert_allclose(got["spill_cost"].values, spill, rtol=1e-12, atol=1e-12, err_msg=name)
    assert float(ds["spill_cost"].sel(option="router").sum()) > 0  # the GPU overflows in some bins
    assert not ds["per_request_cost"].sel(option="tokens_only")  # a router has no per-class histogram


# ---- analytic checks ------------------------------------------------------------------------------


def constant_traffic(volume, days=30, daily_profile=None):
    """Every query: 1,000 prompt tokens and 200 output tokens; Poisson arrivals."""
    return cs.Traffic([cs.QueryClass("q", 1.0, cs.Constant(1000), cs.Constant(200))],
                      cs.Arrivals(volume=volume, horizon=f"{days}D", bin="1h", daily_profile=daily_profile))


def test_provisioned_plus_spill_is_capacity_cost_plus_spilled_tokens_at_fallback_prices():
    fallback = cs.TokenPricing(input=2.0, output=8.0)
    ptu = cs.ProvisionedCapacity(units=3, price_per_unit_hour=4.0, tokens_per_minute=20_000, output_weight=3.0,
                                 fallback=fallback)
    day_and_night = [0.5] * 12 + [1.5] * 12
    ds = cs.simulate(constant_traffic(60_000, days=7, daily_profile=day_and_night), {"ptu": ptu}, trials=2, seed=1)
    n = ds["requests"].sum("qclass").values  # [trial, bin]
    load = n * (1000 + 3.0 * 200)  # weighted tokens per bin
    capacity = 3 * 20_000 * 60
    spilled = np.clip(load - capacity, 0, None) / np.where(load > 0, load, 1)  # fraction of each bin spilled
    spilled_tokens_cost = spilled * n * (1000 * 2.0 + 200 * 8.0) / 1e6
    expected = 3 * 4.0 * n.shape[1] + spilled_tokens_cost.sum(axis=1)
    assert (spilled > 0).any() and (spilled == 0).any()  # both regimes occur
    np.testing.assert_allclose(ds["cost"].sum(["time", "qclass"]).values[:, 0], expected, rtol=1e-12)
    np.testing.assert_allclose(ds["spill_cost"].sum(["time", "qclass"]).values[:, 0],
                               spilled_tokens_cost.sum(axis=1), rtol=1e-12)
    util = np.minimum(load, capacity) / capacity
    np.testing.assert_allclose(ds["utilisation"].values[:, :, 0], util, rtol=1e-12)
    np.testing.assert_allclose(ds["unused_capacity_cost"].values[:, :, 0], (1 - util) * 12.0, rtol=1e-12,
                               atol=1e-12)


def test_break_even_volume_api_vs_self_hosted_equals_closed_form():
    """Constant traffic: API cost is p per query, one always-on GPU costs G a day;
    the break-even volume is G / p queries a day.  Interpolating the simulated costs
    between volumes bracketing it gives it back within the Poisson noise of the
    request count (30 days at ~1e5 queries/day: relative SD ~ 6e-4; 4 SD = 0.25 %)."""
    api = cs.TokenPricing(input=3.0, output=15.0)
    gpu = cs.SelfHostedGPU(gpu_hour_price=4.0, prefill_tokens_per_s=1e6, decode_tokens_per_s=1e6,
                           min_replicas=1, max_replicas=1, fixed_monthly=3_000.0)
    p = (1000 * 3.0 + 200 * 15.0) / 1e6
    g = 24 * 4.0 + 3_000.0 * 24 / KC.HOURS_PER_MONTH
    closed_form = g / p
    volumes = np.array([0.8, 1.25]) * closed_form
    diffs = []
    for v in volumes:
        ds = cs.simulate(constant_traffic(v), {"api": api, "gpu": gpu}, trials=4, seed=3)
        total = ds.costsim.total()
        assert float(ds["throttled_requests"].sum()) == 0.0
        diffs.append((total.sel(option="api") - total.sel(option="gpu")).values)
    d0, d1 = diffs
    break_even = volumes[0] + (volumes[1] - volumes[0]) * (-d0) / (d1 - d0)  # per trial
    np.testing.assert_allclose(break_even, closed_form, rtol=2.5e-3)


def test_gpu_cost_steps_with_load_and_lag_delays_scale_up():
    traffic = cs.Traffic([cs.QueryClass("q", 1.0, cs.Constant(1000), cs.Constant(200))],
                         cs.Arrivals(volume=200_000, horizon="2D", bin="1h",
                                     daily_profile=[0.2] * 12 + [1.8] * 12))
    gpu = dict(gpu_hour_price=2.0, prefill_tokens_per_s=20_000, decode_tokens_per_s=400, max_replicas=50)
    ds = cs.simulate(traffic, {"now": cs.SelfHostedGPU(**gpu), "late": cs.SelfHostedGPU(**gpu, scale_lag="2h")},
                     trials=1, seed=2)
    units = ds["capacity_units"].isel(trial=0)
    now, late = units.sel(option="now").values, units.sel(option="late").values
    assert len(set(now)) >= 2  # steps with the profile
    np.testing.assert_array_equal(late[2:], now[:-2])
    assert np.isnan(ds["utilisation"].sel(option="now")).sum() == 0 and float(ds["utilisation"].max()) <= 1.0
    throttled = ds["throttled_requests"].isel(trial=0).sum("qclass")
    assert float(throttled.sel(option="now").sum()) == 0.0
    assert float(throttled.sel(option="late").isel(time=12)) > 0  # the ramp at noon is served late


# ---- the extension point ----------------------------------------------------------------------------


def test_custom_capacity_by_import_path_equals_the_builtin():
    ptu = cs.ProvisionedCapacity(units=2, price_per_unit_hour=3.0, tokens_per_minute=9_000, output_weight=2.0,
                                 fallback="api")
    params = [0.0] * 6
    params[KC.PROV_UNITS], params[KC.PROV_PRICE], params[KC.PROV_TPM] = 2, 3.0, 9_000
    params[KC.PROV_W_INPUT], params[KC.PROV_W_CACHED], params[KC.PROV_W_OUTPUT] = 1.0, 1.0, 2.0
    custom = cs.CustomCapacity("costsim.kernels._capacity:provisioned_capacity", params=params, fallback="api")
    ds = cs.simulate(TRAFFIC, {"api": API, "ptu": ptu, "custom": custom}, trials=2, seed=4)
    for var in ("cost", "spill_cost", "capacity_units", "unused_capacity_cost"):
        np.testing.assert_array_equal(ds[var].sel(option="ptu").values, ds[var].sel(option="custom").values)


@numba.njit
def _per_query_fee(demand, params, bin_hours, cost, served, units, utilisation):
    for b in range(demand.shape[0]):
        for c in range(demand.shape[1]):
            cost[b, c] = params[0] * demand[b, c, 0]
        served[b] = params[1]
        units[b] = 1.0
        utilisation[b] = 1.0


def test_custom_capacity_with_uncertain_params_and_partial_service():
    custom = cs.CustomCapacity(_per_query_fee, params=(cs.Uniform(0.001, 0.002), 0.75), fallback="api")
    ds = cs.simulate(TRAFFIC, {"api": API, "custom": custom}, trials=3, seed=5)
    fee = ds["uncertain"].sel(parameter="options['custom'].params[0]").values
    requests = ds["requests"].sum(["time", "qclass"]).values
    api = ds["cost"].sel(option="api").sum(["time", "qclass"]).values
    np.testing.assert_allclose(ds.costsim.total().sel(option="custom").values, fee * requests + 0.25 * api,
                               rtol=1e-12)


@numba.njit
def _bad_capacity(demand, params, bin_hours, cost, served, units, utilisation):
    cost[:] = 1.0
    served[:] = 1.5
    units[:] = 1.0
    utilisation[:] = 0.5


def test_custom_capacity_outputs_are_checked():
    with pytest.raises(ValueError, match=r"options\['x'\].*served outside \[0, 1\].*72 of 72"):
        cs.simulate(TRAFFIC, {"x": cs.CustomCapacity(_bad_capacity)}, trials=1, seed=1)


def test_custom_capacity_refuses_a_python_function():
    with pytest.raises(ValueError, match="CustomCapacity: function must be compiled with @numba.njit"):
        cs.CustomCapacity(lambda *a: None)
    with pytest.raises(ValueError, match="importable 'module:name'"):
        cs.CustomCapacity("costsim.nowhere:fn")


# ---- results ------------------------------------------------------------------------------------


def test_per_request_histograms_follow_routes():
    gpu = cs.SelfHostedGPU(gpu_hour_price=2.0, prefill_tokens_per_s=5e3, decode_tokens_per_s=1e3)
    ds = cs.simulate(TRAFFIC, {"api": API, "cheap": CHEAP, "split": cs.Hybrid({"chat": "cheap"}, default=API),
                               "gpu": gpu}, trials=1, seed=1)
    assert ds["per_request_cost"].values.tolist() == [True, True, True, False]
    split = ds["cost_hist"].sel(option="split")
    np.testing.assert_array_equal(split.sel(qclass="chat"), ds["cost_hist"].sel(option="cheap", qclass="chat"))
    np.testing.assert_array_equal(split.sel(qclass="rag"), ds["cost_hist"].sel(option="api", qclass="rag"))
    assert int(ds["cost_hist"].sel(option="gpu").sum()) == 0
    np.testing.assert_allclose(ds.costsim.total().sel(option="split"),
                               ds["cost"].sel(option="cheap", qclass="chat").sum("time")
                               + ds["cost"].sel(option="api", qclass="rag").sum("time"), rtol=1e-12)


def test_utilisation_of_a_chain_is_weighted_by_capacity_cost():
    """Two capacity models in a chain: utilisation is their capacity-cost-weighted mean;
    a per-request option has none (NaN)."""
    second = cs.ProvisionedCapacity(units=1, price_per_unit_hour=3.0, tokens_per_minute=2_000, fallback="api")
    first = cs.ProvisionedCapacity(units=1, price_per_unit_hour=1.0, tokens_per_minute=4_000, fallback=second)
    ds = cs.simulate(TRAFFIC, {"api": API, "alone": dataclasses.replace(second, fallback="api"), "chain": first},
                     trials=1, seed=3)
    u = ds["utilisation"].isel(trial=0)
    assert bool(u.sel(option="api").isnull().all())
    load = (ds["input_tokens"] + ds["output_tokens"] + ds["reasoning_tokens"]).isel(trial=0).sum("qclass").values
    u1 = np.minimum(load, 4_000 * 60) / (4_000 * 60)
    spilled = load - np.minimum(load, 4_000 * 60)
    u2 = np.minimum(spilled, 2_000 * 60) / (2_000 * 60)
    np.testing.assert_allclose(u.sel(option="chain").values, (1.0 * u1 + 3.0 * u2) / 4.0, rtol=1e-12)
    assert (u2 > 0).any()


def test_only_per_request_options_keep_the_core_schema():
    ds = cs.simulate(TRAFFIC, {"api": API}, trials=1, seed=1)
    assert "spill_cost" not in ds and bool(ds["per_request_cost"].all())


def test_capacity_results_round_trip_netcdf(tmp_path):
    ds = run(cs.ProvisionedCapacity(units=1, price_per_unit_hour=1.0, tokens_per_minute=5e3, fallback="api"))
    ds.to_netcdf(tmp_path / "r.nc", engine="h5netcdf")
    back = xr.load_dataset(tmp_path / "r.nc", engine="h5netcdf")
    xr.testing.assert_identical(back, ds)


# ---- bad input ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("make, match", [
    (lambda: cs.ProvisionedCapacity(units=1, price_per_unit_hour=1.0, tokens_per_minute=0.0),
     r"ProvisionedCapacity: tokens_per_minute must be >= 0.06; got 0.0"),
    (lambda: cs.ProvisionedCapacity(units=1, price_per_unit_hour=-1.0, tokens_per_minute=1.0),
     r"price_per_unit_hour must be >= 0; got -1.0"),
    (lambda: cs.ProvisionedCapacity(units=1, price_per_unit_hour=math.nan, tokens_per_minute=1.0),
     r"price_per_unit_hour"),
    (lambda: cs.SelfHostedGPU(gpu_hour_price=1.0, prefill_tokens_per_s=0.0, decode_tokens_per_s=1.0),
     r"prefill_tokens_per_s must be >= 0.001; got 0.0"),
    (lambda: cs.SelfHostedGPU(gpu_hour_price=1.0, prefill_tokens_per_s=1.0, decode_tokens_per_s=1.0,
                              min_replicas=3, max_replicas=2), r"max_replicas must be >= min_replicas \(3\); got 2"),
    (lambda: cs.SelfHostedGPU(gpu_hour_price=1.0, prefill_tokens_per_s=1.0, decode_tokens_per_s=1.0,
                              scale_lag="soon"), r"scale_lag must be a duration with a unit"),
    (lambda: cs.SelfHostedGPU(gpu_hour_price=1.0, prefill_tokens_per_s=1.0, decode_tokens_per_s=1.0,
                              target_utilisation=1.2), r"target_utilisation must be in \[0.001, 1\]; got 1.2"),
    (lambda: cs.VolumeDiscount("api", thresholds=(1e6, 1e6), multipliers=(0.9, 0.8)),
     r"thresholds must be strictly increasing"),
    (lambda: cs.VolumeDiscount("api", thresholds=(1e6,), multipliers=(-0.1,)), r"multipliers\[0\] must be >= 0"),
    (lambda: cs.VolumeDiscount("api", thresholds=(1e6, 2e6), multipliers=(0.9,)),
     r"multipliers must have one entry per threshold \(2\)"),
    (lambda: cs.VolumeDiscount("api", thresholds=(1e6,), multipliers=(0.9,), measure="requests"),
     r"measure must be 'tokens' or 'spend'; got 'requests'"),
    (lambda: cs.CommittedSpend("api", monthly_minimum=-5.0), r"monthly_minimum must be >= 0; got -5.0"),
    (lambda: cs.Hybrid({}), r"routes must route at least one class"),
    (lambda: cs.PromptRouter((8_000, 4_000), ("api", "api", "api")), r"thresholds must be strictly increasing"),
    (lambda: cs.PromptRouter((8_000,), ("api",)), r"options must have one more entry than thresholds \(2\); got 1"),
    (lambda: cs.PromptRouter((-1,), ("api", "api")), r"thresholds\[0\] must be an integer >= 0"),
    (lambda: cs.Hybrid({"chat": 3}), r"routes\['chat'\] must be a pricing option or the name of another option"),
    (lambda: cs.ProvisionedCapacity(units=1, price_per_unit_hour=1.0, tokens_per_minute=1.0, fallback=2.0),
     r"fallback must be a pricing option, the name of another option, or None"),
])
def test_bad_parameters_raise_naming_the_field(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_fallback_cycle_is_refused():
    gpu = cs.SelfHostedGPU(gpu_hour_price=1.0, prefill_tokens_per_s=1e3, decode_tokens_per_s=1e3, fallback="ptu")
    ptu = cs.ProvisionedCapacity(units=1, price_per_unit_hour=1.0, tokens_per_minute=1e3, fallback="gpu")
    with pytest.raises(ValueError, match=r"options\['ptu'\]\.fallback: the options refer to each other in a cycle: "
                                         r"gpu -> ptu -> gpu"):
        cs.simulate(TRAFFIC, {"gpu": gpu, "ptu": ptu}, trials=1, seed=1)


@pytest.mark.parametrize("options, match", [
    ({"x": cs.Hybrid({"chat": "nowhere"}, default="api"), "api": API},
     r"options\['x'\]\.routes\['chat'\] refers to option 'nowhere', which is not among the options"),
    ({"x": cs.Hybrid({"chatt": API}, default=API)}, r"routes names query classes \['chatt'\] that the traffic"),
    ({"x": cs.Hybrid({"chat": API})}, r"options\['x'\] has no route for query classes \['rag'\] and no default"),
])
def test_bad_references_are_refused(options, match):
    with pytest.raises(ValueError, match=match):
        cs.simulate(TRAFFIC, options, trials=1, seed=1)


def test_service_tier_is_checked_only_for_the_classes_a_model_serves():
    batch = cs.TokenPricing(input=1.5, output=7.5)
    tiers = cs.TokenPricing(input=3.0, output=15.0, service_tiers={"batch": cs.RateCard(input=1.5, output=7.5)})
    traffic = cs.Traffic([cs.QueryClass("chat", 1.0, cs.Constant(100), cs.Constant(10)),
                          cs.QueryClass("jobs", 1.0, cs.Constant(100), cs.Constant(10), service_tier="batch")],
                         cs.Arrivals(volume=100, horizon="1D", bin="1h"))
    ds = cs.simulate(traffic, {"x": cs.Hybrid({"chat": batch}, default=tiers)}, trials=1, seed=1)
    assert float(ds["cost"].sum()) > 0
    with pytest.raises(ValueError, match=r"options\['x'\]\.routes\['jobs'\] cannot price QueryClass 'jobs'"):
        cs.simulate(traffic, {"x": cs.Hybrid({"jobs": batch}, default=tiers)}, trials=1, seed=1)


@pytest.mark.parametrize("lag", [3600, 3600.0, "3600", "1", 0, True, "500ms", np.timedelta64(3600, "ns")])
def test_scale_lag_without_a_unit_is_refused(lag):
    # pandas reads a bare number as nanoseconds: scale_lag=3600 (meant as seconds) was a lag of one bin
    # whatever the bin, 15 minutes in 15-minute bins instead of four bins
    with pytest.raises(cs.ParameterError, match=r"SelfHostedGPU: scale_lag must be a duration with a unit such as "
                                                r"'0h' or '15min', zero or at least 1 s; got"):
        cs.SelfHostedGPU(gpu_hour_price=1.0, prefill_tokens_per_s=1.0, decode_tokens_per_s=1.0, scale_lag=lag)


@pytest.mark.parametrize("lag, bins", [("0h", 0), ("1s", 1), (np.timedelta64(1, "h"), 4), (pd.Timedelta("45min"), 3),
                                       ("1h", 4)])
def test_scale_lag_with_a_unit_is_whole_bins_rounded_up(lag, bins):
    gpu = cs.SelfHostedGPU(gpu_hour_price=1.0, prefill_tokens_per_s=1.0, decode_tokens_per_s=1.0, scale_lag=lag)
    assert gpu._capacity(pd.Timedelta("15min"))[1][KC.GPU_LAG] == bins


@numba.njit
def _three_arguments(demand, params, bin_hours):  # pragma: no cover - never called
    pass


def test_a_capacity_function_of_another_signature_is_refused_at_construction():
    # numba refused the call only after the whole simulation ran: "too many arguments: expected 3, got 7"
    with pytest.raises(cs.ParameterError, match=r"CustomCapacity: function must take the 7 arguments \(demand, "
                                                r"params, bin_hours, cost, served, units, utilisation\)"):
        cs.CustomCapacity(_three_arguments)


def test_scale_to_zero_pool_starts_a_replica_for_a_tiny_load():
    """3 one-token queries in a day bin want 1e-10 replicas: a scale-to-zero pool runs one (an absolute
    rounding slack of 1e-9 made it want none and throttle them all)."""
    gpu = cs.SelfHostedGPU(gpu_hour_price=2.0, prefill_tokens_per_s=1e5, decode_tokens_per_s=1e5, min_replicas=0)
    traffic = cs.Traffic([cs.QueryClass("chat", 1.0, cs.Constant(1), cs.Constant(1))],
                         cs.Arrivals(volume=3, horizon="2D", bin="1D"))
    ds = cs.simulate(traffic, {"gpu": gpu}, trials=1, seed=1)
    busy = ds["requests"].sum("qclass").values[0] > 0
    assert busy.any()
    assert float(ds["throttled_requests"].sum()) == 0.0
    np.testing.assert_array_equal(ds["capacity_units"].sel(option="gpu").values[0][busy], 1.0)
    assert float(ds["cost"].sum()) == pytest.approx(2.0 * 24 * busy.sum())
