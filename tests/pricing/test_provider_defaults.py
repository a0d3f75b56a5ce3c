"""Rates LiteLLM's code supplies where the map is silent (pricing/provider_defaults.py), against
numbers worked out by hand; no LiteLLM needed."""

import pytest

from costsim.pricing.litellm import from_litellm, price
from costsim.pricing.provider_defaults import PROVIDER_DEFAULTS, with_provider_defaults

FIREWORKS = {"litellm_provider": "fireworks_ai", "mode": "chat",
             "input_cost_per_token": 9e-07, "output_cost_per_token": 9e-07}


def test_every_rule_names_its_litellm_source():
    for row in PROVIDER_DEFAULTS:
        assert row.source.startswith("litellm/") and ".py: " in row.source, row
        assert 0 < row.factor <= 1


def test_fireworks_cache_reads_bill_at_half_the_input_rate():
    p = from_litellm("fw", {"fw": FIREWORKS})
    assert p.cached_input == 0.45
    # 200 uncached at 0.90 + 800 cached at 0.45 + 100 output at 0.90, per million
    assert float(price(p, 1_000, 100, cache_read_tokens=800)) == pytest.approx(0.00063, rel=1e-14)
    listed = from_litellm("fw", {"fw": {**FIREWORKS, "cache_read_input_token_cost": 1e-07}})
    assert listed.cached_input == 0.1  # a listed rate wins
    other = from_litellm("x", {"x": {**FIREWORKS, "litellm_provider": "together_ai"}})
    assert other.cached_input is None  # other providers: the input rate (the RateCard fallback)


def test_fireworks_off_peak_cache_reads_are_half_the_off_peak_input_rate():
    entry = {**FIREWORKS, "off_peak_pricing": {"input_cost_per_token": 6e-07, "hours_utc": "00:00-06:00"}}
    p = from_litellm("fw", {"fw": entry})
    assert p.cached_input == 0.45 and p.off_peak.rates.cached_input == 0.3
    night = float(price(p, 1_000, 0, cache_read_tokens=1_000, when="2026-11-25T03:00"))
    assert night == pytest.approx(0.0003, rel=1e-14)
    assert with_provider_defaults(entry)["off_peak_pricing"]["cache_read_input_token_cost"] == pytest.approx(3e-07)


LONG = {"litellm_provider": "acme", "mode": "chat",
        "input_cost_per_token": 1e-06, "output_cost_per_token": 4e-06,
        "input_cost_per_token_above_200k_tokens": 2e-06, "output_cost_per_token_above_200k_tokens": 8e-06,
        "cache_read_input_token_cost": 1e-07, "cache_creation_input_token_cost": 1.25e-06}


def test_batch_rates_not_listed_are_half_the_standard_rates_long_context_included():
    p = from_litellm("m", {"m": {**LONG, "input_cost_per_token_batches": 5e-07}})
    batch = p.service_tiers["batch"]
    assert (batch.input, batch.output) == (0.5, 2.0)
    assert (batch.long_context[0].input, batch.long_context[0].output) == (1.0, 4.0)
    # 200,001 prompt tokens at 1.00 + 1,000 output at 4.00 (half of 2.00 and 8.00), per million
    assert float(price(p, 200_001, 1_000, service_tier="batch")) == pytest.approx(0.204001, rel=1e-14)
    assert float(price(p, 200_001, 1_000)) == pytest.approx(0.408002, rel=1e-14)
    # with a batch input rate listed, cache reads keep the standard rate and writes bill as batch input
    assert (batch.cached_input, batch.cache_write) == (0.1, None)
    assert float(price(p, 1_000, 0, cache_read_tokens=600, cache_write_tokens=400, service_tier="batch")) == \
        pytest.approx((600 * 0.1 + 400 * 0.5) / 1e6, rel=1e-14)


def test_with_no_batch_input_rate_every_batch_rate_is_half():
    p = from_litellm("m", {"m": {**LONG, "output_cost_per_token_batches": 1.5e-06}})
    batch = p.service_tiers["batch"]
    assert (batch.input, batch.output, batch.cached_input, batch.cache_write) == (0.5, 1.5, 0.05, 0.625)
    # 400 uncached at 0.50 + 300 cached at 0.05 + 300 written at 0.625 + 100 output at 1.5, per million
    got = float(price(p, 1_000, 100, cache_read_tokens=300, cache_write_tokens=300, service_tier="batch"))
    assert got == pytest.approx(0.0005525, rel=1e-14)


def test_a_model_with_no_batch_rate_offers_no_batch_tier():
    assert from_litellm("m", {"m": LONG}).tiers == ("standard",)
