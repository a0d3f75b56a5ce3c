"""Pricing models: validated dataclasses that lower to arrays for the kernel."""

from .base import PricingModel
from .token import STANDARD, LongContextTier, OffPeak, OffPeakWindow, RateCard, TokenPricing

__all__ = ["LongContextTier", "OffPeak", "OffPeakWindow", "PricingModel", "RateCard", "STANDARD", "TokenPricing"]
