"""How big a run is before it starts: expected queries, result memory, rough time.

:func:`estimate` answers "how long and how much memory?" for a planned
:func:`costsim.simulate` call; ``simulate`` itself refuses a run whose result
would not fit in memory (:func:`check_result_fits`).

The time is a rough guide: expected queries divided by
:data:`QUERIES_PER_THREAD_SECOND` and the numba thread count.  Queries with
many model calls (agent loops) or many classes and options take longer per query.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numba
import numpy as np

from .. import kernels as K
from .._limits import MAX_STEPS
from .._model import uncertain_parameters
from ..pricing.base import PricingModel
from ..pricing.billing import leaf_paths, size_edges
from ..traffic.distributions import Constant
from .prepare import RunSpec, check_run, expected_queries, prepare, resolve_seed

__all__ = ["MAX_SECONDS", "QUERIES_PER_THREAD_SECOND", "Estimate", "check_memory", "check_result_fits", "check_seconds",
           "estimate", "peak_bytes", "result_bytes", "run_seconds"]

QUERIES_PER_THREAD_SECOND = 1.0e7
"""Queries one numba thread simulates and prices per second, for time estimates:
9.4 M/s measured as CPU time on the demo scenario (4 classes among them an agent
loop, 1.4 model calls per query; 3 options; numba 0.68, 2-core x86-64 machine).
One class priced under one option runs up to about 4x faster."""

RESULT_MEMORY_SHARE = 0.5
"""Default ceiling of a result's size, as a share of the available memory."""

PEAK_MEMORY_SHARE = 0.8
"""Default ceiling of a run's peak memory (the result, the kernel's working
arrays, the lowered traffic), as a share of the available memory."""

MAX_SECONDS = 6 * 3600.0
"""Default ceiling of a run's estimated time: ``simulate(max_seconds=...)`` and
``costsim run --max-hours`` raise it."""

SAMPLE_TRIALS = 8
"""Trials whose rates :func:`estimate` computes when rates differ between trials
(uncertain traffic parameters, random modulations); the mean is scaled up."""


@dataclasses.dataclass(frozen=True)
class Estimate:
    """The size of a planned run: see :func:`estimate`.

    Attributes
    ----------
    trials, bins, classes, options : int
        The run's dimensions.
    queries : float
        Expected queries over all trials (before the Poisson draw and overdispersion).
    result_bytes : int
        Memory of the result Dataset.
    peak_bytes : int
        Peak memory of the run: the result, the kernel's working arrays and the
        lowered traffic (an upper estimate).
    seconds : float
        Rough in-process time on ``threads`` numba threads (from
        :data:`QUERIES_PER_THREAD_SECOND`).
    threads : int
        Numba threads the time assumes.

    Examples
    --------
    >>> import costsim as cs
    >>> size = cs.estimate(cs.demo.demo_traffic(days=30), cs.demo.demo_options(), trials=1_000)
    >>> isinstance(size, cs.Estimate), size.trials, size.bins
    (True, 1000, 720)
    >>> size.result_bytes > 100 * 2**20  # a 1,000-trial month of hourly bins: hundreds of MiB
    True
    """

    trials: int
    bins: int
    classes: int
    options: int
    queries: float
    result_bytes: int
    peak_bytes: int
    seconds: float
    threads: int

    def __str__(self) -> str:
        return (
            f"{self.queries:,.0f} queries expected ({self.trials:,} trials x {self.bins:,} time bins x "
            f"{self.classes} classes, {self.options} options); result {format_bytes(self.result_bytes)}, "
            f"peak memory {format_bytes(self.peak_bytes)}; "
            f"roughly {format_seconds(self.seconds)} on {self.threads} thread{'s' * (self.threads != 1)}"
        )


