"""
Cumulative cost bands of three API vendors
==========================================

``plot_cost_bands(ds, cumulative=True)``: the demo product (four query classes, bursty
arrivals, uncertain growth) over two weeks, 50 trials. Each option's median is a
line; the shaded bands are the p5-p95 and p25-p75 ranges across trials. All options
price the very same requests, so the gap between them is real, not noise.
"""

import costsim as cs
from costsim.demo import demo_traffic
from costsim.plot import plot_cost_bands

# three API vendors, USD per million tokens
options = {
    "frontier": cs.TokenPricing(input=3.0, output=15.0, cached_input=0.30),
    "midrange": cs.TokenPricing(input=1.25, output=10.0, cached_input=0.125),
    "small": cs.TokenPricing(input=0.40, output=1.60, cached_input=0.10),
}
# the demo product: four query classes, bursty arrivals, uncertain growth
ds = cs.simulate(demo_traffic(days=14, volume=20_000), options, trials=50, seed=7)

ax = plot_cost_bands(ds, cumulative=True)
