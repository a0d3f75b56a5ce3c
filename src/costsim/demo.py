"""The built-in demo scenario: an AI assistant product with four query classes.

Chat, retrieval-augmented (RAG), agentic and long-context queries with heavy
tails, a month of hourly traffic with a daily and weekly profile, uncertain
growth and bursty arrivals, priced under three API vendors.  The token shapes
and prices are illustrative, chosen to look like a real product (late 2026
list prices of a frontier, a mid-price and a small model); they are not a
calibration of any particular service.
"""

from __future__ import annotations

from .pricing import LongContextTier, TokenPricing
from .traffic import Arrivals, Beta, Capped, Geometric, LogNormal, Mixture, Normal, QueryClass, Traffic

__all__ = ["demo_traffic", "demo_options"]

# Relative traffic per UTC hour (a product used mostly in European/US working hours).
_DAILY = (
    0.35, 0.3, 0.28, 0.3, 0.4, 0.6, 0.9, 1.2, 1.45, 1.6, 1.65, 1.6,
    1.5, 1.55, 1.65, 1.7, 1.6, 1.4, 1.2, 1.0, 0.85, 0.7, 0.55, 0.45,
)
_WEEKLY = (1.15, 1.2, 1.2, 1.15, 1.05, 0.6, 0.55)


def demo_traffic(days: int = 30, volume: float = 50_000.0) -> Traffic:
    """The demo's traffic: ``volume`` queries a day for ``days`` days, hourly bins.

    Examples
    --------
    >>> demo_traffic().class_names
    ('chat', 'rag', 'agent', 'long_context')
    """
    chat = QueryClass(
        "chat",
        share=0.60,
        input_tokens=Capped(LogNormal.from_median_p90(800, 3_000), 32_000),
        output_tokens=Capped(LogNormal.from_median_p90(250, 900), 4_096),
        cached_fraction=Beta(2.0, 5.0),
    )
    rag = QueryClass(
        "rag",
        share=0.25,
        input_tokens=LogNormal.from_median_p90(4_000, 9_000),
        output_tokens=Capped(LogNormal.from_median_p90(300, 800), 4_096),
        cached_fraction=0.1,
    )
    agent = QueryClass(
        "agent",
        share=0.10,
        input_tokens=LogNormal.from_median_p90(3_000, 10_000),
        output_tokens=Capped(LogNormal.from_median_p90(400, 1_500), 8_192),
        cached_fraction=Beta(8.0, 2.0),
        steps=Geometric(p=0.2),
        tool_tokens=LogNormal.from_median_p90(800, 4_000),
    )
    long_context = QueryClass(
        "long_context",
        share=0.05,
        input_tokens=Capped(
            Mixture(
                (LogNormal.from_median_p90(40_000, 90_000), LogNormal.from_median_p90(250_000, 600_000)),
                (0.8, 0.2),
            ),
            1_000_000,
        ),
        output_tokens=Capped(LogNormal.from_median_p90(800, 2_500), 8_192),
    )
    arrivals = Arrivals(
        volume=volume,
        horizon=f"{days}D",
        bin="1h",
        daily_profile=_DAILY,
        weekly_profile=_WEEKLY,
        growth=Normal(0.10, 0.05),
        overdispersion=0.25,
    )
    return Traffic((chat, rag, agent, long_context), arrivals)


def demo_options() -> dict[str, TokenPricing]:
    """Three API vendors (USD per million tokens).

    Examples
    --------
    >>> sorted(demo_options())
    ['frontier', 'midrange', 'small']
    """
    return {
        "frontier": TokenPricing(
            input=3.0, output=15.0, cached_input=0.30,
            long_context=(LongContextTier(200_000, input=6.0, output=22.5, cached_input=0.60),),
        ),
        "midrange": TokenPricing(
            input=1.25, output=10.0, cached_input=0.125,
            long_context=(LongContextTier(200_000, input=2.5, output=15.0, cached_input=0.25),),
        ),
        "small": TokenPricing(input=0.40, output=1.60, cached_input=0.10),
    }
