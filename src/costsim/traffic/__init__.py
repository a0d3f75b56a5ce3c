"""Traffic: token-length distributions, query classes and arrivals."""

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
    LogNormal,
    Mixture,
    Normal,
    Pareto,
    Uniform,
    Weibull,
)
from .query_class import QueryClass
from .traffic import Traffic

__all__ = [
    "Arrivals", "Beta", "Capped", "Constant", "Distribution", "Empirical", "Gamma",
    "GeneralizedPareto", "Geometric", "LogNormal", "Mixture", "Normal", "Pareto",
    "QueryClass", "Traffic", "Uniform", "Weibull",
]
