"""
Hourly cost of one option, with its daily and weekly rhythm
===========================================================

``plot_cost_bands(ds, options=[...], ax=ax)``: cost per hourly bin for a single option,
drawn on an Axes you provide. The daily profile, the quieter weekend and the
burstiness of arrivals show in the width of the bands.
"""

import matplotlib.pyplot as plt

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

fig, ax = plt.subplots(figsize=(9, 4), layout="constrained")
first_week = ds.isel(time=slice(0, 7 * 24))
plot_cost_bands(first_week, ax=ax, options=["midrange"], q=(0.05, 0.95))
ax.set_title("Cost per hour, midrange vendor, first week")
