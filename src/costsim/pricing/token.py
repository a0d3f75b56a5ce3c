"""Per-token API pricing."""

from __future__ import annotations

import dataclasses

from .. import kernels as K
from .._model import Model
from .base import PricingModel

__all__ = ["LongContextTier", "TokenPricing"]


def _rate_rules(model: Model) -> None:
    model._number("input", low=0.0)
    model._number("output", low=0.0)
    if model.cached_input is not None:
        model._number("cached_input", low=0.0)


@dataclasses.dataclass(frozen=True)
class LongContextTier(Model):
    """Rates that apply to a WHOLE call once its prompt exceeds ``threshold`` tokens.

    Parameters
    ----------
    threshold : int
        Prompt tokens; the tier applies when prompt tokens ``> threshold`` (strict,
        as providers bill and LiteLLM computes).
    input, output : float
        USD per million prompt and output tokens in this tier.
    cached_input : float, optional
        USD per million cached prompt tokens; None bills them at ``input``.
    """

    threshold: int
    input: float
    output: float
    cached_input: float | None = None

    def _validate(self) -> None:
        self._int("threshold", low=0)
        _rate_rules(self)


@dataclasses.dataclass(frozen=True)
class TokenPricing(PricingModel):
    """Per-token API pricing, in USD per million tokens.

    Cached tokens are part of the prompt: a call with ``p`` prompt tokens of which
    ``c`` are cached and ``o`` output tokens costs
    ``((p - c) * input + c * cached_input + o * output) / 1e6``, with the rates of
    the highest long-context tier whose threshold ``p`` strictly exceeds.

    Parameters
    ----------
    input, output : float
        USD per million prompt / output tokens.
    cached_input : float, optional
        USD per million cached prompt tokens. None (unknown) bills cached tokens at
        ``input``; an explicit 0 makes them free.
    long_context : sequence of LongContextTier
        Higher rates above prompt-size thresholds (strictly increasing thresholds).

    Examples
    --------
    >>> p = TokenPricing(input=3.0, output=15.0, cached_input=0.3,
    ...                  long_context=[LongContextTier(200_000, input=6.0, output=22.5)])
    >>> float(p.price(1_000, 500))
    0.0105
    >>> float(p.price(200_001, 0))  # whole call at the long-context rate
    1.200006
    >>> TokenPricing(input=-1.0, output=15.0)
    Traceback (most recent call last):
    ...
    costsim._validation.ParameterError: TokenPricing: input must be >= 0; got -1.0
    """

    input: float
    output: float
    cached_input: float | None = None
    long_context: tuple[LongContextTier, ...] = ()

    def _validate(self) -> None:
        _rate_rules(self)
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

    def _lower(self) -> tuple[int, list[float]]:
        rows: list[float] = [1.0 + len(self.long_context)]
        for threshold, rates in [(-1, self), *((t.threshold, t) for t in self.long_context)]:
            cached = rates.input if rates.cached_input is None else rates.cached_input
            rows += [threshold, rates.input, rates.output, cached]
        return K.TOKEN_PRICING, rows
