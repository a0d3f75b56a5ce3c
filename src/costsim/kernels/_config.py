"""numba configuration in one place.

``cache=True`` stores compiled kernels in ``__pycache__`` beside the module (or in
numba's user cache folder when the package is read-only), so a new process loads
them instead of compiling.  ``fastmath`` stays off: results must be bit-identical
across machines' thread counts and equal to the reference implementation.
"""

import numba

JIT = numba.njit(cache=True, nogil=True)
"""Decorator for serial helpers (inlined into the kernels that call them)."""

PJIT = numba.njit(cache=True, nogil=True, parallel=True)
"""Decorator for kernels that run work items in parallel with ``prange``."""
