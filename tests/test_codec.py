"""The one codec (costsim.codec): a registry of every class, encode/decode round trips, strict
errors naming the place, and the files costsim 0.1 wrote (tests/data/*_v0_1.*, see
tests/data/make_v0_1.py) loading and rerunning bit for bit."""

import dataclasses
import datetime as dt
import json
import tomllib
import warnings
from pathlib import Path

import numpy as np
import pytest
import tomli_w
import xarray as xr

import costsim as cs
from costsim._model import Model
from _packages import capacity_package, forget
from costsim.codec import REGISTRY, decode, encode, scenario_json
from costsim.results import scenario_text
from costsim.scenario import Scenario, examples, from_result, load_scenario

DATA = Path(__file__).parent / "data"



@pytest.fixture
def package(tmp_path, monkeypatch):
    """A uniquely named importable package holding a capacity function: its name."""
    name, _ = capacity_package(tmp_path, "costsim_codec")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    forget(name)


def _every_class(package):
    """Traffic and options that hold an object of every registered class."""
    traffic = cs.Traffic(
        (
            cs.QueryClass("chat", cs.Uniform(0.5, 0.7),
                          input_tokens=cs.Capped(cs.Mixture((cs.LogNormal(cs.Normal(6.0, 0.1), 0.8),
                                                             cs.Pareto(2_000.0, 1.5)), (0.9, 0.1)), 32_000),
                          output_tokens=cs.Gamma(2.0, 150.0), cached_fraction=cs.Beta(2.0, 5.0),
                          tool_tokens=cs.Truncated(cs.GeneralizedPareto(0.0, 300.0, 0.2), 20_000.0),
                          reasoning_tokens=cs.Weibull(1.5, 400.0)),
            cs.QueryClass("agent", 0.3, input_tokens=cs.Empirical([300, 1_200, 800]),
                          output_tokens=cs.Constant(200.0), steps=cs.Geometric(0.25)),
        ),
        cs.Arrivals(volume=cs.Joint((9_000.0, 11_000.0), key="fit"), horizon="2D", bin="1h",
                    daily_profile=tuple(range(1, 25)), growth=0.1),
        modulation=(cs.Overdispersion(0.2), cs.FlashEvent("2026-01-05T02:00", "1h", 3.0),
                    cs.LogisticGrowth(ceiling=2.0, rate=0.5), cs.Profile(weekly=(1, 1, 1, 1, 1, 0.5, 0.5))),
        class_modulation={"agent": (cs.OnOff(on=cs.LogNormal(1.0, 0.5), off=cs.LogNormal(0.5, 0.5)),)},
        mix_shift=cs.MixShift({"chat": 0.5, "agent": 0.5}),
    )
    api = cs.TokenPricing(3.0, 15.0, cached_input=0.3, long_context=(cs.LongContextTier(200_000, 6.0, 22.5),),
                          service_tiers={"batch": cs.RateCard(1.5, 7.5)},
                          off_peak=cs.OffPeak((cs.OffPeakWindow((1, 2), "00:00", "06:00"),), cs.RateCard(1.5, 7.5)))
    options = {
        "api": api,
        "ptu": cs.ProvisionedCapacity(units=2, price_per_unit_hour=cs.Uniform(1.0, 2.0), tokens_per_minute=1e5,
                                      fallback="api"),
        "gpu": cs.SelfHostedGPU(gpu_hour_price=2.5, prefill_tokens_per_s=8_000, decode_tokens_per_s=1_500,
                                max_replicas=4, fallback=api),
        "own": cs.CustomCapacity(f"{package}.cap:capacity", params=(0.001,), fallback="api"),
        "hybrid": cs.Hybrid(routes={"chat": "gpu"}, default="api"),
        "router": cs.PromptRouter(thresholds=(8_000,), options=("gpu", "api")),
        "discount": cs.VolumeDiscount("api", thresholds=(1e9,), multipliers=(0.9,)),
        "committed": cs.CommittedSpend("api", monthly_minimum=100.0),
    }
    return traffic, options


def _types(data):
    """The ``"type"`` names in plain data."""
    found = set()
    if isinstance(data, dict):
        found = {data["type"]} if "type" in data else set()
        data = list(data.values())
    if isinstance(data, list):
        found = found.union(*map(_types, data))
    return found


# ---- the registry and round trips --------------------------------------------------------------------


def test_registry_is_every_concrete_traffic_and_pricing_class():
    exported = [getattr(module, name) for module in (cs.traffic, cs.pricing) for name in module.__all__]
    concrete = {obj.__name__: obj for obj in exported
                if isinstance(obj, type) and issubclass(obj, Model) and dataclasses.fields(obj)}
    assert dict(REGISTRY) == concrete
    assert list(REGISTRY) == sorted(REGISTRY)


