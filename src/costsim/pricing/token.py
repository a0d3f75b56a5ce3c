"""Per-token API pricing, with LiteLLM's semantics.

A :class:`TokenPricing` holds a standard :class:`RateCard` (its own rate fields),
optional service-tier cards (batch, flex, priority, ...), optional off-peak rates,
a price multiplier (regional or compliance uplift), fees and a minimum charge.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import ClassVar

import numpy as np
import pandas as pd

from .. import kernels as K
from .._limits import MAX_TOKENS_PER_CALL
from .._model import Model
from .base import PricingModel, at_most, check_price

__all__ = ["LongContextTier", "OffPeak", "OffPeakWindow", "RateCard", "TokenPricing", "STANDARD"]

STANDARD = "standard"
"""Name of the default service tier: the rates given directly to TokenPricing."""

_RATE_FIELDS = ("input", "output", "cached_input", "cache_write", "cache_write_1h", "reasoning")


def _check_rates(model: Model) -> None:
    for name in _RATE_FIELDS:
        if name in ("input", "output") or getattr(model, name) is not None:
            check_price(model, name)


def _effective_rates(rates: Model) -> list[float]:
    """The six per-call rates (USD per million tokens) with LiteLLM's fallbacks."""
    cached = rates.input if rates.cached_input is None else rates.cached_input
    write = rates.input if rates.cache_write is None else rates.cache_write
    write_1h = write if rates.cache_write_1h is None else rates.cache_write_1h
    reasoning = rates.output if rates.reasoning is None else rates.reasoning
    return [rates.input, rates.output, cached, write, write_1h, reasoning]


@dataclasses.dataclass(frozen=True)
class LongContextTier(Model):
    """Rates that apply to a WHOLE call once its prompt exceeds ``threshold`` tokens.

    Parameters
    ----------
    threshold : int
        Prompt tokens, at most ``MAX_TOKENS_PER_CALL``; the tier applies when
        prompt tokens ``> threshold`` (strict, as providers bill and LiteLLM computes).
    input, output : float
        USD per million prompt and output tokens in this tier (every rate is in
        ``[0, MAX_PRICE]``).
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
    input, output : float
        Prompt and output tokens.
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
            row += [threshold, *_effective_rates(rates)]
        return row

    def card(self) -> "RateCard":
        """This object's own rates as a plain :class:`RateCard`."""
        return RateCard(**{f.name: getattr(self, f.name) for f in dataclasses.fields(RateCard)})


_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def _minutes(owner: str, name: str, value: object) -> int:
    from .._validation import ParameterError

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
    longer than the windows' granularity, e.g. 1 h, for exact billing).

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


