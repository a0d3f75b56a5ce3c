"""The result Dataset: schema, attrs, netCDF round trip, the ``ds.costsim`` accessor."""

import json
import math
import re
from html import escape

import numpy as np
import pytest
import xarray as xr

import costsim as cs
from costsim.results import CostHistogram, scenario_text

TRIALS = 6


def _traffic():
    chat = cs.QueryClass(
        "chat", 0.7,
        input_tokens=cs.LogNormal.from_median_p90(800, 3_000),
        output_tokens=cs.Capped(cs.LogNormal.from_median_p90(250, 900), 4_096),
        cached_fraction=cs.Beta(2.0, 5.0),
    )
    agent = cs.QueryClass(
        "agent", 0.3,
        input_tokens=cs.LogNormal.from_median_p90(3_000, 12_000),
        output_tokens=cs.LogNormal.from_median_p90(300, 1_200),
        cached_fraction=0.5,
        steps=cs.Geometric(0.3),
        tool_tokens=cs.LogNormal.from_median_p90(500, 3_000),
    )
    idle = cs.QueryClass("idle", 0.0, cs.LogNormal(6.0, 1.0), cs.LogNormal(5.0, 1.0))  # never arrives
    arrivals = cs.Arrivals(volume=4_000, horizon="12h", bin="1h", growth=cs.Uniform(0.0, 0.3),
                           overdispersion=0.2, daily_profile=tuple(range(1, 25)))
    return cs.Traffic((chat, agent, idle), arrivals)


def _options():
    return {
        "tiered": cs.TokenPricing(3.0, 15.0, 0.3, long_context=[cs.LongContextTier(10_000, 6.0, 22.5, 0.6)]),
        "flat": cs.TokenPricing(input=cs.Uniform(0.3, 0.5), output=1.6),
    }


@pytest.fixture(scope="module")
def ds():
    return cs.simulate(_traffic(), _options(), trials=TRIALS, seed=42)


def test_schema_dims_and_coords(ds):
    assert ds["cost"].dims == ("trial", "time", "option", "qclass")
    for name in ("requests", "calls", "input_tokens", "cached_tokens", "output_tokens"):
        assert ds[name].dims == ("trial", "time", "qclass")
        assert ds[name].dtype == np.int64
    assert ds["cost_hist"].dims == ("trial", "option", "qclass", "cost_bin")
    assert ds["uncertain"].dims == ("trial", "parameter")
    assert ds["trial"].values.tolist() == list(range(TRIALS))
    assert ds["option"].values.tolist() == ["tiered", "flat"]
    assert ds["qclass"].values.tolist() == ["chat", "agent", "idle"]
    assert sorted(ds["parameter"].values.tolist()) == ["options['flat'].input", "traffic.arrivals.growth"]
    expected_time = np.datetime64("2026-01-05T00:00", "ns") + np.arange(12) * np.timedelta64(1, "h")
    np.testing.assert_array_equal(ds["time"].values, expected_time)
    # a few thousand queries per trial: small, but enough to be non-trivial
    per_trial = ds["requests"].sum(("time", "qclass")).values
    assert np.all(per_trial > 500) and np.all(per_trial < 10_000)
    assert int(ds["requests"].sel(qclass="idle").sum()) == 0


def test_every_variable_has_units_and_long_name(ds):
    for name, var in ds.data_vars.items():
        assert var.attrs.get("units"), name
        assert var.attrs.get("long_name"), name
    assert ds["cost"].attrs["units"] == "USD"
    for name in ("cost_lower", "cost_upper"):
        assert ds[name].attrs["units"] == "USD"
    for name in ("trial", "time", "option", "qclass"):
        assert ds[name].attrs.get("long_name"), name


def test_attrs_reproduce_the_run(ds):
    assert ds.attrs["seed"] == 42
    assert ds.attrs["costsim_version"] == cs.__version__
    scenario = cs.from_dict(json.loads(scenario_text(ds)))
    assert scenario["traffic"] == _traffic()
    assert scenario["options"] == _options()
    assert scenario["seed"] == 42
    assert scenario["trials"] == list(range(TRIALS))
    again = cs.simulate(scenario["traffic"], scenario["options"], trials=scenario["trials"], seed=scenario["seed"])
    xr.testing.assert_identical(again, ds)


