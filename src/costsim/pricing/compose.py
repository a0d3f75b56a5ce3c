"""Options built from other options: routing, volume discounts, committed spend.

Each wraps options (objects, or the names of other options in the same
:func:`costsim.simulate` call) and is priced after the kernel, from the costs and
demand of what it wraps.  Volume discounts and commitments keep exact cumulative
state across the bins of each calendar month (UTC).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from .._limits import MAX_MONTHLY, MAX_PRICE, MAX_TOKENS_PER_CALL
from ..traffic.distributions import Distribution
from .base import DeploymentOption, at_most, check_price, option_field

__all__ = ["CommittedSpend", "Hybrid", "PromptRouter", "VolumeDiscount"]

OptionRef = DeploymentOption | str

MAX_THRESHOLD = 2**53
"""Monthly volume (tokens or USD) of a :class:`VolumeDiscount` threshold: cumulative
volumes are exact in float64 up to here."""


def _check_ref(model: DeploymentOption, name: str, value: object) -> None:
    if isinstance(value, str):
        if not value:
            model._fail(name, "must be a non-empty option name", value)
    elif not isinstance(value, DeploymentOption):
        model._fail(name, "must be a pricing option or the name of another option", value)


@dataclasses.dataclass(frozen=True)
class Hybrid(DeploymentOption):
    """Route each query class to its own option; capacity options fall back in chains.

    (To route each query by its prompt size instead, see :class:`PromptRouter`;
    the two nest.)

    Classes routed to the same option share it (one capacity pool, one
    commitment): the same name, or equal objects (options are values: a
    scenario file read back holds equal copies of an object used twice), a name
    standing for its option; two names are two options.  Each class is still
    priced at its own service tier.  Fallback chains come
    from the capacity options themselves (``ProvisionedCapacity(...,
    fallback=SelfHostedGPU(..., fallback="api"))``); a chain that returns to an
    option it left is refused.

    Parameters
    ----------
    routes : mapping of str to option or str
        Query class name -> the option (or the name of another option) pricing it.
    default : option or str, optional
        For classes without a route; None means every class needs one.

    Examples
    --------
    >>> import costsim as cs
    >>> api = cs.TokenPricing(input=3.0, output=15.0)
    >>> gpu = cs.SelfHostedGPU(gpu_hour_price=2.5, prefill_tokens_per_s=8_000, decode_tokens_per_s=1_500,
    ...                        fallback="api")
    >>> options = {"api": api, "hybrid": cs.Hybrid(routes={"chat": gpu}, default="api")}
    >>> sorted(options["hybrid"].routes)
    ['chat']
    """

    routes: dict[str, OptionRef] = option_field()
    default: OptionRef | None = option_field(default=None)

    def _validate(self) -> None:
        if not isinstance(self.routes, Mapping):
            self._fail("routes", "must be a mapping of query class name -> option", self.routes)
        object.__setattr__(self, "routes", dict(self.routes))
        for name, target in self.routes.items():
            if not isinstance(name, str) or not name:
                self._fail("routes", "must have query class names as keys", name)
            _check_ref(self, f"routes[{name!r}]", target)
        if self.default is not None:
            _check_ref(self, "default", self.default)
        if not self.routes and self.default is None:
            self._fail("routes", "must route at least one class (or give a default)", self.routes)


@dataclasses.dataclass(frozen=True)
class PromptRouter(DeploymentOption):
    """Route each query by the size of its (first) prompt.

    Queries whose prompt is at most ``thresholds[0]`` tokens go to ``options[0]``,
    those above ``thresholds[k - 1]`` and at most ``thresholds[k]`` to
    ``options[k]``, the largest to ``options[-1]`` (strictly above a threshold, as
    long-context tiers count).  The kernel aggregates demand and cost per band of
    prompt size, so capacity options behind a router see exactly their queries.

    Parameters
    ----------
    thresholds : sequence of int
        Prompt tokens, strictly increasing, in ``[0, MAX_TOKENS_PER_CALL]``.
    options : sequence of option or str
        One more than ``thresholds``: the option (or the name of another option)
        for each band, smallest prompts first.

    Examples
    --------
    Short prompts to a self-hosted model, long ones to an API:

    >>> import costsim as cs
    >>> api = cs.TokenPricing(input=3.0, output=15.0)
    >>> gpu = cs.SelfHostedGPU(gpu_hour_price=2.5, prefill_tokens_per_s=8_000, decode_tokens_per_s=1_500,
    ...                        max_replicas=4, fallback="api")
    >>> router = cs.PromptRouter(thresholds=(8_000,), options=(gpu, "api"))
    >>> traffic = cs.Traffic([cs.QueryClass("chat", 1.0, cs.LogNormal(7.0, 1.0), cs.LogNormal(5.0, 0.8))],
    ...                      cs.Arrivals(volume=50_000, horizon="1D", bin="1h"))
    >>> ds = cs.simulate(traffic, {"api": api, "routed": router}, trials=2, seed=1)
    >>> ds.costsim.total().round(0).values.tolist()  # USD a day per trial: [api, routed]
    [[419.0, 106.0], [427.0, 109.0]]
    """

    thresholds: tuple[int, ...]
    options: tuple[OptionRef, ...] = option_field()

    def _validate(self) -> None:
        if not isinstance(self.thresholds, (list, tuple)) or not self.thresholds:
            self._fail("thresholds", "must be a non-empty sequence of prompt sizes", self.thresholds)
        object.__setattr__(self, "thresholds", tuple(self.thresholds))
        for i, t in enumerate(self.thresholds):
            if isinstance(t, bool) or not isinstance(t, int) or t < 0:
                self._fail(f"thresholds[{i}]", "must be an integer >= 0 (prompt tokens)", t)
        at_most(self, "thresholds", MAX_TOKENS_PER_CALL, "MAX_TOKENS_PER_CALL")
        if any(b <= a for a, b in zip(self.thresholds, self.thresholds[1:])):
            self._fail("thresholds", "must be strictly increasing", self.thresholds)
        if not isinstance(self.options, (list, tuple)):
            self._fail("options", "must be a sequence of options", self.options)
        object.__setattr__(self, "options", tuple(self.options))
        if len(self.options) != len(self.thresholds) + 1:
            self._fail("options", f"must have one more entry than thresholds ({len(self.thresholds) + 1})",
                       len(self.options))
        for i, target in enumerate(self.options):
            _check_ref(self, f"options[{i}]", target)


@dataclasses.dataclass(frozen=True)
class VolumeDiscount(DeploymentOption):
    """Discounts on cumulative monthly volume: tokens, or spend, of another option.

    Within each calendar month (UTC), the part of the volume beyond
    ``thresholds[k]`` is billed at ``multipliers[k]`` times the base price.  The
    cost of a bin is spread evenly over its volume, so a bin that crosses a
    threshold is billed partly at each rate; the cumulative state is exact.

    Parameters
    ----------
    base : option or str
        The option discounted (or the name of another option).
    thresholds : sequence of float
        Monthly volumes where each discount starts, strictly increasing, in
        ``(0, 2**53]`` (tokens or USD).
    multipliers : sequence of float
        Price multipliers beyond each threshold, in ``[0, MAX_PRICE]`` (0.9 = 10 % off).
    measure : {"tokens", "spend"}, default "tokens"
        Volume in billed tokens (prompt + output + reasoning) or in USD of base cost.

    Examples
    --------
    >>> import costsim as cs
    >>> api = cs.TokenPricing(input=3.0, output=15.0)
    >>> cs.VolumeDiscount(api, thresholds=(1e9, 1e10), multipliers=(0.9, 0.8)).measure
    'tokens'
    >>> cs.VolumeDiscount(api, thresholds=(1e10, 1e9), multipliers=(0.9, 0.8))
    Traceback (most recent call last):
    ...
    costsim._validation.ParameterError: VolumeDiscount: thresholds must be strictly increasing; got (10000000000.0, 1000000000.0)
    """

    base: OptionRef = option_field()
    thresholds: tuple[float, ...]
    multipliers: tuple[float, ...]
    measure: str = "tokens"

    def _validate(self) -> None:
        _check_ref(self, "base", self.base)
        self._numbers("thresholds", low=0.0, low_open=True)
        at_most(self, "thresholds", MAX_THRESHOLD, "2**53, where sums stop being exact")
        self._numbers("multipliers", low=0.0)
        at_most(self, "multipliers", MAX_PRICE, "MAX_PRICE")
        if not self.thresholds:
            self._fail("thresholds", "must not be empty", self.thresholds)
        if len(self.multipliers) != len(self.thresholds):
            self._fail("multipliers", f"must have one entry per threshold ({len(self.thresholds)})",
                       self.multipliers)
        concrete = [t for t in self.thresholds if not isinstance(t, Distribution)]
        if len(concrete) == len(self.thresholds) and any(b <= a for a, b in zip(concrete, concrete[1:])):
            self._fail("thresholds", "must be strictly increasing", self.thresholds)
        if self.measure not in ("tokens", "spend"):
            self._fail("measure", "must be 'tokens' or 'spend'", self.measure)


@dataclasses.dataclass(frozen=True)
class CommittedSpend(DeploymentOption):
    """A monthly minimum spend on another option, the shortfall charged.

    In each calendar month (UTC) the option's spend below ``monthly_minimum`` is
    charged in the month's last simulated bin, attributed to classes by their
    share of the month's spend.  A month the horizon covers only partly has its
    minimum prorated by the hours covered.

    Parameters
    ----------
    base : option or str
        The option committed to (or the name of another option).
    monthly_minimum : float
        USD per month, in ``[0, MAX_MONTHLY]`` (1e12).

    Examples
    --------
    >>> import costsim as cs
    >>> cs.CommittedSpend(cs.TokenPricing(input=3.0, output=15.0), monthly_minimum=10_000.0).monthly_minimum
    10000.0
    """

    base: OptionRef = option_field()
    monthly_minimum: float

    def _validate(self) -> None:
        _check_ref(self, "base", self.base)
        check_price(self, "monthly_minimum", MAX_MONTHLY, "MAX_MONTHLY")
