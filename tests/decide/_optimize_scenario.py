"""A small scenario shared by the optimize tests: a chat product, an API, provisioned units."""

import costsim as cs


def small_traffic(days: int = 3, volume: float = 3_000.0, horizon_start: str = "2026-01-05") -> cs.Traffic:
    return cs.Traffic(
        [cs.QueryClass("chat", 0.8, cs.LogNormal(7.0, 0.6), cs.LogNormal(5.0, 0.6)),
         cs.QueryClass("rag", 0.2, cs.LogNormal(8.0, 0.5), cs.LogNormal(5.0, 0.5))],
        cs.Arrivals(volume=cs.Uniform(0.7 * volume, 1.3 * volume), horizon=f"{days}D", bin="1h", overdispersion=0.3,
                    start=horizon_start),
    )


def small_options() -> dict:
    return {
        "api": cs.TokenPricing(input=3.0, output=15.0),
        "ptu": cs.ProvisionedCapacity(units=1, price_per_unit_hour=0.1, tokens_per_minute=1_000, fallback="api"),
        "capped": cs.ProvisionedCapacity(units=1, price_per_unit_hour=0.1, tokens_per_minute=1_000),  # throttles
    }
