"""Every candidate priced from one kernel run: the kernel once, then cheap billing per candidate.

The candidates of a search differ only in what is billed after the kernel
(capacity, commitments, discounts, routing), never in the per-request models the
kernel prices (checked: the same models at the same places, pricing the same
classes).  So the kernel runs once, for the options the objective depends on,
with the prompt-size edges of every candidate's routers (their union; :func:`run_once`),
and a candidate is priced when asked (:class:`Pricer`): the option optimised, and
only what it uses, billed from the kernel's outputs by
:class:`costsim.pricing.billing.Billing` (every trial at once; one per distinct set
of prompt-size edges, the bands of the union merged back into the candidate's own).
A candidate's numbers are those of :func:`costsim.simulate` of that candidate with
the same seed (common random numbers; float sums regrouped, so equal to ~1e-15).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numba
import numpy as np
import pandas as pd

from .. import kernels as K
from .._model import resolve, uncertain_parameters
from .._validation import ParameterError
from ..pricing.base import DeploymentOption
from ..pricing.billing import (
    Billing,
    OptionBill,
    check_options,
    leaf_classes,
    leaf_models,
    leaf_paths,
    size_edges,
)
from ..run.local import check_clipped, run_kernel
from ..run.prepare import Prepared, check_run, prepare, resolve_seed
from ..run.progress import show_progress
from ..run.sizing import check_memory, check_seconds, peak_bytes, run_seconds
from ..traffic.traffic import Traffic

__all__ = ["Evaluation", "Pricer", "run_once"]

BILL_SECONDS = 2e-7
"""Rough seconds to bill one candidate for one trial and bin (measured 0.05 to 0.2 us
for provisioned units with a fallback on 4 classes, more on a busy machine), for
the time guard and the progress bar."""


@dataclasses.dataclass
class Evaluation:
    """Every candidate's outcome in every trial: arrays [candidate, trial(, month)]."""

    seed: int
    trial_ids: np.ndarray  # int64[T]
    bin_starts: np.ndarray  # datetime64[ns][B]
    month_starts: np.ndarray  # datetime64[ns][M]: the calendar months (UTC) the horizon touches
    month_first: np.ndarray  # int64[M]: the first bin of each
    draws: dict[str, np.ndarray]  # the uncertain parameters each trial drew
    requests: np.ndarray  # [T] queries arriving over the horizon
    total: np.ndarray  # [N, T] USD
    spill: np.ndarray  # [N, T] USD paid to fallbacks
    throttled: np.ndarray  # [N, T] queries not served
    capacity_cost: np.ndarray  # [N, T] USD of capacity
    used_cost: np.ndarray  # [N, T] USD of capacity that served demand
    monthly: np.ndarray  # [N, T, M] USD per calendar month
    _bill: Any = dataclasses.field(repr=False, default=None)

    def per_bin(self, i: int) -> np.ndarray:
        """Candidate ``i``'s cost per trial and bin [T, B] (billed again: only the
        totals of every candidate are kept)."""
        return self._bill(i)


