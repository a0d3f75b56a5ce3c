"""Prepare a run: check the inputs once, fix the trials and the seed, lower to arrays.

Every run, in-process or on a Dask worker, estimated or executed, goes through
here: :func:`check_run` validates what the caller gave without building anything
large; :func:`prepare` then draws each trial's uncertain parameters and lowers the
traffic and the per-request pricing models to the kernel's arrays.
"""

from __future__ import annotations

import dataclasses
import secrets
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from .. import kernels as K
from .._limits import MAX_REQUESTS_PER_BIN
from .._model import draw_uncertain, resolve, uncertain_parameters
from .._validation import ParameterError, check_int
from ..pricing.base import DeploymentOption, PricingModel, lower_options
from ..pricing.billing import check_months, check_options, leaf_classes, leaf_models, leaf_paths, size_edges
from ..pricing.token import STANDARD, TokenPricing
from ..results import CostHistogram
from ..traffic.query_class import DRAW_LIMITS
from ..traffic.traffic import Traffic

__all__ = ["MAX_SEED", "Prepared", "RunSpec", "check_run", "fresh_seed", "prepare", "resolve_seed", "trial_ids",
           "warn_off_peak_inside_bins"]

MAX_SEED = 2**63 - 1
"""The largest seed: seeds are integers in ``[0, 2**63)``."""

LIMITS = K.Limits(draw=DRAW_LIMITS, requests=float(MAX_REQUESTS_PER_BIN))


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """The checked inputs of a run; nothing per trial or per bin is built yet."""

    traffic: Traffic
    options: dict[str, DeploymentOption]
    trials: int | tuple[int, ...]  # a count, or explicit trial ids (checked)
    n_trials: int
    histogram: CostHistogram


@dataclasses.dataclass(frozen=True)
class Prepared:
    """A run ready for the kernel: the trials, the seed, each trial's draws and the arrays."""

    spec: RunSpec
    seed: int
    trial_ids: np.ndarray  # int64[T]
    draws: dict[str, np.ndarray]  # uncertain parameter path -> float64[T] values
    options: list[dict[str, DeploymentOption]]  # the options resolved for each trial (length T or 1)
    traffic: K.TrafficArrays
    pricing: K.PricingArrays

    @property
    def queries(self) -> float:
        """Expected queries over all trials (before the Poisson draw and bursts)."""
        return expected_queries(self.traffic.rate, self.trial_ids.shape[0])


def check_run(
    traffic: Any,
    options: Any,
    *,
    trials: Any = 100,
    hist_range: tuple[float, float] = (1e-7, 1e3),
    hist_bins_per_octave: int = 16,
) -> RunSpec:
    """Validate a run's inputs (ParameterError/TypeError naming the argument)."""
    if not isinstance(traffic, Traffic):
        raise TypeError(f"traffic must be a costsim.Traffic; got {type(traffic).__name__}")
    if not isinstance(options, Mapping):
        raise TypeError(f"options must be a mapping of name -> pricing model; got {type(options).__name__}")
    if not options:
        raise ParameterError("options", "must name at least one deployment option", dict(options))
    for name, model in options.items():
        if not isinstance(name, str) or not name:
            raise ParameterError("options", "must have non-empty strings as names", name)
        if not isinstance(model, DeploymentOption):
            raise TypeError(f"options[{name!r}] must be a costsim pricing option; got {type(model).__name__}")
    check_options(options, traffic.class_names)
    arrivals = traffic.arrivals
    check_months(options, arrivals.start, arrivals.bin_width, arrivals.n_bins)
    histogram = CostHistogram.from_range(hist_range, hist_bins_per_octave)
    if isinstance(trials, (int, np.integer)) and not isinstance(trials, bool):
        count = check_int("trials", trials, low=1)  # a count: its ids are built only when needed
        return RunSpec(traffic, dict(options), count, count, histogram)
    ids = tuple(int(i) for i in trial_ids(trials))
    return RunSpec(traffic, dict(options), ids, len(ids), histogram)


