"""Per-token API pricing, with LiteLLM's semantics.

A :class:`TokenPricing` holds a standard :class:`RateCard` (its own rate fields),
optional service-tier cards (batch, flex, priority, ...), optional off-peak rates,
a price multiplier (regional or compliance uplift), fees and a minimum charge.
The rate cards themselves live in :mod:`costsim.pricing.rates` (and are importable
from here).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .. import kernels as K
from .base import PricingModel, check_price
from .litellm_map import token_pricing_fields
from .rates import STANDARD, LongContextTier, OffPeak, OffPeakWindow, RateCard

__all__ = ["LongContextTier", "OffPeak", "OffPeakWindow", "RateCard", "TokenPricing", "STANDARD"]


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
    fee_per_request : float, default 0
        USD per query.
    fee_per_tool_call : float, default 0
        USD per tool call (e.g. a web search) the query makes.
    minimum_charge : float, default 0
        USD: no query costs less.
    max_input_tokens, max_output_tokens : int, optional
        The model's context window and output limit (tokens), informational: they
        do not change a price (``from_litellm`` carries them over from the map).
    not_applied : sequence of str, optional
        Price keys of the source entry this pricing does not bill (audio, image,
        video, character, 12-hour cache-write rates, ...), informational; None: none.

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
    # informational (no effect on a price): left out of a result's scenario when None, so results
    # keep the format they had before these fields existed
    max_input_tokens: int | None = dataclasses.field(default=None, metadata={"omit_none": True})
    max_output_tokens: int | None = dataclasses.field(default=None, metadata={"omit_none": True})
    not_applied: tuple[str, ...] | None = dataclasses.field(default=None, metadata={"omit_none": True})

    def _validate(self) -> None:
        super()._validate()
        for name in ("max_input_tokens", "max_output_tokens"):
            if getattr(self, name) is not None:
                self._int(name, low=1)
        names = self.not_applied
        if names is not None:
            if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
                self._fail("not_applied", "must be a sequence of price-key names (str)", names)
            object.__setattr__(self, "not_applied", tuple(names))
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
    def from_litellm(cls, model: str, price_map: str | Path | Mapping | None = None,
                     **options: Any) -> TokenPricing:
        """The pricing of ``model`` from a LiteLLM price map (the bundled catalog by
        default); see :func:`costsim.pricing.litellm.from_litellm` for the options.

        Examples
        --------
        >>> p = TokenPricing.from_litellm("gpt-4o")
        >>> float(p.price(1_000, 500))
        0.0075
        """
        return cls(**token_pricing_fields(model, price_map, **options))

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
