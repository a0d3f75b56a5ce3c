"""Run :func:`costsim.simulate` on a Dask cluster (dask.distributed).

Trial ``i`` gives the same numbers whichever other trials run with it (every random
number is a pure function of the seed, the trial and a stream key), so a cluster run
is: split the trial indices into disjoint chunks, run each chunk as one task (the
local runner: :func:`~costsim.run.prepare.prepare` then
:func:`~costsim.run.local.run_local`, on the worker), gather the chunks and
concatenate them along ``trial`` in the original order.  The result is bit-identical to the in-process run with the same seed,
whatever the chunking and the number of workers.

Dask is optional: this module imports ``distributed`` only when called.  Workers
need the same costsim (and numba) installed; each worker process compiles the
kernel on first use or loads numba's on-disk cache.
"""

from __future__ import annotations

import dataclasses
import math
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import numba
import numpy as np
import xarray as xr

from .._validation import check_int
from .._version import __version__
from ..codec import scenario_json
from ..pricing.base import DeploymentOption
from ..results import SCENARIO_ATTR
from ..traffic.traffic import Traffic
from .local import run_local
from .prepare import (
    RunSpec,
    check_run,
    prepare,
    resolve_seed,
    trial_ids,
    warn_off_peak_inside_bins,
)
from .progress import progress_bar, show_progress
from .sizing import check_memory, peak_bytes

__all__ = ["connect", "run_on_cluster", "simulate_dask"]


def simulate_dask(
    client: Any,
    traffic: Traffic,
    options: Mapping[str, DeploymentOption],
    *,
    trials: int | Iterable[int] = 100,
    seed: int | None = None,
    trials_per_task: int | None = None,
    connect_timeout: float | None = None,
    progress: bool | None = None,
    lazy: bool = False,
    **kwargs: Any,
) -> xr.Dataset:
    """:func:`costsim.simulate` with the trials spread over a Dask cluster.

    The result is identical (values, dtypes, coordinates and attrs) to
    ``simulate(traffic, options, trials=trials, seed=seed, **kwargs)`` run in
    this process, whatever ``trials_per_task`` and the number of workers.

    Parameters
    ----------
    client : distributed.Client or str
        A connected client, or the address of a running scheduler
        (``"tcp://scheduler:8786"``); a client made from an address is closed
        before returning.
    traffic : Traffic
        Query classes and arrivals (sent to the workers once).
    options : mapping of str to PricingModel
        The deployment options to compare, by name (sent to the workers once).
    trials : int or iterable of int, default 100
        Number of trials, or the explicit trial indices to run.
    seed : int, optional
        Seed in ``[0, 2**63)``; None draws one fresh seed here, in the client
        process, for all tasks (recorded in the result).
    trials_per_task : int, optional
        Trials per task; by default the trials are split into about two tasks
        per worker thread of the cluster.
    connect_timeout : float, optional
        Seconds to wait for the scheduler when ``client`` is an address; by
        default Dask's ``distributed.comm.timeouts.connect`` setting.
    progress : bool, optional
        Show a progress bar over the tasks as they finish; None (default): when
        output goes to a terminal or a Jupyter notebook.  Not with ``lazy``.
    lazy : bool, default False
        Return as soon as the first task is done: a Dataset of dask arrays, one
        block per task, whose data stay on the workers until computed with the
        client as scheduler (the default for the latest ``Client`` made, or
        ``ds.compute(scheduler=client)``); a reduction such as
        ``ds["cost"].sum("time").compute()`` runs on the cluster.  For results
        larger than this machine's memory; needs a connected ``client`` (the data
        live as long as the Dataset and the client).
    **kwargs
        Further keywords of :func:`costsim.simulate` (``hist_range``,
        ``hist_bins_per_octave``).

    Returns
    -------
    xarray.Dataset
        As :func:`costsim.simulate`.

    Raises
    ------
    ConnectionError
        ``client`` is an address and no scheduler answered there in time.

    Examples
    --------
    >>> import pytest; distributed = pytest.importorskip("distributed")
    >>> import xarray as xr
    >>> import costsim as cs
    >>> from costsim.run.dask import simulate_dask
    >>> traffic = cs.Traffic(
    ...     [cs.QueryClass("chat", 1.0, cs.LogNormal(6.0, 1.0), cs.LogNormal(5.0, 0.8))],
    ...     cs.Arrivals(volume=1_000, horizon="2D", bin="1h"),
    ... )
    >>> options = {"api": cs.TokenPricing(input=3.0, output=15.0)}
    >>> with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
    ...                               dashboard_address=None) as cluster, distributed.Client(cluster) as client:
    ...     ds = simulate_dask(client, traffic, options, trials=5, seed=1, trials_per_task=2)
    >>> xr.testing.assert_identical(ds, cs.simulate(traffic, options, trials=5, seed=1))
    """
    spec = check_run(traffic, options, trials=trials, **kwargs)
    warn_off_peak_inside_bins(spec)
    return run_on_cluster(client, spec, resolve_seed(seed), trials_per_task=trials_per_task,
                          connect_timeout=connect_timeout, progress=progress, lazy=lazy)


