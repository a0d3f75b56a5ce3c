"""Compiled helpers the tests use to reach the engine's samplers and histogram one
value at a time (kept out of the production engine; compiled here, not cached)."""

import numba
import numpy as np

from costsim.kernels import _engine as E


@numba.njit(parallel=True)
def fill_samples(dist_kind, dist_off, par, data, d, seed, stream, out):
    """Fill ``out`` with draws of row ``d``; element ``i`` uses counter keys (stream, i).

    Each chunk of 4096 draws has its own generator, so the result does not depend
    on the thread count."""
    n = out.shape[0]
    n_chunks = (n + 4095) // 4096
    for ch in numba.prange(n_chunks):
        state = np.empty(4, dtype=np.uint64)
        picks = np.empty(4, dtype=np.uint64)
        E.seed_state(state, seed, stream, ch, 0)
        E.seed_state(picks, seed, stream, ch, 1)
        for i in range(ch * 4096, min(n, (ch + 1) * 4096)):
            out[i] = E.sample_dist(dist_kind, dist_off, par, data, d, state, picks)


@numba.njit
def hist_indices(costs, lo_exp, octaves, log2_per_octave, out):
    """``out[i]`` = the kernel's histogram bin of ``costs[i]``."""
    base = E.hist_base(lo_exp, log2_per_octave)
    for i in range(costs.shape[0]):
        out[i] = E.hist_index(E.float_bits(costs[i]), base, octaves << log2_per_octave, log2_per_octave)
