"""The one codec: costsim objects <-> plain data, for scenario files and result attrs.

:func:`encode` turns a traffic or pricing object (or containers of them) into plain
data that JSON and TOML can hold: every object becomes ``{"type": ClassName,
field: value, ...}``, tuples become lists, fields holding None are left out.
:func:`decode` turns plain data back into objects, strictly: the type hints of the
dataclass fields say what each place may hold, and anything else (an unknown key,
a value of the wrong type, a null where a value is required, a rule an object
refuses) is a :class:`~costsim.ParameterError` naming the exact place
(``traffic.classes[2].input_tokens.sigma must be > 0; got -1``).  A null for a
field whose default is None counts as absent, so data written by older versions
(which kept None values) still decodes.  :func:`schema` is the JSON Schema of what
:func:`decode` accepts, derived from the same hints.

A table may name only the classes in :data:`REGISTRY`.  Decoding data never runs
code: a :class:`~costsim.CustomCapacity` names its compiled function by import
path (``"package.module:function"``), and :func:`decode` refuses such a path,
*before* anything is imported, unless its top-level package is in
``allow_imports``.  Tables and arrays may nest at most :data:`MAX_DEPTH` levels.

:func:`scenario_json` is the scenario as recorded in a result's attrs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import re
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from . import pricing as P
from . import traffic as T
from ._model import Model
from ._validation import ParameterError, check_number

__all__ = ["MAX_DEPTH", "REGISTRY", "decode", "encode", "scenario_json", "schema"]

MAX_DEPTH = 64
"""How many levels deep tables and arrays may nest (the shipped example scenarios need 8)."""

REGISTRY: Mapping[str, type] = types.MappingProxyType({cls.__name__: cls for cls in sorted((
    # traffic
    T.Traffic, T.QueryClass, T.Arrivals, T.MixShift,
    T.Beta, T.Capped, T.Constant, T.Empirical, T.Gamma, T.GeneralizedPareto, T.Geometric, T.Joint, T.LogNormal,
    T.Mixture, T.Normal, T.Pareto, T.Truncated, T.Uniform, T.Weibull,
    T.FlashEvent, T.LogisticGrowth, T.OnOff, T.Overdispersion, T.Profile,
    # pricing
    P.TokenPricing, P.RateCard, P.LongContextTier, P.OffPeak, P.OffPeakWindow,
    P.ProvisionedCapacity, P.SelfHostedGPU, P.CustomCapacity,
    P.CommittedSpend, P.Hybrid, P.PromptRouter, P.VolumeDiscount,
), key=lambda cls: cls.__name__)})
"""The classes a table may name by its ``"type"``: every concrete traffic and pricing class."""

_IMPORT_PATH = re.compile(r"(?P<package>[A-Za-z_]\w*)(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*", re.ASCII)
_PACKAGE = re.compile(r"[A-Za-z_]\w*", re.ASCII)


# ---- encode -----------------------------------------------------------------------------------------


def encode(value: Any) -> Any:
    """Plain data of a costsim object, or of lists, tuples and mappings of them.

    A traffic or pricing object becomes ``{"type": ClassName, field: value, ...}``
    with fields holding None left out; another dataclass (a
    :class:`~costsim.scenario.Scenario`) becomes the table of its fields.  Tuples
    become lists; a compiled function becomes its import path
    (``"package.module:function"``); a :class:`datetime.timedelta` or
    :class:`datetime.datetime` becomes its ISO 8601 string (which pandas reads back).

    Raises
    ------
    ParameterError
        Naming the place of a value that plain data cannot hold (a mapping key
        that is not a string, a NumPy array, an object of another kind).

    Examples
    --------
    >>> from costsim import LogNormal, TokenPricing, Uniform
    >>> encode(LogNormal(mu=Uniform(5.0, 6.0), sigma=1.0))
    {'type': 'LogNormal', 'mu': {'type': 'Uniform', 'low': 5.0, 'high': 6.0}, 'sigma': 1.0}
    >>> encode({"api": TokenPricing(input=3.0, output=15.0)})["api"]["input"]
    3.0
    """
    return _encode(value, "", keep_none=False)


def _encode(value: Any, path: str, keep_none: bool) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {"type": type(value).__name__} if isinstance(value, Model) else {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if item is not None or (keep_none and not f.metadata.get("omit_none")):
                out[f.name] = None if item is None else _encode(item, _key_path(path, f.name), keep_none)
        return out
    if isinstance(value, (list, tuple)):
        return [_encode(item, f"{path}[{i}]", keep_none) for i, item in enumerate(value)]
    if isinstance(value, Mapping):
        for key in value:
            if not isinstance(key, str):
                raise ParameterError(_key_path(path, key), "cannot be encoded: keys of tables must be strings", key)
        return {key: _encode(item, _key_path(path, key), keep_none) for key, item in value.items()}
    if isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (dt.timedelta, dt.datetime)):  # Arrivals(horizon=timedelta(days=1)): "P1DT0H0M0S"
        return (pd.Timedelta(value) if isinstance(value, dt.timedelta) else value).isoformat()
    if callable(value):  # a compiled function (CustomCapacity): its import path
        function = getattr(value, "py_func", value)
        return f"{function.__module__}:{function.__qualname__}"
    raise ParameterError(path, "cannot be encoded (use a string, a number, a list or a costsim object)",
                         type(value).__name__)


def scenario_json(traffic: Any, options: Any, *, seed: int, trials: list[int]) -> str:
    """The JSON text of a run's scenario, as recorded in the result's attrs.

    Fields holding None are written as ``null`` (the format results have had
    since costsim 0.1; :func:`decode` reads them as absent) except informational
    ones added since (field metadata ``omit_none``), and the order of the
    options is kept: it is the order of the result's option dim.

    Examples
    --------
    >>> from costsim import TokenPricing
    >>> from costsim.demo import demo_traffic
    >>> text = scenario_json(demo_traffic(days=1), {"api": TokenPricing(3.0, 15.0)}, seed=7, trials=[0, 1])
    >>> data = json.loads(text)
    >>> data["options"]["api"]["cached_input"], data["seed"], data["trials"]
    (None, 7, [0, 1])
    """
    # no sort_keys: the order of the options (and so of the result's option dim) is part of the scenario
    return json.dumps({"traffic": _encode(traffic, "traffic", keep_none=True),
                       "options": _encode(options, "options", keep_none=True), "seed": seed, "trials": trials})


# ---- decode -----------------------------------------------------------------------------------------


def decode(data: Any, *, into: Any = Any, path: str = "", allow_imports: Iterable[str] = ()) -> Any:
    """Objects from plain data (the output of :func:`encode`), checked strictly.

    Parameters
    ----------
    data : plain data
        Tables (dicts), arrays (lists), strings, numbers, booleans and nulls.
    into : type or type hint, default Any
        What ``data`` must be: a costsim class or base class (a
        :class:`~costsim.traffic.Distribution`, a
        :class:`~costsim.DeploymentOption`, ...: a table whose ``"type"`` names
        one of the :data:`REGISTRY` classes derived from it), another dataclass (a
        table of its fields, no ``"type"``), or a hint such as
        ``dict[str, DeploymentOption]``.  With Any, a table with a ``"type"``
        becomes an object of any registered class and other tables, arrays and
        scalars stay as they are (with their contents decoded).
    path : str, default ""
        Where ``data`` sits in a larger document: the prefix of the places errors
        name (``"traffic"`` gives ``traffic.classes[0]...``).
    allow_imports : iterable of str, default ()
        Top-level packages whose code a :class:`~costsim.CustomCapacity` import
        path may import.  Any other import path is refused before anything is
        imported: decoding data never runs code you did not trust by name.

    Raises
    ------
    ParameterError
        Naming the exact place of an unknown ``"type"`` or key, a missing key, a
        value of the wrong type, a value an object refuses, or an untrusted or
        malformed import path.
    ValueError
        Tables and arrays nested deeper than :data:`MAX_DEPTH`.

    Examples
    --------
    >>> from costsim import LogNormal, Traffic
    >>> decode({"type": "LogNormal", "mu": 6.0, "sigma": 1.0})
    LogNormal(mu=6.0, sigma=1.0)
    >>> decode({"type": "LogNormal", "mu": 6.0, "sigma": -1}, path="input_tokens")
    Traceback (most recent call last):
    ...
    costsim._validation.ParameterError: input_tokens.sigma must be > 0; got -1
    >>> decode({"type": "LogNormal", "mu": 6.0, "sigma": 1.0}, into=Traffic)
    Traceback (most recent call last):
    ...
    costsim._validation.ParameterError: type must be one of ['Traffic']; got 'LogNormal'
    >>> decode({"type": "CustomCapacity", "function": "antigravity:fly"})
    Traceback (most recent call last):
    ...
    costsim._validation.ParameterError: function names code in package 'antigravity', ...
    """
    trusted = _trusted(allow_imports)
    _check_depth(data, path)
    return _decode(data, into, path, uncertain=False, trusted=trusted)


def _trusted(allow_imports: Iterable[str]) -> frozenset[str]:
    """The checked set of top-level packages a loader may import code from."""
    if isinstance(allow_imports, (str, bytes)) or not isinstance(allow_imports, Iterable):
        raise ParameterError("allow_imports", "must be an iterable of top-level package names, e.g. ['mypkg']",
                             allow_imports)
    names = list(allow_imports)
    for name in names:
        if not isinstance(name, str) or not _PACKAGE.fullmatch(name):
            raise ParameterError("allow_imports", "must hold top-level package names such as 'mypkg' (no dots)", name)
    return frozenset(names)


def _check_depth(data: Any, root: str) -> None:
    """Refuse tables and arrays nested deeper than :data:`MAX_DEPTH` (checked without recursion)."""
    stack = [(data, root, 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, dict):
            children = [(v, _key_path(path, k)) for k, v in value.items()]
        elif isinstance(value, (list, tuple)):
            children = [(v, f"{path}[{i}]") for i, v in enumerate(value)]
        else:
            continue
        if depth == MAX_DEPTH:
            shown = path if len(path) <= 120 else path[:100] + "..."
            raise ValueError(f"{shown}: tables and arrays nest more than {MAX_DEPTH} levels deep, "
                             "more than any scenario needs")
        stack.extend((v, p, depth + 1) for v, p in children)


def _key_path(path: str, key: Any) -> str:
    key_text = key if isinstance(key, str) and key.isidentifier() else f"[{key!r}]"
    if not path:
        return str(key_text)
    return f"{path}{key_text}" if key_text.startswith("[") else f"{path}.{key_text}"


_NAMES = {"number": "a number", "integer": "an integer", "string": "a string", "boolean": "true or false",
          "array": "an array", "map": "a table", "record": "a table", "object": "a table with a 'type'"}


def _decode(data: Any, hint: Any, path: str, uncertain: bool, trusted: frozenset[str]) -> Any:
    alternatives = _alternatives(hint, uncertain)
    kinds = [kind for kind, _ in alternatives]
    if "any" in kinds:
        return _decode_untyped(data, path, trusted)
    if isinstance(data, dict):
        bases = [arg for kind, arg in alternatives if kind == "object"]
        maps = [arg for kind, arg in alternatives if kind == "map"]
        records = [arg for kind, arg in alternatives if kind == "record"]
        if records:
            return _build_fields(records[0], data, path, trusted)
        if bases and ("type" in data or not maps):
            return _build_object(data, bases, path, trusted)
        if maps:
            return {key: _decode(value, maps[0], _key_path(path, key), uncertain, trusted)
                    for key, value in data.items()}
    elif isinstance(data, list):
        items = [arg for kind, arg in alternatives if kind == "array"]
        if items:
            return tuple(_decode(value, items[0], f"{path}[{i}]", uncertain, trusted) for i, value in enumerate(data))
    elif isinstance(data, bool):
        if "boolean" in kinds:
            return data
    elif isinstance(data, int):
        if "integer" in kinds:
            return data
        if "number" in kinds:
            check_number(path, data)  # refuses, naming the path, an int beyond the float64 range
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
    raise ParameterError(path or getattr(hint, "__name__", "data").lower(), f"must be {expected}", data)


def _decode_untyped(data: Any, path: str, trusted: frozenset[str]) -> Any:
    """Plain data of no declared type: tables with a ``"type"`` become objects, the rest stays."""
    if isinstance(data, dict):
        if "type" in data:
            return _build_object(data, [Model], path, trusted)
        return {key: _decode_untyped(value, _key_path(path, key), trusted) for key, value in data.items()}
    if isinstance(data, list):
        return [_decode_untyped(value, f"{path}[{i}]", trusted) for i, value in enumerate(data)]
    return data


def _build_object(data: Mapping[str, Any], bases: list[type], path: str, trusted: frozenset[str]) -> Any:
    allowed: dict[str, type] = {}
    for base in bases:
        allowed.update(_concrete(base))
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in allowed:
        raise ParameterError(_key_path(path, "type"), f"must be one of {sorted(allowed)}", kind)
    return _build_fields(allowed[kind], {k: v for k, v in data.items() if k != "type"}, path, trusted)


def _build_fields(cls: type, data: Mapping[str, Any], path: str, trusted: frozenset[str]) -> Any:
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    for key, value in data.items():
        if key not in fields:
            # the messages of costsim 0.1 (tools may match them); the keys: json_schema()
            raise ValueError(f"{path or 'scenario'}: unknown key {key!r}")
    _check_import_paths(cls, data, path, trusted)
    hints = _hints(cls)
    kwargs = {}
    for name, f in fields.items():
        value = data.get(name)
        if value is None and f.default is None:
            continue  # a null where None is the default: absent (older versions wrote None values)
        if name in data:
            kwargs[name] = _decode(value, hints[name], _key_path(path, name), issubclass(cls, Model), trusted)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ValueError(f"{path or 'scenario'}: missing key {name!r}")
    try:
        return cls(**kwargs)
    except ParameterError as err:  # at the root, the object's own words ("LogNormal: sigma must be > 0")
        raise (err.within(path, owner="") if path else err) from None
    except (TypeError, ValueError, OverflowError) as err:  # a constructor's own refusal, not a ParameterError
        raise ValueError(f"{path or _label(cls)}: {err}") from None


def _label(cls: type) -> str:
    """A table's name in messages: the ``"type"`` it names (``type QueryClass``), or for a table without
    one the lowercase class name (``scenario``)."""
    return f"type {cls.__name__}" if issubclass(cls, Model) else cls.__name__.lower()


def _check_import_paths(cls: type, data: Mapping[str, Any], path: str, trusted: frozenset[str]) -> None:
    """Refuse, before anything is imported, an import path (a field marked ``import_path``) of an untrusted
    package, or one that is not a plain ``package.module:function``."""
    for f in dataclasses.fields(cls):
        value = data.get(f.name)
        if not f.metadata.get("import_path") or not isinstance(value, str):
            continue  # a value that is not a path imports nothing: the class refuses it
        where = _key_path(path, f.name)
        match = _IMPORT_PATH.fullmatch(value)
        if match is None:
            raise ParameterError(where, "must be an import path 'package.module:function' (absolute, ASCII names)",
                                 value)
        package = match["package"]
        if package not in trusted:
            raise ParameterError(
                where, f"names code in package {package!r}, and loading data imports no package unless trusted: "
                f"pass allow_imports=[{package!r}] (costsim run --allow-import {package}) if you trust it", value)


# ---- what a type hint allows ------------------------------------------------------------------------
# A field's type hint, reduced to what plain data can hold: ("number" | "integer" | "string" | "boolean", None),
# ("array", item_hint), ("map", value_hint), ("object", base_class): a table naming a registered class derived
# from it, ("record", dataclass): a table of the fields of a dataclass that is not a Model, ("any", None).


@functools.cache
def _alternatives(hint: Any, uncertain: bool) -> tuple[tuple[str, Any], ...]:
    if hint is Any:
        return (("any", None),)
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
        found = [("object" if issubclass(hint, Model) else "record", hint)]
    else:  # NoneType (an omitted key), datetime, timedelta: not held in plain data
        found = []
    # any numeric parameter of a model may be uncertain: a distribution drawn once per trial
    if uncertain and any(kind in ("number", "integer") for kind, _ in found):
        found.append(("object", T.Distribution))
    return tuple(dict.fromkeys(found))  # float | Distribution: one distribution alternative, not two


@functools.cache
def _concrete(base: type) -> dict[str, type]:
    """The classes a table may name where ``base`` is expected, by name."""
    return {name: cls for name, cls in REGISTRY.items() if issubclass(cls, base)}


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


# ---- JSON Schema ------------------------------------------------------------------------------------


def schema(into: Any) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the plain data :func:`decode` accepts for ``into``.

    Derived from the same type hints as :func:`decode`; the classes it refers to
    are in ``"$defs"``.

    Examples
    --------
    >>> from costsim import Arrivals
    >>> s = schema(Arrivals)
    >>> s["$ref"], s["$defs"]["Arrivals"]["required"]
    ('#/$defs/Arrivals', ['type', 'volume'])
    """
    defs: dict[str, Any] = {}
    root = _hint_schema(into, defs, uncertain=False)
    return {**root, "$defs": dict(sorted(defs.items()))}


def _object_schema(cls: type, defs: dict[str, Any], typed: bool) -> dict[str, Any]:
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
        elif kind == "record":
            choices.append(_object_schema(arg, defs, typed=False))
        else:
            choices.append(_class_ref(arg, defs))
    return choices[0] if len(choices) == 1 else {"anyOf": choices}


def _class_ref(base: type, defs: dict[str, Any]) -> dict[str, Any]:
    concrete = _concrete(base)
    for name, cls in concrete.items():
        if name not in defs:
            defs[name] = {}  # placeholder against recursion
            defs[name] = _object_schema(cls, defs, typed=True)
    refs = [{"$ref": f"#/$defs/{name}"} for name in sorted(concrete)]
    if len(refs) == 1:
        return refs[0]
    if not dataclasses.fields(base):  # an abstract family (Distribution, PricingModel): one shared definition
        defs[base.__name__] = {"anyOf": refs}
        return {"$ref": f"#/$defs/{base.__name__}"}
    return {"anyOf": refs}
