"""
Cost per query by class and option
==================================

``plot_unit_cost(ds)``: the median cost of one query of each class under each option,
with its p5-p95 band across trials, on a log axis because classes differ by orders
of magnitude.
"""

import costsim as cs
from costsim.demo import demo_traffic
from costsim.plot import plot_unit_cost

# three API vendors, USD per million tokens
options = {
    "frontier": cs.TokenPricing(input=3.0, output=15.0, cached_input=0.30),
    "midrange": cs.TokenPricing(input=1.25, output=10.0, cached_input=0.125),
    "small": cs.TokenPricing(input=0.40, output=1.60, cached_input=0.10),
}
# the demo product: four query classes, bursty arrivals, uncertain growth
ds = cs.simulate(demo_traffic(days=14, volume=20_000), options, trials=50, seed=7)

ax = plot_unit_cost(ds)
