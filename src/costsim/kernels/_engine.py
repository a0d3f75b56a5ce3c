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

from ._config import JIT, PJIT

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
TRIAL_LEVEL = np.uint64(0xFFFFFFFFFFFFFFFF)

_U64 = numba.uint64
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TWO_M53 = 1.0 / 9007199254740992.0


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


@JIT
def _rotl(x, k):
    return (x << _U64(k)) | (x >> _U64(64 - k))


@JIT
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


@JIT
def next_double(state):
    """Uniform on [0, 1) with 53 random bits."""
    return float(next_u64(state) >> _U64(11)) * _TWO_M53


@JIT
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


@JIT
def next_normal(state):
    """Standard normal variate."""
    zx = _ZIG_X
    zr = _ZIG_RATIO
    while True:
        bits = next_u64(state)
        i = np.int64(bits & _U64(0x7F))
        u = 2.0 * (float(bits >> _U64(11)) * _TWO_M53) - 1.0
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


# --------------------------------------------------------------------------------------
# Distributions lowered to (kind, offset) rows over a parameter vector.
# --------------------------------------------------------------------------------------
@JIT
def _sample_leaf(kind, par, o, data, state):
    if kind == CONSTANT:
        return par[o]
    if kind == LOGNORMAL:
        return math.exp(par[o] + par[o + 1] * next_normal(state))
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


@JIT
def _tokens(x):
    """Token count of a continuous draw: rounded half up, never negative."""
    return np.int64(math.floor(max(x, 0.0) + 0.5))


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
@JIT
def token_call_cost(par, prompt, cached, output):
    """USD cost of one model call under TOKEN_PRICING parameters ``par``.

    ``par`` = [n_tiers, then (threshold, input, output, cached_input) per tier with
    rates in USD per million tokens]; tier 0 has threshold -1.  The highest tier
    whose threshold the prompt strictly exceeds prices the whole call.
    """
    n = np.int64(par[0])
    o = 1
    for t in range(1, n):
        if prompt > par[1 + 4 * t]:
            o = 1 + 4 * t
    return ((prompt - cached) * par[o + 1] + cached * par[o + 3] + output * par[o + 2]) * 1e-6


@JIT
def call_cost(kind, par, prompt, cached, output):
    """USD cost of one model call under pricing model ``kind``."""
    if kind == TOKEN_PRICING:
        return token_call_cost(par, prompt, cached, output)
    return math.nan


@PJIT
def price_calls(kind, par, prompt, cached, output, out):
    """``out[i]`` = USD cost of call ``i`` under pricing model ``kind``."""
    for i in numba.prange(out.shape[0]):
        out[i] = call_cost(kind, par, prompt[i], cached[i], output[i])


# --------------------------------------------------------------------------------------
# Per-request cost histogram on exactly representable log-spaced edges.
# --------------------------------------------------------------------------------------
@JIT
def hist_index(cost, lo_exp, n_oct, per_octave):
    """Bin of ``cost``: 0 below 2**(lo_exp-1), last at or above 2**(lo_exp-1+n_oct).

    Between, ``per_octave`` linear sub-bins per octave: edges are
    ``2**(e-1) * (1 + j / per_octave)``, exact in binary floating point.
    """
    m, e = math.frexp(cost)
    k = e - lo_exp
    if cost <= 0.0 or k < 0:
        return 0
    if k >= n_oct:
        return 1 + n_oct * per_octave
    return 1 + k * per_octave + np.int64((2.0 * m - 1.0) * per_octave)


# --------------------------------------------------------------------------------------
# The fused kernel
# --------------------------------------------------------------------------------------
@JIT
def _row(a, t):
    """Row ``t`` of a per-trial array, or its only row when it does not vary by trial."""
    return a[t] if a.shape[0] > 1 else a[0]


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
    hist_per_octave,
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

    Work item (t, p) covers the bins of part p and writes only its own cells, so the
    result is identical for any thread count.
    """
    n_trials = trials.shape[0]
    n_bins = rate.shape[1]
    n_classes = class_key.shape[0]
    n_opt = opt_kind.shape[0]
    for item in numba.prange(n_trials * n_parts):
        t = item // n_parts
        p = item % n_parts
        g = trials[t]
        rate_t = _row(rate, t)
        shape_t = _row(burst_shape, t)
        par_t = _row(dist_par, t)
        opar_t = _row(opt_par, t)
        state = np.empty(4, dtype=np.uint64)
        req_cost = np.empty(n_opt)
        b0 = (n_bins * p) // n_parts
        b1 = (n_bins * (p + 1)) // n_parts
        for b in range(b0, b1):
            burst = 1.0
            if shape_t > 0.0:
                seed_state(state, seed, g, b, BURST_STREAM)
                burst = next_gamma(state, shape_t) / shape_t
            for c in range(n_classes):
                seed_state(state, seed, g, b, class_key[c])
                n_req = next_poisson(state, rate_t[b, c] * burst)
                d_in = class_dists[c, CLS_INPUT]
                d_out = class_dists[c, CLS_OUTPUT]
                d_cache = class_dists[c, CLS_CACHED]
                d_steps = class_dists[c, CLS_STEPS]
                d_tool = class_dists[c, CLS_TOOL]
                n_calls = np.int64(0)
                sum_in = np.int64(0)
                sum_out = np.int64(0)
                sum_cached = np.int64(0)
                for o in range(n_opt):
                    cost[t, b, o, c] = 0.0
                for r in range(n_req):
                    context = _tokens(sample_dist(dist_kind, dist_off, par_t, dist_data, d_in, state))
                    frac = sample_dist(dist_kind, dist_off, par_t, dist_data, d_cache, state)
                    steps = max(
                        np.int64(1),
                        _tokens(sample_dist(dist_kind, dist_off, par_t, dist_data, d_steps, state)),
                    )
                    for o in range(n_opt):
                        req_cost[o] = 0.0
                    for k in range(steps):
                        out = _tokens(sample_dist(dist_kind, dist_off, par_t, dist_data, d_out, state))
                        cached = np.int64(math.floor(frac * context + 0.5))
                        for o in range(n_opt):
                            req_cost[o] += call_cost(opt_kind[o], opar_t[o], context, cached, out)
                        sum_in += context
                        sum_out += out
                        sum_cached += cached
                        if k + 1 < steps:
                            context += out + _tokens(
                                sample_dist(dist_kind, dist_off, par_t, dist_data, d_tool, state)
                            )
                    n_calls += steps
                    for o in range(n_opt):
                        cost[t, b, o, c] += req_cost[o]
                        h = hist_index(req_cost[o], hist_lo_exp, hist_octaves, hist_per_octave)
                        hist[t, p, o, c, h] += 1
                requests[t, b, c] = n_req
                calls[t, b, c] = n_calls
                input_tokens[t, b, c] = sum_in
                output_tokens[t, b, c] = sum_out
                cached_tokens[t, b, c] = sum_cached