def warn_off_peak_inside_bins(spec: RunSpec) -> None:
    """Warn (for the caller of the caller) where off-peak rates start or end inside time bins:
    the kernel bills a bin at the rates in force at its start, so a day-long bin of a model
    off-peak at night is all peak or all off-peak.  Called where a run is priced (``simulate``,
    ``optimize``), not where it is only checked or sized."""
    traffic, options = spec.traffic, spec.options
    starts = None
    serves = leaf_classes(options, traffic.class_names)
    for path, model, classes in zip(leaf_paths(options), leaf_models(options), serves):
        if not isinstance(model, TokenPricing) or model.off_peak is None or not any(
                qc.service_tier == STANDARD for qc in traffic.classes if qc.name in classes):
            continue  # off-peak rates replace the standard tier's only
        starts = traffic.arrivals.bin_starts() if starts is None else starts
        inside = int(np.count_nonzero(model.off_peak.changes_within(starts, traffic.arrivals.bin_width)))
        if inside:
            warnings.warn(
                f"{path}: off-peak rates start or end inside {inside} of {starts.shape[0]} time bins of "
                f"{traffic.arrivals.bin}; a bin is billed at the rates in force at its start, so its cost is "
                "all peak or all off-peak: use bins that divide the off-peak windows and start on them "
                "(e.g. bin='1h' from a whole hour)", UserWarning, stacklevel=3)


def trial_ids(trials: int | Iterable[int]) -> np.ndarray:
    """The trial ids of ``trials``: ``range(trials)`` for a count, else the ids given
    (unique, in ``[0, 2**63)``), as int64."""
    if isinstance(trials, (int, np.integer)) and not isinstance(trials, bool):
        return np.arange(check_int("trials", trials, low=1), dtype=np.int64)
    if isinstance(trials, (str, bytes)) or not isinstance(trials, Iterable):
        raise TypeError(f"trials must be an int or an iterable of trial indices; got {trials!r}")
    ids = [check_int(f"trials[{i}]", t, low=0, high=MAX_SEED) for i, t in enumerate(trials)]
    if not ids:
        raise ParameterError("trials", "must not be empty", trials)
    if len(set(ids)) != len(ids):
        raise ParameterError("trials", "must not repeat a trial index", trials)
    return np.asarray(ids, dtype=np.int64)


def resolve_seed(seed: int | None) -> int:
    """The seed of a run: ``seed`` checked, or a fresh one for None (the one seed policy)."""
    return fresh_seed() if seed is None else check_int("seed", seed, low=0, high=MAX_SEED)


def fresh_seed() -> int:
    """A new random seed in ``[0, 2**63)``."""
    return secrets.randbelow(MAX_SEED + 1)


def prepare(spec: RunSpec, seed: int, ids: np.ndarray | None = None) -> Prepared:
    """Draw every trial's uncertain parameters and lower the run to the kernel's arrays.

    ``ids``: the trials to prepare (default: all of ``spec``'s), e.g. a sample of them.
    A part without uncertainty or random modulation is lowered once for all trials.
    """
    traffic, options = spec.traffic, spec.options
    ids = trial_ids(spec.trials) if ids is None else ids
    uncertain = {**uncertain_parameters(traffic, "traffic"), **uncertain_parameters(options, "options")}
    draws = draw_uncertain(uncertain, seed, ids)
    traffics = _per_trial(traffic, "traffic", draws, ids)
    if traffic.random:
        traffics = traffics * len(ids) if len(traffics) == 1 else traffics
        lowered = [t._lower(seed, int(g)) for t, g in zip(traffics, ids)]
    else:
        lowered = [t._lower() for t in traffics]
    resolved = _per_trial(options, "options", draws, ids)
    return Prepared(
        spec=spec,
        seed=seed,
        trial_ids=ids,
        draws=draws,
        options=resolved,
        traffic=_stack_traffic(lowered, ids),
        pricing=_pricing(traffic, options, resolved, ids),
    )


def expected_queries(rate: np.ndarray, n_trials: int) -> float:
    """Expected queries of ``n_trials`` trials from lowered rates [T|S|1, B, C] (one
    row per trial, a sample of the trials, or one row for all)."""
    return float(rate.sum(axis=(1, 2)).mean()) * n_trials


