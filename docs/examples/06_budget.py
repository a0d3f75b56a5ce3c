"""
Daily cost against a budget, and the chance of exceeding it
===========================================================

``plot_budget(ds, budget, period="1D")``: the fan chart of daily cost with the budget as
a dashed line, and per option the share of trials above it, day by day.
"""

import costsim as cs
from costsim.demo import demo_traffic
from costsim.plot import plot_budget

# three API vendors, USD per million tokens
options = {
    "frontier": cs.TokenPricing(input=3.0, output=15.0, cached_input=0.30),
    "midrange": cs.TokenPricing(input=1.25, output=10.0, cached_input=0.125),
    "small": cs.TokenPricing(input=0.40, output=1.60, cached_input=0.10),
}
# the demo product: four query classes, bursty arrivals, uncertain growth
ds = cs.simulate(demo_traffic(days=14, volume=20_000), options, trials=50, seed=7)

axes = plot_budget(ds, 500.0, period="1D", options=["midrange"])
