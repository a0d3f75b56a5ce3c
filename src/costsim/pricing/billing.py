"""From named options to what the kernel prices, and back to each option's bill.

The fused kernel prices per-request models only.  :func:`leaf_models` lists the
per-request models found in the options (the options themselves, and those
nested in capacity fallbacks, hybrids, discounts and commitments), in a fixed
order.  After the kernel, :func:`bill_options` prices every named option per time
bin from the leaves' costs and the aggregated demand: capacity models through
their compiled capacity functions, spill to fallbacks, routing, volume discounts
and committed spend.

A node of an option receives a *weight* per (bin, class): the fraction of that
class's traffic in that bin it must serve (1 for a whole class, less for the
part a capacity option spilled).  Costs and demand scale with it, which is
exact for per-token prices: spilled traffic is a proportional slice of every
class in the bin.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import kernels as K
from .base import DeploymentOption, PricingModel, check_kernel_kind
from .capacity import CapacityModel
from .compose import CommittedSpend, Hybrid, PromptRouter, VolumeDiscount

__all__ = ["Bills", "bill_options", "check_options", "leaf_classes", "leaf_models", "leaf_paths", "size_edges"]

Path = tuple[Any, ...]


def _children(node: DeploymentOption) -> list[tuple[Path, Any]]:
    """The options (or option names) a node refers to, with their relative paths."""
    found: list[tuple[Path, Any]] = []
    for f in dataclasses.fields(node):
        if not f.metadata.get("option"):
            continue
        value = getattr(node, f.name)
        if isinstance(value, Mapping):
            found.extend(((f.name, key), item) for key, item in value.items())
        elif isinstance(value, (list, tuple)):
            found.extend(((f.name, i), item) for i, item in enumerate(value))
        elif value is not None:
            found.append(((f.name,), value))
    return found


def _leaves(options: Mapping[str, DeploymentOption]) -> list[tuple[Path, PricingModel]]:
    found: list[tuple[Path, PricingModel]] = []

    def walk(node: Any, path: Path) -> None:
        if isinstance(node, PricingModel):
            found.append((path, node))
        elif isinstance(node, DeploymentOption):
            for sub, child in _children(node):
                walk(child, path + sub)

    for name, model in options.items():
        walk(model, (name,))
    return found


def leaf_models(options: Mapping[str, DeploymentOption]) -> list[PricingModel]:
    """The per-request models the kernel prices for these options, in a fixed order.

    Examples
    --------
    >>> import costsim as cs
    >>> api = cs.TokenPricing(input=3.0, output=15.0)
    >>> gpu = cs.SelfHostedGPU(gpu_hour_price=2.0, prefill_tokens_per_s=5e3, decode_tokens_per_s=1e3, fallback=api)
    >>> [type(m).__name__ for m in leaf_models({"api": api, "gpu": gpu})]
    ['TokenPricing', 'TokenPricing']
    """
    return [model for _, model in _leaves(options)]


def leaf_paths(options: Mapping[str, DeploymentOption]) -> list[str]:
    """Where each leaf is (``"options['gpu'].fallback"``), for messages."""
    return [_describe(path) for path, _ in _leaves(options)]


def leaf_classes(options: Mapping[str, DeploymentOption], class_names: Sequence[str]) -> list[set[str]]:
    """For each leaf (in :func:`leaf_models` order), the query classes it may price."""
    serves: dict[Path, set[str]] = {path: set() for path, _ in _leaves(options)}

    def walk(node: Any, path: Path, classes: set[str]) -> None:
        if isinstance(node, str):
            walk(options[node], (node,), classes)
        elif isinstance(node, PricingModel):
            serves[path] |= classes
        elif isinstance(node, Hybrid):
            for sub, child in _children(node):
                routed = {sub[1]} if sub[0] == "routes" else classes - set(node.routes)
                walk(child, path + sub, classes & routed)
        elif isinstance(node, DeploymentOption):
            for sub, child in _children(node):
                walk(child, path + sub, classes)

    for name, model in options.items():
        walk(model, (name,), set(class_names))
    return list(serves.values())


def size_edges(options: Mapping[str, DeploymentOption]) -> np.ndarray:
    """The sorted prompt sizes at which any :class:`PromptRouter` in the options
    splits queries: the kernel aggregates demand and cost in the bands between."""
    found: set[int] = set()

    def walk(node: Any) -> None:
        if isinstance(node, PromptRouter):
            found.update(node.thresholds)
        if isinstance(node, DeploymentOption):
            for _, child in _children(node):
                walk(child)

    for model in options.values():
        walk(model)
    return np.array(sorted(found), dtype=np.float64)


def _describe(path: Path) -> str:
    return f"options[{path[0]!r}]" + "".join(f"[{p!r}]" if i % 2 else f".{p}" for i, p in enumerate(path[1:]))


def _check_billable(node: DeploymentOption, path: Path) -> None:
    """Refuse an option costsim cannot price: a per-request model the kernel has no
    branch for, a capacity model without a capacity function, another kind."""
    where = _describe(path)
    if isinstance(node, PricingModel):
        check_kernel_kind(node, where)
    elif isinstance(node, CapacityModel):
        if type(node)._capacity is CapacityModel._capacity:
            raise TypeError(f"{where} is a {type(node).__name__}, a CapacityModel without a capacity function "
                            "(_capacity): use CustomCapacity with a compiled function")
    elif not isinstance(node, (Hybrid, PromptRouter, VolumeDiscount, CommittedSpend)):
        raise TypeError(f"{where} is a {type(node).__name__}, which costsim cannot price: use TokenPricing, a "
                        "capacity model (CustomCapacity for your own), or a composition (Hybrid, PromptRouter, "
                        "VolumeDiscount, CommittedSpend)")


def check_options(options: Mapping[str, DeploymentOption], class_names: Sequence[str]) -> None:
    """Refuse references to unknown options, reference cycles, routes that do not
    match the query classes, and options costsim cannot price, naming the option
    and the value.

    Examples
    --------
    >>> import dataclasses, costsim as cs
    >>> @dataclasses.dataclass(frozen=True)
    ... class PerQuery(cs.PricingModel):
    ...     usd: float = 0.01
    >>> check_options({"mine": PerQuery()}, ["chat"])
    Traceback (most recent call last):
    ...
    TypeError: options['mine'] is a PerQuery, a PricingModel the compiled kernel cannot price ... use CustomCapacity
    """

    def visit(node: Any, path: Path, chain: tuple[str, ...]) -> None:
        if isinstance(node, str):
            if node not in options:
                raise ValueError(f"{_describe(path)} refers to option {node!r}, which is not among the options "
                                 f"{sorted(options)}")
            if node in chain:
                cycle = " -> ".join((*chain[chain.index(node):], node))
                raise ValueError(f"{_describe(path)}: the options refer to each other in a cycle: {cycle}")
            visit(options[node], (node,), (*chain, node))
            return
        if isinstance(node, Hybrid):
            unknown = sorted(set(node.routes) - set(class_names))
            if unknown:
                raise ValueError(f"{_describe(path)}.routes names query classes {unknown} that the traffic does "
                                 f"not have; classes: {list(class_names)}")
            missing = [c for c in class_names if c not in node.routes]
            if missing and node.default is None:
                raise ValueError(f"{_describe(path)} has no route for query classes {missing} and no default")
        if isinstance(node, DeploymentOption):
            _check_billable(node, path)
            for sub, child in _children(node):
                visit(child, path + sub, chain)

    for name, model in options.items():
        visit(model, (name,), (name,))


@dataclasses.dataclass
class Bills:
    """Every option's bill for one run: arrays over (trial, bin, option[, class])."""

    cost: np.ndarray  # [T, B, O, C] USD
    spill_cost: np.ndarray  # [T, B, O, C] USD of it paid to fallbacks
    throttled: np.ndarray  # [T, B, O, C] queries not served
    capacity_cost: np.ndarray  # [T, B, O] USD of capacity (units, GPUs, fixed overheads)
    unused_capacity_cost: np.ndarray  # [T, B, O] USD of capacity left unused
    capacity_units: np.ndarray  # [T, B, O] units / replicas running; NaN for options without capacity
    utilisation: np.ndarray  # [T, B, O] fraction of running capacity used; NaN for options without capacity
    hist_leaf: np.ndarray  # [O, C] leaf whose per-query histogram is the option's, -1 for none


