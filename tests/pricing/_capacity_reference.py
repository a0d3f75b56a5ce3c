"""Slow, obviously correct per-bin billing in plain Python, from the docstrings.

Each function walks bins and classes one at a time with Python floats; it shares
no code with costsim.pricing.billing or costsim.kernels._capacity.
"""

from __future__ import annotations

import calendar
import math

import costsim as cs

HOURS_PER_MONTH = 365.25 * 24 / 12


class Demand:
    """Per-bin, per-class demand of one trial, as Python lists.

    ``classes`` and ``band_floor`` name each column: the query class, and the
    prompt size its queries exceed (-inf without prompt-size bands)."""

    band_floor = None

    def __init__(self, ds, trial: int, api_cost=None):
        one = ds.isel(trial=trial)
        self.n_bins, self.n_classes = one.sizes["time"], one.sizes["qclass"]
        self.classes = [str(c) for c in one["qclass"].values]
        self.starts = [str(t) for t in one["time"].values]
        self.bin_hours = float((one["time"].values[1] - one["time"].values[0]) / 3.6e12)
        get = lambda name: one[name].values.tolist()  # noqa: E731
        self.requests, self.input = get("requests"), get("input_tokens")
        self.cached, self.output, self.reasoning = get("cached_tokens"), get("output_tokens"), get("reasoning_tokens")
        self.api_cost = api_cost  # option name -> [bin][class] USD of the per-request options


def _zeros(d: Demand):
    return [[0.0] * d.n_classes for _ in range(d.n_bins)]


def _attribute(total, weights, fallback):
    s = sum(weights)
    if s > 0:
        return [total * (w / s) for w in weights]
    s = sum(fallback)
    return [total * (f / s) if s > 0 else total / len(fallback) for f in fallback]


def bill(option, options: dict, d: Demand, weight):
    """(cost, spill, throttled) [bin][class] of ``option`` serving ``weight`` [bin][class]."""
    if isinstance(option, str):
        option = options[option]
    if isinstance(option, cs.PricingModel):  # priced per request: the simulated cost of the same model
        name = next(name for name, model in options.items() if model == option)
        cost = [[weight[b][c] * d.api_cost[name][b][c] for c in range(d.n_classes)] for b in range(d.n_bins)]
        return cost, _zeros(d), _zeros(d)
    if isinstance(option, cs.PromptRouter):
        floors = d.band_floor or [-math.inf] * d.n_classes
        # a column's band exceeds the thresholds at or below its floor
        return _route([option.options[sum(floors[c] >= t for t in option.thresholds)] for c in range(d.n_classes)],
                      options, d, weight)
    if isinstance(option, cs.Hybrid):
        return _route([option.routes.get(name, option.default) for name in d.classes], options, d, weight)
    if isinstance(option, cs.VolumeDiscount):
        return _discount(option, options, d, weight)
    if isinstance(option, cs.CommittedSpend):
        return _commitment(option, options, d, weight)
    return _capacity(option, options, d, weight)


def _route(targets, options, d: Demand, weight):
    """Bill each column's traffic on ``targets[column]``; columns with the same target
    (the same name, or equal options, a name standing for its option) share it."""
    cost, spill, throttled = _zeros(d), _zeros(d), _zeros(d)
    groups = []
    for c, target in enumerate(targets):
        for other, columns in groups:
            if _same(other, target, options):
                columns.add(c)
                break
        else:
            groups.append((target, {c}))
    for target, columns in groups:
        w = [[weight[b][c] if c in columns else 0.0 for c in range(d.n_classes)] for b in range(d.n_bins)]
        _add((cost, spill, throttled), bill(target, options, d, w))
    return cost, spill, throttled


def _same(a, b, options):
    if isinstance(a, str) and isinstance(b, str):  # two names: two options
        return a == b
    return (options[a] if isinstance(a, str) else a) == (options[b] if isinstance(b, str) else b)


def _add(into, other):
    for acc, part in zip(into, other):
        for b, row in enumerate(part):
            for c, v in enumerate(row):
                acc[b][c] += v


