"""Right-sizing provisioned capacity: cost bands against the number of units

`plot_search(cs.optimize(...))`: every candidate number of provisioned units, priced on
the same simulated requests from one kernel run, with its band of total cost across
trials, its mean and its CVaR95. Too few units spill expensive traffic to the API, too
many sit idle; the chosen plan minimises CVaR95, and candidates whose chance of
exceeding the budget is above 10 % are shaded.
"""
from _optimize import units_result

from costsim.plot import plot_search

ax = plot_search(units_result(), "ptu.units")
