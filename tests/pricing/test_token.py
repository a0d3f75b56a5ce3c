"""TokenPricing: rates, cached input, whole-call long-context tiers, price(), LiteLLM oracles."""

import csv
import json
import math
import re

import numpy as np
import pytest
from conftest import SHARED_DATA

import costsim as cs
from costsim import LongContextTier, TokenPricing

M = 1e-6  # rates are USD per million tokens


def test_base_rates():
    p = TokenPricing(input=3.0, output=15.0)
    assert float(p.price(1_000, 500)) == pytest.approx((1_000 * 3.0 + 500 * 15.0) * M, rel=1e-15)
    assert float(p.price(0, 0)) == 0.0


def test_cached_input_none_falls_back_to_the_input_rate():
    p = TokenPricing(input=3.0, output=15.0)
    assert p.cached_input is None
    np.testing.assert_array_equal(p.price(1_000, 10, cache_read_tokens=800), p.price(1_000, 10, cache_read_tokens=0))


def test_cached_input_explicit_zero_is_free():
    p = TokenPricing(input=3.0, output=15.0, cached_input=0)
    assert p.cached_input == 0.0
    assert float(p.price(1_000, 0, cache_read_tokens=1_000)) == 0.0
    assert float(p.price(1_000, 0, cache_read_tokens=800)) == pytest.approx(200 * 3.0 * M, rel=1e-15)


def test_cached_tokens_are_part_of_the_prompt():
    p = TokenPricing(input=3.0, output=15.0, cached_input=0.3)
    got = float(p.price(1_000, 500, cache_read_tokens=800))
    assert got == pytest.approx((200 * 3.0 + 800 * 0.3 + 500 * 15.0) * M, rel=1e-15)


TIERED = TokenPricing(
    input=3.0, output=15.0, cached_input=0.3,
    long_context=(LongContextTier(200_000, input=6.0, output=22.5, cached_input=0.6),
                  LongContextTier(500_000, input=9.0, output=30.0)),
)


@pytest.mark.parametrize(
    "prompt, rates",
    [
        (199_999, (3.0, 15.0, 0.3)),
        (200_000, (3.0, 15.0, 0.3)),  # exactly the threshold: still the base rate (strict >)
        (200_001, (6.0, 22.5, 0.6)),  # one more: the tier rate for the WHOLE call
        (500_000, (6.0, 22.5, 0.6)),
        (500_001, (9.0, 30.0, 9.0)),  # the highest tier exceeded; its cached_input None -> its input
        (2_000_000, (9.0, 30.0, 9.0)),
    ],
)
def test_long_context_tier_applies_to_the_whole_call_strictly_above_threshold(prompt, rates):
    inp, out, cached = rates
    got = float(TIERED.price(prompt, 1_000, cache_read_tokens=50_000))
    want = ((prompt - 50_000) * inp + 50_000 * cached + 1_000 * out) * M
    assert got == pytest.approx(want, rel=1e-14)


def test_threshold_step_is_a_jump_in_total_cost():
    below, above = TIERED.price([200_000, 200_001], 0)
    assert below == pytest.approx(200_000 * 3.0 * M, rel=1e-15)
    assert above == pytest.approx(200_001 * 6.0 * M, rel=1e-15)
    assert above > 1.99 * below  # the whole prompt is re-priced, not just the token above


def test_price_broadcasts_arrays():
    prompt = np.array([[1_000], [300_000]])
    output = np.array([0, 10, 100])
    got = TIERED.price(prompt, output, cache_read_tokens=np.array([0, 500, 1_000]))
    assert got.shape == (2, 3) and got.dtype == np.float64
    for i in range(2):
        for j in range(3):
            single = float(TIERED.price(int(prompt[i, 0]), int(output[j]), cache_read_tokens=[0, 500, 1_000][j]))
            assert got[i, j] == single
    # integer-valued floats are token counts too
    np.testing.assert_array_equal(TIERED.price([1_000.0, 2_000.0], 3.0), TIERED.price([1_000, 2_000], 3))
    assert TIERED.price(1, 1).shape == ()


