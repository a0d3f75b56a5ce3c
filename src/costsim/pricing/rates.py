"""Rate cards: the per-token rates of a service tier, its long-context tiers and off-peak hours.

These value objects are shared by :class:`~costsim.pricing.TokenPricing` (which is a
:class:`RateCard` with service tiers, fees and a multiplier) and by the LiteLLM
price-map parser that builds them (:mod:`costsim.pricing.litellm_map`).
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd

from .._limits import MAX_TOKENS_PER_CALL
from .._model import Model
from .._validation import ParameterError
from .base import at_most, check_price

__all__ = ["RATE_FIELDS", "STANDARD", "LongContextTier", "OffPeak", "OffPeakWindow", "RateCard", "effective_rates"]

STANDARD = "standard"
"""Name of the default service tier: the rates given directly to TokenPricing."""

RATE_FIELDS = ("input", "output", "cached_input", "cache_write", "cache_write_1h", "reasoning")
"""The rate fields of a card or tier, in the order of a lowered card's rates."""


def _check_rates(model: Model) -> None:
    for name in RATE_FIELDS:
        if name in ("input", "output") or getattr(model, name) is not None:
            check_price(model, name)


def effective_rates(rates: LongContextTier | RateCard) -> dict[str, float]:
    """The rates (USD per million tokens) that bill a call at ``rates``, unset ones
    replaced by their fallbacks (see :class:`RateCard`).

    Parameters
    ----------
    rates : LongContextTier or RateCard
        A card's own rates or one of its long-context tiers.

    Returns
    -------
    dict of str to float
        Every field of :data:`RATE_FIELDS`, in that order: ``cached_input`` and
        ``cache_write`` fall back to ``input``, ``cache_write_1h`` to the (effective)
        ``cache_write``, ``reasoning`` to ``output``.

    Examples
    --------
    >>> effective_rates(RateCard(input=3.0, output=15.0, cache_write=3.75))
    {'input': 3.0, 'output': 15.0, 'cached_input': 3.0, 'cache_write': 3.75, 'cache_write_1h': 3.75, 'reasoning': 15.0}
    """
    cached = rates.input if rates.cached_input is None else rates.cached_input
    write = rates.input if rates.cache_write is None else rates.cache_write
    write_1h = write if rates.cache_write_1h is None else rates.cache_write_1h
    reasoning = rates.output if rates.reasoning is None else rates.reasoning
    return dict(zip(RATE_FIELDS, (rates.input, rates.output, cached, write, write_1h, reasoning)))


@dataclasses.dataclass(frozen=True)
class LongContextTier(Model):
    """Rates that apply to a WHOLE call once its prompt exceeds ``threshold`` tokens.

    Parameters
    ----------
    threshold : int
        Prompt tokens, at most ``MAX_TOKENS_PER_CALL``; the tier applies when
        prompt tokens ``> threshold`` (strict, as providers bill and LiteLLM computes).
    input : float
        USD per million prompt tokens in this tier (every rate is in ``[0, MAX_PRICE]``).
    output : float
        USD per million output tokens in this tier.
    cached_input, cache_write, cache_write_1h, reasoning : float, optional
        As for :class:`RateCard`, with the same fallbacks.

    Examples
    --------
    >>> import costsim as cs
    >>> tier = cs.LongContextTier(200_000, input=6.0, output=22.5)
    >>> api = cs.TokenPricing(input=3.0, output=15.0, long_context=[tier])
    >>> [round(float(c), 6) for c in api.price([200_000, 200_001], 1_000)]  # strictly above: the whole call
    [0.615, 1.222506]
    """

    threshold: int
    input: float
    output: float
    cached_input: float | None = None
    cache_write: float | None = None
    cache_write_1h: float | None = None
    reasoning: float | None = None

    def _validate(self) -> None:
        self._int("threshold", low=0)
        at_most(self, "threshold", MAX_TOKENS_PER_CALL, "MAX_TOKENS_PER_CALL")
        _check_rates(self)


