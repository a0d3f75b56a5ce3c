"""The compiled engine: counter-based randomness, variate samplers, pricing, fused kernel.

Everything compiled lives in this one module on purpose: numba's on-disk cache
checks only the file that defines a kernel, so a helper in another module could
change without invalidating a cached kernel that inlined it.

Randomness contract
-------------------
Every random number is a pure function of ``(seed, trial, bin, stream, counter)``:
a work item seeds a xoshiro256++ generator by hashing its keys through splitmix64
and draws from it sequentially.  Streams:

* ``(seed, trial, bin, BURST_STREAM)`` - the bin's gamma rate multiplier;
* ``(seed, trial, bin, class_key)`` - the count and every draw of one query
  class's requests in that bin (``class_key`` hashes the class name, so adding a
  class leaves the others' draws unchanged);
* ``(seed, trial, TRIAL_LEVEL, parameter_key)`` - one uniform per trial and
  uncertain parameter.

Pricing never draws, so options are priced on identical requests.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from ._config import INLINE, JIT, PJIT

# --------------------------------------------------------------------------------------
# Codes shared with the lowering code in costsim.traffic and costsim.pricing.
# --------------------------------------------------------------------------------------
CONSTANT = 0
LOGNORMAL = 1
PARETO = 2
GENPARETO = 3
GAMMA = 4
WEIBULL = 5
NORMAL = 6
UNIFORM = 7
BETA = 8
GEOMETRIC = 9
EMPIRICAL = 10
MIXTURE = 11
CAPPED = 12

TOKEN_PRICING = 0

# class_dists columns
CLS_INPUT = 0
CLS_OUTPUT = 1
CLS_CACHED = 2
CLS_STEPS = 3
CLS_TOOL = 4
N_CLASS_DISTS = 5

BURST_STREAM = np.uint64(0x9E3779B97F4A7C15)
COUNT_SLOT = N_CLASS_DISTS
BURST_SLOT = N_CLASS_DISTS + 1
STREAMS_PER_BIN = 8
TRIAL_LEVEL = np.uint64(0xFFFFFFFFFFFFFFFF)

_U64 = numba.uint64
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TWO_M53 = 1.0 / 9007199254740992.0


# --------------------------------------------------------------------------------------
# Bit casts and a vectorisable exp
# --------------------------------------------------------------------------------------
@intrinsic
def float_bits(typingctx, x):
    """The IEEE-754 bits of a float64 as an int64 (a register move, no memory)."""
    if x != types.float64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def bits_float(typingctx, x):
    """The float64 whose IEEE-754 bits are the int64 ``x``."""
    if x != types.int64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10


_ROUNDING_MAGIC = 6755399441055744.0  # 1.5 * 2**52: adding it rounds to an integer
_ROUNDING_MAGIC_BITS = 0x4338000000000000


@INLINE
def fast_exp(x):
    """``exp(x)`` within 1 ulp, with no library call or float-to-int conversion, so
    loops of it vectorise (AVX2 has no packed double -> int64 conversion).

    Cody-Waite reduction ``x = k ln2 + r`` (|r| <= ln2 / 2) with ``k`` rounded by
    the 1.5 * 2**52 trick, a degree-13 Taylor polynomial for ``e**r`` (truncation
    below 1e-17), and ``2**k`` built from its bits.  Below -708 it returns 0 and
    above 709 infinity.
    """
    xc = min(max(x, -708.0), 709.0)
    shifted = xc * _LOG2E + _ROUNDING_MAGIC
    k = shifted - _ROUNDING_MAGIC
    r = (xc - k * _LN2_HI) - k * _LN2_LO
    p = 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    y = p * bits_float((float_bits(shifted) - _ROUNDING_MAGIC_BITS + 1023) << 52)
    if x == xc:
        return y
    return 0.0 if x < 0.0 else math.inf


# --------------------------------------------------------------------------------------
# splitmix64 / xoshiro256++
# --------------------------------------------------------------------------------------
@JIT
def splitmix64_mix(z):
    """The splitmix64 output function of a 64-bit word."""
    z = (z ^ (z >> _U64(30))) * _M1
    z = (z ^ (z >> _U64(27))) * _M2
    return z ^ (z >> _U64(31))


@JIT
def seed_state(state, seed, a, b, c):
    """Seed xoshiro256++ ``state`` (uint64[4]) from the keys ``(seed, a, b, c)``."""
    h = splitmix64_mix(_U64(seed) + _GOLDEN)
    h = splitmix64_mix(h ^ _U64(a))
    h = splitmix64_mix(h ^ _U64(b))
    h = splitmix64_mix(h ^ _U64(c))
    for i in range(4):
        h = h + _GOLDEN
        state[i] = splitmix64_mix(h)


@INLINE
def _rotl(x, k):
    return (x << _U64(k)) | (x >> _U64(64 - k))


@INLINE
def next_u64(state):
    """Next 64-bit output of xoshiro256++ (Blackman & Vigna, 2019)."""
    s0 = state[0]
    s1 = state[1]
    s2 = state[2]
    s3 = state[3]
    result = _rotl(s0 + s3, 23) + s0
    t = s1 << _U64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    state[0] = s0
    state[1] = s1
    state[2] = s2
    state[3] = s3
    return result


@INLINE
def next_double(state):
    """Uniform on [0, 1) with 53 random bits."""
    return float(next_u64(state) >> _U64(11)) * _TWO_M53


@INLINE
def next_open(state):
    """Uniform on (0, 1): never 0, safe for logarithms."""
    return (float(next_u64(state) >> _U64(11)) + 0.5) * _TWO_M53


# --------------------------------------------------------------------------------------
# Normal: Doornik's ZIGNOR ziggurat (128 layers).
# --------------------------------------------------------------------------------------
_ZIG_C = 128
_ZIG_R = 3.442619855899
_ZIG_V = 9.91256303526217e-3


def _ziggurat_tables():
    x = np.empty(_ZIG_C + 1)
    f = math.exp(-0.5 * _ZIG_R * _ZIG_R)
    x[0] = _ZIG_V / f
    x[1] = _ZIG_R
    x[_ZIG_C] = 0.0
    for i in range(2, _ZIG_C):
        x[i] = math.sqrt(-2.0 * math.log(_ZIG_V / x[i - 1] + f))
        f = math.exp(-0.5 * x[i] * x[i])
    ratio = x[1:] / x[:-1]
    return x, ratio


_ZIG_X, _ZIG_RATIO = _ziggurat_tables()


@INLINE
def next_normal(state):
    """Standard normal variate: the ziggurat's fast path inline, the rest out of line."""
    bits = next_u64(state)
    i = np.int64(bits & _U64(0x7F))
    u = 2.0 * (float(bits >> _U64(11)) * _TWO_M53) - 1.0
    if abs(u) < _ZIG_RATIO[i]:
        return u * _ZIG_X[i]
    return _normal_slow(state, i, u)


