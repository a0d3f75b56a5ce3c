"""Analysis of costsim results, one module per lesson; plot helpers in
:mod:`costsim.plot` draw what these functions compute.

* :mod:`~costsim.analysis.sweep` - cost vs usage: cost curves, break-even volumes (of :func:`costsim.sweep`).
* :mod:`~costsim.analysis.budget` - cost per period and cumulative, against a budget:
  :func:`~costsim.analysis.per_period` (days, weeks, calendar months ``"MS"`` and quarters ``"QS"``),
  :func:`~costsim.analysis.exceedance_probability`.
* :mod:`~costsim.analysis.tails` - per-request cost quantiles, concentration, Lorenz, Gini.
* :mod:`~costsim.analysis.unit_cost` - unit cost by query class.
* :mod:`~costsim.analysis.compare` - deployment optionality: paired differences, regret.
* :mod:`~costsim.analysis.sensitivity` - which uncertain parameters drive the spread.
* :mod:`~costsim.analysis.focus` - export to a FOCUS-shaped FinOps table.
"""

from .budget import exceedance_probability, per_period
from .compare import compare_options, paired_difference, prob_cheaper, regret
from .focus import FOCUS_COLUMNS, to_focus
from .sensitivity import first_order_index, parameter_label, rank_correlation, sensitivity
from .sweep import break_even, crossovers, volume_curves
from ..run.volumes import sweep  # runs simulations; after .sweep, so that analysis.sweep is this function
from .tails import (
    class_shares,
    cost_histogram,
    cost_share_of_top,
    gini,
    lorenz_curve,
    request_cost_ccdf,
    request_cost_quantiles,
)
from .unit_cost import unit_cost_table

__all__ = [
    "FOCUS_COLUMNS",
    "break_even",
    "class_shares",
    "compare_options",
    "cost_histogram",
    "cost_share_of_top",
    "crossovers",
    "exceedance_probability",
    "first_order_index",
    "gini",
    "lorenz_curve",
    "paired_difference",
    "parameter_label",
    "per_period",
    "prob_cheaper",
    "rank_correlation",
    "regret",
    "request_cost_ccdf",
    "request_cost_quantiles",
    "sensitivity",
    "sweep",
    "to_focus",
    "unit_cost_table",
    "volume_curves",
]