def run_on_cluster(
    client: Any,
    spec: RunSpec,
    seed: int,
    *,
    trials_per_task: int | None = None,
    connect_timeout: float | None = None,
    progress: bool | None = None,
    lazy: bool = False,
    max_memory_bytes: float | None = None,
) -> xr.Dataset:
    """Run the checked ``spec`` with ``seed`` on the cluster of ``client`` (see
    :func:`simulate_dask`).  ``max_memory_bytes`` is checked by each task on its worker."""
    if trials_per_task is not None:
        trials_per_task = check_int("trials_per_task", trials_per_task, low=1)
    if lazy and progress:
        raise ValueError("progress=True does not apply to lazy=True: the tasks run after simulate returns")

    from distributed import Client

    run = (spec, seed, trials_per_task, progress, lazy, max_memory_bytes)
    if isinstance(client, Client):
        return _run(client, *run)
    if isinstance(client, str) and lazy:
        raise TypeError("lazy=True needs a connected distributed.Client (the data stay on its cluster); "
                        f"got the address {client!r}")
    if isinstance(client, str):
        with connect(client, connect_timeout) as owned:
            return _run(owned, *run)
    raise TypeError(
        f"client must be a distributed.Client or a scheduler address such as 'tcp://scheduler:8786'; "
        f"got {type(client).__name__}"
    )


def connect(address: str, timeout: float | None) -> Any:
    """A client of the scheduler at ``address``; ConnectionError naming it when none answers
    within ``timeout`` seconds (None: Dask's ``distributed.comm.timeouts.connect``)."""
    import dask.config
    from dask.utils import parse_timedelta
    from distributed import Client

    if timeout is None:
        timeout = parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"), default="seconds")
    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as err:
        raise ConnectionError(
            f"client: no Dask scheduler answered at {address!r} within {timeout:g} s ({err})"
        ) from err


def _chunks(client: Any, trial_ids: np.ndarray, trials_per_task: int | None) -> list[np.ndarray]:
    n = trial_ids.shape[0]
    if trials_per_task is None:
        n_threads = sum(client.nthreads().values()) or 1
        return [c for c in np.array_split(trial_ids, min(n, 2 * n_threads))]
    return [trial_ids[i : i + trials_per_task] for i in range(0, n, trials_per_task)]


def _run_chunk(spec: RunSpec, trial_ids: list[int], seed: int, max_memory_bytes: float | None) -> xr.Dataset:
    """The task: one chunk of trials, run on a worker by the local runner (serialised
    there by the kernel lock; the client shows the progress).  The memory check is
    the worker's; the client chose to run on the cluster, so no time limit."""
    chunk = dataclasses.replace(spec, trials=tuple(trial_ids), n_trials=len(trial_ids))
    check_memory(peak_bytes(chunk, numba.get_num_threads()), max_memory_bytes)
    return run_local(prepare(chunk, seed))


