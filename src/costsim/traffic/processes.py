"""Arrival modulation: per-bin rate factors for bursts, on/off activity, adoption, events, mix shift.

The kernel draws each (trial, bin, class) count as Poisson around an expected
rate.  Everything here shapes that expected rate, in Python, before the kernel
runs: a :class:`Modulation` turns the horizon's bins into one multiplicative
factor per bin.  Deterministic ones (:class:`Profile`, :class:`LogisticGrowth`,
:class:`FlashEvent`) give the same factors in every trial; random ones
(:class:`Overdispersion`, :class:`OnOff`) draw theirs from a counter-based
generator keyed on ``(seed, trial, scope, position, kind)``
(:func:`modulation_rng`), so a trial's factors never depend on which other
trials run with it, on the chunking of trials or on the backend.

A :class:`~costsim.traffic.Traffic` applies modulations at two levels:
``modulation`` (one draw shared by every class: the whole product goes quiet
together) and ``class_modulation`` (an independent draw per class: each class
has its own burstiness).  :class:`MixShift` moves the class shares along the
horizon.

Memory: with a random modulation (or an uncertain parameter) the kernel's rate
table has one row per trial, ``trials x bins x classes`` float64 values: 1,000
trials of 30 days in 1-minute bins with 5 classes take 1.7 GB.  Use coarser bins
or fewer trials per call (``trials=range(...)`` chunks, or a Dask client) for
such runs.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import ClassVar

import numpy as np
import pandas as pd

from .._model import Model, request_field, uncertain_parameters
from .._validation import check_duration
from .arrivals import Arrivals, _check_profile, _profile_factor
from .distributions import Distribution

__all__ = [
    "FlashEvent", "LogisticGrowth", "MixShift", "Modulation", "OnOff", "Overdispersion", "Profile",
    "modulation_rng",
]

_MONTH = pd.Timedelta(days=365.25 / 12.0)
_MAX_SWITCHES = 1e7
"""On/off switches an OnOff path may have over a horizon (and its warm-up)."""


def modulation_rng(seed: int, trial: int, scope: str, position: int, kind: str) -> np.random.Generator:
    """The generator of one random modulation in one trial: Philox keyed on a hash of the keys.

    ``scope`` is ``"traffic"`` for a shared modulation, ``"class:<name>"`` for a
    class's own; ``position`` its index in the tuple and ``kind`` its class name.

    Examples
    --------
    >>> a = modulation_rng(1, 0, "class:chat", 0, "OnOff").random()
    >>> a == modulation_rng(1, 0, "class:chat", 0, "OnOff").random()
    True
    >>> a == modulation_rng(1, 1, "class:chat", 0, "OnOff").random()
    False
    """
    text = json.dumps([int(seed), int(trial), scope, int(position), kind])
    key = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=16).digest(), "little")
    return np.random.Generator(np.random.Philox(key=key))


@dataclasses.dataclass(frozen=True)
class Modulation(Model):
    """Base class: a multiplicative factor on the expected rate of every time bin.

    Examples
    --------
    >>> import costsim as cs
    >>> flash = cs.FlashEvent(start="2026-01-01T02:00", duration="1h", multiplier=3.0)
    >>> isinstance(flash, cs.Modulation), flash.random
    (True, False)
    """

    random: ClassVar[bool] = False  # whether factors() draws random numbers

    def factors(self, arrivals: Arrivals, rng: np.random.Generator | None = None) -> np.ndarray:
        """Factor of each bin of ``arrivals``, float64[n_bins]; ``rng`` for random ones."""
        raise NotImplementedError  # pragma: no cover - every subclass overrides

    def _check_resolved(self) -> None:
        found = uncertain_parameters(self)
        if found:
            raise TypeError(f"{self._label} has uncertain parameters ({', '.join(found)}); "
                            "resolve them (draw a trial's values) first")


def _edges(arrivals: Arrivals, unit: pd.Timedelta) -> np.ndarray:
    """Bin edges in ``unit`` since the start, float64[n_bins + 1]."""
    return np.arange(arrivals.n_bins + 1) * (arrivals.bin_width / unit)


@dataclasses.dataclass(frozen=True)
class Overdispersion(Modulation):
    """Gamma noise on each bin's rate: counts become gamma-Poisson (negative binomial).

    Each bin's factor is an independent gamma variable with mean 1 and
    coefficient of variation ``cv``, so a bin with expected count ``m`` has count
    variance ``m + m**2 * cv**2``.  In ``Traffic.class_modulation`` each class
    draws its own factors (unlike ``Arrivals.overdispersion``, one factor per bin
    shared by all classes).  The noise is per bin: the same ``cv`` means more
    variability per hour with 1-hour bins than with 1-minute bins.

    Parameters
    ----------
    cv : float
        Coefficient of variation of the factor, >= 0 (0: plain Poisson).

    Examples
    --------
    >>> import numpy as np
    >>> from costsim import Arrivals
    >>> f = Overdispersion(cv=0.5).factors(Arrivals(1440, horizon="1D", bin="1min"), np.random.default_rng(0))
    >>> f.shape, bool(abs(f.mean() - 1) < 0.05), bool(abs(f.std() / f.mean() - 0.5) < 0.05)
    ((1440,), True, True)
    """

    cv: float
    random: ClassVar[bool] = True

    def _validate(self) -> None:
        self._number("cv", low=0.0)

    def factors(self, arrivals: Arrivals, rng: np.random.Generator | None = None) -> np.ndarray:
        self._check_resolved()
        if self.cv * self.cv == 0.0:  # 0, or so small that its square underflows: no noise
            return np.ones(arrivals.n_bins)
        shape = 1.0 / (self.cv * self.cv)
        return rng.gamma(shape, 1.0 / shape, size=arrivals.n_bins)


@dataclasses.dataclass(frozen=True)
class OnOff(Modulation):
    """On/off bursts: alternating active and quiet periods with random (heavy-tailed) durations.

    An alternating renewal process: on periods with durations drawn from ``on``,
    off periods from ``off`` (both in ``unit``), independently.  The rate while
    off is ``off_level`` times the rate while on, and the levels are scaled so the
    long-run mean factor is 1 (the volume is kept): with ``p = E[on] / (E[on] +
    E[off])`` the on level is ``1 / (p + (1 - p) * off_level)``.  A bin's factor
    is the time-weighted mean level over the bin.  The process starts ``warm_up``
    before the horizon (in state on with probability ``p``), so the horizon sees it
    close to its stationary regime.

    Parameters
    ----------
    on : Distribution
        Durations of the on periods in ``unit``: non-negative, with a finite mean
        (e.g. ``LogNormal`` or ``Pareto`` with ``alpha > 1`` for heavy tails).
    off : Distribution
        Durations of the off periods in ``unit``, with the same conditions.
    unit : str or timedelta, default "1min"
        Time unit of the durations.
    off_level : float, default 0
        Rate while off relative to the rate while on, in [0, 1] (0: silent).

    Examples
    --------
    >>> from costsim import Arrivals, LogNormal
    >>> bursts = OnOff(on=LogNormal.from_median_p90(5, 20), off=LogNormal.from_median_p90(2, 8))
    >>> round(bursts.on_fraction, 3)
    0.714
    >>> f = bursts.factors(Arrivals(1440, horizon="1D", bin="1min"), modulation_rng(0, 0, "traffic", 0, "OnOff"))
    >>> bool(f.min() == 0.0), round(float(f.max()), 2)
    (True, 1.4)
    """

    on: Distribution = request_field()
    off: Distribution = request_field()
    unit: str = "1min"
    off_level: float = 0.0
    random: ClassVar[bool] = True

    def _validate(self) -> None:
        check_duration("unit", self.unit, self._label)
        self._number("off_level", low=0.0, high=1.0)
        for name in ("on", "off"):
            value = getattr(self, name)
            if not isinstance(value, Distribution):
                self._fail(name, "must be a costsim Distribution of durations", value)
        if uncertain_parameters(self):
            return  # checked once a trial has drawn its parameters
        for name, mean in zip(("on", "off"), self._means):
            value = getattr(self, name)
            if value.support()[0] < 0:
                self._fail(name, "must have support >= 0 (a duration)", value)
            if not (math.isfinite(mean) and mean > 0):
                self._fail(name, "must have a finite, positive mean (a Pareto needs alpha > 1)", value)

    @functools.cached_property
    def _means(self) -> tuple[float, float]:
        """``(E[on], E[off])``, once per object: scipy takes ~1 ms to freeze a distribution."""
        self._check_resolved()
        return self.on.mean(), self.off.mean()

    @property
    def on_fraction(self) -> float:
        """Long-run fraction of time on, ``E[on] / (E[on] + E[off])``."""
        on, off = self._means
        return on / (on + off)

    @property
    def levels(self) -> tuple[float, float]:
        """Factor while on and while off (long-run mean 1)."""
        return self._levels(self.on_fraction)

    def _levels(self, p: float) -> tuple[float, float]:
        high = 1.0 / (p + (1.0 - p) * self.off_level)
        return high, high * self.off_level

    def factors(self, arrivals: Arrivals, rng: np.random.Generator | None = None) -> np.ndarray:
        self._check_resolved()
        edges = _edges(arrivals, pd.Timedelta(self.unit))
        p = self.on_fraction
        switches, on_before, state = self._path(edges[-1], p, sum(self._means), rng)
        # on-time in [start of path, t] at every edge: the piecewise-linear integral of the state
        k = np.searchsorted(switches, edges, side="right") - 1
        on_time = on_before[k] + state[k] * (edges - switches[k])
        fraction = np.diff(on_time) / np.diff(edges)
        high, low = self._levels(p)
        return low + (high - low) * fraction

    def _path(self, horizon: float, p: float, cycle: float,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Switch times (from ``-warm_up``), on-time before each switch and the state after it,
        for on-fraction ``p`` and mean cycle length ``cycle``."""
        warm_up = max(horizon, 10.0 * cycle)
        switches_expected = (warm_up + horizon) / cycle
        if not switches_expected <= _MAX_SWITCHES:
            self._fail("on", f"and off must last longer: a mean cycle of {cycle:.3g} x {self.unit} switches about "
                       f"{switches_expected:.3g} times over the horizon and its warm-up, more than "
                       f"{_MAX_SWITCHES:.0e}", self.on)
        first_on = rng.random() < p
        batch = int(min(1e6, switches_expected * 1.2)) + 16
        durations: list[np.ndarray] = []
        covered = 0.0
        while covered < warm_up + horizon:
            if len(durations) * batch > 4 * _MAX_SWITCHES:  # a heavy tail of tiny draws
                self._fail("on", f"and off must last longer: their draws cover the horizon only after more than "
                           f"{4 * _MAX_SWITCHES:.0e} switches", self.on)
            pair = np.empty(2 * batch)
            on, off = self.on.sample(batch, rng=rng), self.off.sample(batch, rng=rng)
            pair[0::2], pair[1::2] = (on, off) if first_on else (off, on)
            durations.append(pair)
            covered += float(pair.sum())
        lengths = np.concatenate(durations)
        switches = np.concatenate([[0.0], np.cumsum(lengths)]) - warm_up
        state = np.zeros(switches.shape[0])
        state[(0 if first_on else 1)::2] = 1.0
        on_before = np.concatenate([[0.0], np.cumsum(lengths * state[:-1])])
        return switches, on_before, state