def _shown_html(ds: xr.Dataset) -> str:
    """What a notebook shows of ``ds`` (xarray's HTML repr) before any click: without the
    attributes and data of each variable (collapsed behind its two icons), element ids
    made equal."""
    html = re.sub(r"<div class='xr-var-(attrs|data)'>.*?</div>", "", ds._repr_html_(), flags=re.DOTALL)
    return re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "ID", html)


def test_a_notebook_shows_the_result_without_its_scenario(ds):
    """The scenario (kilobytes of JSON) lives on the trial coordinate, not in the Dataset's
    attrs that a notebook shows in full: what one sees of ``ds`` is exactly what one sees of
    the same result without a scenario (no line, no character more), and one click on the
    trial coordinate's attributes icon shows it."""
    text = scenario_text(ds)
    assert len(text) > 1_000 and "scenario" not in ds.attrs
    bare = ds.copy()
    bare["trial"].attrs = {k: v for k, v in ds["trial"].attrs.items() if k != "scenario"}
    assert scenario_text(bare) is None and scenario_text(ds) == text  # a copy: ds keeps it
    shown = _shown_html(ds)
    assert shown == _shown_html(bare)
    assert '"traffic"' not in shown and "&quot;traffic&quot;" not in shown
    html = ds._repr_html_()
    trial = html[html.index("<div class='xr-var-name'><span class='xr-has-index'>trial</span>"):]
    trial = trial[:trial.index("</li>")]
    assert escape(text) in trial and "checked" not in trial  # in trial's attributes, collapsed
    assert scenario_text(ds["cost"].to_dataset()) == text  # a variable taken out keeps it


def test_uncertain_records_the_draws(ds):
    growth = ds["uncertain"].sel(parameter="traffic.arrivals.growth").values
    price = ds["uncertain"].sel(parameter="options['flat'].input").values
    assert np.all((growth >= 0.0) & (growth <= 0.3)) and np.unique(growth).size == TRIALS
    assert np.all((price >= 0.3) & (price <= 0.5)) and np.unique(price).size == TRIALS
    # the flat option is linear in its rates: cost = (input * uncached + cached rate * cached + ...)/1e6,
    # with cached_input None -> input rate, so cost = (input * all prompt + 1.6 * output) / 1e6
    totals = ds[["input_tokens", "output_tokens"]].sum(("time", "qclass"))
    expected = (price * totals["input_tokens"].values + 1.6 * totals["output_tokens"].values) / 1e6
    np.testing.assert_allclose(ds.costsim.total().sel(option="flat").values, expected, rtol=1e-9)


def test_netcdf_round_trip_is_identical(ds, tmp_path):
    path = tmp_path / "result.nc"
    ds.to_netcdf(path)
    with xr.open_dataset(path) as back:
        back.load()
        xr.testing.assert_identical(back, ds)
        assert back.attrs == ds.attrs
        for name in ds.variables:
            kinds = {back[name].dtype.kind, ds[name].dtype.kind}
            assert len(kinds) == 1 or kinds == {"O", "U"}, name  # strings may come back as either
            assert back[name].attrs == ds[name].attrs, name
        assert np.isinf(back["cost_upper"].values[-1])


def test_total_matches_numpy(ds):
    cost = ds["cost"].values  # trial, time, option, qclass
    total = ds.costsim.total()
    assert total.dims == ("trial", "option")
    np.testing.assert_allclose(total.values, cost.sum(axis=(1, 3)), rtol=1e-12)
    assert total.attrs["units"] == "USD"
    assert total.attrs["long_name"] == "Total cost"
    by_class = ds.costsim.total(dim="time")
    assert by_class.dims == ("trial", "option", "qclass")
    np.testing.assert_allclose(by_class.values, cost.sum(axis=1), rtol=1e-12)
    requests = ds.costsim.total("requests")
    assert requests.dims == ("trial",)
    np.testing.assert_array_equal(requests.values, ds["requests"].values.sum(axis=(1, 2)))
    assert requests.attrs["units"] == "queries"