def _per_trial(obj: Any, prefix: str, draws: dict[str, np.ndarray], ids: np.ndarray) -> list[Any]:
    """``obj`` resolved with each trial's draws (one object when nothing under it is uncertain)."""
    paths = [p for p in draws if p.startswith(prefix)]
    if not paths:
        return [obj]
    resolved = []
    for i, trial in enumerate(ids):
        values = {p: float(draws[p][i]) for p in paths}
        try:
            resolved.append(resolve(obj, values, prefix))
        except ParameterError as err:
            drawn = ", ".join(f"{p}={v:g}" for p, v in values.items())
            raise ValueError(
                f"trial {trial}: the uncertain parameters drew values that break a rule ({drawn}): {err}"
            ) from None
    return resolved


_LAYOUT = ("class_key", "class_dists", "class_flags", "dist_kind", "dist_off", "dist_data")


def _stack_traffic(lowered: list[K.TrafficArrays], ids: np.ndarray) -> K.TrafficArrays:
    """One TrafficArrays for all trials: the per-trial fields stacked on their leading
    axis.  Every trial must lower to the same table layout (checked): the kernel reads
    one layout with each trial's parameter values."""
    first = lowered[0]
    for lt, trial in zip(lowered[1:], ids[1:]):
        same = lt.dist_par.shape == first.dist_par.shape and lt.rate.shape == first.rate.shape and all(
            np.array_equal(getattr(lt, name), getattr(first, name)) for name in _LAYOUT
        )
        if not same:
            raise _layout_error("traffic", trial, ids[0])
    return first._replace(
        rate=np.concatenate([lt.rate for lt in lowered]),
        burst_shape=np.concatenate([lt.burst_shape for lt in lowered]),
        dist_par=np.concatenate([lt.dist_par for lt in lowered]),
        class_copula=np.concatenate([lt.class_copula for lt in lowered]),
    )


def _pricing(
    traffic: Traffic, options: dict[str, DeploymentOption], resolved: list[dict[str, DeploymentOption]],
    ids: np.ndarray,
) -> K.PricingArrays:
    """The per-request models ("leaves") of the options as the kernel's arrays."""
    lowered = [lower_options(leaf_models(o)) for o in resolved]
    for (kind, par), trial in zip(lowered, ids):
        if not (np.array_equal(kind, lowered[0][0]) and par.shape == lowered[0][1].shape):
            raise _layout_error("options", trial, ids[0])
    leaves = dict(zip(leaf_paths(options), leaf_models(options)))
    card, card_off_peak, off_peak = _rate_cards(traffic, leaves, leaf_classes(options, traffic.class_names))
    return K.PricingArrays(par=np.stack([par for _, par in lowered]), card=card, card_off_peak=card_off_peak,
                           off_peak=off_peak, size_edges=size_edges(options))


def _layout_error(what: str, trial: int, first: int) -> ValueError:
    return ValueError(
        f"trial {trial}: the {what} lowers to another table layout than trial {first}'s (an uncertain parameter "
        "changed the structure of a distribution or an option, not only its values); please report this"
    )


def _rate_cards(
    traffic: Traffic, leaves: dict[str, PricingModel], serves: list[set[str]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where each class's rates start in each per-request model's row, peak and
    off-peak, and which bins are off-peak under each model.  A model is checked
    only for the classes it serves (``serves``); others get its standard card."""
    n_options, n_classes = len(leaves), len(traffic.classes)
    card = np.empty((n_options, n_classes), dtype=np.int64)
    card_off_peak = np.empty((n_options, n_classes), dtype=np.int64)
    for o, (name, model) in enumerate(leaves.items()):
        for c, qc in enumerate(traffic.classes):
            tier = qc.service_tier if qc.name in serves[o] else STANDARD
            try:
                card[o, c], card_off_peak[o, c] = model._card_offsets(tier)
            except ValueError as err:
                raise ValueError(f"{name} cannot price QueryClass {qc.name!r}: {err}") from None
    starts = traffic.arrivals.bin_starts()
    off_peak = np.array([model._off_peak_mask(starts) for model in leaves.values()], dtype=np.bool_)
    return card, card_off_peak, off_peak.reshape(n_options, starts.shape[0])
