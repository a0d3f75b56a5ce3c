"""Plot helpers. They draw what :mod:`costsim.results` computes and never compute
statistics themselves; each takes ``ax=None`` and returns its Axes.  matplotlib is
imported lazily, and no global style is changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

__all__ = ["plot_cost_bands", "usd_formatter"]


def usd_formatter():
    """A tick formatter for US dollars: $950, $12.5k, $3.2M."""
    from matplotlib.ticker import FuncFormatter

    def fmt(x: float, _pos: Any = None) -> str:
        ax = abs(x)
        for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
            if ax >= div:
                return f"${x / div:.3g}{suffix}"
        return f"${x:.3g}" if ax >= 0.01 or x == 0 else f"${x:.2e}"

    return FuncFormatter(fmt)


def _axes(ax: Any):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(9, 4.8), layout="constrained")
    return ax


def plot_cost_bands(
    ds: xr.Dataset,
    *,
    ax: Any = None,
    q: Sequence[float] = (0.05, 0.25, 0.75, 0.95),
    cumulative: bool = False,
    options: Sequence[str] | None = None,
) -> Any:
    """Fan chart of cost over time: per option, shaded percentile bands and the median.

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
    'Cumulative cost by deployment option (median and p5–p95, p25–p75 bands over 8 trials)'
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
    pairs = list(zip(qs[: len(qs) // 2], qs[::-1][: len(qs) // 2]))
    time = bands["time"].values
    for i, name in enumerate(names):
        color = f"C{i}"
        b = bands.sel(option=name)
        for j, (lo, hi) in enumerate(pairs):
            ax.fill_between(
                time, b.sel(quantile=lo).values, b.sel(quantile=hi).values,
                color=color, alpha=0.12 + 0.14 * j, linewidth=0,
            )
        ax.plot(time, b.sel(quantile=0.5).values, color=color, lw=1.6, label=f"{name} (median)")
    band_text = ", ".join(f"p{_pct(lo)}–p{_pct(hi)}" for lo, hi in pairs)
    what = "Cumulative cost" if cumulative else f"Cost per {_duration(ds.attrs.get('bin_width', 'bin'))}"
    ax.set_title(f"{what} by deployment option (median and {band_text} bands over {ds.sizes['trial']} trials)")
    ax.set_ylabel(f"{what} (USD)")
    ax.set_xlabel("Time (UTC)")
    ax.yaxis.set_major_formatter(usd_formatter())
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", frameon=False)
    ax.grid(alpha=0.3)
    ax.figure.autofmt_xdate()
    return ax


def _duration(text: str) -> str:
    """'0 days 01:00:00' -> 'hour'-style words for labels."""
    import pandas as pd

    try:
        td = pd.Timedelta(text)
    except ValueError:
        return text
    for unit, seconds in (("day", 86400), ("hour", 3600), ("minute", 60)):
        n = td.total_seconds() / seconds
        if n >= 1 and n == int(n):
            return unit if n == 1 else f"{int(n)} {unit}s"
    return str(td)


def _pct(x: float) -> str:
    return f"{100 * x:g}"
