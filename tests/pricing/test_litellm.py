"""LiteLLM price-map import: key mapping, the bundled catalog, price(), LiteLLM's cost oracles.

Hand-written entries are checked against point values worked out by hand and against
``_litellm_cost``, a per-call re-implementation of LiteLLM's cost calculator
(``generic_cost_per_token`` / ``_get_token_base_cost``) that reads the entry's keys
directly, as LiteLLM does (missing cache rates bill at the input rate), with costsim's
batch rule (half the standard rate of each long-context band where no ``_batches`` rate
is listed) and off-peak rates for the standard tier only.  LiteLLM itself is the
reference of ``test_litellm_conformance.py``.
"""

import csv
import dataclasses
import gzip
import json
import math
from datetime import datetime, timezone

import numpy as np
import pytest
from conftest import SHARED_DATA

from costsim import LongContextTier, OffPeakWindow, RateCard, TokenPricing
from costsim.pricing import litellm
from costsim.pricing.catalog import CATALOG_MODES
from costsim.pricing.litellm import call_rates, catalog, from_litellm, price

LITELLM = SHARED_DATA / "litellm"
SUBSET = LITELLM / "model_prices_subset.json"
ORACLES = LITELLM / "cost_oracles.csv"
needs_shared = pytest.mark.skipif(
    not (SUBSET.is_file() and ORACLES.is_file()),
    reason=f"LiteLLM reference data not found at {LITELLM} (shared reference data absent)",
)
M = 1e-6


# ---- a per-call reference of LiteLLM's calculator -------------------------------------------

_SUFFIX = {None: "", "standard": "", "batch": "_batches", "flex": "_flex", "priority": "_priority"}


def _unit(entry, key, suffix, default):
    """LiteLLM's _get_cost_per_unit: the tier's key, else the standard key, else default."""
    if suffix and key + suffix in entry:
        return entry[key + suffix]
    return entry.get(key, default)


def _in_window(entry, when):
    block = entry.get("off_peak_pricing")
    if block is None or when is None:
        return False
    t = when.hour * 60 + when.minute

    def inside(spans):
        for span in [spans] if isinstance(spans, str) else spans:
            a, b = ((int(x[:2]) * 60 + int(x[3:])) for x in span.split("-"))
            if (a < b and a <= t < b) or (a >= b and (t >= a or t < b)):  # start == end: whole day
                return True
        return False

    if block.get("hours_utc") and inside(block["hours_utc"]):
        return True
    names = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}
    return any(when.isoweekday() in [names.get(d, d) for d in rule.get("weekdays", range(1, 8))]
               and inside(rule["hours_utc"]) for rule in block.get("windows", []))


def _litellm_cost(entry, prompt, cached=0, write=0, output=0, reasoning=0, tier=None, ttl_1h=False,
                  when=None):
    sfx = "" if tier == "batch" else _SUFFIX[tier]  # batch: the standard rates, then the batch rule below
    band_n = None
    table = entry.get("tiered_pricing")
    reasoning_rate = None
    if table and prompt > 0:
        ranges = sorted(table, key=lambda r: r["range"][0])
        band = next((r for r in ranges if r["range"][0] < prompt <= r["range"][1]), ranges[-1])
        inp = band["input_cost_per_token"]
        out = band.get("output_cost_per_token", entry.get("output_cost_per_token", 0.0))
        cw = band.get("cache_creation_input_token_cost", inp)
        cw1 = band.get("cache_creation_input_token_cost_above_1hr", cw)
        cr = band.get("cache_read_input_token_cost", inp)
        if "output_cost_per_reasoning_token" in band or "output_cost_per_token" in band:
            reasoning_rate = band.get("output_cost_per_reasoning_token", band.get("output_cost_per_token"))
    else:
        inp = _unit(entry, "input_cost_per_token", sfx, 0.0)
        out = _unit(entry, "output_cost_per_token", sfx, 0.0)
        cw = _unit(entry, "cache_creation_input_token_cost", sfx, None)
        cw1 = entry.get("cache_creation_input_token_cost_above_1hr")
        cr = _unit(entry, "cache_read_input_token_cost", sfx, None)
        inclusive = entry.get("litellm_provider") == "xai"

        def threshold(key):
            s = key.split("_above_")[1].split("_tokens")[0]
            return float(s.replace("k", "")) * (1000 if "k" in s else 1)

        keys = [k for k in entry if k.startswith("input_cost_per_token_above_")
                and not k.endswith(("_batches", "_flex", "_priority"))]
        for key in sorted(keys, key=threshold, reverse=True):
            if prompt > threshold(key) or (inclusive and prompt == threshold(key)):
                n = key.split("_above_")[1].split("_tokens")[0]
                inp = _unit(entry, f"input_cost_per_token_above_{n}_tokens", sfx, inp)
                out = _unit(entry, f"output_cost_per_token_above_{n}_tokens", sfx, out)
                cw = _unit(entry, f"cache_creation_input_token_cost_above_{n}_tokens", sfx, cw)
                cw1 = _unit(entry, f"cache_creation_input_token_cost_above_1hr_above_{n}_tokens", sfx, cw1)
                cr = _unit(entry, f"cache_read_input_token_cost_above_{n}_tokens", sfx, cr)
                band_n = n
                break
        if tier == "batch":  # costsim's batch rule (LiteLLM's batch_cost_calculator, per long-context band)
            def listed(key, default):
                return entry.get(f"{key}_above_{band_n}_tokens_batches" if band_n else f"{key}_batches", default)

            def half(rate):
                return None if rate is None else rate / 2

            half_all = "input_cost_per_token_batches" not in entry
            inp, out = listed("input_cost_per_token", inp / 2), listed("output_cost_per_token", out / 2)
            cr = listed("cache_read_input_token_cost", half(cr) if half_all else cr)
            cw = listed("cache_creation_input_token_cost", half(cw) if half_all else None)
            cw1 = listed("cache_creation_input_token_cost_above_1hr", half(cw1) if half_all else None)
            reasoning_rate = listed("output_cost_per_reasoning_token", out)
    off_peak = tier in (None, "standard") and _in_window(entry, when)
    if off_peak:
        block = entry["off_peak_pricing"]
        inp = block.get("input_cost_per_token", inp)
        out = block.get("output_cost_per_token", out)
        cr = block.get("cache_read_input_token_cost", cr)
        cw = block.get("cache_creation_input_token_cost", cw)
    # costsim: an unknown cache rate bills at the input rate (LiteLLM: 0)
    cr = inp if cr is None else cr
    cw = inp if cw is None else cw
    cw1 = cw if cw1 is None else cw1
    # LiteLLM's _resolve_billed_reasoning_rate
    if off_peak and "output_cost_per_reasoning_token" in entry["off_peak_pricing"]:
        reasoning_rate = entry["off_peak_pricing"]["output_cost_per_reasoning_token"]
    elif reasoning_rate is None:
        if sfx and entry.get("output_cost_per_reasoning_token" + sfx) is not None:
            reasoning_rate = entry["output_cost_per_reasoning_token" + sfx]
        elif sfx and entry.get("output_cost_per_token" + sfx) is not None:
            reasoning_rate = out
        else:
            reasoning_rate = entry.get("output_cost_per_reasoning_token", out)
    return ((prompt - cached - write) * inp + cached * cr + write * (cw1 if ttl_1h else cw)
            + output * out + reasoning * reasoning_rate)