def test_every_class_round_trips_through_json_and_toml(package):
    traffic, options = _every_class(package)
    data = encode({"traffic": traffic, "options": options})
    assert _types(data) == set(REGISTRY)
    for plain in (data, json.loads(json.dumps(data)), tomllib.loads(tomli_w.dumps(data))):
        back = decode(plain, allow_imports=[package])
        assert back == {"traffic": traffic, "options": options}
        assert list(back["options"]) == list(options)
    assert decode(encode(traffic), into=cs.Traffic) == traffic
    scenario = Scenario(traffic, options, trials=3, seed=4)
    assert Scenario.from_dict(scenario.to_dict(), allow_imports=[package]) == scenario


@pytest.mark.parametrize("path", examples(), ids=lambda p: p.name)
def test_shipped_examples_round_trip(path):
    scenario = load_scenario(path)
    assert decode(encode(scenario), into=Scenario) == scenario
    assert decode(encode(scenario.options)) == scenario.options
    assert cs.from_dict(cs.to_dict(scenario.traffic)) == scenario.traffic


def test_encode_leaves_none_out_and_scenario_json_keeps_it():
    assert encode(cs.QueryClass("chat", 1.0, cs.Constant(10.0), cs.Constant(5.0))).keys().isdisjoint(
        {"tool_tokens", "reasoning_tokens"})
    text = scenario_json(cs.demo.demo_traffic(days=1), cs.demo.demo_options(), seed=3, trials=[0, 1])
    assert json.loads(text)["traffic"]["classes"][0]["tool_tokens"] is None
    assert decode(json.loads(text))["traffic"] == cs.demo.demo_traffic(days=1)


def test_encode_refuses_what_plain_data_cannot_hold():
    with pytest.raises(cs.ParameterError, match=r"^x.y cannot be encoded \(use a string, .*; got 'object'$"):
        encode({"x": {"y": object()}})
    with pytest.raises(cs.ParameterError, match=r"^options\[1\] cannot be encoded: keys of tables must be strings"):
        encode({"options": {1: cs.TokenPricing(1.0, 2.0)}})


def test_dates_and_durations_encode_as_strings_that_run_the_same():
    given = cs.Arrivals(volume=2_400, horizon=dt.timedelta(days=1), bin=dt.timedelta(hours=1),
                        start=dt.datetime(2026, 1, 5, 6))
    assert (given.horizon, given.bin, given.start) == ("1D", "1h", "2026-01-05T06:00:00")  # stored as file text
    data = encode(given)
    assert (data["horizon"], data["bin"], data["start"]) == ("1D", "1h", "2026-01-05T06:00:00")
    back = decode(json.loads(json.dumps(data)))
    assert back == given
    np.testing.assert_array_equal(back.bin_starts(), given.bin_starts())
    traffic = cs.Traffic((cs.QueryClass("chat", 1.0, cs.Constant(100.0), cs.Constant(10.0)),), given)
    ds = cs.simulate(traffic, {"api": cs.TokenPricing(1.0, 2.0)}, trials=1, seed=1)  # its attrs are JSON
    assert json.loads(scenario_text(ds))["traffic"]["arrivals"]["horizon"] == "1D"


# ---- strict decoding: errors name the place ----------------------------------------------------------


def _traffic_data():
    return encode(cs.Traffic(
        (cs.QueryClass("chat", 0.7, cs.LogNormal(6.0, 1.0), cs.LogNormal(5.0, 0.8)),
         cs.QueryClass("rag", 0.2, cs.LogNormal(8.0, 0.5), cs.LogNormal(5.5, 0.7)),
         cs.QueryClass("agent", 0.1, cs.LogNormal(7.0, 0.5), cs.LogNormal(5.0, 0.5), steps=cs.Geometric(0.3))),
        cs.Arrivals(volume=1_000, horizon="1D")))


def _set(key, value):
    def edit(data):
        *parents, last = key
        for k in parents:
            data = data[k]
        data[last] = value
    return edit


