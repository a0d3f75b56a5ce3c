"""Loading data never runs code, and hostile files give one clear ValueError naming the place.

Issue 11, items 5 and 9: a ``CustomCapacity`` import path in a scenario file, a ``from_dict``
table or a result's attrs is refused *before* anything is imported unless its top-level
package is trusted by name (``allow_imports=``); absurd numbers, unhashable type names and
deep nesting are ParameterError/ValueError naming the path, never OverflowError,
TypeError or RecursionError.
"""

import json
import sys

import numpy as np
import pytest
import xarray as xr

import costsim as cs
from _packages import capacity_package, forget
from costsim.scenario import MAX_DEPTH, Scenario, examples, from_dict, from_result, load_scenario



@pytest.fixture
def package(tmp_path, monkeypatch):
    """A uniquely named package on sys.path whose import writes ``imported.txt``: (name, marker path)."""
    name, marker = capacity_package(tmp_path / "site", "costsim_trust")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    yield name, marker
    forget(name)


def _scenario_data(function):
    data = Scenario(cs.demo.demo_traffic(days=1), cs.demo.demo_options(), trials=2, seed=1).to_dict()
    data["options"] = {"own": {"type": "CustomCapacity", "function": function, "params": [0.001]}}
    return data


def _write(tmp_path, data, name="s.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


# ---- item 5: import paths ---------------------------------------------------------------------------


def test_scenario_file_import_path_is_refused_before_importing(tmp_path, package):
    name, marker = package
    path = _write(tmp_path, _scenario_data(f"{name}.cap:capacity"))
    with pytest.raises(cs.ParameterError, match=(
            rf"options.own.function names code in package '{name}'.*allow_imports=\['{name}'\] "
            rf"\(costsim run --allow-import {name}\).*got '{name}.cap:capacity'")):
        load_scenario(path)
    assert not marker.exists() and name not in sys.modules


def test_trusted_package_is_imported(tmp_path, package):
    name, marker = package
    path = _write(tmp_path, _scenario_data(f"{name}.cap:capacity"))
    scenario = load_scenario(path, allow_imports=[name])
    assert marker.read_text() == f"{name}.cap"
    assert scenario.options["own"].function == f"{name}.cap:capacity"


def test_trusting_another_package_does_not_help(tmp_path, package):
    name, marker = package
    path = _write(tmp_path, _scenario_data(f"{name}.cap:capacity"))
    with pytest.raises(cs.ParameterError, match=f"names code in package '{name}'"):
        load_scenario(path, allow_imports=["numpy", "mypkg"])
    assert not marker.exists()


def test_antigravity_is_not_imported(tmp_path):
    sys.modules.pop("antigravity", None)
    path = _write(tmp_path, _scenario_data("antigravity:fly"))
    with pytest.raises(cs.ParameterError, match="names code in package 'antigravity'"):
        load_scenario(path)
    assert "antigravity" not in sys.modules


def test_from_dict_refuses_and_allows(package):
    name, marker = package
    data = {"type": "CustomCapacity", "function": f"{name}.cap:capacity"}
    with pytest.raises(cs.ParameterError, match=f"^function names code in package '{name}'"):
        from_dict(data)
    with pytest.raises(cs.ParameterError, match=f"^options.own.function names code in package '{name}'"):
        Scenario.from_dict(_scenario_data(f"{name}.cap:capacity"))
    assert not marker.exists()
    assert from_dict(data, allow_imports=(name,)).function == f"{name}.cap:capacity"
    assert marker.exists()


def test_a_fallback_nested_in_an_option_is_checked_too(package):
    name, marker = package
    data = _scenario_data("x:y")
    data["options"] = {"ptu": {"type": "ProvisionedCapacity", "units": 1, "price_per_unit_hour": 1.0,
                               "tokens_per_minute": 1000.0,
                               "fallback": {"type": "CustomCapacity", "function": f"{name}.cap:capacity"}}}
    with pytest.raises(cs.ParameterError, match=f"options.ptu.fallback.function names code in package '{name}'"):
        Scenario.from_dict(data)
    assert not marker.exists()


def _result_with(scenario_json):
    edges = np.array([0.0, 1e-7, 1e-6, 1e3, np.inf])
    return xr.Dataset({"cost_lower": ("cost_bin", edges[:-1]), "cost_upper": ("cost_bin", edges[1:])},
                      attrs={"scenario": scenario_json, "hist_bins_per_octave": 16})


def test_from_result_refuses_and_allows(tmp_path, package):
    name, marker = package
    data = {**_scenario_data(f"{name}.cap:capacity"), "trials": [0, 1], "seed": 3}
    result = _result_with(json.dumps(data))
    with pytest.raises(cs.ParameterError, match=f"options.own.function names code in package '{name}'"):
        from_result(result)
    result.to_netcdf(tmp_path / "r.nc")
    with pytest.raises(cs.ParameterError, match=f"allow_imports=\\['{name}'\\]"):
        from_result(tmp_path / "r.nc")
    assert not marker.exists()
    scenario, keywords = from_result(tmp_path / "r.nc", allow_imports=[name])
    assert marker.exists() and scenario.trials == 2 and scenario.seed == 3
    assert keywords == {"hist_range": (1e-7, 1e3), "hist_bins_per_octave": 16}


@pytest.mark.parametrize("function", [".cap:capacity", "cap", "cap:", ":capacity", "a..b:c", "a.b:c.d",
                                      "a b:c", "mod:f()", "ünï:f", "a:b\n"])
def test_malformed_import_paths_are_refused_even_when_trusted(function):
    with pytest.raises(cs.ParameterError, match=(
            r"^function must be an import path 'package.module:function' \(absolute, ASCII names\); got ")):
        from_dict({"type": "CustomCapacity", "function": function}, allow_imports=["cap", "a", "mod"])


@pytest.mark.parametrize("allow, message", [
    ("mypkg", "allow_imports must be an iterable of top-level package names, e.g. ['mypkg']; got 'mypkg'"),
    (3, "allow_imports must be an iterable of top-level package names, e.g. ['mypkg']; got 3"),
    (["my.pkg"], "allow_imports must hold top-level package names such as 'mypkg' (no dots); got 'my.pkg'"),
    ([None], "allow_imports must hold top-level package names such as 'mypkg' (no dots); got None"),
])
def test_allow_imports_is_checked(allow, message):
    with pytest.raises(cs.ParameterError) as info:
        load_scenario(examples()[0], allow_imports=allow)
    assert str(info.value) == message


def test_python_construction_still_imports_your_own_code(package):
    name, marker = package
    custom = cs.CustomCapacity(f"{name}.cap:capacity", params=(0.001,))
    assert marker.exists() and custom._compiled() is sys.modules[f"{name}.cap"].capacity


def test_relative_path_in_python_is_a_parameter_error():
    with pytest.raises(cs.ParameterError, match="function must be a numba function or an importable 'module:name'"):
        cs.CustomCapacity(".cap:capacity")


# ---- item 9: hostile values -------------------------------------------------------------------------


def _base():
    return json.loads([p for p in examples() if p.suffix == ".json"][0].read_text())


def test_a_400_digit_integer_names_the_field(tmp_path):
    data = _base()
    data["traffic"]["classes"][0]["share"] = 10**400
    with pytest.raises(cs.ParameterError, match=r"^traffic.classes\[0\].share must be a finite number; got "):
        load_scenario(_write(tmp_path, data))


def test_a_400_digit_integer_in_an_integer_field_is_a_value_error(tmp_path):
    data = _base()
    data["traffic"]["classes"][0]["steps"] = 10**400
    with pytest.raises(ValueError, match=r"traffic.classes\[0\]"):
        load_scenario(_write(tmp_path, data))


@pytest.mark.parametrize("kind", [[], {}, 3, None])
def test_a_type_that_is_not_a_name(tmp_path, kind):
    data = _base()
    data["traffic"]["classes"][0]["output_tokens"]["type"] = kind
    with pytest.raises(cs.ParameterError, match=r"^traffic.classes\[0\].output_tokens.type must be one of \["):
        load_scenario(_write(tmp_path, data))
    with pytest.raises(cs.ParameterError, match=r"^type must be one of \[.*; got "):
        from_dict({"type": kind})


def _nested_mixture(levels):
    mixture = {"type": "LogNormal", "mu": 5.0, "sigma": 1.0}
    for _ in range(levels):
        mixture = {"type": "Mixture", "components": [mixture], "weights": [1.0]}
    return mixture


def test_a_valid_mixture_nested_400_deep_is_refused_by_depth(tmp_path):
    data = _base()
    data["traffic"]["classes"][0]["output_tokens"] = _nested_mixture(400)
    with pytest.raises(ValueError, match=(
            rf"^traffic.classes\[0\].output_tokens.components\[0\].*: tables and arrays nest more than "
            rf"{MAX_DEPTH} levels deep, more than any scenario needs$")):
        load_scenario(_write(tmp_path, data))


def test_moderate_nesting_still_loads(tmp_path):
    data = _base()
    data["traffic"]["classes"][0]["output_tokens"] = _nested_mixture(10)
    scenario = load_scenario(_write(tmp_path, data))
    assert isinstance(scenario.traffic.classes[0].output_tokens, cs.Mixture)


@pytest.mark.parametrize("suffix, text", [
    (".json", '{"trials": ' + "[" * 100_000 + "]" * 100_000 + "}"),
    (".toml", "trials = " + "[" * 5_000 + "]" * 5_000 + "\n"),
])
def test_arrays_nested_beyond_the_parser_are_one_value_error(tmp_path, suffix, text):
    path = tmp_path / f"deep{suffix}"
    path.write_text(text)
    with pytest.raises(ValueError, match=rf"nested too deeply to read \(a scenario nests at most {MAX_DEPTH} levels\)"):
        load_scenario(path)


def test_arrays_nested_within_the_parser_are_refused_by_depth(tmp_path):
    path = _write(tmp_path, {"trials": json.loads("[" * 200 + "]" * 200)})
    with pytest.raises(ValueError, match=rf"^trials\[0\]\[0\].*: tables and arrays nest more than {MAX_DEPTH} "):
        load_scenario(path)
    with pytest.raises(ValueError, match=f"nest more than {MAX_DEPTH} levels deep"):
        from_dict(json.loads("[" * 200 + "]" * 200))


def test_text_that_is_not_utf8(tmp_path):
    path = tmp_path / "s.toml"
    path.write_bytes(b"trials = 3\n# \xff\xfe\n")
    with pytest.raises(ValueError, match="not valid TOML: 'utf-8' codec can't decode"):
        load_scenario(path)


@pytest.mark.parametrize("attrs, words", [
    ('{"trials": 3, "seed": 1}', "TypeError: 'int' object is not iterable"),
    ('{"trials": ["a"], "seed": 1}', "trials must be a list of trial ids (integers); got ['a']"),
    ('[1, 2]', "TypeError: list indices must be integers"),
    ("[" * 100_000 + "]" * 100_000, "nests too deeply"),
])
def test_from_result_with_a_broken_scenario_attr(attrs, words):
    with pytest.raises(ValueError, match=r"result.attrs\['scenario'\]") as info:
        from_result(_result_with(attrs))
    assert words in str(info.value)
