"""Progress and control of kernel runs: bars, chunks of trials, Ctrl-C, one run at a time.

Trial ``i`` gives the same numbers whichever other trials run with it, so the
kernel called on consecutive chunks of the trials (:func:`trial_chunks`), each
writing its slice of the outputs, gives a result bit-identical to one call over
all trials: a progress bar (tqdm) counts the chunks.  Without a bar the kernel
runs in one call.

Automatic progress (``progress=None``) is on when the run is estimated to take
more than :data:`AUTO_SECONDS` (:mod:`costsim.run.sizing`) and the output is
interactive: stderr is a terminal, or the code runs in a Jupyter kernel.
"""

from __future__ import annotations

import contextlib
import math
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from numba.core import event

__all__ = ["KERNEL_LOCK", "compile_notice", "interactive", "interruptible", "progress_bar", "show_progress",
           "trial_chunks"]

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
KERNEL_LOCK = threading.Lock()


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


TICK_SECONDS = 0.5
"""A shown bar is redrawn this often, updates or not: its clock keeps running
through a long step (the first call of a kernel compiles it, tens of seconds)."""


@contextlib.contextmanager
def progress_bar(show: bool, total: float, unit: str, **tqdm_kwargs: Any) -> Iterator[Callable[[float], Any]]:
    """A tqdm bar (tqdm.auto: a widget in Jupyter, text on stderr otherwise) as an
    ``update(n)`` function; a no-op when ``show`` is False.  The bar is redrawn every
    :data:`TICK_SECONDS`, so its elapsed time runs between updates."""
    if not show:
        yield lambda n: None
        return
    from tqdm.auto import tqdm

    with tqdm(total=total, unit=unit, desc="costsim", dynamic_ncols=True, **tqdm_kwargs) as bar, _ticking(bar):
        yield bar.update


@contextlib.contextmanager
def _ticking(bar: Any) -> Iterator[None]:
    """Redraw ``bar`` every :data:`TICK_SECONDS` from a helper thread until the block ends."""
    done = threading.Event()

    def tick() -> None:
        while not done.wait(TICK_SECONDS):
            bar.refresh()

    thread = threading.Thread(target=tick, name="costsim-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


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


COMPILE_SECONDS = 10
"""About how long the first compile of the kernel takes on the 2-core development
machine (``python benchmarks/bench_realistic.py --cold``); said in the notice."""


@contextlib.contextmanager
def compile_notice(kernel: Any, stream: Any = None) -> Iterator[None]:
    """Within the block, one line on ``stream`` (default stderr) while numba compiles
    ``kernel`` (a numba dispatcher): its first use with an empty or stale cache.
    Nothing when the kernel is already compiled or loads from numba's cache (numba
    raises its compile event only for a real compile).

    Examples
    --------
    >>> import io, numba
    >>> f = numba.njit(lambda x: x + 1)
    >>> out = io.StringIO()
    >>> with compile_notice(f, out):
    ...     _ = f(1)
    >>> out.getvalue().startswith("costsim: compiling the simulation kernel")
    True
    >>> with compile_notice(f, out):
    ...     _ = f(2)  # compiled already: no second line
    >>> out.getvalue().count("compiling")
    1
    """

    class Notice(event.Listener):
        started = 0.0

        def on_start(self, ev: event.Event) -> None:
            if ev.data["dispatcher"] is kernel:
                self.started = time.perf_counter()
                print(f"costsim: compiling the simulation kernel (first use here, about {COMPILE_SECONDS} s; later "
                      "runs load it from numba's cache)...", end="", file=stream or sys.stderr, flush=True)

        def on_end(self, ev: event.Event) -> None:
            if ev.data["dispatcher"] is kernel:
                print(f" done in {time.perf_counter() - self.started:.1f} s", file=stream or sys.stderr, flush=True)

    with event.install_listener("numba:compile", Notice()):
        yield
