"""Scenario files: TOML/JSON round trips, exact error paths, the JSON Schema and the shipped examples."""

import json
import tomllib

import pytest

import costsim as cs
from costsim.scenario import (
    Scenario, dumps_scenario, examples, generate_json_schema, json_schema, load_scenario, save_scenario,
)

jsonschema = pytest.importorskip("jsonschema")

EXAMPLES = examples()


def _data(path):
    text = path.read_text(encoding="utf-8")
    return tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)


def test_examples_are_shipped():
    assert {p.suffix for p in EXAMPLES} == {".toml", ".json"}


def test_bundled_schema_is_the_generated_one():
    assert json_schema() == generate_json_schema(), (
        "regenerate: python -c 'import costsim.scenario as s; s._write_bundled_schema()'")
    jsonschema.Draft202012Validator.check_schema(json_schema())


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_validates_and_round_trips(path, tmp_path):
    jsonschema.Draft202012Validator(json_schema()).validate(_data(path))
    scenario = load_scenario(path)
    # the shipped file is exactly what save_scenario writes
    assert path.read_text(encoding="utf-8") == dumps_scenario(scenario, path.suffix[1:])
    for suffix in (".toml", ".json"):
        target = tmp_path / f"copy{suffix}"
        save_scenario(scenario, target)
        back = load_scenario(target)
        assert back == scenario
        assert list(back.options) == list(scenario.options)
        save_scenario(back, tmp_path / f"again{suffix}")
        assert (tmp_path / f"again{suffix}").read_bytes() == target.read_bytes()
        jsonschema.Draft202012Validator(json_schema()).validate(_data(target))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary files left


def test_none_is_omitted_and_defaults_fill_in(tmp_path):
    scenario = Scenario(cs.demo.demo_traffic(days=1), {"small": cs.TokenPricing(input=0.4, output=1.6)})
    save_scenario(scenario, tmp_path / "s.toml")
    data = tomllib.loads((tmp_path / "s.toml").read_text())
    assert "seed" not in data and "cached_input" not in data["options"]["small"]
    assert load_scenario(tmp_path / "s.toml") == scenario
    assert load_scenario(tmp_path / "s.toml").trials == 100


def _bad(tmp_path, edit, suffix=".json"):
    data = _data(EXAMPLES[0])
    edit(data)
    path = tmp_path / f"bad{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(data))
    else:
        import tomli_w
        path.write_text(tomli_w.dumps(data))
    with pytest.raises(ValueError) as info:
        load_scenario(path)
    return str(info.value)


def test_invalid_value_names_the_exact_path(tmp_path):
    def edit(d):
        d["traffic"]["classes"][2]["input_tokens"]["sigma"] = -1
    assert _bad(tmp_path, edit, ".toml") == "traffic.classes[2].input_tokens.sigma must be > 0; got -1"


def test_unknown_key_names_the_exact_path(tmp_path):
    def edit(d):
        d["traffic"]["classes"][0]["sigmaa"] = 1.0
    assert _bad(tmp_path, edit) == "traffic.classes[0]: unknown key 'sigmaa'"

    def top(d):
        d["trails"] = 5
    assert _bad(tmp_path, top) == "scenario: unknown key 'trails'"


def test_wrong_type_and_unknown_type_name(tmp_path):
    def edit(d):
        d["traffic"]["classes"][1]["name"] = 3
    assert _bad(tmp_path, edit) == "traffic.classes[1].name must be a string; got 3"

    def kind(d):
        d["traffic"]["classes"][0]["output_tokens"]["type"] = "LogNormall"
    message = _bad(tmp_path, kind)
    assert message.startswith("traffic.classes[0].output_tokens.type must be one of [")
    assert "'LogNormal'" in message and "'Pareto'" in message and message.endswith("got 'LogNormall'")

    def trials(d):
        d["trials"] = 0
    assert _bad(tmp_path, trials) == "trials must be >= 1; got 0"

    def option(d):
        d["options"]["frontier"]["input"] = "3"
    assert _bad(tmp_path, option).startswith("options.frontier.input must be a number or a distribution table")

    def missing(d):
        del d["traffic"]["arrivals"]["volume"]
    assert _bad(tmp_path, missing) == "traffic.arrivals: missing key 'volume'"

    def null(d):
        d["traffic"]["arrivals"]["volume"] = None
    assert _bad(tmp_path, null) == "traffic.arrivals.volume must be a number or a distribution table; got None"


def test_bad_syntax_and_suffix(tmp_path):
    (tmp_path / "x.toml").write_text("trials = [")
    with pytest.raises(ValueError, match="not valid TOML"):
        load_scenario(tmp_path / "x.toml")
    with pytest.raises(ValueError, match="must end in .toml or .json"):
        load_scenario(tmp_path / "x.yaml")


def test_uncertain_parameter_round_trips(tmp_path):
    scenario = load_scenario([p for p in EXAMPLES if p.suffix == ".json"][0])
    assert isinstance(scenario.traffic.arrivals.volume, cs.Uniform)
    save_scenario(scenario, tmp_path / "u.toml")
    assert load_scenario(tmp_path / "u.toml") == scenario


def test_run_uses_the_settings_and_overrides():
    scenario = Scenario(cs.demo.demo_traffic(days=1), cs.demo.demo_options(), trials=3, seed=11)
    ds = scenario.run(trials=2)
    assert ds.sizes["trial"] == 2 and int(ds.attrs["seed"]) == 11
