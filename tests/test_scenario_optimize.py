"""The ``[optimize]`` table of scenario files (issue 15): a search, an objective and constraints as plain data.

Strict like the rest of the file (errors name the place), round trips through save/load, appears in the JSON
Schema, agrees with what :func:`costsim.optimize` reads, and a scenario without it is unchanged.
"""

import json
import tomllib

import numpy as np
import pytest

import costsim as cs
from costsim.decide import optimize, parse_constraints, parse_objective
from costsim.scenario import (
    Optimization,
    OptimizeConstraints,
    Scenario,
    examples,
    json_schema,
    load_scenario,
    save_scenario,
)

jsonschema = pytest.importorskip("jsonschema")

RIGHT_SIZE = next(p for p in examples() if p.name == "right_size.toml")
LINKED = "api_list.thresholds,api_committed.monthly_minimum"


def _small(**optimize_table):
    traffic = cs.Traffic([cs.QueryClass("chat", 1.0, cs.LogNormal(7.0, 0.6), cs.LogNormal(5.0, 0.6))],
                         cs.Arrivals(volume=cs.Uniform(2_000, 4_000), horizon="2D", bin="1h", overdispersion=0.3))
    options = {
        "api": cs.TokenPricing(input=2.0, output=8.0),
        "api_list": cs.VolumeDiscount("api", thresholds=(10.0,), multipliers=(1.25,), measure="spend"),
        "api_committed": cs.CommittedSpend("api_list", monthly_minimum=10.0),
        "ptu": cs.ProvisionedCapacity(units=1, price_per_unit_hour=0.1, tokens_per_minute=1_000,
                                       fallback="api_committed"),
    }
    data = Scenario(traffic, options, trials=4, seed=3).to_dict()
    if optimize_table:
        data["optimize"] = optimize_table
    return data


def _load(tmp_path, data, suffix=".toml"):
    path = tmp_path / f"s{suffix}"
    if suffix == ".toml":
        import tomli_w

        path.write_text(tomli_w.dumps(data))
    else:
        path.write_text(json.dumps(data))
    return load_scenario(path)


def _error(tmp_path, data, suffix=".toml"):
    with pytest.raises(ValueError) as info:
        _load(tmp_path, data, suffix)
    return str(info.value)


SEARCH = {"ptu.units": [1, 2, 4], LINKED: [[[1.0], 0.0], [[50.0], 50.0]]}


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_round_trip_and_schema(tmp_path, suffix):
    data = _small(search=SEARCH, objective=["cvar", 0.9], constraints={"budget": [1_000, 0.1]}, option="ptu")
    jsonschema.Draft202012Validator(json_schema()).validate(data)
    scenario = _load(tmp_path, data, suffix)
    o = scenario.optimize
    assert o.search == {"ptu.units": (1, 2, 4), LINKED: (((1.0,), 0.0), ((50.0,), 50.0))}
    assert o.objective == ("cvar", 0.9) and o.option == "ptu"
    assert o.constraints == OptimizeConstraints(budget=(1_000.0, 0.1))
    assert isinstance(o.search["ptu.units"][0], int)  # integers stay integers (units)
    for out in (".toml", ".json"):
        save_scenario(scenario, tmp_path / f"copy{out}")
        assert load_scenario(tmp_path / f"copy{out}") == scenario
    # the same plan written in Python (lists, ranges, NumPy values) is the same scenario
    python = Scenario(scenario.traffic, scenario.options, trials=4, seed=3, optimize=Optimization(
        {"ptu.units": np.array([1, 2, 4]), LINKED: [([1.0], 0.0), (np.array([50.0]), np.float64(50.0))]},
        objective=("cvar", 0.9), constraints={"budget": (1_000, 0.1)}, option="ptu"))
    assert python == scenario