@dataclasses.dataclass(frozen=True)
class Profile(Modulation):
    """A daily and weekly shape of its own: e.g. a class busy in office hours, another at night.

    The factor is the mean over the bin of the hour-of-day times day-of-week
    profile (each normalised to mean 1, UTC), as in ``Arrivals.daily_profile`` and
    ``weekly_profile``, which it multiplies: give the arrivals no profile and each
    class its own.  Exact for bins of at most an hour that start on the hour;
    with longer bins the product of the two bin means stands for the mean of the
    product.

    Parameters
    ----------
    daily : sequence of 24 floats, optional
        Relative traffic per UTC hour of day.
    weekly : sequence of 7 floats, optional
        Relative traffic per day of week, Monday first.

    Examples
    --------
    >>> from costsim import Arrivals
    >>> office = Profile(daily=[0.2] * 8 + [1.0] * 10 + [0.2] * 6)
    >>> f = office.factors(Arrivals(1000, horizon="1D", bin="6h"))
    >>> [round(float(x), 3) for x in f]
    [0.375, 1.375, 1.875, 0.375]
    """

    daily: tuple[float, ...] | None = None
    weekly: tuple[float, ...] | None = None

    def _validate(self) -> None:
        _check_profile(self, "daily", 24)
        _check_profile(self, "weekly", 7)

    def factors(self, arrivals: Arrivals, rng: np.random.Generator | None = None) -> np.ndarray:
        self._check_resolved()
        sub, _ = arrivals._sub_steps()
        return _profile_factor(self.daily, self.weekly, sub).reshape(arrivals.n_bins, -1).mean(axis=1)


