"""Pricing models: validated dataclasses that lower to arrays for the kernel."""

from .base import PricingModel
from .token import LongContextTier, TokenPricing

__all__ = ["LongContextTier", "PricingModel", "TokenPricing"]
