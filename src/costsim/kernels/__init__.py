"""Compiled kernels: arrays and scalars in, arrays out.  Imports only numpy, numba, math.

This package is the only door to compiled code: the Python layers import the codes,
array layouts and entry points from here, never from the modules behind it.

* :mod:`._engine` - the fused simulate-and-price kernel and everything it inlines
  (randomness, samplers, token pricing, the cost histogram), with the array layout
  codes it shares with the lowering code: distribution kinds, the ``CLS_*`` columns
  of a class's distributions, the ``N_*`` columns of the counts, the ``CLIP_*``
  columns of the clip counts, the ``FLAG_*`` class bits and the TOKEN_PRICING row
  format (docs/kernel.md).
* :mod:`._threads` - :func:`simulate_kernel`: the fused kernel's work items run on
  threads (the compiled :func:`simulate_items` releases the GIL).
* :mod:`._capacity` - per-bin capacity pricing from the kernel's demand (the ``D_*``
  columns; the built-in capacity functions and their parameter rows).

Numba's on-disk cache checks only the file that defines a kernel: everything a
kernel inlines lives in its own module, so a change to a helper always recompiles
the kernels that use it (docs/architecture.md).
"""

from ._capacity import (
    D_CACHED,
    D_CALLS,
    D_INPUT,
    D_OUTPUT,
    D_REQUESTS,
    GPU_DECODE,
    GPU_FIXED_MONTHLY,
    GPU_LAG,
    GPU_MAX,
    GPU_MIN,
    GPU_OVERHEAD,
    GPU_PER_REPLICA,
    GPU_PREFILL,
    GPU_PRICE,
    GPU_STEP,
    GPU_TARGET,
    HOURS_PER_MONTH,
    N_DEMAND,
    PROV_PRICE,
    PROV_TPM,
    PROV_UNITS,
    PROV_W_CACHED,
    PROV_W_INPUT,
    PROV_W_OUTPUT,
    provisioned_capacity,
    self_hosted_gpu,
)
from ._engine import (
    BETA,
    BLOCK,
    CAPPED,
    CLIP_DRAWS,
    CLIP_REQUESTS,
    CLIP_SUMS,
    CLS_CACHE_WRITE,
    CLS_CACHED,
    CLS_INPUT,
    CLS_OUTPUT,
    CLS_REASONING,
    CLS_STEPS,
    CLS_TOOL,
    CLS_TOOL_CALLS,
    CONSTANT,
    EMPIRICAL,
    FLAG_PREFIX_CACHE,
    FLAG_PREFIX_PROMPT_ONLY,
    FLAG_TTL_1H,
    GAMMA,
    GENPARETO,
    GEOMETRIC,
    LOGNORMAL,
    MIXTURE,
    N_CACHE_WRITE,
    N_CACHED,
    N_CALLS,
    N_CLASS_DISTS,
    N_CLIPS,
    N_COUNTS,
    N_INPUT,
    N_OUTPUT,
    N_REASONING,
    N_REQUESTS,
    N_TOOL_CALLS,
    NORMAL,
    NSCORE_MAX,
    NSCORE_POINTS,
    PARETO,
    RANDOM_LAYOUT,
    TIER_WIDTH,
    TOKEN_HEADER,
    TOKEN_PRICING,
    UNIFORM,
    WEIBULL,
    HistogramSpec,
    Limits,
    Outputs,
    PricingArrays,
    TrafficArrays,
    price_requests,
    simulate_items,
    trial_uniforms,
)
from ._threads import simulate_kernel

__all__ = [
    # distribution kinds
    "BETA", "CAPPED", "CONSTANT", "EMPIRICAL", "GAMMA", "GENPARETO", "GEOMETRIC", "LOGNORMAL", "MIXTURE", "NORMAL",
    "PARETO", "UNIFORM", "WEIBULL",
    # a class's distribution columns, flags and copula tables
    "CLS_CACHE_WRITE", "CLS_CACHED", "CLS_INPUT", "CLS_OUTPUT", "CLS_REASONING", "CLS_STEPS", "CLS_TOOL",
    "CLS_TOOL_CALLS", "N_CLASS_DISTS", "FLAG_PREFIX_CACHE", "FLAG_PREFIX_PROMPT_ONLY", "FLAG_TTL_1H", "NSCORE_MAX",
    "NSCORE_POINTS",
    # the kernel's outputs
    "N_CACHE_WRITE", "N_CACHED", "N_CALLS", "N_COUNTS", "N_INPUT", "N_OUTPUT", "N_REASONING", "N_REQUESTS",
    "N_TOOL_CALLS", "CLIP_DRAWS", "CLIP_REQUESTS", "CLIP_SUMS", "N_CLIPS",
    # per-request pricing rows
    "TIER_WIDTH", "TOKEN_HEADER", "TOKEN_PRICING",
    # capacity pricing
    "D_CACHED", "D_CALLS", "D_INPUT", "D_OUTPUT", "D_REQUESTS", "N_DEMAND", "HOURS_PER_MONTH",
    "GPU_DECODE", "GPU_FIXED_MONTHLY", "GPU_LAG", "GPU_MAX", "GPU_MIN", "GPU_OVERHEAD", "GPU_PER_REPLICA",
    "GPU_PREFILL", "GPU_PRICE", "GPU_STEP", "GPU_TARGET", "PROV_PRICE", "PROV_TPM", "PROV_UNITS", "PROV_W_CACHED",
    "PROV_W_INPUT", "PROV_W_OUTPUT", "provisioned_capacity", "self_hosted_gpu",
    # the fused kernel and its inputs
    "BLOCK", "RANDOM_LAYOUT", "HistogramSpec", "Limits", "Outputs", "PricingArrays", "TrafficArrays", "price_requests", "simulate_items",
    "simulate_kernel", "trial_uniforms",
]