@pytest.mark.parametrize("cumulative", [False, True])
def test_bands_match_numpy_quantiles(ds, cumulative):
    q = (0.05, 0.5, 0.95)
    bands = ds.costsim.bands(q=q, cumulative=cumulative)
    assert bands.dims == ("quantile", "time", "option")
    np.testing.assert_array_equal(bands["quantile"].values, q)
    per_bin = ds["cost"].values.sum(axis=3)  # trial, time, option
    series = np.cumsum(per_bin, axis=1) if cumulative else per_bin
    np.testing.assert_allclose(bands.values, np.quantile(series, q, axis=0), rtol=1e-12)
    assert bands.attrs["units"] == "USD"
    assert bands.attrs["long_name"].startswith("Cumulative" if cumulative else "Cost")
    lo, mid, hi = bands.values
    assert np.all(lo <= mid) and np.all(mid <= hi)
    if cumulative:
        assert np.all(np.diff(bands.values, axis=1) >= 0)  # non-decreasing over time
        # the last cumulative band is the band of the horizon total
        np.testing.assert_allclose(
            bands.isel(time=-1).values, np.quantile(ds.costsim.total().values, q, axis=0), rtol=1e-12)


def test_bands_of_one_class_and_of_tokens(ds):
    one = ds.costsim.bands(q=[0.5], over=(), dim="trial")
    assert one.dims == ("quantile", "time", "option", "qclass")
    np.testing.assert_allclose(one.values[0], np.median(ds["cost"].values, axis=0), rtol=1e-12)
    tokens = ds.costsim.bands(q=[0.25, 0.75], var="output_tokens")
    assert tokens.dims == ("quantile", "time")
    assert tokens.attrs["units"] == "tokens"


@pytest.mark.parametrize("q", [(), (0.5, 1.5), (-0.1,), (float("nan"),)])
def test_bands_reject_bad_quantiles(ds, q):
    with pytest.raises(ValueError, match="q must be quantiles in \\[0, 1\\]"):
        ds.costsim.bands(q=q)


@pytest.mark.parametrize("q", [(), (0.5, 1.5), "abc", [[0.5]]])
def test_summary_rejects_bad_quantiles(ds, q):
    # it reached xarray's quantile (numpy's "Quantiles must be in the range [0, 1]", naming no argument)
    with pytest.raises(ValueError, match="^q must be quantiles in \\[0, 1\\]; got "):
        ds.costsim.summary(q)


def test_unit_cost_per_query(ds):
    cost = ds["cost"].values.sum(axis=1)  # trial, option, qclass
    requests = ds["requests"].values.sum(axis=1)  # trial, qclass
    by_class = ds.costsim.unit_cost()
    assert by_class.dims == ("trial", "option", "qclass")
    assert by_class.attrs["units"] == "USD/query"
    live = slice(0, 2)  # chat, agent
    np.testing.assert_allclose(
        by_class.values[..., live], cost[..., live] / requests[:, None, live], rtol=1e-12)
    # a class that never arrived has no unit cost (NaN), not inf or 0
    assert np.all(np.isnan(by_class.sel(qclass="idle").values))
    pooled = ds.costsim.unit_cost(by=None)
    assert pooled.dims == ("trial", "option")
    np.testing.assert_allclose(pooled.values, cost.sum(axis=2) / requests.sum(axis=1)[:, None], rtol=1e-12)
    # agents (several calls, a growing context) cost more per query than chat under every option
    assert np.all(by_class.sel(qclass="agent") > by_class.sel(qclass="chat"))


def test_unit_cost_per_1k_tokens(ds):
    cost = ds["cost"].values.sum(axis=1)
    tokens = (ds["input_tokens"].values + ds["output_tokens"].values).sum(axis=1)  # trial, qclass
    by_class = ds.costsim.unit_cost(per="1k_tokens")
    assert by_class.attrs["units"] == "USD/1k tokens"
    np.testing.assert_allclose(
        by_class.values[..., :2], cost[..., :2] / (tokens[:, None, :2] / 1000.0), rtol=1e-12)
    pooled = ds.costsim.unit_cost(by=None, per="1k_tokens")
    np.testing.assert_allclose(pooled.values, cost.sum(axis=2) / (tokens.sum(axis=1)[:, None] / 1000.0), rtol=1e-12)
    # the flat option without a cache discount: between its output and input rate per 1k tokens
    flat = pooled.sel(option="flat").values
    price = ds["uncertain"].sel(parameter="options['flat'].input").values
    assert np.all(flat >= price / 1000.0) and np.all(flat <= 1.6 / 1000.0)


