"""
Right-sizing provisioned capacity: cost bands against the number of units
=========================================================================

``plot_search(cs.optimize(...))``: every candidate number of provisioned units, priced on
the same simulated requests from one kernel run, with its band of total cost across
trials, its mean and its CVaR95. Too few units spill expensive traffic to the API, too
many sit idle; the chosen plan minimises CVaR95, and candidates whose chance of
exceeding the budget is above 10 % are shaded.
"""

import dataclasses

import costsim as cs
from costsim.demo import demo_traffic
from costsim.plot import plot_search

# two months of the demo product, whose volume is uncertain (6k to 14k queries a day)
traffic = demo_traffic(days=60)
traffic = dataclasses.replace(traffic, arrivals=dataclasses.replace(traffic.arrivals,
                                                                    volume=cs.Uniform(6_000, 14_000)))
options = {
    "api": cs.TokenPricing(input=3.0, output=15.0, cached_input=0.30),
    "ptu": cs.ProvisionedCapacity(units=1, price_per_unit_hour=1.0, tokens_per_minute=20_000,
                                  output_weight=4.0, fallback="api"),
}
# how many provisioned units: minimise CVaR95, at most a 10 % chance of exceeding 30k USD
result = cs.optimize(traffic, options, {"ptu.units": range(1, 25)}, objective=("cvar", 0.95),
                     constraints={"budget": (30_000, 0.1)}, trials=30, seed=7)

ax = plot_search(result, "ptu.units")