class Pricer:
    """One kernel run for a search, then any candidate priced on demand from it.

    Built by :func:`run_once`.  :meth:`price` bills candidates (each a mapping of
    the options it changes) and keeps their rows, so a candidate priced twice is
    billed once; :meth:`evaluation` gathers the rows of any candidates priced.
    """

    def __init__(self, traffic: Traffic, options: Mapping[str, DeploymentOption], target: str,
                 prepared: Prepared, counts: np.ndarray, leaf_cost: np.ndarray, union: np.ndarray,
                 checked: set[tuple[int, ...]]) -> None:
        self.options, self.target, self.prepared = options, target, prepared
        self.class_names, self.bin = traffic.class_names, traffic.arrivals.bin_width
        self.counts, self.leaf_cost, self.union = counts, leaf_cost, union
        self.bin_starts = traffic.arrivals.bin_starts()
        self.month_starts, self.month_first = _months(self.bin_starts)
        self.requests = counts[..., K.N_REQUESTS].sum(axis=(1, 2, 3)).astype(np.float64)
        self._billings: dict[tuple[float, ...], Billing] = {}  # one per distinct prompt-size edges
        self._resolved: dict[int, list[DeploymentOption]] = {}
        self._rows: dict[tuple[int, ...], tuple[np.ndarray, ...]] = {}
        self._kept: list[Mapping[str, DeploymentOption]] = []  # the candidates priced: their ids stay theirs
        self._checked = checked  # candidates checked already (by _check_same_kernel)
        self._leaves = _leaves(options, self.class_names)

    def bill(self, change: Mapping[str, DeploymentOption]) -> OptionBill:
        """The candidate's bill of the target option, every trial at once."""
        candidate = {**self.options, **change}
        key = _key(change)
        if key not in self._checked:
            _check_same_kernel(self._leaves, candidate, self.class_names, change)
            self._checked.add(key)
        edges = tuple(size_edges(candidate).tolist())
        if not set(edges) <= set(self.union.tolist()):
            raise AssertionError(f"a candidate's prompt-size edges {edges} are not among those the kernel ran with")
        if edges not in self._billings:
            edges_array = np.asarray(edges, dtype=np.float64)
            cost, counts = _merge_bands(self.leaf_cost, self.counts, self.union, edges_array)
            self._billings[edges] = Billing(self.options, self.class_names, cost, counts, edges_array,
                                            self.bin_starts, self.bin)
        return self._billings[edges].option(_per_trial(self.prepared, change, self._resolved), self.target,
                                            candidate)

    def price(self, change: Mapping[str, DeploymentOption]) -> tuple[np.ndarray, ...]:
        """The candidate's row: total, spill, throttled, capacity and used cost [T], monthly cost [T, M]."""
        key = _key(change)
        if key not in self._rows:
            bills = self.bill(change)
            n_trials = self.requests.shape[0]
            per_bin = bills.cost_per_bin()  # [T, B]
            capacity = _per_trial_sum(bills.capacity_cost, n_trials)
            self._rows[key] = (per_bin.sum(axis=1), _per_trial_sum(bills.spill, n_trials),
                               _per_trial_sum(bills.throttled, n_trials), capacity,
                               capacity - _per_trial_sum(bills.unused, n_trials),
                               np.add.reduceat(per_bin, self.month_first, axis=1))
            self._kept.append(change)
        return self._rows[key]

    def evaluation(self, changes: Sequence[Mapping[str, DeploymentOption]]) -> Evaluation:
        """The rows of ``changes`` (priced now if they were not) as an :class:`Evaluation`."""
        rows = [self.price(change) for change in changes]
        total, spill, throttled, capacity, used, monthly = (np.stack(column) for column in zip(*rows))
        return Evaluation(
            seed=self.prepared.seed, trial_ids=self.prepared.trial_ids, bin_starts=self.bin_starts,
            month_starts=self.month_starts, month_first=self.month_first, draws=self.prepared.draws,
            requests=self.requests, total=total, spill=spill, throttled=throttled, capacity_cost=capacity,
            used_cost=used, monthly=monthly, _bill=lambda i: self.bill(changes[i]).cost_per_bin(),
        )


def run_once(
    traffic: Traffic,
    options: Mapping[str, DeploymentOption],
    target: str,
    probes: Sequence[Mapping[str, DeploymentOption]],
    n_candidates: int,
    *,
    trials: Any,
    seed: int | None,
    progress: bool | None = None,
    max_seconds: float | None = None,
    max_memory_bytes: float | None = None,
) -> tuple[Pricer, bool]:
    """Run the kernel once for a search of at most ``n_candidates`` candidates: the
    options ``target`` uses, with the prompt-size edges of ``probes`` (candidates
    whose routers' thresholds, together, are every candidate's).  Returns the
    :class:`Pricer` and whether to show progress over the candidates.

    ``options`` holds ``target`` and the options it refers to by name, nothing else.
    """
    spec = check_run(traffic, options, trials=trials, hist_bins_per_octave=1)  # no histogram is used
    class_names = traffic.class_names
    leaves, checked = _leaves(options, class_names), set()
    for change in probes:
        if _key(change) not in checked:
            _check_same_kernel(leaves, {**options, **change}, class_names, change)
            checked.add(_key(change))
    union = np.array(sorted(set().union(*(size_edges({**options, **change}).tolist() for change in probes))),
                     dtype=np.float64)
    seed = resolve_seed(seed)
    threads = numba.get_num_threads()
    n_trials, n_bins = spec.n_trials, traffic.arrivals.n_bins
    n_classes, n_leaves = len(class_names), len(leaf_paths(options))
    extra_bands = max(0, union.shape[0] - size_edges(options).shape[0])
    kernel_extra = 8 * n_trials * n_bins * n_classes * extra_bands * (K.N_COUNTS + n_leaves)
    n_months = _months(traffic.arrivals.bin_starts())[0].shape[0]
    results = 8 * n_candidates * n_trials * (6 + n_months)
    # a Billing's demand, requests, tokens and weights per column, a capacity bill's weighted demand, a few bills
    n_columns = n_classes * (union.shape[0] + 1)
    billing = 8 * n_trials * n_bins * n_columns * (2 * K.N_DEMAND + 3 + 12)
    check_memory(peak_bytes(spec, threads) + kernel_extra + results + billing, max_memory_bytes)
    prepared = prepare(spec, seed)
    prepared = dataclasses.replace(prepared, pricing=prepared.pricing._replace(size_edges=union))
    seconds = run_seconds(prepared.queries, threads)
    billing_seconds = BILL_SECONDS * n_candidates * n_trials * n_bins
    check_seconds(seconds + billing_seconds, threads, max_seconds)
    show = show_progress(progress, seconds + billing_seconds)
    counts, leaf_cost, _, clipped = run_kernel(prepared, seconds if show else None, show)
    check_clipped(clipped, class_names, n_trials)
    return Pricer(traffic, options, target, prepared, counts, leaf_cost, union, checked), show


