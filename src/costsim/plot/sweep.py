"""Cost vs usage: unit and total cost against traffic volume, crossovers marked."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import xarray as xr

from ._common import _figure, _log_if_positive, _option_color, _pct, usd_log_formatter

__all__ = ["plot_volume_sweep"]


def plot_volume_sweep(
    ds: xr.Dataset,
    *,
    q: tuple[float, float] = (0.05, 0.95),
    options: Sequence[str] | None = None,
    fig: Any = None,
) -> list[Any]:
    """Cost per query and total cost against volume, log-log, per option, with bands
    (cost on a linear axis where one drawn is 0: a log axis would drop it).

    Each break-even between two options (:func:`costsim.analysis.crossovers`) is
    marked on both panels: a dotted line at its median volume and a shaded span
    over its ``q`` band across trials.

    Parameters
    ----------
    ds : xarray.Dataset
        A :func:`costsim.sweep` result.
    q : (float, float)
        The band across trials (default p5-p95); the median is drawn.
    options : sequence of str, optional
        Options to show (default all).
    fig : matplotlib Figure, optional
        An empty figure to draw in; a new one if None.

    Returns
    -------
    list of matplotlib Axes
        ``[unit cost, total cost]``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import costsim as cs
    >>> traffic = cs.Traffic([cs.QueryClass("chat", 1.0, cs.LogNormal(6.0, 1.0), cs.LogNormal(5.0, 0.8))],
    ...                      cs.Arrivals(volume=1.0, horizon="1D", bin="6h"))
    >>> sw = cs.sweep(traffic, {"api": cs.TokenPricing(input=3.0, output=15.0)}, [100, 1_000], trials=4, seed=1)
    >>> unit_ax, total_ax = plot_volume_sweep(sw)
    >>> total_ax.get_xscale(), total_ax.get_yscale()
    ('log', 'log')
    >>> plt.close(unit_ax.figure)
    """
    from matplotlib.ticker import LogLocator, NullFormatter, StrMethodFormatter

    from ..analysis.sweep import crossovers, volume_curves

    lo, hi = sorted(float(x) for x in q)
    curves = volume_curves(ds, q=(lo, 0.5, hi), option=options)
    names = curves["option"].values.tolist()
    unit_ax, total_ax = _figure(fig, 2, figsize=(10, 4.8))  # readable at page width
    volume = curves["volume"].values
    for ax, var in ((unit_ax, "unit_cost"), (total_ax, "total")):
        for name in names:
            color = _option_color(ds, name)
            c = curves[var].sel(option=name)
            ax.fill_between(volume, c.sel(quantile=lo), c.sel(quantile=hi), color=color, alpha=0.2, linewidth=0)
            ax.plot(volume, c.sel(quantile=0.5), color=color, lw=1.8, marker="o", ms=3, label=f"{name} (median)")
        ax.set_xscale("log")
        if _log_if_positive(ax, curves[var].values):
            ax.yaxis.set_major_formatter(usd_log_formatter())
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 3.0)))  # 1,000  3,000  10,000 ...: volumes as numbers
        ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(f"Traffic volume ({ds['volume'].attrs.get('units', 'queries/day')})")
        ax.grid(alpha=0.3, which="both")
    unit_ax.set_ylabel("Cost per query (USD)")
    unit_ax.set_title("Cost per query falls or rises with volume")
    total_ax.set_ylabel("Total cost over the horizon (USD)")
    total_ax.set_title("Total cost: where the options cross")
    table = crossovers(ds, q=(lo, 0.5, hi), option=names)
    plo, pmid, phi = (f"p{100 * x:g}" for x in (lo, 0.5, hi))
    styles = (":", "--", "-.", (0, (1, 3)), (0, (5, 2, 1, 2)))  # one per pair: tells the crossings apart
    for k, (_, row) in enumerate(table.iterrows()):
        for ax in (unit_ax, total_ax):
            ax.axvspan(row[plo], row[phi], color="0.5", alpha=0.12, linewidth=0)
            ax.axvline(row[pmid], color="0.25", ls=styles[k % len(styles)], lw=1.2,
                       label=(f"break-even {row['a']} = {row['b']}: {row[pmid]:,.0f}/day "
                              f"(p{_pct(lo)}–p{_pct(hi)} {row[plo]:,.0f}–{row[phi]:,.0f}, "
                              f"{row['share_crossing']:.0%} of trials)") if ax is total_ax else None)
    from matplotlib.patches import Patch

    def handles_of(ax: Any) -> list[Any]:
        handles, _ = ax.get_legend_handles_labels()
        return [*handles, Patch(color="0.4", alpha=0.2, linewidth=0, label=f"p{_pct(lo)}–p{_pct(hi)} across trials")]

    # one legend for both panels (the options, the break-even lines, the band), below them, off the curves
    total_ax.figure.legend(handles=handles_of(total_ax), frameon=False, loc="outside lower center")
    return [unit_ax, total_ax]