@JIT
def _normal_slow(state, i, u):
    """The ziggurat's rare branches (about 1.2 % of draws): wedge test, tail, retry."""
    zx = _ZIG_X
    zr = _ZIG_RATIO
    while True:
        if abs(u) < zr[i]:
            return u * zx[i]
        if i == 0:
            # tail beyond R (Marsaglia 1964)
            while True:
                x = math.log(next_open(state)) / _ZIG_R
                y = math.log(next_open(state))
                if -2.0 * y >= x * x:
                    break
            return x - _ZIG_R if u < 0.0 else _ZIG_R - x
        x = u * zx[i]
        f0 = math.exp(-0.5 * (zx[i] * zx[i] - x * x))
        f1 = math.exp(-0.5 * (zx[i + 1] * zx[i + 1] - x * x))
        if f1 + next_double(state) * (f0 - f1) < 1.0:
            return x
        bits = next_u64(state)
        i = np.int64(bits & _U64(0x7F))
        u = 2.0 * (float(bits >> _U64(11)) * _TWO_M53) - 1.0


@JIT
def fill_normals(state, out, n):
    """``out[:n]`` = the next ``n`` values of :func:`next_normal`, bit for bit.

    The generator state lives in local variables for the loop (an array element
    cannot stay in a register across stores to ``out``, which might alias it).
    """
    s0 = state[0]
    s1 = state[1]
    s2 = state[2]
    s3 = state[3]
    for i in range(n):
        bits = _rotl(s0 + s3, 23) + s0
        t = s1 << _U64(17)
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = _rotl(s3, 45)
        j = np.int64(bits & _U64(0x7F))
        u = 2.0 * (float(bits >> _U64(11)) * _TWO_M53) - 1.0
        if abs(u) < _ZIG_RATIO[j]:
            out[i] = u * _ZIG_X[j]
        else:
            state[0] = s0
            state[1] = s1
            state[2] = s2
            state[3] = s3
            out[i] = _normal_slow(state, j, u)
            s0 = state[0]
            s1 = state[1]
            s2 = state[2]
            s3 = state[3]
    state[0] = s0
    state[1] = s1
    state[2] = s2
    state[3] = s3


