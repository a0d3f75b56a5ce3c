"""Cost vs usage: cost curves with bands and break-even volumes of a volume sweep
(:func:`costsim.sweep` runs one)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ._common import check_quantiles, nan_quantiles, option_names

__all__ = ["break_even", "crossovers", "volume_curves"]


def volume_curves(
    ds: xr.Dataset,
    q: Sequence[float] = (0.05, 0.5, 0.95),
    *,
    option: str | Sequence[str] | None = None,
) -> xr.Dataset:
    """Total cost and cost per query against volume, as quantiles across trials.

    Parameters
    ----------
    ds : xarray.Dataset
        A :func:`sweep` result.
    q : sequence of float
        Quantiles across trials.
    option : str or sequence of str, optional
        Options to keep (default all).

    Returns
    -------
    xarray.Dataset
        ``total`` (USD over the horizon) and ``unit_cost`` (USD/query), dims
        ``quantile, volume, option``.

    Examples
    --------
    >>> import costsim as cs
    >>> traffic = cs.Traffic([cs.QueryClass("chat", 1.0, cs.LogNormal(6.0, 1.0), cs.LogNormal(5.0, 0.8))],
    ...                      cs.Arrivals(volume=1.0, horizon="1D", bin="6h"))
    >>> sw = cs.sweep(traffic, {"api": cs.TokenPricing(input=3.0, output=15.0)}, [100, 1_000], trials=4, seed=1)
    >>> volume_curves(sw)["unit_cost"].dims
    ('quantile', 'volume', 'option')
    """
    _check_sweep(ds)
    qs = check_quantiles(q)
    names = option_names(ds, option)
    total = ds["cost"].sel(option=names).sum(("time", "qclass"))
    unit = total / ds["requests"].sum(("time", "qclass")).where(lambda n: n > 0)
    out = xr.Dataset({
        "total": total.quantile(qs, dim="trial").assign_attrs(units="USD", long_name="Total cost"),
        "unit_cost": nan_quantiles(unit, qs).assign_attrs(units="USD/query", long_name="Cost per query"),
    })
    return out.transpose("quantile", "volume", "option")


def break_even(ds: xr.Dataset, a: str, b: str) -> xr.DataArray:
    """Volume at which options ``a`` and ``b`` cost the same, per trial.

    Per trial, the difference of total costs ``a - b`` is followed along the volume
    grid; at the first change of sign the crossing is interpolated linearly in
    volume between the two grid points (exact where both costs are linear in
    volume between them).  Where the costs are equal at grid points between the
    change, the first of them is the crossing; equal costs where the cheaper
    option does not change (both free at the lowest volume, say) are no crossing.

    Parameters
    ----------
    ds : xarray.Dataset
        A :func:`sweep` result with at least two volumes.
    a, b : str
        Two options of ``ds``.

    Returns
    -------
    xarray.DataArray
        Break-even volume (queries/day) per trial; NaN where the two options do not
        cross inside the grid.  Non-dim coordinates say which is which:
        ``cheaper_below`` names the cheaper option at the lowest volume (the
        cheaper one throughout where there is no crossing, ``"tie"`` where equal),
        ``crossings`` counts the crossings along the grid (changes of the cheaper
        option); where there are several, the first (lowest volume) is reported.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> vol = np.array([1.0, 2.0, 4.0, 8.0])
    >>> cost = np.stack([np.full(4, 10.0), 2.0 * vol], axis=-1)  # a fixed fee vs 2 USD per unit of volume
    >>> cost = xr.DataArray(cost[:, None, None, :, None], dims=("volume", "trial", "time", "option", "qclass"),
    ...                     coords={"volume": vol, "option": ["fixed", "usage"]})
    >>> be = break_even(xr.Dataset({"cost": cost}), "fixed", "usage")
    >>> float(be[0]), str(be["cheaper_below"].values[0])
    (5.0, 'usage')
    """
    _check_sweep(ds)
    names = option_names(ds, [a, b], "a, b")
    if a == b:
        raise ValueError(f"a and b must be two different options; got {a!r} twice")
    if ds.sizes["volume"] < 2:
        raise ValueError(f"break_even needs a sweep over at least 2 volumes; got {ds.sizes['volume']}")
    total = ds["cost"].sel(option=names).sum([d for d in ds["cost"].dims if d not in ("volume", "trial", "option")])
    diff = (total.sel(option=a) - total.sel(option=b)).transpose("trial", "volume").values
    vol = ds["volume"].values.astype(float)
    sign = np.sign(diff)
    rows = np.arange(diff.shape[0])
    first = np.full(diff.shape[0], np.inf)
    crossings = np.zeros(diff.shape[0], dtype=np.int64)
    last = np.full(diff.shape[0], -1)  # the last grid point with unequal costs so far (-1: none)
    for i in range(vol.size):
        before = np.maximum(last, 0)
        flip = (last >= 0) & (sign[:, i] != 0) & (sign[:, i] != sign[rows, before])  # the cheaper one changed
        with np.errstate(invalid="ignore", divide="ignore"):
            inside = vol[before] + (vol[i] - vol[before]) * diff[rows, before] / (diff[rows, before] - diff[:, i])
        at = np.where(last == i - 1, inside, vol[np.minimum(before + 1, vol.size - 1)])  # else: the first tie
        first = np.where(flip & np.isinf(first), at, first)
        crossings += flip
        last = np.where(sign[:, i] != 0, i, last)
    be = np.where(np.isinf(first), np.nan, first)
    lowest = sign[np.arange(sign.shape[0]), np.argmax(sign != 0, axis=1)]
    cheaper = np.where(lowest < 0, a, np.where(lowest > 0, b, "tie")).astype(object)
    out = xr.DataArray(
        be, dims=("trial",),
        coords={"trial": ds["trial"].values if "trial" in ds.coords else np.arange(be.size),
                "cheaper_below": ("trial", cheaper), "crossings": ("trial", crossings)},
        attrs={"units": ds["volume"].attrs.get("units", "queries/day"),
               "long_name": f"Break-even volume, {a} vs {b}"},
        name="break_even",
    )
    return out


def crossovers(
    ds: xr.Dataset,
    q: Sequence[float] = (0.05, 0.5, 0.95),
    *,
    option: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Break-even volumes of every pair of options, summarised across trials.

    Parameters
    ----------
    ds : xarray.Dataset
        A :func:`sweep` result.
    q : sequence of float
        Quantiles of the break-even volume, over the trials where the pair crosses.
    option : str or sequence of str, optional
        Options to pair (default all).

    Returns
    -------
    pandas.DataFrame
        One row per pair ``a, b`` whose costs cross in at least one trial:
        ``share_crossing`` (share of trials with a crossing inside the grid),
        ``cheaper_below`` (the option cheaper at low volume in most of them) and
        the quantiles ``p5``, ``p50``, ... of the break-even volume.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> vol = np.array([1.0, 2.0, 4.0, 8.0])
    >>> cost = np.stack([np.full(4, 10.0), 2.0 * vol], axis=-1)
    >>> cost = xr.DataArray(cost[:, None, None, :, None], dims=("volume", "trial", "time", "option", "qclass"),
    ...                     coords={"volume": vol, "option": ["fixed", "usage"]})
    >>> crossovers(xr.Dataset({"cost": cost}))[["a", "b", "share_crossing", "p50"]]
           a      b  share_crossing  p50
    0  fixed  usage             1.0  5.0
    """
    qs = check_quantiles(q)
    names = option_names(ds, option)
    rows = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            be = break_even(ds, a, b)
            crossed = be.dropna("trial")
            if crossed.size == 0:
                continue
            below = pd.Series(crossed["cheaper_below"].values).mode().iloc[0]
            row = {"a": a, "b": b, "share_crossing": float(crossed.size / be.size), "cheaper_below": below}
            row.update({f"p{100 * qq:g}": float(v) for qq, v in zip(qs, np.quantile(crossed.values, qs))})
            rows.append(row)
    columns = ["a", "b", "share_crossing", "cheaper_below", *(f"p{100 * qq:g}" for qq in qs)]
    return pd.DataFrame(rows, columns=columns)


def _check_sweep(ds: xr.Dataset) -> None:
    if not isinstance(ds, xr.Dataset) or "volume" not in ds.dims:
        raise ValueError("ds must be a costsim.sweep result (a Dataset with a 'volume' dim)")