def _random_calls(rng, n, top):
    prompt = rng.integers(0, top, size=n)
    cached = (prompt * rng.random(n) * 0.6).astype(np.int64)
    write = ((prompt - cached) * rng.random(n) * 0.5).astype(np.int64)
    output = rng.integers(0, 5_000, size=n)
    reasoning = rng.integers(0, 3_000, size=n) * (rng.random(n) < 0.5)
    return prompt, cached, write, output, reasoning


def _check_against_reference(entry, tiers, top, *, seed=0, n=400, thresholds=()):
    pricing = from_litellm("m", {"m": entry})
    rng = np.random.default_rng(seed)
    prompt, cached, write, output, reasoning = _random_calls(rng, n, top)
    # the thresholds and their neighbours, always
    edge = np.array([t + d for t in thresholds for d in (-1, 0, 1)], dtype=np.int64)
    prompt = np.concatenate([prompt, edge])
    zeros = np.zeros(edge.size, dtype=np.int64)
    cached, write = np.concatenate([cached, zeros]), np.concatenate([write, edge // 4])
    output, reasoning = np.concatenate([output, zeros + 700]), np.concatenate([reasoning, zeros + 300])
    for tier in tiers:
        for ttl in ("5m", "1h"):
            got = price(pricing, prompt, output, cache_read_tokens=cached, cache_write_tokens=write,
                        reasoning_tokens=reasoning, service_tier=tier, cache_write_ttl=ttl)
            for i in range(prompt.size):
                want = _litellm_cost(entry, int(prompt[i]), int(cached[i]), int(write[i]), int(output[i]),
                                     int(reasoning[i]), tier, ttl == "1h")
                assert got[i] == pytest.approx(want, rel=1e-12, abs=1e-18), (tier, ttl, i, prompt[i])


# ---- LiteLLM's own numbers ------------------------------------------------------------------


@needs_shared
@pytest.mark.parametrize("price_map", [SUBSET, None], ids=["subset", "shipped catalog, no price_map"])
def test_every_cost_oracle_is_reproduced(price_map):
    with open(ORACLES, newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) >= 13
    for row in rows:
        tier = "batch" if row["batch"] == "True" else (row["service_tier"] or None)
        pricing = from_litellm(row["model"], price_map)
        got = float(price(pricing, int(row["prompt_tokens"]), int(row["completion_tokens"]),
                          cache_read_tokens=int(row["cache_read_tokens"]),
                          cache_write_tokens=int(row["cache_creation_tokens"]), service_tier=tier))
        want = float(row["prompt_cost_usd"]) + float(row["completion_cost_usd"])
        assert math.isclose(got, want, rel_tol=1e-12), (row["model"], row["note"], got, want)


@needs_shared
def test_oracle_rows_agree_with_the_reference_calculator():
    """The reference used below reproduces LiteLLM's numbers too (it is a faithful reading)."""
    prices = json.loads(SUBSET.read_text())
    with open(ORACLES, newline="") as f:
        for row in csv.DictReader(f):
            tier = "batch" if row["batch"] == "True" else (row["service_tier"] or None)
            want = float(row["prompt_cost_usd"]) + float(row["completion_cost_usd"])
            got = _litellm_cost(prices[row["model"]], int(row["prompt_tokens"]), int(row["cache_read_tokens"]),
                                int(row["cache_creation_tokens"]), int(row["completion_tokens"]), tier=tier)
            assert math.isclose(got, want, rel_tol=1e-12), row["note"]


@needs_shared
def test_every_token_priced_model_of_the_subset_maps():
    prices = json.loads(SUBSET.read_text())
    for name, entry in prices.items():
        if name == "whisper-1":
            with pytest.raises(ValueError, match=r"'whisper-1' has prices costsim cannot map: "
                                                 r"\['input_cost_per_second', 'output_cost_per_second'\]"):
                from_litellm(name, SUBSET)
            continue
        ignore = "*audio*" if name == "gemini/gemini-2.5-flash" else ()
        pricing = from_litellm(name, prices, ignore=ignore)
        assert isinstance(pricing, TokenPricing)
        tiers = [t for t in pricing.tiers]
        top = 2 * max(entry.get("max_input_tokens", 100_000), 300_000)
        _check_against_reference({k: v for k, v in entry.items() if "audio" not in k}, tiers, top,
                                 n=60, thresholds=[t.threshold for t in pricing.long_context])


@needs_shared
def test_audio_token_prices_are_recorded_as_not_applied_and_leave_text_bills_alone():
    pricing = from_litellm("gemini/gemini-2.5-flash", SUBSET)
    assert "input_cost_per_audio_token" in pricing.not_applied
    assert "cache_read_input_audio_token_cost_priority" in pricing.not_applied
    assert all("audio" in key for key in pricing.not_applied)
    text_only = from_litellm("gemini/gemini-2.5-flash", SUBSET, ignore="*audio*")
    assert text_only.not_applied is None
    assert dataclasses.replace(pricing, not_applied=None) == text_only


@needs_shared
def test_the_catalog_holds_the_subsets_chat_entries_unchanged():
    prices = json.loads(SUBSET.read_text())
    shipped = bundled_catalog()
    chat = [name for name, entry in prices.items() if entry.get("mode") in CATALOG_MODES]
    assert len(chat) >= 9
    for name in chat:
        assert {key: shipped[name][key] for key in prices[name]} == prices[name], name


# ---- the shipped catalog --------------------------------------------------------------------


def bundled_catalog():
    with gzip.open(litellm.CATALOG, "rt", encoding="utf-8") as f:
        return json.load(f)


def test_catalog_metadata():
    info = catalog()
    assert info["date"] == "2026-11-27" and info["litellm_version"] == "1.110.2"
    assert any("litellm 1.110.2" in s for s in info["sources"]) and info["license"].startswith("MIT")
    assert "whisper-1" not in info["models"] and "_meta" not in info["models"]
    assert {"gpt-4o", "claude-sonnet-4-5", "gemini/gemini-2.5-pro"} <= set(info["models"])
    assert len(info["models"]) > 3_000


def test_catalog_holds_only_chat_capable_and_embedding_entries():
    data = bundled_catalog()
    for name in catalog()["models"]:
        entry = data[name]
        entry = data.get(entry["alias_of"], {}) if "alias_of" in entry else entry
        assert entry["mode"] in CATALOG_MODES, name


def test_some_catalog_models_load_and_price():
    for name in ("gpt-4o", "claude-sonnet-4-5", "gemini/gemini-2.5-pro", "deepseek/deepseek-v4-flash", "gpt-5"):
        pricing = from_litellm(name)
        assert pricing.max_input_tokens > 0 and pricing.max_output_tokens > 0
        for tier in pricing.tiers:
            assert float(price(name, 1_000, 100, service_tier=tier)) > 0


def test_an_alias_prices_as_the_entry_it_names():
    data = bundled_catalog()
    alias = next(name for name, entry in data.items() if isinstance(entry, dict) and "alias_of" in entry)
    assert from_litellm(alias) == from_litellm(data[alias]["alias_of"])
    with pytest.raises(ValueError, match=r"'b': alias_of 'a' names a cycle \(a -> b -> a\)"):
        from_litellm("a", {"a": {"alias_of": "b"}, "b": {"alias_of": "a"}})
    with pytest.raises(ValueError, match=r"alias_of 'x' names a model not in the price map"):
        from_litellm("a", {"a": {"alias_of": "x"}})


def test_catalog_is_package_data():
    from importlib.resources import files

    raw = files("costsim.pricing").joinpath("catalog.json.gz").read_bytes()
    assert json.loads(gzip.decompress(raw))["_meta"]["date"] == "2026-11-27"
    note = files("costsim.pricing").joinpath("CATALOG_LICENSE").read_text(encoding="utf-8")
    assert "MIT License" in note and "litellm 1.110.2" in note


# ---- key families ---------------------------------------------------------------------------

BASE = {
    "litellm_provider": "acme", "mode": "chat", "max_input_tokens": 1_000_000, "source": "https://example",
    "input_cost_per_token": 1e-06, "output_cost_per_token": 4e-06,
    "cache_read_input_token_cost": 1e-07, "cache_creation_input_token_cost": 1.25e-06,
    "cache_creation_input_token_cost_above_1hr": 2e-06,
}

THRESHOLDS_X_TIERS = {
    **BASE,
    "input_cost_per_token_above_128k_tokens": 2e-06, "output_cost_per_token_above_128k_tokens": 8e-06,
    "cache_read_input_token_cost_above_128k_tokens": 2e-07,
    "cache_creation_input_token_cost_above_128k_tokens": 2.5e-06,
    "input_cost_per_token_above_256k_tokens": 3e-06, "output_cost_per_token_above_256k_tokens": 1.2e-05,
    "cache_creation_input_token_cost_above_1hr_above_256k_tokens": 6e-06,
    # priority: its own base and 128k input; the rest falls back to the standard keys
    "input_cost_per_token_priority": 1.8e-06, "output_cost_per_token_priority": 7.2e-06,
    "input_cost_per_token_above_128k_tokens_priority": 3.6e-06,
    # batch: half of everything, thresholds included
    "input_cost_per_token_batches": 5e-07, "output_cost_per_token_batches": 2e-06,
    "cache_read_input_token_cost_batches": 5e-08,
    "input_cost_per_token_above_128k_tokens_batches": 1e-06, "output_cost_per_token_above_128k_tokens_batches": 4e-06,
    "input_cost_per_token_above_256k_tokens_batches": 1.5e-06, "output_cost_per_token_above_256k_tokens_batches": 6e-06,
    "input_cost_per_token_flex": 5e-07,
}


def test_thresholds_by_tiers_map_to_cards():
    p = from_litellm("m", {"m": THRESHOLDS_X_TIERS})
    assert p.tiers == ("standard", "batch", "flex", "priority")
    assert (p.input, p.output, p.cached_input, p.cache_write, p.cache_write_1h, p.reasoning) == (
        1.0, 4.0, 0.1, 1.25, 2.0, None)
    assert p.long_context == (
        LongContextTier(128_000, 2.0, 8.0, cached_input=0.2, cache_write=2.5, cache_write_1h=2.0),
        # missing above 256k: the base rates, as LiteLLM (not the 128k ones)
        LongContextTier(256_000, 3.0, 12.0, cached_input=0.1, cache_write=1.25, cache_write_1h=6.0),
    )
    priority = p.service_tiers["priority"]
    assert (priority.input, priority.output, priority.cached_input) == (1.8, 7.2, 0.1)
    # tier key -> standard key of the same threshold -> the tier's base rate
    assert priority.long_context[0] == LongContextTier(128_000, 3.6, 8.0, cached_input=0.2, cache_write=2.5,
                                                       cache_write_1h=2.0)
    assert priority.long_context[1].input == 3.0 and priority.long_context[1].output == 12.0
    batch = p.service_tiers["batch"]
    assert (batch.input, batch.output, batch.cached_input) == (0.5, 2.0, 0.05)
    assert [(t.threshold, t.input, t.output) for t in batch.long_context] == [(128_000, 1.0, 4.0), (256_000, 1.5, 6.0)]
    assert p.service_tiers["flex"].input == 0.5 and p.service_tiers["flex"].output == 4.0


@pytest.mark.parametrize(
    "prompt, tier, want_rates",
    [
        (128_000, None, (1.0, 4.0)),  # exactly the threshold: base (strict >)
        (128_001, None, (2.0, 8.0)),  # whole call at the 128k rates
        (256_001, None, (3.0, 12.0)),
        (128_001, "priority", (3.6, 8.0)),
        (300_000, "batch", (1.5, 6.0)),
    ],
)
def test_thresholds_by_tiers_point_values(prompt, tier, want_rates):
    inp, out = want_rates
    got = float(price(from_litellm("m", {"m": THRESHOLDS_X_TIERS}), prompt, 1_000, service_tier=tier))
    assert got == pytest.approx((prompt * inp + 1_000 * out) * M, rel=1e-14)


def test_thresholds_by_tiers_match_the_reference():
    _check_against_reference(THRESHOLDS_X_TIERS, [None, "batch", "flex", "priority"], 400_000,
                             thresholds=[128_000, 256_000])


def test_threshold_without_k_and_with_the_tier_before_the_threshold():
    entry = {**BASE, "input_cost_per_token_above_5000_tokens": 2e-06,
             "input_cost_per_token_priority": 3e-06, "input_cost_per_token_priority_above_5000_tokens": 6e-06}
    p = from_litellm("m", {"m": entry})
    assert p.long_context[0].threshold == 5_000
    assert p.service_tiers["priority"].long_context[0].input == 6.0
    entry["input_cost_per_token_above_5000_tokens_priority"] = 7e-06  # the same rate spelt twice, differently
    with pytest.raises(ValueError, match=r"input_cost_per_token_above_5000_tokens_priority \(7e-06\) conflicts "
                                         r"with input_cost_per_token_priority_above_5000_tokens"):
        from_litellm("m", {"m": entry})


def test_xai_thresholds_are_inclusive():
    entry = {**BASE, "litellm_provider": "xai", "input_cost_per_token_above_128k_tokens": 2e-06,
             "output_cost_per_token_above_128k_tokens": 8e-06}
    p = from_litellm("m", {"m": entry})
    assert p.long_context[0].threshold == 127_999
    got = price(p, [127_999, 128_000], 0)
    np.testing.assert_allclose(got, [127_999 * 1.0 * M, 128_000 * 2.0 * M], rtol=1e-14)
    _check_against_reference(entry, [None], 300_000, thresholds=[128_000])


TIERED = {
    "litellm_provider": "dashscope", "mode": "chat",
    "output_cost_per_token": 9e-06,  # used by a range without its own output rate
    "tiered_pricing": [
        {"range": [0, 32_000], "input_cost_per_token": 3e-07, "output_cost_per_token": 1.5e-06,
         "cache_read_input_token_cost": 6e-08, "output_cost_per_reasoning_token": 3e-06},
        {"range": [32_000.0, 128_000.0], "input_cost_per_token": 6e-07, "output_cost_per_token": 3e-06},
        {"range": [128_000, 1_000_000], "input_cost_per_token": 1.2e-06,
         "cache_creation_input_token_cost": 1.5e-06, "cache_creation_input_token_cost_above_1hr": 2.4e-06},
    ],
}


def test_tiered_pricing_maps_to_whole_call_tiers():
    p = from_litellm("m", {"m": TIERED})
    assert (p.input, p.output, p.cached_input, p.cache_write, p.reasoning) == (0.3, 1.5, 0.06, None, 3.0)
    assert p.long_context == (
        LongContextTier(32_000, 0.6, 3.0),  # reasoning None: its own output, as LiteLLM
        LongContextTier(128_000, 1.2, 9.0, cache_write=1.5, cache_write_1h=2.4),
    )
    assert p.tiers == ("standard",)
    # a prompt of exactly a range's end stays in that range; beyond the last range, the last range
    got = price(p, [32_000, 32_001, 128_000, 128_001, 5_000_000], 10)
    want = [32_000 * 0.3 + 15, 32_001 * 0.6 + 30, 128_000 * 0.6 + 30, 128_001 * 1.2 + 90, 5_000_000 * 1.2 + 90]
    np.testing.assert_allclose(got, np.array(want) * M, rtol=1e-14)
    _check_against_reference(TIERED, [None], 1_500_000, thresholds=[32_000, 128_000])


@pytest.mark.parametrize(
    "ranges, message",
    [
        ([[0, 100], [50, 200]], r"tiered_pricing\[1\].range \[50, 200\] overlaps the previous range \[0, 100\]"),
        ([[0, 100], [200, 300], [100, 200]],
         r"tiered_pricing ranges must be sorted by start; got \[\[0, 100\], \[200, 300\], \[100, 200\]\]"),
        ([[0, 100], [150, 300]], r"tiered_pricing\[1\].range \[150, 300\] leaves a gap after"),
        ([[10, 100]], r"tiered_pricing\[0\].range must start at 0; got \[10, 100\]"),
        ([[0, 100], [100, 100]], r"tiered_pricing\[1\].range must have 0 <= start < end; got \[100, 100\]"),
        ([[0, 100.5]], r"tiered_pricing\[0\].range must be \[start, end\] whole token counts"),
        ([[0]], r"tiered_pricing\[0\].range must be \[start, end\]"),
    ],
)
def test_malformed_tiered_pricing(ranges, message):
    entry = {"mode": "chat", "output_cost_per_token": 1e-06,
             "tiered_pricing": [{"range": r, "input_cost_per_token": 1e-06} for r in ranges]}
    with pytest.raises(ValueError, match=r"LiteLLM entry 'm': " + message):
        from_litellm("m", {"m": entry})


@pytest.mark.parametrize(
    "change, message",
    [
        ({"tiered_pricing": []}, r"tiered_pricing must be a non-empty list of ranges"),
        ({"tiered_pricing": [{"range": [0, 10], "input_cost_per_audio_token": 1e-06, "input_cost_per_token": 1e-06}]},
         r"tiered_pricing\[0\] has keys costsim cannot map: \['input_cost_per_audio_token'\]"),
        ({"tiered_pricing": [{"range": [0, 10], "output_cost_per_token": 1e-06}]},
         r"tiered_pricing\[0\] has no input_cost_per_token"),
        ({"input_cost_per_token_batches": 1e-07}, r"tiered_pricing cannot be combined with service-tier or threshold keys "
                                                  r"\['input_cost_per_token_batches'\]"),
        ({"input_cost_per_token": 5e-07}, r"tiered_pricing conflicts with the top-level input_cost_per_token "
                                          r"\(0.5 per 1M; the first range has 0.3\)"),
    ],
)
def test_bad_tiered_pricing_entries(change, message):
    with pytest.raises(ValueError, match=r"LiteLLM entry 'm': " + message):
        from_litellm("m", {"m": {**TIERED, **change}})


def test_tiered_pricing_top_level_rates_equal_to_the_first_range_are_fine():
    assert from_litellm("m", {"m": {**TIERED, "input_cost_per_token": 3e-07}}) == from_litellm("m", {"m": TIERED})


OFF_PEAK = {
    **BASE,
    "off_peak_pricing": {
        "input_cost_per_token": 5e-07, "output_cost_per_token": 2e-06, "cache_read_input_token_cost": 5e-08,
        "windows": [
            {"hours_utc": ["00:00-01:00", "16:30-00:00"], "weekdays": [1, 2, 3, 4, 5]},
            {"hours_utc": "22:00-02:00", "weekdays": ["wed"]},  # past midnight: hours tested apart from the day
            {"hours_utc": "00:00-00:00", "weekdays": [6, 7]},  # weekends, the whole day
        ],
    },
    "input_cost_per_token_priority": 2e-06,
}


def test_off_peak_windows_map():
    p = from_litellm("m", {"m": OFF_PEAK})
    weekdays = (1, 2, 3, 4, 5)
    assert p.off_peak.windows == (
        OffPeakWindow(weekdays, "00:00", "01:00"), OffPeakWindow(weekdays, "16:30", "00:00"),
        OffPeakWindow((3,), "22:00", "00:00"), OffPeakWindow((3,), "00:00", "02:00"),
        OffPeakWindow((6, 7), "00:00", "00:00"),
    )
    # unset off-peak rates keep the standard ones
    assert p.off_peak.rates == RateCard(0.5, 2.0, cached_input=0.05, cache_write=1.25, cache_write_1h=2.0)


@pytest.mark.parametrize(
    "when, off_peak",
    [
        ("2026-11-23T00:30", True),   # Monday, 00:00-01:00
        ("2026-11-23T01:00", False),  # end exclusive
        ("2026-11-23T16:29", False),
        ("2026-11-23T16:30", True),   # start inclusive
        ("2026-11-23T23:59", True),   # "16:30-00:00" runs to midnight
        ("2026-11-25T01:30", True),   # Wednesday, the morning part of 22:00-02:00
        ("2026-11-26T01:30", False),  # Thursday: not a Wednesday, whatever the evening before was
        ("2026-11-28T12:00", True),   # Saturday, whole day
        ("2026-11-29T23:59", True),   # Sunday
        ("2026-11-29T23:59:59+00:00", True),
        ("2026-11-30T12:00", False),  # Monday midday
    ],
)
def test_off_peak_rates_by_time(when, off_peak):
    p = from_litellm("m", {"m": OFF_PEAK})
    got = float(price(p, 10_000, 1_000, cache_read_tokens=4_000, when=when))
    stamp = datetime.fromisoformat(when).replace(tzinfo=None)
    assert _in_window(OFF_PEAK, stamp) is off_peak
    want = _litellm_cost(OFF_PEAK, 10_000, 4_000, 0, 1_000, when=stamp)
    assert got == pytest.approx(want, rel=1e-14)
    base = float(price(p, 10_000, 1_000, cache_read_tokens=4_000))
    assert (got < base) is off_peak


def test_off_peak_times_broadcast_and_apply_to_the_standard_tier_only():
    p = from_litellm("m", {"m": OFF_PEAK})
    when = np.array(["2026-11-28T12:00", "2026-11-30T12:00"], dtype="datetime64[m]")
    np.testing.assert_allclose(price(p, [[1_000_000], [2_000_000]], 0, when=when),
                               [[0.5, 1.0], [1.0, 2.0]], rtol=1e-14)
    aware = datetime(2026, 11, 28, 12, tzinfo=timezone.utc)
    assert float(price(p, 1_000_000, 0, when=aware)) == pytest.approx(0.5, rel=1e-14)
    assert float(price(p, 1_000_000, 0, when="2026-11-28T12:00", service_tier="priority")) == pytest.approx(2.0)


def test_flat_hours_utc_apply_every_day_and_off_peak_follows_long_context_for_unset_rates():
    entry = {**BASE, "input_cost_per_token_above_200k_tokens": 2e-06, "output_cost_per_token_above_200k_tokens": 8e-06,
             "off_peak_pricing": {"hours_utc": "18:00-06:00", "input_cost_per_token": 5e-07}}
    p = from_litellm("m", {"m": entry})
    assert p.off_peak.windows == (OffPeakWindow(tuple(range(1, 8)), "18:00", "00:00"),
                                  OffPeakWindow(tuple(range(1, 8)), "00:00", "06:00"))
    # off-peak input replaces the rate for the whole call, long context or not; output keeps its tier
    assert p.off_peak.rates.input == 0.5 and p.off_peak.rates.long_context[0].input == 0.5
    assert p.off_peak.rates.long_context[0].output == 8.0
    for when in ("2026-11-28T20:00", "2026-11-28T12:00"):
        stamp = datetime.fromisoformat(when)
        for prompt in (100_000, 300_000):
            assert float(price(p, prompt, 100, reasoning_tokens=50, when=when)) == pytest.approx(
                _litellm_cost(entry, prompt, 0, 0, 100, 50, when=stamp), rel=1e-14)


def test_off_peak_reasoning_on_tiered_pricing_follows_the_standard_output():
    entry = {**TIERED, "off_peak_pricing": {"hours_utc": "00:00-00:00", "output_cost_per_token": 1e-07}}
    p = from_litellm("m", {"m": entry})
    stamp = datetime(2026, 11, 28, 12)
    for prompt in (10_000, 50_000, 200_000):
        got = float(price(p, prompt, 100, reasoning_tokens=1_000, when=stamp))
        assert got == pytest.approx(_litellm_cost(entry, prompt, 0, 0, 100, 1_000, when=stamp), rel=1e-14)
    assert p.off_peak.rates.long_context[0].reasoning == 3.0  # range 2's standard output, not 0.1


@pytest.mark.parametrize(
    "block, message",
    [
        ({"hours_utc": "25:00-01:00"}, r"hours_utc: '25:00-01:00' is not an 'HH:MM-HH:MM' UTC window"),
        ({"hours_utc": ["10-12"]}, r"'10-12' is not an 'HH:MM-HH:MM' UTC window"),
        ({"windows": [{"hours_utc": "01:00-02:00", "weekdays": [0]}]}, r"weekdays must list days 1 \(Monday\)"),
        ({"windows": [{"weekdays": [1]}]}, r"windows\[0\] must be \{'hours_utc'"),
        ({"input_cost_per_token": 1e-07}, r"has no windows"),
        ({"hours_utc": "01:00-02:00", "input_cost_per_token_above_200k_tokens": 1e-07},
         r"has keys costsim cannot map: \['input_cost_per_token_above_200k_tokens'\]"),
        ({"hours_utc": "01:00-02:00", "weekday_timezone": "America/New_York"},
         r"weekday_timezone 'America/New_York' changes its UTC offset"),
    ],
)
def test_malformed_off_peak(block, message):
    with pytest.raises(ValueError, match=r"LiteLLM entry 'm': off_peak_pricing" + ".*" + message):
        from_litellm("m", {"m": {**BASE, "off_peak_pricing": block}})


def test_one_hour_cache_writes():
    p = from_litellm("m", {"m": BASE})
    five, hour = (float(price(p, 10_000, 0, cache_write_tokens=8_000, cache_write_ttl=ttl)) for ttl in ("5m", "1h"))
    assert five == pytest.approx((2_000 * 1.0 + 8_000 * 1.25) * M, rel=1e-14)
    assert hour == pytest.approx((2_000 * 1.0 + 8_000 * 2.0) * M, rel=1e-14)
    # no 1-hour rate: the 5-minute one; no write rate at all: the input rate
    no_1h = {k: v for k, v in BASE.items() if k != "cache_creation_input_token_cost_above_1hr"}
    assert float(price(from_litellm("m", {"m": no_1h}), 10_000, 0, cache_write_tokens=8_000,
                       cache_write_ttl="1h")) == pytest.approx(five, rel=1e-14)
    plain = {"mode": "chat", "input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06}
    assert float(price(from_litellm("m", {"m": plain}), 10_000, 0, cache_write_tokens=8_000,
                       cache_read_tokens=1_000, cache_write_ttl="1h")) == pytest.approx(10_000 * M, rel=1e-14)


REASONING = {
    **BASE,
    "output_cost_per_reasoning_token": 6e-06,
    "input_cost_per_token_above_200k_tokens": 2e-06, "output_cost_per_token_above_200k_tokens": 8e-06,
    "output_cost_per_token_priority": 7e-06,  # own output, no reasoning rate: reasoning at 7
    "input_cost_per_token_flex": 5e-07, "output_cost_per_reasoning_token_flex": 1e-06,
    "input_cost_per_token_batches": 5e-07,  # no own output: the standard reasoning rate
}


def test_reasoning_rates():
    p = from_litellm("m", {"m": REASONING})
    assert p.reasoning == 6.0 and p.long_context[0].reasoning == 6.0  # an explicit rate is flat
    assert p.service_tiers["priority"].reasoning is None  # follows the priority output
    assert p.service_tiers["flex"].reasoning == 1.0
    # batch: LiteLLM's batch_cost_calculator bills reasoning as completion tokens at the batch output rate
    assert p.service_tiers["batch"].reasoning is None
    got = float(price(p, 1_000, 100, reasoning_tokens=1_000, service_tier="priority"))
    assert got == pytest.approx((1_000 * 1.0 + 100 * 7.0 + 1_000 * 7.0) * M, rel=1e-14)
    _check_against_reference(REASONING, [None, "batch", "flex", "priority"], 400_000, thresholds=[200_000])


def test_uplifts_apply_only_when_chosen():
    entry = {**BASE, "fedramp_uplift_multiplier": 1.1, "regional_endpoint_uplift_multiplier": 1.25,
             "regional_processing_uplift_multiplier_eu": 1.1, "provider_specific_entry": {"us": 1.05},
             "search_context_cost_per_query": {"search_context_size_low": 0.01, "search_context_size_medium": 0.02,
                                               "search_context_size_high": 0.03}}
    plain = from_litellm("m", {"m": entry})
    assert plain.multiplier == 1.0 and plain.fee_per_tool_call == 0.0
    base = float(price(plain, 10_000, 1_000))
    for name, factor in [("fedramp", 1.1), ("regional_endpoint", 1.25), ("regional_processing_eu", 1.1), ("us", 1.05)]:
        p = from_litellm("m", {"m": entry}, uplift=name)
        assert p.multiplier == factor
        assert float(price(p, 10_000, 1_000)) == pytest.approx(base * factor, rel=1e-14)
    with pytest.raises(ValueError, match=r"LiteLLM entry 'm' has no uplift 'gov'; it has \['fedramp', "
                                         r"'regional_endpoint', 'regional_processing_eu', 'us'\]"):
        from_litellm("m", {"m": entry}, uplift="gov")
    search = from_litellm("m", {"m": entry}, web_search=True, search_context="high")
    assert search.fee_per_tool_call == 0.03
    assert float(price(search, 10_000, 1_000, tool_calls=2)) == pytest.approx(base + 0.06, rel=1e-14)
    assert from_litellm("m", {"m": {**entry, "search_context_cost_per_query": 0.005}},
                        web_search=True).fee_per_tool_call == 0.005


def test_web_search_needs_a_search_price():
    with pytest.raises(ValueError, match=r"'m' has no search_context_cost_per_query \(web_search=True\)"):
        from_litellm("m", {"m": BASE}, web_search=True)
    with pytest.raises(ValueError, match=r"search_context must be 'low', 'medium' or 'high'; got 'huge'"):
        from_litellm("m", {"m": {**BASE, "search_context_cost_per_query": 0.01}}, web_search=True,
                     search_context="huge")


def test_informational_keys_are_ignored_and_cache_hit_duplicates_cache_read():
    entry = {**BASE, "max_output_tokens": 8192, "deprecation_date": "2027-01-01", "prompt_cache_min_tokens": 1024,
             "output_vector_size": 1536, "supports_vision": True, "supported_modalities": ["text"],
             "max_tokens_per_request": 4096,
             "input_cost_per_token_cache_hit": 1e-07}
    imported = from_litellm("m", {"m": entry})
    assert imported.max_output_tokens == 8192 and imported.max_input_tokens == 1_000_000
    assert dataclasses.replace(imported, max_output_tokens=None) == from_litellm("m", {"m": BASE})
    no_read = {k: v for k, v in entry.items() if k != "cache_read_input_token_cost"}
    assert from_litellm("m", {"m": no_read}).cached_input == 0.1
    with pytest.raises(ValueError, match=r"input_cost_per_token_cache_hit \(0.2 per 1M\) conflicts"):
        from_litellm("m", {"m": {**entry, "input_cost_per_token_cache_hit": 2e-07}})


def test_rates_are_converted_exactly_to_per_million():
    p = from_litellm("m", {"m": {"mode": "chat", "input_cost_per_token": 1.25e-06, "output_cost_per_token": 3e-06,
                                 "cache_read_input_token_cost": 6e-09, "output_cost_per_reasoning_token": "2.5e-06"}})
    assert (p.input, p.output, p.cached_input, p.reasoning) == (1.25, 3.0, 0.006, 2.5)


def test_embedding_without_output_rate_is_free_output_but_chat_is_an_error():
    assert from_litellm("e", {"e": {"mode": "embedding", "input_cost_per_token": 1e-08}}).output == 0.0
    with pytest.raises(ValueError, match=r"'c' has no output_cost_per_token \(mode 'chat'\)"):
        from_litellm("c", {"c": {"mode": "chat", "input_cost_per_token": 1e-08}})


# ---- bad inputs -----------------------------------------------------------------------------


def test_unknown_model_lists_close_matches():
    with pytest.raises(ValueError) as info:
        from_litellm("gpt-4oo")
    message = str(info.value)
    assert message.startswith("unknown model 'gpt-4oo': not in the price map")
    assert "close matches: ['gpt-4o'," in message
    with pytest.raises(ValueError, match=r"close matches: .*'gemini/gemini-2.5-pro'"):
        from_litellm("gemini/gemini-2.5-pro-x")
    with pytest.raises(ValueError, match=r"unknown model 'zzz'"):
        price("zzz", 1, 1)
    with pytest.raises(ValueError, match=r"unknown model '_meta'"):
        from_litellm("_meta")


@pytest.mark.parametrize(
    "extra, keys",
    [
        ({"input_cost_per_second": 1e-04}, "['input_cost_per_second']"),
        ({"output_cost_per_minute": 1e-03, "input_cost_per_query": 0.04},
         "['input_cost_per_query', 'output_cost_per_minute']"),
        ({"input_cost_per_token_batches_priority": 1e-06}, "['input_cost_per_token_batches_priority']"),
        ({"input_cost_per_token_above_1m_tokens": 1e-06}, "['input_cost_per_token_above_1m_tokens']"),
        ({"provider_specific_entry": {"openrouter": {"x": 1}}}, "[\"provider_specific_entry['openrouter']\"]"),
        ({"vector_store_cost_per_session": 0.03}, "['vector_store_cost_per_session']"),
    ],
)
def test_unmappable_price_keys_raise_naming_model_and_keys(extra, keys):
    with pytest.raises(ValueError) as info:
        from_litellm("acme/model-1", {"acme/model-1": {**BASE, **extra}})
    assert str(info.value).startswith(f"LiteLLM entry 'acme/model-1' has prices costsim cannot map: {keys}")
    patterns = [k.strip("'\"[]") for k in keys.split(", ")]
    if "provider_specific_entry" not in keys:
        assert from_litellm("acme/model-1", {"acme/model-1": {**BASE, **extra}}, ignore=patterns) == \
            from_litellm("m", {"m": BASE})


@pytest.mark.parametrize(
    "entry, message",
    [
        ({**BASE, "input_cost_per_token": -1e-06}, r"input_cost_per_token must be a finite number >= 0; got -1e-06"),
        ({**BASE, "output_cost_per_token": "cheap"}, r"output_cost_per_token must be a number; got 'cheap'"),
        ({**BASE, "output_cost_per_token_above_200k_tokens": 1e-06},
         r"has \['output_cost_per_token_above_200k_tokens'\] but no standard input rate above that threshold"),
        ({"mode": "chat", "output_cost_per_token": 1e-06}, r"has no input_cost_per_token"),
        ({**BASE, "fedramp_uplift_multiplier": 0}, r"fedramp_uplift_multiplier must be a finite number > 0"),
        ({**BASE, "litellm_provider": "xai", "input_cost_per_token_above_0k_tokens": 1e-06},
         r"input_cost_per_token_above_0k_tokens has a threshold below 1 token"),
        ({**BASE, "input_cost_per_token_above_0.5_tokens": 1e-06}, r"has a threshold of 0.5 tokens, not an integer"),
    ],
)
def test_malformed_entries(entry, message):
    with pytest.raises(ValueError, match=r"LiteLLM entry 'm'.*" + message):
        from_litellm("m", {"m": entry}, uplift="fedramp" if "fedramp" in str(entry) else None)


def test_price_map_from_a_file(tmp_path):
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"m": BASE}))
    assert from_litellm("m", path) == from_litellm("m", str(path)) == from_litellm("m", {"m": BASE})
    path.write_text("{not json")
    with pytest.raises(ValueError, match=r"is not valid JSON"):
        from_litellm("m", path)
    with pytest.raises(ValueError, match=r"price_map must be a path, a mapping of model entries or None; got 3"):
        from_litellm("m", 3)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"input_tokens": -1}, "input_tokens must be non-negative integer token counts; got -1"),
        ({"output_tokens": 1.5}, "output_tokens must be non-negative integer token counts; got 1.5"),
        ({"cache_read_tokens": np.nan}, "cache_read_tokens must be non-negative integer token counts; got nan"),
        ({"reasoning_tokens": [1, -2]}, "reasoning_tokens must be non-negative integer token counts; got -2"),
        ({"cache_write_tokens": "7"}, "cache_write_tokens must be non-negative integer token counts; got '7'"),
        ({"cache_read_tokens": 600, "cache_write_tokens": 500},
         r"cache_read_tokens + cache_write_tokens must be <= input_tokens (both are part of the prompt); "
         "got 600 + 500 > 1000"),
        ({"service_tier": "flex"}, "service tier 'flex' is not offered by this TokenPricing; it offers "
                                   "['standard', 'batch', 'priority']"),
        ({"cache_write_ttl": "2h"}, "cache_write_ttl must be '5m' or '1h'; got '2h'"),
        ({"when": "someday"}, "when must be UTC times"),
    ],
)
def test_price_rejects_bad_input(kwargs, message):
    args = {"input_tokens": 1_000, "output_tokens": 10, **kwargs}
    with pytest.raises(ValueError) as info:
        price("gpt-4o", **args)
    assert str(info.value).startswith(message)


