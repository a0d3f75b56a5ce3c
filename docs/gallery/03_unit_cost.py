"""Cost per query by class and option

`plot_unit_cost(ds)`: the median cost of one query of each class under each option,
with its p5-p95 band across trials, on a log axis because classes differ by orders
of magnitude.
"""
from _shared import demo_result

from costsim.plot import plot_unit_cost

ax = plot_unit_cost(demo_result())
