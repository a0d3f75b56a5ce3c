"""Cumulative cost bands of three API vendors

`plot_cost_bands(ds, cumulative=True)`: the demo product (four query classes, bursty
arrivals, uncertain growth) over two weeks, 100 trials. Each option's median is a
line; the shaded bands are the p5-p95 and p25-p75 ranges across trials. All options
price the very same requests, so the gap between them is real, not noise.
"""
from _shared import demo_result

from costsim.plot import plot_cost_bands

ds = demo_result()
ax = plot_cost_bands(ds, cumulative=True)