@JIT
def next_gamma(state, shape):
    """Gamma(shape, scale=1) variate (Marsaglia & Tsang, 2000)."""
    boost = 1.0
    a = shape
    if a < 1.0:
        boost = next_open(state) ** (1.0 / a)
        a += 1.0
    d = a - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        x = next_normal(state)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        u = next_open(state)
        if u < 1.0 - 0.0331 * x * x * x * x:
            return d * v * boost
        if math.log(u) < 0.5 * x * x + d * (1.0 - v + math.log(v)):
            return d * v * boost


@JIT
def next_poisson(state, lam):
    """Poisson(lam) count: multiplication method below 10, PTRS (Hoermann 1993) above."""
    if lam <= 0.0:
        return np.int64(0)
    if lam < 10.0:
        enlam = math.exp(-lam)
        k = np.int64(0)
        prod = next_double(state)
        while prod > enlam:
            k += 1
            prod *= next_double(state)
        return k
    slam = math.sqrt(lam)
    loglam = math.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2.0)
    while True:
        u = next_double(state) - 0.5
        v = next_double(state)
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return np.int64(k)
        if k < 0.0 or (us < 0.013 and v > us):
            continue
        if (math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b)) <= (
            -lam + k * loglam - math.lgamma(k + 1.0)
        ):
            return np.int64(k)


@INLINE
def stream_id(b, slot):
    """Counter key of stream ``slot`` (a CLS_* column, COUNT_SLOT or BURST_SLOT) of bin ``b``."""
    return b * STREAMS_PER_BIN + slot


# --------------------------------------------------------------------------------------
# Distributions lowered to (kind, offset) rows over a parameter vector.
# --------------------------------------------------------------------------------------
@JIT
def _sample_leaf(kind, par, o, data, state):
    if kind == CONSTANT:
        return par[o]
    if kind == LOGNORMAL:
        return fast_exp(par[o] + par[o + 1] * next_normal(state))
    if kind == PARETO:  # scale x_m, shape alpha
        return par[o] * next_open(state) ** (-1.0 / par[o + 1])
    if kind == GENPARETO:  # loc, scale, shape c
        c = par[o + 2]
        u = next_open(state)
        if c == 0.0:
            return par[o] - par[o + 1] * math.log(u)
        return par[o] + par[o + 1] * (u ** (-c) - 1.0) / c
    if kind == GAMMA:  # shape, scale
        return par[o + 1] * next_gamma(state, par[o])
    if kind == WEIBULL:  # shape k, scale lambda
        return par[o + 1] * (-math.log(next_open(state))) ** (1.0 / par[o])
    if kind == NORMAL:
        return par[o] + par[o + 1] * next_normal(state)
    if kind == UNIFORM:
        return par[o] + (par[o + 1] - par[o]) * next_double(state)
    if kind == BETA:
        ga = next_gamma(state, par[o])
        gb = next_gamma(state, par[o + 1])
        if ga + gb == 0.0:  # both underflow for tiny a, b: Beta is then ~Bernoulli(a / (a + b))
            return 1.0 if next_double(state) * (par[o] + par[o + 1]) < par[o] else 0.0
        return ga / (ga + gb)
    if kind == GEOMETRIC:  # trials to first success, support 1, 2, ...
        p = par[o]
        if p >= 1.0:
            return 1.0
        return 1.0 + math.floor(math.log(next_open(state)) / math.log1p(-p))
    if kind == EMPIRICAL:  # data offset, count
        n = np.int64(par[o + 1])
        i = np.int64(next_double(state) * n)
        return data[np.int64(par[o]) + min(i, n - 1)]
    return math.nan


