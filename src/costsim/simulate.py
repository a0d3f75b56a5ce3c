"""simulate: validate -> draw trial parameters -> lower -> kernel -> xr.Dataset."""

from __future__ import annotations

import secrets
import warnings
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import numba
import numpy as np
import xarray as xr

from . import kernels as K
from ._estimate import (
    QUERIES_PER_THREAD_SECOND,
    check_memory,
    check_result_fits,
    check_seconds,
    expected_queries,
    n_trial_ids,
    peak_bytes,
    result_bytes,
)
from ._limits import MAX_REQUESTS_PER_BIN, MAX_STEPS, MAX_TOKENS_PER_CALL, MAX_TOOL_CALLS
from ._model import draw_uncertain, resolve, uncertain_parameters
from ._progress import run_chunked
from ._validation import ParameterError, check_int
from .pricing.base import DeploymentOption, PricingModel, lower_options
from .pricing.plan import bill_options, check_options, leaf_classes, leaf_models, leaf_paths, size_edges
from .pricing.token import STANDARD
from .results import CostHistogram, build_dataset, compose_histograms
from .traffic.query_class import DRAW_LIMITS
from .traffic.traffic import LoweredTraffic, Traffic

__all__ = ["simulate"]

MAX_SEED = 2**63 - 1


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
        (:data:`costsim._estimate.MAX_SECONDS`); ``math.inf`` turns the check
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
    traffic, options = _check_inputs(traffic, options)
    histogram = CostHistogram.from_range(hist_range, hist_bins_per_octave)
    n_trials = n_trial_ids(trials)  # the size checks come before any array of trials
    threads = numba.get_num_threads()
    if not lazy:
        check_result_fits(result_bytes(traffic, options, n_trials, histogram.n_bins), max_result_bytes)
    if client is not None:
        from ._dask import simulate_dask

        return simulate_dask(client, traffic, options, trials=trials, seed=seed, trials_per_task=trials_per_task,
                             progress=progress, lazy=lazy, hist_range=hist_range,
                             hist_bins_per_octave=hist_bins_per_octave, max_memory_bytes=max_memory_bytes)
    check_memory(peak_bytes(traffic, options, n_trials, histogram.n_bins, threads), max_memory_bytes)
    trial_ids = _trial_ids(trials)
    seed = secrets.randbelow(MAX_SEED + 1) if seed is None else check_int("seed", seed, low=0, high=MAX_SEED)

    uncertain = {**uncertain_parameters(traffic, "traffic"), **uncertain_parameters(options, "options")}
    draws = draw_uncertain(uncertain, seed, trial_ids)
    lowered = _lower_trials(traffic, options, draws, trial_ids, seed)
    lt = lowered.traffic
    queries = expected_queries(lt.rate, n_trials)
    check_seconds(queries / (QUERIES_PER_THREAD_SECOND * threads), threads, max_seconds)

    n_bins = traffic.arrivals.n_bins
    leaves = dict(zip(leaf_paths(options), leaf_models(options)))
    n_classes, n_leaves = len(traffic.classes), len(leaves)
    opt_card, opt_card_off_peak, off_peak = _rate_cards(traffic, leaves, leaf_classes(options, traffic.class_names))
    edges = size_edges(options)

    def kernel(s: slice, n_parts: int, stop: np.ndarray, counts: np.ndarray, cost: np.ndarray, hist: np.ndarray,
               clipped: np.ndarray) -> None:
        def rows(a: np.ndarray) -> np.ndarray:  # the trials s of a per-trial input (leading axis T or 1)
            return a[s] if a.shape[0] == n_trials > 1 else a

        K.simulate_kernel(
            np.uint64(seed), trial_ids[s], n_parts,
            rows(lt.rate), rows(lt.burst_shape), lt.class_key, lt.class_dists, lt.class_flags, rows(lt.class_copula),
            lt.dist_kind, lt.dist_off, rows(lt.dist_par), lt.dist_data,
            lowered.opt_kind, rows(lowered.opt_par), opt_card, opt_card_off_peak, off_peak,
            histogram.lo_exp, histogram.octaves, histogram.log2_per_octave, edges,
            DRAW_LIMITS, float(MAX_REQUESTS_PER_BIN), stop,
            counts, cost, hist, clipped,
        )

    counts, cost, hist, clipped = run_chunked(kernel, n_trials=n_trials, n_bins=n_bins, n_classes=n_classes,
                                              n_bands=edges.shape[0] + 1, n_leaves=n_leaves,
                                              n_hist=histogram.n_bins, queries=queries, progress=progress)
    _check_clipped(clipped, traffic.class_names, trial_ids)
    bills = bill_options(lowered.options, traffic.class_names, cost, counts, traffic.arrivals.bin_starts(),
                         traffic.arrivals.bin_width)
    return build_dataset(
        traffic=traffic,
        options=options,
        trial_ids=trial_ids,
        seed=seed,
        counts=counts.sum(axis=3),
        bills=bills,
        hist=compose_histograms(hist, bills.hist_leaf),
        histogram=histogram,
        draws=draws,
        clipped=clipped[..., K.CLIP_DRAWS] + clipped[..., K.CLIP_REQUESTS],
    )


