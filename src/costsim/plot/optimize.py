"""Decisions: the mean-tail frontier of the candidates, and cost bands along a searched parameter."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..decide.result import (
    linked_keys,
    result_dataset,
    search_bands,
    search_slice,
    searched_parameters,
)
from ._common import _axes, _band_alpha, _pct, usd_formatter

__all__ = ["plot_frontier", "plot_search"]


def _label(da: Any, fallback: str) -> str:
    name, units = da.attrs.get("long_name", fallback), da.attrs.get("units", "")
    return f"{name} ({units})" if units else name


def plot_frontier(result: Any, *, ax: Any = None, annotate: bool = True) -> Any:
    """Mean against tail cost of every candidate, the efficient frontier and the chosen plan.

    Each point is a candidate plan of :func:`costsim.optimize`: its mean total cost
    over the trials (x) and its tail measure (y, e.g. CVaR95).  The frontier joins
    the feasible candidates no other beats on both; candidates that miss the
    constraints are grey crosses; the chosen plan is a star.

    Parameters
    ----------
    result : OptimizeResult or xarray.Dataset
        A :func:`costsim.optimize` result (or its ``.dataset``).
    ax : matplotlib Axes, optional
        Where to draw; a new figure if None.
    annotate : bool, default True
        Label the chosen plan and the frontier's ends with their parameters.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from costsim.decide import example_result
    >>> ax = plot_frontier(example_result())
    >>> ax.get_ylabel()
    'CVaR90 of total cost over trials (USD)'
    >>> plt.close(ax.figure)
    """
    ds = result_dataset(result)
    ax = _axes(ax, figsize=(7.5, 5))
    mean, tail = ds["mean_cost"].values, ds["tail_cost"].values
    feasible, frontier = ds["feasible"].values.astype(bool), ds["on_frontier"].values.astype(bool)
    best = int(ds.attrs["best"])
    names = searched_parameters(ds)

    def plan(i: int) -> str:
        return ", ".join(f"{n} = {_value(ds[n].values[i])}" for n in names)

    if (~feasible).any():
        ax.scatter(mean[~feasible], tail[~feasible], marker="x", color="0.6", s=25,
                   label="misses the constraints")
    ax.scatter(mean[feasible & ~frontier], tail[feasible & ~frontier], color="C0", alpha=0.5, s=22,
               label="candidate")
    order = np.nonzero(frontier)[0][np.argsort(mean[frontier], kind="stable")]
    ax.plot(mean[order], tail[order], "-o", color="C1", ms=5, lw=1.6, label="efficient frontier")
    ax.scatter([mean[best]], [tail[best]], marker="*", s=260, color="C3", zorder=5, edgecolor="k", linewidth=0.6,
               label=f"chosen ({ds.attrs['objective']})")
    if annotate:
        ends = {int(order[0]), int(order[-1])} if order.size else set()
        labels = [(plan(best), best, {"fontsize": "small", "color": "C3"})]
        labels += [(plan(i), i, {"fontsize": "x-small", "color": "C1"}) for i in sorted(ends - {best})]
        # what a label must not cover: every marker, and points along the frontier's line
        t = np.linspace(0.0, 1.0, 12)[:, None]
        along = [(1 - t) * np.array([mean[a], tail[a]]) + t * np.array([mean[b], tail[b]])
                 for a, b in itertools.pairwise(order)]
        _place_labels(ax, [(text, (mean[i], tail[i]), style) for text, i, style in labels],
                      np.concatenate([np.column_stack([mean, tail]), *along]))
    ax.set_xlabel(_label(ds["mean_cost"], "Mean total cost"))
    ax.set_ylabel(_label(ds["tail_cost"], "Tail of total cost"))
    ax.set_title(f"Mean vs {ds.attrs['tail']} of {ds.sizes['candidate']} candidate plans "
                 f"({ds.sizes['trial']} trials)")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(usd_formatter())
    ax.grid(alpha=0.3)
    ax.legend(loc="best", frameon=False, fontsize="small")
    return ax


def plot_search(
    result: Any,
    parameter: str | None = None,
    *,
    ax: Any = None,
    q: Sequence[float] = (0.05, 0.25, 0.75, 0.95),
) -> Any:
    """Total-cost bands of the candidates along one searched parameter, the optimum marked.

    The other searched parameters stay at the chosen plan's values.  Shaded:
    quantiles across trials of each candidate's total cost (pairs of ``q`` from
    the outside in); lines: the median, the mean (dotted) and the tail measure
    (dashed, e.g. CVaR95).  Candidates that miss the constraints are shaded grey,
    a budget constraint is a dotted red line, and the chosen plan a vertical line
    and a star (on the objective's curve; on the mean for mean + lambda x CVaR).

    Parameters
    ----------
    result : OptimizeResult or xarray.Dataset
        A :func:`costsim.optimize` result (or its ``.dataset``).
    parameter : str, optional
        The searched parameter on the x axis (``"ptu.units"``); default the first.
        Values that are not numbers (tuples of thresholds) are shown as categories.
    ax : matplotlib Axes, optional
        Where to draw; a new figure if None.
    q : sequence of float
        Band quantiles in pairs from the outside in; the median is always drawn.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from costsim.decide import example_result
    >>> ax = plot_search(example_result())
    >>> ax.get_xlabel()
    'ptu.units'
    >>> plt.close(ax.figure)
    """
    qs = sorted(float(x) for x in q)
    if len(qs) % 2:
        raise ValueError(f"q must hold pairs of band quantiles (low, high); got {tuple(q)!r}")
    ds = result_dataset(result)
    names = searched_parameters(ds)
    parameter = names[0] if parameter is None else parameter
    idx = search_slice(ds, parameter)
    numeric = np.issubdtype(ds[parameter].dtype, np.number)
    if numeric:  # left to right, whatever order the search listed the values in
        idx = idx[np.argsort(ds[parameter].values[idx], kind="stable")]
    ax = _axes(ax)
    raw = ds[parameter].values[idx]
    x = raw.astype(float) if numeric else np.arange(idx.size, dtype=float)
    bands = search_bands(ds, q=[*qs, 0.5]).isel(candidate=idx)
    pairs = list(zip(qs[: len(qs) // 2], qs[::-1][: len(qs) // 2]))
    for j, (lo, hi) in enumerate(pairs):
        ax.fill_between(x, bands.sel(quantile=lo).values, bands.sel(quantile=hi).values, color="C0",
                        alpha=_band_alpha(j), linewidth=0, label=f"p{_pct(lo)}–p{_pct(hi)} across trials")
    ax.plot(x, bands.sel(quantile=0.5).values, "-o", color="C0", ms=3, lw=1.6, label="median")
    ax.plot(x, ds["mean_cost"].values[idx], ":", color="C2", lw=1.8, label="mean")
    ax.plot(x, ds["tail_cost"].values[idx], "--", color="C1", lw=1.6, label=ds.attrs["tail"])
    # the objective is drawn where it is one of those two curves (mean + lambda x CVaR is not a cost)
    on_curve = {"mean": "mean_cost", ds.attrs["tail"]: "tail_cost"}.get(ds.attrs["objective"], "mean_cost")
    infeasible = ~ds["feasible"].values.astype(bool)[idx]
    if infeasible.any():
        steps = np.diff(np.unique(x))
        half = steps.min() / 2 if steps.size else 0.5
        for k, xx in enumerate(x[infeasible]):
            ax.axvspan(xx - half, xx + half, color="0.85", zorder=0, linewidth=0,
                       label="misses the constraints" if k == 0 else None)
    budget = json.loads(ds.attrs.get("constraints", "{}")).get("budget")
    if budget is not None:
        ax.axhline(budget[0], color="C3", ls=":", lw=1.2, label=f"budget (P(above) <= {budget[1]:g})")
    best = int(ds.attrs["best"])
    where = np.nonzero(idx == best)[0]
    if where.size:
        xb = x[where[0]]
        ax.axvline(xb, color="C3", lw=1.0, alpha=0.7)
        ax.scatter([xb], [ds[on_curve].values[best]], marker="*", s=220, color="C3", zorder=5, edgecolor="k",
                   linewidth=0.6,
                   label=f"chosen ({ds.attrs['objective']}): {parameter} = {_value(ds[parameter].values[best])}")
    if not numeric:
        ax.set_xticks(x, [str(v) for v in raw], rotation=30 if idx.size > 6 else 0)
    linked = next((names for names in linked_keys(ds) if parameter in names), [parameter])
    partners = [n for n in linked if n != parameter]  # they move with the parameter: not held fixed
    fixed = ", ".join(f"{n} = {_value(ds[n].values[best])}" for n in names if n not in linked)
    ax.set_title(f"Total cost against {parameter} ({ds.sizes['trial']} trials)"
                 + (f"\nheld at the chosen plan: {fixed}" if fixed else ""))
    ax.set_xlabel(parameter + (f" (with {', '.join(partners)}, linked)" if partners else ""))
    ax.set_ylabel(_label(ds["total_cost"], "Total cost"))
    ax.yaxis.set_major_formatter(usd_formatter())
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, frameon=False, fontsize="small")
    return ax


def _value(value: Any) -> str:
    """A searched value for a label, numbers to 6 significant digits (a tuple's
    entries too: the Dataset holds tuples as text, ``"0.7, 1.4285714285714286"``)."""
    if isinstance(value, (float, np.floating)):
        return f"{value:.6g}"
    if isinstance(value, str):
        parts = value.split(", ")
        try:
            return ", ".join(f"{float(part):.6g}" for part in parts)
        except ValueError:
            return value
    return str(value)


_RING = (  # directions from the anchor, and the text's alignment: below-left first (under a frontier: empty)
    (-1, -1, "right", "top"), (1, -1, "left", "top"), (1, 1, "left", "bottom"), (-1, 1, "right", "bottom"),
    (0, -1.5, "center", "top"), (0, 1.5, "center", "bottom"), (1.3, 0, "left", "center"),
    (-1.3, 0, "right", "center"),
)
_OFFSETS = tuple((dx * r, dy * r, ha, va) for r in (9, 24) for dx, dy, ha, va in _RING)  # points


def _place_labels(ax: Any, labels: list[tuple[str, tuple[float, float], dict]], avoid: np.ndarray) -> None:
    """Annotate each ``(text, (x, y), style)`` at the first of a few offsets around its
    point (near, then further) where the text covers none of the ``avoid`` points
    (data coordinates), no label placed before, and stays inside the axes; else where
    it does least harm (a point covered counts 1, a label 10, leaving the axes 100)."""
    renderer = ax.figure.canvas.get_renderer()
    ax.figure.canvas.draw()  # the layout (and limits) the labels are placed in
    frame = ax.get_window_extent(renderer)
    points = ax.transData.transform(np.asarray(avoid, dtype=float))
    placed: list[Any] = []
    for text, xy, style in labels:
        best = None
        for dx, dy, ha, va in _OFFSETS:
            note = ax.annotate(text, xy, xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
                               arrowprops={"arrowstyle": "-", "color": style.get("color"), "lw": 0.6,
                                           "shrinkA": 0, "shrinkB": 4} if abs(dx) + abs(dy) > 30 else None,
                               bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.75},
                               **style)
            box = note.get_window_extent(renderer).padded(3)
            covered = int(((points[:, 0] >= box.x0) & (points[:, 0] <= box.x1)
                           & (points[:, 1] >= box.y0) & (points[:, 1] <= box.y1)).sum())
            covered += 10 * sum(box.overlaps(other) for other in placed)
            covered += 0 if (box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0
                             and box.y1 <= frame.y1) else 100
            if best is None or covered < best[0]:
                if best is not None:
                    best[1].remove()
                best = (covered, note, box)
            else:
                note.remove()
            if covered == 0:
                break
        placed.append(best[2])