def _capacity(option, options, d: Demand, weight):
    loads, capacity, bin_cost, running = [], [], [], []
    if isinstance(option, cs.ProvisionedCapacity):
        for b in range(d.n_bins):
            loads.append([weight[b][c] * (option.input_weight * (d.input[b][c] - d.cached[b][c])
                                          + option.cached_weight * d.cached[b][c]
                                          + option.output_weight * (d.output[b][c] + d.reasoning[b][c]))
                          for c in range(d.n_classes)])
            capacity.append(option.units * option.tokens_per_minute * 60 * d.bin_hours)
            bin_cost.append(option.units * option.price_per_unit_hour * d.bin_hours)
    else:  # SelfHostedGPU
        seconds = d.bin_hours * 3600
        wanted = []
        for b in range(d.n_bins):
            loads.append([weight[b][c] * ((d.input[b][c] - d.cached[b][c]) / option.prefill_tokens_per_s
                                          + (d.output[b][c] + d.reasoning[b][c]) / option.decode_tokens_per_s)
                          / option.gpus_per_replica for c in range(d.n_classes)])
            replicas = math.ceil(sum(loads[b]) / (seconds * option.target_utilisation) / option.scale_step)
            replicas *= option.scale_step
            top = math.inf if option.max_replicas is None else option.max_replicas
            wanted.append(min(max(replicas, option.min_replicas), top))
        lag = math.ceil(float(option.scale_lag.rstrip("h")) / d.bin_hours)  # the tests give lags in hours
        for b in range(d.n_bins):
            n = wanted[max(b - lag, 0)]
            running.append(n)
            capacity.append(n * seconds)
            bin_cost.append(n * option.gpus_per_replica * d.bin_hours * option.gpu_hour_price
                            * (1 + option.interruption_overhead)
                            + option.fixed_monthly * d.bin_hours / HOURS_PER_MONTH)
    horizon = [sum(loads[b][c] for b in range(d.n_bins)) for c in range(d.n_classes)]
    cost, spill, throttled = _zeros(d), _zeros(d), _zeros(d)
    rest = _zeros(d)
    for b in range(d.n_bins):
        cost[b] = _attribute(bin_cost[b], loads[b], horizon)
        load = sum(loads[b])
        served = 1.0 if load <= capacity[b] else capacity[b] / load
        for c in range(d.n_classes):
            rest[b][c] = weight[b][c] * (1 - served)
            if option.fallback is None:
                throttled[b][c] = rest[b][c] * d.requests[b][c]
    if option.fallback is not None:
        f_cost, f_spill, f_throttled = bill(option.fallback, options, d, rest)
        _add((cost, spill, throttled), (f_cost, f_cost, f_throttled))
    return cost, spill, throttled


def _months(d: Demand):
    """{(year, month): [bins]} in order."""
    months: dict[tuple[int, int], list[int]] = {}
    for b, start in enumerate(d.starts):
        months.setdefault((int(start[:4]), int(start[5:7])), []).append(b)
    return months


def _discount(option, options, d: Demand, weight):
    cost, spill, throttled = bill(option.base, options, d, weight)
    for bins in _months(d).values():
        cumulative = 0.0
        for b in bins:
            if option.measure == "tokens":
                volume = sum(weight[b][c] * (d.input[b][c] + d.output[b][c] + d.reasoning[b][c])
                             for c in range(d.n_classes))
            else:
                volume = sum(cost[b])
            # price multiplier at each point of the cumulative volume, averaged over the bin's volume
            edges = [0.0, *option.thresholds, math.inf]
            rates = [1.0, *option.multipliers]
            if volume > 0:
                paid = sum(r * max(0.0, min(cumulative + volume, hi) - max(cumulative, lo))
                           for r, lo, hi in zip(rates, edges[:-1], edges[1:]))
                factor = paid / volume
            else:
                factor = [r for r, lo in zip(rates, edges[:-1]) if cumulative >= lo][-1]
            cumulative += volume
            cost[b] = [x * factor for x in cost[b]]
            spill[b] = [x * factor for x in spill[b]]
    return cost, spill, throttled


def _commitment(option, options, d: Demand, weight):
    cost, spill, throttled = bill(option.base, options, d, weight)
    for (year, month), bins in _months(d).items():
        hours = calendar.monthrange(year, month)[1] * 24
        minimum = option.monthly_minimum * len(bins) * d.bin_hours / hours
        by_class = [sum(cost[b][c] for b in bins) for c in range(d.n_classes)]
        shortfall = minimum - sum(by_class)
        if shortfall > 0:
            demand = [sum(weight[b][c] * d.requests[b][c] for b in bins) for c in range(d.n_classes)]
            extra = _attribute(shortfall, by_class, demand)
            cost[bins[-1]] = [x + e for x, e in zip(cost[bins[-1]], extra)]
    return cost, spill, throttled
