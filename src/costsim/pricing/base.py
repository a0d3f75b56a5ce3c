"""The pricing-model interface: validate, then lower to arrays the kernel reads."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from .._model import Model, uncertain_parameters

__all__ = ["PricingModel", "lower_options"]


@dataclasses.dataclass(frozen=True)
class PricingModel(Model):
    """Base class of pricing models.

    A subclass validates its parameters and implements ``_lower() -> (kind, params)``:
    a kernel kind code and a flat list of floats that the kernel's branch for that
    kind reads.
    """

    def _lower(self) -> tuple[int, list[float]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def price(
        self, input_tokens: Any, output_tokens: Any, *, cached_tokens: Any = 0
    ) -> np.ndarray:
        """USD cost of single calls with the given token counts (arrays broadcast).

        Runs the same compiled code as the simulation.
        """
        from ..kernels import price_calls

        if uncertain_parameters(self):
            raise ValueError(
                f"{type(self).__name__}: price() needs concrete parameters; this model has "
                f"uncertain ones: {sorted(uncertain_parameters(self))}"
            )
        prompt, cached, output = np.broadcast_arrays(
            *(_tokens(name, v) for name, v in (
                ("input_tokens", input_tokens), ("cached_tokens", cached_tokens), ("output_tokens", output_tokens)
            ))
        )
        if np.any(cached > prompt):
            raise ValueError("cached_tokens must be <= input_tokens (cached tokens are part of the prompt)")
        kind, params = self._lower()
        out = np.empty(prompt.shape, dtype=np.float64)
        price_calls(kind, np.asarray(params, dtype=np.float64), prompt.ravel(), cached.ravel(),
                    output.ravel(), out.reshape(-1))
        return out


def _tokens(name: str, value: Any) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu" or np.any(arr < 0):
        raise ValueError(f"{name} must be non-negative integer token counts; got {value!r}")
    return arr.astype(np.int64)


def lower_options(options: list[PricingModel]) -> tuple[np.ndarray, np.ndarray]:
    """``(kind int64[O], params float64[O, R])``, rows padded with zeros."""
    lowered = [opt._lower() for opt in options]
    width = max(len(p) for _, p in lowered)
    params = np.zeros((len(lowered), width))
    for i, (_, p) in enumerate(lowered):
        params[i, : len(p)] = p
    return np.array([k for k, _ in lowered], dtype=np.int64), params
