"""Sensitivity: a tornado chart of what drives the spread of cost."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from ._common import _axes

__all__ = ["plot_tornado"]


def plot_tornado(sens: xr.Dataset, *, option: str | None = None, top: int | None = None,
                 labels: Mapping[str, str] | None = None, ax: Any = None) -> Any:
    """Tornado chart: rank correlation of each uncertain parameter with cost, largest first.

    Bars are Spearman's rank correlation (sign: more of the parameter, more or
    less cost); each is labelled with the parameter's first-order index, the
    share of the cost variance it explains alone, with "not told apart from 0"
    where the estimate is within twice its noise of zero (``first_order.attrs["noise"]``).
    True first-order shares of independent parameters sum to at most 100%; where
    the estimates sum to more (estimation noise with few trials), they are shown
    scaled to sum to 100% and a note under the chart says so.

    Parameters
    ----------
    sens : xarray.Dataset
        A :func:`costsim.analysis.sensitivity` result.
    option : str, optional
        The option to show (needed when ``sens`` has several).
    top : int, optional
        Show only the ``top`` parameters with the largest absolute correlation.
    labels : mapping of str to str, optional
        Names for parameter paths (e.g. ``{"options['api'].input": "API price"}``);
        the others get the readable ``label`` of ``sens`` (``"agent: cached fraction"``).
    ax : matplotlib Axes, optional

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import costsim as cs
    >>> ds = cs.simulate(cs.demo.demo_traffic(days=1, volume=1_000), cs.demo.demo_options(), trials=20, seed=3)
    >>> ax = plot_tornado(cs.analysis.sensitivity(ds), option="small", top=1,
    ...                   labels={"traffic.arrivals.growth": "monthly growth"})
    >>> tuple(float(v) for v in ax.get_xlim()), len(ax.get_yticklabels())
    ((-1.0, 1.0), 1)
    >>> plt.close(ax.figure)
    """
    from ._common import _single_option

    if "option" in sens.dims:
        option = _single_option(sens, option)
        sens = sens.sel(option=option)
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
        raise ValueError(f"top must be an integer >= 1; got {top!r}")
    full = sens
    order = np.argsort(-np.abs(np.nan_to_num(sens["spearman"].values)), kind="stable")[:top]
    sens = sens.isel(parameter=order)
    ax = _axes(ax, figsize=(9, 1.6 + 0.55 * sens.sizes["parameter"]))
    readable = sens["label"].values.tolist() if "label" in sens.coords else sens["parameter"].values.tolist()
    names = [(labels or {}).get(str(p), str(r)) for p, r in zip(sens["parameter"].values.tolist(), readable)]
    rho, s1 = sens["spearman"].values, sens["first_order"].values
    noise, trials = float(sens["first_order"].attrs.get("noise", 0.0)), sens["first_order"].attrs.get("trials")
    total = float(np.nansum(full["first_order"].values))  # over every parameter, shown or not
    scale = 1.0 / total if total > 1.0 else 1.0
    y = np.arange(len(names))[::-1]
    ax.barh(y, rho, color=np.where(rho >= 0, "C3", "C0"), height=0.6)
    for yy, r, s in zip(y, rho, s1):
        text = f"explains {s * scale:.0%}{'*' if scale < 1 else ''} of variance alone"
        if s <= 2 * noise:
            text = f"{s * scale:.0%}{'*' if scale < 1 else ''} alone: not told apart from 0" + (
                f" ({trials} trials)" if trials else "")
        # right of the bar's end, or right of zero for a negative bar (its end may reach the tick labels);
        # inside a long positive bar, whose end leaves no room on the right
        inside = r > 0.45
        ax.annotate(text, (max(r, 0.0), yy), xytext=(-6 if inside else 6, 0), textcoords="offset points",
                    ha="right" if inside else "left", va="center", fontsize="small",
                    color="white" if inside else "black")
    ax.axvline(0, color="0.3", lw=1)
    ax.set_yticks(y, names)
    ax.set_xlim(-1.0, 1.0)
    note = "" if scale == 1 else (
        f"\n* the first-order estimates sum to {total:.0%}, more than true shares can"
        f"\n(estimation noise{f' of {trials} trials' if trials else ''}): shown scaled to sum to 100%")
    ax.set_xlabel("Rank correlation with total cost (Spearman; > 0: a higher value costs more)" + note)
    ax.set_title("What drives the spread of cost" + (f" ({option})" if option else ""))
    ax.grid(alpha=0.3, axis="x")
    return ax
