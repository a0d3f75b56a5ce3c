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
* ``(seed, trial, bin, class_key ^ PICK_STREAM)`` - with the CLS_* column's stream
  id: the component picks of a column drawn from a mixture, one uniform per
  mixture on a draw's path (the layout version is :data:`RANDOM_LAYOUT`);
* ``(seed, trial, TRIAL_LEVEL, parameter_key)`` - one uniform per trial and
  uncertain parameter.

Pricing never draws, so options are priced on identical requests.
"""

from __future__ import annotations

import math
from typing import NamedTuple

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
CLS_INPUT = 0  # per query: prompt tokens of the first call
CLS_OUTPUT = 1  # per call: output tokens
CLS_CACHED = 2  # per query: fraction of each prompt read from the cache
CLS_STEPS = 3  # per query: model calls
CLS_TOOL = 4  # per call but the last: tool/observation tokens appended to the context
CLS_CACHE_WRITE = 5  # per query: fraction of each prompt written to the cache
CLS_REASONING = 6  # per call: reasoning tokens (billed, not re-sent)
CLS_TOOL_CALLS = 7  # per query: priced tool calls (e.g. web searches)
N_CLASS_DISTS = 8

# columns of the kernel's integer output counts[T, B, C, K, N_COUNTS]
N_REQUESTS = 0
N_CALLS = 1
N_INPUT = 2
N_CACHED = 3
N_CACHE_WRITE = 4
N_OUTPUT = 5
N_REASONING = 6
N_TOOL_CALLS = 7
N_COUNTS = 8

# columns of the kernel's output clipped[T, parts, C, N_CLIPS]
CLIP_DRAWS = 0  # draws clipped at their column's limit
CLIP_REQUESTS = 1  # bins whose expected requests were clipped at max_requests
CLIP_SUMS = 2  # count cells saturated at the int64 maximum
N_CLIPS = 3
_INT64_MAX = np.int64(2**63 - 1)
_INT64_LIMIT = 9.223372036854775808e18  # 2**63: the smallest float64 that np.int64 cannot hold

# TOKEN_PRICING rows: a header, then rate cards of (n_tiers, tiers of TIER_WIDTH)
FLAG_TTL_1H = 1  # class flags: cache writes live 1 hour (else 5 minutes)
FLAG_PREFIX_CACHE = 2  # ... calls after the first read the previous call's context from the cache
FLAG_PREFIX_PROMPT_ONLY = 4  # ... with FLAG_PREFIX_CACHE: the previous call's prompt only, not its output

HAS_WRITES = 1  # _price_block's ``extras`` flags: a class with cache writes,
HAS_REASONING_OR_TOOLS = 2  # ... with reasoning tokens or priced tool calls

TOKEN_HEADER = 4  # multiplier, fee_per_request, fee_per_tool_call, minimum_charge
TIER_WIDTH = 7  # threshold, input, output, cached, cache write 5 min, cache write 1 h, reasoning

BURST_STREAM = np.uint64(0x9E3779B97F4A7C15)
COUNT_SLOT = N_CLASS_DISTS
BURST_SLOT = N_CLASS_DISTS + 1
STREAMS_PER_BIN = 16
TRIAL_LEVEL = np.uint64(0xFFFFFFFFFFFFFFFF)
PICK_STREAM = np.uint64(0xD1B54A32D192ED03)  # xor'ed into a class key: the stream of its mixture picks
RANDOM_LAYOUT = 2
"""Version of the stream layout below, recorded in every result (``random_layout``).
1 (costsim 0.1): a mixture drew its component pick and its value from one stream;
2: the picks come from a stream of their own, so a block of draws vectorises.  The
layouts differ only for mixtures: without one, both give the same numbers."""

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
def _step(s0, s1, s2, s3):
    """xoshiro256++ on a state held in local variables: ``(output, s0, s1, s2, s3)``."""
    result = _rotl(s0 + s3, 23) + s0
    t = s1 << _U64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    return result, s0, s1, s2, s3


@INLINE
def next_u64(state):
    """Next 64-bit output of xoshiro256++ (Blackman & Vigna, 2019)."""
    result, state[0], state[1], state[2], state[3] = _step(state[0], state[1], state[2], state[3])
    return result


@INLINE
def unit_double(bits):
    """Uniform on [0, 1) from the top 53 of 64 random bits."""
    return float(bits >> _U64(11)) * _TWO_M53


@INLINE
def unit_open(bits):
    """Uniform on (0, 1) from the top 53 of 64 random bits: never 0, safe for logarithms."""
    return (float(bits >> _U64(11)) + 0.5) * _TWO_M53


@INLINE
def next_double(state):
    """Uniform on [0, 1) with 53 random bits."""
    return unit_double(next_u64(state))


@INLINE
def next_open(state):
    """Uniform on (0, 1): never 0, safe for logarithms."""
    return unit_open(next_u64(state))


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


# Gaussian copula of a class's input and output tokens: each marginal is sampled as
# its quantile function of a standard normal score, tabulated at NSCORE_POINTS
# equally spaced scores on [-NSCORE_MAX, NSCORE_MAX] and interpolated linearly.
NSCORE_MAX = 8.0
NSCORE_POINTS = 16_385
COPULA_RHO, COPULA_INPUT, COPULA_OUTPUT = 0, 1, 2  # columns of class_copula: rho, table offsets in dist_data


@INLINE
def nscore_value(data, off, z):
    """The tabulated quantile function at ``data[off:off + NSCORE_POINTS]`` at score ``z``."""
    pos = (min(max(z, -NSCORE_MAX), NSCORE_MAX) + NSCORE_MAX) * ((NSCORE_POINTS - 1) / (2.0 * NSCORE_MAX))
    i = min(np.int64(pos), NSCORE_POINTS - 2)
    f = pos - i
    return data[off + i] + f * (data[off + i + 1] - data[off + i])


@JIT
def fill_copula(data, copula, state_in, state_out, steps, one_call, scores, inputs, outputs, m, n_calls, limit):
    """Input tokens of ``m`` queries and output tokens of their ``n_calls`` calls under a
    Gaussian copula: query i's input is the input table at a normal score ``z_i``
    (from ``state_in``); every call of it outputs the output table at
    ``rho * z_i + sqrt(1 - rho**2) * e`` with ``e`` normal (from ``state_out``).
    ``steps[i]`` (rounded model calls) is read unless ``one_call``.  Values are
    clipped at ``limit[CLS_INPUT]`` and ``limit[CLS_OUTPUT]``; returns how many were."""
    rho = copula[COPULA_RHO]
    in_off = np.int64(copula[COPULA_INPUT])
    out_off = np.int64(copula[COPULA_OUTPUT])
    in_limit = limit[CLS_INPUT]
    out_limit = limit[CLS_OUTPUT]
    clipped = np.int64(0)
    fill_normals(state_in, scores, m)
    for i in range(m):
        x = nscore_value(data, in_off, scores[i])
        clipped += x > in_limit
        inputs[i] = min(x, in_limit)
    fill_normals(state_out, outputs, n_calls)
    other = math.sqrt(1.0 - rho * rho)
    j = 0
    for i in range(m):
        n = 1 if one_call else np.int64(steps[i])
        for _ in range(n):
            x = nscore_value(data, out_off, rho * scores[i] + other * outputs[j])
            clipped += x > out_limit
            outputs[j] = min(x, out_limit)
            j += 1
    return clipped


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
        bits, s0, s1, s2, s3 = _step(s0, s1, s2, s3)
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
COMMON_KINDS = (CONSTANT, LOGNORMAL, NORMAL, UNIFORM, GEOMETRIC, CAPPED)
"""Distribution kinds the engine compiles for a run without a ``general`` argument
(see :func:`fill_block`): every other kind, and mixtures, compile on first use."""


@INLINE
def u64_per_draw(kind, par, o):
    """How many outputs of the value stream one draw of the leaf at ``par[o:]``
    consumes: 0 (a constant, a geometric with p >= 1), 1 (the kinds drawn from one
    uniform), or -1 for a variable number (the ziggurat's normals, gamma, beta)."""
    if kind == CONSTANT or (kind == GEOMETRIC and par[o] >= 1.0):
        return 0
    if kind == UNIFORM or kind == GEOMETRIC or kind == PARETO or kind == GENPARETO or kind == WEIBULL \
            or kind == EMPIRICAL:
        return 1
    return -1


@INLINE
def _common_from_u64(kind, par, o, bits):
    """A draw of a leaf of :data:`COMMON_KINDS` that draws at most one output
    (:func:`u64_per_draw`) from that output ``bits`` (ignored where it draws none);
    NaN for other kinds."""
    if kind == CONSTANT:
        return par[o]
    if kind == UNIFORM:
        return par[o] + (par[o + 1] - par[o]) * unit_double(bits)
    if kind == GEOMETRIC:  # trials to first success, support 1, 2, ...
        p = par[o]
        if p >= 1.0:
            return 1.0
        return 1.0 + math.floor(math.log(unit_open(bits)) / math.log1p(-p))
    return math.nan


@INLINE
def leaf_from_u64(kind, par, o, data, bits):
    """A draw of a leaf of any kind that draws at most one output
    (:func:`u64_per_draw`) from that output ``bits``; NaN for other kinds."""
    if kind == PARETO:  # scale x_m, shape alpha
        return par[o] * unit_open(bits) ** (-1.0 / par[o + 1])
    if kind == GENPARETO:  # loc, scale, shape c
        c = par[o + 2]
        u = unit_open(bits)
        if c == 0.0:
            return par[o] - par[o + 1] * math.log(u)
        return par[o] + par[o + 1] * (u ** (-c) - 1.0) / c
    if kind == WEIBULL:  # shape k, scale lambda
        return par[o + 1] * (-math.log(unit_open(bits))) ** (1.0 / par[o])
    if kind == EMPIRICAL:  # data offset, count
        n = np.int64(par[o + 1])
        i = np.int64(unit_double(bits) * n)
        return data[np.int64(par[o]) + min(i, n - 1)]
    return _common_from_u64(kind, par, o, bits)


@JIT
def _sample_leaf(kind, par, o, data, state, general):
    """One draw of a leaf distribution.  With ``general`` None only the
    :data:`COMMON_KINDS` are compiled (numba prunes the branch on ``is None`` of
    its own argument before typing, not in an inlined callee's) and any other
    kind gives NaN; pass True for all."""
    if kind == LOGNORMAL:
        return fast_exp(par[o] + par[o + 1] * next_normal(state))
    if kind == NORMAL:
        return par[o] + par[o + 1] * next_normal(state)
    bits = next_u64(state) if u64_per_draw(kind, par, o) == 1 else _U64(0)
    if general is not None:
        if kind == GAMMA:  # shape, scale
            return par[o + 1] * next_gamma(state, par[o])
        if kind == BETA:
            ga = next_gamma(state, par[o])
            gb = next_gamma(state, par[o + 1])
            if ga + gb == 0.0:  # both underflow for tiny a, b: Beta is then ~Bernoulli(a / (a + b))
                return 1.0 if next_double(state) * (par[o] + par[o + 1]) < par[o] else 0.0
            return ga / (ga + gb)
        return leaf_from_u64(kind, par, o, data, bits)
    return _common_from_u64(kind, par, o, bits)


@JIT
def sample_dist(dist_kind, dist_off, par, data, d, state, picks):
    """One draw of distribution row ``d``: leaves draw from ``state``, every mixture on
    the way picks its component with one uniform from ``picks`` (layout 2, see
    :data:`RANDOM_LAYOUT`).

    Mixtures pick a component and continue with it; caps accumulate (the smallest
    cap on the path applies), so nesting needs no recursion.
    """
    cap = math.inf
    while True:
        kind = dist_kind[d]
        o = dist_off[d]
        if kind == MIXTURE:  # n, cumulative weights[n], child rows[n]
            n = np.int64(par[o])
            d = np.int64(par[o + 1 + n + _component(par, o, next_double(picks), n)])
        elif kind == CAPPED:  # cap, child row
            cap = min(cap, par[o])
            d = np.int64(par[o + 1])
        else:
            return min(_sample_leaf(kind, par, o, data, state, True), cap)


@INLINE
def _component(w, o, u, n):
    """The component of a mixture of ``n`` that the uniform ``u`` picks, its
    cumulative weights at ``w[o + 1:o + n]``: the first whose cumulative weight
    exceeds ``u`` (the last if none does), counted without a data-dependent branch
    (the weights are non-decreasing; unsigned indices spare numba's
    negative-index handling)."""
    weights = np.uint64(o) + _U64(1)
    j = 0
    for k in range(np.uint64(n) - _U64(1)):
        j += u >= w[weights + k]
    return j


@INLINE
def leaf_kind(dist_kind, dist_off, par, d):
    """The kind of row ``d`` under its caps (MIXTURE for a capped mixture)."""
    while dist_kind[d] == CAPPED:
        d = np.int64(par[dist_off[d] + 1])
    return dist_kind[d]


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
def fill_block(dist_kind, dist_off, par, data, d, state, picks, limit, out, work, n, general=True, trees=None,
               tree=None, tree_at=-1):
    """Fill ``out[:n]`` with successive draws of row ``d``, each clipped at ``limit``;
    return how many exceeded it.  The values before clipping are bit for bit those
    of ``n`` calls of :func:`sample_dist` with the generators ``state`` and
    ``picks``, generated a block at a time (``work`` float64[>= n] scratch).

    A draw above the row's own caps is capped first (a user's cap is not a clip);
    only what still exceeds ``limit`` counts.  Lognormal leaves under caps, and
    mixtures of them, take a fast path of loops over the block: the normals, the
    component picks (mixtures), then the exps, which vectorise.  Other mixtures
    (a spliced tail's truncated body and generalized Pareto) are walked by
    :func:`fill_tree` in their compact form, at ``tree_at`` of the buffers
    ``tree`` (``(code, val)`` from :func:`compact_tree`; ``tree_at`` -1: none, as
    where a leaf draws a variable number of outputs); without one, or with
    ``trees`` None (then not compiled), one draw at a time.  With ``general`` None
    only rows of :data:`COMMON_KINDS` are supported (others give NaN), and the
    mixture and other samplers are not compiled.
    """
    cap = math.inf
    leaf = d
    while dist_kind[leaf] == CAPPED:
        cap = min(cap, par[dist_off[leaf]])
        leaf = np.int64(par[dist_off[leaf] + 1])
    kind = dist_kind[leaf]
    o = dist_off[leaf]
    clipped = np.int64(0)
    if kind == CONSTANT:
        v = min(par[o], cap)
        if v > limit:
            v = limit
            clipped = np.int64(n)
        for i in range(n):
            out[i] = v
        return clipped
    if kind == LOGNORMAL:
        fill_normals(state, out, n)
        mu = par[o]
        sigma = par[o + 1]
        for i in range(n):
            x = min(fast_exp(mu + sigma * out[i]), cap)
            clipped += x > limit
            out[i] = min(x, limit)
        return clipped
    if general is not None and kind == MIXTURE and _lognormal_mixture(dist_kind, dist_off, par, o):
        n_comp = np.int64(par[o])
        comp = np.empty((3, n_comp))  # mu, sigma, cap of each component
        for j in range(n_comp):
            child = np.int64(par[o + 1 + n_comp + j])
            comp[2, j] = cap
            while dist_kind[child] == CAPPED:
                comp[2, j] = min(comp[2, j], par[dist_off[child]])
                child = np.int64(par[dist_off[child] + 1])
            comp[0, j] = par[dist_off[child]]
            comp[1, j] = par[dist_off[child] + 1]
        _fill_mixture_exponents(state, picks, par, o, comp, out, work, n)
        for i in range(n):  # out: the exponents, work: the caps
            x = min(fast_exp(out[i]), work[i])
            clipped += x > limit
            out[i] = min(x, limit)
        return clipped
    if general is not None and kind == MIXTURE:
        if trees is not None and tree_at >= 0:
            return fill_tree(tree[0], tree[1], tree_at, par, data, state, picks, limit, out, n)
        for i in range(n):  # with leaves that draw a variable number of outputs: one draw at a time
            x = sample_dist(dist_kind, dist_off, par, data, d, state, picks)
            clipped += x > limit
            out[i] = min(x, limit)
        return clipped
    for i in range(n):
        x = min(_sample_leaf(kind, par, o, data, state, general), cap)
        clipped += x > limit
        out[i] = min(x, limit)
    return clipped


TREE_LEAF = 3
"""Entries of a leaf in a compact tree (:func:`compact_tree`)."""


@INLINE
def compact_tree(dist_kind, dist_off, par, d, code, val, at):
    """Row ``d``, mixtures and caps nested in any way, as a compact tree in
    ``code[at:]`` (int64) and ``val[at:]`` (float64) for :func:`fill_tree`; returns
    where it ends, or -1 where a leaf draws a variable number of outputs of the
    value stream (:func:`u64_per_draw`) or the buffers are too short.

    A mixture of ``n`` components at ``p``: ``code[p] = n``, ``val[p + 1 + k]`` its
    cumulative weights (``k < n - 1``), ``code[p + 1 + j]`` where component ``j``
    starts.  A leaf at ``p``: ``code[p] = -1 - kind``, ``code[p + 1]`` the offset of
    its parameters in ``par``, ``code[p + 2]`` the outputs it draws (0 or 1),
    ``val[p]`` the smallest cap on its path (caps are folded into the leaves).
    Built once per work item: the walk then needs no row lookups and no
    float-to-int conversions.

    Laid out breadth first with the buffers as the queue: a mixture is placed
    with its child rows in ``code[p + 1 + j]`` and the caps above it in
    ``val[p]``, and a scan behind the end places each child, replacing its row by
    where it went.
    """
    size = code.shape[0]
    end = at
    q = at  # the node whose children are placed next ...
    j = 0  # ... and its next child
    row = d
    cap = math.inf
    slot = -1  # where the node placed next is pointed at
    while True:
        while dist_kind[row] == CAPPED:  # cap, child row
            cap = min(cap, par[dist_off[row]])
            row = np.int64(par[dist_off[row] + 1])
        kind = dist_kind[row]
        o = dist_off[row]
        if slot >= 0:
            code[slot] = end
        if kind == MIXTURE:  # n, cumulative weights[n], child rows[n]
            n = np.int64(par[o])
            if end + n + 1 > size:
                return -1
            code[end] = n
            val[end] = cap
            for k in range(n - 1):
                val[end + 1 + k] = par[o + 1 + k]
            for k in range(n):
                code[end + 1 + k] = np.int64(par[o + 1 + n + k])
            end += n + 1
        else:
            uses = u64_per_draw(kind, par, o)
            if uses < 0 or end + TREE_LEAF > size:
                return -1
            code[end] = -1 - kind
            code[end + 1] = o
            code[end + 2] = uses
            val[end] = cap
            end += TREE_LEAF
        while q < end and (code[q] < 0 or j == code[q]):  # a leaf, or a mixture whose children are placed
            q += TREE_LEAF if code[q] < 0 else code[q] + 1
            j = 0
        if q == end:
            return end
        row = code[q + 1 + j]
        cap = val[q]
        slot = q + 1 + j
        j += 1


@INLINE
def fill_tree(code, val, at, par, data, state, picks, limit, out, n):
    """``out[:n]`` = the next ``n`` draws of the compact tree at ``code[at:]``,
    ``val[at:]`` (:func:`compact_tree`), each clipped at ``limit``; returns how many
    exceeded it.  Bit for bit :func:`sample_dist` of the row the tree was built
    from: every mixture on a draw's path picks its component with one uniform from
    ``picks``, its leaf draws from the next output of ``state`` (if it draws one).

    Both generators live in local variables; positions are unsigned (no
    negative-index handling).  Inlined (as :func:`compact_tree` is): a function
    of its own cost ~0.4 CPU s more of the first compile.
    """
    s0 = state[0]
    s1 = state[1]
    s2 = state[2]
    s3 = state[3]
    p0 = picks[0]
    p1 = picks[1]
    p2 = picks[2]
    p3 = picks[3]
    root = np.uint64(at)
    clipped = np.int64(0)
    for i in range(n):
        p = root
        m = code[p]
        while m > 0:  # a mixture of m components
            bits, p0, p1, p2, p3 = _step(p0, p1, p2, p3)
            p = np.uint64(code[p + np.uint64(_component(val, p, unit_double(bits), m) + 1)])
            m = code[p]
        kind = -1 - m
        o = code[p + _U64(1)]
        bits = _U64(0)
        if code[p + _U64(2)] != 0:
            bits, s0, s1, s2, s3 = _step(s0, s1, s2, s3)
        x = min(leaf_from_u64(kind, par, o, data, bits), val[p])
        clipped += x > limit
        out[i] = min(x, limit)
    state[0] = s0
    state[1] = s1
    state[2] = s2
    state[3] = s3
    picks[0] = p0
    picks[1] = p1
    picks[2] = p2
    picks[3] = p3
    return clipped


@JIT
def _fill_mixture_exponents(state, picks, par, o, comp, out, work, n):
    """``out[:n]`` = ``mu + sigma * z`` and ``work[:n]`` = the cap of the component
    each draw of the lognormal mixture at ``par[o:]`` picks (``comp`` float64[3,
    n_comp]: mu, sigma, cap per component): the normals ``z`` of ``state`` and
    the picks of ``picks``, bit for bit those of :func:`fill_normals` followed
    by one :func:`next_double` of ``picks`` per draw.

    The two generators advance in one loop, held in local variables: their
    dependency chains are independent, so the processor overlaps them.  The
    ziggurat is written out as in :func:`fill_normals`: moved into an inlined
    helper returning the state as a tuple, the loop ran 6x slower (the state no
    longer stayed in registers).
    """
    n_comp = np.int64(par[o])
    s0 = state[0]
    s1 = state[1]
    s2 = state[2]
    s3 = state[3]
    p0 = picks[0]
    p1 = picks[1]
    p2 = picks[2]
    p3 = picks[3]
    for i in range(n):
        bits, s0, s1, s2, s3 = _step(s0, s1, s2, s3)
        zi = np.int64(bits & _U64(0x7F))
        u = 2.0 * (float(bits >> _U64(11)) * _TWO_M53) - 1.0
        if abs(u) < _ZIG_RATIO[zi]:
            z = u * _ZIG_X[zi]
        else:
            state[0] = s0
            state[1] = s1
            state[2] = s2
            state[3] = s3
            z = _normal_slow(state, zi, u)
            s0 = state[0]
            s1 = state[1]
            s2 = state[2]
            s3 = state[3]
        pick, p0, p1, p2, p3 = _step(p0, p1, p2, p3)
        j = _component(par, o, unit_double(pick), n_comp)
        out[i] = comp[0, j] + comp[1, j] * z
        work[i] = comp[2, j]
    state[0] = s0
    state[1] = s1
    state[2] = s2
    state[3] = s3
    picks[0] = p0
    picks[1] = p1
    picks[2] = p2
    picks[3] = p3


@JIT
def _lognormal_mixture(dist_kind, dist_off, par, o):
    """Whether every component of the mixture at ``par[o:]`` is a lognormal under caps."""
    n_comp = np.int64(par[o])
    for j in range(n_comp):
        if leaf_kind(dist_kind, dist_off, par, np.int64(par[o + 1 + n_comp + j])) != LOGNORMAL:
            return False
    return True


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
def token_call_cost(par, row, card, ttl_1h, prompt, cached, write, output, reasoning):
    """USD cost of one model call under the TOKEN_PRICING rate card at ``par[row, card:]``.

    A card is ``[n_tiers, (threshold, input, output, cached, write_5m, write_1h,
    reasoning) per tier]`` with rates in USD per million tokens; tier 0 has
    threshold -1.  The highest tier whose threshold the prompt strictly exceeds
    prices the whole call.  Cached and written tokens are part of the prompt.
    """
    at = card + 1
    for t in range(1, np.int64(par[row, card])):
        if prompt > par[row, card + 1 + TIER_WIDTH * t]:
            at = card + 1 + TIER_WIDTH * t
    write_rate = par[row, at + 5] if ttl_1h else par[row, at + 4]
    return (
        (prompt - cached - write) * par[row, at + 1]
        + cached * par[row, at + 3]
        + write * write_rate
        + output * par[row, at + 2]
        + reasoning * par[row, at + 6]
    ) * 1e-6


@INLINE
def request_cost(par, row, calls_cost, tool_calls):
    """USD cost of a query from the summed cost of its calls: multiplier, fees, minimum
    (the header of the TOKEN_PRICING row ``par[row]``)."""
    return max(par[row, 3], par[row, 0] * calls_cost + par[row, 1] + tool_calls * par[row, 2])


@JIT
def _call_costs(par, row, card, ttl_1h, extras, calls, out, m):
    """``out[j]`` = :func:`token_call_cost` of the calls whose ``calls[:5, j]`` are
    (prompt, cached, write, output, reasoning), bit for bit.

    The loops have no branches or calls, so they vectorise: every call is priced
    at the base rates, then re-priced at each tier it exceeds.  Without
    ``extras`` (write = reasoning = 0) their terms are left out: the same value,
    since ``x - 0.0 == x + 0.0 == x``.
    """
    prompt = calls[0]
    cached = calls[1]
    write = calls[2]
    output = calls[3]
    reasoning = calls[4]
    for t in range(np.int64(par[row, card])):
        at = card + 1 + TIER_WIDTH * t
        threshold = par[row, at]
        r_in = par[row, at + 1]
        r_out = par[row, at + 2]
        r_cached = par[row, at + 3]
        r_write = par[row, at + 5] if ttl_1h else par[row, at + 4]
        r_reasoning = par[row, at + 6]
        if extras:
            for i in range(m):
                c = (
                    (prompt[i] - cached[i] - write[i]) * r_in
                    + cached[i] * r_cached
                    + write[i] * r_write
                    + output[i] * r_out
                    + reasoning[i] * r_reasoning
                ) * 1e-6
                out[i] = c if prompt[i] > threshold else out[i]
        else:
            for i in range(m):
                c = ((prompt[i] - cached[i]) * r_in + cached[i] * r_cached + output[i] * r_out) * 1e-6
                out[i] = c if prompt[i] > threshold else out[i]


@PJIT
def price_requests(par, card, ttl_1h, calls, out):
    """``out[i]`` = USD cost of single-call query ``i`` (columns of ``calls`` as in
    :func:`_call_costs`, and tool calls) under the TOKEN_PRICING card at offset ``card[i]`` of ``par``."""
    par2 = par.reshape(1, par.shape[0])
    n = out.shape[0]
    for i in numba.prange(n):
        c = token_call_cost(par2, 0, card[i], ttl_1h, calls[0, i], calls[1, i], calls[2, i], calls[3, i],
                            calls[4, i])
        out[i] = request_cost(par2, 0, c, calls[5, i])


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


# --------------------------------------------------------------------------------------
# The fused kernel
# --------------------------------------------------------------------------------------
@INLINE
def _row(a, t):
    """Row ``t`` of a per-trial array, or its only row when it does not vary by trial."""
    return a[t] if a.shape[0] > 1 else a[0]


@INLINE
def _band(prompt, size_edges):
    """Prompt-size band of a query: how many of the sorted ``size_edges`` its prompt
    strictly exceeds (the long-context convention)."""
    k = 0
    while k < size_edges.shape[0] and prompt > size_edges[k]:
        k += 1
    return k


@JIT
def _move_to_bands(calls, size_edges, bands, sums, m):
    """Re-file a single-call block's token sums, added to band 0, under each query's
    band, and count its queries and calls per band; ``bands[i]`` gets query i's band."""
    for i in range(m):
        k = _band(calls[0, i], size_edges)
        bands[i] = k
        if k > 0:
            for j, col in ((N_INPUT, 0), (N_CACHED, 1), (N_CACHE_WRITE, 2), (N_OUTPUT, 3), (N_REASONING, 4),
                           (N_TOOL_CALLS, 5)):
                sums[0, j] -= calls[col, i]
                sums[k, j] += calls[col, i]
        sums[k, N_REQUESTS] += 1.0
        sums[k, N_CALLS] += 1.0


@JIT
def _price_block(m, single_call, extras, draws, per_call, opt_par, card, ttl_1h, prefix, prompt_only, call_tokens,
                 scratch, cost, hist, sums, size_edges, bands, base, n_inner, log2_per_octave):
    """Price a block of ``m`` queries of one class from their buffered draws.

    ``draws[CLS_*, i]`` hold query i's per-query draws (input tokens, cached and
    cache-write fractions, rounded steps, tool calls); ``per_call[0|1|2]`` the
    output, tool and reasoning tokens of successive calls.  Option ``o`` prices
    with its rate card at offset ``card[o]``.  Adds to ``cost[o, k]``,
    ``hist[o, bin]`` and ``sums[k, N_INPUT:]`` (whole numbers, exact in float64),
    ``k`` the query's prompt-size band: the number of ``size_edges`` its first
    prompt strictly exceeds.  Without edges every query is in band 0 and the
    caller counts queries and calls; with edges, this function counts them per
    band too (``bands`` int64[BLOCK] scratch).

    When every query of the block makes one call (``single_call``) the block is
    priced option by option in loops that vectorise (``scratch`` float64[7, BLOCK]);
    otherwise the calls' tokens are laid out first (``call_tokens`` float64[6, >=
    the block's calls]: prompt, cached, write, output, reasoning, then each call's
    cost), and option by option the calls are priced in loops that vectorise and
    summed per query in call order.  The arithmetic and its order per option are
    those of :func:`token_call_cost` and :func:`request_cost` either way.  ``extras`` flags whether the class has
    cache writes (HAS_WRITES) and reasoning tokens or tool calls
    (HAS_REASONING_OR_TOOLS); without, their terms (all zero, and adding 0.0
    changes no float) are skipped.  With ``prefix`` (prefix caching), a call after
    the first reads the previous call's prompt and output from the cache instead
    of ``cached_fraction`` of its prompt; with ``prompt_only`` too, the previous
    call's prompt alone (an API that caches prompts, not generated answers).
    """
    n_opt = card.shape[0]
    if single_call:
        calls = scratch[:6]
        costs = scratch[6]
        # token sums of the block in integers: exact like the float64 sums of whole numbers
        # they replace (a block's sums stay far below 2**53), and an integer addition's
        # short dependency chain does not hold the loop back
        s_in = 0
        s_cached = 0
        s_out = 0
        for i in range(m):
            prompt = _tokens(draws[CLS_INPUT, i])
            cached = math.floor(draws[CLS_CACHED, i] * prompt + 0.5)
            out = _tokens(per_call[0, i])
            calls[0, i] = prompt
            calls[1, i] = cached
            calls[3, i] = out
            s_in += np.int64(prompt)
            s_cached += np.int64(cached)
            s_out += np.int64(out)
        sums[0, N_INPUT] += float(s_in)
        sums[0, N_CACHED] += float(s_cached)
        sums[0, N_OUTPUT] += float(s_out)
        if extras & HAS_WRITES:
            s_write = 0
            for i in range(m):
                write = min(math.floor(draws[CLS_CACHE_WRITE, i] * calls[0, i] + 0.5), calls[0, i] - calls[1, i])
                calls[2, i] = write
                s_write += np.int64(write)
            sums[0, N_CACHE_WRITE] += float(s_write)
        else:
            calls[2, :m] = 0.0
        if extras & HAS_REASONING_OR_TOOLS:
            s_reasoning = 0
            s_tools = 0
            for i in range(m):
                reasoning = _tokens(per_call[2, i])
                tools = _tokens(draws[CLS_TOOL_CALLS, i])
                calls[4, i] = reasoning
                calls[5, i] = tools
                s_reasoning += np.int64(reasoning)
                s_tools += np.int64(tools)
            sums[0, N_REASONING] += float(s_reasoning)
            sums[0, N_TOOL_CALLS] += float(s_tools)
        else:
            calls[4, :m] = 0.0
            calls[5, :m] = 0.0
        banded = size_edges.shape[0] > 0
        if banded:
            _move_to_bands(calls, size_edges, bands, sums, m)
        for o in range(n_opt):
            _call_costs(opt_par, o, card[o], ttl_1h, extras != 0, calls, costs, m)
            multiplier = opt_par[o, 0]
            fee = opt_par[o, 1]
            fee_tool = opt_par[o, 2]
            minimum = opt_par[o, 3]
            if multiplier != 1.0 or fee != 0.0 or fee_tool != 0.0 or minimum != 0.0:  # else request_cost changes none
                for i in range(m):  # request_cost of each single-call query, bit for bit
                    costs[i] = max(minimum, multiplier * costs[i] + fee + calls[5, i] * fee_tool)
            # the sums in query order, in the histogram's loop: the processor overlaps the
            # sum's chain of dependent additions with the histogram's independent work
            if banded:
                for i in range(m):
                    cost[o, bands[i]] += costs[i]
                    hist[o, hist_index(float_bits(costs[i]), base, n_inner, log2_per_octave)] += 1
            else:
                total = cost[o, 0]
                for i in range(m):
                    total += costs[i]
                    hist[o, hist_index(float_bits(costs[i]), base, n_inner, log2_per_octave)] += 1
                cost[o, 0] = total
        return
    # several calls per query: the calls' tokens first (a query's context grows call by call), then
    # option by option every call priced in vectorised loops and summed per query in call order
    j_call = 0
    j_tool = 0
    for i in range(m):
        context = _tokens(draws[CLS_INPUT, i])
        frac = draws[CLS_CACHED, i]
        frac_write = draws[CLS_CACHE_WRITE, i]
        steps = np.int64(draws[CLS_STEPS, i])
        k_band = _band(context, size_edges)
        bands[i] = k_band
        row = sums[k_band]
        if size_edges.shape[0] > 0:
            row[N_REQUESTS] += 1.0
            row[N_CALLS] += steps
        previous = 0.0  # the previous call's prompt (+ output): a cached prefix of this call's prompt
        q_in = q_cached = q_write = q_out = q_reasoning = 0  # the query's token sums, exact in integers
        for k in range(steps):
            out = _tokens(per_call[0, j_call])
            reasoning = _tokens(per_call[2, j_call])
            cached = previous if prefix and k > 0 else math.floor(frac * context + 0.5)
            write = min(math.floor(frac_write * context + 0.5), context - cached)
            call_tokens[0, j_call] = context
            call_tokens[1, j_call] = cached
            call_tokens[2, j_call] = write
            call_tokens[3, j_call] = out
            call_tokens[4, j_call] = reasoning
            j_call += 1
            q_in += np.int64(context)
            q_cached += np.int64(cached)
            q_write += np.int64(write)
            q_out += np.int64(out)
            q_reasoning += np.int64(reasoning)
            if k + 1 < steps:
                previous = context if prompt_only else context + out
                context += out + _tokens(per_call[1, j_tool])
                j_tool += 1
        row[N_INPUT] += float(q_in)
        row[N_CACHED] += float(q_cached)
        row[N_CACHE_WRITE] += float(q_write)
        row[N_OUTPUT] += float(q_out)
        row[N_REASONING] += float(q_reasoning)
        row[N_TOOL_CALLS] += _tokens(draws[CLS_TOOL_CALLS, i])
    n_calls = j_call
    call_costs = call_tokens[5]
    for o in range(n_opt):
        _call_costs(opt_par, o, card[o], ttl_1h, extras != 0, call_tokens, call_costs, n_calls)
        j = 0
        for i in range(m):
            calls_cost = 0.0
            for _ in range(np.int64(draws[CLS_STEPS, i])):
                calls_cost += call_costs[j]
                j += 1
            c = request_cost(opt_par, o, calls_cost, _tokens(draws[CLS_TOOL_CALLS, i]))
            cost[o, bands[i]] += c
            hist[o, hist_index(float_bits(c), base, n_inner, log2_per_octave)] += 1


class TrafficArrays(NamedTuple):
    """The lowered traffic of the trials of one kernel call.  Per-trial fields have a
    leading axis of length T (one row per trial) or 1 (the same for every trial)."""

    rate: np.ndarray  # float64[T|1, B, C] expected requests per bin and class
    burst_shape: np.ndarray  # float64[T|1] gamma shape of the per-bin rate multiplier, 0 for none
    class_key: np.ndarray  # uint64[C] random-stream key of each class
    class_dists: np.ndarray  # int64[C, N_CLASS_DISTS] distribution rows of each CLS_* column
    class_flags: np.ndarray  # int64[C] FLAG_* bits: 1-hour cache writes, prefix caching (prompt only)
    class_copula: np.ndarray  # float64[T|1, C, 3] input/output copula: rho, table offsets in dist_data
    dist_kind: np.ndarray  # int64[D] distribution code of each row
    dist_off: np.ndarray  # int64[D] where each row's parameters start in dist_par
    dist_par: np.ndarray  # float64[T|1, P] parameters
    dist_data: np.ndarray  # float64[N] data of empirical distributions and copula tables


class PricingArrays(NamedTuple):
    """The per-request (TOKEN_PRICING) models the kernel prices every query under."""

    par: np.ndarray  # float64[T|1, O, R] each model's row: TOKEN_HEADER, then its rate cards
    card: np.ndarray  # int64[O, C] offset of the rate card each class uses under each model
    card_off_peak: np.ndarray  # int64[O, C] its off-peak card, -1 for none
    off_peak: np.ndarray  # bool[O, B] bins where the off-peak card applies
    size_edges: np.ndarray  # float64[E] sorted prompt sizes splitting queries into E + 1 bands


class HistogramSpec(NamedTuple):
    """The per-query cost histogram: ``octaves`` octaves of ``2**log2_per_octave``
    bins from ``2**(lo_exp - 1)`` USD (see :func:`hist_index`)."""

    lo_exp: int
    octaves: int
    log2_per_octave: int


class Limits(NamedTuple):
    """What the kernel clips (see costsim._limits)."""

    draw: np.ndarray  # float64[N_CLASS_DISTS] the largest draw of each CLS_* column
    requests: float  # the largest expected requests of a (bin, class), after the burst multiplier


class Outputs(NamedTuple):
    """The kernel's outputs, written (not accumulated) for the trials of the call."""

    counts: np.ndarray  # int64[T, B, C, K, N_COUNTS] queries, calls, token sums per prompt-size band
    cost: np.ndarray  # float64[T, B, O, C, K] USD under each model
    hist: np.ndarray  # int64[T, n_parts, O, C, H] per-query cost counts of each part of the bins
    clipped: np.ndarray  # int64[T, n_parts, C, N_CLIPS] CLIP_* counts of each part of the bins


@JIT
def simulate_items(seed, trials, n_parts, first_item, end_item, traffic, pricing, histogram, limits, stop, out,
                   copula, general, trees):
    """Work items ``first_item`` to ``end_item - 1`` of a kernel call: item ``i`` is trial
    ``i // n_parts``, part ``i % n_parts`` of its bins (arguments and streams as in
    :func:`costsim.kernels.simulate_kernel`, which runs ranges of items on threads).

    ``copula`` None: no class has an input/output copula; ``general`` None: every
    distribution row is of :data:`COMMON_KINDS` (see :func:`fill_block`); ``trees``
    None: every mixture is of (capped) lognormals, so none is walked as a compact
    tree (:func:`compact_tree`, which needs ``general``); else True.  numba compiles a specialisation per combination, without the code that
    a None excludes (it prunes branches on ``is None`` of an argument before
    typing), so a simple scenario compiles a fraction of the engine.

    A serial ``nogil`` function: it compiles in about half the time of the same
    loop under ``parallel=True`` (numba's parfor passes), and every work item
    writes only its own output cells, so any split of the items over threads gives
    the same numbers (docs/kernel.md).
    """
    rate = traffic.rate
    burst_shape = traffic.burst_shape
    class_key = traffic.class_key
    class_dists = traffic.class_dists
    class_flags = traffic.class_flags
    class_copula = traffic.class_copula
    dist_kind = traffic.dist_kind
    dist_off = traffic.dist_off
    dist_par = traffic.dist_par
    dist_data = traffic.dist_data
    opt_par = pricing.par
    opt_card = pricing.card
    opt_card_off_peak = pricing.card_off_peak
    off_peak = pricing.off_peak
    size_edges = pricing.size_edges
    hist_log2_per_octave = histogram.log2_per_octave
    draw_limit = limits.draw
    max_requests = limits.requests
    counts = out.counts
    cost = out.cost
    hist = out.hist
    clipped = out.clipped
    n_bins = rate.shape[1]
    n_classes = class_key.shape[0]
    n_opt = opt_card.shape[0]
    base = hist_base(histogram.lo_exp, hist_log2_per_octave)
    n_inner = histogram.octaves << hist_log2_per_octave
    for item in range(first_item, end_item):
        t = item // n_parts
        p = item % n_parts
        g = trials[t]
        rate_t = _row(rate, t)
        shape_t = _row(burst_shape, t)
        par_t = _row(dist_par, t)
        opar_t = _row(opt_par, t)
        copula_t = _row(class_copula, t)
        scores = np.empty(BLOCK)
        states = np.empty((N_CLASS_DISTS, 4), dtype=np.uint64)
        picks = np.empty((N_CLASS_DISTS, 4), dtype=np.uint64)  # mixture component picks of each column
        draws = np.empty((N_CLASS_DISTS, BLOCK))
        per_call = np.empty((3, 4 * BLOCK))  # output, tool and reasoning draws of a block's calls
        work = np.empty(4 * BLOCK)  # fill_block's scratch
        call_tokens = np.empty((6, 4 * BLOCK))  # _price_block's calls of a block: tokens, then cost
        scratch = np.empty((7, BLOCK))
        n_bands = size_edges.shape[0] + 1
        cost_bc = np.empty((n_opt, n_bands))
        card = np.empty(n_opt, dtype=np.int64)
        sums = np.empty((n_bands, N_COUNTS))
        bands = np.empty(BLOCK, dtype=np.int64)
        hist_item = np.zeros((n_classes, n_opt, hist.shape[4]), dtype=np.int64)
        clip_item = np.zeros((n_classes, N_CLIPS), dtype=np.int64)
        const_clip = np.zeros(N_CLASS_DISTS, dtype=np.int64)  # a constant stream's clips per query
        # compact trees of the mixtures (fill_tree), built once per item: where each column's starts, -1 none
        tree_at = np.empty((n_classes, N_CLASS_DISTS), dtype=np.int64)
        for c in range(n_classes):
            for s in range(N_CLASS_DISTS):
                tree_at[c, s] = -1
        n_tree = 0 if trees is None else TREE_LEAF * dist_kind.shape[0] + par_t.shape[0]
        tree = (np.empty(n_tree, dtype=np.int64), np.empty(n_tree))
        if trees is not None:
            end = 0
            for c in range(n_classes):
                for s in range(N_CLASS_DISTS):
                    if leaf_kind(dist_kind, dist_off, par_t, class_dists[c, s]) == MIXTURE:
                        tree_end = compact_tree(dist_kind, dist_off, par_t, class_dists[c, s], tree[0], tree[1], end)
                        if tree_end >= 0:
                            tree_at[c, s] = end
                            end = tree_end
        b0 = (n_bins * p) // n_parts
        b1 = (n_bins * (p + 1)) // n_parts
        for b in range(b0, b1):
            if stop[0] != 0:
                break
            burst = 1.0
            if shape_t > 0.0:
                seed_state(states[0], seed, g, stream_id(b, BURST_SLOT), BURST_STREAM)
                burst = next_gamma(states[0], shape_t) / shape_t
            for c in range(n_classes):
                rows = class_dists[c]
                # every query of the class makes one call: steps is a constant that rounds to <= 1
                one_call = dist_kind[rows[CLS_STEPS]] == CONSTANT and _tokens(par_t[dist_off[rows[CLS_STEPS]]]) <= 1
                # cache writes, reasoning tokens or tool calls (each not a constant 0)
                extras = np.int64(0)
                for s, flag in ((CLS_CACHE_WRITE, HAS_WRITES), (CLS_REASONING, HAS_REASONING_OR_TOOLS),
                                (CLS_TOOL_CALLS, HAS_REASONING_OR_TOOLS)):
                    if dist_kind[rows[s]] != CONSTANT or par_t[dist_off[rows[s]]] != 0.0:
                        extras |= flag
                for o in range(n_opt):
                    off = opt_card_off_peak[o, c]
                    card[o] = off if off >= 0 and off_peak[o, b] else opt_card[o, c]
                seed_state(states[0], seed, g, stream_id(b, COUNT_SLOT), class_key[c])
                lam = rate_t[b, c] * burst
                if lam > max_requests:
                    lam = max_requests
                    clip_item[c, CLIP_REQUESTS] += 1
                n_req = next_poisson(states[0], lam)
                for s in range(N_CLASS_DISTS):
                    seed_state(states[s], seed, g, stream_id(b, s), class_key[c])
                    if leaf_kind(dist_kind, dist_off, par_t, rows[s]) == MIXTURE:
                        seed_state(picks[s], seed, g, stream_id(b, s), class_key[c] ^ PICK_STREAM)
                sums[:] = 0.0
                cost_bc[:] = 0.0
                for first in range(0, n_req, BLOCK):
                    if stop[0] != 0:
                        break
                    m = min(BLOCK, n_req - first)
                    with_copula = False
                    if copula is not None:
                        with_copula = copula_t[c, COPULA_RHO] != 0.0
                    n_clip = np.int64(0)
                    for s in (CLS_INPUT, CLS_CACHED, CLS_CACHE_WRITE, CLS_TOOL_CALLS):
                        if with_copula and s == CLS_INPUT:
                            continue
                        if first == 0 or dist_kind[rows[s]] != CONSTANT:
                            k_clip = fill_block(dist_kind, dist_off, par_t, dist_data, rows[s], states[s], picks[s],
                                                draw_limit[s], draws[s], work, m, general,
                                                trees, tree, tree_at[c, s])
                            const_clip[s] = 1 if k_clip > 0 else 0
                            n_clip += k_clip
                        else:  # a constant's buffer, filled in the first block, stays valid for the class's bin
                            n_clip += const_clip[s] * m
                    if one_call:
                        block_calls = np.int64(m)
                    else:
                        n_clip += fill_block(dist_kind, dist_off, par_t, dist_data, rows[CLS_STEPS],
                                             states[CLS_STEPS], picks[CLS_STEPS], draw_limit[CLS_STEPS],
                                             draws[CLS_STEPS], work, m, general,
                                             trees, tree, tree_at[c, CLS_STEPS])
                        block_calls = np.int64(0)
                        for i in range(m):
                            draws[CLS_STEPS, i] = max(1.0, math.floor(max(draws[CLS_STEPS, i], 0.0) + 0.5))
                            block_calls += np.int64(draws[CLS_STEPS, i])
                    if block_calls > per_call.shape[1]:
                        per_call = np.empty((3, block_calls))
                        work = np.empty(block_calls)
                        call_tokens = np.empty((6, block_calls))
                    if copula is not None and with_copula:
                        n_clip += fill_copula(dist_data, copula_t[c], states[CLS_INPUT], states[CLS_OUTPUT],
                                              draws[CLS_STEPS], one_call, scores, draws[CLS_INPUT], per_call[0], m,
                                              block_calls, draw_limit)
                    else:
                        n_clip += fill_block(dist_kind, dist_off, par_t, dist_data, rows[CLS_OUTPUT],
                                             states[CLS_OUTPUT], picks[CLS_OUTPUT], draw_limit[CLS_OUTPUT],
                                             per_call[0], work, block_calls, general,
                                             trees, tree, tree_at[c, CLS_OUTPUT])
                    n_clip += fill_block(dist_kind, dist_off, par_t, dist_data, rows[CLS_TOOL], states[CLS_TOOL],
                                         picks[CLS_TOOL], draw_limit[CLS_TOOL], per_call[1], work, block_calls - m,
                                         general, trees, tree, tree_at[c, CLS_TOOL])
                    if first == 0 or not one_call or dist_kind[rows[CLS_REASONING]] != CONSTANT:
                        n_reasoning = fill_block(dist_kind, dist_off, par_t, dist_data, rows[CLS_REASONING],
                                                 states[CLS_REASONING], picks[CLS_REASONING],
                                                 draw_limit[CLS_REASONING], per_call[2], work, block_calls, general,
                                                 trees, tree, tree_at[c, CLS_REASONING])
                        const_clip[CLS_REASONING] = 1 if n_reasoning > 0 else 0
                        n_clip += n_reasoning
                    else:
                        n_clip += const_clip[CLS_REASONING] * block_calls
                    clip_item[c, CLIP_DRAWS] += n_clip
                    _price_block(
                        m, block_calls == m, extras, draws, per_call, opar_t, card,
                        (class_flags[c] & FLAG_TTL_1H) != 0, (class_flags[c] & FLAG_PREFIX_CACHE) != 0,
                        (class_flags[c] & FLAG_PREFIX_PROMPT_ONLY) != 0, call_tokens,
                        scratch, cost_bc, hist_item[c], sums, size_edges, bands, base, n_inner,
                        hist_log2_per_octave,
                    )
                    if n_bands == 1:
                        sums[0, N_CALLS] += block_calls
                if n_bands == 1:
                    sums[0, N_REQUESTS] = n_req
                for k in range(n_bands):
                    for j in range(N_COUNTS):
                        if sums[k, j] < _INT64_LIMIT:
                            counts[t, b, c, k, j] = np.int64(sums[k, j])
                        else:  # np.int64 of a larger float wraps: saturate, and say so
                            counts[t, b, c, k, j] = _INT64_MAX
                            clip_item[c, CLIP_SUMS] += 1
                    for o in range(n_opt):  # element loops: a slice assignment compiles numba's shape checks
                        cost[t, b, o, c, k] = cost_bc[o, k]
        for c in range(n_classes):
            for o in range(n_opt):
                for h in range(hist.shape[4]):
                    hist[t, p, o, c, h] = hist_item[c, o, h]
            for j in range(N_CLIPS):
                clipped[t, p, c, j] = clip_item[c, j]
