"""Fit arrivals: volume, daily/weekly profile and burstiness of the per-bin counts.

The volume (requests per day) is the row count over the time the log covers,
corrected for the part of the daily (and weekly) profile the log saw.  A daily
profile is fitted when the log spans at least a day, a weekly one from two
weeks; shorter logs give none (a one-hour pilot says nothing about the night).

Burstiness is read from the counts per ``bin`` (default one minute), compared
with what the volume and profile predict:

- with more empty bins among busy ones than Poisson counts around the volume
  and profile leave (on/off traffic such as the Azure code trace; a quiet night
  of a plain Poisson log is no burst), an on/off process with gamma noise,
  :func:`estimate_on_off`;
- otherwise gamma noise (:class:`costsim.traffic.Overdispersion`) with
  ``cv**2 = sum((n - e)**2 - n) / sum(e**2)`` (method of moments for
  gamma-Poisson counts ``n`` around expected counts ``e``), where the counts
  are significantly more variable than Poisson around the volume and profile
  (Pearson's chi-square); plain Poisson otherwise.  Each test has a false-alarm
  rate of :data:`TEST_LEVEL` (2.5 %), 5 % together.

The uncertainty of the volume comes from a block bootstrap over time blocks
(:mod:`costsim.calibrate._bootstrap`): the counts of neighbouring minutes are
correlated, so resampling single requests or minutes would be far too
confident.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .._format import duration_alias, duration_text
from .._validation import ParameterError, check_duration, check_int, check_number
from ..traffic.distributions import LogNormal
from ..traffic.processes import Modulation, OnOff, Overdispersion
from ._bootstrap import block_index, log_ratio_variance
from .logs import _instant

__all__ = ["ArrivalFit", "MAX_BINS", "MAX_BLOCKS", "fit_arrivals"]

_DAY = pd.Timedelta(days=1)
#: Most bins of counts in a log's span (2**24: 32 years of minutes).
MAX_BINS = 2**24
#: Most time blocks of the bootstrap.
MAX_BLOCKS = 10_000


@dataclasses.dataclass(frozen=True)
class ArrivalFit:
    """Fitted arrivals of one stream of requests (a class, or the whole log).

    Attributes
    ----------
    volume : float
        Requests per day (averaged over the profile).
    volume_log_sd : float
        Standard deviation of ``log(volume)`` across the block bootstrap
        (small-sample corrected); 0 when not estimated.
    daily_profile, weekly_profile : tuple of float or None
        Relative rate per UTC hour / per weekday (mean 1), where the log spans enough.
    modulation : tuple of Modulation
        Burstiness: ``(OnOff, Overdispersion)``, ``(OnOff,)``,
        ``(Overdispersion,)`` or ``()``.
    bin : pandas.Timedelta
        Bin of the counts the burstiness was read from.
    counts : numpy.ndarray
        Requests per whole bin.
    dispersion_index : float
        Variance over mean of ``counts``.
    empty_fraction : float
        Share of bins without a request.
    n_blocks : int
        Time blocks of the bootstrap.
    """

    volume: float
    volume_log_sd: float
    daily_profile: tuple[float, ...] | None
    weekly_profile: tuple[float, ...] | None
    modulation: tuple[Modulation, ...]
    bin: pd.Timedelta
    counts: np.ndarray
    dispersion_index: float
    empty_fraction: float
    n_blocks: int

    def uncertain_volume(self, extra_log_var: float = 0.0) -> float | LogNormal:
        """The volume as a LogNormal across trials: the bootstrap's variance of its log,
        plus ``extra_log_var``."""
        sd = math.sqrt(self.volume_log_sd**2 + extra_log_var)
        if sd <= 0 or self.volume <= 0:
            return self.volume
        return LogNormal(math.log(self.volume), sd)

    def modulation_for(self, bin: pd.Timedelta) -> tuple[Modulation, ...]:
        """The burstiness for a simulation with bins of ``bin``.

        On/off periods are durations and carry over unchanged; gamma noise is per
        bin, so for bins ``k`` times longer its ``cv`` shrinks by ``sqrt(k)`` (the
        fitted bins' factors being independent).  Shorter bins keep the fitted
        ``cv`` (the noise is not resolved below the fitted bin).
        """
        k = pd.Timedelta(bin) / self.bin
        out = []
        for m in self.modulation:
            if isinstance(m, Overdispersion) and k > 1:
                m = Overdispersion(m.cv / math.sqrt(k))
            out.append(m)
        return tuple(out)


def _hours(start: pd.Timestamp, end: pd.Timestamp) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """The UTC hours ``[start, end)`` touches, and the hours of it each covers."""
    cuts = pd.date_range(start.floor("h"), end.ceil("h"), freq="h")
    lo = np.maximum(cuts[:-1].to_numpy(), start.to_datetime64())
    hi = np.minimum(cuts[1:].to_numpy(), end.to_datetime64())
    return cuts[:-1], np.maximum((hi - lo) / np.timedelta64(1, "h"), 0.0)


def _profile(ts: np.ndarray, start: pd.Timestamp, end: pd.Timestamp, key: str, size: int) -> tuple[float, ...]:
    """Rate per profile slot (``key``: ``"hour"`` or ``"day_of_week"``) over its exposure, mean 1."""
    hours, exposure = _hours(start, end)
    per_slot = np.bincount(getattr(hours, key).to_numpy(), weights=exposure, minlength=size)
    hits = np.bincount(getattr(pd.DatetimeIndex(ts), key).to_numpy(), minlength=size)
    rate = hits / per_slot
    return tuple((rate / rate.mean()).tolist())


def default_block(span: pd.Timedelta, bin: pd.Timedelta) -> pd.Timedelta:
    """A tenth of the span (rounded up to the nanosecond), at least one bin."""
    return max(pd.Timedelta(-(-span.value // 10), unit="ns"), bin)


def n_blocks_of(span: pd.Timedelta, block: pd.Timedelta) -> int:
    """Blocks covering the span (a last partial block counts)."""
    return max(1, -(-span.value // block.value))


def check_bins(span: pd.Timedelta, bin: object, block: object) -> tuple[pd.Timedelta, pd.Timedelta]:
    """``bin`` and ``block`` (default :func:`default_block`) as Timedeltas, checked against the
    span: a bin is positive and leaves 2 to :data:`MAX_BINS` bins in the span; a
    block is at least a bin and leaves 2 to :data:`MAX_BLOCKS` blocks.

    Examples
    --------
    >>> check_bins(pd.Timedelta("1h"), "1min", None)
    (Timedelta('0 days 00:01:00'), Timedelta('0 days 00:06:00'))
    >>> check_bins(pd.Timedelta("1h"), "abc", None)
    Traceback (most recent call last):
    ...
    costsim._validation.ParameterError: bin must be a positive duration such as '30D' or '1h'; got 'abc'
    """
    width = check_duration("bin", bin)
    if width > span / 2:
        raise ParameterError("bin", f"must be at most half the log's span ({duration_text(span)}): two bins at "
                             "least (a log this short needs a shorter bin=)", bin)
    if span // width > MAX_BINS:
        raise ParameterError("bin", f"must leave at most {MAX_BINS:,} bins in the log's span ({span}); this one "
                             f"leaves {span // width:,}", bin)
    if block is None:
        return width, default_block(span, width)
    blk = check_duration("block", block)
    if not width <= blk < span or n_blocks_of(span, blk) > MAX_BLOCKS:
        raise ParameterError("block", f"must be at least bin ({width}) and shorter than the log's span ({span}), "
                             f"leaving 2 to {MAX_BLOCKS:,} blocks", block)
    return width, blk


def fit_arrivals(
    timestamp: np.ndarray,
    *,
    start: pd.Timestamp,
    span: pd.Timedelta,
    bin: str | pd.Timedelta = "1min",
    block: str | pd.Timedelta | None = None,
    seed: int = 0,
) -> ArrivalFit:
    """Fit volume, profile and burstiness to sorted arrival times.

    Parameters
    ----------
    timestamp : numpy.ndarray
        ``datetime64[ns]`` arrival times, sorted.
    start, span : pandas.Timestamp, pandas.Timedelta
        The window the log covers (a class's arrivals are read against the
        whole log's window: a quiet class is information).
    bin : str or timedelta, default "1min"
        Bin of the counts whose burstiness is fitted.
    block : str or timedelta, optional
        Time block of the bootstrap; by default a tenth of the span, at least
        ``bin``.
    seed : int, default 0
        Seed of the bootstrap resampling.

    Returns
    -------
    ArrivalFit

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t0 = np.datetime64("2026-01-05T00:00")
    >>> ts = t0 + np.sort(rng.uniform(0, 3600e9, 3600)).astype("timedelta64[ns]")
    >>> fit = fit_arrivals(ts, start=pd.Timestamp(t0), span=pd.Timedelta("1h"))
    >>> round(fit.volume / 24 / 3600, 2), fit.modulation, fit.n_blocks
    (1.0, (), 10)
    """
    start = _instant("start", start)
    span = check_duration("span", span)
    width, blk = check_bins(span, bin, block)
    seed = check_int("seed", seed, low=0)
    end = start + span
    daily = _profile(timestamp, start, end, "hour", 24) if span >= _DAY else None
    weekly = _profile(timestamp, start, end, "day_of_week", 7) if span >= 14 * _DAY else None
    hours, exposure = _hours(start, end)
    n = timestamp.shape[0]
    volume = n / (np.dot(_hourly_factor(hours, daily, weekly), exposure) / 24.0)

    # counts per whole bin and what volume and profile predict for them
    n_bins = int(span // width)
    idx = block_index(timestamp, start.to_datetime64(), width)
    counts = np.bincount(idx[idx < n_bins], minlength=n_bins).astype(float)
    bin_starts = pd.DatetimeIndex(start + width * np.arange(n_bins))
    expected = volume * (width / _DAY) * _hourly_factor(bin_starts, daily, weekly)
    modulation: tuple[Modulation, ...] = ()
    empty = counts == 0
    if 2 <= empty.sum() <= counts.size - 2 and _excess_empty(empty, expected):
        modulation = estimate_on_off(counts, unit=duration_alias(width))
    elif counts.size >= 2 and _overdispersed(counts, expected):
        cv2 = (np.sum((counts - expected) ** 2 - counts)) / np.sum(expected**2)
        modulation = (Overdispersion(math.sqrt(cv2)),) if cv2 > 0 else ()

    b_idx = block_index(timestamp, start.to_datetime64(), blk)
    n_blocks = n_blocks_of(span, blk)
    hits = np.bincount(np.minimum(b_idx, n_blocks - 1), minlength=n_blocks).astype(float)
    duration = np.full(n_blocks, blk / _DAY)
    duration[-1] = (span - blk * (n_blocks - 1)) / _DAY
    log_sd = math.sqrt(log_ratio_variance(hits, duration, seed=seed)) if n_blocks >= 2 and n > 0 else 0.0
    mean = counts.mean() if counts.size else 0.0
    return ArrivalFit(
        volume=float(volume),
        volume_log_sd=log_sd,
        daily_profile=daily,
        weekly_profile=weekly,
        modulation=modulation,
        bin=width,
        counts=counts,
        dispersion_index=float(counts.var(ddof=1) / mean) if mean > 0 and counts.size > 1 else math.nan,
        empty_fraction=float(empty.mean()) if counts.size else math.nan,
        n_blocks=n_blocks,
    )


#: False-alarm rate of each of the two burstiness tests (empty bins, dispersion): 5 % together.
TEST_LEVEL = 0.025


def _excess_empty(empty: np.ndarray, expected: np.ndarray) -> bool:
    """Whether there are more empty bins than Poisson counts around ``expected`` (volume and
    profile) leave: their number above the upper ``TEST_LEVEL`` quantile of its normal
    approximation (a sum of independent Bernoulli(``exp(-expected)``))."""
    p = np.exp(-expected)
    sd = math.sqrt(float(np.sum(p * (1.0 - p))))
    excess = float(empty.sum() - p.sum())
    return excess > 0 and (sd == 0 or excess / sd > stats.norm.isf(TEST_LEVEL))


def _overdispersed(counts: np.ndarray, expected: np.ndarray) -> bool:
    """Whether the counts vary more than Poisson around ``expected`` (volume and profile):
    Pearson's statistic above the upper ``TEST_LEVEL`` quantile of its chi-square
    distribution under Poisson (``len(counts) - 1`` dof)."""
    pearson = float(np.sum((counts - expected) ** 2 / np.maximum(expected, 1e-12)))
    return pearson > stats.chi2.isf(TEST_LEVEL, counts.size - 1)


def _hourly_factor(when: pd.DatetimeIndex, daily, weekly) -> np.ndarray:
    factor = np.ones(len(when))
    if daily is not None:
        factor *= np.asarray(daily)[when.hour.to_numpy()]
    if weekly is not None:
        factor *= np.asarray(weekly)[when.day_of_week.to_numpy()]
    return factor


def estimate_on_off(counts: Sequence[float], *, unit: str = "1min", sigma: float = 1.0) -> tuple[Modulation, ...]:
    """Method-of-moments on/off process (and gamma noise) from counts per bin.

    Fits the modulations that, applied to a Poisson process of the same mean,
    reproduce the counts' fraction of empty bins, the index of dispersion and the
    mean lengths of runs of empty and non-empty bins.  The model: the process is
    off (silent) or on; an on bin's rate is ``m / p`` times a gamma factor of
    coefficient of variation ``c``.  Steps (``m`` mean, ``v`` variance of counts):

    1. Mean off and on durations in bins: an interval of length ``D`` (random
       phase) covers ``D - 1`` whole bins on average, so ``D_off = mean empty run + 1``
       and ``D_on = max(mean non-empty run - 1, 1)``; ``p = D_on / (D_on + D_off)``.
    2. Gamma noise from the variance, treating bins as wholly on or off:
       ``v = m + m**2 ((1 + c**2) / p - 1)``, so ``c**2 = p (1 + (v - m) / m**2) - 1``
       (0 when negative: on/off alone explains the variance).

    Durations are lognormal with log-scale ``sigma`` (heavy-tailed; the mean is
    matched).  Approximate: bins partly on smooth the counts, so check the result
    by simulation (the Azure code trace is reproduced within a factor 1.2, see
    ``tests/traffic/test_processes.py``).

    Parameters
    ----------
    counts : sequence of float
        Requests per bin, in time order (at least one empty and one non-empty bin).
    unit : str, default "1min"
        Length of a bin; the durations are in this unit.
    sigma : float, default 1
        Log-scale of the lognormal durations.

    Returns
    -------
    tuple of Modulation
        ``(OnOff,)`` or ``(OnOff, Overdispersion)``: ready for ``Traffic.class_modulation``.

    Examples
    --------
    >>> on_off, noise = estimate_on_off([0, 0, 30, 150, 10, 40, 0, 0, 0, 5, 160, 35])
    >>> round(on_off.on.mean(), 3), round(on_off.off.mean(), 3), round(noise.cv, 3)
    (2.5, 3.5, 0.695)
    """
    check_duration("unit", unit)
    sigma = check_number("sigma", sigma, low=0.0, high=10.0, low_open=True)  # log-scale of the durations
    try:
        x = np.asarray(counts, dtype=float)
    except (TypeError, ValueError, OverflowError):  # complex, strings, ragged, huge ints
        raise ParameterError("counts", "must be a 1-D sequence of finite numbers >= 0", counts) from None
    if x.ndim != 1 or not np.all(np.isfinite(x)) or np.any(x < 0):
        raise ValueError(f"counts must be a 1-D sequence of finite numbers >= 0; got {counts!r}")
    empty = x == 0
    if empty.all() or not empty.any():
        raise ValueError(f"counts must have both empty and non-empty bins to fit on/off; "
                         f"got {int(empty.sum())} empty of {x.size}")
    starts = np.flatnonzero(np.diff(np.concatenate([[-1], empty.astype(int)])) != 0)
    runs = np.diff(np.concatenate([starts, [x.size]]))
    run_empty = empty[starts]
    d_off = runs[run_empty].mean() + 1.0
    d_on = max(runs[~run_empty].mean() - 1.0, 1.0)
    p = d_on / (d_on + d_off)
    m, v = x.mean(), x.var(ddof=1) if x.size > 1 else 0.0
    c2 = p * (1.0 + (v - m) / (m * m)) - 1.0
    on_off = OnOff(on=LogNormal(math.log(d_on) - sigma * sigma / 2, sigma),
                   off=LogNormal(math.log(d_off) - sigma * sigma / 2, sigma), unit=unit)
    return (on_off, Overdispersion(math.sqrt(c2))) if c2 > 0 else (on_off,)
