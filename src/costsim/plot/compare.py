"""Deployment optionality: paired differences between options and the regret of locking in."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from ._common import _figure, _option_color, _pct, usd_formatter

__all__ = ["plot_comparison"]


def plot_comparison(
    ds: xr.Dataset,
    baseline: str,
    *,
    q: tuple[float, float] = (0.05, 0.95),
    fig: Any = None,
) -> list[Any]:
    """Options side by side on identical requests: difference to a baseline, and regret.

    Left: each option's total cost minus the baseline's, trial by trial (median and
    ``q`` band), with the chance it is cheaper.  Right: the regret of locking into
    each option (its cost above the best option of the same trial), median and
    upper band, with the chance it is the best.  Numbers from
    :func:`costsim.analysis.compare_options`.

    Returns
    -------
    list of matplotlib Axes
        ``[difference, regret]``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import costsim as cs
    >>> ds = cs.simulate(cs.demo.demo_traffic(days=1, volume=2_000), cs.demo.demo_options(), trials=4, seed=3)
    >>> diff_ax, regret_ax = plot_comparison(ds, "frontier")
    >>> diff_ax.get_xlabel()
    'Total cost minus frontier (USD, same requests)'
    >>> plt.close(diff_ax.figure)
    """
    from ..analysis.compare import compare_options

    lo, hi = sorted(float(x) for x in q)
    table = compare_options(ds, baseline, q=(lo, 0.5, hi))
    plo, pmid, phi = (f"p{100 * x:g}" for x in (lo, 0.5, hi))
    diff_ax, regret_ax = _figure(fig, 2, figsize=(10, 0.6 * len(table) + 2.8))  # readable at page width
    names = table.index.tolist()
    y = np.arange(len(names))[::-1]
    for yy, name in zip(y, names):
        row = table.loc[name]
        color = _option_color(ds, name)
        diff_ax.errorbar(row[f"diff_{pmid}"], yy, xerr=[[row[f"diff_{pmid}"] - row[f"diff_{plo}"]],
                                                        [row[f"diff_{phi}"] - row[f"diff_{pmid}"]]],
                         fmt="o", ms=7, capsize=5, color=color)
        text = "baseline" if name == baseline else f"cheaper in {row['p_cheaper']:.0%} of trials"
        diff_ax.annotate(text, (row[f"diff_{phi}"], yy), xytext=(6, 6), textcoords="offset points")
        regret_ax.barh(yy, row[f"regret_{phi}"], color=color, alpha=0.3, height=0.6)
        regret_ax.barh(yy, row[f"regret_{pmid}"], color=color, height=0.6)
        regret_ax.annotate(f"best in {row['p_best']:.0%} of trials", (row[f"regret_{phi}"], yy),
                           xytext=(4, 0), textcoords="offset points", va="center")
    diff_ax.axvline(0, color="0.3", lw=1)
    for ax in (diff_ax, regret_ax):
        ax.set_yticks(y, names)
        ax.xaxis.set_major_formatter(usd_formatter())
        ax.grid(alpha=0.3, axis="x")
        ax.margins(x=0.3)
    diff_ax.set_xlabel(f"Total cost minus {baseline} (USD, same requests)")
    diff_ax.set_title(f"Paired difference to {baseline}: median, p{_pct(lo)}–p{_pct(hi)}")
    regret_ax.set_xlabel("Regret: total cost above the trial's best option (USD)")
    regret_ax.set_title(f"Cost of locking in: median (dark), p{_pct(hi)} (light)")
    regret_ax.set_xlim(left=0)
    return [diff_ax, regret_ax]
