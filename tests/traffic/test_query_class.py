"""QueryClass and Traffic: validation with messages that name argument, rule and value."""

import numpy as np
import pytest

import costsim as cs

IN = cs.LogNormal(6.0, 1.0)
OUT = cs.LogNormal(5.0, 0.8)


def _qc(name="chat", share=1.0, **kwargs):
    return cs.QueryClass(name, share, kwargs.pop("input_tokens", IN), kwargs.pop("output_tokens", OUT), **kwargs)


def _arrivals():
    return cs.Arrivals(volume=1_000, horizon="1D", bin="1h")


def _fails(message, build):
    with pytest.raises(cs.ParameterError) as info:
        build()
    assert str(info.value) == message


def test_defaults_and_accepted_values():
    qc = _qc(cached_fraction=1, steps=np.int64(3), tool_tokens=cs.Gamma(2.0, 100.0))
    assert (qc.cached_fraction, qc.steps) == (1.0, 3)
    assert type(qc.cached_fraction) is float and type(qc.steps) is int
    plain = _qc()
    assert (plain.cached_fraction, plain.steps, plain.tool_tokens) == (0.0, 1, None)
    # distributions whose support fits are fine
    _qc(cached_fraction=cs.Beta(2.0, 5.0), steps=cs.Geometric(0.25))
    _qc(cached_fraction=cs.Uniform(0.0, 1.0), input_tokens=cs.Capped(cs.Pareto(100.0, 1.5), 50_000))
    # a class may have share 0 (it never arrives) as long as the shares have a positive sum
    cs.Traffic((_qc("a", 1.0), _qc("b", 0.0)), _arrivals())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(name=""), "QueryClass '': name must be a non-empty string; got ''"),
        (dict(share=-0.5), "QueryClass 'chat': share must be >= 0; got -0.5"),
        (dict(share=float("nan")), "QueryClass 'chat': share must not be NaN; got nan"),
        (dict(share=float("inf")), "QueryClass 'chat': share must be finite; got inf"),
        (dict(cached_fraction=1.2), "QueryClass 'chat': cached_fraction must be in [0, 1]; got 1.2"),
        (dict(cached_fraction=-0.1), "QueryClass 'chat': cached_fraction must be in [0, 1]; got -0.1"),
        (dict(steps=0), "QueryClass 'chat': steps must be in [1, 4096]; got 0"),
        (dict(steps=2.5), "QueryClass 'chat': steps must be an integer; got 2.5"),
        (dict(input_tokens=500), "QueryClass 'chat': input_tokens must be a costsim Distribution; got 500"),
        (dict(tool_tokens="many"), "QueryClass 'chat': tool_tokens must be a costsim Distribution; got 'many'"),
    ],
)
def test_rejects_bad_values(kwargs, message):
    _fails(message, lambda: _qc(**kwargs))


@pytest.mark.parametrize(
    "field, dist, bounds",
    [
        ("input_tokens", cs.Normal(1000.0, 100.0), ">= 0"),
        ("output_tokens", cs.Uniform(-10.0, 10.0), ">= 0"),
        ("cached_fraction", cs.LogNormal(-1.0, 0.5), "[0, 1]"),
        ("cached_fraction", cs.Uniform(0.5, 1.5), "[0, 1]"),
        ("steps", cs.Normal(3.0, 1.0), ">= 0"),
        ("tool_tokens", cs.Normal(100.0, 10.0), ">= 0"),
    ],
)
def test_rejects_distributions_with_support_outside_the_domain(field, dist, bounds):
    _fails(f"QueryClass 'chat': {field} must have support within {bounds}; got {dist!r}",
           lambda: _qc(**{field: dist}))


def test_nested_errors_name_the_path_and_the_class():
    with pytest.raises(cs.ParameterError) as info:
        _qc("agent", input_tokens=cs.LogNormal(6.0, -1.0))
    assert str(info.value) == "LogNormal: sigma must be > 0; got -1.0"


