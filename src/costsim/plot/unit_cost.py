"""Unit cost by query class: median and band per class and option."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from ._common import _axes, _log_if_positive, _option_color, _pct, usd_log_formatter

__all__ = ["plot_unit_cost"]


def plot_unit_cost(
    ds: xr.Dataset,
    *,
    per: str = "query",
    q: tuple[float, float] = (0.05, 0.95),
    ax: Any = None,
) -> Any:
    """Cost per query (or per 1,000 tokens) of each query class under each option.

    A dot is the median across trials, the bar the ``q`` band; the y axis is
    logarithmic because classes differ by orders of magnitude (linear where a cost
    drawn is 0: a log axis would drop it).

    Parameters
    ----------
    ds : xarray.Dataset
        A :func:`costsim.simulate` result.
    per : {"query", "1k_tokens"}
    q : (float, float)
        The band across trials (default p5-p95).
    ax : matplotlib Axes, optional

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import costsim as cs
    >>> ds = cs.simulate(cs.demo.demo_traffic(days=1, volume=2_000), cs.demo.demo_options(), trials=4, seed=3)
    >>> ax = plot_unit_cost(ds)
    >>> ax.get_ylabel()
    'Cost per query (USD)'
    >>> plt.close(ax.figure)
    """
    from ..analysis.unit_cost import unit_cost_table

    if per not in ("query", "1k_tokens"):
        raise ValueError(f"per must be 'query' or '1k_tokens'; got {per!r}")
    lo, hi = sorted(float(x) for x in q)
    table = unit_cost_table(ds, q=(lo, 0.5, hi))
    table = table[table["per"] == per]
    plo, pmid, phi = (f"p{100 * x:g}" for x in (lo, 0.5, hi))
    ax = _axes(ax)
    classes = list(dict.fromkeys(table["qclass"]))
    names = list(dict.fromkeys(table["option"]))
    width = 0.8 / len(names)
    for j, name in enumerate(names):
        rows = table[table["option"] == name].set_index("qclass").loc[classes]
        x = np.arange(len(classes)) - 0.4 + width * (j + 0.5)
        mid = rows[pmid].to_numpy()
        err = np.vstack([mid - rows[plo].to_numpy(), rows[phi].to_numpy() - mid])
        ax.errorbar(x, mid, yerr=err, fmt="o", ms=6, capsize=4, color=_option_color(ds, name), label=name)
    long_names = max(len(c) for c in classes) * len(classes) > 60
    ax.set_xticks(np.arange(len(classes)), classes, rotation=30 if long_names else 0,
                  ha="right" if long_names else "center")
    from matplotlib.ticker import LogLocator, NullFormatter

    if _log_if_positive(ax, table[[plo, pmid, phi]].to_numpy()):
        ax.yaxis.set_major_formatter(usd_log_formatter())
        span = table[phi].max() / table[plo].min()
        if span < 3:  # too narrow for 1-2-5 ticks: matplotlib's labelled minor ticks, in dollars too
            ax.yaxis.set_minor_formatter(usd_log_formatter())
        else:  # labels at 1, 2 and 5 times a power of ten, none between (they crowd near a decade's end)
            ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.yaxis.set_minor_formatter(NullFormatter())
    what = "Cost per query" if per == "query" else "Cost per 1,000 tokens"
    ax.set_ylabel(f"{what} (USD)")
    ax.set_xlabel("Query class")
    ax.set_title(f"{what} by query class: median and p{_pct(lo)}–p{_pct(hi)} across trials")
    ax.grid(alpha=0.3, axis="y", which="both")
    ax.legend(title="option", frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax
