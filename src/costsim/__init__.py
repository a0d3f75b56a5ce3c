"""costsim: what will this AI product cost at production scale, with what uncertainty?

Heavy-tailed traffic generators sample query mixes, a compiled kernel prices every
simulated request under pluggable pricing models, and xarray results show
percentile cost bands by query class and deployment option.
"""

from ._version import __version__ as __version__  # the installed version, recorded in every result
from . import datasets, demo, pricing, results, traffic
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
    PromptRouter,
    ProvisionedCapacity,
    RateCard,
    SelfHostedGPU,
    TokenPricing,
    VolumeDiscount,
)
from .pricing.litellm import price
from .accessor import CostsimAccessor
from .scenario import from_dict, to_dict
from .run import Estimate, estimate, simulate, sweep
from . import analysis
from .analysis import break_even, to_focus
from . import calibrate
from .calibrate import backtest, estimate_on_off, fit_traffic, pilot_gap, project, to_scenario
from . import decide
from .decide import OptimizeResult, optimize
from .traffic import (
    Arrivals,
    Beta,
    Capped,
    Constant,
    Distribution,
    Empirical,
    FlashEvent,
    Gamma,
    GeneralizedPareto,
    Geometric,
    Joint,
    LogisticGrowth,
    LogNormal,
    MixShift,
    Mixture,
    Modulation,
    Normal,
    OnOff,
    Overdispersion,
    Pareto,
    Profile,
    QueryClass,
    Traffic,
    Truncated,
    Uniform,
    Weibull,
)

__all__ = [
    "CapacityModel", "CommittedSpend", "CustomCapacity", "DeploymentOption", "Hybrid", "PromptRouter", "ProvisionedCapacity",
    "SelfHostedGPU", "VolumeDiscount",
    "Arrivals", "Beta", "Capped", "Constant", "CostsimAccessor", "Distribution", "Empirical",
    "FlashEvent", "Gamma", "GeneralizedPareto", "Geometric", "Joint", "LogNormal", "LogisticGrowth", "LongContextTier",
    "MixShift", "Mixture", "Modulation", "Normal", "OnOff", "Overdispersion", "OffPeak", "OffPeakWindow",
    "ParameterError", "Pareto", "PricingModel", "Profile", "QueryClass",
    "RateCard", "TokenPricing", "price",
    "Traffic", "Truncated", "Uniform", "Weibull", "demo", "estimate_on_off", "from_dict", "pricing", "results",
    "simulate", "to_dict", "traffic", "datasets",
    "analysis", "break_even", "sweep", "to_focus",
    "calibrate", "backtest", "fit_traffic", "pilot_gap", "project", "to_scenario",
    "decide", "OptimizeResult", "optimize",
    "Estimate", "estimate",
]