@JIT
def sample_dist(dist_kind, dist_off, par, data, d, state):
    """One draw of distribution row ``d``.

    Mixtures pick a component and continue with it; caps accumulate (the smallest
    cap on the path applies), so nesting needs no recursion.
    """
    cap = math.inf
    while True:
        kind = dist_kind[d]
        o = dist_off[d]
        if kind == MIXTURE:  # n, cumulative weights[n], child rows[n]
            n = np.int64(par[o])
            u = next_double(state)
            j = 0
            while j < n - 1 and u >= par[o + 1 + j]:
                j += 1
            d = np.int64(par[o + 1 + n + j])
        elif kind == CAPPED:  # cap, child row
            cap = min(cap, par[o])
            d = np.int64(par[o + 1])
        else:
            return min(_sample_leaf(kind, par, o, data, state), cap)


@INLINE
def _tokens(x):
    """Token count of a continuous draw: rounded half up, never negative.

    Returned as a whole-number float64: token arithmetic and sums stay exact below
    2**53 and the hot loops avoid int <-> float conversions.
    """
    return math.floor(max(x, 0.0) + 0.5)


BLOCK = 256
"""Draws generated per refill of a stream's buffer (values do not depend on it)."""


@JIT
def fill_block(dist_kind, dist_off, par, data, d, state, out, n):
    """Fill ``out[:n]`` with successive draws of row ``d``: bit for bit the values of
    ``n`` calls of :func:`sample_dist`, generated a block at a time.

    Leaves under caps take a fast path: a loop of normals, then a loop of exps.
    """
    cap = math.inf
    leaf = d
    while dist_kind[leaf] == CAPPED:
        cap = min(cap, par[dist_off[leaf]])
        leaf = np.int64(par[dist_off[leaf] + 1])
    kind = dist_kind[leaf]
    o = dist_off[leaf]
    if kind == CONSTANT:
        v = min(par[o], cap)
        for i in range(n):
            out[i] = v
    elif kind == LOGNORMAL:
        fill_normals(state, out, n)
        mu = par[o]
        sigma = par[o + 1]
        for i in range(n):
            out[i] = min(fast_exp(mu + sigma * out[i]), cap)
    elif kind == MIXTURE:
        for i in range(n):
            out[i] = sample_dist(dist_kind, dist_off, par, data, d, state)
    else:
        for i in range(n):
            out[i] = min(_sample_leaf(kind, par, o, data, state), cap)


@PJIT
def fill_samples(dist_kind, dist_off, par, data, d, seed, stream, out):
    """Fill ``out`` with draws of row ``d``; element ``i`` uses counter keys (stream, i).

    Used by the tests (KS against scipy.stats) and by ``Distribution.sample`` checks;
    each chunk of 4096 draws has its own generator so the result is thread-safe.
    """
    n = out.shape[0]
    n_chunks = (n + 4095) // 4096
    for ch in numba.prange(n_chunks):
        state = np.empty(4, dtype=np.uint64)
        seed_state(state, seed, stream, ch, 0)
        for i in range(ch * 4096, min(n, (ch + 1) * 4096)):
            out[i] = sample_dist(dist_kind, dist_off, par, data, d, state)


@JIT
def trial_uniforms(seed, trials, key):
    """One uniform on (0, 1) per trial for the uncertain parameter ``key``."""
    out = np.empty(trials.shape[0])
    state = np.empty(4, dtype=np.uint64)
    for i in range(trials.shape[0]):
        seed_state(state, seed, trials[i], TRIAL_LEVEL, key)
        out[i] = next_open(state)
    return out


# --------------------------------------------------------------------------------------
# Pricing
# --------------------------------------------------------------------------------------
@INLINE
def token_call_cost(par, row, prompt, cached, output):
    """USD cost of one model call under TOKEN_PRICING parameters ``par``.

    ``par[row]`` = [n_tiers, then (threshold, input, output, cached_input) per tier
    with rates in USD per million tokens]; tier 0 has threshold -1.  The highest
    tier whose threshold the prompt strictly exceeds prices the whole call.
    """
    n = np.int64(par[row, 0])
    o = 1
    for t in range(1, n):
        if prompt > par[row, 1 + 4 * t]:
            o = 1 + 4 * t
    return ((prompt - cached) * par[row, o + 1] + cached * par[row, o + 3] + output * par[row, o + 2]) * 1e-6