def test_uncertain_parameters_inside_request_distributions_defer_the_support_check():
    qc = _qc(input_tokens=cs.LogNormal(cs.Uniform(5.0, 7.0), 1.0), cached_fraction=cs.Constant(cs.Uniform(0.2, 0.5)))
    assert set(cs._model.uncertain_parameters(qc)) == {"input_tokens.mu", "cached_fraction.value"}


def test_traffic_validation():
    arrivals = _arrivals()
    _fails("Traffic: classes must have unique names; got ['chat']",
           lambda: cs.Traffic((_qc("chat"), _qc("rag"), _qc("chat")), arrivals))
    _fails("Traffic: classes must have shares with a positive sum; got [0.0, 0.0]",
           lambda: cs.Traffic((_qc("a", 0.0), _qc("b", 0.0)), arrivals))
    _fails("Traffic: classes must be a non-empty sequence of QueryClass; got ()",
           lambda: cs.Traffic((), arrivals))
    _fails("Traffic: classes[1] must be a QueryClass; got 'rag'",
           lambda: cs.Traffic((_qc("chat"), "rag"), arrivals))
    _fails("Traffic: arrivals must be an Arrivals; got 1000",
           lambda: cs.Traffic((_qc("chat"),), 1000))


def test_traffic_normalises_shares_and_accepts_a_single_class():
    t = cs.Traffic(_qc("only", share=3.0), _arrivals())
    assert t.classes == (_qc("only", share=3.0),) and t.class_names == ("only",)
    t = cs.Traffic([_qc("a", 3.0), _qc("b", 1.0)], _arrivals())
    assert isinstance(t.classes, tuple)
    rate = t.rates()
    np.testing.assert_allclose(rate.sum(axis=0), [750.0, 250.0], rtol=1e-12)
    np.testing.assert_allclose(rate.sum(axis=1), t.arrivals.expected_requests(), rtol=1e-12)


def test_shares_can_be_uncertain_and_are_renormalised_per_trial():
    t = cs.Traffic([_qc("a", cs.Uniform(1.0, 3.0)), _qc("b", 1.0)],
                   cs.Arrivals(volume=20_000, horizon="6h", bin="1h"))
    ds = cs.simulate(t, {"api": cs.TokenPricing(1.0, 2.0)}, trials=4, seed=1)
    share = ds["uncertain"].sel(parameter="traffic.classes[0].share").values
    got = ds["requests"].sum("time").values
    expected_a = 5_000 * share / (share + 1.0)  # 6h of 20k/day
    # Poisson counts: 5 standard deviations
    np.testing.assert_array_less(np.abs(got[:, 0] - expected_a), 5 * np.sqrt(expected_a))
    np.testing.assert_array_less(np.abs(got.sum(axis=1) - 5_000), 5 * np.sqrt(5_000))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"service_tier": ""}, "QueryClass 'q': service_tier must be a non-empty string such as 'standard' or 'batch'; got ''"),
        ({"cache_write_ttl": "2h"}, "QueryClass 'q': cache_write_ttl must be '5m' or '1h'; got '2h'"),
        ({"cached_fraction": 0.3, "cache_write_fraction": 0.8},
         "QueryClass 'q': cache_write_fraction must be <= 1 - cached_fraction (0.7); got 0.8"),
        ({"tool_calls": -1}, "QueryClass 'q': tool_calls must be in [0, 1048576]; got -1"),
        ({"reasoning_tokens": 5.0}, "QueryClass 'q': reasoning_tokens must be a costsim Distribution; got 5.0"),
    ],
)
def test_pricing_related_fields_are_validated(kwargs, message):
    from costsim import LogNormal, QueryClass

    with pytest.raises(ValueError) as info:
        QueryClass("q", 1.0, LogNormal(6.0, 1.0), LogNormal(5.0, 1.0), **kwargs)
    assert str(info.value) == message
