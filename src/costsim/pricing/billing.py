"""From named options to what the kernel prices, and back to each option's bill.

The fused kernel prices per-request models only.  :func:`leaf_models` lists the
per-request models found in the options (the options themselves, and those
nested in capacity fallbacks, hybrids, discounts and commitments), in a fixed
order.  After the kernel, :func:`bill_options` prices every named option per time
bin from the leaves' costs and the aggregated demand: capacity models through
their compiled capacity functions, spill to fallbacks, routing, volume discounts
and committed spend.  :class:`Billing` does the work for every trial at once
(numpy over the trial axis; a capacity function is called once per trial), and
bills any one option on demand: :func:`costsim.optimize` bills each candidate's
option from one kernel run.

A node of an option receives a *weight* per (trial, bin, class): the fraction of
that class's traffic in that bin it must serve (1 for a whole class, less for the
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

__all__ = [
    "Billing", "Bills", "OptionBill", "bill_options", "check_months", "check_options", "leaf_classes", "leaf_models", "leaf_paths",
    "same_option", "size_edges",
]

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
            children = _children(node)
            for sub, child in children:
                # billing prices the classes of every route to the same option at the first such route,
                # so its leaves must price all of them (with each class's service tier)
                routed = set().union(*({other_sub[1]} if other_sub[0] == "routes" else classes - set(node.routes)
                                       for other_sub, other in children if same_option(other, child, options)))
                walk(child, path + sub, classes & routed)
        elif isinstance(node, DeploymentOption):
            for sub, child in _children(node):
                walk(child, path + sub, classes)

    for name, model in options.items():
        walk(model, (name,), set(class_names))
    return list(serves.values())


def same_option(a: Any, b: Any, options: Mapping[str, DeploymentOption]) -> bool:
    """Whether two references (options, or names of ``options``) are the same option:
    routes to it share it (one capacity pool, one commitment).  Two names are the
    same option when they are the same name; otherwise the objects (a name standing
    for its option) are the same when equal: options are values, and a scenario
    file written and read back holds equal copies of an object used twice.

    Examples
    --------
    >>> import costsim as cs
    >>> api = cs.TokenPricing(input=3.0, output=15.0)
    >>> options = {"api": api, "twin": cs.TokenPricing(input=3.0, output=15.0)}
    >>> same_option("api", cs.TokenPricing(input=3.0, output=15.0), options), same_option("api", "twin", options)
    (True, False)
    """
    if isinstance(a, str) and isinstance(b, str):  # two names: two options, whatever they hold
        return a == b
    a = options[a] if isinstance(a, str) else a
    b = options[b] if isinstance(b, str) else b
    return a is b or a == b


def _node_at(options: Mapping[str, DeploymentOption], path: Path) -> Any:
    """The option (or option name) at ``path`` (as :func:`_children` builds them)."""
    node: Any = options[path[0]]
    i = 1
    while i < len(path):
        node = getattr(node, path[i])
        i += 1
        if isinstance(node, (Mapping, list, tuple)):
            node = node[path[i]]
            i += 1
    return node


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


def check_months(options: Mapping[str, DeploymentOption], start: Any, bin: pd.Timedelta, n_bins: int) -> None:
    """Refuse monthly billing (:class:`VolumeDiscount`, :class:`CommittedSpend`) on
    bins that cross a calendar month (UTC): their volume and spend would count
    wholly in the month the bin starts in, and the month's minimum would be
    prorated over more (or fewer) hours than the month has.  ``start`` is the first
    bin's start (aware times are converted to UTC); looks at the month boundaries
    only, not at every bin.

    Examples
    --------
    >>> import pandas as pd, costsim as cs
    >>> commit = cs.CommittedSpend(cs.TokenPricing(input=3.0, output=15.0), monthly_minimum=1_000.0)
    >>> check_months({"commit": commit}, "2026-01-01", pd.Timedelta("7D"), 5)
    Traceback (most recent call last):
    ...
    ValueError: options['commit'] is a CommittedSpend, billed per calendar month (UTC), but the bin of 7 days ...
    """
    found: list[tuple[Path, DeploymentOption]] = []

    def walk(node: Any, path: Path) -> None:
        if isinstance(node, (VolumeDiscount, CommittedSpend)):
            found.append((path, node))
        if isinstance(node, DeploymentOption):
            for sub, child in _children(node):
                walk(child, path + sub)

    for name, model in options.items():
        walk(model, (name,))
    if not found or n_bins < 1:
        return
    first = pd.Timestamp(start)
    if first.tz is not None:
        first = first.tz_convert("UTC").tz_localize(None)
    end = first + bin * n_bins
    boundaries = pd.date_range(first.to_period("M").to_timestamp(), end, freq="MS")
    inside = boundaries[(boundaries > first) & (boundaries < end)]
    crossed = [b for b in inside if (b - first) % bin != pd.Timedelta(0)]
    if crossed:
        path, node = found[0]
        bin_start = first + ((crossed[0] - first) // bin) * bin
        raise ValueError(
            f"{_describe(path)} is a {type(node).__name__}, billed per calendar month (UTC), but the bin of "
            f"{bin} starting {bin_start} crosses into the next month: use bins that stay inside one month, "
            "such as '1h', or '1D' starting at midnight"
        )


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


Part = np.ndarray | float
"""A part of a bill: an array, or the number 0.0 where it is zero everywhere."""


@dataclasses.dataclass
class OptionBill:
    """One option's bill in every trial: arrays over (trial, bin[, column]), the
    columns being the (query class, prompt-size band) pairs of :class:`Billing`.

    A part that is zero everywhere (no spill, no throttling, no capacity) is the
    number 0.0, not an array: most parts of most bills are, and arrays of zeros
    would cost an allocation and an addition each, per candidate of a search.
    """

    cost: Part = 0.0  # [T, B, columns] USD
    spill: Part = 0.0  # [T, B, columns] USD of it paid to fallbacks
    throttled: Part = 0.0  # [T, B, columns] queries not served
    capacity_cost: Part = 0.0  # [T, B] USD of capacity
    unused: Part = 0.0  # [T, B] USD of capacity left unused
    units: Part = 0.0  # [T, B] units / replicas running, summed over capacity models
    used: Part = 0.0  # [T, B] utilisation x capacity cost, summed over capacity models
    utilisation_sum: Part = 0.0  # [T, B] utilisation summed over capacity models
    n_capacity: int = 0  # capacity models in the bill

    def cost_per_bin(self) -> np.ndarray:
        """[T, B] USD: the cost summed over the columns."""
        return _sum_last(self.cost)

    @property
    def utilisation(self) -> Part:
        """[T, B] utilisation of the capacity in the bill, weighted by the capacity
        models' costs (plain mean where capacity is free); NaN without capacity."""
        if not self.n_capacity:
            return np.nan
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(np.asarray(self.capacity_cost) > 0.0, self.used / self.capacity_cost,
                            self.utilisation_sum / self.n_capacity)

    def add(self, other: OptionBill, spilled: bool = False) -> None:
        self.cost = _plus(self.cost, other.cost)
        self.spill = _plus(self.spill, other.cost if spilled else other.spill)
        self.throttled = _plus(self.throttled, other.throttled)
        self.capacity_cost = _plus(self.capacity_cost, other.capacity_cost)
        self.unused = _plus(self.unused, other.unused)
        self.units = _plus(self.units, other.units)
        self.used = _plus(self.used, other.used)
        self.utilisation_sum = _plus(self.utilisation_sum, other.utilisation_sum)
        self.n_capacity += other.n_capacity


