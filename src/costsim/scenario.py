"""Scenario files: a whole simulation (traffic, pricing options, run settings) as TOML or JSON.

A :class:`Scenario` holds what :func:`costsim.simulate` needs.  :func:`load_scenario`
reads a ``.toml`` or ``.json`` file and checks every key and value against the
dataclass fields, naming the exact place of what is wrong
(``traffic.classes[2].input_tokens.sigma must be > 0; got -1``);
:func:`save_scenario` writes a file that loads back to an equal scenario (absent
optional values, None, are written by omitting the key); :func:`json_schema` is the
JSON Schema of these files.  :func:`from_result` gives the scenario a result was
simulated from, and the keywords that reproduce it bit for bit.

A scenario may also declare a decision to take (:class:`Optimization`, the
``[optimize]`` table): the parameters to search, the objective and the
constraints of :func:`costsim.optimize` (``costsim optimize SCENARIO``).  It is
plain data here, checked for its shape, its ranges and the options it names;
:func:`costsim.optimize` checks the parameters and values against the options.

Every conversion goes through one codec, :mod:`costsim.codec`: :func:`to_dict` and
:func:`from_dict` are its :func:`~costsim.codec.encode` and
:func:`~costsim.codec.decode`, so whatever :func:`to_dict` writes, every loader reads.

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
import tomllib
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ._validation import ParameterError, check_int, check_number
from .codec import MAX_DEPTH, decode, encode, schema
from .files import write_atomic
from .kernels import RANDOM_LAYOUT
from .pricing import DeploymentOption
from .results import SCENARIO_ATTR, scenario_text
from .run import simulate
from .run.prepare import MAX_SEED, check_run
from .traffic import Traffic

__all__ = [
    "MAX_DEPTH",
    "Optimization",
    "OptimizeConstraints",
    "Scenario",
    "examples",
    "from_dict",
    "from_result",
    "json_schema",
    "load_scenario",
    "save_scenario",
    "to_dict",
]


def to_dict(value: Any) -> Any:
    """Plain data of a costsim object, or of containers of them: :func:`costsim.codec.encode`.

    Fields holding None are left out; :func:`from_dict` reads the result back.

    Examples
    --------
    >>> from costsim import LogNormal
    >>> to_dict(LogNormal(mu=6.0, sigma=1.0))
    {'type': 'LogNormal', 'mu': 6.0, 'sigma': 1.0}
    """
    return encode(value)


def from_dict(data: Any, *, allow_imports: Iterable[str] = ()) -> Any:
    """Rebuild (and so check again) costsim objects from plain data: :func:`costsim.codec.decode`.

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
    ParameterError
        Naming the place of an unknown type or key, a value of the wrong type or
        one that breaks a rule, or an untrusted or malformed import path.
    ValueError
        Nesting deeper than :data:`MAX_DEPTH`.

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
    return decode(data, allow_imports=allow_imports)


# ---- the decision a scenario may declare: plain data for costsim.optimize ----------------------------------------
# A searched value: a number (integers stay integers), a string, a boolean, or an array of them (thresholds); a
# linked key's value is an array with one such entry per linked parameter.
_Scalar = float | str | bool
_Entry = _Scalar | tuple[_Scalar, ...]
SearchValue = _Scalar | tuple[_Entry, ...]

_OBJECTIVE_ARGS = {"mean": 0, "quantile": 1, "cvar": 1, "mean+cvar": 2}
_OBJECTIVE_RULE = "must be 'mean', ['quantile', q], ['cvar', level] or ['mean+cvar', lambda, level]"


