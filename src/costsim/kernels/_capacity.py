"""Per-bin capacity pricing: compiled functions of one trial's demand.

Capacity is priced per time bin from the demand the fused kernel aggregated, not
per request.  Every capacity function (the built-in ones here and a user's own,
see :class:`costsim.pricing.CustomCapacity`) has the signature ::

    fn(demand, params, bin_hours, cost, served, units, utilisation) -> None

* ``demand`` float64[B, C, N_DEMAND]: per bin and class the demand sent to the
  option (columns ``D_*`` below; fractional where only part of a class's traffic
  is routed here).  When the options hold a PromptRouter, the second axis is
  (class, prompt-size band) pairs instead of classes: attribute per entry;
* ``params`` float64[P]: the model's parameters; ``bin_hours``: bin length in hours;
* outputs, float64: ``cost[B, C]`` USD attributed to each class, ``served[B]`` the
  fraction of the bin's demand served (the rest goes to the fallback, or is
  throttled), ``units[B]`` capacity units running, ``utilisation[B]`` the fraction
  of the running capacity used.

This module imports only numpy, numba and math, and nothing from the fused
kernel's module (numba's cache checks only a function's own file).
"""


import numpy as np

from ._config import JIT

D_REQUESTS = 0  # queries
D_CALLS = 1  # model calls
D_INPUT = 2  # prompt tokens, cached and cache-write tokens included
D_CACHED = 3  # prompt tokens read from the prompt cache
D_OUTPUT = 4  # output tokens, reasoning tokens included
N_DEMAND = 5

HOURS_PER_MONTH = 365.25 * 24.0 / 12.0

# ProvisionedCapacity params
PROV_UNITS, PROV_PRICE, PROV_TPM, PROV_W_INPUT, PROV_W_CACHED, PROV_W_OUTPUT = range(6)

# SelfHostedGPU params
(GPU_PRICE, GPU_OVERHEAD, GPU_PREFILL, GPU_DECODE, GPU_PER_REPLICA, GPU_TARGET, GPU_MIN, GPU_MAX, GPU_STEP,
 GPU_LAG, GPU_FIXED_MONTHLY) = range(11)

# ceil() of a replica count that is a whole number up to rounding error stays that number; below
# one replica the slack shrinks with the count (a fixed one made a load under 1e-9 replicas want none)
_CEIL_SLACK = 1e-9


@JIT
def _serve_bins(load, capacity, bin_cost, cost, served, utilisation):
    """Every bin ``b`` of ``load[b, class]`` on ``capacity[b]`` (same units): the
    fraction served and the utilisation, and ``bin_cost[b]`` attributed to the
    classes by their share of the bin's load (by their share of the whole horizon's
    load in a bin without any; equally without either).

    One call per trial, the bins in its loop: a call (or an array view) per bin
    costs more than the bin's arithmetic.
    """
    n_bins, n_classes = load.shape
    horizon = np.zeros(n_classes)
    for b in range(n_bins):
        for c in range(n_classes):
            horizon[c] += load[b, c]
    horizon_total = 0.0
    for c in range(n_classes):
        horizon_total += horizon[c]
    for b in range(n_bins):
        total = 0.0
        for c in range(n_classes):
            total += load[b, c]
        served[b] = 1.0 if total <= capacity[b] else capacity[b] / total
        utilisation[b] = min(total, capacity[b]) / capacity[b] if capacity[b] > 0.0 else 0.0
        for c in range(n_classes):
            if total > 0.0:
                cost[b, c] = bin_cost[b] * (load[b, c] / total)
            elif horizon_total > 0.0:
                cost[b, c] = bin_cost[b] * (horizon[c] / horizon_total)
            else:
                cost[b, c] = bin_cost[b] / n_classes


@JIT
def provisioned_capacity(demand, params, bin_hours, cost, served, units, utilisation):
    """Committed units, each serving a weighted token throughput per minute.

    Load = ``w_input`` x uncached prompt tokens + ``w_cached`` x cached tokens +
    ``w_output`` x output tokens; capacity = units x tokens per minute x minutes
    in the bin.  The commitment is paid every bin and attributed to classes by
    their share of the load (by their share of the whole horizon's load in a bin
    without any).
    """
    n_bins, n_classes = demand.shape[0], demand.shape[1]
    load = np.empty((n_bins, n_classes))
    for b in range(n_bins):
        for c in range(n_classes):
            load[b, c] = (params[PROV_W_INPUT] * (demand[b, c, D_INPUT] - demand[b, c, D_CACHED])
                          + params[PROV_W_CACHED] * demand[b, c, D_CACHED] + params[PROV_W_OUTPUT] * demand[b, c, D_OUTPUT])
        units[b] = params[PROV_UNITS]
    capacity = np.full(n_bins, params[PROV_UNITS] * params[PROV_TPM] * 60.0 * bin_hours)
    bin_cost = np.full(n_bins, params[PROV_UNITS] * params[PROV_PRICE] * bin_hours)
    _serve_bins(load, capacity, bin_cost, cost, served, utilisation)


@JIT
def self_hosted_gpu(demand, params, bin_hours, cost, served, units, utilisation):
    """Autoscaled replicas of GPUs: prefill and decode throughput, lag, steps, bounds.

    A bin's load is its GPU-seconds: uncached prompt tokens / prefill tokens/s +
    output tokens / decode tokens/s, per GPU.  The autoscaler wants the replicas
    that carry the load at the target utilisation (rounded up to the scaling
    step, within [min, max]); replicas running in bin ``b`` are those wanted for
    bin ``b - lag`` (for the first bins, those wanted for bin 0).  Running
    replicas are paid (plus the interruption overhead, e.g. for spot GPUs) and
    serve up to their full throughput; the fixed monthly overhead is paid per
    hour.  Cost is attributed to classes by their share of the GPU-seconds.
    """
    n_bins, n_classes = demand.shape[0], demand.shape[1]
    seconds = bin_hours * 3600.0
    per_replica = params[GPU_PER_REPLICA]
    load = np.empty((n_bins, n_classes))  # replica-seconds
    wanted = np.empty(n_bins)
    for b in range(n_bins):
        total = 0.0
        for c in range(n_classes):
            gpu_seconds = ((demand[b, c, D_INPUT] - demand[b, c, D_CACHED]) / params[GPU_PREFILL]
                           + demand[b, c, D_OUTPUT] / params[GPU_DECODE])
            load[b, c] = gpu_seconds / per_replica
            total += load[b, c]
        need = total / (seconds * params[GPU_TARGET])
        step = params[GPU_STEP]
        # np.ceil stays a float: math.ceil converts to int64, which wraps above 2**63
        steps = need / step
        replicas = np.ceil(steps - _CEIL_SLACK * min(steps, 1.0)) * step
        wanted[b] = min(max(replicas, params[GPU_MIN]), params[GPU_MAX])
    lag = np.int64(params[GPU_LAG])
    fixed = params[GPU_FIXED_MONTHLY] * bin_hours / HOURS_PER_MONTH
    capacity, bin_cost = np.empty(n_bins), np.empty(n_bins)
    for b in range(n_bins):
        running = wanted[max(b - lag, 0)]
        units[b] = running
        capacity[b] = running * seconds
        gpu_cost = running * per_replica * bin_hours * params[GPU_PRICE] * (1.0 + params[GPU_OVERHEAD])
        bin_cost[b] = gpu_cost + fixed
    _serve_bins(load, capacity, bin_cost, cost, served, utilisation)
