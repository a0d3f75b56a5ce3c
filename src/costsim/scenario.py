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

Loading data never runs code.  A :class:`~costsim.CustomCapacity` names its
compiled function by import path (``"package.module:function"``); the loaders
(:func:`load_scenario`, :func:`from_dict`, :meth:`Scenario.from_dict`,
:func:`from_result`) refuse such a path, *before* importing anything, unless its
top-level package is in ``allow_imports`` (``costsim run --allow-import
PACKAGE``), so a file from elsewhere cannot import a module of its choosing.
Tables and arrays may nest at most :data:`MAX_DEPTH` levels deep.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import secrets
import socket
import tomllib
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from ._model import Model
from ._validation import ParameterError, check_int, check_number

__all__ = [
    "MAX_DEPTH", "Scenario", "examples", "from_dict", "from_result", "json_schema", "load_scenario", "save_scenario",
    "scenario_json", "to_dict",
]

MAX_DEPTH = 64
"""How many levels deep tables and arrays may nest in a scenario (the shipped examples need 8)."""

_IMPORT_PATH = re.compile(r"(?P<package>[A-Za-z_]\w*)(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*", re.ASCII)
_PACKAGE = re.compile(r"[A-Za-z_]\w*", re.ASCII)


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


def from_dict(data: Any, *, allow_imports: Iterable[str] = ()) -> Any:
    """Rebuild costsim objects from :func:`to_dict` output.

    Parameters
    ----------
    data : plain data
        Tables (dicts), arrays (lists), strings and numbers; a table with a
        ``"type"`` key becomes an object of that class.
    allow_imports : iterable of str, default ()
        Top-level packages whose code a :class:`~costsim.CustomCapacity` import
        path (``"package.module:function"``) may import.  Any other import path
        is refused before anything is imported: rebuilding data never runs code
        you did not trust by name.

    Raises
    ------
    ValueError
        An unknown type or key, a value that breaks a rule, an untrusted or
        malformed import path, or nesting deeper than :data:`MAX_DEPTH`.

    Examples
    --------
    >>> from costsim import LogNormal
    >>> from_dict(to_dict(LogNormal(mu=6.0, sigma=1.0))) == LogNormal(mu=6.0, sigma=1.0)
    True
    >>> from_dict({"type": "CustomCapacity", "function": "antigravity:fly"})
    Traceback (most recent call last):
    ...
    costsim._validation.ParameterError: function names code in package 'antigravity', ...
    """
    trusted = _trusted(allow_imports)
    _check_depth(data, "")
    return _from_plain(data, "", _registry(), trusted)