@dataclasses.dataclass(frozen=True)
class OptimizeConstraints:
    """The constraints of an :class:`Optimization` (the ``constraints`` table); each optional.

    Parameters
    ----------
    throttled_share : float, optional
        At most this share of all requests throttled, in ``[0, 1]``.
    budget : (float, float), optional
        ``[usd, p]``: the total cost exceeds ``usd`` in at most a share ``p`` of trials.
    utilisation : float, optional
        At least this share of the capacity paid for is used, in ``[0, 1]``.

    Examples
    --------
    >>> OptimizeConstraints(throttled_share=0.01).spec
    {'throttled_share': 0.01}
    >>> OptimizeConstraints(budget=(50_000.0, 2.0))
    Traceback (most recent call last):
    ...
    costsim._validation.ParameterError: budget[1] (probability) must be in [0, 1]; got 2.0
    """

    throttled_share: float | None = None
    budget: tuple[float, float] | None = None
    utilisation: float | None = None

    def __post_init__(self) -> None:
        for name in ("throttled_share", "utilisation"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, check_number(name, getattr(self, name), low=0.0, high=1.0))
        if self.budget is not None:
            budget = self.budget
            if isinstance(budget, (str, bytes)) or not isinstance(budget, (list, tuple)) or len(budget) != 2:
                raise ParameterError("budget", "must be [USD, probability]: the total cost exceeds USD in at most "
                                     "that share of trials", budget)
            usd = check_number("budget[0] (USD)", budget[0], low=0.0, finite=True)
            object.__setattr__(self, "budget",
                               (usd, check_number("budget[1] (probability)", budget[1], low=0.0, high=1.0)))

    @property
    def spec(self) -> dict[str, object]:
        """The ``constraints`` mapping of :func:`costsim.optimize`."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if getattr(self, f.name) is not None}


@dataclasses.dataclass(frozen=True)
class Optimization:
    """The decision a scenario declares (its ``[optimize]`` table): what :func:`costsim.optimize` searches.

    Plain data, checked for its shape and ranges here; :class:`Scenario` checks
    that it names its options, and :func:`costsim.optimize` that the parameters
    exist and the options accept the values.

    Parameters
    ----------
    search : mapping of str to array
        ``"option.parameter"`` -> the values to try (``"ptu.units" = [1, 2, 4, 8]``);
        a key naming several parameters separated by commas links them, each of
        its values an array with one entry per name
        (``"disc.thresholds,commit.monthly_minimum" = [[[8e3], 8e3], [[9e3], 9e3]]``).
    objective : str or array, default "mean"
        ``"mean"``, ``["quantile", q]``, ``["cvar", level]`` or
        ``["mean+cvar", lambda, level]`` (see :mod:`costsim.decide.objectives`).
    constraints : OptimizeConstraints, optional
        ``{throttled_share = x, budget = [usd, p], utilisation = u}``, each optional.
    option : str, optional
        The option whose cost is optimised (default: the one that uses every
        searched option and that no other refers to).
    method : {"grid", "refine"}, default "grid"
        Price every candidate of the grid, or a local search that prices a few
        (for grids too large to price whole; see :func:`costsim.optimize`).
    max_candidates : int, optional
        The most candidates the grid may hold ("grid") or the search may price
        ("refine"); default :func:`costsim.optimize`'s.

    Examples
    --------
    >>> o = Optimization({"ptu.units": [1, 2, 4]}, objective=["cvar", 0.95])
    >>> o.search, o.objective
    ({'ptu.units': (1, 2, 4)}, ('cvar', 0.95))
    >>> Optimization({"ptu.units": []})
    Traceback (most recent call last):
    ...
    costsim._validation.ParameterError: search['ptu.units'] must hold at least one value to try; got ()
    """

    search: dict[str, tuple[SearchValue, ...]]
    objective: str | tuple[str | float, ...] = "mean"
    constraints: OptimizeConstraints | None = None
    option: str | None = None
    method: str = "grid"
    max_candidates: int | None = None

    def __post_init__(self) -> None:
        search = self.search
        if not isinstance(search, Mapping) or not search:
            raise ParameterError("search", "must map 'option.parameter' to the values to try (at least one key)",
                                 search)
        checked = {}
        for key, values in search.items():
            label = f"search[{key!r}]"
            names = [part.strip() for part in key.split(",")] if isinstance(key, str) else [key]
            if not all(isinstance(n, str) and "." in n and all(n.split(".")) for n in names):
                raise ParameterError(label, "must name 'option.parameter' (or several, separated by commas, for "
                                     "parameters that move together)", key)
            if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
                raise ParameterError(label, "must be an array of the values to try", values)
            values = tuple(_plain(f"{label}[{i}]", v) for i, v in enumerate(values))
            if not values:
                raise ParameterError(label, "must hold at least one value to try", values)
            if len(names) > 1:
                for i, value in enumerate(values):
                    if not isinstance(value, tuple) or len(value) != len(names):
                        raise ParameterError(f"{label}[{i}]", f"must be an array of {len(names)} values, one for "
                                             f"each of {names}", value)
            checked[key] = values
        object.__setattr__(self, "search", checked)
        object.__setattr__(self, "objective", _objective(self.objective))
        if isinstance(self.constraints, Mapping):
            try:
                object.__setattr__(self, "constraints", OptimizeConstraints(**self.constraints))
            except TypeError:
                raise ParameterError("constraints", "must have keys among 'throttled_share', 'budget', "
                                     "'utilisation'", dict(self.constraints)) from None
            except ParameterError as err:
                raise err.within("constraints") from None
        elif self.constraints is not None and not isinstance(self.constraints, OptimizeConstraints):
            raise ParameterError("constraints", "must be a table of throttled_share, budget, utilisation",
                                 self.constraints)
        if self.option is not None and not isinstance(self.option, str):
            raise ParameterError("option", "must be the name of an option", self.option)
        if self.method not in ("grid", "refine"):
            raise ParameterError("method", "must be 'grid' (price every candidate) or 'refine' (a local search that "
                                 "prices a few)", self.method)
        if self.max_candidates is not None:
            object.__setattr__(self, "max_candidates", check_int("max_candidates", self.max_candidates, low=1))

    @property
    def options(self) -> list[str]:
        """The options the search names, in order of first appearance."""
        return list(dict.fromkeys(n.strip().split(".")[0] for key in self.search for n in key.split(",")))

    def keywords(self) -> dict[str, object]:
        """The keywords of :func:`costsim.optimize`: ``search`` (a linked key as the tuple
        of its names, so that the chosen plan holds one value per name), ``objective``,
        ``constraints``, ``option``, ``method`` and ``max_candidates`` (when set).

        Examples
        --------
        >>> Optimization({"ptu.units": [1, 2], "a.x, b.y": [[1, 2]]}, constraints={"throttled_share": 0.01}).keywords()
        {'search': {'ptu.units': (1, 2), ('a.x', 'b.y'): ((1, 2),)}, 'objective': 'mean', \
'constraints': {'throttled_share': 0.01}, 'option': None, 'method': 'grid'}
        """
        search = {(tuple(n.strip() for n in key.split(",")) if "," in key else key): values
                  for key, values in self.search.items()}
        keywords = {"search": search, "objective": self.objective,
                    "constraints": None if self.constraints is None else self.constraints.spec, "option": self.option,
                    "method": self.method}
        if self.max_candidates is not None:
            keywords["max_candidates"] = self.max_candidates
        return keywords


def _plain(label: str, value: object) -> object:
    """A searched value as plain data: arrays (lists, tuples, ranges) as tuples, NumPy scalars as numbers;
    a table or an object is refused."""
    if hasattr(value, "item") and callable(value.item) and getattr(value, "shape", None) == ():
        value = value.item()  # a NumPy scalar
    if isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple, range)) or (hasattr(value, "tolist") and hasattr(value, "shape")):
        items = value.tolist() if hasattr(value, "tolist") else value
        return tuple(_plain(f"{label}[{i}]", v) for i, v in enumerate(items))
    raise ParameterError(label, "must be a plain value (a number, a string, true or false, or an array of them)",
                         value)


def _objective(spec: object) -> str | tuple[str | float, ...]:
    """The objective spec, checked (the rules of :func:`costsim.decide.parse_objective`) and made canonical."""
    parts = (spec,) if isinstance(spec, str) else tuple(spec) if isinstance(spec, (list, tuple)) else None
    if not parts or not isinstance(parts[0], str) or _OBJECTIVE_ARGS.get(parts[0].strip().lower()) != len(parts) - 1:
        raise ParameterError("objective", _OBJECTIVE_RULE, spec)
    kind = parts[0].strip().lower()
    if kind == "mean":
        return "mean"
    what = "the quantile level" if kind == "quantile" else "the CVaR level"
    level = check_number(f"objective[{len(parts) - 1}] ({what})", parts[-1], low=0.0, high=1.0,
                         low_open=kind == "quantile", high_open=True)
    if kind == "mean+cvar":
        weight = check_number("objective[1] (the weight lambda of the CVaR)", parts[1], low=0.0, finite=True)
        return (kind, weight, level)
    return (kind, level)


@dataclasses.dataclass(frozen=True)
class Scenario:
    """A whole simulation: traffic, the pricing options to compare, and run settings.

    Parameters
    ----------
    traffic : Traffic
        Query classes and arrivals.
    options : mapping of str to DeploymentOption
        The deployment options, by name (their order is the result's option order);
        checked as :func:`costsim.simulate` checks them.
    trials : int, default 100
        Monte Carlo trials.
    seed : int, optional
        Seed in ``[0, 2**63)``; None draws a fresh one at each run.
    optimize : Optimization, optional
        A decision to take (the ``[optimize]`` table): the search, objective and
        constraints of :func:`costsim.optimize` over these options (``costsim
        optimize SCENARIO``).  :meth:`run` ignores it.

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
    >>> Scenario(s.traffic, {})
    Traceback (most recent call last):
    ...
    costsim._validation.ParameterError: options must name at least one deployment option; got {}
    """

    traffic: Traffic
    options: dict[str, DeploymentOption]
    trials: int = 100
    seed: int | None = None
    optimize: Optimization | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", check_run(self.traffic, self.options).options)
        object.__setattr__(self, "trials", check_int("trials", self.trials, low=1))
        if self.seed is not None:
            object.__setattr__(self, "seed", check_int("seed", self.seed, low=0, high=MAX_SEED))
        if self.optimize is not None:
            self._check_optimize()

    def _check_optimize(self) -> None:
        decision = self.optimize
        if isinstance(decision, Mapping):
            try:
                decision = Optimization(**decision)
            except TypeError as err:
                raise ParameterError("optimize", f"must be a table of search, objective, constraints, option "
                                     f"({err})", dict(decision)) from None
            except ParameterError as err:
                raise err.within("optimize") from None
            object.__setattr__(self, "optimize", decision)
        if not isinstance(decision, Optimization):
            raise ParameterError("optimize", "must be an Optimization (a table of search, objective, constraints, "
                                 "option)", decision)
        for key in decision.search:
            for name in key.split(","):
                option = name.strip().split(".")[0]
                if option not in self.options:
                    raise ParameterError(f"optimize.search[{key!r}]", f"names option {option!r}, which is not "
                                         f"among the options {sorted(self.options)}", key)
        if decision.option is not None and decision.option not in self.options:
            raise ParameterError("optimize.option", f"must name one of the options {sorted(self.options)}",
                                 decision.option)

    def run(self, **overrides: Any):
        """Run :func:`costsim.simulate` on this scenario; keywords override ``trials``,
        ``seed`` or pass further arguments (``client``, ``hist_range``, ``max_seconds``, ...)."""
        kwargs = {"trials": self.trials, "seed": self.seed, **overrides}
        return simulate(self.traffic, self.options, **kwargs)

    def to_dict(self) -> dict[str, Any]:
        """Plain data of the scenario as written to a file: None values are left out.

        Examples
        --------
        >>> import costsim as cs
        >>> data = Scenario(cs.demo.demo_traffic(days=1), cs.demo.demo_options(), trials=3).to_dict()
        >>> list(data), data["trials"]
        (['traffic', 'options', 'trials'], 3)
        >>> Scenario(cs.demo.demo_traffic(days=1), cs.demo.demo_options(), trials=3,
        ...          optimize=Optimization({"small.multiplier": [1.0]})).to_dict()["optimize"]
        {'search': {'small.multiplier': [1.0]}, 'objective': 'mean', 'method': 'grid'}
        """
        return encode(self)

    @classmethod
    def from_dict(cls, data: Any, *, allow_imports: Iterable[str] = ()) -> Scenario:
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
        return decode(data, into=cls, allow_imports=allow_imports)


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

    A result Dataset holds its scenario as JSON (the ``scenario`` attr of its
    ``trial`` coordinate, with the seed and the trial ids; see
    :func:`costsim.results.scenario_text`) and its cost histogram's edges.  The scenario's
    ``trials`` is the number of trials the Dataset holds (read from its ``trial``
    coordinate: after selecting or concatenating trials, those it holds now); the
    keywords hold the histogram settings and, when the trials are not ``0 .. n-1``,
    the explicit trial ids.  Results
    written by earlier costsim versions (their attrs hold null for absent values)
    load and rerun the same way.

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
        ``scenario.run(**keywords)`` gives the same Dataset again, when the result's
        ``random_layout`` is this costsim's or its scenario has no ``Mixture`` (the
        only draws the layouts differ in); otherwise a UserWarning says so.

    Examples
    --------
    >>> import xarray as xr
    >>> ds = load_scenario(examples()[0]).run(trials=[4, 1], seed=7)
    >>> scenario, keywords = from_result(ds)
    >>> scenario.trials, scenario.seed, keywords["trials"]
    (2, 7, [4, 1])
    >>> xr.testing.assert_identical(scenario.run(**keywords), ds)
    """
    if isinstance(result, (str, os.PathLike)):
        with xr.open_dataset(result) as ds:
            return from_result(ds, allow_imports=allow_imports)
    text = scenario_text(result) if isinstance(result, xr.Dataset) else None
    if text is None:
        raise ParameterError("result", "must be a costsim result (a Dataset whose trial coordinate has a "
                             "'scenario' attr)", type(result).__name__)
    try:
        data = json.loads(text)
        trials, seed = list(data["trials"]), data["seed"]
        held = np.atleast_1d(result["trial"].values) if "trial" in result.coords else None
        if held is not None and held.dtype.kind in "iu":  # the trials this Dataset holds (a selection, a concat)
            trials = [int(t) for t in held]
        if not all(isinstance(t, int) and not isinstance(t, bool) for t in trials):
            raise TypeError(f"trials must be a list of trial ids (integers); got {data['trials']!r}")
        keywords: dict[str, Any] = {
            "hist_range": (float(result["cost_lower"][1]), float(result["cost_upper"][-2])),
            "hist_bins_per_octave": int(result.attrs["hist_bins_per_octave"]),
        }
    except RecursionError:
        raise ValueError(f"{_scenario_where(result)} nests too deeply (a scenario nests at most {MAX_DEPTH} levels)") \
            from None
    except (ValueError, TypeError, KeyError, IndexError) as err:
        raise ValueError(f"{_scenario_where(result)} is not a costsim scenario ({type(err).__name__}: {err})") \
            from None
    scenario = Scenario.from_dict({**data, "trials": len(trials), "seed": seed}, allow_imports=allow_imports)
    layout = int(result.attrs.get("random_layout", 1))  # costsim 0.1 wrote no layout: 1
    if layout != RANDOM_LAYOUT and '"Mixture"' in text:
        warnings.warn(
            f"this result was drawn with random-stream layout {layout} and this costsim uses layout "
            f"{RANDOM_LAYOUT}, which draws Mixture components differently: a rerun gives the same "
            "distributions, not the same numbers", UserWarning, stacklevel=2,
        )
    if trials != list(range(len(trials))):
        keywords["trials"] = trials
    return scenario, keywords


def _scenario_where(result: xr.Dataset) -> str:
    """Where :func:`~costsim.results.scenario_text` read the scenario of ``result``, for messages."""
    if "trial" in result.coords and SCENARIO_ATTR in result["trial"].attrs:
        return f"result['trial'].attrs['{SCENARIO_ATTR}']"
    return f"result.attrs['{SCENARIO_ATTR}']"


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
    """Write a scenario to a ``.toml`` or ``.json`` file, atomically (see :func:`costsim.files.write_atomic`),
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


def examples() -> list[Path]:
    """The example scenario files shipped with costsim.

    Examples
    --------
    >>> [p.name for p in examples()]
    ['assistant.toml', 'deployment_options.toml', 'right_size.toml', 'support_bot.json']
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
    """The JSON Schema of scenario files, generated from the dataclass fields (see :func:`costsim.codec.schema`).

    Examples
    --------
    >>> generate_json_schema() == json_schema()
    True
    """
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "costsim scenario",
        "description": "A costsim scenario file (TOML or JSON): traffic, pricing options and run settings, and "
        "optionally a decision to optimise (the optimize table: search, objective, constraints). "
        "Any numeric parameter of a model may instead be a distribution table (drawn once per trial).",
        **schema(Scenario),
    }


def _write_bundled_schema() -> Path:
    """Regenerate ``scenario.schema.json`` after a dataclass changed:
    ``python -c "import costsim.scenario as s; s._write_bundled_schema()"``."""
    target = Path(__file__).with_name("scenario.schema.json")
    write_atomic(target, lambda tmp: Path(tmp).write_text(
        json.dumps(generate_json_schema(), indent=2) + "\n", encoding="utf-8"))
    return target
