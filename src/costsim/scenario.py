"""Scenario <-> plain data (JSON-ready dicts), so a result file says how to reproduce it.

Every costsim object becomes ``{"type": ClassName, field: value, ...}``; tuples
become lists.  :func:`from_dict` rebuilds (and so re-validates) the objects.

Scenario files (``.toml`` or ``.json``) hold a :class:`Scenario`: traffic,
pricing options and run settings.  :func:`load_scenario` checks every key and
value against the dataclass fields and names the exact path of what is wrong
(``traffic.classes[2].input_tokens.sigma must be > 0; got -1``);
:func:`save_scenario` writes a file that loads back to an equal scenario.  Absent
optional values (None) are written by omitting the key.  :func:`json_schema` is
the JSON Schema of these files, generated from the dataclasses.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._model import Model
from ._validation import ParameterError, check_int

__all__ = [
    "Scenario", "examples", "from_dict", "from_result", "json_schema", "load_scenario", "save_scenario",
    "scenario_json", "to_dict",
]


def _registry() -> dict[str, type]:
    from . import pricing, traffic

    classes: dict[str, type] = {}
    for module in (traffic, pricing):
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, type) and issubclass(obj, Model):
                classes[name] = obj
    return classes


def to_dict(value: Any) -> Any:
    """Plain-data form of a costsim object (or of containers of them).

    Examples
    --------
    >>> from costsim import LogNormal
    >>> to_dict(LogNormal(mu=6.0, sigma=1.0))
    {'type': 'LogNormal', 'mu': 6.0, 'sigma': 1.0}
    """
    if isinstance(value, Model):
        out = {"type": type(value).__name__}
        for f in dataclasses.fields(value):
            out[f.name] = to_dict(getattr(value, f.name))
        return out
    if isinstance(value, (list, tuple)):
        return [to_dict(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_dict(v) for k, v in value.items()}
    if callable(value):  # a compiled function (CustomCapacity): its import path
        function = getattr(value, "py_func", value)
        return f"{function.__module__}:{function.__qualname__}"
    return value


def from_dict(data: Any) -> Any:
    """Rebuild costsim objects from :func:`to_dict` output.

    Examples
    --------
    >>> from costsim import LogNormal
    >>> from_dict(to_dict(LogNormal(mu=6.0, sigma=1.0))) == LogNormal(mu=6.0, sigma=1.0)
    True
    """
    if isinstance(data, dict) and "type" in data:
        registry = _registry()
        kind = data["type"]
        if kind not in registry:
            raise ValueError(f"type must be one of {sorted(registry)}; got {kind!r}")
        kwargs = {k: from_dict(v) for k, v in data.items() if k != "type"}
        return registry[kind](**{k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()})
    if isinstance(data, dict):
        return {k: from_dict(v) for k, v in data.items()}
    if isinstance(data, list):
        return [from_dict(v) for v in data]
    return data


def scenario_json(traffic: Any, options: Any, **settings: Any) -> str:
    """JSON text of a whole scenario: traffic, options and run settings."""
    # no sort_keys: the order of the options (and so of the result's option dim) is part of the scenario
    return json.dumps({"traffic": to_dict(traffic), "options": to_dict(options), **settings})


# ---- scenario files -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Scenario:
    """A whole simulation: traffic, the pricing options to compare, and run settings.

    Parameters
    ----------
    traffic : Traffic
        Query classes and arrivals.
    options : mapping of str to DeploymentOption
        The deployment options, by name (their order is the result's option order).
    trials : int, default 100
        Monte Carlo trials.
    seed : int, optional
        Seed in ``[0, 2**63)``; None draws a fresh one at each run.

    Examples
    --------
    >>> import costsim as cs
    >>> s = Scenario(cs.demo.demo_traffic(days=1), cs.demo.demo_options(), trials=4, seed=1)
    >>> s.run().sizes["trial"]
    4
    >>> Scenario(s.traffic, s.options, trials=0)
    Traceback (most recent call last):
    ...
    costsim._validation.ParameterError: trials must be >= 1; got 0
    """

    traffic: Traffic
    options: dict[str, DeploymentOption]
    trials: int = 100
    seed: int | None = None

    def __post_init__(self) -> None:
        from .pricing import DeploymentOption
        from .traffic import Traffic

        if not isinstance(self.traffic, Traffic):
            raise ParameterError("traffic", "must be a Traffic", self.traffic)
        if not isinstance(self.options, Mapping) or not self.options:
            raise ParameterError("options", "must be a non-empty mapping of name -> pricing model", self.options)
        for name, model in self.options.items():
            if not isinstance(name, str) or not name:
                raise ParameterError("options", "must have non-empty string names", name)
            if not isinstance(model, DeploymentOption):
                raise ParameterError(_key_path("options", name), "must be a pricing option", model)
        object.__setattr__(self, "options", dict(self.options))
        object.__setattr__(self, "trials", check_int("trials", self.trials, low=1))
        if self.seed is not None:
            object.__setattr__(self, "seed", check_int("seed", self.seed, low=0, high=2**63 - 1))

    def run(self, **overrides: Any):
        """Run :func:`costsim.simulate` on this scenario; keywords override ``trials``,
        ``seed`` or pass further arguments (``client``, ``hist_range``, ...)."""
        from .simulate import simulate

        kwargs = {"trials": self.trials, "seed": self.seed, **overrides}
        return simulate(self.traffic, self.options, **kwargs)

    def to_dict(self) -> dict[str, Any]:
        """Plain data of the scenario as written to a file: None values are left out."""
        data = {"traffic": to_dict(self.traffic), "options": to_dict(self.options),
                "trials": self.trials, "seed": self.seed}
        return _drop_none(data, "")

    @classmethod
    def from_dict(cls, data: Any) -> "Scenario":
        """Build (and check) a scenario from plain data; omitted keys take the defaults."""
        if not isinstance(data, Mapping):
            raise ParameterError("scenario", "must be a table (mapping)", data)
        return _build_fields(cls, data, "")


if typing.TYPE_CHECKING:  # pragma: no cover
    from .pricing import DeploymentOption
    from .traffic import Traffic


def _drop_none(value: Any, path: str) -> Any:
    """Leave out None values (TOML has no null) and refuse what a file cannot hold."""
    if isinstance(value, dict):
        return {k: _drop_none(v, _key_path(path, k)) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, (str, bool, int, float)):
        return value
    raise ParameterError(path, "cannot be written to a scenario file (use a string, number or list)", value)


def _key_path(path: str, key: Any) -> str:
    key_text = key if isinstance(key, str) and key.isidentifier() else f"[{key!r}]"
    if not path:
        return str(key_text)
    return f"{path}{key_text}" if key_text.startswith("[") else f"{path}.{key_text}"


# A field's type hint, reduced to what a file can hold: ("number" | "integer" | "string" | "boolean", None),
# ("array", item_hint), ("map", value_hint) or ("object", base_class).


def _alternatives(hint: Any, uncertain: bool = True) -> list[tuple[str, Any]]:
    from .traffic import Distribution

    if hint is Any:
        return [("any", None)]
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        found = [alt for arg in typing.get_args(hint) for alt in _alternatives(arg, uncertain)]
    elif origin in (tuple, list):
        found = [("array", typing.get_args(hint)[0])]
    elif origin in (dict, Mapping):
        found = [("map", typing.get_args(hint)[1])]
    elif hint is bool:
        found = [("boolean", None)]
    elif hint is int:
        found = [("integer", None)]
    elif hint is float:
        found = [("number", None)]
    elif hint is str:
        found = [("string", None)]
    elif isinstance(hint, type) and dataclasses.is_dataclass(hint):
        found = [("object", hint)]
    else:  # NoneType (an omitted key), datetime, timedelta: not held in files
        found = []
    # any numeric parameter of a model may be uncertain: a distribution drawn once per trial
    if uncertain and any(kind in ("number", "integer") for kind, _ in found) and ("object", Distribution) not in found:
        found.append(("object", Distribution))
    return found


def _concrete(base: type) -> dict[str, type]:
    """The classes a file may name where ``base`` is expected, by name."""
    return {name: cls for name, cls in _registry().items()
            if issubclass(cls, base) and dataclasses.fields(cls)}


def _hints(cls: type) -> dict[str, Any]:
    from .pricing import DeploymentOption
    from .traffic import Traffic

    return typing.get_type_hints(cls, localns={"Traffic": Traffic, "DeploymentOption": DeploymentOption})


_NAMES = {"number": "a number", "integer": "an integer", "string": "a string", "boolean": "true or false",
          "array": "an array", "map": "a table", "object": "a table with a 'type'"}


def _build(data: Any, hint: Any, path: str, uncertain: bool) -> Any:
    alternatives = _alternatives(hint, uncertain)
    kinds = [kind for kind, _ in alternatives]
    if "any" in kinds:
        return data
    if isinstance(data, dict):
        bases = [arg for kind, arg in alternatives if kind == "object"]
        maps = [arg for kind, arg in alternatives if kind == "map"]
        if bases and ("type" in data or not maps):
            return _build_object(data, bases, path)
        if maps:
            return {key: _build(value, maps[0], _key_path(path, key), uncertain) for key, value in data.items()}
    elif isinstance(data, list):
        items = [arg for kind, arg in alternatives if kind == "array"]
        if items:
            return tuple(_build(value, items[0], f"{path}[{i}]", uncertain) for i, value in enumerate(data))
    elif isinstance(data, bool):
        if "boolean" in kinds:
            return data
    elif isinstance(data, int):
        if "integer" in kinds or "number" in kinds:
            return data
    elif isinstance(data, float):
        if "number" in kinds:
            return data
    elif isinstance(data, str):
        if "string" in kinds:
            return data
    expected = " or ".join(dict.fromkeys(_NAMES[k] for k in kinds if k != "object" or len(kinds) == 1))
    if "object" in kinds and len(kinds) > 1:
        expected += " or a distribution table"
    raise ParameterError(path, f"must be {expected}", data)


def _build_object(data: Mapping[str, Any], bases: list[type], path: str) -> Any:
    allowed: dict[str, type] = {}
    for base in bases:
        allowed.update(_concrete(base))
    kind = data.get("type")
    if kind is None:
        raise ValueError(f"{path}: missing key 'type' (one of {sorted(allowed)})")
    if kind not in allowed:
        raise ParameterError(_key_path(path, "type"), f"must be one of {sorted(allowed)}", kind)
    return _build_fields(allowed[kind], {k: v for k, v in data.items() if k != "type"}, path)


def _build_fields(cls: type, data: Mapping[str, Any], path: str) -> Any:
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    where = path or "scenario"
    for key in data:
        if key not in fields:
            raise ValueError(f"{where}: unknown key {key!r}")
    hints = _hints(cls)
    kwargs = {}
    for name, f in fields.items():
        if name in data:
            kwargs[name] = _build(data[name], hints[name], _key_path(path, name), issubclass(cls, Model))
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ValueError(f"{where}: missing key {name!r}")
    try:
        return cls(**kwargs)
    except ParameterError as err:
        raise err.within(path, owner="") from None
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where}: {err}") from None


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise ValueError(f"{path}: a scenario file must end in .toml or .json; got {path.suffix or 'no suffix'!r}")
    return suffix[1:]


def load_scenario(path: str | os.PathLike) -> Scenario:
    """Read a scenario from a ``.toml`` or ``.json`` file.

    Raises ValueError naming the exact place of an unknown key, a value of the
    wrong type or a value that breaks a rule.

    Examples
    --------
    >>> s = load_scenario(examples()[0])
    >>> s.trials
    20
    """
    path = Path(path)
    fmt = _format(path)
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text) if fmt == "toml" else json.loads(text)
    except ValueError as err:  # TOMLDecodeError, JSONDecodeError
        raise ValueError(f"not valid {fmt.upper()}: {err}") from None
    return Scenario.from_dict(data)


def from_result(result: Any) -> tuple[Scenario, dict[str, Any]]:
    """The scenario of a :func:`costsim.simulate` result, and the keywords of
    :meth:`Scenario.run` that reproduce the result exactly.

    A result Dataset holds its scenario as JSON (``attrs["scenario"]``, with the
    seed and the trial ids) and its cost histogram's edges.  The scenario's
    ``trials`` is the number of trials; the keywords hold the histogram settings
    and, when the trials were not ``0 .. n-1``, the explicit trial ids.

    Parameters
    ----------
    result : xarray.Dataset or path
        A result, or the netCDF file it was written to (``costsim run --out``).

    Returns
    -------
    (Scenario, dict)
        ``scenario.run(**keywords)`` gives the same Dataset again.

    Examples
    --------
    >>> import xarray as xr
    >>> ds = load_scenario(examples()[0]).run(trials=[4, 1], seed=7)
    >>> scenario, keywords = from_result(ds)
    >>> scenario.trials, scenario.seed, keywords["trials"]
    (2, 7, [4, 1])
    >>> xr.testing.assert_identical(scenario.run(**keywords), ds)
    """
    import xarray as xr

    if isinstance(result, (str, os.PathLike)):
        with xr.open_dataset(result) as ds:
            return from_result(ds)
    if not isinstance(result, xr.Dataset) or "scenario" not in result.attrs:
        raise ParameterError("result", "must be a costsim result (a Dataset with a 'scenario' attr)",
                             type(result).__name__)
    try:
        data = json.loads(result.attrs["scenario"])
        trials, seed = data["trials"], data["seed"]
    except (ValueError, TypeError, KeyError) as err:
        raise ValueError(f"result.attrs['scenario'] is not a costsim scenario ({err})") from None
    scenario = Scenario.from_dict(_drop_none({**data, "trials": len(trials), "seed": seed}, ""))
    keywords: dict[str, Any] = {
        "hist_range": (float(result["cost_lower"][1]), float(result["cost_upper"][-2])),
        "hist_bins_per_octave": int(result.attrs["hist_bins_per_octave"]),
    }
    if trials != list(range(len(trials))):
        keywords["trials"] = trials
    return scenario, keywords


def dumps_scenario(scenario: Scenario, fmt: str = "toml") -> str:
    """The text :func:`save_scenario` writes, in format ``"toml"`` or ``"json"``."""
    data = scenario.to_dict()
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    if fmt == "toml":
        import tomli_w

        return tomli_w.dumps(data)
    raise ValueError(f"fmt must be one of ['json', 'toml']; got {fmt!r}")


def save_scenario(scenario: Scenario, path: str | os.PathLike) -> None:
    """Write a scenario to a ``.toml`` or ``.json`` file, atomically (through a temporary
    file in the same folder), so that :func:`load_scenario` gives it back exactly.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> s = load_scenario(examples()[0])
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save_scenario(s, pathlib.Path(d) / "copy.json")
    ...     load_scenario(pathlib.Path(d) / "copy.json") == s
    True
    """
    path = Path(path)
    text = dumps_scenario(scenario, _format(path))
    write_atomic(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def write_atomic(path: str | os.PathLike, write) -> None:
    """Call ``write(tmp)`` on a temporary file in ``path``'s folder, then rename it into place."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)  # mkstemp made the file 0600: give it the mode a plain open() would
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def examples() -> list[Path]:
    """The example scenario files shipped with costsim.

    Examples
    --------
    >>> [p.name for p in examples()]
    ['assistant.toml', 'deployment_options.toml', 'support_bot.json']
    """
    folder = Path(__file__).with_name("examples")
    return sorted(p for p in folder.iterdir() if p.suffix in (".toml", ".json"))


# ---- JSON Schema ------------------------------------------------------------------------------------


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of scenario files, as shipped with costsim.

    Examples
    --------
    >>> json_schema()["$schema"]
    'https://json-schema.org/draft/2020-12/schema'
    """
    return json.loads(Path(__file__).with_name("scenario.schema.json").read_text(encoding="utf-8"))


def generate_json_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files, generated from the dataclass fields."""
    defs: dict[str, Any] = {}
    root = _object_schema(Scenario, defs, typed=False)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "costsim scenario",
        "description": "A costsim scenario file (TOML or JSON): traffic, pricing options and run settings. "
        "Any numeric parameter may instead be a distribution table (drawn once per trial).",
        **root,
        "$defs": dict(sorted(defs.items())),
    }