def _key(change: Mapping[str, DeploymentOption]) -> tuple[int, ...]:
    """A candidate's identity: the objects it changes (candidates are built once each)."""
    return tuple(id(v) for v in change.values())


def _leaves(options: Mapping[str, DeploymentOption], class_names: Sequence[str]) -> tuple[Any, ...]:
    """What the kernel prices for ``options``: its per-request models, where they are, which classes."""
    return leaf_paths(options), leaf_models(options), leaf_classes(options, class_names)


def _check_same_kernel(leaves: tuple[Any, ...], candidate: Mapping[str, DeploymentOption],
                       class_names: Sequence[str], change: Mapping[str, DeploymentOption]) -> None:
    """Refuse a candidate one kernel run cannot price: it must be a valid set of
    options whose per-request models are ``leaves`` (:func:`_leaves` of the base
    options): the same models at the same places, pricing the same classes."""
    check_options(candidate, class_names)
    if _leaves(candidate, class_names) != leaves:
        changed = ", ".join(f"options[{name!r}]" for name in change)
        raise ValueError(
            f"a candidate changes the per-request models the kernel prices (where they are, or which query "
            f"classes they price) through {changed}: optimize prices every candidate from one kernel run, so "
            "the search may change capacity, commitments, discounts and routing thresholds but not which "
            "per-request models price which queries; simulate such alternatives separately (costsim.simulate)"
        )


def _per_trial(prepared: Prepared, change: Mapping[str, DeploymentOption],
               resolved: dict[int, list[DeploymentOption]]) -> list[dict[str, DeploymentOption]]:
    """Each trial's options of a candidate: the prepared (resolved) base options with
    the candidate's changed options, their uncertain parameters resolved with the
    trial's draws (the same paths, so the same values as a simulation of the candidate)."""
    base = prepared.options
    n_trials = prepared.trial_ids.shape[0]
    per_name = {}
    for name, option in change.items():
        if id(option) not in resolved:
            prefix = f"options[{name!r}]"
            paths = list(uncertain_parameters(option, prefix))
            if not paths:
                resolved[id(option)] = [option]
            else:
                rows = []
                for t in range(n_trials):
                    values = {p: float(prepared.draws[p][t]) for p in paths}
                    try:
                        rows.append(resolve(option, values, prefix))
                    except ParameterError as err:
                        drawn = ", ".join(f"{p}={v:g}" for p, v in values.items())
                        raise ValueError(f"trial {prepared.trial_ids[t]}: the uncertain parameters drew values that "
                                         f"break a rule ({drawn}): {err}") from None
                resolved[id(option)] = rows
        per_name[name] = resolved[id(option)]
    rows = max([len(base)] + [len(r) for r in per_name.values()])
    if rows == 1:
        return [{**base[0], **{name: r[0] for name, r in per_name.items()}}]
    assert rows == n_trials
    return [{**base[t if len(base) > 1 else 0], **{name: r[t if len(r) > 1 else 0] for name, r in per_name.items()}}
            for t in range(n_trials)]


def _per_trial_sum(part: np.ndarray | float, n_trials: int) -> np.ndarray:
    """[T]: a bill's part summed over all but the trial axis (0.0: zero everywhere)."""
    if isinstance(part, np.ndarray):
        return part.sum(axis=tuple(range(1, part.ndim)))
    return np.zeros(n_trials)


def _merge_bands(leaf_cost: np.ndarray, counts: np.ndarray, union: np.ndarray,
                 edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The kernel's outputs over the prompt-size bands of ``union`` summed into those
    of ``edges`` (a subset): band ``j`` of the union holds prompts in
    ``(union[j-1], union[j]]``, inside the band of ``edges`` counting the edges below."""
    if edges.shape == union.shape:
        return leaf_cost, counts
    floors = np.concatenate([[-math.inf], union])
    band = np.searchsorted(edges, floors, side="right")  # non-decreasing, 0 .. len(edges)
    starts = np.searchsorted(band, np.arange(edges.shape[0] + 1), side="left")
    return np.add.reduceat(leaf_cost, starts, axis=4), np.add.reduceat(counts, starts, axis=3)


def _months(bin_starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The calendar months (UTC) of the bins: each month's first day, and its first bin."""
    starts = pd.DatetimeIndex(bin_starts)
    month = (starts.year * 12 + starts.month - 1).to_numpy()
    _, first = np.unique(month, return_index=True)
    firsts = starts[first]
    days = pd.to_datetime({"year": firsts.year, "month": firsts.month, "day": 1})
    return days.to_numpy(dtype="datetime64[ns]"), first.astype(np.int64)