@dataclasses.dataclass(frozen=True)
class RateCard(Model):
    """The rates of one service tier, in USD per million tokens, each in ``[0, MAX_PRICE]``.

    Cached (cache-read) and cache-write tokens are part of the prompt.  A call with
    ``p`` prompt tokens, ``c`` cached, ``w`` written to the cache, ``o`` output and
    ``r`` reasoning tokens costs
    ``((p - c - w) * input + c * cached_input + w * cache_write + o * output
    + r * reasoning) / 1e6`` at the rates of the highest long-context tier whose
    threshold ``p`` strictly exceeds (or the card's own).

    Parameters
    ----------
    input : float
        Prompt tokens.
    output : float
        Output tokens.
    cached_input : float, optional
        Cache reads; None bills them at ``input`` (an explicit 0 makes them free).
    long_context : sequence of LongContextTier
        Whole-call rates above prompt-size thresholds (strictly increasing).
    cache_write : float, optional
        Cache writes with the default (5-minute) lifetime; None bills them at ``input``.
    cache_write_1h : float, optional
        Cache writes with a 1-hour lifetime; None bills them at ``cache_write``.
    reasoning : float, optional
        Reasoning output tokens; None bills them at ``output``.

    Examples
    --------
    >>> import costsim as cs
    >>> api = cs.TokenPricing(3.0, 15.0, service_tiers={"batch": cs.RateCard(input=1.5, output=7.5)})
    >>> float(api.price(1_000, 100, service_tier="batch"))
    0.00225
    """

    input: float
    output: float
    cached_input: float | None = None
    long_context: tuple[LongContextTier, ...] = ()
    cache_write: float | None = None
    cache_write_1h: float | None = None
    reasoning: float | None = None

    def _validate(self) -> None:
        _check_rates(self)
        tiers = self.long_context
        if isinstance(tiers, LongContextTier):
            tiers = (tiers,)
        if not isinstance(tiers, (list, tuple)):
            self._fail("long_context", "must be a sequence of LongContextTier", tiers)
        object.__setattr__(self, "long_context", tuple(tiers))
        for i, tier in enumerate(self.long_context):
            if not isinstance(tier, LongContextTier):
                self._fail(f"long_context[{i}]", "must be a LongContextTier", tier)
        thresholds = [t.threshold for t in self.long_context]
        if all(isinstance(t, int) for t in thresholds) and any(
            b <= a for a, b in zip(thresholds, thresholds[1:])
        ):
            self._fail("long_context", "must have strictly increasing thresholds", thresholds)

    def _lower_card(self) -> list[float]:
        """``[n_tiers, (threshold, 6 rates) per tier]``; the card's own rates are tier 0."""
        row: list[float] = [1.0 + len(self.long_context)]
        for threshold, rates in [(-1, self), *((t.threshold, t) for t in self.long_context)]:
            row += [threshold, *effective_rates(rates).values()]
        return row

    def card(self) -> RateCard:
        """This object's own rates as a plain :class:`RateCard`."""
        return RateCard(**{f.name: getattr(self, f.name) for f in dataclasses.fields(RateCard)})


_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def _minutes(owner: str, name: str, value: object) -> int:
    match = _HHMM.match(value) if isinstance(value, str) else None
    if not match:
        raise ParameterError(name, "must be a UTC time 'HH:MM'", value, owner)
    return 60 * int(match.group(1)) + int(match.group(2))