def _sum_last(a: np.ndarray) -> np.ndarray:
    """``a`` summed over its last axis, entry by entry in order: for the short axes
    here (classes, bands, tiers) many times faster than ``a.sum(axis=-1)``, and the
    same floats for up to 8 entries (numpy's pairwise summation starts above)."""
    out = a[..., 0].copy()
    for k in range(1, a.shape[-1]):
        out += a[..., k]
    return out


def _plus(a: Part, b: Part) -> Part:
    """``a + b`` where either may be the number 0.0 (zero everywhere), which adds nothing."""
    if not isinstance(b, np.ndarray) and b == 0.0:
        return a
    if not isinstance(a, np.ndarray) and a == 0.0:
        return b
    return a + b


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


Nodes = list[Any]
"""One node of the options in each trial (one entry when nothing is uncertain): the
same kind of option at the same place, its uncertain parameters resolved per trial."""


class Billing:
    """Bills options in every trial at once from one kernel run's outputs.

    Built once per kernel run (and prompt-size edges): the demand, the calendar and
    the leaves' costs are arranged here, then :meth:`option` bills any option of any
    set of options with the same per-request models at the same places (the
    candidates of :func:`costsim.optimize`), vectorised over the trials: numpy over
    the trial axis, and one call per trial of a capacity model's compiled function
    (its contract is one trial's demand).

    Parameters
    ----------
    options : mapping of str to DeploymentOption
        Options whose leaves (:func:`leaf_models`) the kernel priced, in that order.
    class_names : sequence of str
    leaf_cost : ndarray
        [T, B, L, C, K] USD per trial, bin, leaf, class and prompt-size band.
    counts : ndarray
        [T, B, C, K, N] the kernel's counts.
    edges : ndarray
        The prompt-size edges of the K bands (:func:`size_edges`).
    bin_starts : ndarray
        datetime64 starts of the B bins.
    bin : pandas.Timedelta
        The bins' width.

    Examples
    --------
    >>> import numpy as np, pandas as pd, costsim as cs
    >>> from costsim import kernels as K
    >>> api = cs.TokenPricing(input=3.0, output=15.0)
    >>> ptu = cs.ProvisionedCapacity(units=1, price_per_unit_hour=2.0, tokens_per_minute=1_000, fallback="api")
    >>> counts = np.zeros((1, 2, 1, 1, K.N_COUNTS))  # one trial, two hourly bins, one class, one band
    >>> counts[0, :, 0, 0, K.N_REQUESTS] = 10.0
    >>> counts[0, :, 0, 0, K.N_INPUT] = [30_000.0, 120_000.0]  # the units serve 60,000 tokens an hour
    >>> leaf_cost = np.zeros((1, 2, 1, 1, 1))
    >>> leaf_cost[0, :, 0, 0, 0] = [0.09, 0.36]  # USD of the API for each bin's tokens
    >>> starts = np.array(["2026-01-01T00", "2026-01-01T01"], dtype="datetime64[ns]")
    >>> billing = Billing({"api": api, "ptu": ptu}, ["chat"], leaf_cost, counts, np.array([]), starts,
    ...                   pd.Timedelta("1h"))
    >>> bill = billing.option([{"api": api, "ptu": ptu}], "ptu")  # 2 USD of units a bin, and the spill
    >>> bill.cost[0, :, 0].round(4).tolist(), bill.spill[0, :, 0].round(4).tolist()
    ([2.0, 2.18], [0.0, 0.18])
    """

    def __init__(self, options: Mapping[str, DeploymentOption], class_names: Sequence[str], leaf_cost: np.ndarray,
                 counts: np.ndarray, edges: np.ndarray, bin_starts: np.ndarray, bin: pd.Timedelta) -> None:
        n_trials, n_bins, n_leaves, n_classes, n_bands = leaf_cost.shape
        self.shape = (n_trials, n_bins, n_classes * n_bands)
        # The columns of every [T, B, column] array: (class, prompt-size band) pairs, class-major.
        self.column_class = [name for name in class_names for _ in range(n_bands)]
        self.band_floor = np.tile(np.concatenate([[-np.inf], edges]), len(class_names))  # prompts > this
        self.leaf_index = {path: i for i, (path, _) in enumerate(_leaves(options))}
        self.leaf_cost = leaf_cost.reshape(n_trials, n_bins, n_leaves, n_classes * n_bands)
        self.calendar = _Calendar(bin_starts, bin)
        self.bin = bin
        self.bin_hours = bin / pd.Timedelta(hours=1)
        counts = counts.reshape(n_trials, n_bins, n_classes * n_bands, counts.shape[-1]).astype(np.float64)
        self.requests = counts[..., K.N_REQUESTS]  # token sums are exact in float64
        self.billed_tokens = counts[..., K.N_INPUT] + counts[..., K.N_OUTPUT] + counts[..., K.N_REASONING]
        demand = np.empty(counts.shape[:3] + (K.N_DEMAND,))
        demand[..., K.D_REQUESTS] = counts[..., K.N_REQUESTS]
        demand[..., K.D_CALLS] = counts[..., K.N_CALLS]
        demand[..., K.D_INPUT] = counts[..., K.N_INPUT]
        demand[..., K.D_CACHED] = counts[..., K.N_CACHED]
        demand[..., K.D_OUTPUT] = counts[..., K.N_OUTPUT] + counts[..., K.N_REASONING]
        self.demand = demand
        self._whole = np.ones((1, 1, 1))  # a weight broadcasts against the [T, B, column] arrays

    def option(self, options_per_trial: Sequence[Mapping[str, DeploymentOption]], name: str,
               base: Mapping[str, DeploymentOption] | None = None) -> OptionBill:
        """The bill of option ``name`` serving all the traffic, in every trial.

        ``options_per_trial`` holds each trial's options with its draws (one entry
        when nothing is uncertain); only ``name`` and what it refers to are billed.
        ``base``: the same options before the draws (default the first trial's),
        which say which routes go to the same option (an object routed twice draws
        its uncertain parameters once per route, yet is one option).
        """
        self._options = options_per_trial
        self._base = options_per_trial[0] if base is None else base
        return self._bill([options[name] for options in options_per_trial], (name,), self._whole)

    def _bill(self, nodes: Nodes, path: Path, weight: np.ndarray) -> OptionBill:
        """The bill of ``nodes`` (at ``path``) serving ``weight`` (broadcast to [T, B,
        columns]) of the traffic.  Its arrays may be views of this object's: copy
        before writing into them."""
        node = nodes[0]
        if isinstance(node, str):
            return self._bill([options[node] for options in self._options], (node,), weight)
        if isinstance(node, PricingModel):
            leaf_cost = self.leaf_cost[:, :, self.leaf_index[path], :]
            return OptionBill(cost=leaf_cost if weight is self._whole else weight * leaf_cost)
        if isinstance(node, CapacityModel):
            return self._capacity(nodes, path, weight)
        if isinstance(node, Hybrid):
            return self._hybrid(nodes, path, weight)
        if isinstance(node, PromptRouter):
            return self._router(nodes, path, weight)
        if isinstance(node, VolumeDiscount):
            return self._discount(nodes, path, weight)
        if isinstance(node, CommittedSpend):
            return self._commitment(nodes, path, weight)
        raise TypeError(f"{_describe(path)}: cannot bill a {type(node).__name__}")

    def _capacity(self, nodes: Nodes, path: Path, weight: np.ndarray) -> OptionBill:
        n_trials, n_bins, _ = self.shape
        bill = OptionBill(cost=np.empty(self.shape), units=np.empty((n_trials, n_bins)))
        served, utilisation = np.empty((n_trials, n_bins)), np.empty((n_trials, n_bins))
        demand = self.demand if weight is self._whole else weight[..., None] * self.demand
        calls = [node._capacity(self.bin) for node in nodes]
        for t in range(n_trials):  # the compiled function prices one trial's demand
            function, params = calls[t if len(calls) > 1 else 0]
            function(demand[t], params, self.bin_hours, bill.cost[t], served[t], bill.units[t], utilisation[t])
        _check_capacity_outputs(nodes[0], path, bill.cost, served, bill.units, utilisation)
        bill.capacity_cost = _sum_last(bill.cost)
        bill.unused = (1.0 - utilisation) * bill.capacity_cost
        bill.used = utilisation * bill.capacity_cost
        bill.utilisation_sum = utilisation
        bill.n_capacity = 1
        rest = weight * (1.0 - served)[..., None]
        if nodes[0].fallback is None:
            bill.throttled = rest * self.requests
        else:
            bill.add(self._bill([node.fallback for node in nodes], path + ("fallback",), rest), spilled=True)
        return bill

    def _hybrid(self, nodes: Nodes, path: Path, weight: np.ndarray) -> OptionBill:
        routes = [(("routes", name), [node.routes[name] for node in nodes]) if name in nodes[0].routes
                  else (("default",), [node.default for node in nodes]) for name in self.column_class]
        return self._route(routes, path, weight)

    def _router(self, nodes: Nodes, path: Path, weight: np.ndarray) -> OptionBill:
        # a band's prompts exceed its floor, so the thresholds at or below the floor are exceeded
        picks = np.searchsorted(np.asarray(nodes[0].thresholds, dtype=np.float64), self.band_floor, side="right")
        return self._route([(("options", int(k)), [node.options[k] for node in nodes]) for k in picks], path, weight)

    def _route(self, routes: list[tuple[Path, Nodes]], path: Path, weight: np.ndarray) -> OptionBill:
        """Bill each column's traffic on its route's target; columns sent to the same
        option (:func:`same_option`, in every trial) share it, at the first one's path."""
        bill = OptionBill()
        groups: list[tuple[Path, Nodes, list[int]]] = []
        for column, (sub, targets) in enumerate(routes):
            group = next((g for g in groups if same_option(_node_at(self._base, g[0]),
                                                           _node_at(self._base, path + sub), self._base)), None)
            if group is None:
                groups.append((path + sub, targets, [column]))
            else:
                group[2].append(column)
        for target_path, targets, columns in groups:
            mask = np.zeros(self.shape[2])
            mask[columns] = 1.0
            bill.add(self._bill(targets, target_path, weight * mask))
        return bill

    def _discount(self, nodes: Nodes, path: Path, weight: np.ndarray) -> OptionBill:
        node = nodes[0]
        bill = self._bill([n.base for n in nodes], path + ("base",), weight)
        volume = _sum_last(weight * self.billed_tokens if node.measure == "tokens" else bill.cost)  # [T, B]
        edges = np.array([n.thresholds for n in nodes], dtype=np.float64)  # [1 or T, tiers]
        rates = np.concatenate([np.ones((len(nodes), 1)), np.array([n.multipliers for n in nodes], dtype=np.float64)],
                               axis=1)
        factor = np.ones(volume.shape)
        for first, last, _ in self.calendar.months():
            after = np.cumsum(volume[:, first:last + 1], axis=1)
            factor[:, first:last + 1] = _tier_factor(after - volume[:, first:last + 1], after, edges, rates)
        bill.cost = bill.cost * factor[..., None]
        if isinstance(bill.spill, np.ndarray):
            bill.spill = bill.spill * factor[..., None]
        return bill

    def _commitment(self, nodes: Nodes, path: Path, weight: np.ndarray) -> OptionBill:
        bill = self._bill([n.base for n in nodes], path + ("base",), weight)
        minimum = np.array([n.monthly_minimum for n in nodes], dtype=np.float64)  # [1 or T]
        cost = np.array(np.broadcast_to(bill.cost, self.shape))  # a copy, written below
        for first, last, covered in self.calendar.months():
            spend_by_class = cost[:, first:last + 1].sum(axis=1)  # [T, columns]
            shortfall = minimum * covered - spend_by_class.sum(axis=1)
            if (shortfall > 0.0).any():
                requests = (weight * self.requests)[:, first:last + 1].sum(axis=1)
                cost[:, last] += _attribute(np.maximum(shortfall, 0.0), spend_by_class, requests)
        bill.cost = cost
        return bill