def test_price_matches_the_formula_on_random_calls():
    rng = np.random.default_rng(3)
    prompt = rng.integers(0, 1_000_000, size=2_000)
    cached = (prompt * rng.random(2_000)).astype(np.int64)
    output = rng.integers(0, 20_000, size=2_000)
    got = TIERED.price(prompt, output, cache_read_tokens=cached)
    tiers = [(-1, 3.0, 15.0, 0.3), (200_000, 6.0, 22.5, 0.6), (500_000, 9.0, 30.0, 9.0)]
    for p, c, o, g in zip(prompt, cached, output, got):
        _, i, out, cr = [t for t in tiers if p > t[0]][-1]
        assert g == pytest.approx(((p - c) * i + c * cr + o * out) * M, rel=1e-13)


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        ((-1, 10), {}, "input_tokens must be non-negative integer token counts; got -1"),
        ((10, 1.5), {}, "output_tokens must be non-negative integer token counts; got 1.5"),
        ((10, 1), {"cache_read_tokens": np.nan}, "cache_read_tokens must be non-negative integer token counts; got nan"),
        ((["a"], 1), {}, "input_tokens must be non-negative integer token counts; got ['a']"),
        ((100, 1), {"cache_read_tokens": 101}, "cache_read_tokens + cache_write_tokens must be <= input_tokens"),
    ],
)
def test_price_rejects_bad_token_counts(args, kwargs, message):
    with pytest.raises(ValueError) as info:
        TIERED.price(*args, **kwargs)
    assert str(info.value).startswith(message)


def test_price_needs_concrete_rates():
    p = TokenPricing(input=cs.Uniform(1.0, 2.0), output=3.0)
    with pytest.raises(ValueError, match=r"TokenPricing: price\(\) needs concrete parameters.*\['input'\]"):
        p.price(1, 1)


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: TokenPricing(input=-1.0, output=1.0), "TokenPricing: input must be >= 0; got -1.0"),
        (lambda: TokenPricing(input=1.0, output=float("nan")), "TokenPricing: output must not be NaN; got nan"),
        (lambda: TokenPricing(input=1.0, output=float("inf")), "TokenPricing: output must be finite; got inf"),
        (lambda: TokenPricing(input=1.0, output=1.0, cached_input=-0.1),
         "TokenPricing: cached_input must be >= 0; got -0.1"),
        (lambda: TokenPricing(input="3", output=1.0), "TokenPricing: input must be a real number; got '3'"),
        (lambda: TokenPricing(1.0, 1.0, long_context=(LongContextTier(200_000, 2.0, 2.0),
                                                      LongContextTier(200_000, 3.0, 3.0))),
         "TokenPricing: long_context must have strictly increasing thresholds; got [200000, 200000]"),
        (lambda: TokenPricing(1.0, 1.0, long_context=(LongContextTier(500_000, 2.0, 2.0),
                                                      LongContextTier(200_000, 3.0, 3.0))),
         "TokenPricing: long_context must have strictly increasing thresholds; got [500000, 200000]"),
        (lambda: TokenPricing(1.0, 1.0, long_context=({"threshold": 5},)),
         "TokenPricing: long_context[0] must be a LongContextTier; got {'threshold': 5}"),
        (lambda: TokenPricing(1.0, 1.0, long_context=5), "TokenPricing: long_context must be a sequence of LongContextTier; got 5"),
        (lambda: LongContextTier(-1, 1.0, 1.0), "LongContextTier: threshold must be >= 0; got -1"),
        (lambda: LongContextTier(1.5, 1.0, 1.0), "LongContextTier: threshold must be an integer; got 1.5"),
        (lambda: LongContextTier(100, 1.0, -2.0), "LongContextTier: output must be >= 0; got -2.0"),
    ],
)
def test_rejects_bad_parameters(build, message):
    with pytest.raises(cs.ParameterError) as info:
        build()
    assert str(info.value) == message


def test_a_single_tier_and_a_list_become_a_tuple():
    tier = LongContextTier(100, 2.0, 2.0)
    assert TokenPricing(1.0, 1.0, long_context=tier).long_context == (tier,)
    assert TokenPricing(1.0, 1.0, long_context=[tier]) == TokenPricing(1.0, 1.0, long_context=(tier,))


