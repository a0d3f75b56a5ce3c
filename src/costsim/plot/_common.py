"""Shared helpers of the plot modules: dollar ticks, new axes, label words."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

__all__ = ["usd_formatter", "usd_log_formatter"]


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


def _log_if_positive(ax: Any, values: Any) -> bool:
    """Put ``ax``'s y axis on a log scale if every value drawn (NaN aside) is > 0, else keep it linear
    with dollar ticks (a log axis drops zeros: a free option or an all-zero result drew nothing)."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if v.size and np.all(v > 0):
        ax.set_yscale("log")
        return True
    ax.yaxis.set_major_formatter(usd_formatter())
    ax.set_ylim(bottom=0)
    return False


def _axes(ax: Any, figsize: tuple[float, float] = (9, 4.8)):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=figsize, layout="constrained")
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


def usd_log_formatter():
    """Dollar ticks for log axes that reach below a cent: $0.001, $1e-05, $2.5, $12k.

    Examples
    --------
    >>> f = usd_log_formatter()
    >>> f(0.001), f(0.05), f(1e-5), f(2.5), f(12_000)
    ('$0.001', '$0.05', '$1e-05', '$2.5', '$12k')
    """
    from matplotlib.ticker import FuncFormatter

    dollars = usd_formatter()

    def fmt(x: float, _pos: Any = None) -> str:
        if 0 < abs(x) < 0.01:
            return f"${x:.1g}" if abs(x) >= 1e-4 else f"${x:.0e}"
        return dollars(x)

    return FuncFormatter(fmt)


def _figure(fig: Any, ncols: int, nrows: int = 1, **kwargs: Any):
    """``ncols`` x ``nrows`` Axes on a new figure, or on the given (empty) figure."""
    import matplotlib.pyplot as plt

    figsize = kwargs.pop("figsize", (6 * ncols, 4.8 * nrows))  # for a new figure; a given one keeps its size
    if fig is None:
        fig = plt.figure(figsize=figsize, layout="constrained")
    return fig.subplots(nrows, ncols, squeeze=False, **kwargs).ravel().tolist()


def _option_color(ds: xr.Dataset | xr.DataArray, name: str) -> str:
    """An option keeps its colour whichever others are shown."""
    return f"C{ds['option'].values.tolist().index(name) % 10}"


def _single_option(data: Any, option: str | None) -> str:
    """The one option a per-option plot shows."""
    if "option" not in data.dims and "option" not in data.coords:
        raise ValueError("data has no 'option' dim")
    names = [str(o) for o in np.atleast_1d(data["option"].values).tolist()]
    if option is None:
        if len(names) != 1:
            raise ValueError(f"option must name the option to show, one of {names}; got None")
        return names[0]
    if option not in names:
        raise ValueError(f"option must be one of {names}; got {option!r}")
    return option
