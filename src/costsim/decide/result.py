"""The result of :func:`costsim.optimize`: a Dataset over (candidate, trial) and the chosen plan.

The Dataset (``result.dataset``) holds, with ``units`` and ``long_name`` on every
variable:

=======================  ========================  ==============================================
name                     dims                      meaning
=======================  ========================  ==============================================
total_cost               candidate, trial          USD of the optimised option over the horizon
spill_cost               candidate, trial          of which paid to fallbacks (spilled demand)
throttled_requests       candidate, trial          queries no capacity served (unpriced)
capacity_cost            candidate, trial          USD of capacity (units, GPUs, overheads)
unused_capacity_cost     candidate, trial          of which left unused
utilisation              candidate, trial          used / paid capacity cost (NaN: no capacity)
monthly_cost             candidate, trial, month   USD per calendar month (UTC)
requests                 trial                     queries arriving over the horizon
objective                candidate                 the objective (minimised)
mean_cost, tail_cost     candidate                 mean and tail measure of total_cost
throttled_share          candidate                 throttled / arriving queries, all trials
capacity_utilisation     candidate                 used / paid capacity cost, all trials
budget_exceedance        candidate                 share of trials above the budget (if given)
violation                candidate                 how far the constraints are missed (0: met)
feasible, on_frontier    candidate                 meets the constraints; mean-tail efficient
chosen_cost              trial, time               the chosen plan's cost per bin
perfect_cost             trial                     each trial's cheapest candidate (hindsight)
flexible_cost            trial                     re-sized each month, in hindsight
adaptive_cost            trial                     re-sized each month to last month's best
regret                   trial                     chosen plan minus perfect_cost
=======================  ========================  ==============================================

Each searched parameter is a coordinate on ``candidate`` named like the search
(``"ptu.units"``); numbers stay numbers, other values (tuples of thresholds,
None) are strings.  ``attrs`` hold the option optimised, the objective, the tail
measure, the constraints, the search (JSON), the chosen candidate (``best``),
``value_of_information``, ``value_of_flexibility``, ``value_of_adaptation``, the
method (``"grid"`` or ``"refine"``), ``grid_size`` (the candidates of the whole
grid), ``converged`` (1, or 0 where refine ran out of candidates to price), the
seed and the costsim version.  With ``method="refine"`` the candidates are those
the search priced, in the order it priced them: the frontier, the regret and the
flexible plans are over those.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..analysis._common import check_quantiles
from ..pricing.base import DeploymentOption
from .search import key_text

__all__ = [
    "OptimizeResult", "candidate_table", "frontier_table", "linked_keys", "plan_bands", "result_dataset",
    "search_bands", "search_slice", "searched_parameters",
]


def result_dataset(data: Any) -> xr.Dataset:
    """The Dataset of an optimize result (an :class:`OptimizeResult` or its ``.dataset``).

    Examples
    --------
    >>> from costsim.decide import example_result
    >>> result_dataset(example_result()) is example_result().dataset
    True
    """
    ds = getattr(data, "dataset", data)
    if not isinstance(ds, xr.Dataset) or "total_cost" not in ds or "candidate" not in ds.dims:
        raise TypeError(f"expected a costsim.optimize result (or its .dataset); got {type(data).__name__}")
    return ds


def searched_parameters(data: Any) -> list[str]:
    """The searched parameters (coordinates on ``candidate``) of an optimize result.

    Examples
    --------
    >>> from costsim.decide import example_result
    >>> searched_parameters(example_result())
    ['ptu.units']
    """
    return json.loads(result_dataset(data).attrs["parameters"])


def candidate_table(data: Any) -> pd.DataFrame:
    """One row per candidate: its parameters, mean and tail cost, objective, constraint
    measures, violation, and whether it is feasible and on the mean-tail frontier.

    Examples
    --------
    >>> import costsim as cs
    >>> from costsim.decide import example_result
    >>> table = candidate_table(example_result())
    >>> table.columns[:4].tolist()
    ['ptu.units', 'mean_cost', 'tail_cost', 'objective']
    """
    ds = result_dataset(data)
    columns = [*searched_parameters(ds), "mean_cost", "tail_cost", "objective", "throttled_share",
               "capacity_utilisation"]
    columns += [v for v in ("budget_exceedance",) if v in ds]
    columns += ["violation", "feasible", "on_frontier"]
    table = pd.DataFrame({name: ds[name].values for name in columns}, index=ds["candidate"].values)
    table.index.name = "candidate"
    return table


def frontier_table(data: Any) -> pd.DataFrame:
    """The candidates on the efficient frontier (no other candidate is at most as
    expensive on the mean and on the tail, and cheaper on one), by mean cost.

    Examples
    --------
    >>> from costsim.decide import example_result
    >>> front = frontier_table(example_result())
    >>> bool(front["mean_cost"].is_monotonic_increasing and front["tail_cost"].is_monotonic_decreasing)
    True
    """
    table = candidate_table(data)
    return table[table["on_frontier"]].sort_values(["mean_cost", "tail_cost"])


def search_bands(data: Any, q: Sequence[float] = (0.05, 0.25, 0.5, 0.75, 0.95)) -> xr.DataArray:
    """Quantiles across trials of each candidate's total cost: dims (quantile, candidate).

    Examples
    --------
    >>> from costsim.decide import example_result
    >>> search_bands(example_result(), q=(0.1, 0.9)).dims
    ('quantile', 'candidate')
    """
    ds = result_dataset(data)
    out = ds["total_cost"].quantile(check_quantiles(q), dim="trial")
    out.attrs = dict(ds["total_cost"].attrs)
    return out


def search_slice(data: Any, parameter: str | None = None) -> np.ndarray:
    """The candidates along one searched ``parameter``, the others at the chosen
    plan's values, ordered as the search lists them (candidate indices).

    Examples
    --------
    >>> from costsim.decide import example_result
    >>> result = example_result()
    >>> search_slice(result, "ptu.units").tolist() == list(range(result.dataset.sizes["candidate"]))
    True
    """
    ds = result_dataset(data)
    names = searched_parameters(ds)
    if parameter is None:
        parameter = names[0]
    if parameter not in names:
        raise ValueError(f"parameter must be one of the searched parameters {names}; got {parameter!r}")
    best = int(ds.attrs["best"])
    keep = np.ones(ds.sizes["candidate"], dtype=bool)
    for name in names:
        if name != parameter and not _linked(ds, parameter, name):
            keep &= ds[name].values == ds[name].values[best]
    return np.nonzero(keep)[0]


def _linked(ds: xr.Dataset, a: str, b: str) -> bool:
    """Whether searched parameter ``b`` moves with ``a``: both in one key of the search
    (a linked key, ``("disc.thresholds", "commit.monthly_minimum")``)."""
    return any(a in names and b in names for names in linked_keys(ds))


def linked_keys(data: Any) -> list[list[str]]:
    """The searched parameters of an optimize result grouped by search key (a linked
    key's parameters together, in the search's order).

    Examples
    --------
    >>> from costsim.decide import example_result
    >>> linked_keys(example_result())
    [['ptu.units']]
    """
    ds = result_dataset(data)
    return [[name.strip() for name in key.split(",")] for key in json.loads(ds.attrs["search"])]


def plan_bands(data: Any, q: Sequence[float] = (0.05, 0.5, 0.95), *, cumulative: bool = True) -> xr.DataArray:
    """Quantiles across trials of the chosen plan's cost over time (per bin, or
    cumulative since the start): dims (quantile, time).

    Examples
    --------
    >>> from costsim.decide import example_result
    >>> b = plan_bands(example_result(), q=(0.05, 0.95))
    >>> b.dims, bool((b.sel(quantile=0.95) >= b.sel(quantile=0.05)).all())
    (('quantile', 'time'), True)
    """
    ds = result_dataset(data)
    cost = ds["chosen_cost"].cumsum("time") if cumulative else ds["chosen_cost"]
    out = cost.quantile(check_quantiles(q), dim="trial")
    out.attrs = dict(ds["chosen_cost"].attrs)
    return out


@dataclasses.dataclass(frozen=True, repr=False)
class OptimizeResult:
    """The outcome of :func:`costsim.optimize`: the chosen plan and every candidate's numbers.

    Attributes
    ----------
    dataset : xarray.Dataset
        Every candidate in every trial (see :mod:`costsim.decide.result`).
    best : dict
        The chosen plan, keyed like ``search`` (a tuple of values for a key that
        links several parameters).
    options : dict of str to DeploymentOption
        ``base_options`` with the chosen plan's values: ready for
        :func:`costsim.simulate` (bands by class, histograms, ...).
    option : str
        The option whose cost was optimised.

    Examples
    --------
    >>> from costsim.decide import example_result
    >>> result = example_result()
    >>> result.best
    {'ptu.units': 10}
    >>> result.feasible, result.value_of_information >= 0.0
    (True, True)
    """

    dataset: xr.Dataset
    best: dict[Any, Any]
    options: dict[str, DeploymentOption]
    option: str

    @property
    def best_index(self) -> int:
        """The chosen candidate's index on the ``candidate`` dim."""
        return int(self.dataset.attrs["best"])

    @property
    def feasible(self) -> bool:
        """Whether the chosen plan meets the constraints (else it is the least violating)."""
        return bool(self.dataset["feasible"].values[self.best_index])

    @property
    def objective(self) -> float:
        """The chosen plan's objective (USD)."""
        return float(self.dataset["objective"].values[self.best_index])

    @property
    def regret(self) -> xr.DataArray:
        """Per trial, the chosen plan's total cost above that trial's cheapest candidate."""
        return self.dataset["regret"]

    @property
    def value_of_information(self) -> float:
        """What knowing each trial's traffic in advance would save on average: the mean
        over trials of the chosen plan's cost above the trial's cheapest candidate
        (USD; the expected value of perfect information)."""
        return float(self.dataset.attrs["value_of_information"])

    @property
    def value_of_flexibility(self) -> float:
        """What re-sizing each calendar month to that month's best candidate (in
        hindsight) would save over the fixed chosen plan, on average over trials
        (USD): an upper bound on the worth of monthly flexibility."""
        return float(self.dataset.attrs["value_of_flexibility"])

    @property
    def value_of_adaptation(self) -> float:
        """What re-sizing each month to the previous month's best candidate saves over
        the fixed chosen plan, on average over trials (USD; negative: it costs)."""
        return float(self.dataset.attrs["value_of_adaptation"])

    def table(self) -> pd.DataFrame:
        """Every candidate: see :func:`candidate_table`."""
        return candidate_table(self)

    def frontier(self) -> pd.DataFrame:
        """The efficient (mean vs tail) candidates: see :func:`frontier_table`."""
        return frontier_table(self)

    def bands(self, q: Sequence[float] = (0.05, 0.5, 0.95), *, cumulative: bool = True) -> xr.DataArray:
        """The chosen plan's cost bands over time: see :func:`plan_bands`."""
        return plan_bands(self, q, cumulative=cumulative)

    def summary(self) -> str:
        """A few lines: the chosen plan, its objective and tail, the constraints, the
        values of information and of flexibility."""
        ds, i = self.dataset, self.best_index
        plan = ", ".join(f"{key_text(k)} = {v!r}" for k, v in self.best.items())
        head = f"chosen plan for {self.option!r}: {plan}"
        if not self.feasible:
            head += "  (no candidate meets the constraints: the least violating)"
        lines = [
            head,
            (f"  {ds.attrs['objective']} = {self.objective:,.2f} USD; mean {float(ds['mean_cost'][i]):,.2f}, "
             f"{ds.attrs['tail']} {float(ds['tail_cost'][i]):,.2f} USD over {ds.sizes['trial']} trials"),
        ]
        if ds.attrs.get("method") == "refine":
            lines.append(f"  method refine: {ds.sizes['candidate']:,} of {int(ds.attrs['grid_size']):,} candidates "
                         "priced, a local optimum" + ("" if ds.attrs["converged"] else
                                                      " (stopped by max_candidates before converging)"))
        constraints = json.loads(ds.attrs["constraints_text"])
        if constraints:
            lines.append("  constraints: " + "; ".join(constraints))
        lines.append(f"  mean savings: perfect information {self.value_of_information:,.2f} USD, monthly flexibility "
                     f"{self.value_of_flexibility:,.2f} USD (adapting to last month: {self.value_of_adaptation:,.2f})")
        return "\n".join(lines)

    def __repr__(self) -> str:
        n = self.dataset.sizes["candidate"]
        return f"<OptimizeResult: {n} candidates, {self.dataset.sizes['trial']} trials; best {self.best!r}>"