def test_price_unknown_tier_on_a_pricing_object():
    with pytest.raises(ValueError, match=r"service tier 'batch' is not offered by this TokenPricing; "
                                         r"it offers \['standard'\]"):
        price(TokenPricing(1.0, 2.0), 1, 1, service_tier="batch")
    with pytest.raises(ValueError, match=r"model must be a TokenPricing or a catalog model name; got 3"):
        price(3, 1, 1)


def test_price_broadcasts_and_accepts_whole_floats():
    got = price("gpt-4o", np.array([[1_000], [2_000]]), [0, 10, 100.0], cache_read_tokens=[0, 500, 1_000])
    assert got.shape == (2, 3)
    for i, prompt in enumerate((1_000, 2_000)):
        for j, (out, cached) in enumerate([(0, 0), (10, 500), (100, 1_000)]):
            assert got[i, j] == float(price("gpt-4o", prompt, out, cache_read_tokens=cached))
    assert price("gpt-4o", 1, 1).shape == ()


def test_price_agrees_with_the_pricing_method_and_call_rates():
    p = from_litellm("m", {"m": THRESHOLDS_X_TIERS})
    rng = np.random.default_rng(5)
    prompt, cached, write, output, reasoning = _random_calls(rng, 200, 400_000)
    for tier in p.tiers:
        got = price(p, prompt, output, cache_read_tokens=cached, cache_write_tokens=write,
                    reasoning_tokens=reasoning, service_tier=tier, cache_write_ttl="1h")
        same = p.price(prompt, output, cache_read_tokens=cached, cache_write_tokens=write,
                       reasoning_tokens=reasoning, service_tier=tier, cache_write_ttl="1h")
        np.testing.assert_array_equal(got, same)
        for i in range(0, 200, 7):
            r = call_rates(p, int(prompt[i]), service_tier=tier, cache_write_ttl="1h")
            by_hand = ((prompt[i] - cached[i] - write[i]) * r["input"] + cached[i] * r["cached_input"]
                       + write[i] * r["cache_write"] + output[i] * r["output"] + reasoning[i] * r["reasoning"]) * M
            assert got[i] == pytest.approx(by_hand, rel=1e-13)


