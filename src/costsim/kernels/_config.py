"""numba configuration in one place.

``cache=True`` stores compiled kernels in ``__pycache__`` beside the module (or in
numba's user cache folder when the package is read-only), so a new process loads
them instead of compiling.  ``fastmath`` stays off: results must be bit-identical
across thread counts and equal to the reference implementation.
"""

import numba

JIT = numba.njit(cache=True, nogil=True)
"""Decorator for serial helpers compiled as functions of their own.  Hot loops
call them once per block of work, never once per request: a call passing
arrays costs far more than the arithmetic of one request."""

PJIT = numba.njit(cache=True, nogil=True, parallel=True)
"""Decorator for kernels that run work items in parallel with ``prange``."""

INLINE = numba.njit(cache=True, nogil=True, inline="always")
"""Decorator for small per-request helpers, inlined into their callers in numba's
IR.  Keep them small (compile time grows with every inlined copy) and move rare
branches into a ``JIT`` function."""