def _attribute(total: np.ndarray, weights: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """[T, C]: ``total[t]`` split over classes in proportion to ``weights[t]``; to
    ``fallback[t]``'s proportions where the weights are all zero; equally where both
    are (as the capacity functions attribute a bin's cost, over trials)."""
    s, f = weights.sum(axis=1, keepdims=True), fallback.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(s > 0.0, total[:, None] * (weights / s),
                        np.where(f > 0.0, total[:, None] * (fallback / f), total[:, None] / weights.shape[1]))


def _tier_factor(before: np.ndarray, after: np.ndarray, edges: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """Mean price multiplier over cumulative volume ``[before, after]`` per trial and
    bin ([T, b]): tier ``k`` (``rates[:, k]``) covers ``[edges[:, k-1], edges[:, k])``
    with ``edges[:, -1] = 0``; ``edges`` and ``rates`` have one row, or one per trial."""
    lower = np.concatenate([np.zeros((edges.shape[0], 1)), edges], axis=1)[:, None, :]
    upper = np.concatenate([edges, np.full((edges.shape[0], 1), np.inf)], axis=1)[:, None, :]
    overlap = np.clip(np.minimum(after[..., None], upper) - np.maximum(before[..., None], lower), 0.0, None)
    volume = after - before
    tier = np.zeros(before.shape, dtype=np.int64)  # the tier a bin starts in (edges increase)
    for k in range(edges.shape[1]):
        tier += before >= edges[:, k, None]
    at_start = np.take_along_axis(np.broadcast_to(rates[:, None, :], tier.shape + rates.shape[1:]),
                                  tier[..., None], axis=2)[..., 0]  # a bin with no volume: the current rate
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(volume > 0.0, _sum_last(overlap * rates[:, None, :]) / volume, at_start)


def _check_capacity_outputs(node: CapacityModel, path: Path, cost: np.ndarray, served: np.ndarray,
                            units: np.ndarray, utilisation: np.ndarray) -> None:
    for name, values, low, high in (("cost", cost, 0.0, np.inf), ("served", served, 0.0, 1.0),
                                    ("units", units, 0.0, np.inf), ("utilisation", utilisation, 0.0, 1.0)):
        smallest, largest = values.min(), values.max()  # NaN if any is
        if smallest >= low and largest <= high and np.isfinite(largest):
            continue
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
        if isinstance(node, Hybrid):  # billed at the first route (in class order) to the same option
            def route(c: str) -> Path:
                return ("routes", c) if c in node.routes else ("default",)

            def target(c: str) -> Any:
                return node.routes[c] if c in node.routes else node.default

            first = next(c for c in class_names if same_option(target(c), target(name), options))
            return source(target(first), path + route(first), name)
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
    base: Mapping[str, DeploymentOption] | None = None,
) -> Bills:
    """Every option's bill from the kernel's leaf costs [T, B, L, C, K] and counts
    [T, B, C, K, N], K the prompt-size bands of :func:`size_edges`.

    ``options_per_trial`` holds each trial's options with its draws (one entry when
    nothing is uncertain), ``base`` the options before the draws (default the first
    trial's).  The bills are per class (summed over bands).
    """
    n_trials, n_bins, _, n_classes, n_bands = leaf_cost.shape
    options = options_per_trial[0]
    base = options if base is None else base
    leaf_index = {path: i for i, (path, _) in enumerate(_leaves(options))}
    n_options = len(options)
    out = Bills(
        cost=np.empty((n_trials, n_bins, n_options, n_classes)),
        spill_cost=np.zeros((n_trials, n_bins, n_options, n_classes)),
        throttled=np.zeros((n_trials, n_bins, n_options, n_classes)),
        capacity_cost=np.zeros((n_trials, n_bins, n_options)),
        unused_capacity_cost=np.zeros((n_trials, n_bins, n_options)),
        capacity_units=np.full((n_trials, n_bins, n_options), np.nan),
        utilisation=np.full((n_trials, n_bins, n_options), np.nan),
        hist_leaf=_histogram_leaves(base, class_names, leaf_index),
    )

    def by_class(a: Part) -> Part:  # [T, B, columns] -> [T, B, C]: the bands summed
        return _sum_last(a.reshape(n_trials, n_bins, n_classes, n_bands)) if isinstance(a, np.ndarray) else a

    billing = None
    for o, (name, model) in enumerate(options.items()):
        if isinstance(model, PricingModel):  # the common case: its leaf's cost as it is
            out.cost[:, :, o] = by_class(leaf_cost[:, :, leaf_index[(name,)]])
            continue
        if billing is None:
            billing = Billing(options, class_names, leaf_cost, counts, size_edges(options), bin_starts, bin)
        bill = billing.option(options_per_trial, name, base)
        out.cost[:, :, o] = by_class(bill.cost)
        out.spill_cost[:, :, o] = by_class(bill.spill)
        out.throttled[:, :, o] = by_class(bill.throttled)
        out.capacity_cost[:, :, o] = bill.capacity_cost
        out.unused_capacity_cost[:, :, o] = bill.unused
        if bill.n_capacity:
            out.capacity_units[:, :, o] = bill.units
            out.utilisation[:, :, o] = bill.utilisation
    return out
