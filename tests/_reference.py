"""A slow, obviously correct reference simulation in plain Python.

It reuses only the compiled *variate* primitives (seeding, Poisson, gamma and one
draw of a lowered distribution) - which tests/kernels check on their own against
reference generators and scipy.stats - and re-does everything else by hand, from
the user's objects rather than the lowered arrays: counts per bin, agent steps
with a growing context, cache hits, tier selection and cost, the histogram.
"""

from __future__ import annotations

import math

import numpy as np

from costsim._model import stream_key
from costsim.kernels import _engine as E
from costsim.results import CostHistogram


def _round(x: float) -> int:
    return int(math.floor(max(x, 0.0) + 0.5))


def call_cost(pricing, prompt: int, cached: int, output: int) -> float:
    """TokenPricing, straight from its docstring."""
    rates = pricing
    for tier in pricing.long_context:
        if prompt > tier.threshold:
            rates = tier
    cached_rate = rates.input if rates.cached_input is None else rates.cached_input
    return ((prompt - cached) * rates.input + cached * cached_rate + output * rates.output) * 1e-6


def simulate_reference(traffic, options: dict, trials, seed: int, histogram: CostHistogram):
    """Dict of arrays shaped like the kernel outputs, hist already summed over parts."""
    low = traffic._lower()
    names = list(options)
    edges = histogram.lower
    expected = traffic.arrivals.expected_requests()
    shares = np.array([qc.share for qc in traffic.classes])
    shares = shares / shares.sum()
    cv = traffic.arrivals.overdispersion
    T, B, C, O = len(trials), expected.shape[0], len(traffic.classes), len(names)
    out = {k: np.zeros((T, B, C), dtype=np.int64)
           for k in ("requests", "calls", "input_tokens", "output_tokens", "cached_tokens")}
    out["cost"] = np.zeros((T, B, O, C))
    out["hist"] = np.zeros((T, O, C, histogram.n_bins), dtype=np.int64)
    state = np.empty(4, dtype=np.uint64)
    streams = np.empty((E.N_CLASS_DISTS, 4), dtype=np.uint64)

    def draw(rows, slot):
        """Next value of one of the query class's streams (one per CLS_* column)."""
        return E.sample_dist(low.dist_kind, low.dist_off, low.dist_par, low.dist_data, rows[slot], streams[slot])

    for ti, g in enumerate(trials):
        for b in range(B):
            burst = 1.0
            if cv > 0:
                E.seed_state(state, np.uint64(seed), g, b * E.STREAMS_PER_BIN + E.BURST_SLOT, E.BURST_STREAM)
                burst = E.next_gamma(state, 1 / cv**2) / (1 / cv**2)
            for c, qc in enumerate(traffic.classes):
                rows = low.class_dists[c]
                key = np.uint64(stream_key(qc.name))
                E.seed_state(state, np.uint64(seed), g, b * E.STREAMS_PER_BIN + E.COUNT_SLOT, key)
                n = E.next_poisson(state, expected[b] * shares[c] * burst)
                for slot in range(E.N_CLASS_DISTS):
                    E.seed_state(streams[slot], np.uint64(seed), g, b * E.STREAMS_PER_BIN + slot, key)
                out["requests"][ti, b, c] = n
                for _ in range(n):
                    context = _round(draw(rows, E.CLS_INPUT))
                    frac = draw(rows, E.CLS_CACHED)
                    steps = max(1, _round(draw(rows, E.CLS_STEPS)))
                    costs = [0.0] * O
                    for k in range(steps):
                        output = _round(draw(rows, E.CLS_OUTPUT))
                        cached = int(math.floor(frac * context + 0.5))
                        for o, name in enumerate(names):
                            costs[o] += call_cost(options[name], context, cached, output)
                        out["input_tokens"][ti, b, c] += context
                        out["output_tokens"][ti, b, c] += output
                        out["cached_tokens"][ti, b, c] += cached
                        if k + 1 < steps:
                            context += output + _round(draw(rows, E.CLS_TOOL))
                    out["calls"][ti, b, c] += steps
                    for o in range(O):
                        out["cost"][ti, b, o, c] += costs[o]
                        out["hist"][ti, o, c, np.searchsorted(edges, costs[o], side="right") - 1] += 1
    return out
