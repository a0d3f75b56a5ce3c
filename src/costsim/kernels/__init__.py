"""Compiled kernels: arrays and scalars in, arrays out. Imports only numpy, numba, math.

Everything lives in :mod:`costsim.kernels._engine` (see its docstring and
docs/kernel.md); this package re-exports the codes and entry points the Python
layers use.
"""

from ._engine import (
    BETA,
    CAPPED,
    CLS_CACHE_WRITE,
    CLS_CACHED,
    CLS_INPUT,
    CLS_OUTPUT,
    CLS_REASONING,
    CLS_STEPS,
    CLS_TOOL,
    CLS_TOOL_CALLS,
    CLIP_DRAWS,
    CLIP_REQUESTS,
    CLIP_SUMS,
    CONSTANT,
    EMPIRICAL,
    FLAG_PREFIX_CACHE,
    FLAG_TTL_1H,
    GAMMA,
    GENPARETO,
    GEOMETRIC,
    LOGNORMAL,
    MIXTURE,
    N_CLASS_DISTS,
    N_CLIPS,
    N_COUNTS,
    NORMAL,
    NSCORE_MAX,
    NSCORE_POINTS,
    PARETO,
    TOKEN_HEADER,
    TOKEN_PRICING,
    UNIFORM,
    WEIBULL,
    fill_samples,
    price_requests,
    simulate_kernel,
    trial_uniforms,
)

__all__ = [
    "BETA", "CAPPED", "CLS_CACHE_WRITE", "CLS_CACHED", "CLS_INPUT", "CLS_OUTPUT", "CLS_REASONING",
    "CLS_STEPS", "CLS_TOOL", "CLS_TOOL_CALLS", "CLIP_DRAWS", "CLIP_REQUESTS", "CLIP_SUMS", "CONSTANT", "EMPIRICAL", "FLAG_PREFIX_CACHE", "FLAG_TTL_1H", "GAMMA", "GENPARETO",
    "GEOMETRIC", "LOGNORMAL", "MIXTURE", "N_CLASS_DISTS", "N_CLIPS", "N_COUNTS", "NORMAL", "NSCORE_MAX", "NSCORE_POINTS", "PARETO",
    "TOKEN_HEADER", "TOKEN_PRICING", "UNIFORM", "WEIBULL", "fill_samples", "price_requests",
    "simulate_kernel", "trial_uniforms",
]
