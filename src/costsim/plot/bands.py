"""Fan charts of cost over time (percentile bands across trials)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from ._common import _axes, _band_alpha, _bin_width, _duration, _pct, usd_formatter

__all__ = ["plot_budget", "plot_cost_bands"]


def plot_cost_bands(
    ds: xr.Dataset,
    *,
    ax: Any = None,
    q: Sequence[float] = (0.05, 0.25, 0.75, 0.95),
    cumulative: bool = False,
    options: Sequence[str] | None = None,
) -> Any:
    """Fan chart of cost over time: per option, shaded percentile bands and the median.

    The legend names each option's median line and the bands (quantiles across
    trials).  A cumulative curve starts at 0 and puts each value at the end of its
    bin; a per-bin curve puts each value at the start of its bin (a result of one
    bin: across it).

    Parameters
    ----------
    ds : xarray.Dataset
        A :func:`costsim.simulate` result.
    ax : matplotlib Axes, optional
        Where to draw; a new figure if None.
    q : sequence of float
        Band quantiles in pairs from the outside in (e.g. p5-p95, p25-p75); the
        median is always drawn.
    cumulative : bool
        Plot cumulative cost since the start instead of cost per bin.
    options : sequence of str, optional
        Options to show (default all).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import costsim as cs
    >>> ds = cs.simulate(cs.demo.demo_traffic(days=2), cs.demo.demo_options(), trials=8, seed=3)
    >>> ax = plot_cost_bands(ds, cumulative=True)
    >>> ax.get_title()
    'Cumulative cost by deployment option (8 trials)'
    >>> plt.close(ax.figure)
    """
    qs = sorted(float(x) for x in q)
    if len(qs) % 2:
        raise ValueError(f"q must hold pairs of band quantiles (low, high); got {tuple(q)!r}")
    ax = _axes(ax)
    bands = ds.costsim.bands(q=[*qs, 0.5], cumulative=cumulative)
    names = list(ds["option"].values) if options is None else list(options)
    unknown = sorted(set(names) - set(ds["option"].values.tolist()))
    if unknown:
        raise ValueError(f"options must be among {ds['option'].values.tolist()}; got unknown {unknown}")
    import matplotlib.dates as mdates
    from matplotlib.patches import Patch

    pairs = list(zip(qs[: len(qs) // 2], qs[::-1][: len(qs) // 2]))
    time = bands["time"].values
    if cumulative:
        # a cumulative value holds at the END of its bin; start the curve at 0
        time = np.concatenate([time[:1], time + _bin_width(ds, time)])
        bands = xr.concat([xr.zeros_like(bands.isel(time=[0])), bands], dim="time")
    elif time.size == 1:  # one bin (a one-day result by day): its value across the bin, as one point draws nothing
        time = np.concatenate([time, time + _bin_width(ds, time)])
        bands = xr.concat([bands, bands], dim="time")
    every = ds["option"].values.tolist()
    for name in names:
        color = f"C{every.index(name) % 10}"  # an option keeps its colour when others are left out
        b = bands.sel(option=name)
        for j, (lo, hi) in enumerate(pairs):
            ax.fill_between(
                time, b.sel(quantile=lo).values, b.sel(quantile=hi).values,
                color=color, alpha=_band_alpha(j), linewidth=0,
            )
        ax.plot(time, b.sel(quantile=0.5).values, color=color, lw=1.6, label=f"{name} (median)")
    what = "Cumulative cost" if cumulative else f"Cost per {_duration(ds.attrs.get('bin_width', 'bin'))}"
    ax.set_title(f"{what} by deployment option ({ds.sizes['trial']} trials)")
    ax.set_ylabel(f"{what} (USD)")
    ax.set_xlabel("Time (UTC)")
    ax.yaxis.set_major_formatter(usd_formatter())
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    # concise dates, but every day tick names its month and the offset names only the year
    # (the default offset names the LAST tick's month: '2026-Feb' under a January start)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(
        locator,
        formats=["%Y", "%b", "%b %d", "%H:%M", "%H:%M", "%S.%f"],
        zero_formats=["", "%Y", "%b", "%b %d", "%H:%M", "%H:%M"],
        offset_formats=["", "%Y", "%Y", "%Y", "%Y", "%Y-%b-%d %H:%M"],
    ))
    ax.set_xlim(time[0], time[-1])
    ax.set_ylim(bottom=0)
    handles, _ = ax.get_legend_handles_labels()
    handles += [
        # an inner band is drawn over the outer ones: its swatch shows the stacked shade
        Patch(color="0.35", alpha=1 - math.prod(1 - _band_alpha(k) for k in range(j + 1)), linewidth=0,
              label=f"p{_pct(lo)}–p{_pct(hi)} across trials")
        for j, (lo, hi) in enumerate(pairs)
    ]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, frameon=False)
    ax.grid(alpha=0.3)
    return ax


def plot_budget(
    ds: xr.Dataset,
    budget: float | dict[str, float],
    *,
    period: str | None = None,
    cumulative: bool = False,
    q: Sequence[float] = (0.05, 0.25, 0.75, 0.95),
    options: Sequence[str] | None = None,
    fig: Any = None,
) -> list[Any]:
    """Cost over time against a budget, and the chance of exceeding it.

    Top: the fan chart of :func:`plot_cost_bands` (per period, or cumulative) with
    the budget as a dashed line.  Bottom: per option, the share of trials above
    the budget (:func:`costsim.analysis.exceedance_probability`).

    Parameters
    ----------
    ds : xarray.Dataset
        A :func:`costsim.simulate` result.
    budget : float or dict of option name to float
        USD per period, or for the spend since the start if ``cumulative``.
    period : str, optional
        Re-bin to this period first (``"1D"``, ``"7D"``, calendar months ``"MS"``, quarters ``"QS"``; see
        :func:`costsim.analysis.per_period`); default the result's bins.
    cumulative : bool
        Cumulative cost against a budget for the whole horizon.
    q, options
        As in :func:`plot_cost_bands`.
    fig : matplotlib Figure, optional
        An empty figure to draw in; a new one if None.

    Returns
    -------
    list of matplotlib Axes
        ``[cost, probability]``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import costsim as cs
    >>> ds = cs.simulate(cs.demo.demo_traffic(days=3, volume=2_000), cs.demo.demo_options(), trials=8, seed=3)
    >>> cost_ax, prob_ax = plot_budget(ds, 60.0, period="1D")
    >>> prob_ax.get_ylabel()
    'Chance of exceeding'
    >>> plt.close(cost_ax.figure)
    """
    from matplotlib.ticker import PercentFormatter

    from ..analysis.budget import exceedance_probability, per_period

    data = per_period(ds, period) if period is not None else ds
    names = list(ds["option"].values) if options is None else list(options)
    prob = exceedance_probability(data, budget, cumulative=cumulative, option=names)
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(9, 7), layout="constrained")
    cost_ax, prob_ax = fig.subplots(2, 1, sharex=True, height_ratios=(2.2, 1))
    plot_cost_bands(data, ax=cost_ax, q=q, cumulative=cumulative, options=names)
    handles = list(cost_ax.get_legend().legend_handles)  # medians and bands
    limits = budget if isinstance(budget, dict) else {None: float(budget)}
    for name, value in limits.items():
        if name is not None and name not in names:
            continue
        color = "0.1" if name is None else f"C{ds['option'].values.tolist().index(name) % 10}"
        label = f"budget {usd_formatter()(value)}" + ("" if name is None else f" ({name})")
        handles.append(cost_ax.axhline(value, color=color, ls="--", lw=1.4, label=label))
    cost_ax.set_xlabel("")
    cost_ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, frameon=False)
    time = prob["time"].values  # at the x of the fan chart's points:
    if cumulative:  # a cumulative value holds at the END of its period, a per-period one at its start
        time = time + _bin_width(data, time)
    for name in names:
        color = f"C{ds['option'].values.tolist().index(name) % 10}"
        prob_ax.plot(time, prob.sel(option=name).values, color=color, lw=1.6, marker="o", ms=3, label=name)
    prob_ax.set_ylim(-0.03, 1.03)
    prob_ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    prob_ax.set_ylabel("Chance of exceeding")
    prob_ax.set_xlabel("Time (UTC)")
    prob_ax.grid(alpha=0.3)
    prob_ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, frameon=False)
    what = "Cumulative cost" if cumulative else f"Cost per {_duration(data.attrs.get('bin_width', 'bin'))}"
    cost_ax.set_title(f"{what} against the budget ({ds.sizes['trial']} trials)")
    prob_ax.set_title("Chance of exceeding the budget" + (" by then" if cumulative else " in the period"),
                      fontsize="medium")
    return [cost_ax, prob_ax]