@dataclasses.dataclass
class _Bill:
    """One node's bill in one trial: [B, C] and [B] arrays."""

    cost: np.ndarray
    spill: np.ndarray
    throttled: np.ndarray
    capacity_cost: np.ndarray
    unused: np.ndarray
    units: np.ndarray
    used: np.ndarray  # utilisation x capacity cost, summed over capacity models
    utilisation_sum: np.ndarray  # utilisation summed over capacity models
    n_capacity: int = 0  # capacity models in the bill

    @classmethod
    def zeros(cls, n_bins: int, n_classes: int) -> "_Bill":
        z2, z1 = np.zeros((n_bins, n_classes)), np.zeros(n_bins)
        return cls(z2, z2.copy(), z2.copy(), z1, z1.copy(), z1.copy(), z1.copy(), z1.copy())

    @property
    def utilisation(self) -> np.ndarray:
        """Utilisation of the capacity in the bill, weighted by the capacity models'
        costs (plain mean where capacity is free); NaN without capacity."""
        if not self.n_capacity:
            return np.full(self.units.shape, np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.capacity_cost > 0.0, self.used / self.capacity_cost,
                            self.utilisation_sum / self.n_capacity)

    def add(self, other: "_Bill", spilled: bool = False) -> None:
        self.cost = self.cost + other.cost
        self.spill = self.spill + (other.cost if spilled else other.spill)
        self.throttled = self.throttled + other.throttled
        self.capacity_cost = self.capacity_cost + other.capacity_cost
        self.unused = self.unused + other.unused
        self.units = self.units + other.units
        self.used = self.used + other.used
        self.utilisation_sum = self.utilisation_sum + other.utilisation_sum
        self.n_capacity += other.n_capacity

    def scale_bins(self, factor: np.ndarray) -> None:
        """Multiply the bill's money per bin (a discount)."""
        self.cost = self.cost * factor[:, None]
        self.spill = self.spill * factor[:, None]


