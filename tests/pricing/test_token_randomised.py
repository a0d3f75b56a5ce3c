"""TokenPricing.price agrees with the plain-Python reference on randomised models and
requests (hypothesis): every modifier at once — long-context tiers, missing rates
falling back as LiteLLM does, cache reads and 5-minute / 1-hour writes, reasoning,
service tiers, off-peak windows, multiplier, fees and minimum charge."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import costsim as cs

from .._reference import call_cost, rate_card, request_cost

rates = st.one_of(st.just(0.0), st.floats(0.01, 80.0))
optional_rates = st.one_of(st.none(), rates)


@st.composite
def rate_fields(draw):
    return dict(input=draw(rates), output=draw(rates), cached_input=draw(optional_rates),
                cache_write=draw(optional_rates), cache_write_1h=draw(optional_rates), reasoning=draw(optional_rates))


@st.composite
def cards(draw):
    thresholds = sorted(draw(st.sets(st.integers(1, 300_000), max_size=3)))
    tiers = [cs.LongContextTier(t, **draw(rate_fields())) for t in thresholds]
    return cs.RateCard(**draw(rate_fields()), long_context=tiers)


@st.composite
def models(draw):
    standard = draw(cards())
    off_peak = None
    if draw(st.booleans()):
        off_peak = cs.OffPeak([cs.OffPeakWindow((1, 2, 3, 4, 5), "00:00", "06:00")], draw(cards()))
    return cs.TokenPricing(
        **{name: getattr(standard, name) for name in ("input", "output", "cached_input", "long_context",
                                                         "cache_write", "cache_write_1h", "reasoning")},
        service_tiers=draw(st.dictionaries(st.sampled_from(["batch", "flex", "priority"]), cards(), max_size=2)),
        off_peak=off_peak,
        multiplier=draw(st.floats(0.5, 2.0)),
        fee_per_request=draw(st.one_of(st.just(0.0), st.floats(1e-6, 0.01))),
        fee_per_tool_call=draw(st.one_of(st.just(0.0), st.floats(1e-4, 0.05))),
        minimum_charge=draw(st.one_of(st.just(0.0), st.floats(1e-6, 0.01))),
    )


@st.composite
def requests(draw, n=16):
    prompt = np.array(draw(st.lists(st.integers(0, 400_000), min_size=n, max_size=n)))
    read = np.array([draw(st.integers(0, int(p))) for p in prompt])
    write = np.array([draw(st.integers(0, int(p - r))) for p, r in zip(prompt, read)])
    output = np.array(draw(st.lists(st.integers(0, 20_000), min_size=n, max_size=n)))
    reasoning = np.array(draw(st.lists(st.integers(0, 20_000), min_size=n, max_size=n)))
    tools = np.array(draw(st.lists(st.integers(0, 5), min_size=n, max_size=n)))
    # Monday 2026-01-05: hours 0-5 are off-peak under the window above, the rest peak
    when = np.datetime64("2026-01-05T00:00") + np.array(draw(st.lists(st.integers(0, 23), min_size=n, max_size=n)),
                                                         dtype="timedelta64[h]")
    return prompt, read, write, output, reasoning, tools, when


@given(models(), requests(), st.booleans(), st.data())
@settings(max_examples=150, deadline=None)
def test_price_equals_the_reference(model, calls, ttl_1h, data):
    tier = data.draw(st.sampled_from(["standard", *model.service_tiers]))
    prompt, read, write, output, reasoning, tools, when = calls
    got = model.price(prompt, output, cache_read_tokens=read, cache_write_tokens=write, reasoning_tokens=reasoning,
                      tool_calls=tools, service_tier=tier, cache_write_ttl="1h" if ttl_1h else "5m", when=when)
    off_peak = model.off_peak.contains(when) if model.off_peak is not None else np.zeros(len(when), bool)
    expected = [
        request_cost(model, call_cost(rate_card(model, tier, bool(off)), int(p), int(r), int(w), int(o), int(z),
                                      ttl_1h), int(k))
        for p, r, w, o, z, k, off in zip(prompt, read, write, output, reasoning, tools, off_peak)
    ]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
