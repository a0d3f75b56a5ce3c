"""Run the kernel over chunks of trials, with a progress bar (tqdm) on long runs.

Trial ``i`` gives the same numbers whichever other trials run with it, so the
kernel called on consecutive chunks of the trials, each writing its slice of the
outputs, gives a result bit-identical to one call over all trials.  Without a
progress bar the kernel runs in one call.

Automatic progress (``progress=None``) is on when the run is estimated to take
more than :data:`AUTO_SECONDS` (:mod:`costsim._estimate`) and the output is
interactive: stderr is a terminal, or the code runs in a Jupyter kernel.
"""

from __future__ import annotations

import contextlib
import math
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numba
import numpy as np

from . import kernels as K
from ._estimate import QUERIES_PER_THREAD_SECOND

__all__ = ["interactive", "interruptible", "progress_bar", "run_chunked", "show_progress", "trial_chunks"]

AUTO_SECONDS = 5.0
"""``progress=None`` shows a bar for runs estimated to take longer than this."""

MAX_UPDATES = 100
"""At most this many kernel calls (and bar updates) per run."""

CHUNK_SECONDS = 1.0
"""Estimated work per kernel call when chunked: each call ends with the threads
waiting for the slowest; chunks of 4 trials (0.1 s each) cost 5% more CPU time
than one call, chunks of 1 s about 1% (2 threads, demo scenario)."""

# One kernel run at a time per process: the kernel is parallel already (numba threads),
# and numba's "workqueue" threading layer aborts the process when two Python threads
# enter a parallel kernel at once (a planning tool calling simulate from several
# threads, a Dask worker with threads_per_worker > 1).
_KERNEL_LOCK = threading.Lock()


def interactive() -> bool:
    """Whether output reaches a person: a Jupyter kernel, or stderr is a terminal."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    if type(shell).__name__ == "ZMQInteractiveShell":
        return True
    return sys.stderr is not None and sys.stderr.isatty()


def show_progress(progress: bool | None, seconds: float) -> bool:
    """Resolve ``progress``: True/False as given; None: on for a run of more than
    :data:`AUTO_SECONDS` (estimated) with interactive output."""
    if progress is None:
        return seconds > AUTO_SECONDS and interactive()
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be True, False or None (automatic); got {progress!r}")
    return bool(progress)


@contextlib.contextmanager
def progress_bar(show: bool, total: int, unit: str) -> Iterator[Callable[[int], Any]]:
    """A tqdm bar (tqdm.auto: a widget in Jupyter, text on stderr otherwise) as an
    ``update(n)`` function; a no-op when ``show`` is False."""
    if not show:
        yield lambda n: None
        return
    from tqdm.auto import tqdm

    with tqdm(total=total, unit=unit, desc="costsim", dynamic_ncols=True) as bar:
        yield bar.update


def trial_chunks(n_trials: int, threads: int, seconds: float | None) -> list[slice]:
    """Consecutive chunks of the trials, one kernel call each, for a run estimated
    to take ``seconds`` (None: not chunked, one call).  Chunks hold at least
    :data:`CHUNK_SECONDS` of work and ``2 * threads`` trials, the last one
    excepted (so that every thread keeps whole trials to work on: a chunk of fewer
    trials splits their bins into parts, which balances worse); at most
    :data:`MAX_UPDATES` chunks.

    Examples
    --------
    >>> [(s.start, s.stop) for s in trial_chunks(10, threads=2, seconds=100.0)]
    [(0, 4), (4, 8), (8, 10)]
    >>> len(trial_chunks(10_000, threads=2, seconds=100.0)), len(trial_chunks(10_000, threads=2, seconds=None))
    (100, 1)
    """
    if seconds is None:
        return [slice(0, n_trials)]
    per_chunk = math.ceil(n_trials * CHUNK_SECONDS / max(seconds, 1e-9))
    size = max(math.ceil(n_trials / MAX_UPDATES), 2 * threads, per_chunk)
    return [slice(i, min(i + size, n_trials)) for i in range(0, n_trials, size)]


def run_chunked(
    kernel: Callable[..., None],
    *,
    n_trials: int,
    n_bins: int,
    n_classes: int,
    n_bands: int,
    n_leaves: int,
    n_hist: int,
    queries: float,
    progress: bool | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fill the kernel's outputs for all trials, in chunks of trials when a progress
    bar shows (``progress``; ``queries`` expected over the run gives the time).

    ``kernel(s, n_parts, stop, counts, cost, hist, clipped)`` runs
    :func:`costsim.kernels.simulate_kernel` on the trials ``s`` (a slice) into
    those trials' output arrays.  Returns ``counts`` int64[T, B, C, K, N_COUNTS],
    ``cost`` float64[T, B, L, C, K], ``hist`` int64[T, L, C, H] and ``clipped``
    int64[T, C, N_CLIPS] (L per-request models, K prompt-size bands).  Ctrl-C
    stops the kernel within a block of queries (see :func:`interruptible`).
    """
    threads = numba.get_num_threads()
    seconds = queries / (QUERIES_PER_THREAD_SECOND * threads)
    show = show_progress(progress, seconds)
    counts = np.empty((n_trials, n_bins, n_classes, n_bands, K.N_COUNTS), dtype=np.int64)
    cost = np.empty((n_trials, n_bins, n_leaves, n_classes, n_bands))
    hist = np.empty((n_trials, n_leaves, n_classes, n_hist), dtype=np.int64)
    clipped = np.empty((n_trials, n_classes, K.N_CLIPS), dtype=np.int64)
    stop = np.zeros(1, dtype=np.uint8)
    with _KERNEL_LOCK, progress_bar(show, n_trials, "trial") as update:
        for s in trial_chunks(n_trials, threads, seconds if show else None):
            n = s.stop - s.start
            # parts of the bins, so that a few trials still give every thread work
            n_parts = max(1, min(n_bins, math.ceil(2 * threads / n)))
            parts = np.zeros((n, n_parts, n_leaves, n_classes, n_hist), dtype=np.int64)
            clip_parts = np.zeros((n, n_parts, n_classes, K.N_CLIPS), dtype=np.int64)
            interruptible(lambda: kernel(s, n_parts, stop, counts[s], cost[s], parts, clip_parts), stop)
            parts.sum(axis=1, out=hist[s])  # integer sums: exact in any order
            clip_parts.sum(axis=1, out=clipped[s])
            update(n)
    return counts, cost, hist, clipped


def interruptible(call: Callable[[], None], stop: np.ndarray) -> None:
    """Run ``call`` (a kernel that polls ``stop[0]``) in a worker thread and wait.

    A compiled kernel holds the interpreter until it returns, so a KeyboardInterrupt
    would wait for the whole run.  Here the kernel (``nogil``) runs in a thread
    while this one waits in short, interruptible joins; on Ctrl-C it sets
    ``stop[0]``, waits for the kernel to leave (it checks the flag between blocks
    of queries) and re-raises.  Exceptions of ``call`` are re-raised here.
    """
    failure: list[BaseException] = []

    def target() -> None:
        try:
            call()
        except BaseException as err:  # re-raised in the calling thread
            failure.append(err)

    worker = threading.Thread(target=target, name="costsim-kernel", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.05)
    except BaseException:
        stop[0] = 1
        worker.join()
        raise
    if failure:
        raise failure[0]
