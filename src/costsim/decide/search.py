"""The search of :func:`costsim.optimize`: which parameters of which options to try.

``search`` maps ``"option.parameter"`` to the values to try.  A parameter below an
option is reached by a dotted path of field names (``"gpu.fallback.units"`` for a
capacity option nested as another's fallback; mapping keys and tuple indices are
path segments too: ``"hybrid.routes.chat.units"``, ``"router.options.0.max_replicas"``).
Several parameters that must move together (a commitment and the discount tier it
buys) share one key, a tuple of names (or one string of names separated by
commas), whose values are tuples with one entry per name.  The candidates are the
grid over the product of the keys' values, built with :func:`dataclasses.replace`,
so every candidate is validated like an option written by hand.  ``method="grid"``
prices them all (at most ``max_candidates``); ``method="refine"`` prices a few, by a
local search between neighbouring values (:mod:`costsim.decide.refine`).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from .._validation import ParameterError
from ..pricing.base import DeploymentOption, PricingModel

__all__ = [
    "MAX_CANDIDATES", "Grid", "Parameter", "SearchKey", "candidate", "candidates", "check_ordered", "key_text",
    "parse_search", "references", "uses",
]

MAX_CANDIDATES = 10_000
"""The most candidates a search may hold (the product of its keys' value counts)."""

SearchKey = str | tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Parameter:
    """One searched parameter: ``name`` (``"ptu.units"``), the option it belongs to
    and the path of fields (or mapping keys, tuple indices) to it below that option."""

    name: str
    option: str
    path: tuple[str | int, ...]


@dataclasses.dataclass(frozen=True)
class Axis:
    """One key of the search: its parameters and, per value tried, one value for each."""

    key: SearchKey
    parameters: tuple[Parameter, ...]
    values: tuple[tuple[Any, ...], ...]


@dataclasses.dataclass(frozen=True)
class Grid:
    """The candidates of a search: the product of its axes' values, the last axis fastest."""

    axes: tuple[Axis, ...]

    @property
    def size(self) -> int:
        """Number of candidates."""
        return math.prod(len(axis.values) for axis in self.axes)

    @property
    def parameters(self) -> list[Parameter]:
        """Every searched parameter, in the order of the keys."""
        return [p for axis in self.axes for p in axis.parameters]

    @property
    def options(self) -> list[str]:
        """The options the search changes, in order of first appearance."""
        return list(dict.fromkeys(p.option for p in self.parameters))

    def points(self) -> Iterator[tuple[int, ...]]:
        """Each candidate as the index of its value on every axis."""
        return itertools.product(*(range(len(axis.values)) for axis in self.axes))

    def assignment(self, point: Sequence[int]) -> dict[SearchKey, Any]:
        """The values of a candidate keyed like the search (a tuple for a linked key)."""
        return {
            axis.key: (axis.values[i] if len(axis.parameters) > 1 else axis.values[i][0])
            for axis, i in zip(self.axes, point)
        }

    def parameter_values(self, point: Sequence[int]) -> dict[str, Any]:
        """The value of every searched parameter of a candidate, by parameter name."""
        return {p.name: v for axis, i in zip(self.axes, point) for p, v in zip(axis.parameters, axis.values[i])}


def parse_search(
    search: Any, options: Mapping[str, DeploymentOption], max_candidates: int | None = MAX_CANDIDATES
) -> Grid:
    """Check ``search`` against ``options`` and return its grid.

    Raises :class:`~costsim.ParameterError` naming the key, the rule and the value:
    an unknown option or parameter, an empty list of values, a parameter of a
    per-request model (priced inside the kernel: each value would need its own
    simulation), a parameter given twice, a grid above ``max_candidates`` (None:
    any size, for a search that prices only some of them).

    Examples
    --------
    >>> import costsim as cs
    >>> api = cs.TokenPricing(input=3.0, output=15.0)
    >>> ptu = cs.ProvisionedCapacity(units=2, price_per_unit_hour=3.0, tokens_per_minute=1e5, fallback="api")
    >>> grid = parse_search({"ptu.units": range(1, 4)}, {"api": api, "ptu": ptu})
    >>> grid.size, grid.assignment((2,))
    (3, {'ptu.units': 3})
    >>> parse_search({"ptu.unit": [1]}, {"api": api, "ptu": ptu})
    Traceback (most recent call last):
    ...
    costsim._validation.ParameterError: search['ptu.unit'] names parameter 'unit', which options['ptu'] ...; got 'ptu.unit'
    """
    if not isinstance(search, Mapping):
        raise ParameterError("search", "must map 'option.parameter' to the values to try", search)
    if not search:
        raise ParameterError("search", "must name at least one parameter to search (an empty grid has no candidate)",
                             dict(search))
    axes, seen = [], {}
    for key, values in search.items():
        names = _key_names(key)
        label = f"search[{key!r}]"
        parameters = tuple(_parameter(label, name, options) for name in names)
        for p in parameters:
            if p.name in seen:
                raise ParameterError(label, f"searches {p.name!r}, which search[{seen[p.name]!r}] searches "
                                     "already: give each parameter once", key)
            seen[p.name] = key
        axes.append(Axis(key, parameters, _values(label, key, values, parameters, options)))
    grid = Grid(tuple(axes))
    if max_candidates is not None and grid.size > max_candidates:
        counts = " x ".join(str(len(a.values)) for a in grid.axes)
        raise ParameterError("search", f"must give at most {max_candidates:,} candidates (the product of the "
                             f"numbers of values, {counts}) to price them all: search fewer values, or use "
                             "method='refine', which prices a few of them (a local search)", grid.size)
    return grid


def check_ordered(grid: Grid) -> None:
    """Refuse a grid that ``method="refine"`` cannot search: the values of a key of
    one number-valued parameter must be strictly increasing or decreasing (refine
    steps between neighbours in the order given; other values, such as tuples of
    thresholds or linked keys, are taken in the order given).

    Examples
    --------
    >>> import costsim as cs
    >>> ptu = cs.ProvisionedCapacity(units=2, price_per_unit_hour=3.0, tokens_per_minute=1e5)
    >>> check_ordered(parse_search({"ptu.units": [1, 4, 2]}, {"ptu": ptu}))
    Traceback (most recent call last):
    ...
    costsim._validation.ParameterError: search['ptu.units'] must hold increasing (or decreasing) values for method='refine', which steps between neighbours; got [1, 4, 2]
    """
    for axis in grid.axes:
        values = [row[0] for row in axis.values]
        if len(axis.parameters) > 1 or len(values) < 2 \
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            continue
        steps = np.diff(np.asarray(values, dtype=np.float64))
        if not ((steps > 0).all() or (steps < 0).all()):
            raise ParameterError(f"search[{axis.key!r}]", "must hold increasing (or decreasing) values for "
                                 "method='refine', which steps between neighbours", values)


def key_text(key: SearchKey) -> str:
    """A search key as one string: a linked key's names joined by commas.

    Examples
    --------
    >>> key_text(("disc.thresholds", "commit.monthly_minimum"))
    'disc.thresholds,commit.monthly_minimum'
    """
    return ",".join(key) if isinstance(key, tuple) else str(key)


def _key_names(key: Any) -> tuple[str, ...]:
    if isinstance(key, str):
        names = tuple(part.strip() for part in key.split(","))
    elif isinstance(key, tuple) and key:
        names = key
    else:
        raise ParameterError("search", "keys must be 'option.parameter' strings (or tuples of them, for parameters "
                             "that move together)", key)
    for name in names:
        if not isinstance(name, str) or "." not in name or not all(name.split(".")):
            raise ParameterError(f"search[{key!r}]", "must name 'option.parameter' (an option of base_options, "
                                 "then the parameter's field)", name)
    return names


def _parameter(label: str, name: str, options: Mapping[str, DeploymentOption]) -> Parameter:
    option, *segments = name.split(".")
    if option not in options:
        raise ParameterError(label, f"names option {option!r}, which is not among the options {sorted(options)}",
                             name)
    node: Any = options[option]
    where = f"options[{option!r}]"
    path: list[str | int] = []
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if isinstance(node, PricingModel):
            raise ParameterError(
                label, f"names a parameter of {where} ({type(node).__name__}), a per-request model priced inside "
                "the simulation kernel: optimize evaluates every candidate from one kernel run, so it searches "
                "capacity, commitment, discount and routing parameters only; simulate each value instead "
                "(costsim.simulate, or costsim.sweep for volumes)", name)
        if isinstance(node, str):
            raise ParameterError(label, f"goes through {where}, a reference to option {node!r}: search "
                                 f"'{node}.{'.'.join(segments[i:])}' instead", name)
        if isinstance(node, Mapping):
            if segment not in node:
                raise ParameterError(label, f"names key {segment!r}, which {where} does not have; its keys: "
                                     f"{sorted(node)}", name)
            step: str | int = segment
        elif isinstance(node, tuple):
            if not segment.isdigit() or int(segment) >= len(node):
                raise ParameterError(label, f"must index {where} with an integer below {len(node)}", name)
            step = int(segment)
        elif dataclasses.is_dataclass(node):
            fields = [f.name for f in dataclasses.fields(node) if f.init]
            if segment not in fields:
                raise ParameterError(label, f"names parameter {segment!r}, which {where} ({type(node).__name__}) "
                                     f"does not have; its parameters: {fields}", name)
            step = segment
        else:
            raise ParameterError(label, f"goes below {where}, a {type(node).__name__} value, which has no "
                                 "parameters", name)
        if last and isinstance(node, (Mapping, tuple)):
            raise ParameterError(label, f"must end at a parameter of an option, not at an entry of {where}", name)
        path.append(step)
        container = isinstance(node, (Mapping, tuple))
        node = node[step] if container else getattr(node, step)
        where = f"{where}[{step!r}]" if container else f"{where}.{step}"
    return Parameter(name, option, tuple(path))


def _current(options: Mapping[str, DeploymentOption], p: Parameter) -> Any:
    node: Any = options[p.option]
    for step in p.path:
        node = node[step] if isinstance(node, (Mapping, tuple)) else getattr(node, step)
    return node


def _values(label: str, key: Any, values: Any, parameters: tuple[Parameter, ...],
            options: Mapping[str, DeploymentOption]) -> tuple[tuple[Any, ...], ...]:
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
        raise ParameterError(label, "must be a sequence of the values to try (a list, a tuple or a range)", values)
    values = list(values)
    if not values:
        raise ParameterError(label, "must hold at least one value to try (an empty grid has no candidate)", values)
    linked = len(parameters) > 1 or isinstance(key, tuple)
    rows = []
    for value in values:
        if linked:
            if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != len(parameters):
                raise ParameterError(label, f"must hold tuples of {len(parameters)} values, one for each of "
                                     f"{[p.name for p in parameters]}", value)
            row = tuple(value)
        else:
            row = (value,)
        rows.append(tuple(_normal(label, v, _current(options, p)) for v, p in zip(row, parameters)))
    return tuple(rows)


def _normal(label: str, value: Any, current: Any) -> Any:
    """A search value as the option would hold it: numpy scalars as Python numbers,
    sequences as tuples, a single number for a tuple field (thresholds) as a 1-tuple."""
    from .._model import DistributionBase

    if isinstance(value, DistributionBase):
        raise ParameterError(label, "must hold plain values: every trial prices the same candidates (make the "
                             "base option's parameter uncertain to draw it per trial)", value)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (list, tuple, np.ndarray)):
        value = tuple(v.item() if isinstance(v, np.generic) else v for v in value)
    elif isinstance(current, tuple) and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = (value,)
    return value