def estimate(
    traffic: Any,
    options: Mapping[str, Any],
    *,
    trials: int | Iterable[int] = 100,
    seed: int | None = None,
    hist_range: tuple[float, float] = (1e-7, 1e3),
    hist_bins_per_octave: int = 16,
) -> Estimate:
    """Estimate the queries, result memory and time of a :func:`costsim.simulate` run.

    Takes the arguments of ``simulate``.  Without uncertain traffic parameters or
    random modulations the expected query count is exact; otherwise it is the mean
    of the first :data:`SAMPLE_TRIALS` trials, scaled to all trials.

    Parameters
    ----------
    traffic : Traffic
        Query classes and arrivals.
    options : mapping of str to DeploymentOption
        The deployment options, by name.
    trials : int or iterable of int, default 100
        Number of trials, or the explicit trial indices.
    seed : int, optional
        Seed of the uncertain parameters and random modulations; None draws a
        fresh one (as :func:`costsim.simulate` does).
    hist_range : (float, float), default (1e-7, 1e3)
        As in ``simulate``.
    hist_bins_per_octave : int, default 16
        As in ``simulate``.

    Returns
    -------
    Estimate

    Examples
    --------
    >>> import costsim as cs
    >>> est = cs.estimate(cs.demo.demo_traffic(days=30), cs.demo.demo_options(), trials=1_000, seed=0)
    >>> print(f"{est.queries:.3g} queries, {est.result_bytes / 2**20:.0f} MiB")
    1.59e+09 queries, 292 MiB
    >>> print(est)  # doctest: +ELLIPSIS
    1,587,595,748 queries expected (1,000 trials x 720 time bins x 4 classes, 3 options); result 292 MiB, peak memory ...
    """
    spec = check_run(traffic, options, trials=trials, hist_range=hist_range,
                     hist_bins_per_octave=hist_bins_per_octave)
    seed = resolve_seed(seed)
    threads = numba.get_num_threads()
    # the sample's lowered traffic must fit before it is built
    n_sample = min(spec.n_trials, SAMPLE_TRIALS)
    check_memory(peak_bytes(spec, threads, n_trials=n_sample, kernel=False), None)
    sample = np.arange(n_sample, dtype=np.int64) if isinstance(spec.trials, int) else \
        np.asarray(spec.trials[:n_sample], dtype=np.int64)
    queries = expected_queries(prepare(spec, seed, sample).traffic.rate, spec.n_trials)
    return Estimate(
        trials=spec.n_trials,
        bins=spec.traffic.arrivals.n_bins,
        classes=len(spec.traffic.classes),
        options=len(spec.options),
        queries=queries,
        result_bytes=result_bytes(spec),
        peak_bytes=peak_bytes(spec, threads),
        seconds=run_seconds(queries, threads),
        threads=threads,
    )


def run_seconds(queries: float, threads: int) -> float:
    """Rough in-process time of ``queries`` queries on ``threads`` numba threads."""
    return queries / (QUERIES_PER_THREAD_SECOND * threads)


def result_bytes(spec: RunSpec) -> int:
    """Memory of the result Dataset of the run ``spec`` (see :func:`costsim.results.build_dataset`)."""
    traffic, options, n_trials, n_hist_bins = spec.traffic, spec.options, spec.n_trials, spec.histogram.n_bins
    n_bins, n_classes, n_options = traffic.arrivals.n_bins, len(traffic.classes), len(options)
    cells = n_bins * n_classes * (K.N_COUNTS + n_options)  # count variables, cost
    cells += n_options * n_classes * n_hist_bins + n_classes  # cost_hist, clipped_draws
    if not all(isinstance(model, PricingModel) for model in options.values()):
        # spill_cost, throttled_requests per class; capacity_cost, unused_capacity_cost, capacity_units, utilisation
        cells += n_bins * n_options * (2 * n_classes + 4)
    cells += len(uncertain_parameters(traffic, "traffic")) + len(uncertain_parameters(options, "options"))
    coords = n_trials + n_bins + 2 * n_hist_bins  # trial, time, cost bin edges (the rest is small)
    return 8 * (n_trials * cells + coords)


def peak_bytes(spec: RunSpec, threads: int, *, n_trials: int | None = None, kernel: bool = True) -> int:
    """Peak memory of the run ``spec`` in this process (``n_trials`` of its trials):
    the result, the kernel's inputs, outputs and per-thread scratch, the lowered
    traffic (a rate per trial, bin and class where rates differ between trials)
    and the profile sub-steps.  An upper estimate.  ``kernel=False``: only the
    lowering."""
    traffic, options = spec.traffic, spec.options
    n_trials = spec.n_trials if n_trials is None else n_trials
    n_bins, n_classes, n_hist_bins = traffic.arrivals.n_bins, len(traffic.classes), spec.histogram.n_bins
    per_trial = traffic.random or bool(uncertain_parameters(traffic, "traffic"))
    rate_rows = n_trials if per_trial else 1
    lowering = 8 * (2 * rate_rows * n_bins * n_classes + 4 * traffic.arrivals.n_sub_steps)
    if not kernel:
        return lowering
    n_bands, n_leaves = size_edges(options).shape[0] + 1, len(leaf_paths(options))
    cells = n_bins * n_classes * n_bands * (K.N_COUNTS + n_leaves)  # counts, cost
    hist_rows = 2 * n_trials + 2 * threads  # the histograms and those of each part of the bins
    many_steps = any(not isinstance(qc.steps, (int, Constant)) for qc in traffic.classes)
    per_call = 3 * K.BLOCK * (MAX_STEPS if many_steps else 4) * 8  # the kernel's per-call buffers of a block
    scratch = threads * (per_call + 8 * n_classes * n_leaves * n_hist_bins)
    working = 8 * (n_trials * cells + hist_rows * n_leaves * n_classes * n_hist_bins)
    result = dataclasses.replace(spec, n_trials=n_trials)
    return result_bytes(result) + working + scratch + lowering


