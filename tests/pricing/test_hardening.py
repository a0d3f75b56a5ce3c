"""Issue 11 (hardening) for pricing: models the kernel cannot price are refused
(item 4), every price, multiplier and count has a bound (item 2), and ``price``
names the argument that is wrong (item 9), with one checker for both ``price``
functions."""

from __future__ import annotations

import dataclasses
import re
import warnings

import numpy as np
import pytest

import costsim as cs
from costsim._limits import MAX_PRICE, MAX_TOKENS_PER_CALL, MAX_TOOL_CALLS
from costsim._limits import MAX_THROUGHPUT, MAX_UNITS, MIN_THROUGHPUT
from costsim.pricing.base import lower_options

API = cs.TokenPricing(input=3.0, output=15.0)
TRAFFIC = cs.Traffic([cs.QueryClass("chat", 1.0, cs.Constant(1_000), cs.Constant(100))],
                     cs.Arrivals(volume=240, horizon="2h", bin="1h"))
M = 1e-6

PRICE_BOUND = r"must be <= 1,000,000 \(MAX_PRICE\)"
TOKEN_BOUND = r"must be <= 1,073,741,824 \(MAX_TOKENS_PER_CALL\)"
MONTHLY_BOUND = r"must be <= 1,000,000,000,000 \(MAX_MONTHLY\)"
UNIT_BOUND = r"must be <= 1,073,741,824 \(MAX_UNITS\)"


# ---- item 4: per-request models the kernel has no branch for ----------------------------------


@dataclasses.dataclass(frozen=True)
class PerQuery(cs.PricingModel):
    """What the old docstring invited: a per-request model of one's own."""

    usd_per_query: float = 0.01

    def _lower(self):
        return 7, [self.usd_per_query]

    def _card_offsets(self, service_tier):
        return 0, -1

    def _off_peak_mask(self, when):
        return np.zeros(np.shape(when), dtype=bool)


@dataclasses.dataclass(frozen=True)
class Bare(cs.PricingModel):
    """A subclass implementing nothing."""


@dataclasses.dataclass(frozen=True)
class RelabelledTokenPricing(cs.TokenPricing):
    """A TokenPricing subclass whose lowering claims a kind the kernel lacks."""

    def _lower(self):
        return 7, super()._lower()[1]


@dataclasses.dataclass(frozen=True)
class PresetTokenPricing(cs.TokenPricing):
    """What a subclass may do: build a TokenPricing (here, with a fixed output rate)."""

    output: float = 12.0


REFUSED = (r"is a {cls}, a PricingModel the compiled kernel cannot price \(it has no branch for it, so it "
           r"would be billed nothing\): price per token with TokenPricing \(or a subclass of it\), or write "
           r"your own scheme as a compiled capacity function and use CustomCapacity")


@pytest.mark.parametrize("model", [PerQuery(), Bare()], ids=["own-kind", "nothing-implemented"])
def test_simulate_refuses_a_per_request_model_the_kernel_cannot_price(model):
    cls = type(model).__name__
    with pytest.raises(TypeError, match=r"^options\['mine'\] " + REFUSED.format(cls=cls)):
        cs.simulate(TRAFFIC, {"api": API, "mine": model}, trials=1, seed=1)


def test_simulate_names_the_path_of_a_nested_unpriceable_model():
    options = {"api": API, "h": cs.Hybrid(routes={"chat": PerQuery()})}
    with pytest.raises(TypeError, match=r"^options\['h'\]\.routes\['chat'\] " + REFUSED.format(cls="PerQuery")):
        cs.simulate(TRAFFIC, options, trials=1, seed=1)
    gpu = cs.SelfHostedGPU(gpu_hour_price=2.0, prefill_tokens_per_s=5e3, decode_tokens_per_s=1e3,
                           fallback=PerQuery())
    with pytest.raises(TypeError, match=r"^options\['gpu'\]\.fallback is a PerQuery"):
        cs.simulate(TRAFFIC, {"gpu": gpu}, trials=1, seed=1)