@dataclasses.dataclass(frozen=True)
class LogisticGrowth(Modulation):
    """Logistic adoption: volume that starts at 1x and saturates at ``ceiling`` x.

    The factor at ``t`` months after the horizon start (months of 365.25 / 12
    days) is ``f(t) = ceiling / (1 + (ceiling - 1) * exp(-rate * t))``: ``f(0) = 1``,
    ``f -> ceiling``, fastest growth (half-way, ``f = ceiling / 2``) at
    ``log(ceiling - 1) / rate`` months.  A ceiling below 1 is a logistic decline.
    A bin's factor is the exact mean of ``f`` over the bin.  It multiplies
    ``Arrivals.growth`` (compound growth) if both are given.

    Parameters
    ----------
    ceiling : float
        Long-run volume relative to the start, > 0.
    rate : float
        Logistic rate per month, > 0.

    Examples
    --------
    >>> from costsim import Arrivals
    >>> f = LogisticGrowth(ceiling=10.0, rate=1.0).factors(Arrivals(1000, horizon="730D", bin="1D"))
    >>> round(float(f[0]), 3), round(float(f[-1]), 2)
    (1.015, 10.0)
    """

    ceiling: float
    rate: float

    def _validate(self) -> None:
        self._number("ceiling", low=0.0, low_open=True)
        self._number("rate", low=0.0, low_open=True)

    def factors(self, arrivals: Arrivals, rng: np.random.Generator | None = None) -> np.ndarray:
        self._check_resolved()
        t = self.rate * _edges(arrivals, _MONTH)  # in units of 1 / rate
        k = self.ceiling
        # integral of k / (1 + (k - 1) e^-s) ds = k (s + log1p((k - 1) e^-s))
        antiderivative = k * (t + np.log1p((k - 1.0) * np.exp(-t)))
        return np.diff(antiderivative) / np.diff(t)


