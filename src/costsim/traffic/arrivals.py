"""Arrivals: how many requests land in each time bin."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import numbers
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from .._format import duration_alias
from .._limits import MAX_VOLUME
from .._model import Model
from .._validation import check_duration
from .distributions import Distribution

__all__ = ["Arrivals"]

_DAYS_PER_MONTH = 365.25 / 12.0
_HOUR = pd.Timedelta(hours=1)


def _check_profile(model: Model, name: str, length: int) -> None:
    """Check the profile field ``name`` of ``model`` (None, or ``length`` numbers >= 0 with a
    positive sum, any of which may be uncertain) and store it as a tuple of floats."""
    values = getattr(model, name)
    if values is None:
        return
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
        model._fail(name, f"must be a sequence of {length} numbers >= 0", values)
    values = tuple(values)
    if len(values) != length:
        model._fail(name, f"must have {length} values", values)
    for i, v in enumerate(values):
        if isinstance(v, Distribution):
            continue
        if not (isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v) and v >= 0):
            model._fail(f"{name}[{i}]", "must be a finite number >= 0", v)
    # plain floats (also from NumPy scalars), so the scenario stays JSON-ready
    values = tuple(v if isinstance(v, Distribution) else float(v) for v in values)
    object.__setattr__(model, name, values)
    if not any(isinstance(v, Distribution) for v in values) and sum(values) <= 0:
        model._fail(name, "must have a positive sum", values)


def _profile_factor(daily: tuple[float, ...] | None, weekly: tuple[float, ...] | None, when: np.ndarray) -> np.ndarray:
    """Hour-of-day times day-of-week factor (each profile normalised to mean 1) at UTC times ``when``."""
    stamps = pd.DatetimeIndex(when)
    factor = np.ones(when.shape[0])
    if daily is not None:
        values = np.asarray(daily, dtype=float)
        factor *= (values / values.mean())[stamps.hour]
    if weekly is not None:
        values = np.asarray(weekly, dtype=float)
        factor *= (values / values.mean())[stamps.day_of_week]
    return factor


@dataclasses.dataclass(frozen=True)
class Arrivals(Model):
    """Request volume over time: horizon, bins, daily/weekly profile, growth, burstiness.

    The expected number of requests in a bin is ``volume`` per day, times the bin's
    length in days, times the average over the bin of the hour-of-day and
    day-of-week profile factors (each normalised to mean 1), times compound growth
    ``(1 + growth) ** months`` since ``start`` (integrated exactly over the bin).
    Counts are Poisson around a rate multiplied, per bin, by a gamma factor with
    mean 1 and coefficient of variation ``overdispersion``: bursty, not Poisson.

    Parameters
    ----------
    volume : float
        Mean requests per day at ``start``, averaged over a week of profile.
    horizon : str or timedelta
        Simulated span (``"30D"``, ``"14D"``): a whole number of bins.
    bin : str or timedelta
        Bin length (``"1h"``, ``"15min"``).
    start : str or datetime
        UTC start of the first bin.
    daily_profile : sequence of 24 floats, optional
        Relative traffic per UTC hour of day (normalised to mean 1).
    weekly_profile : sequence of 7 floats, optional
        Relative traffic per day of week, Monday first (normalised to mean 1).
    growth : float, default 0
        Compound growth per month (0.1 = +10 % a month); > -1.
    overdispersion : float, default 0
        Coefficient of variation of the per-bin rate multiplier (0 = Poisson).

    Notes
    -----
    Any numeric parameter may be a Distribution: uncertain across trials.

    Examples
    --------
    >>> a = Arrivals(volume=24_000, horizon="2D", bin="1h")
    >>> a.n_bins
    48
    >>> float(a.expected_requests().sum())
    48000.0
    >>> Arrivals(volume=1000, horizon="1h", bin="1D")
    Traceback (most recent call last):
    ...
    costsim._validation.ParameterError: Arrivals: bin must be <= horizon (0 days 01:00:00); got '1D'
    """

    volume: float
    horizon: str | dt.timedelta = "30D"
    bin: str | dt.timedelta = "1h"
    start: str | dt.datetime = "2026-01-05T00:00"
    daily_profile: tuple[float, ...] | None = None
    weekly_profile: tuple[float, ...] | None = None
    growth: float = 0.0
    overdispersion: float = 0.0

    def _validate(self) -> None:
        self._number("volume", low=0.0, high=MAX_VOLUME)
        self._number("growth", low=-1.0, low_open=True)
        self._number("overdispersion", low=0.0)
        horizon = check_duration("horizon", self.horizon, self._label)
        width = check_duration("bin", self.bin, self._label)
        if width > horizon:
            self._fail("bin", f"must be <= horizon ({horizon})", self.bin)
        if horizon % width != pd.Timedelta(0):
            self._fail("horizon", f"must be a whole number of bins of {width}", self.horizon)
        try:
            start = pd.Timestamp(self.start)
        except (TypeError, ValueError):
            self._fail("start", "must be a date-time such as '2026-01-05T00:00'", self.start)
        # whole seconds keep the sub-steps that align bins with UTC hours (where profiles change) few
        if start != start.floor("1s"):
            self._fail("start", "must be a whole second", self.start)
        # a timedelta or datetime given in Python is stored as the text a scenario file holds,
        # so that an Arrivals equals itself read back from its file
        if not isinstance(self.horizon, str):
            object.__setattr__(self, "horizon", duration_alias(horizon))
        if not isinstance(self.bin, str):
            object.__setattr__(self, "bin", duration_alias(width))
        if not isinstance(self.start, str):
            object.__setattr__(self, "start", start.isoformat())
        if start.tz is not None:
            start = start.tz_convert("UTC").tz_localize(None)
        if not pd.Timestamp.min <= start <= pd.Timestamp.max - horizon:
            self._fail("start", f"must leave the horizon ({horizon}) within the datetime64[ns] range "
                       f"[{pd.Timestamp.min}, {pd.Timestamp.max}]", self.start)
        if width % pd.Timedelta(seconds=1) != pd.Timedelta(0):
            self._fail("bin", "must be a whole number of seconds", self.bin)
        for name, length in (("daily_profile", 24), ("weekly_profile", 7)):
            _check_profile(self, name, length)

    @property
    def bin_width(self) -> pd.Timedelta:
        """Length of one bin."""
        return pd.Timedelta(self.bin)

    @property
    def n_bins(self) -> int:
        """Number of bins in the horizon."""
        return int(pd.Timedelta(self.horizon) // self.bin_width)

    def bin_starts(self) -> np.ndarray:
        """UTC start of every bin, ``datetime64[ns]``."""
        start = pd.Timestamp(self.start)
        if start.tz is not None:
            start = start.tz_convert("UTC").tz_localize(None)
        offsets = self.bin_width.to_timedelta64() * np.arange(self.n_bins)
        return start.to_datetime64().astype("datetime64[ns]") + offsets

    def expected_requests(self) -> np.ndarray:
        """Expected requests per bin (before overdispersion), float64[n_bins]."""
        sub, step = self._sub_steps()
        factor = _profile_factor(self.daily_profile, self.weekly_profile, sub) * self._growth_factor(sub, step)
        step_days = step / pd.Timedelta(days=1)
        return self.volume * step_days * factor.reshape(self.n_bins, -1).sum(axis=1)

    def _sub_steps(self) -> tuple[np.ndarray, pd.Timedelta]:
        """Equal sub-steps that tile every bin and align with UTC hours (where profiles change).

        Returns their UTC starts, ``datetime64[ns][n_bins * per_bin]`` in bin order,
        and their length.  Also when the first bin starts off the hour (a
        ``'+05:30'`` start).
        """
        starts = self.bin_starts()
        step = self._sub_step()
        per_bin = int(self.bin_width // step)
        return (starts[:, None] + np.arange(per_bin)[None, :] * step.to_timedelta64()).ravel(), step

    def _sub_step(self) -> pd.Timedelta:
        """Length of the sub-steps of :meth:`_sub_steps` (without building them)."""
        start = pd.Timestamp(self.bin_starts()[0] if self.n_bins else self.start)
        offset = (start - start.floor("1h")).value
        return pd.Timedelta(math.gcd(self.bin_width.value, _HOUR.value, offset))

    @property
    def n_sub_steps(self) -> int:
        """How many sub-steps :meth:`expected_requests` evaluates the profile and growth at."""
        return self.n_bins * int(self.bin_width // self._sub_step())

    def _growth_factor(self, when: np.ndarray, step: pd.Timedelta) -> np.ndarray:
        """Mean of ``(1 + growth) ** months`` over each sub-step, integrated exactly."""
        if self.growth == 0.0:
            return np.ones(when.shape[0])
        origin = self.bin_starts()[0]
        months = ((when - origin) / np.timedelta64(1, "D")) / _DAYS_PER_MONTH
        width = (step / pd.Timedelta(days=1)) / _DAYS_PER_MONTH
        rate = math.log1p(self.growth)
        x = rate * width  # the sub-step's mean of exp(rate * t): expm1(x) / x, 1 where x underflows to 0
        with np.errstate(over="ignore"):  # a rate beyond the float range: inf, refused by Traffic's rate check
            return np.exp(rate * months) * (math.expm1(x) / x if x != 0.0 else 1.0)