@pytest.mark.parametrize("edit, message", [
    (_set(("classes", 2, "input_tokens", "sigma"), -1), "traffic.classes[2].input_tokens.sigma must be > 0; got -1"),
    (_set(("classes", 1, "input_tokens", "sigma"), None),
     "traffic.classes[1].input_tokens.sigma must be a number or a distribution table; got None"),
    (_set(("classes", 0, "cached_fraction"), None),  # its default is 0.0, not None
     "traffic.classes[0].cached_fraction must be a number or a distribution table; got None"),
    (_set(("classes", 0, "share"), "0.7"),
     "traffic.classes[0].share must be a number or a distribution table; got '0.7'"),
    (_set(("classes", 0, "name"), ["chat"]), "traffic.classes[0].name must be a string; got ['chat']"),
    (_set(("classes",), {}), "traffic.classes must be an array; got {}"),
    (_set(("classes", 0, "share"), 10**400),
     "traffic.classes[0].share must be a finite number; got '<int of ~401 digits>'"),
    (_set(("classes", 0, "input_tokens", "type"), []), "traffic.classes[0].input_tokens.type must be one of "),
    (_set(("arrivals", "type"), "LogNormal"), "traffic.arrivals.type must be one of ['Arrivals']; got 'LogNormal'"),
])
def test_errors_are_parameter_errors_naming_the_place(edit, message):
    data = _traffic_data()
    edit(data)
    with pytest.raises(cs.ParameterError) as info:
        decode(json.loads(json.dumps(data)), path="traffic")
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("edit, message", [
    (_set(("classes", 2, "input_tokens", "sigmaa"), 1.0), "traffic.classes[2].input_tokens: unknown key 'sigmaa'"),
    (lambda data: data["arrivals"].pop("volume"), "traffic.arrivals: missing key 'volume'"),
])
def test_unknown_and_missing_keys_keep_the_messages_of_costsim_0_1(edit, message):
    data = _traffic_data()
    edit(data)
    with pytest.raises(ValueError) as info:
        decode(json.loads(json.dumps(data)), path="traffic")
    assert str(info.value) == message


def test_a_null_where_none_is_the_default_is_absent():
    data = _traffic_data()
    data["classes"][0]["tool_tokens"] = None
    data["modulation"] = None
    assert decode(data) == decode(_traffic_data())


def test_nesting_beyond_max_depth_is_a_value_error():
    deep: list = []
    for _ in range(10_000):
        deep = [deep]
    with pytest.raises(ValueError, match=r"^\[0\]\[0\].*: tables and arrays nest more than 64 levels deep, "
                                         r"more than any scenario needs$"):
        decode(deep)


def test_scenario_and_simulate_refuse_empty_options_alike():
    traffic = cs.demo.demo_traffic(days=1)
    for refuse in (lambda: cs.simulate(traffic, {}, trials=1, seed=1), lambda: Scenario(traffic, {}),
                   lambda: Scenario.from_dict({"traffic": encode(traffic), "options": {}})):
        with pytest.raises(cs.ParameterError) as info:
            refuse()
        assert str(info.value) == "options must name at least one deployment option; got {}"


# ---- files written by costsim 0.1 --------------------------------------------------------------------


def test_old_scenario_files_load():
    scenario = load_scenario(DATA / "scenario_v0_1.toml")  # the old save_scenario
    assert load_scenario(DATA / "scenario_v0_1.json") == scenario  # the old to_dict, None values included
    data = json.loads((DATA / "scenario_v0_1.json").read_text())
    assert data["traffic"]["classes"][0]["tool_tokens"] is None
    assert cs.from_dict(data) == {"traffic": scenario.traffic, "options": scenario.options, "trials": 2,
                                  "seed": 20260202}
    assert isinstance(scenario.traffic.classes[0].share, cs.Uniform)


def test_old_result_loads_and_reruns_bit_for_bit():
    """costsim 0.1 drew with random layout 1 (it wrote no ``random_layout``); layout 2
    draws only mixtures differently, and this scenario has none: the same numbers."""
    old = xr.load_dataset(DATA / "result_v0_1.nc")
    assert "random_layout" not in old.attrs and '"Mixture"' not in old.attrs["scenario"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no layout warning without a mixture
        scenario, keywords = from_result(DATA / "result_v0_1.nc")
    assert scenario == load_scenario(DATA / "scenario_v0_1.toml")
    assert keywords == {"hist_range": (2.0**-20, 16.0), "hist_bins_per_octave": 4, "trials": [5, 2]}
    new = scenario.run(**keywords)
    assert set(new.variables) - set(old.variables) == {"clipped_draws"}
    assert not new["clipped_draws"].any()
    for name in old.variables:
        assert new[name].dims == old[name].dims, name
        np.testing.assert_array_equal(new[name].values, old[name].values, err_msg=name)
    assert scenario_text(new) == old.attrs["scenario"]  # the JSON keeps its format (now on the trial coordinate)
    assert new.attrs["random_layout"] == 2


def test_a_result_of_another_random_layout_with_a_mixture_warns_on_rerun():
    traffic = cs.Traffic([cs.QueryClass("chat", 1.0, cs.Mixture((cs.LogNormal(6.0, 0.8), cs.LogNormal(9.0, 1.0)),
                                                                (0.8, 0.2)), cs.Constant(100.0))],
                         cs.Arrivals(volume=1_000, horizon="2h", bin="1h"))
    ds = cs.simulate(traffic, {"api": cs.TokenPricing(3.0, 15.0)}, trials=1, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from_result(ds)  # the same layout: no warning
    ds.attrs.pop("random_layout")  # as costsim 0.1 wrote it
    with pytest.warns(UserWarning, match="random-stream layout 1 .* uses layout 2, which draws Mixture"):
        from_result(ds)
