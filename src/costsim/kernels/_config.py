"""numba configuration in one place.

``cache=True`` stores compiled kernels in ``__pycache__`` beside the module (or in
numba's user cache folder when the package is read-only), so a new process loads
them instead of compiling.  ``fastmath`` stays off: results must be bit-identical
across thread counts and equal to the reference implementation.
"""

import warnings

import numba


def _probe(x):
    return x


def _cache_usable() -> bool:
    """Whether numba can cache kernels of this folder on disk (in ``__pycache__``
    beside them, else in the user's cache folder, or under ``NUMBA_CACHE_DIR``).

    Where none is writable (a read-only install run by a service user without a
    home), numba refuses ``cache=True`` at decoration time: costsim then compiles
    in every new process instead, and says so once.  It does not fall back to a
    shared temporary folder: numba's cache index is a pickle, and one planted
    there by another user would run code when loaded.
    """
    try:
        numba.njit(cache=True)(_probe)
    except RuntimeError as err:
        warnings.warn(
            f"costsim: numba cannot cache compiled kernels ({err}); they compile in each new process "
            "(a few seconds): set NUMBA_CACHE_DIR to a private writable folder to cache them",
            RuntimeWarning, stacklevel=2,
        )
        return False
    return True


CACHE = _cache_usable()
"""Whether compiled kernels are cached on disk (see :func:`_cache_usable`)."""

JIT = numba.njit(cache=CACHE, nogil=True)
"""Decorator for serial helpers compiled as functions of their own.  Hot loops
call them once per block of work, never once per request: a call passing
arrays costs far more than the arithmetic of one request."""

PJIT = numba.njit(cache=CACHE, nogil=True, parallel=True)
"""Decorator for kernels that run work items in parallel with ``prange``."""

INLINE = numba.njit(cache=CACHE, nogil=True, inline="always")
"""Decorator for small per-request helpers, inlined into their callers in numba's
IR.  Keep them small (compile time grows with every inlined copy) and move rare
branches into a ``JIT`` function."""