def test_limits_and_not_applied_keys_round_trip_through_the_scenario_codec():
    from costsim.codec import decode, encode, scenario_json

    pricing = from_litellm("gemini/gemini-2.5-flash")
    assert pricing.max_input_tokens == 1_048_576 and pricing.max_output_tokens == 65_536
    assert "input_cost_per_audio_token" in pricing.not_applied
    data = json.loads(json.dumps(encode(pricing)))
    assert data["max_input_tokens"] == 1_048_576 and "input_cost_per_audio_token" in data["not_applied"]
    assert decode(data) == pricing
    plain = TokenPricing(3.0, 15.0)  # None: left out, also from a result's scenario (its format is kept)
    assert "max_input_tokens" not in json.loads(scenario_json({}, {"api": plain}, seed=1, trials=[0]))["options"]["api"]
    with pytest.raises(ValueError, match=r"TokenPricing: max_output_tokens must be >= 1; got 0"):
        TokenPricing(3.0, 15.0, max_output_tokens=0)


def test_off_peak_weekdays_on_a_fixed_offset_calendar():
    """LiteLLM reads a window's weekdays on ``weekday_timezone``'s calendar, its hours in UTC
    (``_matches_weekdays``): Asia/Shanghai (UTC+8) turns the date at 16:00 UTC."""
    entry = {**BASE, "off_peak_pricing": {"input_cost_per_token": 5e-07, "weekday_timezone": "Asia/Shanghai",
                                          "windows": [{"hours_utc": "10:00-00:00", "weekdays": [1, 2, 3, 4, 5]}]}}
    p = from_litellm("m", {"m": entry})
    peak, off = 1.0, 0.5  # input USD per million, 1M prompt tokens
    for when, rate in [("2026-11-23T12:00", off),   # Monday 12:00 UTC = Monday 20:00 Shanghai
                       ("2026-11-23T09:00", peak),  # before the window
                       ("2026-11-22T17:00", off),   # Sunday 17:00 UTC = Monday 01:00 Shanghai
                       ("2026-11-27T17:00", peak),  # Friday 17:00 UTC = Saturday 01:00 Shanghai
                       ("2026-11-27T15:00", off)]:  # Friday 15:00 UTC = Friday 23:00 Shanghai
        assert float(price(p, 1_000_000, 0, when=when)) == rate, when
    west = {**entry, "off_peak_pricing": {**entry["off_peak_pricing"], "weekday_timezone": "Etc/GMT+5"}}
    q = from_litellm("m", {"m": west})  # UTC-5: the date turns at 05:00 UTC
    assert float(price(q, 1_000_000, 0, when="2026-11-28T02:00")) == peak  # Saturday 02:00 UTC = Friday 21:00, not in 10-24 UTC
    assert float(price(q, 1_000_000, 0, when="2026-11-24T12:00")) == off
    for zone, message in [("Europe/Paris", "changes its UTC offset"), ("Mars/Base", "is not a known time zone")]:
        bad = {**entry, "off_peak_pricing": {**entry["off_peak_pricing"], "weekday_timezone": zone}}
        with pytest.raises(ValueError, match=message):
            from_litellm("m", {"m": bad})
