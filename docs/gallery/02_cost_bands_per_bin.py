"""Hourly cost of one option, with its daily and weekly rhythm

`plot_cost_bands(ds, options=[...], ax=ax)`: cost per hourly bin for a single option,
drawn on an Axes you provide. The daily profile, the quieter weekend and the
burstiness of arrivals show in the width of the bands.
"""
import matplotlib.pyplot as plt
from _shared import demo_result

from costsim.plot import plot_cost_bands

ds = demo_result().isel(time=slice(0, 7 * 24))  # the first week
fig, ax = plt.subplots(figsize=(9, 4), layout="constrained")
plot_cost_bands(ds, ax=ax, options=["midrange"], q=(0.05, 0.95))
ax.set_title("Cost per hour, midrange vendor, first week")
