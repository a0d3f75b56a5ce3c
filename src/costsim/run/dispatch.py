"""simulate: check the inputs once, then run here (prepare -> local) or on a Dask cluster (dask)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numba
import xarray as xr

from ..pricing.base import DeploymentOption
from ..traffic.traffic import Traffic
from .local import run_local
from .prepare import check_run, prepare, resolve_seed, warn_off_peak_inside_bins
from .progress import show_progress
from .sizing import (
    check_memory,
    check_result_fits,
    check_seconds,
    peak_bytes,
    result_bytes,
    run_seconds,
)

__all__ = ["simulate"]


def simulate(
    traffic: Traffic,
    options: Mapping[str, DeploymentOption],
    *,
    trials: int | Iterable[int] = 100,
    seed: int | None = None,
    hist_range: tuple[float, float] = (1e-7, 1e3),
    hist_bins_per_octave: int = 16,
    client: Any = None,
    trials_per_task: int | None = None,
    progress: bool | None = None,
    max_result_bytes: float | None = None,
    lazy: bool = False,
    max_seconds: float | None = None,
    max_memory_bytes: float | None = None,
) -> xr.Dataset:
    """Simulate the traffic and price every request under every option.

    Each trial draws the uncertain (distribution-valued) parameters once, then
    simulates every request of every time bin: its class, tokens, model calls and
    cache hits, priced under each option on the very same requests (common random
    numbers).  Nothing per request is stored: the result holds sums per (trial,
    bin, option, class) and a histogram of per-request cost per (trial, option,
    class).

    Parameters
    ----------
    traffic : Traffic
        Query classes and arrivals.
    options : mapping of str to DeploymentOption
        The deployment options to compare, by name: per-request models
        (:class:`~costsim.TokenPricing`, priced in the kernel), capacity models
        (:class:`~costsim.ProvisionedCapacity`, :class:`~costsim.SelfHostedGPU`,
        :class:`~costsim.CustomCapacity`, priced per bin from the demand) and
        compositions (:class:`~costsim.Hybrid`, :class:`~costsim.VolumeDiscount`,
        :class:`~costsim.CommittedSpend`).  All are priced on the same requests.
    trials : int or iterable of int, default 100
        Number of trials, or the explicit trial indices to run.  Trial ``i`` gives
        the same numbers whichever other trials run with it, so results of
        disjoint index sets concatenate into the result of their union.
    seed : int, optional
        Seed in ``[0, 2**63)``; None draws a fresh one (recorded in the result).
    hist_range : (float, float), default (1e-7, 1e3)
        USD range of the per-request cost histogram, widened to powers of two;
        costs outside fall in an underflow and an overflow bin.
    hist_bins_per_octave : int, default 16
        Log-spaced histogram resolution: a power of two from 1 to 256.
    client : distributed.Client or str, optional
        Run the trials on a Dask cluster (needs ``pip install 'costsim[dask]'``):
        a connected ``distributed.Client``, or the address of a running scheduler
        such as ``"tcp://scheduler:8786"`` (to point at an existing cluster, pass
        ``Client("tcp://scheduler:8786")`` or the address itself; a client made
        from an address is closed again).  The trials are split into chunks, one
        task each; the result is identical to the in-process one for the same
        seed, whatever the chunking and the number of workers.  A seed of None is
        drawn once, here.  Workers need the same costsim installed.
    trials_per_task : int, optional
        With ``client``: trials per task; by default about two tasks per worker
        thread.
    progress : bool, optional
        Show a progress bar (tqdm: a widget in Jupyter, text on stderr), counting
        trials (or tasks with ``client``).  None (default): shown when the run is
        estimated to take more than 5 s (see :func:`costsim.estimate`; with
        ``client``: any run) and output goes to a terminal or a Jupyter notebook.
        The numbers do not depend on it.
    max_result_bytes : float, optional
        Refuse (ValueError) a run whose result Dataset would be larger (see
        :func:`costsim.estimate`).  None (default): half of the memory available
        now, as psutil or /proc/meminfo report it.  ``math.inf`` turns the check off.
        Not checked with ``lazy``.
    lazy : bool, default False
        With ``client`` (a connected ``distributed.Client``): return a Dataset of
        dask arrays, one block per task, whose data stay on the workers until
        computed with the client as scheduler (``ds["cost"].sum("time").compute()``
        runs on the cluster), for results larger than this machine's memory.
    max_seconds : float, optional
        Refuse (ValueError) a run estimated to take longer, before any work (see
        :func:`costsim.estimate`).  None (default): 6 hours
        (:data:`costsim.run.sizing.MAX_SECONDS`); ``math.inf`` turns the check
        off.  Not checked with ``client``.
    max_memory_bytes : float, optional
        Refuse (ValueError) a run whose peak memory (the result, the kernel's
        working arrays, the lowered traffic) would be larger, before allocating
        them.  None (default): 80% of the memory available now; ``math.inf``
        turns the check off.  With ``client`` each task checks on its worker.

    Warns
    -----
    UserWarning
        When draws were clipped at their limits (tokens per call, model calls
        or tool calls per query, requests per bin; see :mod:`costsim._limits`):
        the result's ``clipped_draws`` counts them per trial and class.

    Notes
    -----
    Ctrl-C (KeyboardInterrupt) stops a run within a few milliseconds: the kernel
    runs in a worker thread and checks a stop flag between blocks of queries.

    Returns
    -------
    xarray.Dataset
        Dims ``trial``, ``time``, ``option``, ``qclass``, ``cost_bin``; see
        :mod:`costsim.results` for the variables.

    Examples
    --------
    >>> import costsim as cs
    >>> traffic = cs.Traffic(
    ...     [cs.QueryClass("chat", 1.0, cs.LogNormal(6.0, 1.0), cs.LogNormal(5.0, 0.8))],
    ...     cs.Arrivals(volume=1_000, horizon="2D", bin="1h"),
    ... )
    >>> ds = cs.simulate(traffic, {"api": cs.TokenPricing(input=3.0, output=15.0)}, trials=4, seed=1)
    >>> ds["cost"].dims
    ('trial', 'time', 'option', 'qclass')
    >>> int(ds["requests"].sum("time").isel(trial=0, qclass=0)) > 1_500
    True

    The same trials on an existing Dask cluster give the same Dataset:

    >>> from distributed import Client  # doctest: +SKIP
    >>> ds = cs.simulate(traffic, {"api": cs.TokenPricing(input=3.0, output=15.0)}, trials=4, seed=1,
    ...                  client=Client("tcp://scheduler:8786"))  # doctest: +SKIP
    """
    if client is None and trials_per_task is not None:
        raise ValueError(f"trials_per_task applies to runs on a Dask cluster: pass client=...; got {trials_per_task!r}")
    if client is None and lazy:
        raise ValueError("lazy=True applies to runs on a Dask cluster: pass client=...")
    spec = check_run(traffic, options, trials=trials, hist_range=hist_range, hist_bins_per_octave=hist_bins_per_octave)
    warn_off_peak_inside_bins(spec)
    if not lazy:  # the size checks come before any array of trials
        check_result_fits(result_bytes(spec), max_result_bytes)
    seed = resolve_seed(seed)
    if client is not None:
        from .dask import run_on_cluster

        return run_on_cluster(client, spec, seed, trials_per_task=trials_per_task, progress=progress, lazy=lazy,
                              max_memory_bytes=max_memory_bytes)
    threads = numba.get_num_threads()
    check_memory(peak_bytes(spec, threads), max_memory_bytes)
    prepared = prepare(spec, seed)
    seconds = run_seconds(prepared.queries, threads)
    check_seconds(seconds, threads, max_seconds)
    return run_local(prepared, show_progress=show_progress(progress, seconds), seconds=seconds)