@dataclasses.dataclass(frozen=True)
class OffPeakWindow(Model):
    """Hours of some weekdays (UTC) billed at off-peak rates.

    Parameters
    ----------
    weekdays : sequence of int
        1 = Monday ... 7 = Sunday (LiteLLM's convention).
    start, end : str
        ``"HH:MM"`` UTC; ``end`` "00:00" means midnight at the end of the day, and
        ``start == end == "00:00"`` the whole day.

    Examples
    --------
    >>> w = OffPeakWindow((6, 7), "00:00", "00:00")  # weekends, all day
    >>> bool(w.contains(np.datetime64("2026-01-10T13:00")))  # a Saturday
    True
    """

    weekdays: tuple[int, ...]
    start: str
    end: str

    def _validate(self) -> None:
        days = tuple(self.weekdays) if isinstance(self.weekdays, (list, tuple)) else None
        if not days or any(not isinstance(d, int) or isinstance(d, bool) or not 1 <= d <= 7 for d in days):
            self._fail("weekdays", "must be a non-empty sequence of integers 1 (Monday) to 7 (Sunday)",
                       self.weekdays)
        object.__setattr__(self, "weekdays", days)
        start = _minutes(self._label, "start", self.start)
        end = _minutes(self._label, "end", self.end)
        if end != 0 and end <= start:
            self._fail("end", f"must be after start ({self.start}) or '00:00' (midnight)", self.end)

    def contains(self, when: np.ndarray) -> np.ndarray:
        """Whether each UTC time (datetime64) falls in the window."""
        when = np.asarray(when, dtype="datetime64[ns]")
        stamps = pd.DatetimeIndex(when.ravel())
        minute = stamps.hour * 60 + stamps.minute
        start = _minutes(self._label, "start", self.start)
        end = _minutes(self._label, "end", self.end) or 24 * 60
        day = np.isin(stamps.day_of_week + 1, self.weekdays)
        return np.asarray(day & (minute >= start) & (minute < end)).reshape(when.shape)


@dataclasses.dataclass(frozen=True)
class OffPeak(Model):
    """Off-peak rates of the standard tier, in force during any of ``windows``.

    A time bin is billed off-peak when its start falls in a window (use bins no
    longer than the windows' granularity, e.g. 1 h, for exact billing; ``simulate``
    warns where a window starts or ends inside a bin).

    Examples
    --------
    >>> import numpy as np
    >>> import costsim as cs
    >>> nights = cs.OffPeak([cs.OffPeakWindow((1, 2, 3, 4, 5), "00:00", "06:00")], cs.RateCard(1.5, 7.5))
    >>> nights.contains(np.array(["2026-01-05T03:00", "2026-01-05T12:00"], dtype="datetime64[ns]")).tolist()
    [True, False]
    """

    windows: tuple[OffPeakWindow, ...]
    rates: RateCard

    def _validate(self) -> None:
        windows = tuple(self.windows) if isinstance(self.windows, (list, tuple)) else None
        if not windows or not all(isinstance(w, OffPeakWindow) for w in windows):
            self._fail("windows", "must be a non-empty sequence of OffPeakWindow", self.windows)
        object.__setattr__(self, "windows", windows)
        if not isinstance(self.rates, RateCard):
            self._fail("rates", "must be a RateCard", self.rates)

    def contains(self, when: np.ndarray) -> np.ndarray:
        """Whether each UTC time (datetime64) is off-peak."""
        return np.logical_or.reduce([w.contains(when) for w in self.windows])

    def changes_within(self, starts: np.ndarray, width: pd.Timedelta) -> np.ndarray:
        """Whether the off-peak status changes inside each bin ``(start, start + width)``:
        such a bin is billed at the rates in force at its start.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> import costsim as cs
        >>> nights = cs.OffPeak([cs.OffPeakWindow((1, 2, 3, 4, 5), "00:00", "06:00")], cs.RateCard(1.5, 7.5))
        >>> starts = np.array(["2026-01-05T00:00", "2026-01-05T05:30"], dtype="datetime64[ns]")
        >>> nights.changes_within(starts, pd.Timedelta("1h")).tolist()
        [False, True]
        """
        minutes = np.arange(_WEEK_NS // _MINUTE_NS)
        status = self.contains(_MONDAY + minutes * np.timedelta64(1, "m"))  # windows change on whole minutes
        changes = minutes[status != np.roll(status, 1)] * _MINUTE_NS  # ns into the week, sorted
        starts = np.asarray(starts, dtype="datetime64[ns]")
        if not changes.size:
            return np.zeros(starts.shape, dtype=bool)
        into = (starts - _MONDAY).astype(np.int64) % _WEEK_NS
        later = np.searchsorted(changes, into, side="right")  # the first change after each start, a week on
        following = np.where(later < changes.size, changes[np.minimum(later, changes.size - 1)],
                             changes[0] + _WEEK_NS)
        return following - into < pd.Timedelta(width).value


_MONDAY = np.datetime64("2024-01-01T00:00", "ns")  # a Monday at 00:00 UTC
_MINUTE_NS = 60 * 10**9
_WEEK_NS = 7 * 24 * 60 * _MINUTE_NS