@INLINE
def call_cost(kind, par, row, prompt, cached, output):
    """USD cost of one model call under pricing model ``kind`` with parameters ``par[row]``.

    (Rows are indexed inside, not sliced by the caller: a slice in the hot loop
    would cost a reference-count update per call.)
    """
    if kind == TOKEN_PRICING:
        return token_call_cost(par, row, prompt, cached, output)
    return math.nan


@JIT
def _call_costs(kind, par, row, prompt, cached, output, out, m):
    """``out[i]`` = :func:`call_cost` of call ``i < m``, bit for bit, a block at a time.

    For TOKEN_PRICING the loops have no branches or calls, so they vectorise: every
    call is priced at the base rates, then re-priced at each tier it exceeds.
    """
    if kind != TOKEN_PRICING:
        for i in range(m):
            out[i] = call_cost(kind, par, row, prompt[i], cached[i], output[i])
        return
    for t in range(np.int64(par[row, 0])):
        o = 1 + 4 * t
        threshold = par[row, o]
        r_in = par[row, o + 1]
        r_out = par[row, o + 2]
        r_cached = par[row, o + 3]
        for i in range(m):
            c = ((prompt[i] - cached[i]) * r_in + cached[i] * r_cached + output[i] * r_out) * 1e-6
            out[i] = c if prompt[i] > threshold else out[i]


@PJIT
def price_calls(kind, par, prompt, cached, output, out):
    """``out[i]`` = USD cost of call ``i`` under pricing model ``kind`` with parameters ``par``."""
    par2 = par.reshape(1, par.shape[0])
    for i in numba.prange(out.shape[0]):
        out[i] = call_cost(kind, par2, 0, prompt[i], cached[i], output[i])


# --------------------------------------------------------------------------------------
# Per-request cost histogram on exactly representable log-spaced edges.
# --------------------------------------------------------------------------------------
@INLINE
def hist_index(bits, base, n_inner, log2_per_octave):
    """Histogram bin of a cost from its IEEE-754 bits (:func:`float_bits`).

    For a positive double, ``bits >> (52 - log2_per_octave)`` is its binary exponent
    followed by the top mantissa bits: a monotone index of bins whose edges are
    ``2**e * (1 + j / per_octave)``, exact in floating point.  ``base`` is that index
    of the lowest edge; bin 0 holds smaller costs (and zero), bin ``n_inner + 1``
    costs at or above the top edge.
    """
    if bits <= 0:
        return np.int64(0)
    k = (bits >> (52 - log2_per_octave)) - base
    if k < 0:
        return np.int64(0)
    if k >= n_inner:
        return n_inner + 1
    return k + 1


@JIT
def hist_base(lo_exp, log2_per_octave):
    """``hist_index``'s ``base`` for a lowest edge of ``2**(lo_exp - 1)``."""
    return np.int64(lo_exp - 1 + 1023) << log2_per_octave


@JIT
def hist_indices(costs, lo_exp, octaves, log2_per_octave, out):
    """``out[i]`` = histogram bin of ``costs[i]`` (for tests and analysis)."""
    base = hist_base(lo_exp, log2_per_octave)
    for i in range(costs.shape[0]):
        out[i] = hist_index(float_bits(costs[i]), base, octaves << log2_per_octave, log2_per_octave)


# --------------------------------------------------------------------------------------
# The fused kernel
# --------------------------------------------------------------------------------------
@INLINE
def _row(a, t):
    """Row ``t`` of a per-trial array, or its only row when it does not vary by trial."""
    return a[t] if a.shape[0] > 1 else a[0]