def references(node: Any) -> Iterator[Any]:
    """The options and option names directly below ``node`` (its option fields:
    fallbacks, routes, bases, the options of a router)."""
    if not isinstance(node, DeploymentOption):
        return
    for f in dataclasses.fields(node):
        if not f.metadata.get("option"):
            continue
        value = getattr(node, f.name)
        if isinstance(value, Mapping):
            yield from value.values()
        elif isinstance(value, (list, tuple)):
            yield from value
        elif value is not None:
            yield value


def uses(options: Mapping[str, DeploymentOption], name: str) -> list[str]:
    """The option ``name`` and every option it refers to by name, directly or not,
    in a fixed order (``name`` first)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, str):
            if node in options and node not in found:
                found.append(node)
                walk(options[node])
            return
        for child in references(node):
            walk(child)

    walk(name)
    return found


def candidates(grid: Grid, options: Mapping[str, DeploymentOption]) -> list[dict[str, DeploymentOption]]:
    """Per candidate of ``grid``, the options it changes (name -> the option with the
    candidate's values, built with :func:`dataclasses.replace`, so validated).

    A value an option refuses raises :class:`~costsim.ParameterError` naming the
    search key, the option, the rule and the value.

    Examples
    --------
    >>> import costsim as cs
    >>> ptu = cs.ProvisionedCapacity(units=2, price_per_unit_hour=3.0, tokens_per_minute=1e5)
    >>> grid = parse_search({"ptu.units": [1, 8]}, {"ptu": ptu})
    >>> [c["ptu"].units for c in candidates(grid, {"ptu": ptu})]
    [1, 8]
    >>> candidates(parse_search({"ptu.units": [0]}, {"ptu": ptu}), {"ptu": ptu})
    Traceback (most recent call last):
    ...
    costsim._validation.ParameterError: search['ptu.units'] holds a value that options['ptu'] refuses
    (ProvisionedCapacity: units must be >= 1; got 0); got 0
    """
    cache: dict[Any, DeploymentOption] = {}
    return [candidate(grid, options, point, cache) for point in grid.points()]


def candidate(grid: Grid, options: Mapping[str, DeploymentOption], point: Sequence[int],
              cache: dict[Any, DeploymentOption]) -> dict[str, DeploymentOption]:
    """The options one candidate of ``grid`` changes (see :func:`candidates`); ``cache``
    keeps the options built, so candidates sharing an option's values share the object.

    Examples
    --------
    >>> import costsim as cs
    >>> ptu = cs.ProvisionedCapacity(units=2, price_per_unit_hour=3.0, tokens_per_minute=1e5)
    >>> candidate(parse_search({"ptu.units": [1, 8]}, {"ptu": ptu}), {"ptu": ptu}, (1,), {})["ptu"].units
    8
    """
    assigned = [(axis.key, p, axis.values[i][j])
                for axis, i in zip(grid.axes, point) for j, p in enumerate(axis.parameters)]
    changed = {}
    for name in grid.options:
        mine = [(key, p, v) for key, p, v in assigned if p.option == name]
        try:
            cache_key: Any = (name, tuple(v for _, _, v in mine))
            hash(cache_key)
        except TypeError:
            cache_key = None
        if cache_key is not None and cache_key in cache:
            changed[name] = cache[cache_key]
            continue
        changed[name] = _apply(options[name], name, mine)
        if cache_key is not None:
            cache[cache_key] = changed[name]
    return changed


def _apply(option: DeploymentOption, name: str, assigned: list[tuple[Any, Parameter, Any]]) -> DeploymentOption:
    """``option`` with every assigned parameter set, each object replaced once (so
    that parameters checked together, such as min and max replicas, change together)."""
    tree: dict[Any, Any] = {}
    for _, p, value in assigned:
        node = tree
        for step in p.path[:-1]:
            node = node.setdefault(step, {})
        node[p.path[-1]] = _Leaf(value)
    try:
        return _rebuilt(option, tree)
    except (ParameterError, TypeError, ValueError) as err:
        key, value = _culprit(err, assigned)
        raise ParameterError(f"search[{key!r}]", f"holds a value that options[{name!r}] refuses ({err})",
                             value) from None


@dataclasses.dataclass(frozen=True)
class _Leaf:
    value: Any


def _rebuilt(node: Any, tree: dict[Any, Any]) -> Any:
    changes = {step: sub.value if isinstance(sub, _Leaf) else _rebuilt(_child(node, step), sub)
               for step, sub in tree.items()}
    if isinstance(node, Mapping):
        return {**node, **changes}
    if isinstance(node, tuple):
        return tuple(changes.get(i, item) for i, item in enumerate(node))
    return dataclasses.replace(node, **changes)


def _child(node: Any, step: Any) -> Any:
    return node[step] if isinstance(node, (Mapping, tuple)) else getattr(node, step)


def _culprit(err: Exception, assigned: list[tuple[Any, Parameter, Any]]) -> tuple[Any, Any]:
    """The search key (and its value) an option's error is about: the parameter the
    error names, else the first one assigned."""
    path = getattr(err, "path", "")
    for key, p, value in assigned:
        field = p.path[-1]
        if isinstance(field, str) and (path == field or path.startswith((f"{field}.", f"{field}["))):
            return key, value
    key, _, value = assigned[0]
    return key, value