def test_price_refuses_a_model_the_kernel_cannot_price():
    with pytest.raises(TypeError, match=r"^this model " + REFUSED.format(cls="PerQuery")):
        PerQuery().price(1_000, 100)
    with pytest.raises(TypeError, match=r"^this model is a RelabelledTokenPricing"):
        RelabelledTokenPricing(3.0, 15.0).price(1_000, 100)


def test_a_lowered_kind_the_kernel_lacks_is_refused_when_lowering():
    # the class claims token pricing, its lowering does not: the backstop in lower_options
    with pytest.raises(TypeError, match=r"^an option is a RelabelledTokenPricing"):
        lower_options([API, RelabelledTokenPricing(3.0, 15.0)])


def test_a_token_pricing_subclass_is_priced():
    preset = PresetTokenPricing(input=2.0)
    assert float(preset.price(1_000, 100)) == pytest.approx((1_000 * 2.0 + 100 * 12.0) * M, rel=1e-15)
    kinds, params = lower_options([preset, API])
    assert kinds.tolist() == [0, 0] and np.isfinite(params).all()


def test_simulate_refuses_options_costsim_cannot_bill():
    @dataclasses.dataclass(frozen=True)
    class NoCapacityFunction(cs.CapacityModel):
        fallback: object = None

    @dataclasses.dataclass(frozen=True)
    class Other(cs.DeploymentOption):
        pass

    with pytest.raises(TypeError, match=r"^options\['cap'\] is a NoCapacityFunction, a CapacityModel without a "
                                        r"capacity function \(_capacity\): use CustomCapacity"):
        cs.simulate(TRAFFIC, {"cap": NoCapacityFunction()}, trials=1, seed=1)
    with pytest.raises(TypeError, match=r"^options\['x'\] is a Other, which costsim cannot price: use TokenPricing"):
        cs.simulate(TRAFFIC, {"x": Other()}, trials=1, seed=1)


# ---- item 2: bounds on prices, multipliers, counts and throughputs ------------------------------


def _gpu(**kw):
    return cs.SelfHostedGPU(**{"gpu_hour_price": 2.0, "prefill_tokens_per_s": 5e3, "decode_tokens_per_s": 1e3,
                               **kw})


def _ptu(**kw):
    return cs.ProvisionedCapacity(**{"units": 2, "price_per_unit_hour": 1.5, "tokens_per_minute": 5e4, **kw})


