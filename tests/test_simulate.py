"""simulate(): agreement with the reference, analytic moments, validation."""

import dataclasses
import math

import numpy as np
import pytest
from scipy import stats

import costsim as cs
from _reference import simulate_reference
from costsim.kernels._threads import compiled_features
from costsim.results import CostHistogram


def _small_traffic(overdispersion=0.3, growth=0.05):
    agent = cs.QueryClass(
        "agent", 0.3,
        input_tokens=cs.LogNormal.from_median_p90(3_000, 12_000),
        output_tokens=cs.Capped(cs.LogNormal.from_median_p90(300, 1_500), 2_000),
        cached_fraction=cs.Beta(5.0, 2.0),
        steps=cs.Geometric(0.3),
        tool_tokens=cs.LogNormal.from_median_p90(500, 3_000),
    )
    chat = cs.QueryClass(
        "chat", 0.7,
        input_tokens=cs.Mixture((cs.LogNormal(6.0, 0.8), cs.Pareto(2_000.0, 1.5)), (0.9, 0.1)),
        output_tokens=cs.LogNormal(5.0, 0.7),
        cached_fraction=0.25,
    )
    arrivals = cs.Arrivals(volume=2_000, horizon="12h", bin="1h", growth=growth,
                           overdispersion=overdispersion, daily_profile=tuple(range(1, 25)))
    return cs.Traffic((chat, agent), arrivals)


def _options():
    return {
        "tiered": cs.TokenPricing(3.0, 15.0, 0.3, long_context=[
            cs.LongContextTier(5_000, 6.0, 22.5, 0.6), cs.LongContextTier(20_000, 9.0, 30.0)]),
        "flat": cs.TokenPricing(0.4, 1.6),
    }


@pytest.mark.parametrize("overdispersion", [0.0, 0.3])
def test_kernel_equals_reference_exactly(overdispersion):
    traffic = _small_traffic(overdispersion)
    ds = cs.simulate(traffic, _options(), trials=3, seed=11, hist_bins_per_octave=8)
    ref = simulate_reference(traffic, _options(), [0, 1, 2], 11, CostHistogram.from_range((1e-7, 1e3), 8))
    assert int(ds["requests"].sum()) > 300
    assert int(ds["calls"].sum()) > int(ds["requests"].sum())  # agents made several calls
    for name in ("requests", "calls", "input_tokens", "output_tokens", "cached_tokens", "cost"):
        np.testing.assert_array_equal(ds[name].values, ref[name], err_msg=name)
    np.testing.assert_array_equal(ds["cost_hist"].values, ref["hist"])
    # every query lands in exactly one histogram bin per option
    per_option = ds["cost_hist"].sum("cost_bin")
    np.testing.assert_array_equal(per_option.isel(option=0), ds["requests"].sum("time"))


