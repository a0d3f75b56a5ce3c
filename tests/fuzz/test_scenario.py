"""Fuzz the scenario loader: plain data (``Scenario.from_dict``, ``costsim.from_dict``),
JSON and TOML text (``load_scenario``), derived from valid scenarios by one mutation
(a value replaced by a hostile one, a key removed or added, a ``type`` changed, an
array nested thousands deep), and raw hostile text.

Property: loading either raises a ValueError/TypeError naming a key on the path of the
mutation (or, for raw text, saying it is not valid JSON/TOML), or gives a scenario
that runs: a tiny run is refused by name or returns a sound Dataset.
"""

from __future__ import annotations

import copy
import json
import math
import tempfile
import warnings
from pathlib import Path
from typing import Any

import tomli_w
from hypothesis import strategies as st

import costsim as cs
from costsim.scenario import Scenario, examples, load_scenario

from ._fuzz import Refused, attempt, check_dataset, fuzz_tests


def _example_data() -> list[dict[str, Any]]:
    import tomllib

    out = []
    for path in examples():
        text = path.read_text(encoding="utf-8")
        out.append(tomllib.loads(text) if path.suffix == ".toml" else json.loads(text))
    return out


EXAMPLES = _example_data()


def _shrink_run(data: dict[str, Any]) -> dict[str, Any]:
    """A tiny version of a scenario: 2 trials, one day of hourly bins, little volume."""
    data = copy.deepcopy(data)
    data["trials"] = 2
    data["seed"] = 1
    arrivals = data.get("traffic", {}).get("arrivals", {})
    arrivals.update({"horizon": "1D", "bin": "1h"})
    arrivals["volume"] = 2_000
    return data


BASES = [_shrink_run(d) for d in EXAMPLES]