@dataclasses.dataclass(frozen=True)
class FlashEvent(Modulation):
    """A one-off event: the rate is multiplied by ``multiplier`` from ``start`` for ``duration``.

    A bin partly inside the event gets the time-weighted mean factor.  A
    multiplier of 0 is an outage.

    Parameters
    ----------
    start : str or datetime
        UTC start of the event (a date-time such as ``"2026-01-07T12:00"``).
    duration : str or timedelta
        How long it lasts (``"3h"``).
    multiplier : float
        Rate factor during the event, >= 0.

    Examples
    --------
    >>> from costsim import Arrivals
    >>> a = Arrivals(1000, horizon="6h", bin="1h", start="2026-01-05T00:00")
    >>> FlashEvent("2026-01-05T02:30", "2h", 5.0).factors(a).tolist()
    [1.0, 1.0, 3.0, 5.0, 3.0, 1.0]
    """

    start: str
    duration: str
    multiplier: float

    def _validate(self) -> None:
        try:
            pd.Timestamp(self.start)
        except (TypeError, ValueError):
            self._fail("start", "must be a date-time such as '2026-01-07T12:00'", self.start)
        check_duration("duration", self.duration, self._label)
        self._number("multiplier", low=0.0)

    def factors(self, arrivals: Arrivals, rng: np.random.Generator | None = None) -> np.ndarray:
        self._check_resolved()
        unit = pd.Timedelta(seconds=1)
        start = pd.Timestamp(self.start)
        if start.tz is not None:
            start = start.tz_convert("UTC").tz_localize(None)
        begin = (start.to_datetime64() - arrivals.bin_starts()[0]) / unit.to_timedelta64()
        end = begin + pd.Timedelta(self.duration) / unit
        edges = _edges(arrivals, unit)
        overlap = np.clip(np.minimum(edges[1:], end) - np.maximum(edges[:-1], begin), 0.0, None)
        return 1.0 + (self.multiplier - 1.0) * overlap / np.diff(edges)


