"""Pricing models: validated dataclasses that lower to arrays for the kernel (per-request
models) or to compiled per-bin functions (capacity), and compositions of them."""

from .base import DeploymentOption, PricingModel
from .capacity import CapacityModel, CustomCapacity, ProvisionedCapacity, SelfHostedGPU
from .compose import CommittedSpend, Hybrid, PromptRouter, VolumeDiscount
from .rates import STANDARD, LongContextTier, OffPeak, OffPeakWindow, RateCard
from .token import TokenPricing

__all__ = [
    "CapacityModel", "CommittedSpend", "CustomCapacity", "DeploymentOption", "Hybrid", "LongContextTier", "OffPeak",
    "OffPeakWindow", "PricingModel", "PromptRouter", "ProvisionedCapacity", "RateCard", "STANDARD", "SelfHostedGPU", "TokenPricing",
    "VolumeDiscount",
]