def _run(
    client: Any,
    spec: RunSpec,
    seed: int,
    trials_per_task: int | None,
    progress: bool | None,
    lazy: bool,
    max_memory_bytes: float | None,
) -> xr.Dataset:
    traffic, options = spec.traffic, spec.options
    chunks = _chunks(client, trial_ids(spec.trials), trials_per_task)
    spec_f = client.scatter(spec, hash=False)
    name = f"costsim-simulate-{uuid.uuid4().hex[:8]}"
    futures = [
        client.submit(_run_chunk, spec_f, chunk.tolist(), seed, max_memory_bytes, key=f"{name}-{i}")
        for i, chunk in enumerate(chunks)
    ]
    if lazy:
        template = client.submit(_empty_like, futures[0]).result()
        _check_versions([template.attrs])
        return _lazy_dataset(client, futures, chunks, template, _trial_attrs(template, traffic, options, seed, chunks))
    from distributed import as_completed

    show = show_progress(progress, math.inf)  # a cluster run counts as long: a bar when output is interactive
    try:
        with progress_bar(show, len(futures), "task") as update:
            for _ in as_completed(futures, loop=client.loop):
                update(1)
        parts = client.gather(futures)
    finally:
        client.cancel([*futures, spec_f])

    _check_versions([p.attrs for p in parts])
    ds = xr.concat(
        parts, dim="trial", data_vars="minimal", coords="minimal", compat="override", join="exact",
        combine_attrs="override",
    )
    ds["trial"].attrs = _trial_attrs(parts[0], traffic, options, seed, chunks)
    return ds


def _check_versions(parts_attrs: list[dict[str, Any]]) -> None:
    """Refuses workers running another costsim (the chunks' attrs name theirs)."""
    versions = {a.get("costsim_version") for a in parts_attrs}
    if versions != {__version__}:
        raise RuntimeError(
            f"the Dask workers run costsim {sorted(map(str, versions))} but this process runs {__version__}: "
            "install the same costsim on the client and every worker"
        )


def _trial_attrs(
    first: xr.Dataset, traffic: Traffic, options: dict, seed: int, chunks: list[np.ndarray]
) -> dict[str, Any]:
    """The whole run's trial-coordinate attrs from the first chunk's: its scenario names
    the chunk's trials, so the whole run's is rebuilt the way results.build_dataset
    builds it (every other attr is the same for any chunk)."""
    attrs = first["trial"].attrs
    if attrs[SCENARIO_ATTR] != scenario_json(traffic, options, seed=seed, trials=chunks[0].tolist()):
        raise RuntimeError(  # pragma: no cover - guards against results.build_dataset changing alone
            "costsim.run.dask no longer rebuilds the 'scenario' attr the way run.local does"
        )
    trials = np.concatenate(chunks).tolist()
    return {**attrs, SCENARIO_ATTR: scenario_json(traffic, options, seed=seed, trials=trials)}


def _lazy_dataset(
    client: Any, futures: list[Any], chunks: list[np.ndarray], template: xr.Dataset, trial_attrs: dict[str, Any]
) -> xr.Dataset:
    """A Dataset of dask arrays, one block per task, over the chunk Datasets the
    workers hold (the futures stay alive as long as the Dataset)."""
    import dask
    import dask.array as da

    data_vars = {}
    for name, var in template.data_vars.items():
        blocks = [
            da.from_delayed(dask.delayed(client.submit(_values, part, name)), shape=(chunk.shape[0], *var.shape[1:]),
                            dtype=var.dtype, name=False)
            for part, chunk in zip(futures, chunks)
        ]
        data_vars[name] = (var.dims, da.concatenate(blocks, axis=0), var.attrs)
    trial = ("trial", np.concatenate(chunks), trial_attrs)
    coords = {**{k: v for k, v in template.coords.items() if k != "trial"}, "trial": trial}
    return xr.Dataset(data_vars, coords=coords, attrs=template.attrs)


def _empty_like(part: xr.Dataset) -> xr.Dataset:
    """The task reading a chunk's layout (no trials: coords, dtypes, attrs) on its worker."""
    return part.isel(trial=slice(0, 0))


def _values(part: xr.Dataset, name: str) -> np.ndarray:
    """The task reading one variable of a chunk on its worker."""
    return part[name].values