@dataclasses.dataclass(frozen=True)
class MixShift(Model):
    """Class shares that move along the horizon, from the classes' own shares to ``shares``.

    With ``a`` the classes' shares and ``b`` the target ``shares`` (each normalised
    to sum 1), the share of class ``c`` at time ``u`` (fraction of the horizon, at
    the middle of each bin) is ``(1 - w(u)) a_c + w(u) b_c``: the shares always sum
    to 1, so the total volume is unchanged.  ``curve="linear"``: ``w(u) = u``;
    ``curve="logistic"``: ``w(u) = (s(u) - s(0)) / (s(1) - s(0))`` with
    ``s(u) = 1 / (1 + exp(-steepness * (u - midpoint)))``, so ``w`` runs from 0 to 1.

    Parameters
    ----------
    shares : mapping of str to float
        Target share of every class at the end of the horizon (relative weights).
    curve : {"linear", "logistic"}, default "linear"
    midpoint : float, default 0.5
        Logistic: fraction of the horizon where the shift is fastest, in [0, 1].
    steepness : float, default 10
        Logistic: steepness, > 0 (larger is closer to a step).

    Examples
    --------
    >>> shift = MixShift({"chat": 0.7, "agent": 0.3})
    >>> shift.weights(4).tolist()
    [0.125, 0.375, 0.625, 0.875]
    """

    shares: dict[str, float]
    curve: str = "linear"
    midpoint: float = 0.5
    steepness: float = 10.0

    def _validate(self) -> None:
        if not isinstance(self.shares, Mapping) or not self.shares:
            self._fail("shares", "must be a non-empty mapping of class name -> share", self.shares)
        shares = dict(self.shares)
        object.__setattr__(self, "shares", shares)
        for name, value in shares.items():
            if isinstance(value, Distribution):
                continue
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not (math.isfinite(value) and value >= 0):
                self._fail(f"shares[{name!r}]", "must be a finite number >= 0", value)
            shares[name] = float(value)
        if self.curve not in ("linear", "logistic"):
            self._fail("curve", "must be 'linear' or 'logistic'", self.curve)
        self._number("midpoint", low=0.0, high=1.0)
        self._number("steepness", low=0.0, low_open=True)

    def weights(self, n_bins: int) -> np.ndarray:
        """``w(u)`` at the middle of each of ``n_bins`` equal bins, float64[n_bins]."""
        u = (np.arange(n_bins) + 0.5) / n_bins
        if self.curve == "linear":
            return u
        s = 1.0 / (1.0 + np.exp(-self.steepness * (np.array([0.0, 1.0, *u]) - self.midpoint)))
        return (s[2:] - s[0]) / (s[1] - s[0])

    def class_shares(self, names: Sequence[str], start: Sequence[float], n_bins: int) -> np.ndarray:
        """Share of each class in each bin, float64[n_bins, n_classes]; rows sum to 1."""
        if uncertain_parameters(self):
            raise TypeError(f"MixShift has uncertain parameters ({', '.join(uncertain_parameters(self))}); "
                            "resolve them first")
        a = np.asarray(start, dtype=float)
        b = np.array([self.shares[n] for n in names], dtype=float)
        if b.sum() <= 0:
            self._fail("shares", "must have a positive sum", self.shares)
        w = self.weights(n_bins)[:, None]
        return (1.0 - w) * (a / a.sum()) + w * (b / b.sum())
