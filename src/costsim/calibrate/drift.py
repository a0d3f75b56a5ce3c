"""Drift: how far production's level may sit from the pilot's, learned from the pilot.

A pilot's own block bootstrap sees how well the log pins down its level (volume,
mean tokens per request); it cannot see the level wander *between* windows, and
production is a different window.  The pilot shows how the level wanders at the
scales it covers: cut it into ``J`` short windows and compare the means of
adjacent stretches of ``w`` windows,

``D(w) = mean over t of (log m(t, t + w) - log m(t - w, t)) ** 2``

(each ``m`` a ratio of sums: requests over what the fitted profile expects, or
tokens over requests).  Independent windows give ``D(w) = c / w`` (slope -1 in
log-log); a level that wanders gives a flatter slope ``alpha``.  A power law
``D(w) = c w**alpha`` is fitted at the scales ``w = 1, 2, 4, ... <= J / 4``
(weights: the independent pairs at each scale) and extrapolated to the pair
(pilot of ``P`` windows, horizon of ``H``) through the power mean of order
``alpha`` of ``P`` and ``H``, exact at both ends: ``c (1/P + 1/H) / 2`` for
independent windows (harmonic mean), ``c`` for a persistent level shift
(``alpha = 0``).  ``alpha`` is clipped to ``[-1, 0]``: within a short log a
random walk cannot be told from bursts lasting a few windows, and extrapolating
a growing variance past the log's own scales would turn seconds of burstiness
into hours of drift.  :func:`costsim.project` takes the larger of this
prediction and the block bootstrap's for each quantity.

The slope is read as drift only where it exceeds -1 significantly (a one-sided
t-test on the regression, :data:`TEST_LEVEL`): noise in a few points of a
stationary log would otherwise widen every band.  A window is at least the
fitted count bin and, where the log bursts on and off, a mean on/off cycle:
shorter windows see the bursts, which the simulation draws itself, not the
level.  A log too short for :data:`MIN_WINDOWS` such windows of
:data:`MIN_ROWS_PER_WINDOW` rows shows nothing of its drift: none is estimated
(the bootstrap's variance stands) and the fit report says so.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
from scipy import stats

from ..traffic.processes import OnOff
from ._bootstrap import block_index
from .arrivals import ArrivalFit, _hourly_factor

__all__ = ["MAX_WINDOWS", "MIN_ROWS_PER_WINDOW", "MIN_WINDOWS", "DriftFit", "fit_drift"]

#: Quantities whose drift is estimated.
QUANTITIES = ("volume", "input_tokens", "output_tokens")
#: Most short windows the pilot is cut into.
MAX_WINDOWS = 64
#: Fewest short windows (three scales 1, 2, 4 of the power law).
MIN_WINDOWS = 16
#: Rows per short window, on average, at least.
MIN_ROWS_PER_WINDOW = 20
#: False-alarm rate of the test for a variance that decays slower than independent windows'.
TEST_LEVEL = 0.05


@dataclasses.dataclass(frozen=True)
class DriftFit:
    """How the level of volume and mean tokens wanders in a log (see the module notes).

    Attributes
    ----------
    windows : int
        Short windows the log was cut into (0: too few rows, not estimated).
    window : pandas.Timedelta
        Their length.
    exponent : dict of str to float
        Fitted ``alpha`` per quantity (``volume``, ``input_tokens``, ``output_tokens``).
    log_c : dict of str to float
        ``log c`` of the fitted power law per quantity.
    note : str
        What was estimated, from how much data (or why nothing was).
    """

    windows: int
    window: pd.Timedelta
    exponent: dict[str, float]
    log_c: dict[str, float]
    note: str

    def variance(self, horizon: pd.Timedelta) -> dict[str, float] | None:
        """Per quantity, the predicted variance of the log of the level of a window of
        length ``horizon`` that follows this log, relative to the log's level (None when
        not estimated)."""
        if not self.windows:
            return None
        p, h = float(self.windows), max(horizon / self.window, 1e-9)
        out = {}
        for q in QUANTITIES:
            alpha = self.exponent[q]
            w = math.sqrt(p * h) if abs(alpha) < 1e-9 else ((p**alpha + h**alpha) / 2) ** (1 / alpha)
            out[q] = math.exp(self.log_c[q] + alpha * math.log(w))
        return out

    def table(self, horizon: pd.Timedelta | None = None) -> pd.DataFrame:
        """One row per quantity: the exponent, and the predicted sd of the log level at
        ``horizon`` (default: 9x the log)."""
        horizon = self.window * self.windows * 9 if horizon is None else horizon
        var = self.variance(horizon) or {}
        return pd.DataFrame({
            "windows": self.windows, "window": self.window,
            "exponent": [self.exponent.get(q, math.nan) for q in QUANTITIES],
            "log_sd_9x": [math.sqrt(var[q]) if q in var else math.nan for q in QUANTITIES],
        }, index=pd.Index(QUANTITIES, name="quantity"))


def _pair_variance(num: np.ndarray, den: np.ndarray, w: int) -> tuple[float, int]:
    """``D(w)``: mean squared log-ratio of the means of adjacent stretches of ``w`` windows,
    and the number of pairs it averages."""
    cn, cd = np.r_[0.0, np.cumsum(num)], np.r_[0.0, np.cumsum(den)]
    t = np.arange(w, num.size - w + 1)
    left_n, left_d = cn[t] - cn[t - w], cd[t] - cd[t - w]
    right_n, right_d = cn[t + w] - cn[t], cd[t + w] - cd[t]
    ok = (left_n > 0) & (left_d > 0) & (right_n > 0) & (right_d > 0)
    if not ok.any():
        return math.nan, 0
    d = np.log(right_n[ok] / right_d[ok]) - np.log(left_n[ok] / left_d[ok])
    return float(np.mean(d * d)), int(ok.sum())


def _power_law(num: np.ndarray, den: np.ndarray) -> tuple[float, float] | None:
    """``(alpha, log c)`` of ``D(w)`` over ``w = 1, 2, 4, ... <= J / 4``, or None.  ``alpha`` is -1
    (independent windows) unless the fitted slope exceeds -1 significantly (one-sided t-test at
    :data:`TEST_LEVEL` on the weighted regression's ``k - 2`` degrees of freedom)."""
    j = num.size
    scales = [w for w in (2**k for k in range(16)) if w <= j // 4]
    pts = [(w, *_pair_variance(num, den, w)) for w in scales]
    pts = [(w, d) for w, d, n in pts if n > 0 and d > 0]
    if len(pts) < 3:
        return None
    x = np.log([w for w, _ in pts])
    y = np.log([d for _, d in pts])
    wt = np.array([j / (2.0 * w) for w, _ in pts])
    xm, ym = np.average(x, weights=wt), np.average(y, weights=wt)
    sxx = np.sum(wt * (x - xm) ** 2)
    slope = float(np.sum(wt * (x - xm) * (y - ym)) / sxx)
    resid = y - ym - slope * (x - xm)
    dof = len(pts) - 2
    se = math.sqrt(float(np.sum(wt * resid**2)) / dof / sxx) if dof > 0 else math.inf
    significant = slope + 1.0 > stats.t.isf(TEST_LEVEL, dof) * se if dof > 0 else False
    alpha = float(np.clip(slope, -1.0, 1.0)) if significant else -1.0
    return alpha, float(ym - alpha * xm)


def _shortest_window(arrivals: ArrivalFit) -> pd.Timedelta:
    """The fitted count bin, or a mean on/off cycle where the arrivals burst on and off: shorter
    windows see the bursts (which the simulation draws itself), not the level."""
    shortest = arrivals.bin
    for m in arrivals.modulation:
        if isinstance(m, OnOff):
            cycle = (m.on.mean() + m.off.mean()) * pd.Timedelta(m.unit)
            shortest = max(shortest, pd.Timedelta(cycle).ceil("s"))
    return shortest


def fit_drift(timestamp: np.ndarray, input_tokens: np.ndarray, output_tokens: np.ndarray, *,
              start: pd.Timestamp, span: pd.Timedelta, arrivals: ArrivalFit) -> DriftFit:
    """Estimate how volume and mean token counts wander across a log (see the module notes).

    Parameters
    ----------
    timestamp : numpy.ndarray
        ``datetime64[ns]`` arrival times, sorted.
    input_tokens, output_tokens : numpy.ndarray
        Token counts per row.
    start, span : pandas.Timestamp, pandas.Timedelta
        The window the log covers.
    arrivals : ArrivalFit
        The fitted arrivals: the volume is compared with what its daily/weekly
        profile expects, so the profile is not read as drift.

    Returns
    -------
    DriftFit

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t0 = pd.Timestamp("2026-01-05")
    >>> ts = (t0 + pd.to_timedelta(np.sort(rng.uniform(0, 3600, 6000)), unit="s")).to_numpy()
    >>> from costsim.calibrate.arrivals import fit_arrivals
    >>> arr = fit_arrivals(ts, start=t0, span=pd.Timedelta("1h"))
    >>> d = fit_drift(ts, rng.lognormal(6, 1, 6000), rng.lognormal(4, 1, 6000), start=t0,
    ...               span=pd.Timedelta("1h"), arrivals=arr)
    >>> d.windows, d.exponent["volume"]  # one-minute windows; independent, as Poisson counts are
    (60, -1.0)
    >>> round(d.variance(pd.Timedelta("9h"))["volume"] * 6000, 1)  # Poisson: (1 + 1/9) / rows, here estimated
    1.4
    """
    n = timestamp.shape[0]
    shortest = _shortest_window(arrivals)
    j = min(MAX_WINDOWS, n // MIN_ROWS_PER_WINDOW, int(span // shortest))
    if j < MIN_WINDOWS:
        return DriftFit(0, span, {}, {}, f"drift not estimated: it needs {MIN_WINDOWS} windows of at least "
                        f"{MIN_ROWS_PER_WINDOW} rows on average and at least {shortest} (the count bin, and an "
                        f"on/off cycle where the log bursts); {n} rows over {span} give {j}")
    window = pd.Timedelta(span.value // j, unit="ns")
    idx = np.minimum(block_index(timestamp, start.to_datetime64(), window), j - 1)
    count = np.bincount(idx, minlength=j).astype(float)
    mids = pd.DatetimeIndex(start + window * (np.arange(j) + 0.5))
    expected = _hourly_factor(mids, arrivals.daily_profile, arrivals.weekly_profile)
    series = {
        "volume": (count, expected),
        "input_tokens": (np.bincount(idx, weights=input_tokens, minlength=j), count),
        "output_tokens": (np.bincount(idx, weights=output_tokens, minlength=j), count),
    }
    fits = {q: _power_law(num, den) for q, (num, den) in series.items()}
    missing = [q for q, f in fits.items() if f is None]
    if missing:
        return DriftFit(0, span, {}, {}, f"drift not estimated: too few windows with {', '.join(missing)}")
    return DriftFit(
        windows=j, window=window,
        exponent={q: f[0] for q, f in fits.items()},
        log_c={q: f[1] for q, f in fits.items()},
        note=f"drift estimated from {n} rows in {j} windows of {window}",
    )
