"""Deployment optionality: options compared on identical requests.

Every option of a result is priced on the very same simulated requests (common
random numbers), so per-trial differences between options are free of
request-level noise: their bands are much tighter than the difference of the
options' own bands.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ._common import check_quantiles, option_names

__all__ = ["compare_options", "paired_difference", "prob_cheaper", "regret"]

Dims = str | Sequence[str]


def _totals(ds: xr.Dataset, over: Dims) -> xr.DataArray:
    dims = [over] if isinstance(over, str) else list(over)
    unknown = [d for d in dims if d not in ds["cost"].dims or d in ("trial", "option")]
    if unknown:
        raise ValueError(f"over must name dims of cost other than trial and option; got {over!r}")
    return ds["cost"].sum(dims)


def paired_difference(ds: xr.Dataset, baseline: str, *, over: Dims = ("time", "qclass")) -> xr.DataArray:
    """Cost of each option minus the baseline's, trial by trial (negative: cheaper).

    Parameters
    ----------
    ds : xarray.Dataset
        A :func:`costsim.simulate` result.
    baseline : str
        The option to compare against.
    over : str or sequence of str, default ("time", "qclass")
        Dims summed before differencing (keep ``time`` for differences per bin).

    Returns
    -------
    xarray.DataArray
        USD, dims ``trial, option`` (plus whatever ``over`` left).

    Examples
    --------
    >>> import costsim as cs
    >>> ds = cs.simulate(cs.demo.demo_traffic(days=1, volume=2_000), cs.demo.demo_options(), trials=4, seed=1)
    >>> d = cs.analysis.paired_difference(ds, "frontier")
    >>> float(abs(d.sel(option="frontier")).max()), bool((d.sel(option="small") < 0).all())
    (0.0, True)
    """
    (base,) = option_names(ds, baseline, "baseline")
    totals = _totals(ds, over)
    out = totals - totals.sel(option=base, drop=True)
    out.attrs = {"units": "USD", "long_name": f"Cost minus {base}'s"}
    return out


def prob_cheaper(ds: xr.Dataset, *, over: Dims = ("time", "qclass")) -> xr.DataArray:
    """Probability (share of trials) that each option costs less than each other one.

    Ties count one half, so ``P[a, b] + P[b, a] = 1``.

    Returns
    -------
    xarray.DataArray
        Dims ``option, versus``: the chance that ``option`` is cheaper than ``versus``.

    Examples
    --------
    >>> import costsim as cs
    >>> ds = cs.simulate(cs.demo.demo_traffic(days=1, volume=2_000), cs.demo.demo_options(), trials=4, seed=1)
    >>> float(cs.analysis.prob_cheaper(ds).sel(option="small", versus="frontier"))
    1.0
    """
    totals = _totals(ds, over)
    other = totals.rename(option="versus")
    out = ((totals < other) + 0.5 * (totals == other)).mean("trial")
    out.attrs = {"units": "1", "long_name": "Chance of costing less"}
    return out.transpose("option", "versus", ...)


def regret(ds: xr.Dataset, *, over: Dims = ("time", "qclass")) -> xr.DataArray:
    """What locking into each option costs against the best option in hindsight, per trial.

    The regret of an option in a trial is its cost minus the cheapest option's
    cost in that trial (>= 0; zero for the trial's best option).

    Returns
    -------
    xarray.DataArray
        USD, dims ``trial, option``.

    Examples
    --------
    >>> import costsim as cs
    >>> ds = cs.simulate(cs.demo.demo_traffic(days=1, volume=2_000), cs.demo.demo_options(), trials=4, seed=1)
    >>> r = cs.analysis.regret(ds)
    >>> float(r.min()), float(r.sel(option="small").max())
    (0.0, 0.0)
    """
    totals = _totals(ds, over)
    out = totals - totals.min("option")
    out.attrs = {"units": "USD", "long_name": "Regret: cost above the best option"}
    return out


def compare_options(ds: xr.Dataset, baseline: str, q: Sequence[float] = (0.05, 0.5, 0.95)) -> pd.DataFrame:
    """One row per option: total cost, paired difference to ``baseline``, chance of being
    cheaper than it, chance of being the best, and regret, as quantiles across trials.

    Returns
    -------
    pandas.DataFrame
        Indexed by option; columns ``total_p5`` ..., ``diff_p5`` ..., ``p_cheaper``,
        ``p_best``, ``regret_p5`` ... (USD, over the whole horizon).

    Examples
    --------
    >>> import costsim as cs
    >>> ds = cs.simulate(cs.demo.demo_traffic(days=1, volume=2_000), cs.demo.demo_options(), trials=4, seed=1)
    >>> table = cs.analysis.compare_options(ds, "frontier")
    >>> float(table.loc["small", "p_cheaper"]), float(table.loc["frontier", "diff_p50"])
    (1.0, 0.0)
    """
    qs = check_quantiles(q)
    (base,) = option_names(ds, baseline, "baseline")
    totals = _totals(ds, ("time", "qclass"))
    diff = paired_difference(ds, base)
    loss = regret(ds)
    columns: dict[str, np.ndarray] = {}
    for name, da in (("total", totals), ("diff", diff)):
        for qq in qs:
            columns[f"{name}_p{100 * qq:g}"] = da.quantile(qq, dim="trial").values
    columns["p_cheaper"] = prob_cheaper(ds).sel(versus=base).values
    columns["p_best"] = (loss == 0).mean("trial").values
    for qq in qs:
        columns[f"regret_p{100 * qq:g}"] = loss.quantile(qq, dim="trial").values
    return pd.DataFrame(columns, index=pd.Index(ds["option"].values.tolist(), name="option"))
