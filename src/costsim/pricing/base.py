"""The pricing-model interface: validate, then lower to arrays the kernel reads."""

from __future__ import annotations

import dataclasses
import math
import numbers
import sys
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from .. import kernels as K
from .._limits import MAX_PRICE, MAX_TOKENS_PER_CALL, MAX_TOOL_CALLS
from .._model import Model, uncertain_parameters
from .._validation import ParameterError

__all__ = [
    "DeploymentOption", "KERNEL_KINDS", "PricingModel", "at_most",
    "call_columns", "check_kernel_kind", "check_price", "lower_options", "lowered", "option_field", "token_counts",
    "utc_times",
]

KERNEL_KINDS = frozenset({K.TOKEN_PRICING})
"""The per-request kinds the fused kernel has a compiled branch for."""


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
    """Base class of per-request pricing models, priced per request in the fused kernel.

    The kernel has a compiled branch for per-token pricing only, so the per-request
    models are :class:`~costsim.TokenPricing` and its subclasses (e.g. a class that
    builds one from your own price sheet).  :func:`costsim.simulate` and
    :meth:`price` refuse any other subclass with a TypeError rather than bill it
    nothing.  For a pricing scheme costsim does not ship, write a compiled capacity
    function and use :class:`~costsim.CustomCapacity`, which is priced per time bin
    from the demand the kernel aggregated.

    (For contributors: a new built-in per-request model is a kernel branch for a
    new kind code in :data:`KERNEL_KINDS`, a class setting ``_kind`` to it and
    implementing ``_lower() -> (kind, params)``, ``_card_offsets(service_tier) ->
    (offset, off_peak_offset)`` and ``_off_peak_mask(when)``, a naive reference
    implementation and tests; see the design notes.)

    Examples
    --------
    >>> import costsim as cs
    >>> api = cs.TokenPricing(input=3.0, output=15.0)
    >>> isinstance(api, cs.PricingModel), float(api.price(1_000, 200))
    (True, 0.006)
    """

    _kind: ClassVar[int | None] = None  # the kernel branch pricing this class; None: none

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
        when : datetime64, datetime, str or array, optional
            UTC times of the queries (aware times are converted), for off-peak
            rates; None bills peak rates.

        Returns
        -------
        numpy.ndarray
            USD per query, shaped like the broadcast inputs (empty inputs give an
            empty array).

        Raises
        ------
        ValueError
            A :class:`~costsim.ParameterError` naming the argument for a token
            count that is not a non-negative integer, one above
            ``MAX_TOKENS_PER_CALL`` (tool calls: ``MAX_TOOL_CALLS``), cache reads
            plus writes above the prompt, an unknown ``cache_write_ttl``; a
            ValueError naming the arguments whose shapes do not broadcast, or a
            service tier the model does not offer.
        TypeError
            A model the compiled kernel cannot price.

        Examples
        --------
        >>> import costsim as cs
        >>> api = cs.TokenPricing(input=3.0, output=15.0)
        >>> api.price([1_000, 2_000], 100).tolist()
        [0.0045, 0.0075]
        >>> api.price([], []).shape
        (0,)
        >>> api.price(1e19, 10)
        Traceback (most recent call last):
        ...
        costsim._validation.ParameterError: input_tokens must be <= 1,073,741,824 (MAX_TOKENS_PER_CALL); got 1e+19
        """
        uncertain = uncertain_parameters(self)
        if uncertain:
            raise ValueError(
                f"{type(self).__name__}: price() needs concrete parameters; this model has "
                f"uncertain ones: {sorted(uncertain)}"
            )
        _, params = lowered(self, "this model")
        if not isinstance(cache_write_ttl, str) or cache_write_ttl not in ("5m", "1h"):
            raise ParameterError("cache_write_ttl", "must be '5m' or '1h'", cache_write_ttl)
        if not isinstance(service_tier, str):
            raise ParameterError("service_tier", "must be the name of a service tier (str)", service_tier)
        card, off_peak_card = self._card_offsets(service_tier)
        calls, times, shape = call_columns({
            "input_tokens": input_tokens, "cache_read_tokens": cache_read_tokens,
            "cache_write_tokens": cache_write_tokens, "output_tokens": output_tokens,
            "reasoning_tokens": reasoning_tokens, "tool_calls": tool_calls,
        }, when)
        out = np.empty(calls.shape[1])
        if out.size:
            cards = np.full(calls.shape[1], card, dtype=np.int64)
            if times is not None and off_peak_card >= 0:
                cards[np.broadcast_to(self._off_peak_mask(times), shape).ravel()] = off_peak_card
            K.price_requests(np.asarray(params, dtype=np.float64), cards, cache_write_ttl == "1h", calls, out)
        return out.reshape(shape)


_COUNT_RULE = "must be non-negative integer token counts"
_CALL_LIMITS = {"tool_calls": (MAX_TOOL_CALLS, "MAX_TOOL_CALLS")}  # the others: tokens of one call


def call_columns(counts: Mapping[str, Any], when: Any) -> tuple[np.ndarray, np.ndarray | None, tuple[int, ...]]:
    """The checked inputs of :meth:`PricingModel.price`: ``(calls, times, shape)``.

    ``counts`` maps the argument names (input, cache read, cache write, output,
    reasoning tokens, tool calls: in the kernel's column order) to their values;
    ``calls`` is float64[6, n], the broadcast columns flattened; ``times`` the
    UTC times (unbroadcast) or None; ``shape`` the broadcast shape.
    """
    columns = {name: token_counts(name, value, *_CALL_LIMITS.get(name, (MAX_TOKENS_PER_CALL, "MAX_TOKENS_PER_CALL")))
               for name, value in counts.items()}
    times = None if when is None else utc_times(when)
    shape = _broadcast_shape({**{n: c.shape for n, c in columns.items()},
                              **({} if times is None else {"when": times.shape})})
    calls = np.stack([np.broadcast_to(c, shape).ravel() for c in columns.values()]).astype(np.float64)
    over = calls[1] + calls[2] > calls[0]
    if np.any(over):
        i = np.flatnonzero(over)[0]
        raise ValueError(
            "cache_read_tokens + cache_write_tokens must be <= input_tokens (both are part of the prompt); got "
            f"{int(calls[1, i])} + {int(calls[2, i])} > {int(calls[0, i])} ({int(over.sum())} of {over.size} calls)"
        )
    return calls, times, shape


def _broadcast_shape(shapes: Mapping[str, tuple[int, ...]]) -> tuple[int, ...]:
    """The broadcast shape, or a ValueError naming the argument that does not fit."""
    shape: tuple[int, ...] = ()
    for name, own in shapes.items():
        try:
            shape = np.broadcast_shapes(shape, own)
        except ValueError:
            others = ", ".join(f"{n} {s}" for n, s in shapes.items() if s and n != name)
            raise ValueError(
                f"{name} has shape {own}, which does not broadcast with the other arguments' shapes ({others})"
            ) from None
    return shape


def token_counts(name: str, value: Any, high: int, limit_name: str) -> np.ndarray:
    """``value`` as int64 counts in ``[0, high]``, or a ParameterError naming ``name``
    and the first bad value (``limit_name`` names ``high`` in the message)."""
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError, OverflowError):  # a ragged nested sequence
        raise ParameterError(name, _COUNT_RULE + " (an integer or a rectangular array)", value) from None
    if arr.dtype.kind == "O":  # Python objects: numbers (e.g. ints beyond int64) or not
        numeric = np.array([_as_float(x) for x in arr.flat], dtype=np.float64).reshape(arr.shape)
    elif arr.dtype.kind in "iuf":
        numeric = arr
    else:  # bool, str, datetime, complex, ...
        raise ParameterError(name, _COUNT_RULE, value)
    if numeric.dtype.kind == "f":
        not_count = ~(np.isfinite(numeric) & (numeric >= 0) & (numeric == np.round(numeric)))
    else:
        not_count = numeric < 0
    for bad, rule in ((not_count, _COUNT_RULE), (numeric > high, f"must be <= {high:,} ({limit_name})")):
        if np.any(bad):
            shown = arr.flat[np.flatnonzero(bad)[0]]
            raise ParameterError(name, rule, shown.item() if isinstance(shown, np.generic) else shown)
    return numeric.astype(np.int64)


def _as_float(x: Any) -> float:
    """A Python object as a float for checking: NaN for a non-number, the largest
    float for an integer too large for one."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        return math.nan
    try:
        return float(x)
    except OverflowError:
        return sys.float_info.max if x > 0 else -sys.float_info.max


def utc_times(when: Any) -> np.ndarray:
    """``when`` (datetime64, datetime, ISO strings, arrays; aware ones converted) as UTC datetime64[ns].

    Examples
    --------
    >>> utc_times(["2026-01-05T12:00+01:00"]).tolist()
    [1767610800000000000]
    """
    import pandas as pd

    arr = np.asarray(when)
    if arr.size and arr.dtype.kind in "biufc":  # a number is no time: pandas would read it as ns since 1970
        raise ValueError(f"when must be UTC times (datetime64, datetime or ISO strings), not numbers; got {when!r}")
    try:
        stamps = pd.to_datetime(arr.ravel(), utc=True).tz_convert(None).as_unit("ns")
    except (ValueError, TypeError, OverflowError) as err:
        raise ValueError(f"when must be UTC times (datetime64, datetime or ISO strings); got {when!r}: {err}") from None
    if stamps.isna().any():
        raise ValueError(f"when must not hold missing times (NaT); got {when!r}")
    return stamps.to_numpy().reshape(arr.shape)


def check_kernel_kind(model: PricingModel, where: str, kind: Any = None) -> None:
    """Refuse a per-request model the compiled kernel has no branch for (it would be
    billed nothing): ``kind`` as lowered, or the class's own ``_kind``.

    Examples
    --------
    >>> import dataclasses, costsim as cs
    >>> @dataclasses.dataclass(frozen=True)
    ... class Mine(cs.PricingModel):
    ...     usd_per_query: float = 0.01
    >>> check_kernel_kind(Mine(), "options['mine']")
    Traceback (most recent call last):
    ...
    TypeError: options['mine'] is a Mine, a PricingModel the compiled kernel cannot price ... use CustomCapacity
    """
    kind = type(model)._kind if kind is None else kind
    if kind not in KERNEL_KINDS:
        raise TypeError(
            f"{where} is a {type(model).__name__}, a PricingModel the compiled kernel cannot price (it has no "
            "branch for it, so it would be billed nothing): price per token with TokenPricing (or a subclass "
            "of it), or write your own scheme as a compiled capacity function and use CustomCapacity"
        )


def at_most(model: Model, name: str, limit: float, limit_name: str) -> None:
    """Refuse a field (each entry of a sequence field) above ``limit``, naming the
    limit; uncertain values pass (they are checked once drawn).

    Examples
    --------
    >>> import costsim as cs
    >>> cs.TokenPricing(input=1e308, output=1.0)
    Traceback (most recent call last):
    ...
    costsim._validation.ParameterError: TokenPricing: input must be <= 1,000,000 (MAX_PRICE); got 1e+308
    """
    from ..traffic.distributions import Distribution

    value = getattr(model, name)
    entries = enumerate(value) if isinstance(value, tuple) else [(None, value)]
    for i, item in entries:
        if not isinstance(item, Distribution) and item > limit:
            model._fail(name if i is None else f"{name}[{i}]", f"must be <= {limit:,.17g} ({limit_name})", item)


def lowered(model: PricingModel, where: str) -> tuple[int, list[float]]:
    """``model._lower()``, refusing a model whose class or lowered kind the kernel
    has no branch for (``where`` names it in the message)."""
    check_kernel_kind(model, where)
    kind, params = model._lower()
    check_kernel_kind(model, where, kind)
    return kind, params


def check_price(model: Model, name: str, limit: float = MAX_PRICE, limit_name: str = "MAX_PRICE") -> None:
    """A USD amount or a multiplier: a finite number in ``[0, limit]`` (uncertain passes)."""
    model._number(name, low=0.0)
    at_most(model, name, limit, limit_name)


def lower_options(options: list[PricingModel]) -> tuple[np.ndarray, np.ndarray]:
    """``(kind int64[O], params float64[O, R])``, rows padded with zeros."""
    rows = [lowered(opt, "an option") for opt in options]
    width = max((len(p) for _, p in rows), default=1)
    params = np.zeros((len(rows), width))
    for i, (_, p) in enumerate(rows):
        params[i, : len(p)] = p
    return np.array([k for k, _ in rows], dtype=np.int64), params
