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

INLINE = numba.njit(cache=True, nogil=True, inline="always")
"""Decorator for the tiny generator steps: inlined in numba IR, so passing the
generator state array costs no reference counting in hot loops."""

HOT = numba.njit(cache=True, nogil=True, _nrt=False)
"""Decorator for hot helpers too large for LLVM to inline.  They only read and
write arrays they are given, never allocate, so they are compiled without the
numba runtime: passing arrays to them costs no atomic reference counting, which
otherwise dominated the per-request cost (and contended between threads)."""

INLINE = numba.njit(cache=True, nogil=True, inline="always")
"""Decorator for small hot helpers, inlined into their callers in numba's IR so the
arrays they receive cost no call overhead; keep them small (compile time grows
with every inlined copy) and move rare branches into a ``JIT`` function."""