def test_a_scenario_without_it_is_unchanged(tmp_path):
    data = _small()
    scenario = _load(tmp_path, data)
    assert scenario.optimize is None and "optimize" not in scenario.to_dict()
    save_scenario(scenario, tmp_path / "copy.toml")
    assert "optimize" not in tomllib.loads((tmp_path / "copy.toml").read_text())
    schema = json_schema()
    assert "optimize" in schema["properties"] and "optimize" not in schema["required"]
    assert schema["properties"]["optimize"]["required"] == ["search"]
    assert schema["properties"]["optimize"]["additionalProperties"] is False


@pytest.mark.parametrize("table, message", [
    ({"search": SEARCH, "objectiv": "mean"}, "optimize: unknown key 'objectiv'"),
    ({"objective": "mean"}, "optimize: missing key 'search'"),
    ({"search": {}}, "optimize.search must map 'option.parameter' to the values to try (at least one key); got {}"),
    ({"search": {"ptu.units": []}}, "optimize.search['ptu.units'] must hold at least one value to try; got ()"),
    ({"search": {"ptu.units": 4}}, "optimize.search['ptu.units'] must be an array; got 4"),
    ({"search": {"units": [1]}}, "optimize.search['units'] must name 'option.parameter' (or several, separated by "
     "commas, for parameters that move together); got 'units'"),
    ({"search": {"gpu.max_replicas": [1]}},
     "optimize.search['gpu.max_replicas'] names option 'gpu', which is not among the options "
     "['api', 'api_committed', 'api_list', 'ptu']; got 'gpu.max_replicas'"),
    ({"search": {"ptu.units": [1, {"a": 1}]}}, "optimize.search['ptu.units'][1] must be "),
    ({"search": {LINKED: [[[1.0], 0.0], [5.0]]}},
     f"optimize.search['{LINKED}'][1] must be an array of 2 values, one for each of "
     "['api_list.thresholds', 'api_committed.monthly_minimum']; got (5.0,)"),
    ({"search": SEARCH, "objective": "median"},
     "optimize.objective must be 'mean', ['quantile', q], ['cvar', level] or ['mean+cvar', lambda, level]; "
     "got 'median'"),
    ({"search": SEARCH, "objective": ["cvar", 1.0]}, "optimize.objective[1] (the CVaR level) must be in [0, 1); got 1.0"),
    ({"search": SEARCH, "objective": ["mean+cvar", -1, 0.9]},
     "optimize.objective[1] (the weight lambda of the CVaR) must be >= 0; got -1"),
    ({"search": SEARCH, "constraints": {"throttled": 0.1}}, "optimize.constraints: unknown key 'throttled'"),
    ({"search": SEARCH, "constraints": {"throttled_share": 2}},
     "optimize.constraints.throttled_share must be in [0, 1]; got 2"),
    ({"search": SEARCH, "constraints": {"budget": [100]}},
     "optimize.constraints.budget must be [USD, probability]: the total cost exceeds USD in at most that share "
     "of trials; got (100,)"),
    ({"search": SEARCH, "method": "anneal"},
     "optimize.method must be 'grid' (price every candidate) or 'refine' (a local search that prices a few); "
     "got 'anneal'"),
    ({"search": SEARCH, "max_candidates": 0}, "optimize.max_candidates must be >= 1; got 0"),
    ({"search": SEARCH, "option": "gpu"},
     "optimize.option must name one of the options ['api', 'api_committed', 'api_list', 'ptu']; got 'gpu'"),
])
def test_errors_name_the_place(tmp_path, table, message):
    assert _error(tmp_path, _small(**table), ".json").startswith(message)


def test_python_errors_name_the_place():
    with pytest.raises(cs.ParameterError, match=r"^search\['ptu.units'\]\[0\] must be a plain value"):
        Optimization({"ptu.units": [cs.Constant(1.0)]})
    with pytest.raises(cs.ParameterError, match=r"^constraints must have keys among"):
        Optimization({"ptu.units": [1]}, constraints={"budgett": (1, 0.1)})
    data = _small()
    scenario = Scenario.from_dict(data)
    with pytest.raises(cs.ParameterError, match=r"^optimize.search\['x.units'\] names option 'x'"):
        Scenario(scenario.traffic, scenario.options, optimize={"search": {"x.units": [1]}})
    built = Scenario(scenario.traffic, scenario.options, optimize={"search": {"ptu.units": range(1, 3)}})
    assert built.optimize == Optimization({"ptu.units": (1, 2)})


