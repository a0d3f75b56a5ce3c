"""An optimize result shared by the gallery scripts: computed once per documentation build."""
import dataclasses
import functools

import costsim as cs
from costsim.demo import demo_options, demo_traffic
from costsim.decide import optimize


@functools.cache
def units_result():
    """How many provisioned units in front of the frontier API, for the demo product:
    two months of traffic whose volume is uncertain (6k to 14k queries a day), 30
    trials; minimise CVaR95 with at most a 10 % chance of exceeding a 30k USD budget."""
    traffic = demo_traffic(days=60)
    traffic = dataclasses.replace(traffic, arrivals=dataclasses.replace(traffic.arrivals,
                                                                        volume=cs.Uniform(6_000, 14_000)))
    options = {
        "api": demo_options()["frontier"],
        "ptu": cs.ProvisionedCapacity(units=1, price_per_unit_hour=1.0, tokens_per_minute=20_000,
                                      output_weight=4.0, fallback="api"),
    }
    return optimize(traffic, options, {"ptu.units": range(1, 25)}, objective=("cvar", 0.95),
                    constraints={"budget": (30_000, 0.1)}, trials=30, seed=7)
