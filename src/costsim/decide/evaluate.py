"""Every candidate priced from one kernel run: the kernel once, then cheap billing per candidate.

The candidates of a search differ only in what is billed after the kernel
(capacity, commitments, discounts, routing), never in the per-request models the
kernel prices (checked: the same models at the same places, pricing the same
classes).  So the kernel runs once, for the options the objective depends on,
with the prompt-size edges of every candidate's routers (their union), and each
candidate's option is billed from its outputs by :class:`costsim.pricing.billing.Billing`
(every trial at once; built once per distinct set of prompt-size edges, the bands of
the union merged back into the candidate's own), only that option and what it uses.  A candidate's
numbers are those of :func:`costsim.simulate` of that candidate with the same
seed (common random numbers; float sums regrouped, so equal to ~1e-15).
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
from ..run.progress import progress_bar, show_progress
from ..run.sizing import check_memory, check_seconds, peak_bytes, run_seconds
from ..traffic.traffic import Traffic

__all__ = ["Evaluation", "evaluate"]

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


def evaluate(
    traffic: Traffic,
    options: Mapping[str, DeploymentOption],
    target: str,
    changes: Sequence[Mapping[str, DeploymentOption]],
    *,
    trials: Any,
    seed: int | None,
    progress: bool | None = None,
    max_seconds: float | None = None,
    max_memory_bytes: float | None = None,
) -> Evaluation:
    """Price every candidate (``options`` updated with each of ``changes``) on the same
    simulated requests, from one kernel run; the cost is that of option ``target``.

    ``options`` holds ``target`` and the options it refers to by name, nothing else.
    """
    spec = check_run(traffic, options, trials=trials, hist_bins_per_octave=1)  # no histogram is used
    class_names = traffic.class_names
    candidates = [{**options, **change} for change in changes]
    _check_same_kernel(options, candidates, class_names, changes)
    edges = [tuple(size_edges(c).tolist()) for c in candidates]
    union = np.array(sorted(set().union(*edges)), dtype=np.float64)

    seed = resolve_seed(seed)
    threads = numba.get_num_threads()
    n_trials, n_bins = spec.n_trials, traffic.arrivals.n_bins
    n_classes, n_leaves = len(class_names), len(leaf_paths(options))
    extra_bands = max(0, union.shape[0] - size_edges(options).shape[0])
    kernel_extra = 8 * n_trials * n_bins * n_classes * extra_bands * (K.N_COUNTS + n_leaves)
    n_months = _months(traffic.arrivals.bin_starts())[0].shape[0]
    results = 8 * len(candidates) * n_trials * (6 + n_months)
    # a Billing's demand, requests, tokens and weights per column, a capacity bill's weighted demand, a few bills
    n_columns = n_classes * (union.shape[0] + 1)
    billing = 8 * n_trials * n_bins * n_columns * (2 * K.N_DEMAND + 3 + 12)
    check_memory(peak_bytes(spec, threads) + kernel_extra + results + billing, max_memory_bytes)
    prepared = prepare(spec, seed)
    prepared = dataclasses.replace(prepared, pricing=prepared.pricing._replace(size_edges=union))
    seconds = run_seconds(prepared.queries, threads)
    billing_seconds = BILL_SECONDS * len(candidates) * n_trials * n_bins
    check_seconds(seconds + billing_seconds, threads, max_seconds)
    show = show_progress(progress, seconds + billing_seconds)
    counts, leaf_cost, _, clipped = run_kernel(prepared, seconds if show else None, show)
    check_clipped(clipped, class_names, n_trials)

    bin_starts = traffic.arrivals.bin_starts()
    month_starts, month_first = _months(bin_starts)
    billings: dict[tuple[float, ...], Billing] = {}  # one per distinct prompt-size edges
    resolved: dict[int, list[DeploymentOption]] = {}

    def bill(i: int) -> OptionBill:
        """Candidate ``i``'s bill of option ``target``, every trial at once."""
        if edges[i] not in billings:
            edges_i = np.asarray(edges[i], dtype=np.float64)
            cost_i, counts_i = _merge_bands(leaf_cost, counts, union, edges_i)
            billings[edges[i]] = Billing(options, class_names, cost_i, counts_i, edges_i, bin_starts,
                                         traffic.arrivals.bin_width)
        return billings[edges[i]].option(_per_trial(prepared, changes[i], resolved), target)

    n = len(candidates)
    total, spill, throttled = np.empty((n, n_trials)), np.empty((n, n_trials)), np.empty((n, n_trials))
    capacity, used = np.empty((n, n_trials)), np.empty((n, n_trials))
    monthly = np.empty((n, n_trials, month_first.shape[0]))
    with progress_bar(show, n, "candidate") as update:
        for i in range(n):
            bills = bill(i)
            per_bin = bills.cost_per_bin()  # [T, B]
            total[i] = per_bin.sum(axis=1)
            monthly[i] = np.add.reduceat(per_bin, month_first, axis=1)
            spill[i] = _per_trial_sum(bills.spill, n_trials)
            throttled[i] = _per_trial_sum(bills.throttled, n_trials)
            capacity[i] = _per_trial_sum(bills.capacity_cost, n_trials)
            used[i] = capacity[i] - _per_trial_sum(bills.unused, n_trials)
            update(1)
    requests = counts[..., K.N_REQUESTS].sum(axis=(1, 2, 3)).astype(np.float64)
    return Evaluation(
        seed=seed, trial_ids=prepared.trial_ids, bin_starts=bin_starts, month_starts=month_starts,
        month_first=month_first, draws=prepared.draws, requests=requests, total=total, spill=spill,
        throttled=throttled, capacity_cost=capacity, used_cost=used, monthly=monthly,
        _bill=lambda i: bill(i).cost_per_bin(),
    )


def _check_same_kernel(options: Mapping[str, DeploymentOption], candidates: list[dict[str, DeploymentOption]],
                       class_names: Sequence[str], changes: Sequence[Mapping[str, DeploymentOption]]) -> None:
    """Refuse candidates one kernel run cannot price: each must be a valid set of
    options whose per-request models are those of ``options``, at the same places,
    pricing the same classes."""
    paths, models = leaf_paths(options), leaf_models(options)
    serves = leaf_classes(options, class_names)
    seen: set[tuple[int, ...]] = set()
    for candidate, change in zip(candidates, changes):
        key = tuple(id(v) for v in change.values())
        if key in seen:
            continue
        seen.add(key)
        check_options(candidate, class_names)
        if leaf_paths(candidate) != paths or leaf_models(candidate) != models \
                or leaf_classes(candidate, class_names) != serves:
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
