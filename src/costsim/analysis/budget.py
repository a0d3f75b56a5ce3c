"""Percentile bands over time, per period and cumulative, against a budget."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr

from .._format import duration_alias
from .._validation import ParameterError
from ._common import option_names

__all__ = ["exceedance_probability", "per_period"]

# variables that add up over time; the others (levels such as capacity_units) are averaged
_ADDITIVE_UNITS = {"USD", "queries", "calls", "tokens"}


#: Calendar periods: the spellings accepted for each, and the pandas period that labels it.
CALENDAR_PERIODS = {
    "month": (("M", "1M", "MS", "1MS", "ME", "1ME", "month"), "M"),
    "quarter": (("Q", "1Q", "QS", "1QS", "QE", "1QE", "quarter"), "Q"),
}


def per_period(ds: xr.Dataset, period: str) -> xr.Dataset:
    """The result re-binned to longer periods: a fixed length (a day, a week) or calendar months and quarters.

    Costs and counts are summed over each period, levels (such as
    ``capacity_units``) averaged, ``utilisation`` weighted by the capacity
    running in each bin (the period's load over its capacity); ``attrs["bin_width"]`` becomes the period, so
    :func:`costsim.plot.plot_cost_bands` draws cost per period.

    Parameters
    ----------
    ds : xarray.Dataset
        A :func:`costsim.simulate` result.
    period : str
        Either a fixed length that is a whole number of the result's bins, as
        pandas writes it (``"1D"``, ``"7D"``, ``"6h"``; periods start at the first
        bin), or a calendar period: ``"MS"`` (also ``"M"``, ``"1M"``, ``"ME"``,
        ``"month"``) for calendar months, ``"QS"`` (also ``"Q"``, ``"1Q"``,
        ``"QE"``, ``"quarter"``) for calendar quarters (January, April, July,
        October), labelled by their first day as ``pandas.DataFrame.resample("MS")``
        labels them.  The first and last months of a horizon that does not start
        or end on a month boundary hold the part of the month simulated.  A bin
        must not cross a month boundary (hourly and daily bins never do).

    Examples
    --------
    >>> import costsim as cs
    >>> ds = cs.simulate(cs.demo.demo_traffic(days=2, volume=2_000), cs.demo.demo_options(), trials=2, seed=1)
    >>> daily = cs.analysis.per_period(ds, "1D")
    >>> daily.sizes["time"], daily.attrs["bin_width"]
    (2, '1D')
    >>> bool(np.allclose(daily["cost"].sum("time"), ds["cost"].sum("time")))
    True
    >>> traffic = cs.Traffic(cs.demo.demo_traffic().classes,
    ...                      cs.Arrivals(volume=500, horizon="60D", bin="1D", start="2026-01-20"))
    >>> monthly = cs.analysis.per_period(cs.simulate(traffic, cs.demo.demo_options(), trials=2, seed=1), "MS")
    >>> [str(t)[:10] for t in monthly["time"].values], monthly.attrs["bin_width"]
    (['2026-01-01', '2026-02-01', '2026-03-01'], 'month')
    """
    import pandas as pd

    calendar = next((name for name, (spellings, _) in CALENDAR_PERIODS.items() if period in spellings), None)
    try:
        bin_width = pd.Timedelta(ds.attrs["bin_width"])
        length = None if calendar else pd.Timedelta(period)
    except (ValueError, KeyError, TypeError):
        raise ValueError(
            f"period must be a duration such as '1D' or '6h', or a calendar period 'MS' (month) or 'QS' "
            f"(quarter) (and ds a costsim result); got {period!r}"
        ) from None
    times = pd.DatetimeIndex(ds["time"].values)
    if calendar:
        kind = CALENDAR_PERIODS[calendar][1]
        labels = times.to_period(kind).to_timestamp().values
        ends = (times + bin_width - pd.Timedelta(1, "ns")).to_period(kind).to_timestamp().values
        crossing = np.flatnonzero(ends != labels)
        if crossing.size:
            raise ValueError(f"period {period!r} needs bins that stay inside one {calendar}; the bin of "
                             f"{bin_width} starting {times[crossing[0]]} crosses into the next")
        width = calendar
    else:
        if length < bin_width or length % bin_width != pd.Timedelta(0):
            raise ValueError(f"period must be a whole number of bins ({bin_width}) or a calendar period "
                             f"('MS', 'QS'); got {period!r}")
        start = ds["time"].values[0]
        labels = start + ((ds["time"].values - start) // length.to_timedelta64()) * length.to_timedelta64()
        width = duration_alias(length)
    group = xr.DataArray(labels, dims="time", name="time")
    timed = [name for name, v in ds.data_vars.items() if "time" in v.dims]
    additive = [n for n in timed if ds[n].attrs.get("units") in _ADDITIVE_UNITS]
    levels = [n for n in timed if n not in additive]
    parts = [ds[additive].groupby(group).sum(keep_attrs=True)]
    if levels:
        parts.append(ds[levels].groupby(group).mean(keep_attrs=True))
    out = xr.merge([*parts, ds.drop_vars(timed + ["time"])], combine_attrs="override")
    if "utilisation" in levels and "capacity_units" in levels:
        # a period's utilisation is its load over the capacity that ran: bins weighted by their units
        units = ds["capacity_units"].where(ds["utilisation"].notnull())
        ran = units.groupby(group).sum()
        out["utilisation"] = ((ds["utilisation"] * units).groupby(group).sum() / ran.where(ran > 0)).transpose(
            *ds["utilisation"].dims)
    for name in timed:
        out[name].attrs = ds[name].attrs
    out["time"].attrs = {"long_name": "Period start (UTC)"}
    out.attrs = {**ds.attrs, "bin_width": width}
    return out


def exceedance_probability(
    ds: xr.Dataset,
    budget: float | Mapping[str, float] | xr.DataArray,
    *,
    period: str | None = None,
    cumulative: bool = False,
    option: str | Sequence[str] | None = None,
) -> xr.DataArray:
    """Probability (share of trials) that cost exceeds a budget, per period or cumulatively.

    Parameters
    ----------
    ds : xarray.Dataset
        A :func:`costsim.simulate` result.
    budget : float, mapping of option to float, or xarray.DataArray
        USD, finite and >= 0 (a ParameterError names a value that is not).  Per period (``cumulative=False``): the budget of each period.
        Cumulative: the budget for the spend since the start, compared at the end
        of each period (a scalar is one budget for the whole horizon; a DataArray
        over ``time`` can hold a spending plan).  A DataArray may also vary by
        ``option``.
    period : str, optional
        Re-bin to this period first (see :func:`per_period`: ``"1D"``, ``"7D"``, or calendar
        months ``"MS"`` and quarters ``"QS"``); default the result's bins.
    cumulative : bool
        Compare the cumulative cost since the start instead of each period's cost.
    option : str or sequence of str, optional
        Options to keep (default all; every option works, capacity ones included).

    Returns
    -------
    xarray.DataArray
        Dims ``time, option``: the share of trials above the budget.  With
        ``cumulative=True`` the value at a period is the chance the budget is
        already exceeded at its end; the last one is the chance the horizon's total
        exceeds it.

    Examples
    --------
    >>> import costsim as cs
    >>> ds = cs.simulate(cs.demo.demo_traffic(days=2, volume=2_000), cs.demo.demo_options(), trials=8, seed=1)
    >>> p = cs.analysis.exceedance_probability(ds, 50.0, period="1D")
    >>> p.dims, float(p.min()) >= 0.0
    (('time', 'option'), True)
    """
    names = option_names(ds, option)
    data = per_period(ds, period) if period is not None else ds
    cost = data["cost"].sel(option=names).sum("qclass")
    if cumulative:
        cost = cost.cumsum("time")
    limit = _limit(budget, names)
    _check_times(limit, cost, period)
    out = (cost > limit).mean("trial").transpose("time", "option")
    out.attrs = {"units": "1", "long_name": "Chance of exceeding the budget" + (" (cumulative)" if cumulative else "")}
    return out


_BUDGET_RULE = "must be a finite number of USD >= 0"


def _usd(path: str, value: object) -> float:
    """One budget amount, checked (a NaN compares False: a silent 'never exceeded')."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.number)) \
            or not np.isfinite(value) or value < 0:
        raise ParameterError(path, _BUDGET_RULE, value)
    return float(value)


def _limit(budget: float | Mapping[str, float] | xr.DataArray, names: list[str]) -> float | xr.DataArray:
    """``budget`` as a float or a DataArray of the options ``names``, every amount checked."""
    if isinstance(budget, Mapping):
        missing = [o for o in names if o not in budget]
        if missing:
            raise ValueError(f"budget must give a value for every option; missing {missing}")
        return xr.DataArray([_usd(f"budget[{o!r}]", budget[o]) for o in names], dims="option",
                            coords={"option": names})
    if isinstance(budget, xr.DataArray):
        limit = budget.sel(option=names) if "option" in budget.dims else budget
        if limit.dtype.kind not in "iuf":
            raise ParameterError("budget", f"{_BUDGET_RULE} (a numeric DataArray)", f"dtype {limit.dtype}")
        values = np.asarray(limit.values, dtype=float).ravel()
        bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
        if bad.size:
            raise ParameterError("budget", f"{_BUDGET_RULE} everywhere ({bad.size} of {values.size} are not)",
                                 float(values[bad[0]]))
        return limit
    return _usd("budget", budget)


def _check_times(limit: float | xr.DataArray, cost: xr.DataArray, period: str | None) -> None:
    """A budget over time must be given at the times compared: aligning would keep only the common
    times, silently (an hourly plan against daily periods compared at midnights only)."""
    if isinstance(limit, xr.DataArray) and "time" in limit.dims and \
            not np.array_equal(limit["time"].values, cost["time"].values):
        raise ValueError(f"budget's time coordinate must be the {'periods' if period else 'bins'} compared "
                         f"({cost.sizes['time']} from {cost['time'].values[0]}); got {limit.sizes['time']} "
                         "times" + (f" from {limit['time'].values[0]}" if limit.sizes["time"] else ""))
