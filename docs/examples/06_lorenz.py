"""
How much of the bill the priciest queries carry
===============================================

``plot_lorenz(ds, option=...)``: the Lorenz curve of per-query cost per class, with each
class's Gini coefficient and the share of cost of the most expensive 1 % and 10 % of
queries.
"""

import costsim as cs
from costsim.demo import demo_traffic
from costsim.plot import plot_lorenz

# three API vendors, USD per million tokens
options = {
    "frontier": cs.TokenPricing(input=3.0, output=15.0, cached_input=0.30),
    "midrange": cs.TokenPricing(input=1.25, output=10.0, cached_input=0.125),
    "small": cs.TokenPricing(input=0.40, output=1.60, cached_input=0.10),
}
# the demo product: four query classes, bursty arrivals, uncertain growth
ds = cs.simulate(demo_traffic(days=14, volume=20_000), options, trials=50, seed=7)

ax = plot_lorenz(ds, option="frontier")