@JIT
def _price_block(m, single_call, draws, per_call, opt_kind, opt_par, req_cost, scratch, cost, hist, base,
                 n_inner, log2_per_octave):
    """Price a block of ``m`` queries of one class from their buffered draws.

    ``draws[CLS_INPUT|CLS_CACHED|CLS_STEPS, i]`` hold query i's input tokens, cached
    fraction and (rounded) steps; ``per_call[0]`` the outputs of successive calls,
    ``per_call[1]`` the tool tokens between them.  Adds to ``cost[o]`` and
    ``hist[o, bin]``; returns the (prompt, output, cached) token sums (whole numbers
    held exactly in float64).  When every
    query of the block makes one call (``single_call``) a loop without the agent
    steps runs, option by option over the block (``scratch`` float64[4, BLOCK]): the
    same arithmetic in the same order per option, in loops that vectorise.
    """
    n_opt = opt_kind.shape[0]
    sum_in = 0.0
    sum_out = 0.0
    sum_cached = 0.0
    if single_call:
        prompt = scratch[0]
        output = scratch[1]
        cached = scratch[2]
        costs = scratch[3]
        for i in range(m):
            prompt[i] = _tokens(draws[CLS_INPUT, i])
            output[i] = _tokens(per_call[0, i])
            cached[i] = math.floor(draws[CLS_CACHED, i] * prompt[i] + 0.5)
            sum_in += prompt[i]
            sum_out += output[i]
            sum_cached += cached[i]
        for o in range(n_opt):
            _call_costs(opt_kind[o], opt_par, o, prompt, cached, output, costs, m)
            for i in range(m):
                cost[o] += costs[i]
                hist[o, hist_index(float_bits(costs[i]), base, n_inner, log2_per_octave)] += 1
        return sum_in, sum_out, sum_cached
    j_out = 0
    j_tool = 0
    for i in range(m):
        context = _tokens(draws[CLS_INPUT, i])
        frac = draws[CLS_CACHED, i]
        steps = np.int64(draws[CLS_STEPS, i])
        for o in range(n_opt):
            req_cost[o] = 0.0
        for k in range(steps):
            out = _tokens(per_call[0, j_out])
            j_out += 1
            cached = math.floor(frac * context + 0.5)
            for o in range(n_opt):
                req_cost[o] += call_cost(opt_kind[o], opt_par, o, context, cached, out)
            sum_in += context
            sum_out += out
            sum_cached += cached
            if k + 1 < steps:
                context += out + _tokens(per_call[1, j_tool])
                j_tool += 1
        for o in range(n_opt):
            cost[o] += req_cost[o]
            hist[o, hist_index(float_bits(req_cost[o]), base, n_inner, log2_per_octave)] += 1
    return sum_in, sum_out, sum_cached


