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
(weighted least squares, weights the independent pairs at each scale) and
extrapolated to the pair (pilot of ``P`` windows, horizon of ``H``) through the
power mean of order ``alpha`` of ``P`` and ``H``, exact at both ends:
``c (1/P + 1/H) / 2`` for independent windows (harmonic mean), ``c`` for a
persistent level shift (``alpha = 0``).

``alpha`` is clipped to ``[-1, 0]``: within a short log a random walk cannot be
told from bursts lasting a few windows, and extrapolating a growing variance
past the log's own scales would turn seconds of burstiness into hours of drift.
The slope is read as drift only where it exceeds -1 significantly (a one-sided
t-test on the regression, :data:`TEST_LEVEL`): noise in a few points of a
stationary log would otherwise widen every band.  :func:`costsim.project` takes
the larger of this prediction and the block bootstrap's for each quantity.

A window holds at least :data:`MIN_ROWS_PER_WINDOW` rows on average and lasts at
least the log's clock tick.  For the volume it also lasts at least the
burstiness the simulation draws itself (shorter windows would read it as
drift): the fitted count bin where the counts are overdispersed, a mean on/off
cycle where they burst on and off; Poisson counts have none.  The mean token
counts are not drawn per bin, so their windows are not bound to it.  A quantity
whose log is too short for :data:`MIN_WINDOWS` such windows shows nothing of its
drift: none is estimated for it (the bootstrap's variance stands) and the fit
report says so.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
from scipy import stats

from .._format import duration_text
from ..traffic.processes import OnOff
from ._bootstrap import block_index
from .arrivals import ArrivalFit, _hourly_factor

__all__ = ["MAX_WINDOWS", "MIN_ROWS_PER_WINDOW", "MIN_WINDOWS", "DriftFit", "ScalingFit", "fit_drift"]

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
class ScalingFit:
    """The fitted power law ``D(w) = c w**alpha`` of one quantity (see the module notes).

    Attributes
    ----------
    windows : int
        Short windows the log was cut into.
    window : pandas.Timedelta
        Their length.
    exponent : float
        ``alpha``: -1 (independent windows) unless the log shows otherwise.
    log_c : float
        ``log c``.
    """

    windows: int
    window: pd.Timedelta
    exponent: float
    log_c: float

    def variance(self, horizon: pd.Timedelta) -> float:
        """The predicted variance of the log of the level of a window of length ``horizon``
        that follows this log, relative to the log's level."""
        p, h = float(self.windows), max(horizon / self.window, 1e-9)
        alpha = self.exponent
        w = math.sqrt(p * h) if abs(alpha) < 1e-9 else ((p**alpha + h**alpha) / 2) ** (1 / alpha)
        return math.exp(self.log_c + alpha * math.log(w))


@dataclasses.dataclass(frozen=True)
class DriftFit:
    """How the level of volume and mean tokens wanders in a log (see the module notes).

    Attributes
    ----------
    scaling : dict of str to ScalingFit or None
        Per quantity (``volume``, ``input_tokens``, ``output_tokens``), its fitted power
        law, or None where the log was too short to estimate it.
    note : str
        What was estimated, from how much data (or why nothing was).
    """

    scaling: dict[str, ScalingFit | None]
    note: str

    @property
    def estimated(self) -> bool:
        """Whether the drift of any quantity was estimated."""
        return any(s is not None for s in self.scaling.values())

    @property
    def exponent(self) -> dict[str, float]:
        """``alpha`` per estimated quantity."""
        return {q: s.exponent for q, s in self.scaling.items() if s is not None}

    def variance(self, horizon: pd.Timedelta) -> dict[str, float] | None:
        """Per estimated quantity, the predicted variance of the log of the level of a window of
        length ``horizon`` that follows this log, relative to the log's level (None when none was
        estimated)."""
        if not self.estimated:
            return None
        return {q: s.variance(horizon) for q, s in self.scaling.items() if s is not None}

    def table(self, horizon: pd.Timedelta | None = None) -> pd.DataFrame:
        """One row per quantity: its windows, the exponent, and the predicted sd of the log level at
        ``horizon`` (default: 9x the log)."""
        rows = []
        for q in QUANTITIES:
            s = self.scaling.get(q)
            if s is None:
                rows.append({"windows": 0, "window": pd.NaT, "exponent": math.nan, "log_sd_9x": math.nan})
                continue
            at = s.window * s.windows * 9 if horizon is None else horizon
            rows.append({"windows": s.windows, "window": s.window, "exponent": s.exponent,
                         "log_sd_9x": math.sqrt(s.variance(at))})
        return pd.DataFrame(rows, index=pd.Index(QUANTITIES, name="quantity"))


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


def _power_law(num: np.ndarray, den: np.ndarray, window: pd.Timedelta) -> ScalingFit | None:
    """The power law of ``D(w)`` over ``w = 1, 2, 4, ... <= J / 4``, or None.  ``alpha`` is -1
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
    se = math.sqrt(float(np.sum(wt * resid**2)) / dof / sxx)
    significant = slope + 1.0 > stats.t.isf(TEST_LEVEL, dof) * se
    alpha = float(np.clip(slope, -1.0, 0.0)) if significant else -1.0
    return ScalingFit(j, window, alpha, float(ym - alpha * xm))


def _volume_floor(arrivals: ArrivalFit) -> tuple[pd.Timedelta, str]:
    """The burstiness the simulation draws itself: the fitted count bin where the counts are
    overdispersed (a mean on/off cycle where they burst on and off), none for Poisson counts."""
    floors = [(arrivals.bin, "the count bin, the counts being overdispersed")] if arrivals.modulation else []
    floors += [(pd.Timedelta((m.on.mean() + m.off.mean()) * pd.Timedelta(m.unit)).ceil("s"),
                "a mean on/off cycle of the bursts") for m in arrivals.modulation if isinstance(m, OnOff)]
    return max(floors, key=lambda f: f[0], default=(pd.Timedelta(0), ""))


def _windows(n: int, span: pd.Timedelta, shortest: pd.Timedelta) -> int:
    """How many windows of at least ``shortest`` and :data:`MIN_ROWS_PER_WINDOW` rows the log holds."""
    fit = int(span // shortest) if shortest > pd.Timedelta(0) else MAX_WINDOWS
    return min(MAX_WINDOWS, n // MIN_ROWS_PER_WINDOW, fit)


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
    >>> d.scaling["volume"].windows, d.exponent["volume"]  # independent, as Poisson counts are
    (64, -1.0)
    >>> round(d.variance(pd.Timedelta("9h"))["volume"] * 6000, 1)  # Poisson: (1 + 1/9) / rows
    1.4
    """
    n = timestamp.shape[0]
    gaps = np.diff(timestamp).astype(np.int64)
    gaps = gaps[gaps > 0]
    tick = pd.Timedelta(int(gaps.min()), unit="ns") if gaps.size else span  # the log's clock tick, at most
    floor, why = _volume_floor(arrivals)
    floors = {"volume": max(floor, tick), "input_tokens": tick, "output_tokens": tick}
    scaling: dict[str, ScalingFit | None] = {}
    cuts: dict[int, tuple[np.ndarray, np.ndarray, pd.Timedelta]] = {}
    for q in QUANTITIES:
        j = _windows(n, span, floors[q])
        if j < MIN_WINDOWS:
            scaling[q] = None
            continue
        if j not in cuts:
            window = pd.Timedelta(span.value // j, unit="ns")
            idx = np.minimum(block_index(timestamp, start.to_datetime64(), window), j - 1)
            cuts[j] = idx, np.bincount(idx, minlength=j).astype(float), window
        idx, count, window = cuts[j]
        if q == "volume":
            mids = pd.DatetimeIndex(start + window * (np.arange(j) + 0.5))
            num, den = count, _hourly_factor(mids, arrivals.daily_profile, arrivals.weekly_profile)
        else:
            num, den = np.bincount(idx, weights=input_tokens if q == "input_tokens" else output_tokens,
                                   minlength=j), count
        scaling[q] = _power_law(num, den, window)
    return DriftFit(scaling, _note(scaling, n, span, floors, why))


def _note(scaling: dict[str, ScalingFit | None], n: int, span: pd.Timedelta,
          floors: dict[str, pd.Timedelta], why: str) -> str:
    """What the drift was estimated from, per quantity, or why it was not."""
    done = [f"{q} in {s.windows} windows of {duration_text(s.window)}" for q, s in scaling.items() if s is not None]
    missing = [q for q, s in scaling.items() if s is None]
    parts = [f"drift estimated from {n} rows: " + ", ".join(done)] if done else []
    if missing:
        floor = max(floors[q] for q in missing)
        rule = f"{MIN_WINDOWS} windows of at least {MIN_ROWS_PER_WINDOW} rows on average"
        if span // floor < min(MAX_WINDOWS, n // MIN_ROWS_PER_WINDOW):  # the windows' length binds
            reason = why if "volume" in missing and why and floor == floors["volume"] else "the log's clock tick"
            rule += f", each at least {duration_text(floor)} ({reason})"
        head = f"not estimated for {', '.join(missing)}" if done else "drift not estimated"
        parts.append(f"{head}: it needs {rule}; {n} rows over {duration_text(span)} give {_windows(n, span, floor)}")
    return "; ".join(parts)
