"""Backtest plot: each origin's forecast band beside the cost its horizon really had."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._common import _axes

if TYPE_CHECKING:
    from ..calibrate import Backtest

__all__ = ["plot_backtest"]


def plot_backtest(backtest: Backtest, *, ax: Any = None) -> Any:
    """Forecast bands of every origin of a backtest, relative to the realised cost.

    One column per origin: the bands (every level, the narrowest darkest), the
    median (dot) and the naive extrapolations (crosses), all divided by the
    realised cost of the horizon, so the realised cost is the line at 1 and a
    band covers where it crosses it.  The title gives the coverage per level
    from :meth:`~costsim.calibrate.Backtest.metrics`.  A log scale is used when
    the ratios span more than a factor 5.

    Parameters
    ----------
    backtest : Backtest
        A :func:`costsim.backtest` result.
    ax : matplotlib Axes, optional
        Where to draw; a new figure if None.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import numpy as np, costsim as cs
    >>> rng = np.random.default_rng(0)
    >>> log = {"timestamp": np.sort(rng.uniform(0, 4 * 3600, 4000)),
    ...        "input_tokens": np.round(rng.lognormal(6.0, 1.0, 4000)),
    ...        "output_tokens": np.round(rng.lognormal(4.0, 0.7, 4000))}
    >>> bt = cs.backtest(log, cs.TokenPricing(input=3.0, output=15.0), origins=4, trials=50,
    ...                  fit_options={"families": ["LogNormal"], "segments": 1})
    >>> plot_backtest(bt).get_ylabel()
    'forecast / realised cost'
    """
    ds = backtest.dataset
    ax = _axes(ax)
    x = np.arange(ds.sizes["origin"])
    y = ds["realised"].to_numpy()
    levels = sorted(ds["level"].to_numpy(), reverse=True)
    ratios = [np.array([1.0])]
    for j, level in enumerate(levels):
        lo = ds["lower"].sel(level=level).to_numpy() / y
        hi = ds["upper"].sel(level=level).to_numpy() / y
        ratios += [lo, hi]
        ax.vlines(x, lo, hi, color="C0", alpha=0.35 + 0.5 * j / max(len(levels) - 1, 1), lw=6 + 6 * j,
                  label=f"{100 * level:g}% band")
    median = ds["median"].to_numpy() / y
    ax.plot(x, median, "o", color="C0", mec="white", ms=7, label="forecast median")
    for name, marker, colour, words in (("naive_per_request", "x", "C3", "naive: pilot \\$/request x requests"),
                                        ("naive_per_hour", "+", "C1", "naive: pilot \\$/hour x hours")):
        r = ds[name].to_numpy() / y
        ratios.append(r)
        ax.plot(x, r, marker, color=colour, ms=9, mew=2, label=words)
    ax.axhline(1.0, color="k", lw=1.5, label="realised cost")
    failed = ds["status"].to_numpy() != "ok"
    for i in np.flatnonzero(failed):
        ax.annotate("no forecast", (x[i], 1.0), xytext=(0, 12), textcoords="offset points", ha="center",
                    fontsize="small", color="0.4")
    finite = np.concatenate([r[np.isfinite(r) & (r > 0)] for r in ratios])
    if finite.size and finite.max() / finite.min() > 5:
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
    starts = ds["pilot_start"].to_numpy().astype("datetime64[m]")
    same_day = starts.astype("datetime64[D]").min() == starts.astype("datetime64[D]").max()
    ax.set_xticks(x, [str(s)[11:16] if same_day else str(s)[:16].replace("T", "\n") for s in starts],
                  fontsize="small")
    ax.set_xlabel("pilot start (UTC)")
    ax.set_ylabel("forecast / realised cost")
    m = backtest.metrics()
    cover = ", ".join(f"{100 * lv:g}% band covers {int(r.covered)}/{int(r.origins)}" for lv, r in m.iterrows())
    ax.set_title(f"Backtest: {cover}")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    return ax