@PJIT
def simulate_kernel(
    seed,
    trials,
    n_parts,
    rate,
    burst_shape,
    class_key,
    class_dists,
    dist_kind,
    dist_off,
    dist_par,
    dist_data,
    opt_kind,
    opt_par,
    hist_lo_exp,
    hist_octaves,
    hist_log2_per_octave,
    requests,
    calls,
    input_tokens,
    output_tokens,
    cached_tokens,
    cost,
    hist,
):
    """Simulate and price every request of every (trial, bin, class); fill the outputs.

    Inputs (T local trials, B bins, C classes, O options; a leading axis of 1 means
    "same for every trial"): ``trials`` int64[T] global trial ids; ``rate``
    float[T|1, B, C] expected requests; ``burst_shape`` float[T|1] gamma shape of
    the per-bin rate multiplier (0: no overdispersion); ``class_key`` uint64[C];
    ``class_dists`` int64[C, 5] distribution rows; ``dist_*`` the lowered
    distribution table with ``dist_par`` float[T|1, P]; ``opt_kind`` int64[O];
    ``opt_par`` float[T|1, O, R].

    Outputs (written, not accumulated): ``requests``, ``calls``, ``input_tokens``,
    ``output_tokens``, ``cached_tokens`` int64[T, B, C]; ``cost`` float64[T, B, O, C];
    ``hist`` int64[T, n_parts, O, C, H] per-request cost counts of each part of the
    bins (summed over parts by the caller; integer sums are exact in any order).

    Streams of (trial g, bin b, class c): the count from keys
    ``(seed, g, stream_id(b, COUNT_SLOT), class_key[c])``, and each CLS_* column
    its own stream ``(seed, g, stream_id(b, column), class_key[c])`` consumed in
    order: input, cached fraction and steps once per query, output once per call,
    tool tokens once per call but the last.  Queries are processed in blocks of
    BLOCK, each stream filling a buffer for the block; values do not depend on it.  Work item (t, p) covers the bins of
    part p and writes only its own cells, so the result is identical for any
    thread count.
    """
    n_trials = trials.shape[0]
    n_bins = rate.shape[1]
    n_classes = class_key.shape[0]
    n_opt = opt_kind.shape[0]
    base = hist_base(hist_lo_exp, hist_log2_per_octave)
    n_inner = hist_octaves << hist_log2_per_octave
    for item in numba.prange(n_trials * n_parts):
        t = item // n_parts
        p = item % n_parts
        g = trials[t]
        rate_t = _row(rate, t)
        shape_t = _row(burst_shape, t)
        par_t = _row(dist_par, t)
        opar_t = _row(opt_par, t)
        states = np.empty((N_CLASS_DISTS, 4), dtype=np.uint64)
        draws = np.empty((N_CLASS_DISTS, BLOCK))
        per_call = np.empty((2, 4 * BLOCK))  # output and tool draws of a block's calls
        req_cost = np.empty(n_opt)
        scratch = np.empty((4, BLOCK))
        cost_bc = np.empty(n_opt)
        hist_item = np.zeros((n_classes, n_opt, hist.shape[4]), dtype=np.int64)
        b0 = (n_bins * p) // n_parts
        b1 = (n_bins * (p + 1)) // n_parts
        for b in range(b0, b1):
            burst = 1.0
            if shape_t > 0.0:
                seed_state(states[0], seed, g, stream_id(b, BURST_SLOT), BURST_STREAM)
                burst = next_gamma(states[0], shape_t) / shape_t
            for c in range(n_classes):
                rows = class_dists[c]
                # every query of the class makes one call: steps is a constant that rounds to <= 1
                one_call = dist_kind[rows[CLS_STEPS]] == CONSTANT and _tokens(par_t[dist_off[rows[CLS_STEPS]]]) <= 1
                seed_state(states[0], seed, g, stream_id(b, COUNT_SLOT), class_key[c])
                n_req = next_poisson(states[0], rate_t[b, c] * burst)
                for s in range(N_CLASS_DISTS):
                    seed_state(states[s], seed, g, stream_id(b, s), class_key[c])
                n_calls = np.int64(0)
                sum_in = np.int64(0)
                sum_out = np.int64(0)
                sum_cached = np.int64(0)
                cost_bc[:] = 0.0
                for first in range(0, n_req, BLOCK):
                    m = min(BLOCK, n_req - first)
                    for s in (CLS_INPUT, CLS_CACHED):
                        fill_block(dist_kind, dist_off, par_t, dist_data, rows[s], states[s], draws[s], m)
                    if one_call:
                        block_calls = np.int64(m)
                    else:
                        fill_block(dist_kind, dist_off, par_t, dist_data, rows[CLS_STEPS], states[CLS_STEPS],
                                   draws[CLS_STEPS], m)
                        block_calls = np.int64(0)
                        for i in range(m):
                            draws[CLS_STEPS, i] = max(1.0, math.floor(max(draws[CLS_STEPS, i], 0.0) + 0.5))
                            block_calls += np.int64(draws[CLS_STEPS, i])
                    if block_calls > per_call.shape[1]:
                        per_call = np.empty((2, block_calls))
                    fill_block(dist_kind, dist_off, par_t, dist_data, rows[CLS_OUTPUT], states[CLS_OUTPUT],
                               per_call[0], block_calls)
                    fill_block(dist_kind, dist_off, par_t, dist_data, rows[CLS_TOOL], states[CLS_TOOL],
                               per_call[1], block_calls - m)
                    s_in, s_out, s_cached = _price_block(
                        m, block_calls == m, draws, per_call, opt_kind, opar_t, req_cost, scratch, cost_bc,
                        hist_item[c], base, n_inner, hist_log2_per_octave,
                    )
                    sum_in += np.int64(s_in)
                    sum_out += np.int64(s_out)
                    sum_cached += np.int64(s_cached)
                    n_calls += block_calls
                cost[t, b, :, c] = cost_bc
                requests[t, b, c] = n_req
                calls[t, b, c] = n_calls
                input_tokens[t, b, c] = sum_in
                output_tokens[t, b, c] = sum_out
                cached_tokens[t, b, c] = sum_cached
        for c in range(n_classes):
            hist[t, p, :, c, :] = hist_item[c]
