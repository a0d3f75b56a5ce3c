"""Run a prepared run in this process: the kernel, the bills, the result Dataset."""

from __future__ import annotations

import math
import warnings

import numba
import numpy as np
import xarray as xr

from .. import kernels as K
from .._limits import (
    MAX_REQUESTS_PER_BIN,
    MAX_STEPS,
    MAX_TOKENS_PER_CALL,
    MAX_TOOL_CALLS,
)
from ..codec import scenario_json
from ..pricing.billing import bill_options
from ..results import build_dataset, compose_histograms
from .prepare import LIMITS, Prepared
from .progress import KERNEL_LOCK, compile_notice, interruptible, progress_bar, trial_chunks

__all__ = ["run_local"]


def run_local(prepared: Prepared, *, show_progress: bool = False, seconds: float | None = None) -> xr.Dataset:
    """Simulate and price ``prepared`` here and label the result.

    ``show_progress``: a progress bar over chunks of trials of about a second of
    work each (``seconds``: the run's estimated time); otherwise one kernel call.
    """
    spec = prepared.spec
    traffic, histogram = spec.traffic, spec.histogram
    counts, cost, hist, clipped = run_kernel(prepared, seconds if show_progress else None, show_progress)
    check_clipped(clipped, traffic.class_names, prepared.trial_ids.shape[0])
    bills = bill_options(prepared.options, traffic.class_names, cost, counts, traffic.arrivals.bin_starts(),
                         traffic.arrivals.bin_width, spec.options)
    ids = prepared.trial_ids
    return build_dataset(
        traffic=traffic,
        options=spec.options,
        trial_ids=ids,
        seed=prepared.seed,
        counts=counts.sum(axis=3),
        bills=bills,
        hist=compose_histograms(hist, bills.hist_leaf),
        histogram=histogram,
        draws=prepared.draws,
        clipped=clipped[..., K.CLIP_DRAWS] + clipped[..., K.CLIP_REQUESTS],
        scenario=scenario_json(traffic, spec.options, seed=prepared.seed, trials=ids.tolist()),
    )


def run_kernel(
    prepared: Prepared, seconds: float | None, show_progress: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The kernel's outputs for all trials: ``counts`` int64[T, B, C, K, N_COUNTS],
    ``cost`` float64[T, B, L, C, K], ``hist`` int64[T, L, C, H], ``clipped``
    int64[T, C, N_CLIPS] (L per-request models, K prompt-size bands), in chunks of
    trials of about a second each for a run of ``seconds`` (None: one call).
    Ctrl-C stops the kernel within a block of queries (see :func:`interruptible`)."""
    traffic, pricing, histogram = prepared.traffic, prepared.pricing, prepared.spec.histogram
    n_trials = prepared.trial_ids.shape[0]
    n_bins, n_classes = traffic.rate.shape[1:]
    n_leaves, n_bands, n_hist = pricing.card.shape[0], pricing.size_edges.shape[0] + 1, histogram.n_bins
    counts = np.empty((n_trials, n_bins, n_classes, n_bands, K.N_COUNTS), dtype=np.int64)
    cost = np.empty((n_trials, n_bins, n_leaves, n_classes, n_bands))
    hist = np.empty((n_trials, n_leaves, n_classes, n_hist), dtype=np.int64)
    clipped = np.empty((n_trials, n_classes, K.N_CLIPS), dtype=np.int64)
    spec = K.HistogramSpec(histogram.lo_exp, histogram.octaves, histogram.log2_per_octave)
    stop = np.zeros(1, dtype=np.uint8)
    threads = numba.get_num_threads()
    with KERNEL_LOCK, compile_notice(K.simulate_items), progress_bar(show_progress, n_trials, "trial") as update:
        for s in trial_chunks(n_trials, threads, seconds):
            n = s.stop - s.start
            # parts of the bins, so that a few trials still give every thread work
            n_parts = max(1, min(n_bins, math.ceil(2 * threads / n)))
            out = K.Outputs(counts=counts[s], cost=cost[s],
                            hist=np.zeros((n, n_parts, n_leaves, n_classes, n_hist), dtype=np.int64),
                            clipped=np.zeros((n, n_parts, n_classes, K.N_CLIPS), dtype=np.int64))
            chunk_traffic, chunk_pricing = _trials(traffic, s), _trials(pricing, s)
            interruptible(lambda: K.simulate_kernel(np.uint64(prepared.seed), prepared.trial_ids[s], n_parts,
                                                    chunk_traffic, chunk_pricing, spec, LIMITS, stop, out), stop)
            out.hist.sum(axis=1, out=hist[s])  # integer sums: exact in any order
            out.clipped.sum(axis=1, out=clipped[s])
            update(n)
    return counts, cost, hist, clipped


_PER_TRIAL = {"rate", "burst_shape", "class_copula", "dist_par", "par"}


def _trials(arrays: K.TrafficArrays | K.PricingArrays, s: slice) -> K.TrafficArrays | K.PricingArrays:
    """The trials ``s`` of the per-trial fields (a leading axis of 1 stays: same for every trial)."""
    return arrays._replace(**{
        name: value[s] for name, value in arrays._asdict().items() if name in _PER_TRIAL and value.shape[0] > 1
    })


def check_clipped(clipped: np.ndarray, class_names: tuple[str, ...], n_trials: int) -> None:
    """Refuse counts that overflowed int64; warn about draws clipped at their limits.

    ``clipped`` int64[T, C, N_CLIPS] as the kernel counted (summed over parts)."""
    overflowed = clipped[..., K.CLIP_SUMS].sum(axis=0)
    if overflowed.any():
        c = int(np.argmax(overflowed))
        raise ValueError(
            f"QueryClass {class_names[c]!r}: token or request sums of a time bin exceed the int64 range "
            f"({int(overflowed[c])} cells): use shorter time bins or fewer requests per bin"
        )
    draws = clipped[..., K.CLIP_DRAWS].sum(axis=0)
    bins = clipped[..., K.CLIP_REQUESTS].sum(axis=0)
    if draws.any() or bins.any():
        parts = [f"{class_names[c]!r}: {int(draws[c]):,} draws, {int(bins[c]):,} bins"
                 for c in np.nonzero(draws + bins)[0]]
        warnings.warn(
            f"{n_trials} trials clipped draws at their limits (tokens per call {MAX_TOKENS_PER_CALL}, model "
            f"calls per query {MAX_STEPS}, tool calls per query {MAX_TOOL_CALLS}, requests per bin "
            f"{MAX_REQUESTS_PER_BIN}): {'; '.join(parts)}; see the result's clipped_draws",
            UserWarning, stacklevel=4,
        )
