"""The result Dataset: its schema, the per-query cost histogram, and ``build_dataset``.

Dimensions: ``trial``, ``time`` (bin start, UTC), ``option``, ``qclass`` and
``cost_bin`` (per-request cost histogram); ``quantile`` for bands.

Variables (each with ``units`` and ``long_name``):

==================  ===============================  ==========================================
name                dims                             meaning
==================  ===============================  ==========================================
requests            trial, time, qclass              queries arriving in the bin
calls               trial, time, qclass              model calls they made (agent steps)
input_tokens        trial, time, qclass              prompt tokens sent, all calls
cached_tokens       trial, time, qclass              of which read from the prompt cache
cache_write_tokens  trial, time, qclass              of which written to the prompt cache
output_tokens       trial, time, qclass              output tokens, all calls
reasoning_tokens    trial, time, qclass              reasoning tokens, all calls
tool_calls          trial, time, qclass              priced tool calls (e.g. web searches)
cost                trial, time, option, qclass      USD
cost_hist           trial, option, qclass, cost_bin  queries by per-query cost (see below)
clipped_draws       trial, qclass                    draws clipped at their limits (see below)
uncertain           trial, parameter                 values drawn by each trial
==================  ===============================  ==========================================

Where an option is a capacity model or a composition of options (anything but a
per-request model such as TokenPricing), the Dataset also holds:

====================  ===========================  =====================================
spill_cost            trial, time, option, qclass  USD of ``cost`` paid to fallbacks
throttled_requests    trial, time, option, qclass  queries no capacity served (unpriced; fractional)
capacity_cost         trial, time, option          USD of capacity: units, GPUs, overheads
unused_capacity_cost  trial, time, option          USD of capacity left unused
capacity_units        trial, time, option          units / replicas running (NaN: none)
utilisation           trial, time, option          fraction of running capacity used (NaN: none)
====================  ===========================  =====================================

Why the capacity variables have no ``qclass`` dim while ``spill_cost`` has one:
costs are attributed to classes (``cost``, and of it ``spill_cost``, by each
class's share of the load), but a running unit or replica serves every class at
once, so how much capacity ran (``capacity_units``), how full it was
(``utilisation``) and what it cost as a whole (``capacity_cost``,
``unused_capacity_cost``) are properties of the option in a bin, not of a class.
``capacity_units`` counts what the option rents: units for
:class:`~costsim.ProvisionedCapacity`, **replicas** for
:class:`~costsim.SelfHostedGPU` (GPUs running = replicas x ``gpus_per_replica``).

``clipped_draws`` counts the draws of a trial and class that the kernel clipped
at a limit of :mod:`costsim._limits` (tokens per call, model calls and tool calls
per query; a bin's expected requests after its burst multiplier): a heavy tail
beyond the physical range.  It is 0 almost always; ``simulate`` warns otherwise.

``throttled_requests`` is a float: capacity serves the same share of every class
in a bin, so the queries it throttles are that share of the bin's queries.

The boolean coordinate ``per_request_cost`` (on ``option``) says whether an
option has a per-query cost: capacity is priced per bin, and volume discounts and
commitments depend on cumulative spend, so their ``cost_hist`` rows are zero.

``ds.attrs`` holds ``seed``, ``costsim_version`` and ``random_layout`` (the version
of the kernel's random-stream layout, :data:`costsim.kernels.RANDOM_LAYOUT`; absent
in results of costsim 0.1, layout 1).  The scenario, as JSON with the seed and the
trial ids, is the ``scenario`` attr of the ``trial`` coordinate: the recipe of the
trials, so a result file alone says how to reproduce it (:func:`scenario_text`).
It stays out of the Dataset's own attrs, which a notebook shows in full, and
rides with every variable taken from the result.  Statistics of a result live in
:mod:`costsim.analysis`, on the Dataset as ``ds.costsim`` (:mod:`costsim.accessor`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from . import kernels as K
from ._format import duration_alias
from ._version import __version__
from .pricing.base import PricingModel

__all__ = ["SCENARIO_ATTR", "CostHistogram", "build_dataset", "compose_histograms", "scenario_text"]

#: The attr of the ``trial`` coordinate holding the scenario (JSON).
SCENARIO_ATTR = "scenario"

# name -> (column of the kernel's counts, units, long_name)
_COUNT_VARS = {
    "requests": (K.N_REQUESTS, "queries", "Queries"),
    "calls": (K.N_CALLS, "calls", "Model calls"),
    "input_tokens": (K.N_INPUT, "tokens", "Prompt tokens"),
    "cached_tokens": (K.N_CACHED, "tokens", "Cached prompt tokens"),
    "cache_write_tokens": (K.N_CACHE_WRITE, "tokens", "Prompt tokens written to the cache"),
    "output_tokens": (K.N_OUTPUT, "tokens", "Output tokens"),
    "reasoning_tokens": (K.N_REASONING, "tokens", "Reasoning tokens"),
    "tool_calls": (K.N_TOOL_CALLS, "calls", "Priced tool calls"),
}


@dataclass(frozen=True)
class CostHistogram:
    """Log-spaced per-query cost bins with exactly representable edges.

    Bin 0 holds costs below ``2**(lo_exp - 1)`` (including free queries), the last
    bin costs at or above ``2**(lo_exp - 1 + octaves)``; between them each octave
    has ``per_octave`` equal-width bins.

    Examples
    --------
    >>> h = CostHistogram.from_range((1e-3, 1.0), 4)
    >>> float(h.lower[1]), float(h.upper[-2]), h.n_bins
    (0.0009765625, 1.0, 42)
    """

    lo_exp: int
    octaves: int
    per_octave: int

    @classmethod
    def from_range(cls, cost_range: tuple[float, float], per_octave: int) -> "CostHistogram":
        """Bins covering ``cost_range`` (USD) widened outwards to powers of two."""
        from ._validation import ParameterError, check_int, check_number

        try:
            low, high = cost_range
        except (TypeError, ValueError):
            raise ParameterError("hist_range", "must be a pair (low, high)", cost_range) from None
        check_number("hist_range[0]", low, low=0.0, low_open=True)
        check_number("hist_range[1]", high, low=float(low), low_open=True)
        check_int("hist_bins_per_octave", per_octave, low=1, high=256)
        if per_octave & (per_octave - 1):
            raise ParameterError("hist_bins_per_octave", "must be a power of two", per_octave)
        lo_exp = math.frexp(low)[1]
        m, e = math.frexp(high)
        top = e - 1 if m == 0.5 else e
        return cls(lo_exp=lo_exp, octaves=top - (lo_exp - 1), per_octave=per_octave)

    @property
    def log2_per_octave(self) -> int:
        return self.per_octave.bit_length() - 1

    @property
    def n_bins(self) -> int:
        return self.octaves * self.per_octave + 2

    @property
    def _inner_edges(self) -> np.ndarray:
        k = np.arange(self.octaves * self.per_octave + 1)
        octave, j = np.divmod(k, self.per_octave)
        return np.ldexp(1.0 + j / self.per_octave, self.lo_exp - 1 + octave)

    @property
    def lower(self) -> np.ndarray:
        """Lower edge of every bin (USD)."""
        return np.concatenate([[0.0], self._inner_edges])

    @property
    def upper(self) -> np.ndarray:
        """Upper edge of every bin (USD); the last is infinite."""
        return np.concatenate([self._inner_edges, [np.inf]])


def _var(data: np.ndarray, dims: tuple[str, ...], units: str, long_name: str) -> xr.Variable:
    return xr.Variable(dims, data, attrs={"units": units, "long_name": long_name})


def build_dataset(
    *,
    traffic: Any,
    options: dict[str, Any],
    trial_ids: np.ndarray,
    seed: int,
    counts: np.ndarray,
    bills: Any,
    hist: np.ndarray,
    histogram: CostHistogram,
    draws: dict[str, np.ndarray],
    clipped: np.ndarray,
    scenario: str,
) -> xr.Dataset:
    """Label the kernel's arrays (see the module docstring for the schema);
    ``scenario`` is the run's scenario as JSON (recorded on the trial coordinate)."""
    tq = ("trial", "time", "qclass")
    data_vars: dict[str, xr.Variable] = {
        name: _var(counts[..., column], tq, units, long_name)
        for name, (column, units, long_name) in _COUNT_VARS.items()
    }
    data_vars["cost"] = _var(bills.cost, ("trial", "time", "option", "qclass"), "USD", "Cost")
    data_vars["cost_hist"] = _var(
        hist, ("trial", "option", "qclass", "cost_bin"), "queries", "Queries by cost per query"
    )
    data_vars["clipped_draws"] = _var(
        clipped, ("trial", "qclass"), "draws", "Draws clipped at their limits (costsim._limits)"
    )
    if not all(isinstance(model, PricingModel) for model in options.values()):
        toc, to = ("trial", "time", "option", "qclass"), ("trial", "time", "option")
        data_vars["spill_cost"] = _var(bills.spill_cost, toc, "USD", "Cost of demand spilled to fallbacks")
        data_vars["throttled_requests"] = _var(bills.throttled, toc, "queries", "Queries throttled")
        data_vars["capacity_cost"] = _var(bills.capacity_cost, to, "USD", "Capacity cost")
        data_vars["unused_capacity_cost"] = _var(bills.unused_capacity_cost, to, "USD", "Unused capacity cost")
        data_vars["capacity_units"] = _var(bills.capacity_units, to, "units",
                                           "Capacity units running (self-hosted: replicas)")
        data_vars["utilisation"] = _var(bills.utilisation, to, "1", "Utilisation of running capacity")
    coords: dict[str, Any] = {
        "trial": ("trial", trial_ids, {"long_name": "Trial", SCENARIO_ATTR: scenario}),
        "time": ("time", traffic.arrivals.bin_starts(), {"long_name": "Bin start (UTC)"}),
        "option": ("option", np.array(list(options), dtype=object), {"long_name": "Deployment option"}),
        "per_request_cost": ("option", (bills.hist_leaf >= 0).all(axis=1),
                             {"long_name": "Option has a per-query cost (cost_hist)"}),
        "qclass": ("qclass", np.array(traffic.class_names, dtype=object), {"long_name": "Query class"}),
        "cost_lower": ("cost_bin", histogram.lower, {"units": "USD", "long_name": "Bin lower edge"}),
        "cost_upper": ("cost_bin", histogram.upper, {"units": "USD", "long_name": "Bin upper edge"}),
    }
    if draws:
        data_vars["uncertain"] = _var(
            np.stack([draws[p] for p in draws], axis=1), ("trial", "parameter"), "1",
            "Value of each uncertain parameter drawn by the trial",
        )
        coords["parameter"] = ("parameter", np.array(list(draws), dtype=object))
    attrs = {
        "title": "costsim simulation",
        "seed": int(seed),
        "costsim_version": __version__,
        "random_layout": K.RANDOM_LAYOUT,
        "bin_width": duration_alias(traffic.arrivals.bin_width),
        "hist_bins_per_octave": histogram.per_octave,
    }
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def scenario_text(ds: xr.Dataset) -> str | None:
    """The scenario (JSON) a result records, or None where it records none.

    It is the ``scenario`` attr of the ``trial`` coordinate; results written by
    earlier costsim versions kept it in ``ds.attrs`` and read the same.

    Examples
    --------
    >>> import json
    >>> import costsim as cs
    >>> ds = cs.simulate(cs.demo.demo_traffic(days=1), cs.demo.demo_options(), trials=[3, 5], seed=2)
    >>> json.loads(scenario_text(ds))["trials"]
    [3, 5]
    >>> "scenario" in ds.attrs, scenario_text(ds["cost"].to_dataset()) == scenario_text(ds)
    (False, True)
    """
    if "trial" in ds.coords and SCENARIO_ATTR in ds["trial"].attrs:
        return ds["trial"].attrs[SCENARIO_ATTR]
    return ds.attrs.get(SCENARIO_ATTR)


def compose_histograms(leaf_hist: np.ndarray, hist_leaf: np.ndarray) -> np.ndarray:
    """Each option's per-query cost histogram [T, O, C, H] from the kernel's leaves'
    [T, L, C, H]: class ``c`` of option ``o`` takes leaf ``hist_leaf[o, c]``'s row
    (-1: none, zeros)."""
    n_trials, _, n_classes, n_bins = leaf_hist.shape
    out = np.zeros((n_trials, hist_leaf.shape[0], n_classes, n_bins), dtype=leaf_hist.dtype)
    for o, c in zip(*np.nonzero(hist_leaf >= 0)):
        out[:, o, c] = leaf_hist[:, hist_leaf[o, c], c]
    return out
