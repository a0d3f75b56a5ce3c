"""Daily cost against a budget, and the chance of exceeding it

`plot_budget(ds, budget, period="1D")`: the fan chart of daily cost with the budget as
a dashed line, and per option the share of trials above it, day by day.
"""
from _shared import demo_result

from costsim.plot import plot_budget

axes = plot_budget(demo_result(), 500.0, period="1D", options=["midrange"])