BIG = 1e308
BOUNDS = [
    # (build, field as named, bound as written, value as written)
    *[(lambda f=f: cs.TokenPricing(**{"input": 1.0, "output": 1.0, f: BIG}), f"TokenPricing: {f}", PRICE_BOUND,
       "1e+308") for f in ("input", "output", "cached_input", "cache_write", "cache_write_1h", "reasoning",
                           "multiplier", "fee_per_request", "fee_per_tool_call", "minimum_charge")],
    (lambda: cs.LongContextTier(1_000, input=BIG, output=1.0), "LongContextTier: input", PRICE_BOUND, "1e+308"),
    (lambda: cs.LongContextTier(1_000, input=1.0, output=1.0, reasoning=2e6), "LongContextTier: reasoning",
     PRICE_BOUND, "2000000.0"),
    (lambda: cs.LongContextTier(2**53 + 1, 1.0, 1.0), "LongContextTier: threshold", TOKEN_BOUND,
     "9007199254740993"),
    (lambda: cs.RateCard(1.0, BIG), "RateCard: output", PRICE_BOUND, "1e+308"),
    (lambda: cs.PromptRouter((1_000, 2**31), ("a", "b", "c")), "PromptRouter: thresholds[1]", TOKEN_BOUND,
     "2147483648"),
    (lambda: cs.VolumeDiscount(API, thresholds=(1e9, 1e17), multipliers=(0.9, 0.8)),
     "VolumeDiscount: thresholds[1]", r"must be <= 9,007,199,254,740,992 \(2\*\*53, where sums stop being exact\)",
     "1e+17"),
    (lambda: cs.VolumeDiscount(API, thresholds=(1e9,), multipliers=(float("inf"),)),
     "VolumeDiscount: multipliers[0]", "must be finite", "inf"),
    (lambda: cs.VolumeDiscount(API, thresholds=(1e9,), multipliers=(BIG,)), "VolumeDiscount: multipliers[0]",
     PRICE_BOUND, "1e+308"),
    (lambda: cs.CommittedSpend(API, monthly_minimum=BIG), "CommittedSpend: monthly_minimum", MONTHLY_BOUND,
     "1e+308"),
    (lambda: _ptu(units=2**40), "ProvisionedCapacity: units", UNIT_BOUND, "1099511627776"),
    (lambda: _ptu(price_per_unit_hour=BIG), "ProvisionedCapacity: price_per_unit_hour", PRICE_BOUND, "1e+308"),
    (lambda: _ptu(tokens_per_minute=BIG), "ProvisionedCapacity: tokens_per_minute",
     r"must be <= 60,000,000,000 \(MAX_THROUGHPUT x 60\)", "1e+308"),
    (lambda: _ptu(output_weight=BIG), "ProvisionedCapacity: output_weight", PRICE_BOUND, "1e+308"),
    (lambda: _gpu(gpu_hour_price=BIG), "SelfHostedGPU: gpu_hour_price", PRICE_BOUND, "1e+308"),
    (lambda: _gpu(prefill_tokens_per_s=BIG), "SelfHostedGPU: prefill_tokens_per_s",
     r"must be <= 1,000,000,000 \(MAX_THROUGHPUT\)", "1e+308"),
    (lambda: _gpu(decode_tokens_per_s=BIG), "SelfHostedGPU: decode_tokens_per_s",
     r"must be <= 1,000,000,000 \(MAX_THROUGHPUT\)", "1e+308"),
    (lambda: _gpu(gpus_per_replica=2**31), "SelfHostedGPU: gpus_per_replica", UNIT_BOUND, "2147483648"),
    (lambda: _gpu(min_replicas=2**31), "SelfHostedGPU: min_replicas", UNIT_BOUND, "2147483648"),
    (lambda: _gpu(max_replicas=2**63 - 1), "SelfHostedGPU: max_replicas", UNIT_BOUND, "9223372036854775807"),
    (lambda: _gpu(scale_step=2**31), "SelfHostedGPU: scale_step", UNIT_BOUND, "2147483648"),
    (lambda: _gpu(interruption_overhead=BIG), "SelfHostedGPU: interruption_overhead", PRICE_BOUND, "1e+308"),
    (lambda: _gpu(fixed_monthly=BIG), "SelfHostedGPU: fixed_monthly", MONTHLY_BOUND, "1e+308"),
]


@pytest.mark.parametrize("build, field, bound, value", BOUNDS, ids=[b[1] for b in BOUNDS])
def test_a_value_beyond_its_bound_is_refused_naming_field_bound_and_value(build, field, bound, value):
    with pytest.raises(cs.ParameterError, match=f"^{re.escape(field)} {bound}; got {re.escape(value)}$"):
        build()


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: _ptu(tokens_per_minute=1e-300), "ProvisionedCapacity: tokens_per_minute must be >= 0.06; got 1e-300"),
        (lambda: _gpu(prefill_tokens_per_s=1e-300),
         "SelfHostedGPU: prefill_tokens_per_s must be >= 0.001; got 1e-300"),
        (lambda: _gpu(target_utilisation=1e-300),
         "SelfHostedGPU: target_utilisation must be in [0.001, 1]; got 1e-300"),
    ],
)
def test_a_throughput_or_target_too_small_to_divide_by_is_refused(build, message):
    # load / throughput and load / target would overflow to inf replicas
    with pytest.raises(cs.ParameterError) as info:
        build()
    assert str(info.value) == message