def _object_schema(cls: type, defs: dict[str, Any], typed: bool = True) -> dict[str, Any]:
    hints = _hints(cls)
    properties: dict[str, Any] = {"type": {"const": cls.__name__}} if typed else {}
    required = ["type"] if typed else []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        properties[f.name] = _hint_schema(hints[f.name], defs, issubclass(cls, Model))
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            required.append(f.name)
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


def _hint_schema(hint: Any, defs: dict[str, Any], uncertain: bool) -> dict[str, Any]:
    choices = []
    for kind, arg in _alternatives(hint, uncertain):
        if kind == "any":
            return {}
        if kind in ("number", "integer", "string", "boolean"):
            choices.append({"type": kind})
        elif kind == "array":
            choices.append({"type": "array", "items": _hint_schema(arg, defs, uncertain)})
        elif kind == "map":
            choices.append({"type": "object", "additionalProperties": _hint_schema(arg, defs, uncertain)})
        else:
            choices.append(_class_ref(arg, defs))
    return choices[0] if len(choices) == 1 else {"anyOf": choices}


def _class_ref(base: type, defs: dict[str, Any]) -> dict[str, Any]:
    concrete = _concrete(base)
    for name, cls in concrete.items():
        if name not in defs:
            defs[name] = {}  # placeholder against recursion
            defs[name] = _object_schema(cls, defs)
    refs = [{"$ref": f"#/$defs/{name}"} for name in sorted(concrete)]
    if len(refs) == 1:
        return refs[0]
    if not dataclasses.fields(base):  # an abstract family (Distribution, PricingModel): one shared definition
        defs[base.__name__] = {"anyOf": refs}
        return {"$ref": f"#/$defs/{base.__name__}"}
    return {"anyOf": refs}


def _write_bundled_schema() -> Path:
    """Regenerate ``scenario.schema.json`` after a dataclass changed:
    ``python -c "import costsim.scenario as s; s._write_bundled_schema()"``."""
    target = Path(__file__).with_name("scenario.schema.json")
    write_atomic(target, lambda tmp: Path(tmp).write_text(
        json.dumps(generate_json_schema(), indent=2) + "\n", encoding="utf-8"))
    return target
