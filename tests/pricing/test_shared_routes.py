"""Routes to the same option share it: the same object, the same name or equal
objects (a scenario file's round trip makes equal copies), and the classes sharing
it are priced at their own service tiers."""

from __future__ import annotations

import numpy as np
import pytest

import costsim as cs
from costsim.scenario import from_dict, to_dict

BATCH = cs.RateCard(input=0.3, output=1.5)


def _api() -> cs.TokenPricing:  # a new, equal object at each call
    return cs.TokenPricing(input=3.0, output=15.0, service_tiers={"batch": BATCH})


def _ptu(fallback) -> cs.ProvisionedCapacity:
    return cs.ProvisionedCapacity(units=1, price_per_unit_hour=1.0, tokens_per_minute=2_000, fallback=fallback)


TRAFFIC = cs.Traffic([cs.QueryClass("chat", 0.5, cs.Constant(1_000), cs.Constant(100)),
                      cs.QueryClass("code", 0.5, cs.Constant(1_000), cs.Constant(100), service_tier="batch")],
                     cs.Arrivals(volume=24_000, horizon="1D", bin="1h"))


def _cost(options, name):
    ds = cs.simulate(TRAFFIC, options, trials=1, seed=1)
    return ds["cost"].sel(option=name).sum("time").values[0], ds


def test_a_token_pricing_routed_for_two_classes_prices_each_at_its_tier():
    api = _api()
    # the second class was priced at the standard card (54.33 USD instead of 5.43 at the batch tier)
    routed, ds = _cost({"api": api, "hybrid": cs.Hybrid({"chat": api, "code": api})}, "hybrid")
    np.testing.assert_allclose(routed, ds["cost"].sel(option="api").sum("time").values[0], rtol=1e-12)
    requests = ds["requests"].sum("time").values[0]
    np.testing.assert_allclose(routed, requests * np.array([1_000 * 3.0 + 100 * 15.0, 1_000 * 0.3 + 100 * 1.5]) / 1e6,
                               rtol=1e-12)


@pytest.mark.parametrize("routes", [
    lambda ptu: {"chat": ptu, "code": ptu},  # one object
    lambda ptu: {"chat": ptu, "code": "ptu"},  # the object and its name
    lambda ptu: {"chat": _ptu(_api()), "code": _ptu(_api())},  # equal copies
])
def test_a_capacity_pool_routed_for_two_classes_is_one_pool_spilling_at_each_tier(routes):
    ptu = _ptu(_api())  # its fallback an object: its leaves are the first route's
    alone, _ = _cost({"ptu": ptu}, "ptu")  # the same pool serving both classes, as one option
    routed, ds = _cost({"ptu": ptu, "hybrid": cs.Hybrid(routes(ptu))}, "hybrid")
    np.testing.assert_allclose(routed, alone, rtol=1e-12)
    assert float(ds["capacity_cost"].sel(option="hybrid").sum()) == pytest.approx(24.0)  # one unit, 24 h
    assert float(ds["spill_cost"].sel(option="hybrid").sum()) > 0.0  # the pool is too small: both classes spill


def test_a_scenario_round_trip_reproduces_a_shared_pool():
    ptu = _ptu("api")
    options = {"api": _api(), "hybrid": cs.Hybrid({"chat": ptu, "code": ptu})}
    copies = from_dict(to_dict(options))
    assert copies["hybrid"].routes["chat"] is not copies["hybrid"].routes["code"]
    # the copies were two pools: 48 USD of units instead of 24
    np.testing.assert_allclose(_cost(copies, "hybrid")[0], _cost(options, "hybrid")[0], rtol=1e-12)


def test_a_pool_routed_twice_with_an_uncertain_price_is_one_pool():
    # each route draws its own price (by path): the pool was billed twice, at both prices
    ptu = cs.ProvisionedCapacity(units=1, price_per_unit_hour=cs.Uniform(1.0, 2.0), tokens_per_minute=2_000,
                                 fallback="api")
    ds = cs.simulate(TRAFFIC, {"api": _api(), "hybrid": cs.Hybrid({"chat": ptu, "code": ptu})}, trials=3, seed=1)
    price = ds["uncertain"].sel(parameter="options['hybrid'].routes['chat'].price_per_unit_hour").values
    np.testing.assert_allclose(ds["capacity_cost"].sel(option="hybrid").sum("time").values, 24.0 * price,
                               rtol=1e-12)


def test_a_token_pricing_routed_twice_with_an_uncertain_price_is_priced_at_the_first_route():
    api = cs.TokenPricing(input=cs.Uniform(2.0, 4.0), output=15.0,
                          service_tiers={"batch": cs.RateCard(input=cs.Uniform(0.2, 0.4), output=1.5)})
    ds = cs.simulate(TRAFFIC, {"hybrid": cs.Hybrid({"chat": api, "code": api})}, trials=3, seed=1)
    first = "options['hybrid'].routes['chat']"
    standard = ds["uncertain"].sel(parameter=f"{first}.input").values
    batch = ds["uncertain"].sel(parameter=f"{first}.service_tiers['batch'].input").values
    requests = ds["requests"].sum("time").values  # [trial, class]
    expected = requests * np.stack([1_000 * standard + 100 * 15.0, 1_000 * batch + 100 * 1.5], axis=1) / 1e6
    np.testing.assert_allclose(ds["cost"].sel(option="hybrid").sum("time").values, expected, rtol=1e-12)


def test_two_names_are_two_pools_even_when_equal():
    options = {"api": _api(), "a": _ptu("api"), "b": _ptu("api")}
    shared, ds = _cost({**options, "hybrid": cs.Hybrid({"chat": "a", "code": "a"})}, "hybrid")
    assert float(ds["capacity_cost"].sel(option="hybrid").sum()) == pytest.approx(24.0)
    apart, ds = _cost({**options, "hybrid": cs.Hybrid({"chat": "a", "code": "b"})}, "hybrid")
    assert float(ds["capacity_cost"].sel(option="hybrid").sum()) == pytest.approx(48.0)
    assert apart.sum() > shared.sum()
