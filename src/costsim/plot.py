"""Plot helpers. They draw what :mod:`costsim.results` computes and never compute
statistics themselves; each takes ``ax=None`` and returns its Axes.  matplotlib is
imported lazily, and no global style is changed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

__all__ = ["plot_cost_bands", "usd_formatter"]


def usd_formatter():
    """A tick formatter for US dollars: $950, $12.5k, $3.2M, -$40.

    Examples
    --------
    >>> f = usd_formatter()
    >>> f(950), f(12_500), f(3.2e6), f(-40), f(0.004)
    ('$950', '$12.5k', '$3.2M', '-$40', '$4.00e-03')
    """
    from matplotlib.ticker import FuncFormatter

    def fmt(x: float, _pos: Any = None) -> str:
        sign, ax = ("-" if x < 0 else ""), abs(x)
        for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
            if ax >= div:
                return f"{sign}${ax / div:.3g}{suffix}"
        return f"{sign}${ax:.3g}" if ax >= 0.01 or x == 0 else f"{sign}${ax:.2e}"

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

    The legend names each option's median line and the bands (quantiles across
    trials).  A cumulative curve starts at 0 and puts each value at the end of its
    bin; a per-bin curve puts each value at the start of its bin.

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


def _band_alpha(j: int) -> float:
    return 0.12 + 0.14 * j


def _bin_width(ds: xr.Dataset, time: np.ndarray) -> np.timedelta64:
    import pandas as pd

    try:
        return pd.Timedelta(ds.attrs["bin_width"]).to_timedelta64()
    except (KeyError, ValueError):
        return time[1] - time[0] if time.size > 1 else np.timedelta64(0, "ns")


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