def test_unit_cost_rejects_unknown_denominator(ds):
    with pytest.raises(ValueError, match="per must be 'query' or '1k_tokens'; got 'token'"):
        ds.costsim.unit_cost(per="token")


def test_cost_histogram_counts_every_query_and_brackets_the_cost(ds):
    hist = ds["cost_hist"]
    per_class = ds["requests"].sum("time")
    for option in ds["option"].values:
        np.testing.assert_array_equal(hist.sel(option=option).sum("cost_bin").values, per_class.values)
    # every query's cost lies in its bin: sum(count * lower) <= total <= sum(count * upper)
    total = ds["cost"].sum("time")
    lower = (hist * ds["cost_lower"]).sum("cost_bin")
    assert np.all(hist.isel(cost_bin=-1) == 0)  # no overflow, so the upper bound is finite
    upper = (hist * ds["cost_upper"].where(np.isfinite(ds["cost_upper"]), 0.0)).sum("cost_bin")
    assert np.all(lower <= total * (1 + 1e-12))
    assert np.all(total <= upper * (1 + 1e-12))
    # 16 bins an octave: each bin is at most 2**(1/16) wide, so the bounds are tight
    live = per_class.sum("trial") > 0
    ratio = (upper / lower).where(live.broadcast_like(upper))
    assert float(ratio.max()) < 2 ** (1 / 16) * 1.05


class TestCostHistogram:
    def test_edges_from_range(self):
        h = CostHistogram.from_range((1e-3, 1.0), 4)
        assert (h.lo_exp, h.octaves, h.per_octave) == (-9, 10, 4)
        assert h.n_bins == 42 == h.lower.size == h.upper.size
        assert h.lower[0] == 0.0 and h.lower[1] == 2.0**-10 <= 1e-3
        assert h.upper[-2] == 1.0 and np.isinf(h.upper[-1])
        np.testing.assert_array_equal(h.lower[1:], h.upper[:-1])  # contiguous
        inner = h.lower[1:]
        # 4 equal-width bins per octave: edges 2**e * (1, 1.25, 1.5, 1.75)
        octave_start = inner[::4]
        np.testing.assert_array_equal(octave_start, 2.0 ** np.arange(-10, 1))
        widths = np.diff(inner).reshape(10, 4)
        np.testing.assert_array_equal(widths, np.repeat(octave_start[:-1, None] / 4, 4, axis=1))

    def test_edges_are_exact_binary_fractions(self):
        h = CostHistogram.from_range((1e-7, 1e3), 16)
        mantissa, _ = np.frexp(h.lower[1:])
        # 17 distinct mantissas in [0.5, 1): 0.5 * (1 + j/16); exactly representable
        np.testing.assert_array_equal(np.unique(mantissa), 0.5 * (1 + np.arange(16) / 16))
        assert h.lower[1] <= 1e-7 < h.lower[2] * 2
        assert h.upper[-2] >= 1e3 and h.upper[-2] / 2 < 1e3

    def test_range_that_is_not_a_power_of_two_is_widened_outwards(self):
        h = CostHistogram.from_range((0.003, 0.7), 1)
        assert h.lower[1] == 2.0**-9  # 0.00195 <= 0.003
        assert h.upper[-2] == 1.0  # >= 0.7
        assert h.n_bins == 9 + 2

    @pytest.mark.parametrize(
        "cost_range, per_octave, message",
        [
            ((1e-3, 1.0), 3, "hist_bins_per_octave must be a power of two; got 3"),
            ((1e-3, 1.0), 0, "hist_bins_per_octave must be in \\[1, 256\\]; got 0"),
            ((0.0, 1.0), 4, "hist_range\\[0\\] must be > 0; got 0.0"),
            ((1.0, 1.0), 4, "hist_range\\[1\\] must be > 1; got 1.0"),
            ((1.0,), 4, "hist_range must be a pair \\(low, high\\); got \\(1.0,\\)"),
        ],
    )
    def test_rejects(self, cost_range, per_octave, message):
        with pytest.raises(cs.ParameterError, match=message):
            CostHistogram.from_range(cost_range, per_octave)