def test_kernel_equals_reference_with_every_per_token_feature():
    """Service tiers, off-peak hours, cache writes (5 min and 1 h), reasoning tokens,
    tool-call fees, a multiplier and a minimum charge, for single-call and agent classes."""
    base = _small_traffic()
    chat, agent = base.classes
    chat = dataclasses.replace(chat, cached_fraction=0.2, cache_write_fraction=cs.Uniform(0.0, 0.5),
                               reasoning_tokens=cs.LogNormal(4.0, 1.0), tool_calls=cs.Geometric(0.5))
    agent = dataclasses.replace(agent, cache_write_fraction=0.1, cache_write_ttl="1h", service_tier="batch")
    traffic = cs.Traffic((chat, agent), base.arrivals)
    card = dict(cached_input=0.3, cache_write=3.75, cache_write_1h=6.0, reasoning=20.0)
    rich = cs.TokenPricing(
        3.0, 15.0, long_context=[cs.LongContextTier(5_000, 6.0, 22.5, 0.6, 7.5, 12.0, 30.0)], **card,
        service_tiers={"batch": cs.RateCard(1.5, 7.5, 0.15, long_context=[cs.LongContextTier(5_000, 3.0, 11.0)])},
        off_peak=cs.OffPeak([cs.OffPeakWindow((1, 2, 3, 4, 5), "02:00", "06:00")], cs.RateCard(1.0, 5.0)),
        multiplier=1.1, fee_per_request=0.0005, fee_per_tool_call=0.01, minimum_charge=0.002,
    )
    plain = cs.TokenPricing(0.4, 1.6, service_tiers={"batch": cs.RateCard(0.2, 0.8)})
    options = {"rich": rich, "plain": plain}
    ds = cs.simulate(traffic, options, trials=2, seed=21)
    ref = simulate_reference(traffic, options, [0, 1], 21, CostHistogram.from_range((1e-7, 1e3), 16))
    for name in ("requests", "calls", "input_tokens", "cached_tokens", "cache_write_tokens", "output_tokens",
                 "reasoning_tokens", "tool_calls", "cost"):
        np.testing.assert_array_equal(ds[name].values, ref[name], err_msg=name)
    np.testing.assert_array_equal(ds["cost_hist"].values, ref["hist"])
    assert ds["cache_write_tokens"].sum() > 0 and ds["reasoning_tokens"].sum() > 0 and ds["tool_calls"].sum() > 0
    # the off-peak window (Mon 02:00-06:00 UTC) is inside the 12 simulated hours and is cheaper
    hourly = ds["cost"].sel(option="rich", qclass="chat").sum("trial") / ds["requests"].sel(qclass="chat").sum("trial")
    assert float(hourly.isel(time=slice(2, 6)).mean()) < 0.8 * float(hourly.isel(time=slice(7, 12)).mean())


def test_lognormal_mixtures_equal_the_reference():
    """Mixtures of (capped) lognormals take the kernel's block path (picks from their own
    stream): per-query columns of a single-call class, per-call columns of an agent."""
    base = _small_traffic()
    chat = dataclasses.replace(
        base.classes[0],
        input_tokens=cs.Capped(cs.Mixture((cs.LogNormal(6.2, 0.8), cs.Capped(cs.LogNormal(9.5, 1.0), 40_000.0)),
                                          (0.8, 0.2)), 30_000.0),
        output_tokens=cs.Mixture((cs.LogNormal(5.0, 0.5), cs.LogNormal(6.5, 0.7), cs.LogNormal(3.0, 0.3)),
                                 (0.5, 0.3, 0.2)),
    )
    agent = dataclasses.replace(
        base.classes[1],
        output_tokens=cs.Mixture((cs.LogNormal(5.5, 0.6), cs.LogNormal(7.0, 0.5)), (0.7, 0.3)),
        tool_tokens=cs.Mixture((cs.LogNormal(5.0, 1.0), cs.LogNormal(8.0, 0.8)), (0.6, 0.4)),
    )
    traffic = cs.Traffic((chat, agent), base.arrivals)
    ds = cs.simulate(traffic, _options(), trials=2, seed=8)
    ref = simulate_reference(traffic, _options(), [0, 1], 8, CostHistogram.from_range((1e-7, 1e3), 16))
    assert int(ds["requests"].sum()) > 300 and int(ds["calls"].sum()) > int(ds["requests"].sum())
    for name in ("requests", "calls", "input_tokens", "output_tokens", "cached_tokens", "cost"):
        np.testing.assert_array_equal(ds[name].values, ref[name], err_msg=name)
    np.testing.assert_array_equal(ds["cost_hist"].values, ref["hist"])
    assert ds.attrs["random_layout"] == cs.kernels.RANDOM_LAYOUT == 2