def test_service_tier_and_off_peak_cards_are_bounded():
    with pytest.raises(cs.ParameterError, match=r"^RateCard: input " + PRICE_BOUND + "; got 1e\\+308$"):
        cs.TokenPricing(1.0, 1.0, service_tiers={"batch": cs.RateCard(BIG, 1.0)})
    with pytest.raises(cs.ParameterError, match=r"^LongContextTier: cached_input " + PRICE_BOUND):
        cs.TokenPricing(1.0, 1.0, long_context=[cs.LongContextTier(100, 1.0, 1.0, cached_input=2e6)])


def test_the_bounds_are_inclusive_and_the_worst_case_cost_is_finite():
    top = dict(input=MAX_PRICE, output=MAX_PRICE, cached_input=MAX_PRICE, cache_write=MAX_PRICE,
               cache_write_1h=MAX_PRICE, reasoning=MAX_PRICE)
    p = cs.TokenPricing(**top, long_context=[cs.LongContextTier(MAX_TOKENS_PER_CALL, **top)], multiplier=MAX_PRICE,
                        fee_per_request=MAX_PRICE, fee_per_tool_call=MAX_PRICE, minimum_charge=MAX_PRICE)
    n = MAX_TOKENS_PER_CALL
    got = float(p.price(n, n, reasoning_tokens=n, tool_calls=MAX_TOOL_CALLS))
    expected = MAX_PRICE * (3 * n * MAX_PRICE * M) + MAX_PRICE + MAX_TOOL_CALLS * MAX_PRICE
    assert np.isfinite(got) and got == pytest.approx(expected, rel=1e-15)
    _ptu(units=MAX_UNITS, tokens_per_minute=60 * MAX_THROUGHPUT)
    _gpu(prefill_tokens_per_s=MIN_THROUGHPUT, decode_tokens_per_s=MAX_THROUGHPUT, max_replicas=MAX_UNITS)
    cs.VolumeDiscount(API, thresholds=(2.0**53,), multipliers=(MAX_PRICE,))


def test_an_uncertain_price_drawn_beyond_the_bound_is_refused_in_its_trial():
    option = cs.TokenPricing(input=cs.Uniform(2e6, 3e6), output=1.0)
    with pytest.raises(ValueError, match=r"trial 0: the uncertain parameters drew values that break a rule "
                                         r"\(options\['x'\]\.input=2\.\d+e\+06\): TokenPricing: input "
                                         + PRICE_BOUND):
        cs.simulate(TRAFFIC, {"x": option}, trials=1, seed=1)


def _entry(**keys):
    return {"m": {"input_cost_per_token": 3e-6, "output_cost_per_token": 1.5e-5, **keys}}


