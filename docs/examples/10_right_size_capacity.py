"""
Right-sizing provisioned capacity
=================================

How many provisioned units to put in front of a per-token API, for two months of the
demo product whose volume is uncertain (6k to 14k queries a day): ``cs.optimize``
prices every candidate number of units on the same simulated requests, from one
kernel run, and chooses the plan that minimises CVaR95 (the mean of the worst 5 % of
trials) with at most a 10 % chance of exceeding a 30k USD budget.
"""

import dataclasses

import costsim as cs
from costsim.demo import demo_traffic
from costsim.plot import plot_frontier, plot_search

traffic = demo_traffic(days=60)
traffic = dataclasses.replace(traffic, arrivals=dataclasses.replace(traffic.arrivals,
                                                                    volume=cs.Uniform(6_000, 14_000)))
options = {
    "api": cs.TokenPricing(input=3.0, output=15.0, cached_input=0.30),
    "ptu": cs.ProvisionedCapacity(units=1, price_per_unit_hour=1.0, tokens_per_minute=20_000,
                                  output_weight=4.0, fallback="api"),
}
result = cs.optimize(traffic, options, {"ptu.units": range(1, 25)}, objective=("cvar", 0.95),
                     constraints={"budget": (30_000, 0.1)}, trials=30, seed=7)

# %%
# Cost bands against the number of units
# --------------------------------------
# ``plot_search(result, "ptu.units")``: each candidate's band of total cost across
# trials, its mean and its CVaR95. Too few units spill expensive traffic to the API,
# too many sit idle; candidates whose chance of exceeding the budget is above 10 %
# are shaded.

ax = plot_search(result, "ptu.units")

# %%
# The efficient frontier: mean against tail cost
# ----------------------------------------------
# ``plot_frontier(result)``: each candidate plan's mean total cost against its
# CVaR95. Plans on the frontier trade a higher mean for a thinner tail; the chosen
# plan minimises the objective among those that meet the constraints.

ax = plot_frontier(result)
