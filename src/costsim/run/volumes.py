"""Volume sweeps: the same scenario simulated at several traffic volumes."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from ..results import SCENARIO_ATTR, scenario_text
from .dispatch import simulate
from .prepare import resolve_seed
from .progress import progress_bar, show_progress
from .sizing import estimate

__all__ = ["sweep"]


def sweep(
    traffic: Any,
    options: Mapping[str, Any],
    volume: Sequence[float],
    *,
    trials: int = 100,
    seed: int | None = None,
    client: Any = None,
    progress: bool | None = None,
    **simulate_kwargs: Any,
) -> xr.Dataset:
    """Simulate the same scenario at several traffic volumes.

    Every volume runs with the same seed and trials (common random numbers): a
    trial draws the same uncertain parameters at every volume, so differences
    between volumes are due to volume, and cost curves and break-even points are
    sharp.

    Parameters
    ----------
    traffic : Traffic
        The scenario; its ``arrivals.volume`` is replaced by each value of ``volume``.
    options : mapping of str to pricing model
        As in :func:`costsim.simulate`.
    volume : sequence of float
        Queries per day (the unit of ``Arrivals.volume``), > 0, strictly increasing.
    trials, seed, client, **simulate_kwargs
        Passed to :func:`costsim.simulate`.  A seed of None is drawn once, so all
        volumes share it.
    progress : bool or None, default None
        One progress bar for the whole sweep, counting the expected queries of
        the volumes done (None: for a sweep estimated to take more than a few
        seconds, when a person reads the output; see :func:`costsim.simulate`).

    Returns
    -------
    xarray.Dataset
        The :func:`costsim.simulate` Datasets stacked on a leading ``volume`` dim.

    Examples
    --------
    >>> import costsim as cs
    >>> traffic = cs.Traffic([cs.QueryClass("chat", 1.0, cs.LogNormal(6.0, 1.0), cs.LogNormal(5.0, 0.8))],
    ...                      cs.Arrivals(volume=1.0, horizon="1D", bin="6h"))
    >>> sw = cs.sweep(traffic, {"api": cs.TokenPricing(input=3.0, output=15.0)}, [100, 1_000], trials=2, seed=1)
    >>> sw["cost"].dims
    ('volume', 'trial', 'time', 'option', 'qclass')
    """
    grid = np.asarray(volume, dtype=float).ravel()
    if grid.size == 0 or not np.all(np.isfinite(grid)) or np.any(grid <= 0) or np.any(np.diff(grid) <= 0):
        raise ValueError(f"volume must be a non-empty, strictly increasing sequence of numbers > 0; got {volume!r}")
    seed = resolve_seed(seed)  # drawn once: every volume shares it
    scaled = [dataclasses.replace(traffic, arrivals=dataclasses.replace(traffic.arrivals, volume=float(v)))
              for v in grid]
    # expected queries (and time) are proportional to the volume: one estimate sizes every run
    first = None if isinstance(progress, bool) else estimate(scaled[0], options, trials=trials, seed=seed)
    show = show_progress(progress, 0.0 if first is None else first.seconds * grid.sum() / grid[0])
    runs = []
    with progress_bar(show, None, "queries", unit_scale=True) as update:  # shown before the estimate
        if first is None and show:
            first = estimate(scaled[0], options, trials=trials, seed=seed)
        per_volume = 0.0 if first is None else first.queries / grid[0]
        if show:  # the bar's total, now known (update is the bound method of the tqdm bar)
            update.__self__.total = per_volume * grid.sum()
        for t, v in zip(scaled, grid):
            runs.append(simulate(t, options, trials=trials, seed=seed, client=client, progress=False,
                                 **simulate_kwargs))
            update(per_volume * v)
    scenarios = [scenario_text(run) for run in runs]
    # every variable on the volume dim (also where equal at every volume, or of a sweep of one volume), but
    # the trials' draws of the uncertain parameters: the same at every volume (one seed, the same trials)
    stacked = [name for name in runs[0].data_vars if name != "uncertain"]
    out = xr.concat(runs, dim=xr.DataArray(grid, dims="volume", name="volume"), combine_attrs="override",
                    data_vars=stacked, coords="different", compat="equals")
    out["volume"].attrs = {"units": "queries/day", "long_name": "Traffic volume"}
    out["trial"].attrs[SCENARIO_ATTR] = json.dumps([json.loads(s) for s in scenarios])  # one per volume
    out.attrs["title"] = "costsim volume sweep"
    return out
