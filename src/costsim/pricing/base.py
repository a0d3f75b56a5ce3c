"""The pricing-model interface: validate, then lower to arrays the kernel reads."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from .._model import Model, uncertain_parameters

__all__ = ["DeploymentOption", "PricingModel", "lower_options", "option_field"]


def option_field(**kwargs: Any) -> Any:
    """A dataclass field referring to other options (objects, or names of options)."""
    return dataclasses.field(metadata={"option": True}, **kwargs)


@dataclasses.dataclass(frozen=True)
class DeploymentOption(Model):
    """Base class of everything :func:`costsim.simulate` can price as an option.

    Per-request models (:class:`PricingModel`, priced inside the fused kernel),
    capacity models (:class:`~costsim.pricing.CapacityModel`, priced per time bin
    from the demand the kernel aggregated) and compositions of them
    (:class:`~costsim.pricing.Hybrid`, :class:`~costsim.pricing.VolumeDiscount`,
    :class:`~costsim.pricing.CommittedSpend`).

    Examples
    --------
    >>> import costsim as cs
    >>> api = cs.TokenPricing(input=3.0, output=15.0)
    >>> all(isinstance(o, cs.DeploymentOption) for o in (api, cs.Hybrid({"chat": api})))
    True
    """


@dataclasses.dataclass(frozen=True)
class PricingModel(DeploymentOption):
    """Base class of per-request pricing models.

    A subclass validates its parameters and implements

    * ``_lower() -> (kind, params)``: a kernel kind code and a flat list of floats
      that the kernel's branch for that kind reads;
    * ``_card_offsets(service_tier) -> (offset, off_peak_offset)``: where in
      ``params`` the rates a query class of that service tier uses start, and its
      off-peak rates (-1 for none); raises ValueError for a tier not offered;
    * ``_off_peak_mask(when) -> bool array``: which UTC times are off-peak.

    Examples
    --------
    >>> import costsim as cs
    >>> api = cs.TokenPricing(input=3.0, output=15.0)
    >>> isinstance(api, cs.PricingModel), float(api.price(1_000, 200))
    (True, 0.006)
    """

    def _lower(self) -> tuple[int, list[float]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _card_offsets(self, service_tier: str) -> tuple[int, int]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _off_peak_mask(self, when: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def price(
        self,
        input_tokens: Any,
        output_tokens: Any,
        *,
        cache_read_tokens: Any = 0,
        cache_write_tokens: Any = 0,
        reasoning_tokens: Any = 0,
        tool_calls: Any = 0,
        service_tier: str = "standard",
        cache_write_ttl: str = "5m",
        when: Any = None,
    ) -> np.ndarray:
        """USD cost of single-call queries with the given token counts (arrays broadcast).

        Runs the same compiled code as the simulation: this is also trace replay,
        the exact cost of a real log.

        Parameters
        ----------
        input_tokens, output_tokens : int or array of int
            Prompt tokens (cached and cache-write tokens included) and output tokens.
        cache_read_tokens, cache_write_tokens : int or array of int
            Prompt tokens read from / written to the prompt cache (part of the prompt).
        reasoning_tokens, tool_calls : int or array of int
            Reasoning tokens (billed in addition to the output) and priced tool calls.
        service_tier : str
            The tier to bill at ("standard", "batch", ...).
        cache_write_ttl : {"5m", "1h"}
            Lifetime of the cache writes.
        when : datetime64 or str or array, optional
            UTC times of the queries, for off-peak rates; None bills peak rates.

        Returns
        -------
        numpy.ndarray
            USD per query, shaped like the broadcast inputs.
        """
        from ..kernels import price_requests

        uncertain = uncertain_parameters(self)
        if uncertain:
            raise ValueError(
                f"{type(self).__name__}: price() needs concrete parameters; this model has "
                f"uncertain ones: {sorted(uncertain)}"
            )
        if cache_write_ttl not in ("5m", "1h"):
            raise ValueError(f"cache_write_ttl must be '5m' or '1h'; got {cache_write_ttl!r}")
        when = None if when is None else np.asarray(when, dtype="datetime64[ns]")
        columns = np.broadcast_arrays(*(
            token_counts(name, value) for name, value in (
                ("input_tokens", input_tokens), ("cache_read_tokens", cache_read_tokens),
                ("cache_write_tokens", cache_write_tokens), ("output_tokens", output_tokens),
                ("reasoning_tokens", reasoning_tokens), ("tool_calls", tool_calls),
            )
        ), *([] if when is None else [when.astype(np.int64)]))
        shape = columns[0].shape
        columns = columns[:6]
        calls = np.stack([c.ravel() for c in columns]).astype(np.float64)
        too_many = calls[1] + calls[2] > calls[0]
        if np.any(too_many):
            raise ValueError(
                "cache_read_tokens + cache_write_tokens must be <= input_tokens (both are part of the "
                f"prompt); broken by {int(too_many.sum())} of {too_many.size} queries"
            )
        card, off_peak_card = self._card_offsets(service_tier)
        cards = np.full(calls.shape[1], card, dtype=np.int64)
        if when is not None and off_peak_card >= 0:
            mask = np.broadcast_to(self._off_peak_mask(when), shape)
            cards[mask.ravel()] = off_peak_card
        kind, params = self._lower()
        out = np.empty(calls.shape[1])
        price_requests(kind, np.asarray(params, dtype=np.float64), cards, cache_write_ttl == "1h", calls, out)
        return out.reshape(shape)


def token_counts(name: str, value: Any) -> np.ndarray:
    """``value`` as int64 token counts, or a ValueError naming the first bad value."""
    arr = np.asarray(value)
    if arr.dtype.kind in "iu":
        bad = arr < 0
    elif arr.dtype.kind == "f":
        bad = ~(np.isfinite(arr) & (arr >= 0) & (arr == np.round(arr)))
    else:
        bad = np.ones(arr.shape, dtype=bool)
    if np.any(bad) or arr.size == 0:
        shown = value if arr.ndim == 0 or arr.dtype.kind not in "iuf" else arr[bad].flat[0].item()
        raise ValueError(f"{name} must be non-negative integer token counts; got {shown!r}")
    return arr.astype(np.int64)


def lower_options(options: list[PricingModel]) -> tuple[np.ndarray, np.ndarray]:
    """``(kind int64[O], params float64[O, R])``, rows padded with zeros."""
    lowered = [opt._lower() for opt in options]
    width = max((len(p) for _, p in lowered), default=1)
    params = np.zeros((len(lowered), width))
    for i, (_, p) in enumerate(lowered):
        params[i, : len(p)] = p
    return np.array([k for k, _ in lowered], dtype=np.int64), params