def test_spliced_tails_and_mixtures_of_one_output_leaves_equal_the_reference():
    """Mixtures whose leaves draw at most one output each (a fitted column's truncated
    body and generalized Pareto tail under a limit, nested mixtures with caps and
    constants) take the kernel's compact-tree path in every kind of column; a mixture
    with a lognormal leaf beside them keeps the one-draw-at-a-time path."""
    from costsim.calibrate.tails import Tail, splice

    base = _small_traffic()
    body = cs.Mixture((cs.LogNormal(6.0, 0.8), cs.LogNormal(8.0, 1.2)), (0.7, 0.3))
    chat = dataclasses.replace(
        base.classes[0],
        input_tokens=cs.Capped(splice(body, Tail(3000, 0.03, 900.0, 0.25, 400, 0.01)), 32_768.0),
        output_tokens=cs.Capped(splice(cs.LogNormal(5.0, 0.6), Tail(400, 0.05, 90.0, 0.1, 400, 0.01)), 4_096.0),
        cache_write_fraction=cs.Mixture((cs.Constant(0.0), cs.Uniform(0.0, 0.5)), (0.5, 0.5)),
        tool_calls=cs.Mixture((cs.Constant(0.0), cs.Geometric(0.5), cs.LogNormal(0.0, 0.5)), (0.5, 0.3, 0.2)),
    )
    agent = dataclasses.replace(
        base.classes[1],
        steps=cs.Mixture((cs.Constant(1.0), cs.Capped(cs.Geometric(0.3), 6.0)), (0.3, 0.7)),
        tool_tokens=cs.Capped(cs.Mixture((cs.Capped(cs.Mixture((cs.Uniform(10.0, 500.0), cs.Pareto(200.0, 1.3)),
                                                               (0.8, 0.2)), 5_000.0),
                                          cs.GeneralizedPareto(100.0, 300.0, 0.3)), (0.9, 0.1)), 8_000.0),
    )
    traffic = cs.Traffic((chat, agent), base.arrivals)
    assert compiled_features(traffic._lower()) == (None, True, True)  # the kernel compiled with compact trees
    ds = cs.simulate(traffic, _options(), trials=2, seed=3)
    ref = simulate_reference(traffic, _options(), [0, 1], 3, CostHistogram.from_range((1e-7, 1e3), 16))
    assert int(ds["requests"].sum()) > 300 and int(ds["calls"].sum()) > int(ds["requests"].sum())
    for name in ("requests", "calls", "input_tokens", "output_tokens", "cached_tokens", "cache_write_tokens",
                 "tool_calls", "cost"):
        np.testing.assert_array_equal(ds[name].values, ref[name], err_msg=name)
    np.testing.assert_array_equal(ds["cost_hist"].values, ref["hist"])


@pytest.mark.parametrize("prefix_cache", [True, "prompt"])
def test_sessions_with_prefix_caching_equal_the_reference(prefix_cache):
    base = _small_traffic()
    session = cs.QueryClass.session("conversation", 1.0, first_prompt=cs.LogNormal(7.0, 0.8),
                                    user_tokens=cs.LogNormal(4.0, 1.0), output_tokens=cs.LogNormal(5.0, 0.7),
                                    turns=cs.Geometric(0.3), cached_fraction=0.5, cache_write_fraction=0.1,
                                    prefix_cache=prefix_cache)
    traffic = cs.Traffic((session, base.classes[0]), base.arrivals)
    options = {"api": cs.TokenPricing(3.0, 15.0, cached_input=0.3, cache_write=3.75)}
    ds = cs.simulate(traffic, options, trials=2, seed=5)
    ref = simulate_reference(traffic, options, [0, 1], 5, CostHistogram.from_range((1e-7, 1e3), 16))
    for name in ("requests", "calls", "input_tokens", "cached_tokens", "cache_write_tokens", "output_tokens", "cost"):
        np.testing.assert_array_equal(ds[name].values, ref[name], err_msg=name)
    np.testing.assert_array_equal(ds["cost_hist"].values, ref["hist"])