OBJECTIVES = ["mean", "MEAN", ["quantile", 0.95], ["cvar", 0.0], ["cvar", 0.99], ["mean+cvar", 0.5, 0.9],
              ["quantile", 0.0], ["quantile", 1.0], ["cvar", -0.1], ["mean+cvar", float("inf"), 0.9],
              ["mean+cvar", 0.5], ["cvar"], [], "p95", [0.95, "cvar"], ["cvar", True]]


@pytest.mark.parametrize("spec", OBJECTIVES, ids=str)
def test_objective_checks_agree_with_optimize(spec):
    """The scenario checks an objective by the rules of costsim.decide.parse_objective (it may not import it)."""
    try:
        expected = parse_objective(spec)
    except cs.ParameterError as err:
        with pytest.raises(cs.ParameterError) as info:
            Optimization({"ptu.units": [1]}, objective=spec)
        assert info.value.path == err.path  # the same place (the rules are worded for a file)
        if err.path != "objective":
            assert info.value.rule == err.rule
        return
    o = Optimization({"ptu.units": [1]}, objective=spec)
    assert parse_objective(o.objective) == expected
    assert o.objective == expected.spec


@pytest.mark.parametrize("spec", [{}, {"throttled_share": 0.01}, {"budget": [5e4, 0.05], "utilisation": 0.5},
                                  {"throttled_share": -0.1}, {"utilisation": 1.5}, {"budget": [-1, 0.1]},
                                  {"budget": [float("inf"), 0.1]}, {"budget": [1e4, 1.1]}, {"budget": 5}],
                         ids=str)
def test_constraint_checks_agree_with_optimize(spec):
    try:
        expected = parse_constraints(spec)
    except cs.ParameterError:
        with pytest.raises(cs.ParameterError):
            Optimization({"ptu.units": [1]}, constraints=spec)
        return
    o = Optimization({"ptu.units": [1]}, constraints=spec)
    assert parse_constraints(o.constraints.spec) == expected


def test_keywords_drive_optimize_and_linked_keys_keep_every_value(tmp_path):
    scenario = _load(tmp_path, _small(search=SEARCH, objective=["quantile", 0.9]))
    keywords = scenario.optimize.keywords()
    assert list(keywords["search"]) == ["ptu.units", ("api_list.thresholds", "api_committed.monthly_minimum")]
    result = optimize(scenario.traffic, scenario.options, **keywords, trials=scenario.trials, seed=scenario.seed)
    assert result.dataset.sizes["candidate"] == 6 and result.dataset.attrs["objective"] == "p90"
    linked = result.best[("api_list.thresholds", "api_committed.monthly_minimum")]
    assert linked in (((1.0,), 0.0), ((50.0,), 50.0))


def test_method_and_budget_reach_optimize(tmp_path):
    """A scenario's method='refine' and max_candidates drive the search (refine prices at most the budget)."""
    scenario = _load(tmp_path, _small(search={"ptu.units": list(range(1, 41))}, method="refine", max_candidates=12))
    assert scenario.optimize.keywords()["method"] == "refine"
    assert Scenario.from_dict(scenario.to_dict()).optimize == scenario.optimize
    result = optimize(scenario.traffic, scenario.options, **scenario.optimize.keywords(), trials=scenario.trials,
                      seed=scenario.seed)
    ds = result.dataset
    assert ds.attrs["method"] == "refine" and ds.attrs["grid_size"] == 40 and ds.sizes["candidate"] <= 12


def test_shipped_right_size_example():
    scenario = load_scenario(RIGHT_SIZE)
    o = scenario.optimize
    assert set(scenario.options) == {"api", "api_list", "api_committed", "ptu"}
    assert list(o.search) == ["ptu.units", LINKED]
    assert o.objective == ("mean+cvar", 0.5, 0.9)
    assert len(o.search["ptu.units"]) * len(o.search[LINKED]) == 64
