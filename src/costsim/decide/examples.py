"""A small optimize result for the docstring examples and quick experiments."""

from __future__ import annotations

import functools

from ..pricing.capacity import ProvisionedCapacity
from ..pricing.token import TokenPricing
from ..traffic.arrivals import Arrivals
from ..traffic.distributions import LogNormal, Normal, Uniform
from ..traffic.query_class import QueryClass
from ..traffic.traffic import Traffic
from .result import OptimizeResult
from .solve import optimize

__all__ = ["example_result"]


@functools.cache
def example_result(trials: int = 40, seed: int = 1) -> OptimizeResult:
    """Provisioned units for a chat product, overflow to an API: two months of
    bursty, growing traffic of uncertain volume with a busy daytime, units from 1
    to 16, minimising CVaR90.

    Cached: the same arguments return the same object.

    Parameters
    ----------
    trials : int, default 40
        Trials of the simulation.
    seed : int, default 1
        Its seed.

    Returns
    -------
    OptimizeResult

    Examples
    --------
    >>> result = example_result()
    >>> result.dataset.sizes["candidate"], result.dataset.attrs["objective"]
    (16, 'CVaR90')
    """
    traffic = Traffic(
        [QueryClass("chat", 1.0, LogNormal(7.0, 0.6), LogNormal(5.0, 0.6))],
        Arrivals(volume=Uniform(3_500, 6_500), horizon="60D", bin="1h", overdispersion=0.3,
                 growth=Normal(0.15, 0.1), daily_profile=(0.5,) * 8 + (1.5,) * 12 + (0.5,) * 4),
    )
    options = {
        "api": TokenPricing(input=3.0, output=15.0),
        "ptu": ProvisionedCapacity(units=1, price_per_unit_hour=0.08, tokens_per_minute=1_000, fallback="api"),
    }
    return optimize(traffic, options, {"ptu.units": range(1, 17)}, objective=("cvar", 0.9), trials=trials,
                    seed=seed)