@pytest.mark.parametrize(
    "keys, message",
    [
        ({"input_cost_per_token": 1e300}, "input_cost_per_token must be <= 1 USD per token (1,000,000 per million, "
                                          "MAX_PRICE); got 1e+300"),
        ({"output_cost_per_token_batches": 2.0}, "output_cost_per_token_batches must be <= 1 USD per token"),
        ({"input_cost_per_token_above_200k_tokens": 6e-6, "output_cost_per_token_above_200k_tokens": 1e10},
         "output_cost_per_token_above_200k_tokens must be <= 1 USD per token"),
        ({"input_cost_per_token_above_2000000k_tokens": 6e-6},
         "input_cost_per_token_above_2000000k_tokens has a threshold of 2,000,000,000 tokens, above "
         "1,073,741,824 (MAX_TOKENS_PER_CALL)"),
        ({"fedramp_uplift_multiplier": 1e300}, "fedramp_uplift_multiplier must be <= 1,000,000 (MAX_PRICE); "
                                               "got 1e+300"),
        ({"tiered_pricing": [{"range": [0, 1000], "input_cost_per_token": 1e-6},
                             {"range": [1000, 1e300], "input_cost_per_token": 1e3}]},
         "tiered_pricing[1].input_cost_per_token must be <= 1 USD per token"),
        ({"tiered_pricing": [{"range": [0, 2**40], "input_cost_per_token": 1e-6},
                             {"range": [2**40, 2**41], "input_cost_per_token": 2e-6}]},
         "tiered_pricing[1].range has a threshold of 1,099,511,627,776 tokens, above 1,073,741,824 "
         "(MAX_TOKENS_PER_CALL)"),
        ({"off_peak_pricing": {"hours_utc": "00:00-06:00", "input_cost_per_token": 5.0}},
         "off_peak_pricing.input_cost_per_token must be <= 1 USD per token"),
    ],
)
def test_litellm_refuses_an_absurd_price_naming_model_and_key(keys, message):
    with pytest.raises(ValueError, match="^" + re.escape(f"LiteLLM entry 'm': {message}")):
        cs.TokenPricing.from_litellm("m", _entry(**keys))


def test_litellm_refuses_an_absurd_search_fee():
    entry = _entry(search_context_cost_per_query={"search_context_size_medium": 1e300})
    with pytest.raises(ValueError, match=r"^LiteLLM entry 'm': search_context_cost_per_query must be <= "
                                         r"1,000,000 \(MAX_PRICE\); got 1e\+300$"):
        cs.TokenPricing.from_litellm("m", entry, web_search=True)


def test_litellm_rate_at_the_bound_is_accepted():
    p = cs.TokenPricing.from_litellm("m", _entry(input_cost_per_token=1.0))
    assert p.input == MAX_PRICE


# ---- item 9: price() names the argument; one checker for both price functions ------------------

TIERED = cs.TokenPricing(3.0, 15.0, long_context=[cs.LongContextTier(200_000, 6.0, 22.5)])


