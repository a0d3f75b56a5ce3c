"""Calibration plots: a fitted traffic against its log, and the pilot gap."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._common import _axes, usd_formatter

if TYPE_CHECKING:
    from ..calibrate import PilotGap, TrafficFit

__all__ = ["plot_pilot_gap", "plot_qq"]


def _usd(x: float, fmt: str = ",.2f") -> str:
    """Dollars for a label, the sign escaped from matplotlib's mathtext."""
    return "\\$" + format(float(x), fmt)


def plot_qq(fit: TrafficFit, column: str = "input_tokens", *, qclass: str | None = None, ax: Any = None,
            n: int = 200) -> Any:
    """QQ plot of a token column: the log's quantiles against the fit's, on log axes.

    Points on the diagonal mean a good fit; the title gives the KS distance of
    the pooled fit.  The quantiles come from
    :func:`costsim.calibrate.report.qq_points`.

    Parameters
    ----------
    fit : TrafficFit
        A :func:`costsim.fit_traffic` result.
    column : {"input_tokens", "output_tokens"}
        The token column.
    qclass : str, optional
        A class of the log (default the whole log).
    ax : matplotlib Axes, optional
        Where to draw; a new figure if None.
    n : int, default 200
        Number of quantiles.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import numpy as np, costsim as cs
    >>> rng = np.random.default_rng(0)
    >>> fit = cs.fit_traffic({"timestamp": np.arange(1000.0), "input_tokens": np.round(rng.lognormal(6, 1, 1000)),
    ...                       "output_tokens": np.round(rng.lognormal(4, 0.5, 1000))}, families=["LogNormal"])
    >>> ax = plot_qq(fit, "output_tokens")
    >>> ax.get_xlabel()
    'fitted quantile (output tokens)'
    """
    from ..calibrate.report import qq_points

    pts = qq_points(fit, column, qclass=qclass, n=n)
    ax = _axes(ax, figsize=(5.2, 5.0))
    words = column.replace("_", " ")
    x, y = np.maximum(pts["fit"], 0.5), np.maximum(pts["log"], 0.5)  # zeros sit at 0.5 on log axes
    lo, hi = min(x.min(), y.min()), max(x.max(), y.max())
    ax.plot([lo, hi], [lo, hi], color="0.6", lw=1, ls="--", label="perfect fit")
    ax.scatter(x, y, s=10, label="quantiles (p0.25 ... p99.9)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"fitted quantile ({words})")
    ax.set_ylabel(f"log quantile ({words})")
    who = "whole log" if qclass is None else f"class {qclass!r}"
    ax.set_title(f"QQ plot of {words}, {who}: KS distance {pts.attrs['ks']:.3f}")
    ax.legend(loc="upper left")
    return ax


def plot_pilot_gap(gap: PilotGap, *, actual: float | None = None, ax: Any = None, bins: int = 40) -> Any:
    """The pilot gap: the simulated distribution of production cost beside the naive
    extrapolation (pilot mean cost per request x production requests).

    Parameters
    ----------
    gap : PilotGap
        A :func:`costsim.pilot_gap` result.
    actual : float, optional
        The realised cost, where known (a back-test).
    ax : matplotlib Axes, optional
        Where to draw; a new figure if None.
    bins : int, default 40
        Histogram bins of the trials' totals.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import numpy as np, costsim as cs
    >>> rng = np.random.default_rng(0)
    >>> log = {"timestamp": np.sort(rng.uniform(0, 3600, 1500)),
    ...        "input_tokens": np.round(rng.lognormal(6.0, 1.0, 1500)),
    ...        "output_tokens": np.round(rng.lognormal(4.0, 0.7, 1500))}
    >>> fit = cs.fit_traffic(log, families=["LogNormal"])
    >>> gap = cs.pilot_gap(fit, cs.TokenPricing(input=3.0, output=15.0), trials=50)
    >>> plot_pilot_gap(gap).get_xlabel()
    'total cost over the horizon (USD)'
    """
    ax = _axes(ax)
    ax.hist(gap.simulated, bins=bins, color="C0", alpha=0.55, label=f"simulated ({gap.simulated.size} trials)")
    q = gap.quantiles
    lo, hi = q.index.min(), q.index.max()
    ax.axvspan(q[lo], q[hi], color="C0", alpha=0.12,
               label=f"simulated p{100 * lo:g}-p{100 * hi:g}: {_usd(q[lo])} - {_usd(q[hi])}")
    ax.axvline(gap.median, color="C0", lw=2, label=f"simulated median {_usd(gap.median)}")
    ax.axvline(gap.naive, color="C3", lw=2, ls="--",
               label=f"naive: pilot {_usd(gap.pilot_cost_per_request, '.4g')}/request x {gap.requests:,.0f} "
                     f"requests = {_usd(gap.naive)}")
    if actual is not None:
        ax.axvline(actual, color="k", lw=2, ls=":", label=f"realised {_usd(actual)}")
    ax.xaxis.set_major_formatter(usd_formatter())
    ax.set_xlabel("total cost over the horizon (USD)")
    ax.set_ylabel("trials")
    ax.set_title("Pilot gap: naive extrapolation vs simulated production cost")
    # below the axes: the lines can sit anywhere in the histogram, so no corner inside is free
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=2, fontsize="small", frameon=False)
    return ax
