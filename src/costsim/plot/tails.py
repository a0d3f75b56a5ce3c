"""The tail that averages hide: CCDF and Lorenz curve of per-query cost, class shares."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from ._common import _axes, _single_option, usd_log_formatter

__all__ = ["plot_class_shares", "plot_lorenz", "plot_request_cost_ccdf"]


def _classes(hist: xr.DataArray) -> list[str]:
    return [str(c) for c in hist["qclass"].values.tolist()] if "qclass" in hist.dims else []


def plot_request_cost_ccdf(data: Any, *, option: str | None = None, ax: Any = None) -> Any:
    """Per-class CCDF of the cost of one query on log-log axes: the heavy tail, visible.

    Parameters
    ----------
    data : xarray.Dataset or xarray.DataArray
        A :func:`costsim.simulate` result, or a histogram from
        :func:`costsim.analysis.cost_histogram` (optionally with a ``qclass`` dim).
    option : str, optional
        The option to show (needed when ``data`` holds several).
    ax : matplotlib Axes, optional

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import costsim as cs
    >>> ds = cs.simulate(cs.demo.demo_traffic(days=1, volume=2_000), cs.demo.demo_options(), trials=2, seed=3)
    >>> ax = plot_request_cost_ccdf(ds, option="frontier")
    >>> ax.get_xscale(), [line.get_label() for line in ax.get_lines()][-1]
    ('log', 'all classes')
    >>> plt.close(ax.figure)
    """
    from ..analysis.tails import request_cost_ccdf

    option = _single_option(data, option) if "option" in data.dims else None
    ax = _axes(ax)
    per_class = request_cost_ccdf(data, option=option)
    pooled = request_cost_ccdf(data, option=option, over=("trial", "qclass"))
    curves = [(str(c), f"C{i % 10}", 1.4, per_class.sel(qclass=c)) for i, c in enumerate(_classes(per_class))]
    curves.append(("all classes", "0.1", 2.2, pooled))
    for label, color, lw, s in curves:
        if option is not None:
            s = s.sel(option=option)
        # from the last edge every query costs more than, to the last one some query does
        first = max(int(np.sum(s.values >= 1.0)) - 1, 0)
        keep = (s.values > 0) & np.isfinite(s["cost_upper"].values) & (np.arange(s.size) >= first)
        if keep.any():
            ax.step(s["cost_upper"].values[keep], s.values[keep], where="post", color=color, lw=lw, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_major_formatter(usd_log_formatter())
    ax.set_xlabel("Cost of one query (USD)")
    ax.set_ylabel("Share of queries costing more")
    title = "A few queries cost orders of magnitude more than the typical one"
    ax.set_title(title + (f" ({option})" if option else ""))
    ax.grid(alpha=0.3, which="both")
    ax.legend(frameon=False)
    return ax


def plot_lorenz(data: Any, *, option: str | None = None, ax: Any = None) -> Any:
    """Lorenz curve of per-query cost per class: how much of the bill the priciest queries carry.

    The legend gives each class's Gini coefficient; the pooled curve is annotated
    with the share of cost of the most expensive 1% and 10% of queries.

    Parameters
    ----------
    data, option, ax
        As in :func:`plot_request_cost_ccdf`.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import costsim as cs
    >>> ds = cs.simulate(cs.demo.demo_traffic(days=1, volume=2_000), cs.demo.demo_options(), trials=2, seed=3)
    >>> ax = plot_lorenz(ds, option="small")
    >>> ax.get_xlabel()
    'Share of queries, cheapest first'
    >>> plt.close(ax.figure)
    """
    from matplotlib.ticker import PercentFormatter

    from ..analysis.tails import cost_share_of_top, gini, lorenz_curve

    option = _single_option(data, option) if "option" in data.dims else None
    ax = _axes(ax, figsize=(8.5, 5.5))
    sel = {} if option is None else {"option": option}
    per_class, g = lorenz_curve(data, option=option), gini(data, option=option)
    pooled = lorenz_curve(data, option=option, over=("trial", "qclass"))
    g_pooled = gini(data, option=option, over=("trial", "qclass"))
    top = cost_share_of_top(data, (0.01, 0.1), option=option, over=("trial", "qclass"))
    ax.plot([0, 1], [0, 1], color="0.6", lw=1, ls="--", label="every query costs the same")
    for i, c in enumerate(_classes(per_class)):
        curve = per_class.sel(qclass=c, **sel)
        ax.plot(curve["request_share"], curve["cost_share"], color=f"C{i % 10}", lw=1.4,
                label=f"{c} (Gini {float(g.sel(qclass=c, **sel)):.2f})")
    curve = pooled.sel(**sel)
    ax.plot(curve["request_share"], curve["cost_share"], color="0.1", lw=2.2,
            label=f"all classes (Gini {float(g_pooled.sel(**sel)):.2f})")
    shares = [float(top.sel(top=t, **sel)) for t in (0.01, 0.1)]
    ax.plot([0.99, 0.9], [1 - shares[0], 1 - shares[1]], "o", color="0.1", ms=5)
    ax.text(0.03, 0.97, f"all classes: the priciest 1% of queries carry {shares[0]:.0%} of the cost,\n"
            f"the priciest 10% carry {shares[1]:.0%} (dots)", transform=ax.transAxes, va="top", fontsize="small",
            bbox={"facecolor": "white", "edgecolor": "0.8", "alpha": 0.9})
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("Share of queries, cheapest first")
    ax.set_ylabel("Share of cost")
    ax.set_title("Where the bill concentrates" + (f" ({option})" if option else ""))
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize="small")
    return ax


def plot_class_shares(ds: xr.Dataset, *, option: str | None = None, ax: Any = None) -> Any:
    """Per class, its share of the queries next to its share of the cost (medians across trials).

    Parameters
    ----------
    ds : xarray.Dataset
        A :func:`costsim.simulate` result (every option works, capacity ones too).
    option : str, optional
        The option whose cost shares to show (needed when ``ds`` holds several).
    ax : matplotlib Axes, optional

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import costsim as cs
    >>> ds = cs.simulate(cs.demo.demo_traffic(days=1, volume=2_000), cs.demo.demo_options(), trials=2, seed=3)
    >>> ax = plot_class_shares(ds, option="frontier")
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['share of queries', 'share of cost']
    >>> plt.close(ax.figure)
    """
    from matplotlib.ticker import PercentFormatter

    from ..analysis.tails import class_shares

    option = _single_option(ds, option)
    ax = _axes(ax)
    shares = class_shares(ds, option=option, q=0.5).sel(option=option)
    classes = [str(c) for c in shares["qclass"].values.tolist()]
    x = np.arange(len(classes))
    for offset, what, color, label in ((-0.2, "queries", "0.65", "share of queries"),
                                       (0.2, "cost", "C3", "share of cost")):
        values = shares.sel(share=what).values
        bars = ax.bar(x + offset, values, width=0.4, color=color, label=label)
        ax.bar_label(bars, labels=[f"{v:.0%}" for v in values], fontsize="small", padding=2)
    ax.set_xticks(x, classes)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(0, min(1.0, float(np.nanmax(shares.values)) * 1.15 + 0.02))
    ax.set_ylabel("Share of the total (median across trials)")
    ax.set_xlabel("Query class")
    ax.set_title(f"Rare classes can carry most of the cost ({option})")
    ax.legend(frameon=False)
    return ax