@pytest.mark.parametrize("prefix_cache", [True, "prompt", False])
def test_a_session_caches_its_previous_turn(prefix_cache):
    """Fixed sizes: turn k sends P + (k-1)(O + U) tokens (k = 1, 2, ...); turn 1 reads half
    of P from the cache (cached_fraction); a later turn reads the previous turn's prompt
    and answer, all but its U new tokens (True), the previous prompt alone, all but O + U
    (``"prompt"``), or nothing but half its prompt (False: no prefix caching)."""
    p, u, o, turns = 1000, 50, 200, 4
    session = cs.QueryClass.session("s", 1.0, first_prompt=cs.Constant(p), user_tokens=cs.Constant(u),
                                    output_tokens=cs.Constant(o), turns=turns, cached_fraction=0.5,
                                    prefix_cache=prefix_cache)
    ds = cs.simulate(cs.Traffic([session], cs.Arrivals(volume=240, horizon="1D", bin="1h")),
                     {"api": cs.TokenPricing(3.0, 15.0)}, trials=1, seed=1)
    n = int(ds["requests"].sum())
    prompts = [p + k * (o + u) for k in range(turns)]
    new = {True: u, "prompt": o + u, False: None}[prefix_cache]
    cached = [p // 2] + [prompts[k] // 2 if new is None else prompts[k] - new for k in range(1, turns)]
    assert n > 0 and int(ds["calls"].sum()) == turns * n
    assert int(ds["input_tokens"].sum()) == sum(prompts) * n
    assert int(ds["cached_tokens"].sum()) == sum(cached) * n


def test_a_service_tier_an_option_does_not_offer_is_an_error():
    traffic = _small_traffic()
    batch = cs.Traffic((dataclasses.replace(traffic.classes[0], service_tier="batch"),), traffic.arrivals)
    with pytest.raises(ValueError, match=r"options\['flat'\] cannot price QueryClass 'chat': service tier 'batch' "
                                         r"is not offered by this TokenPricing; it offers \['standard'\]"):
        cs.simulate(batch, {"flat": cs.TokenPricing(0.4, 1.6)}, trials=1, seed=1)


def test_uncertain_parameters_are_drawn_recorded_and_used():
    traffic = _small_traffic()
    growth = cs.Uniform(0.0, 0.5)
    traffic = cs.Traffic(traffic.classes, cs.Arrivals(
        volume=2_000, horizon="12h", bin="1h", growth=growth, overdispersion=0.3))
    options = {"api": cs.TokenPricing(input=cs.Uniform(1.0, 5.0), output=15.0)}
    ds = cs.simulate(traffic, options, trials=4, seed=5)
    drawn = ds["uncertain"].to_pandas()
    assert list(drawn.columns) == ["traffic.arrivals.growth", "options['api'].input"]
    assert drawn.nunique().min() == 4
    for i, trial in enumerate(ds["trial"].values):
        concrete_traffic = cs.Traffic(traffic.classes, cs.Arrivals(
            volume=2_000, horizon="12h", bin="1h", overdispersion=0.3,
            growth=float(drawn.iloc[i, 0])))
        concrete_options = {"api": cs.TokenPricing(input=float(drawn.iloc[i, 1]), output=15.0)}
        ref = simulate_reference(concrete_traffic, concrete_options, [trial], 5,
                                 CostHistogram.from_range((1e-7, 1e3), 16))
        np.testing.assert_array_equal(ds["cost"].values[i], ref["cost"][0])


def _expected_rounded(dist, upper=200_000):
    """E[round(X)] for a continuous X >= 0: sum over k >= 1 of P(X >= k - 1/2)."""
    k = np.arange(1, upper)
    return float(np.sum(1.0 - dist.cdf(k - 0.5)))


def test_mean_cost_per_query_matches_analytic_expectation():
    steps, frac = 3, 0.5
    inp, out, tool = cs.LogNormal(7.0, 0.6), cs.LogNormal(5.0, 0.5), cs.LogNormal(4.0, 0.4)
    qc = cs.QueryClass("agent", 1.0, inp, out, cached_fraction=frac, steps=steps, tool_tokens=tool)
    price = cs.TokenPricing(input=3.0, output=15.0, cached_input=0.3)
    traffic = cs.Traffic([qc], cs.Arrivals(volume=48_000, horizon="1D", bin="1h"))
    ds = cs.simulate(traffic, {"api": price}, trials=40, seed=7)

    e_in, e_out, e_tool = (_expected_rounded(d) for d in (inp, out, tool))
    prompts = [e_in + k * (e_out + e_tool) for k in range(steps)]
    # cached = round(frac * prompt) lies in [frac * p, frac * p + 1/2]
    mid = sum(((p - frac * p - 0.25) * 3.0 + (frac * p + 0.25) * 0.3 + e_out * 15.0) * 1e-6 for p in prompts)
    rounding = steps * 0.25 * (3.0 - 0.3) * 1e-6

    per_trial = (ds["cost"].sum(("time", "option", "qclass")) / ds["requests"].sum(("time", "qclass"))).values
    se = per_trial.std(ddof=1) / math.sqrt(per_trial.size)
    assert abs(per_trial.mean() - mid) < 5 * se + rounding
    tokens = (ds["input_tokens"].sum() / ds["requests"].sum()).item()
    assert tokens == pytest.approx(sum(prompts), rel=5 * se / mid + 1e-3)


def test_counts_are_overdispersed_poisson_with_the_right_mean():
    qc = cs.QueryClass("q", 1.0, cs.LogNormal(3.0, 0.1), cs.LogNormal(3.0, 0.1))
    cv, lam = 0.5, 400.0
    traffic = cs.Traffic([qc], cs.Arrivals(volume=lam * 24, horizon="10D", bin="1h", overdispersion=cv))
    ds = cs.simulate(traffic, {"api": cs.TokenPricing(1.0, 1.0)}, trials=5, seed=3)
    counts = ds["requests"].values.ravel().astype(float)
    n = counts.size
    # gamma-Poisson: mean lam, variance lam + (cv * lam)^2
    assert abs(counts.mean() - lam) < 5 * math.sqrt((lam + (cv * lam) ** 2) / n)
    expected_var = lam + (cv * lam) ** 2
    assert counts.var() == pytest.approx(expected_var, rel=5 * math.sqrt(2 / n) * 2)
    # and the negative binomial fits: KS on the mid-rank transform is not applicable to
    # discrete data, so compare the variance-to-mean ratio against Poisson's 1 instead
    assert counts.var() / counts.mean() > 50


def test_adding_an_option_or_a_class_leaves_other_draws_unchanged():
    traffic = _small_traffic()
    one = cs.simulate(traffic, {"flat": _options()["flat"]}, trials=2, seed=9)
    two = cs.simulate(traffic, _options(), trials=2, seed=9)
    np.testing.assert_array_equal(one["cost"].sel(option="flat"), two["cost"].sel(option="flat"))
    np.testing.assert_array_equal(one["input_tokens"], two["input_tokens"])

    # a third class with the volume raised so the others' rates are unchanged
    extra = cs.QueryClass("batch", 1.0, cs.LogNormal(8.0, 0.3), cs.LogNormal(4.0, 0.3))
    arr = traffic.arrivals
    wider = cs.Traffic((*traffic.classes, extra), cs.Arrivals(
        volume=arr.volume * 2, horizon=arr.horizon, bin=arr.bin, growth=arr.growth,
        overdispersion=arr.overdispersion, daily_profile=arr.daily_profile))
    three = cs.simulate(wider, {"flat": _options()["flat"]}, trials=2, seed=9)
    for name in ("requests", "input_tokens", "cost"):
        np.testing.assert_allclose(three[name].sel(qclass=["chat", "agent"]), one[name], rtol=0, atol=0)


def test_trials_are_independent_of_which_other_trials_run():
    traffic, options = _small_traffic(), _options()
    whole = cs.simulate(traffic, options, trials=5, seed=4)
    import xarray as xr

    parts = xr.concat([cs.simulate(traffic, options, trials=[0, 1], seed=4),
                       cs.simulate(traffic, options, trials=range(2, 5), seed=4)], dim="trial",
                      data_vars="minimal", coords="minimal", compat="override")
    for name in ("requests", "cost", "cost_hist"):
        np.testing.assert_array_equal(whole[name].values, parts[name].values)


def test_kernel_samples_match_scipy():
    """Tokens drawn in a simulation follow the class's distribution (one call per query)."""
    out = cs.LogNormal(5.0, 0.5)
    qc = cs.QueryClass("q", 1.0, cs.Constant(1.0), out)
    # about one query per trial: the trials holding exactly one give independent draws
    traffic = cs.Traffic([qc], cs.Arrivals(volume=24.0, horizon="1h", bin="1h"))
    ds = cs.simulate(traffic, {"api": cs.TokenPricing(0.0, 1.0)}, trials=3000, seed=1)
    single = ds["requests"].values.ravel() == 1
    tokens = ds["output_tokens"].values.ravel()[single]
    assert tokens.size > 500
    # compare rounded tokens with the rounded distribution: P(round(X) <= k) = F(k + 1/2)
    lo, hi = np.percentile(tokens, [1, 99])
    grid = np.arange(int(lo), int(hi))
    ecdf = np.searchsorted(np.sort(tokens), grid, side="right") / tokens.size
    d = np.max(np.abs(ecdf - out.cdf(grid + 0.5)))
    assert d < stats.kstwo.ppf(0.999, tokens.size)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"trials": 0}, "trials must be >= 1; got 0"),
        ({"trials": [1, 1]}, "trials must not repeat"),
        ({"seed": -1}, r"seed must be in \[0, 9223372036854775807\]; got -1"),
        ({"seed": 1.5}, "seed must be an integer; got 1.5"),
        ({"hist_bins_per_octave": 0}, "hist_bins_per_octave must be in"),
        ({"trials_per_task": 2}, "trials_per_task applies to runs on a Dask cluster: pass client=...; got 2"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        cs.simulate(_small_traffic(), _options(), **{"trials": 2, "seed": 1, **kwargs})


def test_bad_types_raise_type_errors():
    with pytest.raises(TypeError, match="traffic must be a costsim.Traffic; got dict"):
        cs.simulate({}, _options(), trials=1, seed=1)
    with pytest.raises(TypeError, match="options must be a mapping of name -> pricing model; got list"):
        cs.simulate(_small_traffic(), [], trials=1, seed=1)
    # an empty mapping breaks a rule, as in a scenario file: a ParameterError (a ValueError)
    with pytest.raises(cs.ParameterError, match="options must name at least one deployment option; got {}"):
        cs.simulate(_small_traffic(), {}, trials=1, seed=1)
    with pytest.raises(TypeError, match=r"options\['x'\] must be a costsim pricing option; got float"):
        cs.simulate(_small_traffic(), {"x": 3.0}, trials=1, seed=1)


def test_a_draw_that_breaks_a_rule_names_trial_and_parameter():
    # a range an uncertain value breaks in many trials is refused when the model is built
    with pytest.raises(cs.ParameterError, match=r"LogNormal: sigma must be > 0 in every trial; 0\.309 of its draws"):
        cs.LogNormal(5.0, cs.Normal(0.5, 1.0))
    # a rule between two values is checked in each trial, and the error names the trial and the draw
    qc = cs.QueryClass("q", 1.0, cs.Uniform(cs.Normal(100.0, 50.0), 120.0), cs.LogNormal(4.0, 0.5))
    traffic = cs.Traffic([qc], cs.Arrivals(volume=100, horizon="1D", bin="1h"))
    with pytest.raises(ValueError, match=r"trial \d+: .*traffic.classes\[0\].input_tokens.low=.*high must be > low"):
        cs.simulate(traffic, {"api": cs.TokenPricing(1.0, 1.0)}, trials=20, seed=1)
