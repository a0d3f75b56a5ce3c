"""Checks shared by the analysis modules."""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Sequence

import xarray as xr

__all__: list[str] = []


def option_names(ds: xr.Dataset | xr.DataArray, option: str | Sequence[str] | None, name: str = "option") -> list[str]:
    """The option names asked for (all when None), checked against ``ds``."""
    every = [str(o) for o in ds["option"].values.tolist()]
    if option is None:
        return every
    names = [option] if isinstance(option, str) else list(option)
    unknown = [o for o in names if o not in every]
    if unknown or not names:
        raise ValueError(f"{name} must name options among {every}; got {option!r}")
    return names


def check_per_request(ds: xr.Dataset | xr.DataArray, options: Sequence[str]) -> None:
    """Raise if one of ``options`` is priced per time bin (no per-request costs)."""
    if "per_request_cost" not in ds.coords:
        return
    flags = ds["per_request_cost"].sel(option=list(options))
    for opt, ok in zip(options, flags.values.tolist()):
        if not ok:
            raise ValueError(
                f"option {opt!r} is priced per time bin: it has no per-request cost distribution "
                "(pick options with per_request_cost=True)"
            )


def dims_present(da: xr.DataArray, dims: str | Sequence[Hashable] | None) -> list[Hashable]:
    """``dims`` (one name or several) restricted to those of ``da``."""
    if dims is None:
        return []
    names = [dims] if isinstance(dims, str) else list(dims)
    return [d for d in names if d in da.dims]


def check_quantiles(q: float | Sequence[float], name: str = "q") -> list[float]:
    """Quantiles in [0, 1] as a list of floats."""
    import numpy as np

    try:
        qs = np.atleast_1d(np.asarray(q, dtype=float))
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be quantiles in [0, 1]; got {q!r}") from None
    if qs.ndim != 1 or qs.size == 0 or np.any(~np.isfinite(qs)) or np.any((qs < 0) | (qs > 1)):
        raise ValueError(f"{name} must be quantiles in [0, 1]; got {q!r}")
    return qs.tolist()


#: The token counts a result holds that a provider bills: prompt (cached and cache-write
#: included), output and reasoning tokens (LiteLLM's ``prompt_tokens + completion_tokens``).
BILLED_TOKENS = ("input_tokens", "output_tokens", "reasoning_tokens")


def billed_tokens(ds: xr.Dataset) -> xr.DataArray:
    """Tokens billed per (trial, time, qclass): the sum of :data:`BILLED_TOKENS` that ``ds`` holds."""
    return sum(ds[name] for name in BILLED_TOKENS if name in ds.data_vars)


def nan_quantiles(da: xr.DataArray, q: Sequence[float], dim: str = "trial") -> xr.DataArray:
    """``da.quantile(q, dim=dim)``, NaN where every value is NaN (the unit cost of a class without
    queries), without numpy's "All-NaN slice encountered" warning for it."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "All-NaN slice encountered", RuntimeWarning)
        return da.quantile(q, dim=dim)