def _from_plain(data: Any, path: str, registry: dict[str, type], trusted: frozenset[str]) -> Any:
    if isinstance(data, dict) and "type" in data:
        kind = data["type"]
        if not isinstance(kind, str) or kind not in registry:
            raise ParameterError(_key_path(path, "type"), f"must be one of {sorted(registry)}", kind)
        cls = registry[kind]
        fields = {k: v for k, v in data.items() if k != "type"}
        _check_import_paths(cls, fields, path, trusted)
        kwargs = {k: _from_plain(v, _key_path(path, k), registry, trusted) for k, v in fields.items()}
        try:
            return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()})
        except (TypeError, OverflowError) as err:  # an unknown key; a number beyond float64
            raise ValueError(f"{path or kind}: {err}") from None
    if isinstance(data, dict):
        return {k: _from_plain(v, _key_path(path, k), registry, trusted) for k, v in data.items()}
    if isinstance(data, list):
        return [_from_plain(v, f"{path}[{i}]", registry, trusted) for i, v in enumerate(data)]
    return data


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
            raise ValueError(f"{shown or 'scenario'}: tables and arrays nest more than {MAX_DEPTH} levels deep")
        stack.extend((v, p, depth + 1) for v, p in children)


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
        ``seed`` or pass further arguments (``client``, ``hist_range``, ``max_seconds``, ...)."""
        from .run import simulate

        kwargs = {"trials": self.trials, "seed": self.seed, **overrides}
        return simulate(self.traffic, self.options, **kwargs)

    def to_dict(self) -> dict[str, Any]:
        """Plain data of the scenario as written to a file: None values are left out."""
        data = {"traffic": to_dict(self.traffic), "options": to_dict(self.options),
                "trials": self.trials, "seed": self.seed}
        return _drop_none(data, "")

    @classmethod
    def from_dict(cls, data: Any, *, allow_imports: Iterable[str] = ()) -> "Scenario":
        """Build (and check) a scenario from plain data; omitted keys take the defaults.

        ``allow_imports`` names the top-level packages an import path in the data
        may import (see :func:`from_dict`); any other import path is refused
        before anything is imported.

        Examples
        --------
        >>> import costsim as cs
        >>> data = Scenario(cs.demo.demo_traffic(days=1), cs.demo.demo_options()).to_dict()
        >>> data["options"] = {"own": {"type": "CustomCapacity", "function": "mypkg.capacity:price"}}
        >>> Scenario.from_dict(data)
        Traceback (most recent call last):
        ...
        costsim._validation.ParameterError: options.own.function names code in package 'mypkg', ...
        """
        trusted = _trusted(allow_imports)
        if not isinstance(data, Mapping):
            raise ParameterError("scenario", "must be a table (mapping)", data)
        _check_depth(data, "")
        return _build_fields(cls, data, "", trusted)


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


def _build(data: Any, hint: Any, path: str, uncertain: bool, trusted: frozenset[str]) -> Any:
    alternatives = _alternatives(hint, uncertain)
    kinds = [kind for kind, _ in alternatives]
    if "any" in kinds:
        return data
    if isinstance(data, dict):
        bases = [arg for kind, arg in alternatives if kind == "object"]
        maps = [arg for kind, arg in alternatives if kind == "map"]
        if bases and ("type" in data or not maps):
            return _build_object(data, bases, path, trusted)
        if maps:
            return {key: _build(value, maps[0], _key_path(path, key), uncertain, trusted)
                    for key, value in data.items()}
    elif isinstance(data, list):
        items = [arg for kind, arg in alternatives if kind == "array"]
        if items:
            return tuple(_build(value, items[0], f"{path}[{i}]", uncertain, trusted) for i, value in enumerate(data))
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
    raise ParameterError(path, f"must be {expected}", data)


def _build_object(data: Mapping[str, Any], bases: list[type], path: str, trusted: frozenset[str]) -> Any:
    allowed: dict[str, type] = {}
    for base in bases:
        allowed.update(_concrete(base))
    kind = data.get("type")
    if "type" not in data:
        raise ValueError(f"{path}: missing key 'type' (one of {sorted(allowed)})")
    if not isinstance(kind, str) or kind not in allowed:
        raise ParameterError(_key_path(path, "type"), f"must be one of {sorted(allowed)}", kind)
    return _build_fields(allowed[kind], {k: v for k, v in data.items() if k != "type"}, path, trusted)


def _build_fields(cls: type, data: Mapping[str, Any], path: str, trusted: frozenset[str]) -> Any:
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    where = path or "scenario"
    for key in data:
        if key not in fields:
            raise ValueError(f"{where}: unknown key {key!r}")
    _check_import_paths(cls, data, path, trusted)
    hints = _hints(cls)
    kwargs = {}
    for name, f in fields.items():
        if name in data:
            kwargs[name] = _build(data[name], hints[name], _key_path(path, name), issubclass(cls, Model), trusted)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ValueError(f"{where}: missing key {name!r}")
    try:
        return cls(**kwargs)
    except ParameterError as err:
        raise err.within(path, owner="") from None
    except (TypeError, ValueError, OverflowError) as err:
        raise ValueError(f"{where}: {err}") from None


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise ValueError(f"{path}: a scenario file must end in .toml or .json; got {path.suffix or 'no suffix'!r}")
    return suffix[1:]


def load_scenario(path: str | os.PathLike, *, allow_imports: Iterable[str] = ()) -> Scenario:
    """Read a scenario from a ``.toml`` or ``.json`` file.

    Loading a file never runs code: an import path in it (the ``function`` of a
    :class:`~costsim.CustomCapacity`) is refused before anything is imported
    unless its top-level package is in ``allow_imports``.

    Parameters
    ----------
    path : str or path
        The scenario file, ``.toml`` or ``.json``.
    allow_imports : iterable of str, default ()
        Top-level packages you trust to be imported, e.g. ``["mypkg"]``.

    Raises
    ------
    ValueError
        Naming the exact place of an unknown key, a value of the wrong type, a
        value that breaks a rule, an untrusted import path or nesting deeper
        than :data:`MAX_DEPTH`.

    Examples
    --------
    >>> s = load_scenario(examples()[0])
    >>> s.trials
    20
    """
    path = Path(path)
    fmt = _format(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if fmt == "toml" else json.loads(text)
    except RecursionError:
        raise ValueError(f"{fmt.upper()} nested too deeply to read (a scenario nests at most {MAX_DEPTH} levels)") \
            from None
    except ValueError as err:  # TOMLDecodeError, JSONDecodeError, UnicodeDecodeError, > 4300 digits
        raise ValueError(f"not valid {fmt.upper()}: {err}") from None
    return Scenario.from_dict(data, allow_imports=allow_imports)


def from_result(result: Any, *, allow_imports: Iterable[str] = ()) -> tuple[Scenario, dict[str, Any]]:
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
    allow_imports : iterable of str, default ()
        Top-level packages the scenario's import paths may import (see
        :func:`load_scenario`); a result file, like a scenario file, runs no code
        you did not trust by name.

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
            return from_result(ds, allow_imports=allow_imports)
    if not isinstance(result, xr.Dataset) or "scenario" not in result.attrs:
        raise ParameterError("result", "must be a costsim result (a Dataset with a 'scenario' attr)",
                             type(result).__name__)
    try:
        data = json.loads(result.attrs["scenario"])
        trials, seed = list(data["trials"]), data["seed"]
        if not all(isinstance(t, int) and not isinstance(t, bool) for t in trials):
            raise TypeError(f"trials must be a list of trial ids (integers); got {data['trials']!r}")
        keywords: dict[str, Any] = {
            "hist_range": (float(result["cost_lower"][1]), float(result["cost_upper"][-2])),
            "hist_bins_per_octave": int(result.attrs["hist_bins_per_octave"]),
        }
    except RecursionError:
        raise ValueError(f"result.attrs['scenario'] nests too deeply (a scenario nests at most {MAX_DEPTH} levels)") \
            from None
    except (ValueError, TypeError, KeyError, IndexError) as err:
        raise ValueError(f"result.attrs['scenario'] is not a costsim scenario ({type(err).__name__}: {err})") \
            from None
    data = {**data, "trials": len(trials), "seed": seed}
    _check_depth(data, "")
    scenario = Scenario.from_dict(_drop_none(data, ""), allow_imports=allow_imports)
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
    """Write a scenario to a ``.toml`` or ``.json`` file, atomically (see :func:`write_atomic`),
    so that :func:`load_scenario` gives it back exactly.

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


