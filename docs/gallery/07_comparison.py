"""Options compared on identical requests: difference and regret

`plot_comparison(ds, baseline)`: left, each option's total minus the baseline's, trial
by trial; right, the regret of locking into each option (its cost above the best
option of the same trial).
"""
from _shared import demo_result

from costsim.plot import plot_comparison

axes = plot_comparison(demo_result(), "frontier")