def _both(*args, **kwargs):
    """The error of ``cs.price`` and of ``TokenPricing.price`` on the same arguments."""
    errors = []
    for call in (lambda: cs.price(TIERED, *args, **kwargs), lambda: TIERED.price(*args, **kwargs)):
        with pytest.raises(ValueError) as info:
            call()
        errors.append(info.value)
    assert type(errors[0]) is type(errors[1]) and str(errors[0]) == str(errors[1])
    return errors[0]


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        ((1e19, 10), {}, "input_tokens " + TOKEN_BOUND + r"; got 1e\+19"),
        ((2**63, 10), {}, "input_tokens " + TOKEN_BOUND + "; got 9223372036854775808"),
        ((np.uint64(2**64 - 1), 10), {}, "input_tokens " + TOKEN_BOUND + "; got 18446744073709551615"),
        ((2**64, 10), {}, "input_tokens " + TOKEN_BOUND + "; got 18446744073709551616"),
        ((10**400, 10), {}, "input_tokens " + TOKEN_BOUND + "; got '<int of ~401 digits>'"),
        ((-(2**70), 10), {}, "input_tokens must be non-negative integer token counts; got -1180591620717411303424"),
        ((100, 2**31), {}, "output_tokens " + TOKEN_BOUND + "; got 2147483648"),
        ((100, 1), {"reasoning_tokens": [1, 2**40]}, "reasoning_tokens " + TOKEN_BOUND + "; got 1099511627776"),
        ((2**40, 1), {"cache_read_tokens": 2**40}, "input_tokens " + TOKEN_BOUND),
        ((100, 1), {"tool_calls": MAX_TOOL_CALLS + 1}, r"tool_calls must be <= 1,048,576 \(MAX_TOOL_CALLS\); "
                                                       "got 1048577"),
        ((np.inf, 1), {}, "input_tokens must be non-negative integer token counts; got inf"),
        ((100, -np.inf), {}, "output_tokens must be non-negative integer token counts; got -inf"),
        ((100, 1), {"cache_write_tokens": np.nan}, "cache_write_tokens must be non-negative integer token counts; "
                                                   "got nan"),
        ((100.5, 1), {}, r"input_tokens must be non-negative integer token counts; got 100\.5"),
        ((True, 1), {}, "input_tokens must be non-negative integer token counts; got True"),
        ((100, [True, False]), {}, r"output_tokens must be non-negative integer token counts; got \[True, False\]"),
        (("100", 1), {}, "input_tokens must be non-negative integer token counts; got '100'"),
        (([100, None], 1), {}, "input_tokens must be non-negative integer token counts; got None"),
        ((100, 1), {"tool_calls": 1 + 2j}, r"tool_calls must be non-negative integer token counts; got \(1\+2j\)"),
        ((np.array(["2026-01-01"], dtype="datetime64[D]"), 1), {}, "input_tokens must be non-negative integer"),
        (([[1], [1, 2]], 1), {}, r"input_tokens must be non-negative integer token counts \(an integer or a "
                                 r"rectangular array\); got \[\[1\], \[1, 2\]\]"),
        ((100, 1), {"cache_read_tokens": 60, "cache_write_tokens": 50},
         r"cache_read_tokens \+ cache_write_tokens must be <= input_tokens \(both are part of the prompt\); "
         r"got 60 \+ 50 > 100 \(1 of 1 calls\)"),
        (([1, 2], [1, 2, 3]), {}, r"output_tokens has shape \(3,\), which does not broadcast with the other "
                                  r"arguments' shapes \(input_tokens \(2,\)\)"),
        (([1, 2], 1), {"when": ["2026-01-05", "2026-01-06", "2026-01-07"]},
         r"when has shape \(3,\), which does not broadcast with the other arguments' shapes \(input_tokens \(2,\)\)"),
        ((100, 1), {"when": [np.datetime64("NaT", "ns")]}, r"when must not hold missing times \(NaT\)"),
        ((100, 1), {"when": 1_767_614_400}, r"when must be UTC times \(datetime64, datetime or ISO strings\), "
                                             "not numbers; got 1767614400"),
        ((100, 1), {"cache_write_ttl": "1d"}, "cache_write_ttl must be '5m' or '1h'; got '1d'"),
        ((100, 1), {"cache_write_ttl": np.array(["5m", "1h"])}, r"cache_write_ttl must be '5m' or '1h'; got array"),
        ((100, 1), {"service_tier": ["standard", "batch"]},
         r"service_tier must be the name of a service tier \(str\); got \['standard', 'batch'\]"),
    ],
)
def test_price_names_the_argument_that_is_wrong(args, kwargs, message):
    err = _both(*args, **kwargs)
    assert re.match(message, str(err)), str(err)


def test_token_count_errors_are_parameter_errors_naming_the_argument():
    err = _both(1e19, 10)
    assert isinstance(err, cs.ParameterError)
    assert (err.path, err.value) == ("input_tokens", 1e19)


@pytest.mark.parametrize("shape_in, shape_out, expected", [((0,), (0,), (0,)), ((0, 3), (3,), (0, 3)),
                                                             ((0,), (), (0,))])
def test_price_of_no_calls_is_an_empty_float_array(shape_in, shape_out, expected):
    for got in (cs.price(TIERED, np.zeros(shape_in, dtype=int), np.zeros(shape_out, dtype=int)),
                TIERED.price(np.zeros(shape_in, dtype=int), np.zeros(shape_out, dtype=int))):
        assert got.shape == expected and got.dtype == np.float64
    assert cs.price("gpt-4o", [], []).shape == (0,)
    assert cs.price("gpt-4o", [], [], when=[]).shape == (0,)