class _Calendar:
    """Calendar months (UTC) of the bins: for cumulative monthly state."""

    def __init__(self, bin_starts: np.ndarray, bin: pd.Timedelta) -> None:
        starts = pd.DatetimeIndex(bin_starts)
        month = (starts.year * 12 + starts.month - 1).to_numpy()
        _, self.first, counts = np.unique(month, return_index=True, return_counts=True)
        self.last = self.first + counts - 1
        hours_in_month = starts.days_in_month.to_numpy()[self.first] * 24.0
        self.covered = counts * (bin / pd.Timedelta(hours=1)) / hours_in_month

    def months(self):
        """``(first bin, last bin, fraction of the month covered)`` of each month."""
        return zip(self.first, self.last, self.covered)


class _Context:
    """What billing one trial needs: its options, leaf costs and demand, the calendar."""

    def __init__(self, options: Mapping[str, DeploymentOption], leaf_index: dict[Path, int], leaf_cost: np.ndarray,
                 counts: np.ndarray, class_names: Sequence[str], edges: np.ndarray, calendar: _Calendar,
                 bin: pd.Timedelta) -> None:
        # The columns of every [B, column] array: (class, prompt-size band) pairs, class-major.
        n_bands = edges.shape[0] + 1
        self.column_class = [name for name in class_names for _ in range(n_bands)]
        self.band_floor = np.tile(np.concatenate([[-np.inf], edges]), len(class_names))  # prompts > this
        self.options = options
        self.leaf_index = leaf_index
        self.leaf_cost = leaf_cost  # [B, L, columns]
        self.calendar = calendar
        self.bin = bin
        self.bin_hours = bin / pd.Timedelta(hours=1)
        counts = counts.astype(np.float64)  # [B, columns, N_COUNTS]; token sums are exact in float64
        self.requests = counts[..., K.N_REQUESTS]
        self.billed_tokens = counts[..., K.N_INPUT] + counts[..., K.N_OUTPUT] + counts[..., K.N_REASONING]
        demand = np.empty(counts.shape[:2] + (K.N_DEMAND,))
        demand[..., K.D_REQUESTS] = counts[..., K.N_REQUESTS]
        demand[..., K.D_CALLS] = counts[..., K.N_CALLS]
        demand[..., K.D_INPUT] = counts[..., K.N_INPUT]
        demand[..., K.D_CACHED] = counts[..., K.N_CACHED]
        demand[..., K.D_OUTPUT] = counts[..., K.N_OUTPUT] + counts[..., K.N_REASONING]
        self.demand = demand

    def bill(self, node: Any, path: Path, weight: np.ndarray) -> _Bill:
        """The bill of ``node`` (at ``path``) serving ``weight`` [B, columns] of the traffic."""
        if isinstance(node, str):
            return self.bill(self.options[node], (node,), weight)
        if isinstance(node, PricingModel):
            bill = _Bill.zeros(*weight.shape)
            bill.cost = weight * self.leaf_cost[:, self.leaf_index[path], :]
            return bill
        if isinstance(node, CapacityModel):
            return self._capacity(node, path, weight)
        if isinstance(node, Hybrid):
            return self._hybrid(node, path, weight)
        if isinstance(node, PromptRouter):
            return self._router(node, path, weight)
        if isinstance(node, VolumeDiscount):
            return self._discount(node, path, weight)
        if isinstance(node, CommittedSpend):
            return self._commitment(node, path, weight)
        raise TypeError(f"{_describe(path)}: cannot bill a {type(node).__name__}")

    def _capacity(self, node: CapacityModel, path: Path, weight: np.ndarray) -> _Bill:
        function, params = node._capacity(self.bin)
        n_bins, n_classes = weight.shape
        bill = _Bill.zeros(n_bins, n_classes)
        served, utilisation = np.empty(n_bins), np.empty(n_bins)
        function(weight[..., None] * self.demand, params, self.bin_hours, bill.cost, served, bill.units, utilisation)
        _check_capacity_outputs(node, path, bill.cost, served, bill.units, utilisation)
        bill.capacity_cost = bill.cost.sum(axis=1)
        bill.unused = (1.0 - utilisation) * bill.capacity_cost
        bill.used = utilisation * bill.capacity_cost
        bill.utilisation_sum = utilisation
        bill.n_capacity = 1
        rest = weight * (1.0 - served)[:, None]
        if node.fallback is None:
            bill.throttled = rest * self.requests
        else:
            bill.add(self.bill(node.fallback, path + ("fallback",), rest), spilled=True)
        return bill

    def _hybrid(self, node: Hybrid, path: Path, weight: np.ndarray) -> _Bill:
        routes = [(("routes", name), node.routes[name]) if name in node.routes else (("default",), node.default)
                  for name in self.column_class]
        return self._route(routes, path, weight)

    def _router(self, node: PromptRouter, path: Path, weight: np.ndarray) -> _Bill:
        # a band's prompts exceed its floor, so the thresholds at or below the floor are exceeded
        picks = np.searchsorted(np.asarray(node.thresholds, dtype=np.float64), self.band_floor, side="right")
        return self._route([(("options", int(k)), node.options[k]) for k in picks], path, weight)

    def _route(self, routes: list[tuple[Path, Any]], path: Path, weight: np.ndarray) -> _Bill:
        """Bill each column's traffic on its route's target; columns sent to the same
        target (the same object, or the same option name) share it."""
        bill = _Bill.zeros(*weight.shape)
        groups: dict[int, tuple[Path, Any, list[int]]] = {}
        for column, (sub, target) in enumerate(routes):
            key = id(self.options[target]) if isinstance(target, str) else id(target)
            groups.setdefault(key, (path + sub, target, []))[2].append(column)
        for target_path, target, columns in groups.values():
            mask = np.zeros(weight.shape[1])
            mask[columns] = 1.0
            bill.add(self.bill(target, target_path, weight * mask))
        return bill

    def _discount(self, node: VolumeDiscount, path: Path, weight: np.ndarray) -> _Bill:
        bill = self.bill(node.base, path + ("base",), weight)
        volume = (weight * self.billed_tokens if node.measure == "tokens" else bill.cost).sum(axis=1)
        edges = np.asarray(node.thresholds, dtype=np.float64)
        rates = np.concatenate([[1.0], np.asarray(node.multipliers, dtype=np.float64)])
        factor = np.ones(volume.shape[0])
        for first, last, _ in self.calendar.months():
            after = np.cumsum(volume[first:last + 1])
            factor[first:last + 1] = _tier_factor(after - volume[first:last + 1], after, edges, rates)
        bill.scale_bins(factor)
        return bill

    def _commitment(self, node: CommittedSpend, path: Path, weight: np.ndarray) -> _Bill:
        bill = self.bill(node.base, path + ("base",), weight)
        for first, last, covered in self.calendar.months():
            spend_by_class = bill.cost[first:last + 1].sum(axis=0)
            shortfall = node.monthly_minimum * covered - spend_by_class.sum()
            if shortfall > 0.0:
                share = np.empty(spend_by_class.shape[0])
                K.attribute(shortfall, spend_by_class, (weight * self.requests)[first:last + 1].sum(axis=0), share)
                bill.cost[last] += share
        return bill


