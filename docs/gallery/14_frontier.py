"""The efficient frontier of candidate plans: mean against tail cost

`plot_frontier(cs.optimize(...))`: each candidate plan's mean total cost against its
CVaR95 (the mean of the worst 5 % of trials). Plans on the frontier trade a higher
mean for a thinner tail; the chosen plan minimises the objective among those that
meet the constraints.
"""
from _optimize import units_result

from costsim.plot import plot_frontier

ax = plot_frontier(units_result())