def _paths(value: Any, path: tuple = ()) -> list[tuple]:
    """Every path (keys and indices) into plain data."""
    found = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            found += _paths(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _paths(v, path + (i,))
    return found


def _inner_keys(value: Any) -> frozenset[str]:
    """The keys inside a (possibly very deeply nested) value, without recursion."""
    keys, stack = set(), [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            keys |= {k for k in v if isinstance(k, str)}
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return frozenset(keys)


def _deep(depth: int, kind: str) -> Any:
    value: Any = 1.0
    for _ in range(depth):
        value = [value] if kind == "list" else {"type": "Mixture", "components": [value], "weights": [1.0]}
    return value


HOSTILE_VALUES = st.one_of(
    st.sampled_from([None, True, "", "abc", -1, 0, 10**400, -(10**400), 2**63, 1e308, math.nan, math.inf, -math.inf,
                     [], {}, [[]], {"type": []}, {"type": None}, {"type": "Nope"}, {"type": "Distribution"},
                     {"type": "PricingModel"}, {"type": "Model"}, {"type": "CustomCapacity",
                                                                   "function": "os:system"},
                     {"type": "CustomCapacity", "function": "this:s"},
                     {"type": "Normal", "mu": 0.0, "sigma": 1e300}, {"type": "Uniform", "low": -1.0, "high": 1.0},
                     "2262-04-01", "1000000D", "0D", "1ns"]),
    st.builds(_deep, st.sampled_from([50, 400, 3000]), st.sampled_from(["list", "mixture"])),
    st.floats(), st.integers(), st.text(max_size=5),
)


@st.composite
def mutations(draw):
    """``(data, path of the mutation, kind, keys inside an inserted value)`` of a mutated example."""
    data = copy.deepcopy(draw(st.sampled_from(BASES)))
    path = draw(st.sampled_from(_paths(data)[1:]))
    kind = draw(st.sampled_from(["replace", "replace", "replace", "delete", "add", "type", "perturb", "perturb"]))
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    inserted: Any = None
    if kind == "delete" and isinstance(parent, dict):
        del parent[last]
    elif kind == "add" and isinstance(parent, dict):
        key = draw(st.sampled_from(["bogus", "", "type ", "Type"]))
        parent[key] = inserted = draw(HOSTILE_VALUES)
        path = path[:-1] + (key,)
    elif kind == "type" and isinstance(parent, dict) and "type" in parent:
        parent["type"] = draw(st.sampled_from(["Traffic", "Arrivals", "LogNormal", "TokenPricing", "Hybrid",
                                               "Scenario", "", 1, None, ["LogNormal"]]))
        path = path[:-1] + ("type",)
    elif kind == "perturb":  # a plausible edit: a number scaled, a string or flag kept
        value = parent[last]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            factor = draw(st.sampled_from([0, 0.5, 2, -1]))
            parent[last] = type(value)(value * factor) if math.isfinite(value * factor) else value
    else:
        parent[last] = inserted = draw(HOSTILE_VALUES)
    # a refusal may name a key on the path, or one inside the inserted value
    inner = _inner_keys(inserted)
    return data, path, kind, frozenset(inner)


def _keys(path: tuple) -> set[str]:
    """Names a refusal may use for the keys of a path: a key as a word, or a key that is no
    identifier (``''``, ``'type '``) as the path element ``['type ']``."""
    keys = {k for k in path if isinstance(k, str) and k.isidentifier()}
    keys |= {f"[{k!r}]" for k in path if isinstance(k, str) and not k.isidentifier()}
    return keys | {"scenario"}


def _run(scenario: Scenario, names: set[str]) -> None:
    """A loaded scenario runs tiny: refused by name or a sound Dataset."""
    arrivals = scenario.traffic.arrivals
    if arrivals.n_bins > 48 or (isinstance(arrivals.volume, float) and arrivals.volume > 1e6):
        return  # hostile volumes and horizons are test_simulate's (scenario files build the same objects)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        try:
            ds = attempt(scenario.run, names=names | set(scenario.options), max_result_bytes=2e8, progress=False)
        except Refused:
            return
    check_dataset(ds, n_trials=scenario.trials, option_names=list(scenario.options),
                  class_names=list(scenario.traffic.class_names))


def _from_dict(mutation) -> None:
    """A mutated scenario (plain data) loads or is refused naming a key on the mutated path;
    a loaded one runs soundly."""
    data, path, _kind, inner = mutation
    names = _keys(path) | inner
    try:
        scenario = attempt(Scenario.from_dict, data, names=names, where=f"Scenario.from_dict at {path}")
    except Refused:
        return
    _run(scenario, names)


test_from_dict, test_from_dict_slow = fuzz_tests(_from_dict, mutations())


def _codec_from_dict(mutation) -> None:
    """``costsim.from_dict`` on a mutated traffic or option table: builds or is refused by name."""
    data, path, _kind, inner = mutation
    target = data.get("traffic") if path[:1] == ("traffic",) else data.get("options")
    names = _keys(path) | inner | {"type"}
    if isinstance(target, list):  # the table itself replaced by an array: a path from its root
        names.add("[0]")
    try:
        attempt(cs.from_dict, target, names=names, where=f"cs.from_dict at {path}")
    except Refused:
        return


test_codec_from_dict, test_codec_from_dict_slow = fuzz_tests(_codec_from_dict, mutations())


def _texts(data: Any) -> dict[str, str]:
    """The JSON and TOML texts of mutated data (those its values can be written as)."""
    texts = {}
    try:
        texts["json"] = json.dumps(data)
    except (ValueError, TypeError, RecursionError):  # our own writer's limits, not the loader's
        pass
    try:
        texts["toml"] = tomli_w.dumps(data)
    except (ValueError, TypeError, RecursionError):
        pass
    return texts


RAW_TEXTS = st.one_of(
    st.sampled_from([
        "", "{}", "[]", "null", "1", '{"traffic": 1e400}', '{"trials": 1' + "0" * 400 + "}", "[" * 100_000,
        '{"a": ' * 5000 + "1" + "}" * 5000, "x = [" * 3000, "trials = nan", "\x00", "\ufeff{}",
        '{"traffic": {"type": []}}', '{"options": {"api": {"type": "CustomCapacity", "function": "os:getcwd"}}}',
    ]),
    st.text(max_size=40),
)


def _load_text(case) -> None:
    """load_scenario on JSON/TOML text of a mutated scenario, or raw hostile text: a scenario
    or a ValueError/TypeError naming the mutated key (raw text: saying it is not valid)."""
    mutation, raw, fmt = case
    if raw is None:
        data, path, _kind, inner = mutation
        texts = _texts(data)
        if fmt not in texts:
            return
        text, names = texts[fmt], _keys(path) | inner | {"JSON", "TOML"}
    else:
        text, names = raw, {"JSON", "TOML", "scenario", "traffic", "options", "trials", "seed", "type"}
    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / f"s.{fmt}"
        file.write_text(text, encoding="utf-8")
        try:
            scenario = attempt(load_scenario, file, names=names, where=f"load_scenario({fmt}: {text[:200]!r})")
        except Refused:
            return
    assert isinstance(scenario, Scenario)


test_load_text, test_load_text_slow = fuzz_tests(
    _load_text, st.tuples(mutations(), st.one_of(st.none(), RAW_TEXTS), st.sampled_from(["json", "toml"])))
