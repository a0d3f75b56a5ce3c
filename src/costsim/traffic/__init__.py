"""Traffic: token-length distributions, query classes, arrivals and their modulation."""

from .arrivals import Arrivals
from .distributions import (
    Beta,
    Capped,
    Constant,
    Distribution,
    Empirical,
    Gamma,
    GeneralizedPareto,
    Geometric,
    Joint,
    LogNormal,
    Mixture,
    Normal,
    Pareto,
    Uniform,
    Weibull,
)
from .processes import (
    FlashEvent,
    LogisticGrowth,
    MixShift,
    Modulation,
    OnOff,
    Overdispersion,
    Profile,
)
from .query_class import QueryClass
from .traffic import Traffic
from .truncated import Truncated

__all__ = [
    "Arrivals", "Beta", "Capped", "Constant", "Distribution", "Empirical", "FlashEvent", "Gamma",
    "GeneralizedPareto", "Geometric", "Joint", "LogNormal", "LogisticGrowth", "MixShift", "Mixture", "Modulation",
    "Normal", "OnOff", "Overdispersion", "Pareto", "Profile", "QueryClass", "Traffic", "Truncated", "Uniform",
    "Weibull",
]