def _check_clipped(clipped: np.ndarray, class_names: tuple[str, ...], trial_ids: np.ndarray) -> None:
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
            f"{len(trial_ids)} trials clipped draws at their limits (tokens per call {MAX_TOKENS_PER_CALL}, model "
            f"calls per query {MAX_STEPS}, tool calls per query {MAX_TOOL_CALLS}, requests per bin "
            f"{MAX_REQUESTS_PER_BIN}): {'; '.join(parts)}; see the result's clipped_draws",
            UserWarning, stacklevel=3,
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


class _Lowered(NamedTuple):
    traffic: LoweredTraffic  # per-trial fields carry a leading trial axis (length T or 1)
    opt_kind: np.ndarray  # the per-request leaves of the options (see pricing.plan)
    opt_par: np.ndarray
    options: list[dict[str, Any]]  # the options with each trial's draws (length T or 1)


def _check_inputs(traffic: Any, options: Any) -> tuple[Traffic, dict[str, DeploymentOption]]:
    if not isinstance(traffic, Traffic):
        raise TypeError(f"traffic must be a costsim.Traffic; got {type(traffic).__name__}")
    if not isinstance(options, Mapping) or not options:
        raise TypeError(f"options must be a non-empty mapping of name -> pricing model; got {options!r}")
    for name, model in options.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"options: every name must be a non-empty string; got {name!r}")
        if not isinstance(model, DeploymentOption):
            raise TypeError(f"options[{name!r}] must be a costsim pricing option; got {type(model).__name__}")
    check_options(options, traffic.class_names)
    return traffic, dict(options)


def _trial_ids(trials: Any) -> np.ndarray:
    if isinstance(trials, (int, np.integer)) and not isinstance(trials, bool):
        return np.arange(check_int("trials", trials, low=1), dtype=np.int64)
    try:
        ids = [check_int(f"trials[{i}]", t, low=0, high=MAX_SEED) for i, t in enumerate(trials)]
    except TypeError:
        raise TypeError(f"trials must be an int or an iterable of trial indices; got {trials!r}") from None
    if not ids:
        raise ParameterError("trials", "must not be empty", trials)
    if len(set(ids)) != len(ids):
        raise ParameterError("trials", "must not repeat a trial index", trials)
    return np.asarray(ids, dtype=np.int64)


def _check_layout(lowered: list[LoweredTraffic], trial_ids: np.ndarray) -> None:
    """Every trial's traffic must lower to the same table layout: the kernel reads
    one layout (kinds, offsets, rows, data) with each trial's parameter values."""
    first = lowered[0]
    for lt, trial in zip(lowered[1:], trial_ids[1:]):
        same = (
            lt.dist_par.shape == first.dist_par.shape
            and lt.rate.shape == first.rate.shape
            and all(np.array_equal(getattr(lt, name), getattr(first, name))
                    for name in ("dist_kind", "dist_off", "dist_data", "class_dists", "class_flags", "class_key"))
        )
        if not same:
            raise _layout_error("traffic", trial, trial_ids[0])


def _layout_error(what: str, trial: int, first: int) -> ValueError:
    return ValueError(
        f"trial {trial}: the {what} lowers to another table layout than trial {first}'s (an uncertain parameter "
        "changed the structure of a distribution or an option, not only its values); please report this"
    )


def _lower_trials(
    traffic: Traffic, options: dict[str, PricingModel], draws: dict[str, np.ndarray], trial_ids: np.ndarray,
    seed: int,
) -> _Lowered:
    """Lower traffic and options for every trial; a part without uncertainty or random
    modulation (which draws from ``seed`` and the trial id) only once."""

    def per_trial(obj: Any, prefix: str) -> list[Any]:
        paths = [p for p in draws if p.startswith(prefix)]
        if not paths:
            return [obj]
        resolved = []
        for i, trial in enumerate(trial_ids):
            values = {p: float(draws[p][i]) for p in paths}
            try:
                resolved.append(resolve(obj, values, prefix))
            except ParameterError as err:
                drawn = ", ".join(f"{p}={v:g}" for p, v in values.items())
                raise ValueError(
                    f"trial {trial}: the uncertain parameters drew values that break a rule "
                    f"({drawn}): {err}"
                ) from None
        return resolved

    traffics = per_trial(traffic, "traffic")
    if traffic.random:
        traffics = traffics * len(trial_ids) if len(traffics) == 1 else traffics
        lowered = [t._lower(seed, int(g)) for t, g in zip(traffics, trial_ids)]
    else:
        lowered = [t._lower() for t in traffics]
    _check_layout(lowered, trial_ids)
    lowered_traffic = lowered[0]._replace(
        rate=np.stack([lt.rate for lt in lowered]),
        burst_shape=np.array([lt.burst_shape for lt in lowered]),
        dist_par=np.stack([lt.dist_par for lt in lowered]),
        class_copula=np.stack([lt.class_copula for lt in lowered]),
    )
    resolved_options = per_trial(options, "options")
    lowered_opts = [lower_options(leaf_models(o)) for o in resolved_options]
    for (kind, par), trial in zip(lowered_opts, trial_ids):
        if not (np.array_equal(kind, lowered_opts[0][0]) and par.shape == lowered_opts[0][1].shape):
            raise _layout_error("options", trial, trial_ids[0])
    return _Lowered(lowered_traffic, lowered_opts[0][0], np.stack([p for _, p in lowered_opts]), resolved_options)