# ---- LiteLLM cost oracles -------------------------------------------------------------------

LITELLM = SHARED_DATA / "litellm"
_TIER_KEY = re.compile(r"^input_cost_per_token_above_(\d+)k_tokens$")


def _litellm_pricing(entry: dict):
    """TokenPricing for a LiteLLM price-map entry, or None where it needs more than TokenPricing has."""
    if "tiered_pricing" in entry or "input_cost_per_token" not in entry:
        return None
    tiers = []
    for key in sorted(entry, key=lambda k: int(_TIER_KEY.match(k).group(1)) if _TIER_KEY.match(k) else -1):
        m = _TIER_KEY.match(key)
        if not m:
            continue
        n = m.group(1)
        cached = entry.get(f"cache_read_input_token_cost_above_{n}k_tokens")
        tiers.append(LongContextTier(
            int(n) * 1000,
            input=entry[key] / M,
            output=entry[f"output_cost_per_token_above_{n}k_tokens"] / M,
            cached_input=None if cached is None else cached / M,
        ))
    cached = entry.get("cache_read_input_token_cost")
    return TokenPricing(
        input=entry["input_cost_per_token"] / M,
        output=entry.get("output_cost_per_token", 0.0) / M,
        cached_input=None if cached is None else cached / M,
        long_context=tuple(tiers),
    )


@pytest.mark.skipif(not (LITELLM / "cost_oracles.csv").is_file(),
                    reason=f"LiteLLM cost oracles not found at {LITELLM} (shared reference data absent)")
def test_litellm_cost_oracles():
    prices = json.loads((LITELLM / "model_prices_subset.json").read_text())
    with open(LITELLM / "cost_oracles.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    compared, skipped = [], []
    for row in rows:
        prompt, output = int(row["prompt_tokens"]), int(row["completion_tokens"])
        cache_read, cache_write = int(row["cache_read_tokens"]), int(row["cache_creation_tokens"])
        pricing = _litellm_pricing(prices[row["model"]])
        needs_more = (
            pricing is None
            or row["service_tier"]  # priority / flex rates: not built yet
            or row["batch"] == "True"  # batch rates: not built yet
            or cache_write > 0  # cache-write rates: not built yet
            or (cache_read and any(prompt > t.threshold and t.cached_input is None for t in pricing.long_context))
        )
        if needs_more:
            skipped.append(row["note"])
            continue
        want = float(row["prompt_cost_usd"]) + float(row["completion_cost_usd"])
        got = float(pricing.price(prompt, output, cache_read_tokens=cache_read))
        assert math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-15), (row["model"], row["note"], got, want)
        compared.append(row["note"])
    assert len(compared) + len(skipped) == len(rows)
    assert len(compared) > 0
    # the semantics the oracles pin down are among the rows compared
    assert any("strict >" in n for n in compared) and any("whole-request tier" in n for n in compared)
    assert any("cache" in n for n in compared)


def test_off_peak_rates_follow_when_with_broadcasting():
    from costsim import OffPeak, OffPeakWindow, RateCard

    p = TokenPricing(3.0, 15.0, off_peak=OffPeak([OffPeakWindow((1, 2, 3, 4, 5), "02:00", "06:00")],
                                                 RateCard(1.0, 5.0)))
    when = np.array(["2026-01-05T03:00", "2026-01-05T12:00", "2026-01-10T03:00"], dtype="datetime64[ns]")
    got = p.price(np.array([[1_000], [2_000]]), 100, when=when)  # (2, 1) x (3,) -> (2, 3)
    assert got.shape == (2, 3)
    peak = p.price(np.array([[1_000], [2_000]]), 100)
    np.testing.assert_array_equal(got[:, 1:], np.broadcast_to(peak, (2, 2)))  # Monday noon, Saturday
    np.testing.assert_array_equal(got[:, 0], (np.array([1_000, 2_000]) * 1.0 + 100 * 5.0) * 1e-6)
    assert OffPeakWindow((1,), "02:00", "06:00").contains(when.reshape(3, 1)).shape == (3, 1)
