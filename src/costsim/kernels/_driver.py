"""The fused kernel's entry point: the compiled work items run from a pool of threads.

The compiled :func:`._engine.simulate_items` is serial and releases the GIL, so
plain Python threads run its work items in parallel.  A ``parallel=True`` kernel
with ``prange`` would do the same work, but numba's parfor passes more than double
the first compile (about 6 of 16 CPU seconds measured for the whole kernel); the
threads cost a few microseconds per chunk of items instead.
"""

from __future__ import annotations

import itertools
import threading

import numba
import numpy as np

from ._engine import HistogramSpec, Limits, Outputs, PricingArrays, TrafficArrays, simulate_items

CHUNKS_PER_THREAD = 4
"""Work items are handed out in about this many chunks per thread, the next chunk
to the first thread free, so a slow trial does not leave the other threads idle."""


def simulate_kernel(
    seed: np.uint64,
    trials: np.ndarray,
    n_parts: int,
    traffic: TrafficArrays,
    pricing: PricingArrays,
    histogram: HistogramSpec,
    limits: Limits,
    stop: np.ndarray,
    out: Outputs,
    threads: int | None = None,
) -> None:
    """Simulate and price every request of every (trial, bin, class); fill ``out``.

    ``seed`` uint64; ``trials`` int64[T] the global ids of the call's trials;
    ``traffic`` :class:`TrafficArrays`, ``pricing`` :class:`PricingArrays`,
    ``histogram`` :class:`HistogramSpec`, ``limits`` :class:`Limits`, ``out``
    :class:`Outputs` (see each for the shapes: T trials, B bins, C classes, O
    per-request models, K = E + 1 prompt-size bands: band k holds the queries
    whose first prompt strictly exceeds k of the size edges).  ``stop`` uint8[1]:
    when another thread sets it non-zero, work items stop at their next block of
    queries and the outputs are incomplete (an interrupted run).  The caller sums
    ``out.hist`` and ``out.clipped`` over the parts (integer sums are exact in any
    order); ``clipped`` counts draws clipped at their limit (CLIP_DRAWS), bins
    whose expected requests were (CLIP_REQUESTS), and count cells saturated at the
    int64 maximum (CLIP_SUMS: those counts are wrong, the caller must refuse them).
    ``threads``: how many threads run the work items (None: numba's thread count,
    ``numba.get_num_threads()``, of the calling thread).

    Streams of (trial g, bin b, class c): the count from keys
    ``(seed, g, stream_id(b, COUNT_SLOT), class_key[c])``, and each CLS_* column
    its own stream ``(seed, g, stream_id(b, column), class_key[c])`` (and, for a
    mixture, its picks from ``(..., class_key[c] ^ PICK_STREAM)``) consumed in
    order: per-query columns once per query, output and reasoning once per call,
    tool tokens once per call but the last.  Work item (t, p) covers the bins of
    part p of ``n_parts`` and writes only its own cells, so the result is
    identical for any thread count.
    """
    n_items = trials.shape[0] * n_parts
    threads = max(1, min(numba.get_num_threads() if threads is None else threads, n_items))
    args = (seed, trials, n_parts, traffic, pricing, histogram, limits, stop, out)
    if threads == 1:
        simulate_items(*args, 0, n_items)
        return
    n_chunks = min(n_items, CHUNKS_PER_THREAD * threads)
    bounds = [n_items * k // n_chunks for k in range(n_chunks + 1)]
    next_chunk = itertools.count()  # next() on a count is atomic under the GIL
    failures: list[BaseException] = []

    def work() -> None:
        try:
            for k in iter(next_chunk.__next__, None):
                if k >= n_chunks or failures:
                    return
                simulate_items(*args, bounds[k], bounds[k + 1])
        except BaseException as err:  # re-raised in the calling thread
            failures.append(err)

    pool = [threading.Thread(target=work, name=f"costsim-kernel-{i}", daemon=True) for i in range(threads - 1)]
    for thread in pool:
        thread.start()
    work()  # this thread works too
    for thread in pool:
        thread.join()
    if failures:
        raise failures[0]
