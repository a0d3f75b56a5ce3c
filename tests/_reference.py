"""A slow, obviously correct reference simulation in plain Python.

It reuses only the compiled *variate* primitives (seeding, Poisson, gamma and one
draw of a lowered distribution) - which tests/kernels check on their own against
reference generators and scipy.stats - and re-does everything else by hand, from
the user's objects rather than the lowered arrays: counts per bin, agent steps
with a growing context, cache reads and writes, service tiers, off-peak hours,
long-context tiers, fees and minimum charges, the histogram.
"""

from __future__ import annotations

import math

import numpy as np

from costsim._model import stream_key
from costsim.kernels import _engine as E
from costsim.results import CostHistogram
from costsim.traffic.query_class import DRAW_LIMITS


def _round(x: float) -> int:
    return int(math.floor(max(x, 0.0) + 0.5))


def rate_card(pricing, service_tier: str, off_peak: bool):
    """The card a call is billed on: the tier's, or the off-peak rates for standard calls."""
    if service_tier != "standard":
        return pricing.service_tiers[service_tier]
    if off_peak and pricing.off_peak is not None:
        return pricing.off_peak.rates
    return pricing


def call_cost(card, prompt: int, cached: int, write: int, output: int, reasoning: int, ttl_1h: bool) -> float:
    """One call under a RateCard, straight from its docstring and LiteLLM's fallbacks."""
    rates = card
    for tier in card.long_context:
        if prompt > tier.threshold:
            rates = tier
    cached_rate = rates.input if rates.cached_input is None else rates.cached_input
    write_rate = rates.input if rates.cache_write is None else rates.cache_write
    if ttl_1h and rates.cache_write_1h is not None:
        write_rate = rates.cache_write_1h
    reasoning_rate = rates.output if rates.reasoning is None else rates.reasoning
    return (
        (prompt - cached - write) * rates.input
        + cached * cached_rate
        + write * write_rate
        + output * rates.output
        + reasoning * reasoning_rate
    ) * 1e-6


def request_cost(pricing, calls_cost: float, tool_calls: int) -> float:
    return max(
        pricing.minimum_charge,
        pricing.multiplier * calls_cost + pricing.fee_per_request + tool_calls * pricing.fee_per_tool_call,
    )