def check_memory(peak: int, max_memory_bytes: float | None) -> None:
    """Refuse (ValueError) a run whose peak memory ``peak`` exceeds ``max_memory_bytes``
    (None: :data:`PEAK_MEMORY_SHARE` of the available memory; no check if unknown)."""
    _check_bytes(peak, "max_memory_bytes", max_memory_bytes, PEAK_MEMORY_SHARE,
                  f"the run would take {format_bytes(peak)} of memory at its peak",
                  "run fewer trials, use coarser time bins or fewer prompt-size thresholds, or run on a machine "
                  "with more memory")


def check_seconds(seconds: float, threads: int, max_seconds: float | None) -> None:
    """Refuse (ValueError) a run estimated to take longer than ``max_seconds``
    (None: :data:`MAX_SECONDS`; ``math.inf``: no limit)."""
    if max_seconds is None:
        max_seconds, rule = MAX_SECONDS, f"the default limit of {format_seconds(MAX_SECONDS)}"
    elif isinstance(max_seconds, (int, float, np.integer, np.floating)) and not isinstance(max_seconds, bool) \
            and max_seconds > 0:
        rule = f"max_seconds={max_seconds:g}"
    else:
        raise ValueError(f"max_seconds must be a number of seconds > 0 (math.inf: no limit) or None; "
                         f"got {max_seconds!r}")
    if seconds > max_seconds:
        raise ValueError(
            f"the run is estimated to take {format_seconds(seconds)} on {threads} thread"
            f"{'s' * (threads != 1)}, more than {rule}: simulate fewer queries or trials, or pass "
            "max_seconds=... (costsim run --max-hours) to run it anyway"
        )


def _limit(name: str, value: float | None, share: float) -> tuple[float, str]:
    """A memory ceiling and its description: ``value``, or ``share`` of the available memory."""
    if value is None:
        available = available_memory()
        if available is None:
            return math.inf, "the memory available"
        return share * available, f"{share:.0%} of the {format_bytes(available)} of memory available"
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) and value > 0:
        return float(value), f"{name}={value:g}"
    raise ValueError(f"{name} must be a number of bytes > 0 or None; got {value!r}")


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (psutil, else /proc/meminfo); None if unknown."""
    try:
        import psutil
    except ImportError:
        try:
            with open("/proc/meminfo", encoding="ascii") as f:
                fields = dict(line.split(":", 1) for line in f)
            return int(fields["MemAvailable"].split()[0]) * 1024
        except (OSError, KeyError, ValueError):
            return None
    return int(psutil.virtual_memory().available)


def check_result_fits(size: int, max_result_bytes: float | None) -> None:
    """Refuse (ValueError) a result of ``size`` bytes above ``max_result_bytes``
    (None: :data:`RESULT_MEMORY_SHARE` of the available memory; no check if unknown)."""
    _check_bytes(size, "max_result_bytes", max_result_bytes, RESULT_MEMORY_SHARE,
                 f"the result would take {format_bytes(size)}",
                 "run fewer trials, use coarser time bins, or run on a machine with more memory (the result of a "
                 "Dask run is gathered here)")


def _check_bytes(size: int, name: str, value: float | None, share: float, what: str, advice: str) -> None:
    """Refuse ``size`` bytes above the ceiling ``name=value`` (None: ``share`` of the available memory)."""
    limit, rule = _limit(name, value, share)
    if size > limit:
        raise ValueError(f"{what}, more than {rule}: {advice}; simulate({name}=...) overrides this check")


def format_bytes(n: float) -> str:
    """``n`` bytes in binary units: ``'242 MiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.3g} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    raise AssertionError  # pragma: no cover


def format_seconds(s: float) -> str:
    """A duration for people: ``'40 s'``, ``'12 min'``, ``'3.5 h'``."""
    if s < 1:
        return "under a second"
    if s < 90:
        return f"{s:.0f} s"
    if s < 90 * 60:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h"
