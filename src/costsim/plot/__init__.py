"""Plot helpers. They draw what :mod:`costsim.results` and :mod:`costsim.analysis`
compute and never compute statistics themselves; each takes ``ax=None`` (or
``fig=None`` for multi-panel figures) and returns its Axes.  matplotlib is
imported lazily, and no global style is changed.
"""

from ._common import usd_formatter, usd_log_formatter
from .backtest import plot_backtest
from .bands import plot_budget, plot_cost_bands
from .compare import plot_comparison
from .fit import plot_pilot_gap, plot_qq
from .optimize import plot_frontier, plot_search
from .sensitivity import plot_tornado
from .sweep import plot_volume_sweep
from .tails import plot_class_shares, plot_lorenz, plot_request_cost_ccdf
from .unit_cost import plot_unit_cost

__all__ = [
    "plot_backtest",
    "plot_budget",
    "plot_class_shares",
    "plot_comparison",
    "plot_cost_bands",
    "plot_frontier",
    "plot_lorenz",
    "plot_pilot_gap",
    "plot_qq",
    "plot_request_cost_ccdf",
    "plot_search",
    "plot_tornado",
    "plot_unit_cost",
    "plot_volume_sweep",
    "usd_formatter",
    "usd_log_formatter",
]