def write_atomic(path: str | os.PathLike, write: Callable[[str], Any]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside the target, then rename it into place.

    The target is ``path`` or, where ``path`` is a symbolic link, the file it points to:
    the link is kept and its target replaced (written *through* the link).  An existing
    target keeps its permission bits; a new one gets those a plain ``open()`` gives.
    A target that cannot be replaced (see :func:`check_writable`) is refused before
    anything is written.

    The temporary file is ``.<name>.costsim-tmp-<host>-<pid>-<random><suffix>``.  It
    is removed when ``write`` raises or the process is interrupted (any exception,
    including KeyboardInterrupt and the CLI's SIGTERM); a process killed outright
    (SIGKILL) leaves it behind, and the next write to the same target removes the
    temporary files of that target whose process no longer runs on this host.

    Returns
    -------
    Path
        The file written (the link's target for a symbolic link).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     target = write_atomic(pathlib.Path(d) / "a.txt", lambda tmp: pathlib.Path(tmp).write_text("hi"))
    ...     target.read_text(), [p.name for p in target.parent.iterdir()]
    ('hi', ['a.txt'])
    """
    target = check_writable(path)
    _remove_stale_temporaries(target)
    mode = target.stat().st_mode & 0o7777 if target.exists() else 0o666 & ~_umask()
    tmp = target.with_name(f".{target.name}.{_TEMP_TAG}-{_host()}-{os.getpid()}-{secrets.token_hex(4)}"
                           f"{target.suffix}")
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        write(str(tmp))
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def check_writable(path: str | os.PathLike) -> Path:
    """The file a write to ``path`` replaces, checked before anything is written.

    A symbolic link is followed to its target (the link itself is kept).  The
    target's folder must exist and be writable, and an existing target must be a
    writable regular file (never a device such as ``/dev/null`` or a pipe).  A file
    or folder without any write permission bit counts as read-only even for a user
    (root) whom the bits do not stop.

    Raises
    ------
    OSError
        IsADirectoryError, FileNotFoundError or PermissionError, naming the path.

    Examples
    --------
    >>> import tempfile, pathlib, os
    >>> with tempfile.TemporaryDirectory() as d:
    ...     ro = pathlib.Path(d) / "ro.nc"
    ...     ro.write_text("")
    ...     os.chmod(ro, 0o444)
    ...     check_writable(ro)
    Traceback (most recent call last):
    ...
    PermissionError: cannot replace .../ro.nc: the file is read-only (mode 0o444)
    """
    path = Path(path)
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    shown = str(path) if target == path else f"{path} (a link to {target})"
    if target.is_dir():
        raise IsADirectoryError(f"cannot write {shown}: it is a folder")
    folder = target.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot write {shown}: {folder} is not a writable folder (it does not exist)")
    if not _may_write(folder):
        raise PermissionError(f"cannot write {shown}: {folder} is not a writable folder")
    if target.exists() and not target.is_file():
        raise PermissionError(f"cannot replace {shown}: it is not a regular file")
    if target.exists() and not _may_write(target):
        raise PermissionError(f"cannot replace {shown}: the file is read-only "
                              f"(mode {oct(target.stat().st_mode & 0o7777)})")
    return target


def check_folder(path: str | os.PathLike) -> Path:
    """``path`` as an output folder, checked before anything is written: an existing
    writable folder, or one that can be created (its nearest existing parent is a
    writable folder).  The same rule as :func:`check_writable`: a folder without any
    write permission bit counts as read-only even for root.

    Raises
    ------
    OSError
        NotADirectoryError or PermissionError, naming the path.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     check_folder(pathlib.Path(d) / "new" / "plots") == pathlib.Path(d) / "new" / "plots"
    True
    """
    path = Path(path)
    existing = next((p for p in (path, *path.parents) if p.exists()), Path("."))  # the folder a mkdir would start in
    if not existing.is_dir():
        raise NotADirectoryError(f"cannot write into {path}: {existing} is not a folder")
    if not _may_write(existing):
        raise PermissionError(f"cannot write into {path}: {existing} is not a writable folder")
    return path


def _may_write(path: Path) -> bool:
    """Writable by this process, and by someone: a path without any write bit counts as read-only for root too."""
    return bool(path.stat().st_mode & 0o222) and os.access(path, os.W_OK)


_TEMP_TAG = "costsim-tmp"


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname())[:64] or "host"


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _remove_stale_temporaries(target: Path) -> None:
    """Remove the temporary files a killed writer of ``target`` on this host left behind."""
    if os.name != "posix":  # os.kill(pid, 0) probes a process only on POSIX
        return
    pattern = re.compile(rf"\.{re.escape(target.name)}\.{_TEMP_TAG}-{re.escape(_host())}-(\d+)-[0-9a-f]{{8}}"
                         rf"{re.escape(target.suffix)}")
    try:
        names = [p.name for p in target.parent.iterdir()]
    except OSError:  # a folder we may write but not list: nothing to tidy
        return
    for name in names:
        match = pattern.fullmatch(name)
        if match is not None and not _running(int(match[1])):
            (target.parent / name).unlink(missing_ok=True)


def _running(pid: int) -> bool:
    """Whether process ``pid`` may be running (another user's process, or no valid pid, counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        pass
    return True


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