def test_cost_histogram_is_plumbed_from_simulate():
    traffic = cs.Traffic(cs.QueryClass("c", 1.0, cs.Constant(1_000.0), cs.Constant(100.0)),
                         cs.Arrivals(volume=240, horizon="2h", bin="1h"))
    # every query costs exactly (1000 * 3 + 100 * 15) / 1e6 = 0.0045 USD
    ds = cs.simulate(traffic, {"api": cs.TokenPricing(3.0, 15.0)}, trials=2, seed=0,
                     hist_range=(1e-3, 1e-2), hist_bins_per_octave=2)
    assert ds.attrs["hist_bins_per_octave"] == 2
    lower, upper = ds["cost_lower"].values, ds["cost_upper"].values
    hit = np.flatnonzero(ds["cost_hist"].sum(("trial", "option", "qclass")).values)
    assert hit.size == 1
    assert lower[hit[0]] <= 0.0045 < upper[hit[0]]
    assert math.isclose(float(ds["cost"].sum()), 0.0045 * int(ds["requests"].sum()), rel_tol=1e-12)


def test_cost_per_1k_tokens_counts_the_reasoning_tokens_billed():
    # reasoning tokens are billed (at the output or reasoning rate) but were left out of the
    # denominator: 1,000 prompt + 200 output + 5,000 reasoning tokens read as 1.2k tokens, 5x too dear
    reasoner = cs.QueryClass("reasoner", share=1.0, input_tokens=cs.Constant(1000), output_tokens=cs.Constant(200),
                             reasoning_tokens=cs.Constant(5000))
    traffic = cs.Traffic([reasoner], cs.Arrivals(volume=500, horizon="1D", bin="6h"))
    ds = cs.simulate(traffic, {"api": cs.TokenPricing(input=1.0, output=10.0)}, trials=2, seed=1, progress=False)
    per_call = (1000 * 1.0 + (200 + 5000) * 10.0) / 1e6  # USD
    expected = per_call / 6.2  # USD per 1,000 of the 6,200 tokens billed
    np.testing.assert_allclose(ds.costsim.unit_cost(per="1k_tokens").values, expected, rtol=1e-12)
    np.testing.assert_allclose(ds.costsim.unit_cost(by=None, per="1k_tokens").values, expected, rtol=1e-12)


def test_unit_cost_by_time_and_unknown_dims(ds):
    # by="time" raised xarray's "must be a permuted list of ('trial', 'time', 'option')"; an unknown
    # by= pooled everything and an unknown total(dim=...) summed nothing, silently
    per_bin = ds.costsim.unit_cost(by="time")
    assert per_bin.dims == ("trial", "option", "time")
    cost, requests = ds["cost"].sum("qclass"), ds["requests"].sum("qclass")
    np.testing.assert_allclose(per_bin.values, (cost / requests.where(requests > 0)).transpose(
        "trial", "option", "time").values, rtol=1e-12)
    with pytest.raises(ValueError, match=r"by must be None or a dim of cost other than trial and option "
                                         r"\['time', 'qclass'\]; got 'class'"):
        ds.costsim.unit_cost(by="class")
    with pytest.raises(ValueError, match=r"dim must name dims of the result .*; got unknown \['times'\]"):
        ds.costsim.total(dim=["times", "qclass"])
    assert ds.costsim.total("clipped_draws").dims == ("trial",)  # no time dim: summed over the classes
    one_class = ds.sel(qclass="chat")  # no qclass dim left: the default dims still work
    np.testing.assert_allclose(one_class.costsim.total().values, ds["cost"].sel(qclass="chat").sum("time").values)
    np.testing.assert_allclose(one_class.costsim.unit_cost().values,
                               ds.costsim.unit_cost().sel(qclass="chat").values, rtol=1e-12)
