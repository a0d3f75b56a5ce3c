"""costsim: what will this AI product cost at production scale, with what uncertainty?

Heavy-tailed traffic generators sample query mixes, a compiled kernel prices every
simulated request under pluggable pricing models, and xarray results show
percentile cost bands by query class and deployment option.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("costsim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

from . import demo, pricing, results, traffic
from ._validation import ParameterError
from .pricing import (
    CapacityModel,
    CommittedSpend,
    CustomCapacity,
    DeploymentOption,
    Hybrid,
    LongContextTier,
    OffPeak,
    OffPeakWindow,
    PricingModel,
    ProvisionedCapacity,
    RateCard,
    SelfHostedGPU,
    TokenPricing,
    VolumeDiscount,
)
from .pricing.litellm import price
from .results import CostsimAccessor
from .scenario import from_dict, to_dict
from .simulate import simulate
from .traffic import (
    Arrivals,
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
    QueryClass,
    Traffic,
    Uniform,
    Weibull,
)

__all__ = [
    "CapacityModel", "CommittedSpend", "CustomCapacity", "DeploymentOption", "Hybrid", "ProvisionedCapacity",
    "SelfHostedGPU", "VolumeDiscount",
    "Arrivals", "Beta", "Capped", "Constant", "CostsimAccessor", "Distribution", "Empirical",
    "Gamma", "GeneralizedPareto", "Geometric", "LogNormal", "LongContextTier", "Mixture",
    "Normal", "OffPeak", "OffPeakWindow", "ParameterError", "Pareto", "PricingModel", "QueryClass",
    "RateCard", "TokenPricing", "price",
    "Traffic", "Uniform", "Weibull", "demo", "from_dict", "pricing", "results", "simulate",
    "to_dict", "traffic",
]