def simulate_reference(traffic, options: dict, trials, seed: int, histogram: CostHistogram, size_edges=()):
    """Dict of arrays shaped like the kernel outputs, hist already summed over parts.

    With ``size_edges``, "band_<field>" [T, B, C, K] and "band_cost" [T, B, O, C, K]
    hold the same sums split by the prompt-size band of each query's first prompt
    (band k: k edges strictly exceeded)."""
    low = traffic._lower()
    names = list(options)
    edges = histogram.lower
    expected = traffic.arrivals.expected_requests()
    starts = traffic.arrivals.bin_starts()
    shares = np.array([qc.share for qc in traffic.classes])
    shares = shares / shares.sum()
    cv = traffic.arrivals.overdispersion
    T, B, C, O = len(trials), expected.shape[0], len(traffic.classes), len(names)
    fields = ("requests", "calls", "input_tokens", "cached_tokens", "cache_write_tokens", "output_tokens",
              "reasoning_tokens", "tool_calls")
    out = {k: np.zeros((T, B, C), dtype=np.int64) for k in fields}
    out["cost"] = np.zeros((T, B, O, C))
    out["hist"] = np.zeros((T, O, C, histogram.n_bins), dtype=np.int64)
    n_bands = len(size_edges) + 1
    for k in fields:
        out[f"band_{k}"] = np.zeros((T, B, C, n_bands), dtype=np.int64)
    out["band_cost"] = np.zeros((T, B, O, C, n_bands))
    state = np.empty(4, dtype=np.uint64)
    streams = np.empty((E.N_CLASS_DISTS, 4), dtype=np.uint64)
    picks = np.empty((E.N_CLASS_DISTS, 4), dtype=np.uint64)  # each column's mixture picks

    def draw(rows, slot):
        """Next value of one of the query class's streams (one per CLS_* column)."""
        value = E.sample_dist(low.dist_kind, low.dist_off, low.dist_par[0], low.dist_data, rows[slot], streams[slot],
                              picks[slot])
        return min(value, DRAW_LIMITS[slot])  # the documented clip at each column's limit

    def table(offset, z):
        """A copula quantile table at normal score z, interpolated as the docs say."""
        pos = (min(max(z, -E.NSCORE_MAX), E.NSCORE_MAX) + E.NSCORE_MAX) * ((E.NSCORE_POINTS - 1) / (2.0 * E.NSCORE_MAX))
        i = min(int(pos), E.NSCORE_POINTS - 2)
        t = low.dist_data[int(offset):]
        return min(t[i] + (pos - i) * (t[i + 1] - t[i]), DRAW_LIMITS[E.CLS_INPUT])  # both token columns: one limit

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
                    E.seed_state(picks[slot], np.uint64(seed), g, b * E.STREAMS_PER_BIN + slot, key ^ E.PICK_STREAM)
                cards = [rate_card(options[name], qc.service_tier,
                                   options[name].off_peak is not None and bool(options[name].off_peak.contains(starts[b])))
                         for name in names]
                ttl_1h = qc.cache_write_ttl == "1h"
                out["requests"][ti, b, c] = n
                rho, in_table, out_table = low.class_copula[0, c]
                for _ in range(n):
                    if rho != 0.0:  # Gaussian copula: input and outputs from correlated normal scores
                        score = E.next_normal(streams[E.CLS_INPUT])
                        context = _round(table(in_table, score))
                    else:
                        context = _round(draw(rows, E.CLS_INPUT))
                    band = sum(context > edge for edge in size_edges)
                    before = {k: out[k][ti, b, c] for k in fields if k != "requests"}
                    frac = draw(rows, E.CLS_CACHED)
                    steps = max(1, _round(draw(rows, E.CLS_STEPS)))
                    frac_write = draw(rows, E.CLS_CACHE_WRITE)
                    tools = _round(draw(rows, E.CLS_TOOL_CALLS))
                    costs = [0.0] * O
                    previous = 0  # prefix caching: the previous call's prompt (and output, unless 'prompt')
                    for k in range(steps):
                        if rho != 0.0:
                            e = E.next_normal(streams[E.CLS_OUTPUT])
                            output = _round(table(out_table, rho * score + math.sqrt(1.0 - rho * rho) * e))
                        else:
                            output = _round(draw(rows, E.CLS_OUTPUT))
                        reasoning = _round(draw(rows, E.CLS_REASONING))
                        if qc.prefix_cache and k > 0:
                            cached = previous
                        else:
                            cached = int(math.floor(frac * context + 0.5))
                        write = min(int(math.floor(frac_write * context + 0.5)), context - cached)
                        for o in range(O):
                            costs[o] += call_cost(cards[o], context, cached, write, output, reasoning, ttl_1h)
                        out["input_tokens"][ti, b, c] += context
                        out["cached_tokens"][ti, b, c] += cached
                        out["cache_write_tokens"][ti, b, c] += write
                        out["output_tokens"][ti, b, c] += output
                        out["reasoning_tokens"][ti, b, c] += reasoning
                        if k + 1 < steps:
                            previous = context if qc.prefix_cache == "prompt" else context + output
                            context += output + _round(draw(rows, E.CLS_TOOL))
                    out["calls"][ti, b, c] += steps
                    out["tool_calls"][ti, b, c] += tools
                    out["band_requests"][ti, b, c, band] += 1
                    for k, value in before.items():
                        out[f"band_{k}"][ti, b, c, band] += out[k][ti, b, c] - value
                    for o, name in enumerate(names):
                        cost = request_cost(options[name], costs[o], tools)
                        out["band_cost"][ti, b, o, c, band] += cost
                        out["cost"][ti, b, o, c] += cost
                        out["hist"][ti, o, c, np.searchsorted(edges, cost, side="right") - 1] += 1
    return out
