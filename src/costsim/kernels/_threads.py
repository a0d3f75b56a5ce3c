"""The fused kernel run on threads: ranges of work items of the compiled, serial
:func:`~costsim.kernels._engine.simulate_items`, which releases the GIL.

Not ``parallel=True``: numba's parfor passes more than doubled the first compile
of the engine (docs/kernel.md, "Compile time"), and a work item writes only its
own output cells, so the split of the items over threads changes no number.
"""

from __future__ import annotations

import itertools
import threading

import numba
import numpy as np

from ._engine import (
    CAPPED,
    COMMON_KINDS,
    COPULA_RHO,
    LOGNORMAL,
    MIXTURE,
    HistogramSpec,
    Limits,
    Outputs,
    PricingArrays,
    TrafficArrays,
    simulate_items,
)

ITEMS_PER_THREAD = 8
"""About how many ranges of work items each thread takes, one at a time: a thread
that finishes early takes the next range (balance), and one call per range keeps
the cost of entering compiled code (tens of microseconds) negligible."""


def simulate_kernel(seed: np.uint64, trials: np.ndarray, n_parts: int, traffic: TrafficArrays,
                    pricing: PricingArrays, histogram: HistogramSpec, limits: Limits, stop: np.ndarray,
                    out: Outputs) -> None:
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

    Streams of (trial g, bin b, class c): the count from keys
    ``(seed, g, stream_id(b, COUNT_SLOT), class_key[c])``, and each CLS_* column
    its own stream ``(seed, g, stream_id(b, column), class_key[c])`` (and, for a
    mixture, its picks from ``(..., class_key[c] ^ PICK_STREAM)``) consumed in
    order: per-query columns once per query, output and reasoning once per call,
    tool tokens once per call but the last.  Queries are processed in blocks of
    BLOCK, each stream filling a buffer for the block; values do not depend on it.

    Work item ``(t, p)`` covers the bins of part ``p`` of ``n_parts`` of trial
    ``t`` and writes only its own cells; ``numba.get_num_threads()`` threads take
    ranges of items until none is left, so the result is identical for any
    thread count.  The compiled code is specialised to what the traffic uses
    (:func:`compiled_features`).
    """
    copula, general, trees = compiled_features(traffic)
    n_items = trials.shape[0] * n_parts
    threads = min(numba.get_num_threads(), n_items)
    if threads <= 1:
        simulate_items(seed, trials, n_parts, 0, n_items, traffic, pricing, histogram, limits, stop, out, copula,
                       general, trees)
        return
    size = max(1, n_items // (threads * ITEMS_PER_THREAD))
    starts = itertools.count(0, size)  # next() is atomic under the GIL: each range goes to one thread
    failures: list[BaseException] = []

    def work() -> None:
        try:
            for first in starts:
                if first >= n_items or failures:
                    return
                simulate_items(seed, trials, n_parts, first, min(first + size, n_items), traffic, pricing,
                               histogram, limits, stop, out, copula, general, trees)
        except BaseException as err:  # noqa: BLE001 (re-raised by the calling thread)
            failures.append(err)

    workers = [threading.Thread(target=work, name=f"costsim-kernel-{i}", daemon=True) for i in range(threads - 1)]
    for worker in workers:
        worker.start()
    work()  # the calling thread takes ranges too
    for worker in workers:
        worker.join()
    if failures:
        raise failures[0]


def compiled_features(traffic: TrafficArrays) -> tuple[bool | None, bool | None, bool | None]:
    """The ``copula``, ``general`` and ``trees`` arguments of :func:`simulate_items`
    for ``traffic``: None where the traffic does not need the code (no class with
    a copula; only :data:`COMMON_KINDS` of distributions; no mixture but of
    lognormals under caps), so that its first run compiles only what it uses;
    True where it does.

    Examples
    --------
    >>> import numpy as np
    >>> from costsim.kernels import GAMMA, LOGNORMAL, MIXTURE, UNIFORM, TrafficArrays
    >>> simple = TrafficArrays(*[np.zeros((1, 1, 3))] * 10)._replace(dist_kind=np.array([LOGNORMAL]))
    >>> compiled_features(simple)
    (None, None, None)
    >>> compiled_features(simple._replace(dist_kind=np.array([LOGNORMAL, GAMMA])))
    (None, True, None)
    >>> mixture = simple._replace(dist_kind=np.array([LOGNORMAL, UNIFORM, MIXTURE]), dist_off=np.array([0, 2, 4]),
    ...                           dist_par=np.array([[6.0, 1.0, 0.0, 1.0, 2.0, 0.5, 1.0, 0.0, 1.0]]))
    >>> compiled_features(mixture)  # of a lognormal (row 0) and a uniform (row 1)
    (None, True, True)
    """
    copula = True if np.any(traffic.class_copula[..., COPULA_RHO] != 0.0) else None
    general = None if np.isin(traffic.dist_kind, COMMON_KINDS).all() else True
    trees = True if general and not _lognormal_mixtures_only(traffic) else None
    return copula, general, trees


def _lognormal_mixtures_only(traffic: TrafficArrays) -> bool:
    """Whether every mixture of ``traffic`` is of lognormals under caps (the rows a
    mixture points at are the same in every trial)."""
    kind, off, par = traffic.dist_kind, traffic.dist_off, traffic.dist_par[0]
    for row in np.flatnonzero(kind == MIXTURE):
        n = int(par[off[row]])
        for child in par[off[row] + 1 + n:off[row] + 1 + 2 * n].astype(np.int64):
            while kind[child] == CAPPED:
                child = int(par[off[child] + 1])
            if kind[child] != LOGNORMAL:
                return False
    return True
