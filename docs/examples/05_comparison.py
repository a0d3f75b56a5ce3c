"""
Options compared on identical requests: difference and regret
=============================================================

``plot_comparison(ds, baseline)``: left, each option's total minus the baseline's, trial
by trial; right, the regret of locking into each option (its cost above the best
option of the same trial).
"""

import costsim as cs
from costsim.demo import demo_traffic
from costsim.plot import plot_comparison

# three API vendors, USD per million tokens
options = {
    "frontier": cs.TokenPricing(input=3.0, output=15.0, cached_input=0.30),
    "midrange": cs.TokenPricing(input=1.25, output=10.0, cached_input=0.125),
    "small": cs.TokenPricing(input=0.40, output=1.60, cached_input=0.10),
}
# the demo product: four query classes, bursty arrivals, uncertain growth
ds = cs.simulate(demo_traffic(days=14, volume=20_000), options, trials=50, seed=7)

axes = plot_comparison(ds, "frontier")