def _tier_factor(before: np.ndarray, after: np.ndarray, edges: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """Mean price multiplier over cumulative volume ``[before, after]`` per bin: tier
    ``k`` (``rates[k]``) covers ``[edges[k-1], edges[k])`` with ``edges[-1] = 0``."""
    lower = np.concatenate([[0.0], edges])
    upper = np.concatenate([edges, [np.inf]])
    overlap = np.clip(np.minimum(after[:, None], upper) - np.maximum(before[:, None], lower), 0.0, None)
    volume = after - before
    at_start = rates[np.searchsorted(edges, before, side="right")]  # a bin with no volume: the current rate
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(volume > 0.0, (overlap * rates).sum(axis=1) / volume, at_start)


def _check_capacity_outputs(node: CapacityModel, path: Path, cost: np.ndarray, served: np.ndarray,
                            units: np.ndarray, utilisation: np.ndarray) -> None:
    for name, values, low, high in (("cost", cost, 0.0, np.inf), ("served", served, 0.0, 1.0),
                                    ("units", units, 0.0, np.inf), ("utilisation", utilisation, 0.0, 1.0)):
        bad = ~(np.isfinite(values) & (values >= low) & (values <= high))
        if bad.any():
            raise ValueError(
                f"{_describe(path)}: the capacity function of {type(node).__name__} returned {name} outside "
                f"[{low:g}, {high:g}] or not finite in {int(bad.sum())} of {bad.size} cells; first: "
                f"{values[bad].flat[0]!r}"
            )


def _histogram_leaves(options: Mapping[str, DeploymentOption], class_names: Sequence[str],
                      leaf_index: dict[Path, int]) -> np.ndarray:
    """[O, C]: the leaf whose per-query costs are exactly the option's for the class, or -1."""

    def source(node: Any, path: Path, name: str) -> int:
        if isinstance(node, str):
            return source(options[node], (node,), name)
        if isinstance(node, PricingModel):
            return leaf_index[path]
        if isinstance(node, Hybrid):
            if name in node.routes:
                return source(node.routes[name], path + ("routes", name), name)
            return source(node.default, path + ("default",), name)
        return -1  # capacity (priced per bin), discounts and commitments (cumulative)

    return np.array([[source(model, (o,), c) for c in class_names] for o, model in options.items()],
                    dtype=np.int64).reshape(len(options), len(class_names))


def bill_options(
    options_per_trial: Sequence[Mapping[str, DeploymentOption]],
    class_names: Sequence[str],
    leaf_cost: np.ndarray,
    counts: np.ndarray,
    bin_starts: np.ndarray,
    bin: pd.Timedelta,
) -> Bills:
    """Every option's bill from the kernel's leaf costs [T, B, L, C, K] and counts
    [T, B, C, K, N], K the prompt-size bands of :func:`size_edges`.

    ``options_per_trial`` holds each trial's options with its draws (one entry when
    nothing is uncertain).  The bills are per class (summed over bands).
    """
    n_trials, n_bins, n_leaves, n_classes, n_bands = leaf_cost.shape
    edges = size_edges(options_per_trial[0])
    leaf_cost = leaf_cost.reshape(n_trials, n_bins, n_leaves, n_classes * n_bands)
    counts = counts.reshape(n_trials, n_bins, n_classes * n_bands, counts.shape[-1])
    leaf_index = {path: i for i, (path, _) in enumerate(_leaves(options_per_trial[0]))}
    n_options = len(options_per_trial[0])
    out = Bills(
        cost=np.empty((n_trials, n_bins, n_options, n_classes)),
        spill_cost=np.zeros((n_trials, n_bins, n_options, n_classes)),
        throttled=np.zeros((n_trials, n_bins, n_options, n_classes)),
        capacity_cost=np.zeros((n_trials, n_bins, n_options)),
        unused_capacity_cost=np.zeros((n_trials, n_bins, n_options)),
        capacity_units=np.full((n_trials, n_bins, n_options), np.nan),
        utilisation=np.full((n_trials, n_bins, n_options), np.nan),
        hist_leaf=_histogram_leaves(options_per_trial[0], class_names, leaf_index),
    )
    # The common case, a per-request model: its leaf's cost as it is, every trial at once.
    composite = []
    for o, (name, model) in enumerate(options_per_trial[0].items()):
        if isinstance(model, PricingModel):
            leaf = leaf_cost[:, :, leaf_index[(name,)]]
            out.cost[:, :, o] = leaf.reshape(n_trials, n_bins, n_classes, n_bands).sum(axis=3)
        else:
            composite.append((o, name))
    if not composite:
        return out

    def by_class(a: np.ndarray) -> np.ndarray:  # [B, columns] -> [B, C]: the bands summed
        return a.reshape(n_bins, n_classes, n_bands).sum(axis=2)

    calendar = _Calendar(bin_starts, bin)
    whole = np.ones((n_bins, n_classes * n_bands))
    for t in range(n_trials):
        options = options_per_trial[t if len(options_per_trial) > 1 else 0]
        context = _Context(options, leaf_index, leaf_cost[t], counts[t], class_names, edges, calendar, bin)
        for o, name in composite:
            bill = context.bill(options[name], (name,), whole)
            out.cost[t, :, o] = by_class(bill.cost)
            out.spill_cost[t, :, o] = by_class(bill.spill)
            out.throttled[t, :, o] = by_class(bill.throttled)
            out.capacity_cost[t, :, o] = bill.capacity_cost
            out.unused_capacity_cost[t, :, o] = bill.unused
            if bill.n_capacity:
                out.capacity_units[t, :, o] = bill.units
                out.utilisation[t, :, o] = bill.utilisation
    return out