@dataclasses.dataclass(frozen=True)
class TokenPricing(RateCard, PricingModel):
    """Per-token API pricing, in USD per million tokens.

    The rate fields (see :class:`RateCard`) are the standard tier.  A query class
    names the service tier it uses (``QueryClass.service_tier``); every option it
    is priced under must offer that tier.  Per query, the cost is
    ``max(minimum_charge, multiplier * (sum of its calls) + fee_per_request
    + tool_calls * fee_per_tool_call)``.

    Parameters
    ----------
    input, output, cached_input, long_context, cache_write, cache_write_1h, reasoning
        The standard tier's rates (see :class:`RateCard`).
    service_tiers : mapping of str to RateCard
        Other tiers by name ("batch", "flex", "priority", ...): separate rates,
        each with its own long-context tiers.
    off_peak : OffPeak, optional
        Cheaper standard-tier rates in some UTC hours.
    multiplier : float, default 1
        Applied to token charges (regional or compliance uplift, e.g. 1.1).
    fee_per_request, fee_per_tool_call : float, default 0
        USD per query and per tool call (e.g. a web search) the query makes.
    minimum_charge : float, default 0
        USD: no query costs less.

    Notes
    -----
    Every rate, fee, minimum and the multiplier is in ``[0, MAX_PRICE]`` (see
    :mod:`costsim._limits`).

    Examples
    --------
    >>> p = TokenPricing(input=3.0, output=15.0, cached_input=0.3,
    ...                  long_context=[LongContextTier(200_000, input=6.0, output=22.5)])
    >>> float(p.price(1_000, 500))
    0.0105
    >>> float(p.price(200_001, 0))  # whole call at the long-context rate
    1.200006
    >>> batch = TokenPricing(3.0, 15.0, service_tiers={"batch": RateCard(1.5, 7.5)})
    >>> float(batch.price(1_000, 500, service_tier="batch"))
    0.00525
    >>> TokenPricing(input=-1.0, output=15.0)
    Traceback (most recent call last):
    ...
    costsim._validation.ParameterError: TokenPricing: input must be >= 0; got -1.0
    """

    _kind: ClassVar[int] = K.TOKEN_PRICING

    service_tiers: Mapping[str, RateCard] = dataclasses.field(default_factory=dict)
    off_peak: OffPeak | None = None
    multiplier: float = 1.0
    fee_per_request: float = 0.0
    fee_per_tool_call: float = 0.0
    minimum_charge: float = 0.0

    def _validate(self) -> None:
        super()._validate()
        if not isinstance(self.service_tiers, Mapping):
            self._fail("service_tiers", "must be a mapping of tier name -> RateCard", self.service_tiers)
        object.__setattr__(self, "service_tiers", dict(self.service_tiers))
        for name, card in self.service_tiers.items():
            if not isinstance(name, str) or not name or name == STANDARD:
                self._fail("service_tiers", f"must have non-empty names other than {STANDARD!r}", name)
            if not isinstance(card, RateCard) or isinstance(card, TokenPricing):
                self._fail(f"service_tiers[{name!r}]", "must be a RateCard", card)
        if self.off_peak is not None and not isinstance(self.off_peak, OffPeak):
            self._fail("off_peak", "must be an OffPeak", self.off_peak)
        for name in ("multiplier", "fee_per_request", "fee_per_tool_call", "minimum_charge"):
            check_price(self, name)

    @classmethod
    def from_litellm(cls, model: str, price_map=None, **options) -> "TokenPricing":
        """The pricing of ``model`` from a LiteLLM price map (the bundled catalog by
        default); see :func:`costsim.pricing.litellm.from_litellm` for the options.

        Examples
        --------
        >>> p = TokenPricing.from_litellm("gpt-4o")
        >>> float(p.price(1_000, 500))
        0.0075
        """
        from .litellm import from_litellm

        return from_litellm(model, price_map, **options)

    @property
    def tiers(self) -> tuple[str, ...]:
        """Names of the service tiers offered, the standard one first."""
        return (STANDARD, *self.service_tiers)

    def _lower(self) -> tuple[int, list[float]]:
        """Row: ``[multiplier, fee_per_request, fee_per_tool_call, minimum_charge,
        standard card, service-tier cards in order, off-peak card]``."""
        row = [self.multiplier, self.fee_per_request, self.fee_per_tool_call, self.minimum_charge]
        for card in self._cards():
            row += card._lower_card()
        return self._kind, row

    def _cards(self) -> list[RateCard]:
        cards = [self, *self.service_tiers.values()]
        return cards + ([self.off_peak.rates] if self.off_peak is not None else [])

    def _card_offsets(self, service_tier: str) -> tuple[int, int]:
        """Offsets in the lowered row of the tier's card and of its off-peak card (-1: none)."""
        if service_tier not in self.tiers:
            raise ValueError(
                f"service tier {service_tier!r} is not offered by this TokenPricing; "
                f"it offers {list(self.tiers)}"
            )
        offsets, at = [], K.TOKEN_HEADER
        for card in self._cards():
            offsets.append(at)
            at += len(card._lower_card())
        index = self.tiers.index(service_tier)
        off_peak = offsets[-1] if self.off_peak is not None and service_tier == STANDARD else -1
        return offsets[index], off_peak

    def _off_peak_mask(self, when: np.ndarray) -> np.ndarray:
        if self.off_peak is None:
            return np.zeros(np.shape(when), dtype=bool)
        return self.off_peak.contains(when)
