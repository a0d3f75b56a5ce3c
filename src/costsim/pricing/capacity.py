"""Capacity pricing: provisioned throughput units, self-hosted GPUs, your own model.

A capacity model is priced per time bin from the demand the fused kernel
aggregated (queries and tokens per bin and class), by a compiled function of the
signature documented in :mod:`costsim.kernels`.  Demand a bin's
capacity cannot serve spills to the model's ``fallback`` (any other option, or
the name of one) or, without a fallback, is throttled: counted, not priced.
Within a bin, capacity serves the same fraction of every class's demand.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from .. import kernels as K
from .._limits import MAX_MONTHLY, MAX_THROUGHPUT, MAX_UNITS, MIN_THROUGHPUT
from .base import DeploymentOption, at_most, check_price, option_field

__all__ = ["CapacityModel", "CustomCapacity", "ProvisionedCapacity", "SelfHostedGPU"]

CAPACITY_ARGUMENTS = ("demand", "params", "bin_hours", "cost", "served", "units", "utilisation")
"""The arguments of a capacity function, in order (see :mod:`costsim.kernels`)."""

MIN_TARGET_UTILISATION = 1e-3
"""Below it the replicas an autoscaler wants overflow; no real one plans for less."""


@dataclasses.dataclass(frozen=True)
class CapacityModel(DeploymentOption):
    """Base class of options priced per time bin from aggregated demand.

    A subclass has a ``fallback`` field and implements ``_capacity(bin) ->
    (function, params)``: a compiled capacity function (see
    :mod:`costsim.kernels`) and its float64 parameters for bins of
    length ``bin`` (a pandas Timedelta).

    Examples
    --------
    >>> import costsim as cs
    >>> issubclass(cs.SelfHostedGPU, cs.CapacityModel), issubclass(cs.TokenPricing, cs.CapacityModel)
    (True, False)
    """

    def _capacity(self, bin: pd.Timedelta) -> tuple[Callable[..., None], np.ndarray]:  # pragma: no cover
        raise NotImplementedError

    def _count(self, name: str, low: int) -> None:
        """Units, GPUs or replicas: an integer in ``[low, MAX_UNITS]``."""
        self._int(name, low=low)
        at_most(self, name, MAX_UNITS, "MAX_UNITS")

    def _check_fallback(self) -> None:
        fallback = getattr(self, "fallback")
        if fallback is not None and not isinstance(fallback, (str, DeploymentOption)):
            self._fail("fallback", "must be a pricing option, the name of another option, or None (throttle)",
                       fallback)
        if isinstance(fallback, str) and not fallback:
            self._fail("fallback", "must be a non-empty option name", fallback)


@dataclasses.dataclass(frozen=True)
class ProvisionedCapacity(CapacityModel):
    """Committed throughput units (provisioned throughput, reserved capacity).

    Parameters
    ----------
    units : int
        Units committed; each is paid every hour of the horizon, used or not.
    price_per_unit_hour : float
        USD per unit and hour for the committed term (monthly and yearly
        commitments have different hourly prices: use the one you commit to).
    tokens_per_minute : float
        Throughput of one unit in weighted tokens per minute, > 0.
    input_weight, cached_weight, output_weight : float, default 1
        How vendors weight tokens against throughput: load = ``input_weight`` x
        uncached prompt tokens + ``cached_weight`` x cached prompt tokens +
        ``output_weight`` x (output + reasoning) tokens.
    fallback : option or str, optional
        Where demand above capacity goes (another option, or the name of one in
        the same ``simulate`` call); None throttles it (counted in the result's
        ``throttled_requests``, not priced).

    Notes
    -----
    Capacity is compared with each bin's average load: peaks shorter than a bin
    are not resolved, so use bins as short as the bursts that matter.

    Bounds (:mod:`costsim._limits`): ``units``
    at most ``MAX_UNITS``; the price and the weights in ``[0, MAX_PRICE]``;
    ``tokens_per_minute`` in ``[60 x MIN_THROUGHPUT, 60 x MAX_THROUGHPUT]``.

    Examples
    --------
    >>> import costsim as cs
    >>> ptu = cs.ProvisionedCapacity(units=2, price_per_unit_hour=1.5, tokens_per_minute=50_000,
    ...                              output_weight=4.0, fallback=cs.TokenPricing(input=3.0, output=15.0))
    >>> ptu.units * ptu.price_per_unit_hour * 24  # USD a day, used or not
    72.0
    """

    units: int
    price_per_unit_hour: float
    tokens_per_minute: float
    input_weight: float = 1.0
    cached_weight: float = 1.0
    output_weight: float = 1.0
    fallback: DeploymentOption | str | None = option_field(default=None)

    def _validate(self) -> None:
        self._count("units", low=1)
        check_price(self, "price_per_unit_hour")
        self._number("tokens_per_minute", low=60.0 * MIN_THROUGHPUT)
        at_most(self, "tokens_per_minute", 60.0 * MAX_THROUGHPUT, "MAX_THROUGHPUT x 60")
        for name in ("input_weight", "cached_weight", "output_weight"):
            check_price(self, name)
        self._check_fallback()

    def _capacity(self, bin: pd.Timedelta) -> tuple[Callable[..., None], np.ndarray]:
        params = np.empty(6)
        params[K.PROV_UNITS] = self.units
        params[K.PROV_PRICE] = self.price_per_unit_hour
        params[K.PROV_TPM] = self.tokens_per_minute
        params[K.PROV_W_INPUT] = self.input_weight
        params[K.PROV_W_CACHED] = self.cached_weight
        params[K.PROV_W_OUTPUT] = self.output_weight
        return K.provisioned_capacity, params


@dataclasses.dataclass(frozen=True)
class SelfHostedGPU(CapacityModel):
    """Self-hosted model replicas on rented GPUs, autoscaled on each bin's demand.

    A bin's load in GPU-seconds is uncached prompt tokens / ``prefill_tokens_per_s``
    + (output + reasoning) tokens / ``decode_tokens_per_s``; a replica of
    ``gpus_per_replica`` GPUs serves ``gpus_per_replica`` times one GPU's
    throughput.  The autoscaler wants the replicas that carry the load at
    ``target_utilisation``, rounded up to a multiple of ``scale_step`` and kept
    within ``[min_replicas, max_replicas]``; the replicas running in a bin are
    those wanted ``scale_lag`` earlier (rounded up to whole bins; at the start,
    those wanted for the first bin).  Running replicas are paid in full and serve
    up to their full throughput; demand beyond goes to ``fallback`` or is
    throttled.  Cost steps with load: that is the point.

    Parameters
    ----------
    gpu_hour_price : float
        USD per GPU-hour: on-demand, reserved or spot.
    prefill_tokens_per_s : float
        Prompt (prefill) throughput of one GPU for this model and serving stack, in
        ``[MIN_THROUGHPUT, MAX_THROUGHPUT]`` tokens per second.
    decode_tokens_per_s : float
        Output (decode) throughput of one GPU, in the same range.
    gpus_per_replica : int, default 1
        GPUs one model replica needs (tensor parallelism).  Every count of this
        model is in **replicas**, not GPUs: ``min_replicas``, ``max_replicas``,
        ``scale_step`` and the result's ``capacity_units``.  GPUs running (and
        paid) = replicas x ``gpus_per_replica``: ``min_replicas=2`` with
        ``gpus_per_replica=8`` keeps 16 GPUs running.
    target_utilisation : float, default 0.7
        Fraction of throughput the autoscaler plans for, in [0.001, 1].
    min_replicas : int, default 1
    max_replicas : int, optional
        None for no upper bound.
    scale_step : int, default 1
        Replicas are added and removed in multiples of this.
    scale_lag : str or timedelta, default "0h"
        Delay between demand and the replicas that serve it: zero or at least a
        second, with a unit (a bare number is refused: pandas reads it as
        nanoseconds).
    interruption_overhead : float, default 0
        Extra GPU time paid for interruptions (spot capacity), as a fraction.
    fixed_monthly : float, default 0
        USD a month regardless of load (operations staff, storage, networking),
        paid per hour (a month being 365.25 / 12 days).
    fallback : option or str, optional
        Where demand above ``max_replicas`` goes; None throttles it.

    Notes
    -----
    Bounds (:mod:`costsim._limits`): the GPU-hour price and the overhead in
    ``[0, MAX_PRICE]``, ``fixed_monthly`` in ``[0, MAX_MONTHLY]``; GPU and replica
    counts and the step at most ``MAX_UNITS``.

    Examples
    --------
    >>> import costsim as cs
    >>> gpu = cs.SelfHostedGPU(gpu_hour_price=2.5, prefill_tokens_per_s=8_000, decode_tokens_per_s=1_500,
    ...                        min_replicas=1, max_replicas=8, scale_lag="1h", fixed_monthly=4_000.0)
    >>> gpu.gpus_per_replica, gpu.target_utilisation
    (1, 0.7)
    """

    gpu_hour_price: float
    prefill_tokens_per_s: float
    decode_tokens_per_s: float
    gpus_per_replica: int = 1
    target_utilisation: float = 0.7
    min_replicas: int = 1
    max_replicas: int | None = None
    scale_step: int = 1
    scale_lag: str = "0h"
    interruption_overhead: float = 0.0
    fixed_monthly: float = 0.0
    fallback: DeploymentOption | str | None = option_field(default=None)

    def _validate(self) -> None:
        check_price(self, "gpu_hour_price")
        for name in ("prefill_tokens_per_s", "decode_tokens_per_s"):
            self._number(name, low=MIN_THROUGHPUT)
            at_most(self, name, MAX_THROUGHPUT, "MAX_THROUGHPUT")
        self._count("gpus_per_replica", low=1)
        self._number("target_utilisation", low=MIN_TARGET_UTILISATION, high=1.0)
        self._count("min_replicas", low=0)
        if self.max_replicas is not None:
            self._count("max_replicas", low=1)
            if isinstance(self.max_replicas, int) and isinstance(self.min_replicas, int) \
                    and self.max_replicas < self.min_replicas:
                self._fail("max_replicas", f"must be >= min_replicas ({self.min_replicas})", self.max_replicas)
        self._count("scale_step", low=1)
        try:  # a number (or a string without a unit) would be read as nanoseconds
            bare = isinstance(self.scale_lag, (bool, numbers.Number)) and not isinstance(self.scale_lag, np.timedelta64)
            lag = pd.NaT if bare else pd.Timedelta(self.scale_lag)
        except (TypeError, ValueError, OverflowError):
            lag = pd.NaT
        if lag is pd.NaT or lag < pd.Timedelta(0) or pd.Timedelta(0) < lag < pd.Timedelta(seconds=1):
            self._fail("scale_lag", "must be a duration with a unit such as '0h' or '15min', zero or at least 1 s",
                       self.scale_lag)
        check_price(self, "interruption_overhead")
        check_price(self, "fixed_monthly", MAX_MONTHLY, "MAX_MONTHLY")
        self._check_fallback()

    def _capacity(self, bin: pd.Timedelta) -> tuple[Callable[..., None], np.ndarray]:
        params = np.empty(11)
        params[K.GPU_PRICE] = self.gpu_hour_price
        params[K.GPU_OVERHEAD] = self.interruption_overhead
        params[K.GPU_PREFILL] = self.prefill_tokens_per_s
        params[K.GPU_DECODE] = self.decode_tokens_per_s
        params[K.GPU_PER_REPLICA] = self.gpus_per_replica
        params[K.GPU_TARGET] = self.target_utilisation
        params[K.GPU_MIN] = self.min_replicas
        params[K.GPU_MAX] = math.inf if self.max_replicas is None else self.max_replicas
        params[K.GPU_STEP] = self.scale_step
        params[K.GPU_LAG] = math.ceil(pd.Timedelta(self.scale_lag) / bin)
        params[K.GPU_FIXED_MONTHLY] = self.fixed_monthly
        return K.self_hosted_gpu, params


@dataclasses.dataclass(frozen=True)
class CustomCapacity(CapacityModel):
    """Your own capacity model, compiled: a numba function priced per time bin.

    The extension point for a pricing scheme costsim does not ship.  ``function``
    is a ``@numba.njit`` function (or its ``"module:name"`` import path, which a
    scenario file can hold) with the signature of the built-in ones::

        function(demand, params, bin_hours, cost, served, units, utilisation)

    reading ``demand[bin, class, column]`` (the class axis holds (class, prompt
    band) pairs when a :class:`PromptRouter` is in play; columns: queries, model calls, prompt
    tokens, cached prompt tokens, output tokens incl. reasoning — the ``D_*``
    constants of :mod:`costsim.kernels`) and writing, per bin, the USD
    ``cost[bin, class]`` attributed to each class, the fraction of demand
    ``served[bin]`` (the rest spills to ``fallback``), the capacity ``units[bin]``
    running and their ``utilisation[bin]``.  It runs once per trial on that
    trial's demand; its outputs are checked (finite, cost >= 0, served and
    utilisation in [0, 1]).

    Parameters
    ----------
    function : numba function or str
        The compiled capacity function, or ``"package.module:function"``.  A path
        given here in Python is imported at once (it is your own code); a path
        read from a scenario or result file is never imported unless its top-level
        package is trusted by name (``allow_imports=`` of the loaders in
        :mod:`costsim.scenario`, ``costsim run --allow-import``): loading data
        runs no code.
    params : sequence of float
        Passed to ``function`` as a float64 array; any entry may be uncertain.
    fallback : option or str, optional
        Where unserved demand goes; None throttles it.

    Examples
    --------
    A flat fee per bin plus a per-query price, everything served:

    >>> import numba, costsim as cs
    >>> @numba.njit
    ... def flat_plus_per_query(demand, params, bin_hours, cost, served, units, utilisation):
    ...     for b in range(demand.shape[0]):
    ...         n_classes = demand.shape[1]
    ...         for c in range(n_classes):
    ...             cost[b, c] = params[0] * bin_hours / n_classes + params[1] * demand[b, c, 0]
    ...         served[b] = 1.0
    ...         units[b] = 1.0
    ...         utilisation[b] = 1.0
    >>> custom = cs.CustomCapacity(flat_plus_per_query, params=(10.0, 0.002))
    >>> traffic = cs.Traffic([cs.QueryClass("chat", 1.0, cs.Constant(1000), cs.Constant(200))],
    ...                      cs.Arrivals(volume=2400, horizon="1D", bin="1h"))
    >>> ds = cs.simulate(traffic, {"custom": custom}, trials=1, seed=1)
    >>> n = int(ds["requests"].sum())
    >>> bool(abs(float(ds["cost"].sum()) - (10.0 * 24 + 0.002 * n)) < 1e-9)
    True
    """

    function: Any = dataclasses.field(metadata={"import_path": True})  # loaders import only trusted packages
    params: tuple[float, ...] = ()
    fallback: DeploymentOption | str | None = option_field(default=None)

    def _validate(self) -> None:
        self._compiled()  # fails early for a function that is not compiled or not importable
        self._numbers("params")
        self._check_fallback()

    def _compiled(self) -> Callable[..., None]:
        function = self.function
        if isinstance(function, str):
            module, _, name = function.partition(":")
            try:
                function = getattr(importlib.import_module(module), name)
            except (ImportError, AttributeError, ValueError, TypeError):  # TypeError: a relative '.module'
                self._fail("function", "must be a numba function or an importable 'module:name'", self.function)
        if not hasattr(function, "py_func") or not hasattr(function, "signatures"):
            self._fail("function", "must be compiled with @numba.njit", self.function)
        try:  # else numba refuses the call after the whole simulation ran, naming no option
            inspect.signature(function.py_func).bind(*CAPACITY_ARGUMENTS)
        except (TypeError, ValueError):
            self._fail("function", f"must take the {len(CAPACITY_ARGUMENTS)} arguments "
                       f"({', '.join(CAPACITY_ARGUMENTS)})", self.function)
        return function

    def _capacity(self, bin: pd.Timedelta) -> tuple[Callable[..., None], np.ndarray]:
        return self._compiled(), np.asarray(self.params, dtype=np.float64)