def test_price_accepts_whole_numbers_in_any_integer_or_object_dtype():
    prompt = [1_000, 250_000, MAX_TOKENS_PER_CALL]
    expected = [(p * (3.0 if p <= 200_000 else 6.0) + 100 * (15.0 if p <= 200_000 else 22.5)) * M for p in prompt]
    for value in (prompt, np.array(prompt, dtype=np.uint64), np.array(prompt, dtype=np.int32),
                  np.array(prompt, dtype=object), np.array(prompt, dtype=np.float32).astype(np.float64)):
        np.testing.assert_allclose(cs.price(TIERED, value, 100), expected, rtol=1e-15)
        np.testing.assert_array_equal(cs.price(TIERED, value, 100), TIERED.price(value, 100))


def test_price_of_a_catalog_model_gives_the_same_message_as_its_pricing():
    with pytest.raises(cs.ParameterError) as by_name:
        cs.price("gpt-4o", 1e19, 10)
    with pytest.raises(cs.ParameterError) as by_object:
        cs.TokenPricing.from_litellm("gpt-4o").price(1e19, 10)
    assert str(by_name.value) == str(by_object.value)
    with pytest.raises(ValueError, match=r"^service tier 'flex' is not offered by this TokenPricing; it offers "
                                         r"\['standard', 'batch', 'priority'\]$"):
        cs.price("gpt-4o", 1_000, 10, service_tier="flex")


def test_off_peak_windows_inside_time_bins_are_announced():
    # a bin is billed at the rates in force at its start: with day-long bins a model off-peak
    # at night (00:00-06:00 on weekdays) billed Mondays from 00:00 all off-peak, from 02:00 all peak
    nights = cs.TokenPricing(input=2.0, output=8.0, off_peak=cs.OffPeak(
        [cs.OffPeakWindow((1, 2, 3, 4, 5), "00:00", "06:00")], cs.RateCard(1.0, 4.0)))
    chat = cs.QueryClass("chat", share=1.0, input_tokens=cs.Constant(1000), output_tokens=cs.Constant(100))

    def run(bin, start="2026-01-05"):  # a Monday
        traffic = cs.Traffic([chat], cs.Arrivals(volume=1000, horizon="2D", bin=bin, start=start))
        return cs.simulate(traffic, {"api": nights, "flat": cs.TokenPricing(input=2.0, output=8.0)}, trials=1,
                           seed=1, progress=False)

    with pytest.warns(UserWarning, match=r"options\['api'\]: off-peak rates start or end inside 2 of 2 time bins "
                                         r"of 1D; a bin is billed at the rates in force at its start"):
        run("1D")
    with pytest.warns(UserWarning, match=r"inside 4 of 8 time bins of 6h"):
        run("6h", start="2026-01-05T03:00")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run("1h")
        run("6h")  # 00-06 and 06-12: the windows' edges fall on the bins' edges
        run("1D", start="2026-01-10")  # a weekend: no off-peak rate to start or end


def test_the_off_peak_warning_comes_once_per_run_from_the_run():
    # checking or sizing a run (a Scenario, cs.estimate) does not warn; the run does, once
    nights = cs.TokenPricing(input=2.0, output=8.0, off_peak=cs.OffPeak(
        [cs.OffPeakWindow((1, 2, 3, 4, 5), "00:00", "06:00")], cs.RateCard(1.0, 4.0)))
    chat = cs.QueryClass("chat", share=1.0, input_tokens=cs.Constant(1000), output_tokens=cs.Constant(100))
    traffic = cs.Traffic([chat], cs.Arrivals(volume=1000, horizon="2D", bin="1D", start="2026-01-05"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cs.estimate(traffic, {"api": nights}, trials=1)
        cs.simulate(traffic, {"api": nights}, trials=1, seed=1, progress=False)
    assert [str(w.message)[:40] for w in caught] == ["options['api']: off-peak rates start or "]
    assert caught[0].filename == __file__
