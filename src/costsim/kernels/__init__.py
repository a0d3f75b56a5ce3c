"""Compiled kernels: arrays and scalars in, arrays out. Imports only numpy, numba, math."""

from ._engine import (
    BETA,
    CAPPED,
    CLS_CACHED,
    CLS_INPUT,
    CLS_OUTPUT,
    CLS_STEPS,
    CLS_TOOL,
    CONSTANT,
    EMPIRICAL,
    GAMMA,
    GENPARETO,
    GEOMETRIC,
    LOGNORMAL,
    MIXTURE,
    N_CLASS_DISTS,
    NORMAL,
    PARETO,
    TOKEN_PRICING,
    UNIFORM,
    WEIBULL,
    fill_samples,
    price_calls,
    simulate_kernel,
    trial_uniforms,
)

__all__ = [
    "BETA", "CAPPED", "CLS_CACHED", "CLS_INPUT", "CLS_OUTPUT", "CLS_STEPS", "CLS_TOOL",
    "CONSTANT", "EMPIRICAL", "GAMMA", "GENPARETO", "GEOMETRIC", "LOGNORMAL", "MIXTURE",
    "N_CLASS_DISTS", "NORMAL", "PARETO", "TOKEN_PRICING", "UNIFORM", "WEIBULL",
    "fill_samples", "price_calls", "simulate_kernel", "trial_uniforms",
]
