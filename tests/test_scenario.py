"""Scenario <-> plain data: JSON-ready, rebuilds equal (re-validated) objects, keeps order."""

import json

import pytest

import costsim as cs
from costsim.codec import scenario_json


def _every_kind():
    return cs.Traffic(
        (
            cs.QueryClass(
                "chat", cs.Uniform(0.5, 0.7),
                input_tokens=cs.Capped(cs.Mixture((cs.LogNormal(6.0, 0.8), cs.Pareto(2_000.0, 1.5)), (0.9, 0.1)),
                                       32_000),
                output_tokens=cs.Gamma(2.0, 150.0),
                cached_fraction=cs.Constant(cs.Beta(2.0, 5.0)),
            ),
            cs.QueryClass(
                "agent", 0.3,
                input_tokens=cs.Empirical([300, 1_200, 800]),
                output_tokens=cs.Weibull(1.5, 400.0),
                steps=cs.Geometric(0.25),
                tool_tokens=cs.GeneralizedPareto(0.0, 300.0, 0.2),
            ),
        ),
        cs.Arrivals(volume=10_000, horizon="14D", bin="15min", start="2026-02-02T00:00",
                    daily_profile=tuple(range(1, 25)), weekly_profile=(1, 1, 1, 1, 1, 0.5, 0.5),
                    growth=cs.Normal(0.1, 0.05), overdispersion=0.25),
    )


def test_round_trip_through_json_gives_equal_objects():
    traffic = _every_kind()
    options = cs.demo.demo_options()
    data = json.loads(json.dumps({"traffic": cs.to_dict(traffic), "options": cs.to_dict(options)}))
    back = cs.from_dict(data)
    assert back["traffic"] == traffic
    assert back["options"] == options
    assert list(back["options"]) == list(options)
    assert isinstance(back["traffic"].classes, tuple)
    assert back["traffic"].classes[0].input_tokens.dist.components[1] == cs.Pareto(2_000.0, 1.5)


def test_demo_scenario_round_trips():
    traffic, options = cs.demo.demo_traffic(days=3), cs.demo.demo_options()
    back = cs.from_dict(json.loads(scenario_json(traffic, options, seed=5, trials=[0, 1])))
    assert back == {"traffic": traffic, "options": options, "seed": 5, "trials": [0, 1]}


def test_scenario_json_keeps_the_order_of_options():
    options = {"zeta": cs.TokenPricing(1.0, 2.0), "alpha": cs.TokenPricing(3.0, 4.0)}
    text = scenario_json(cs.demo.demo_traffic(days=1), options, seed=1, trials=[0])
    assert list(cs.from_dict(json.loads(text))["options"]) == ["zeta", "alpha"]


def test_to_dict_form():
    d = cs.to_dict(cs.TokenPricing(3.0, 15.0, long_context=[cs.LongContextTier(200_000, 6.0, 22.5)]))
    assert d == {  # None values left out: plain data a TOML file can hold
        "type": "TokenPricing", "input": 3.0, "output": 15.0,
        "long_context": [{"type": "LongContextTier", "threshold": 200_000, "input": 6.0, "output": 22.5}],
        "service_tiers": {}, "multiplier": 1.0, "fee_per_request": 0.0, "fee_per_tool_call": 0.0,
        "minimum_charge": 0.0,
    }


def test_scenario_json_keeps_none_values():
    # the format of results' attrs since 0.1, so a new result's attrs equal an old one's
    data = json.loads(scenario_json(cs.demo.demo_traffic(days=1), {"api": cs.TokenPricing(3.0, 15.0)}, seed=2,
                                    trials=[0]))
    assert list(data) == ["traffic", "options", "seed", "trials"]
    assert data["options"]["api"]["cached_input"] is None and data["options"]["api"]["off_peak"] is None


def test_from_dict_rejects_unknown_types_and_revalidates():
    with pytest.raises(ValueError, match="type must be one of .*; got 'Bogus'"):
        cs.from_dict({"type": "Bogus", "x": 1})
    data = cs.to_dict(cs.LogNormal(6.0, 1.0))
    data["sigma"] = -1.0
    with pytest.raises(cs.ParameterError, match="LogNormal: sigma must be > 0; got -1.0"):
        cs.from_dict(data)
