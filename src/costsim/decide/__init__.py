"""Decisions under uncertainty: size capacity and commitments, choose routing thresholds.

:func:`optimize` prices every candidate plan of a search grid (or, for grids too
large, those a local search visits) on the same simulated requests, from one
kernel run, and chooses the one that minimises a cost objective (mean, a
quantile, a CVaR, mean + lambda x CVaR) under constraints (throttling, the chance
of exceeding a budget, utilisation).  The result (:class:`OptimizeResult`) holds
every candidate priced, its cost in every trial, the mean-tail
frontier, the regret of the chosen plan against each trial's best candidate (the
value of information) and the value of re-sizing each month (flexibility).

* :mod:`.search` - the search grid: ``"option.parameter"`` keys, candidates built
  with :func:`dataclasses.replace`;
* :mod:`.objectives` - objectives and constraints over the trials;
* :mod:`.evaluate` - one kernel run, then each candidate billed when asked;
* :mod:`.refine` - ``method="refine"``: a local search for grids too large to price whole;
* :mod:`.solve` - :func:`optimize`: choose, and label the result;
* :mod:`.result` - :class:`OptimizeResult` and the tables and bands of its Dataset;
* :mod:`.examples` - :func:`example_result`, a small result for examples and the docs.
"""

from .examples import example_result
from .objectives import Constraints, Objective, cvar, parse_constraints, parse_objective
from .result import (
    OptimizeResult,
    candidate_table,
    frontier_table,
    plan_bands,
    result_dataset,
    search_bands,
    search_slice,
    searched_parameters,
)
from .search import MAX_CANDIDATES
from .solve import optimize

__all__ = [
    "MAX_CANDIDATES",
    "Constraints",
    "Objective",
    "OptimizeResult",
    "candidate_table",
    "cvar",
    "example_result",
    "frontier_table",
    "optimize",
    "parse_constraints",
    "parse_objective",
    "plan_bands",
    "result_dataset",
    "search_bands",
    "search_slice",
    "searched_parameters",
]
