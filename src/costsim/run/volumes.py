"""Volume sweeps: the same scenario simulated at several traffic volumes."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from .prepare import resolve_seed
from .dispatch import simulate

__all__ = ["sweep"]


def sweep(
    traffic: Any,
    options: Mapping[str, Any],
    volume: Sequence[float],
    *,
    trials: int = 100,
    seed: int | None = None,
    client: Any = None,
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
    runs = [
        simulate(dataclasses.replace(traffic, arrivals=dataclasses.replace(traffic.arrivals, volume=float(v))),
                 options, trials=trials, seed=seed, client=client, **simulate_kwargs)
        for v in grid
    ]
    scenarios = [run.attrs["scenario"] for run in runs]
    out = xr.concat(runs, dim=xr.DataArray(grid, dims="volume", name="volume"), combine_attrs="override",
                    data_vars="different", coords="different", compat="equals")
    out["volume"].attrs = {"units": "queries/day", "long_name": "Traffic volume"}
    out.attrs["scenario"] = json.dumps([json.loads(s) for s in scenarios])
    out.attrs["title"] = "costsim volume sweep"
    return out
