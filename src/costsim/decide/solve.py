"""``optimize``: choose capacity, commitments and routing under uncertainty."""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from .._validation import ParameterError, check_int
from .._version import __version__
from ..pricing.base import DeploymentOption
from ..run.prepare import check_run, warn_off_peak_inside_bins
from ..run.progress import progress_bar
from ..traffic.traffic import Traffic
from .evaluate import Evaluation, Pricer, run_once
from .objectives import Constraints, Objective, parse_constraints, parse_objective
from .refine import pattern_search
from .result import OptimizeResult
from .search import (
    MAX_CANDIDATES,
    Grid,
    candidate,
    check_ordered,
    key_text,
    parse_search,
    uses,
)

__all__ = ["optimize"]


def optimize(
    traffic: Traffic,
    base_options: Mapping[str, DeploymentOption],
    search: Mapping[Any, Any],
    *,
    objective: Any = "mean",
    constraints: Mapping[str, Any] | None = None,
    option: str | None = None,
    tail: Any = None,
    trials: Any = 100,
    seed: int | None = None,
    method: str = "grid",
    max_candidates: int = MAX_CANDIDATES,
    progress: bool | None = None,
    max_seconds: float | None = None,
    max_memory_bytes: float | None = None,
) -> OptimizeResult:
    """Choose the capacity, commitment or routing threshold that minimises a cost objective.

    Every candidate of the ``search`` grid is priced on the very same simulated
    requests (common random numbers) from **one** kernel run: capacity,
    commitments, discounts and routing are billed per time bin after the kernel,
    so a hundred candidates cost little more than one simulation.  A candidate's
    numbers equal those of :func:`costsim.simulate` of that candidate with the
    same seed.

    Parameters
    ----------
    traffic : Traffic
        Query classes and arrivals (uncertain parameters are drawn per trial, as
        in :func:`costsim.simulate`).
    base_options : mapping of str to DeploymentOption
        The options, with the searched parameters at any value.
    search : mapping
        ``"option.parameter"`` -> the values to try, e.g. ``{"ptu.units":
        range(1, 40), "gpu.max_replicas": [2, 4, 8]}``; the candidates are the
        grid over the product of the keys' values.  Nested parameters take a
        dotted path (``"gpu.fallback.units"``); a tuple of names (or one string of
        names separated by commas) links parameters that move together, its
        values being tuples (``{("disc.thresholds", "commit.monthly_minimum"):
        [((8e3,), 8e3), ((9e3,), 9e3)]}``).  Searchable: whatever is billed after
        the kernel (``ProvisionedCapacity.units``, ``SelfHostedGPU.min_replicas``
        / ``max_replicas``, ``CommittedSpend.monthly_minimum``, ``VolumeDiscount``
        thresholds and multipliers, ``PromptRouter.thresholds``, prices of
        capacity, ...), not the per-request models.  See
        :mod:`costsim.decide.search`.
    objective : str or tuple, default "mean"
        What to minimise over the trials' total cost of ``option``: ``"mean"``,
        ``("quantile", q)``, ``("cvar", a)`` (mean of the worst ``1 - a`` share of
        trials) or ``("mean+cvar", lam, a)``; see :mod:`costsim.decide.objectives`.
    constraints : mapping, optional
        ``{"throttled_share": x}`` (share of requests throttled at most ``x``),
        ``{"budget": (usd, p)}`` (total cost above ``usd`` in at most a share ``p``
        of trials), ``{"utilisation": u}`` (at least a share ``u`` of the capacity
        paid for is used).  When no candidate meets them all, the least violating
        one is chosen, with a warning.
    option : str, optional
        The option whose cost is optimised.  Default: the one option that no other
        refers to and that uses every searched option.
    tail : str or tuple, optional
        The tail measure of the frontier (an objective spec).  Default: the
        objective's own (its quantile or CVaR), CVaR95 for the mean.
    trials : int or iterable of int, default 100
        As in :func:`costsim.simulate`.
    seed : int, optional
        As in :func:`costsim.simulate` (None draws one, recorded in the result).
    method : {"grid", "refine"}, default "grid"
        ``"grid"`` prices every candidate of the grid and finds its optimum;
        ``"refine"`` prices a few, by a local search that steps between
        neighbouring values of each key (a compass search with successive
        refinement, :mod:`costsim.decide.refine`), for grids too large to price
        whole.  On an objective convex along the grid (capacity and commitment
        sizes, usually) refine finds the grid's optimum with far fewer candidates
        priced; on others it finds a *local* optimum: no neighbour along any single
        key is better, a point further away may be.  The values of a key of one
        number-valued parameter must then be strictly increasing or decreasing.
    max_candidates : int, default 10,000
        The most candidates priced: ``"grid"`` refuses a larger grid (and suggests
        ``"refine"``); ``"refine"`` stops there, with a warning, if it has not
        converged (its budget of evaluations).
    progress : bool, optional
        A progress bar over the kernel's trials and the candidates; None: for long
        runs in a terminal or notebook.
    max_seconds, max_memory_bytes : float, optional
        As in :func:`costsim.simulate`, for the kernel run (the memory check also
        counts the candidates' results).

    Returns
    -------
    OptimizeResult
        ``.best`` (the chosen plan, keyed like ``search``: of the candidates with
        the lowest objective, the first priced, i.e. the first in the grid's
        order for ``"grid"``), ``.options`` (the base options with it),
        ``.dataset`` (every candidate over trials; see
        :mod:`costsim.decide.result`), ``.frontier()``, ``.regret``,
        ``.value_of_information``, ``.value_of_flexibility``.

    Warns
    -----
    UserWarning
        When no candidate meets the constraints (the least violating is chosen).

    Notes
    -----
    *Regret and the value of information.*  ``perfect_cost`` is, per trial, the
    total cost of the candidate cheapest in that trial; ``regret`` the chosen
    plan's cost above it; ``value_of_information`` = mean of ``regret`` over the
    trials (the expected value of perfect information): what knowing each trial's
    traffic before choosing would save on average.

    *Flexibility.*  The months are the calendar months (UTC) the horizon touches;
    a candidate's cost in a month is its cost in that month's bins from the run
    over the whole horizon (state carried over a month boundary, such as a
    GPU autoscaler's lag, is the candidate's own).  ``flexible_cost`` of a trial
    = sum over months of the cheapest candidate's cost in that month of that
    trial: a plan re-sized each month to what that month's traffic turned out to
    need, an upper bound on what monthly re-sizing can save.  ``adaptive_cost``
    = the chosen plan in the first month, then each month the candidate that was
    cheapest in the previous month of the same trial: a realistic monthly review.
    ``value_of_flexibility`` = mean over trials of chosen - ``flexible_cost``,
    ``value_of_adaptation`` = mean of chosen - ``adaptive_cost`` (negative when
    chasing last month's traffic costs more than the fixed plan).  The per-trial
    costs are in the Dataset for any other statistic (their tails, say).
    Regret, perfect, flexible and adaptive plans choose only among feasible
    candidates (the least violating when none is).

    *Frontier.*  ``on_frontier`` marks the feasible candidates no other feasible
    candidate beats on both the mean and the tail measure.  With ``method="refine"``
    the Dataset holds the candidates the search priced (in that order), and the
    frontier, regret and flexible plans are over those.

    *Cost.*  One kernel run, as :func:`costsim.simulate` of the options ``option``
    uses (with the prompt-size edges of every candidate's routers), then billing
    per candidate: only ``option`` and what it uses, every trial at once, about 1 ms
    per candidate for 20 trials of 720 hourly bins (provisioned units and an API),
    whatever the volume.  100 candidates cost 1.1 to 1.2 times one simulation at
    1.6 to 6 M queries and less than one at 30 M (``benchmarks/bench_optimize.py``;
    simulate builds a per-query cost histogram, optimize does not).  Runs in this
    process (no Dask client yet).

    Examples
    --------
    How many provisioned units, with overflow to an API, for a chat product of
    uncertain volume:

    >>> import costsim as cs
    >>> from costsim.decide import optimize
    >>> traffic = cs.Traffic([cs.QueryClass("chat", 1.0, cs.LogNormal(7.0, 0.5), cs.LogNormal(5.0, 0.5))],
    ...                      cs.Arrivals(volume=cs.Uniform(3_500, 6_500), horizon="14D", bin="1h",
    ...                                  overdispersion=0.3))
    >>> options = {"api": cs.TokenPricing(input=3.0, output=15.0),
    ...            "ptu": cs.ProvisionedCapacity(units=1, price_per_unit_hour=0.1, tokens_per_minute=1_000,
    ...                                          fallback="api")}
    >>> result = optimize(traffic, options, {"ptu.units": range(1, 13)}, objective=("cvar", 0.9),
    ...                   trials=20, seed=1)
    >>> result.best
    {'ptu.units': 6}
    >>> result.frontier()[["ptu.units", "mean_cost", "tail_cost"]].round(0)
               ptu.units  mean_cost  tail_cost
    candidate
    4                  5      219.0      289.0
    5                  6      226.0      271.0
    >>> print(result.summary())
    chosen plan for 'ptu': ptu.units = 6
      CVaR90 = 270.77 USD; mean 225.89, CVaR90 270.77 USD over 20 trials
      mean savings: perfect information 12.33 USD, monthly flexibility 12.33 USD (adapting to last month: 0.00)
    >>> result.dataset["total_cost"].dims
    ('candidate', 'trial')
    >>> ds = cs.simulate(traffic, result.options, trials=20, seed=1)  # the chosen plan, in full
    >>> bool(abs(float(ds["cost"].sel(option="ptu").sum()) / 20 - result.dataset["mean_cost"][5]) < 1e-9)
    True
    """
    if not isinstance(base_options, Mapping):
        raise TypeError(f"base_options must be a mapping of name -> pricing option; got {type(base_options).__name__}")
    warn_off_peak_inside_bins(check_run(traffic, base_options, trials=trials))  # before anything is built
    if method not in ("grid", "refine"):
        raise ParameterError("method", "must be 'grid' (price every candidate) or 'refine' (a local search that "
                             "prices a few)", method)
    max_candidates = check_int("max_candidates", max_candidates, low=1)
    grid = parse_search(search, base_options, max_candidates if method == "grid" else None)
    if method == "refine":
        check_ordered(grid)
    goal = parse_objective(objective)
    tail_measure = goal.tail if tail is None else parse_objective(tail, "tail")
    limits = parse_constraints(constraints)
    target = _target(base_options, grid, option)
    cache: dict[Any, DeploymentOption] = {}
    if method == "grid":
        points = list(grid.points())
        changes = [candidate(grid, base_options, point, cache) for point in points]
        probes = changes
    else:  # each value of each key once (the others in the middle): together, every candidate's routers
        middle = [(len(axis.values) - 1) // 2 for axis in grid.axes]
        probes = [candidate(grid, base_options, (*middle[:k], i, *middle[k + 1:]), cache)
                  for k, axis in enumerate(grid.axes) for i in range(len(axis.values))]
    # the options the target uses, in any candidate (a searched fallback may name another option)
    used = set(uses(base_options, target))
    seen: set[tuple[int, ...]] = set()
    for change in probes:
        key = tuple(id(v) for v in change.values())
        if key not in seen:
            seen.add(key)
            used.update(uses({**base_options, **change}, target))
    options = {name: model for name, model in base_options.items() if name in used}
    pricer, show = run_once(traffic, options, target, probes, min(max_candidates, grid.size), trials=trials,
                            seed=seed, progress=progress, max_seconds=max_seconds, max_memory_bytes=max_memory_bytes)
    with progress_bar(show, min(max_candidates, grid.size), "candidate") as update:
        if method == "grid":
            for change in changes:
                pricer.price(change)
                update(1)
            converged = True
        else:
            points, changes, converged = _refine(pricer, grid, base_options, cache, goal, limits, max_candidates,
                                                 update)
    ev = pricer.evaluation(changes)
    ds, best = _decide(ev, grid, points, goal, tail_measure, limits, target)
    ds.attrs.update(method=method, grid_size=grid.size, converged=int(converged))
    return OptimizeResult(dataset=ds, best=grid.assignment(points[best]),
                          options={**base_options, **changes[best]}, option=target)


def _refine(pricer: Pricer, grid: Grid, options: Mapping[str, DeploymentOption], cache: dict[Any, DeploymentOption],
            goal: Objective, limits: Constraints, budget: int,
            update: Any) -> tuple[list[tuple[int, ...]], list[dict[str, DeploymentOption]], bool]:
    """``method="refine"``: the points a :func:`~costsim.decide.refine.pattern_search`
    priced, their changes, and whether it converged (a warning if not)."""
    built: dict[tuple[int, ...], dict[str, DeploymentOption]] = {}

    def score(point: tuple[int, ...]) -> tuple[float, float]:
        built[point] = candidate(grid, options, point, cache)
        total, _, throttled, capacity, used, _ = pricer.price(built[point])
        measures = limits.measures(total[None], throttled[None], pricer.requests, capacity[None], used[None])
        update(1)
        return float(limits.violation(measures)[0]), float(goal(total[None])[0])

    trace = pattern_search([len(axis.values) for axis in grid.axes], score, budget)
    if not trace.converged:
        warnings.warn(f"method='refine' priced max_candidates={budget:,} candidates before converging: the plan "
                      f"chosen, {grid.assignment(trace.best)}, is the best of those; raise max_candidates to "
                      "search on", UserWarning, stacklevel=3)
    return trace.points, [built[p] for p in trace.points], trace.converged


def _target(options: Mapping[str, DeploymentOption], grid: Grid, option: str | None) -> str:
    """The option whose cost is optimised: ``option``, or the one root that uses every
    searched option."""
    searched = grid.options
    if option is not None:
        if option not in options:
            raise ParameterError("option", f"must name one of the options {sorted(options)}", option)
        missing = [name for name in searched if name not in uses(options, option)]
        if missing:
            raise ParameterError("option", f"must name an option that uses every searched option: options"
                                 f"[{option!r}] does not refer to {missing}, so its cost does not depend on them",
                                 option)
        return option
    referred = {name for root in options for name in uses(options, root) if name != root}
    roots = [name for name in options if name not in referred and all(s in uses(options, name) for s in searched)]
    if len(roots) != 1:
        raise ParameterError("option", f"must name the option whose cost to optimise (the options that use every "
                             f"searched option {searched} and that no other option uses: {roots})", option)
    return roots[0]


def _decide(ev: Evaluation, grid: Grid, points: list[tuple[int, ...]], goal: Objective, tail: Objective,
            limits: Constraints, target: str) -> tuple[xr.Dataset, int]:
    """Choose among the candidates priced (``points`` of ``grid``), and label their
    numbers as the result Dataset."""
    value, mean, tail_value = goal(ev.total), ev.total.mean(axis=1), tail(ev.total)
    measures = limits.measures(ev.total, ev.throttled, ev.requests, ev.capacity_cost, ev.used_cost)
    violation = limits.violation(measures)
    feasible = violation == 0.0
    pool = feasible if feasible.any() else violation == violation.min()
    best = int(np.argmin(np.where(pool, value, np.inf)))
    if not feasible.any():
        warnings.warn(
            f"no candidate meets the constraints ({'; '.join(limits.describe())}): the least violating one is "
            f"chosen, {grid.assignment(points[best])} (violation {violation[best]:.4g}: "
            f"throttled share {measures['throttled_share'][best]:.4g}, capacity utilisation "
            f"{measures['utilisation'][best]:.4g}"
            + (f", P(total cost > budget) {measures['budget_exceedance'][best]:.4g}" if limits.budget else "")
            + ")", UserWarning, stacklevel=3)
    chosen = ev.total[best]
    totals_in_pool = np.where(pool[:, None], ev.total, np.inf)
    perfect = totals_in_pool.min(axis=0)
    monthly_in_pool = np.where(pool[:, None, None], ev.monthly, np.inf)
    flexible = monthly_in_pool.min(axis=0).sum(axis=1)
    last_best = monthly_in_pool.argmin(axis=0)  # [T, M]: each month's cheapest candidate
    trials = np.arange(ev.total.shape[1])
    adaptive = ev.monthly[best, :, 0].copy()
    for m in range(1, ev.monthly.shape[2]):
        adaptive += ev.monthly[last_best[:, m - 1], trials, m]
    frontier = _frontier(mean, tail_value, pool)
    chosen_by_month = ev.monthly[best].sum(axis=1)  # its total, summed as the flexible plans are

    usd = "USD"
    def var(dims: tuple[str, ...], values: Any, units: str, long_name: str) -> xr.Variable:
        return xr.Variable(dims, values, {"units": units, "long_name": long_name})

    ct = ("candidate", "trial")
    with np.errstate(invalid="ignore", divide="ignore"):
        utilisation = np.where(ev.capacity_cost > 0.0, ev.used_cost / ev.capacity_cost, np.nan)
    data = {
        "total_cost": var(ct, ev.total, usd, f"Total cost of {target!r} over the horizon"),
        "spill_cost": var(ct, ev.spill, usd, "Cost paid to fallbacks (spilled demand)"),
        "throttled_requests": var(ct, ev.throttled, "queries", "Queries no capacity served (throttled)"),
        "capacity_cost": var(ct, ev.capacity_cost, usd, "Cost of capacity (units, GPUs, overheads)"),
        "unused_capacity_cost": var(ct, ev.capacity_cost - ev.used_cost, usd, "Cost of capacity left unused"),
        "utilisation": var(ct, utilisation, "1", "Share of the capacity cost that served demand"),
        "monthly_cost": var(("candidate", "trial", "month"), ev.monthly, usd, "Cost per calendar month (UTC)"),
        "requests": var(("trial",), ev.requests, "queries", "Queries arriving over the horizon"),
        "objective": var(("candidate",), value, usd, f"Objective: {goal.label} of total cost"),
        "mean_cost": var(("candidate",), mean, usd, "Mean total cost over trials"),
        "tail_cost": var(("candidate",), tail_value, usd, f"{tail.label} of total cost over trials"),
        "throttled_share": var(("candidate",), measures["throttled_share"], "1",
                               "Share of all requests throttled"),
        "capacity_utilisation": var(("candidate",), measures["utilisation"], "1",
                                    "Share of the capacity cost that served demand, all trials"),
        "violation": var(("candidate",), violation, "1", "How far the constraints are missed (0: met)"),
        "feasible": var(("candidate",), feasible, "1", "Meets the constraints"),
        "on_frontier": var(("candidate",), frontier, "1", f"On the efficient frontier of mean and {tail.label}"),
        "chosen_cost": var(("trial", "time"), ev.per_bin(best), usd, "Cost of the chosen plan per bin"),
        "perfect_cost": var(("trial",), perfect, usd, "Total cost of the trial's cheapest candidate"),
        "flexible_cost": var(("trial",), flexible, usd, "Total cost re-sized each month to that month's best"),
        "adaptive_cost": var(("trial",), adaptive, usd, "Total cost re-sized each month to last month's best"),
        "regret": var(("trial",), chosen - perfect, usd, "Chosen plan's cost above the trial's cheapest candidate"),
    }
    if limits.budget is not None:
        data["budget_exceedance"] = var(("candidate",), measures["budget_exceedance"], "1",
                                        f"Share of trials with total cost above {limits.budget[0]:,.2f} USD")
    coords: dict[str, Any] = {
        "candidate": np.arange(ev.total.shape[0]),
        "trial": ev.trial_ids,
        "time": ev.bin_starts,
        "month": ev.month_starts,
    }
    for p in grid.parameters:
        coords[p.name] = ("candidate", _coordinate([grid.parameter_values(pt)[p.name] for pt in points]),
                          {"long_name": f"Searched parameter {p.name}"})
    if ev.draws:
        names = list(ev.draws)
        coords["parameter"] = names
        data["uncertain"] = var(("trial", "parameter"), np.stack([ev.draws[n] for n in names], axis=1), "",
                                "Value each trial drew for each uncertain parameter")
    attrs = {
        "title": "costsim optimize",
        "option": target,
        "objective": goal.label,
        "objective_spec": json.dumps(goal.spec),
        "tail": tail.label,
        "tail_spec": json.dumps(tail.spec),
        "constraints": json.dumps(limits.spec),
        "constraints_text": json.dumps(limits.describe()),
        "search": json.dumps({key_text(a.key): [list(v) if isinstance(a.key, tuple) else v[0] for v in a.values]
                              for a in grid.axes}, default=_jsonable),
        "parameters": json.dumps([p.name for p in grid.parameters]),
        "best": best,
        "value_of_information": float(np.mean(chosen - perfect)),
        "value_of_flexibility": float(np.mean(chosen_by_month - flexible)),
        "value_of_adaptation": float(np.mean(chosen_by_month - adaptive)),
        "seed": ev.seed,
        "costsim_version": __version__,
    }
    return xr.Dataset(data, coords=coords, attrs=attrs), best


def _frontier(mean: np.ndarray, tail: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """Candidates of ``pool`` that no other candidate of ``pool`` beats on both measures
    (at most as high on both, lower on one)."""
    out = np.zeros(mean.shape[0], dtype=bool)
    order = [i for i in np.lexsort((tail, mean)) if pool[i]]  # by mean, then tail
    lowest = np.inf
    for i in order:
        if tail[i] < lowest:
            out[i] = True
            lowest = tail[i]
    # equal (mean, tail) pairs: all or none
    for i in order:
        if not out[i]:
            twins = pool & out & (mean == mean[i]) & (tail == tail[i])
            out[i] = bool(twins.any())
    return out


def _coordinate(values: list[Any]) -> np.ndarray:
    if all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in values):
        return np.asarray(values)
    return np.asarray([_text(v) for v in values], dtype=str)


def _text(value: Any) -> str:
    if isinstance(value, tuple):
        return ", ".join(_text(v) for v in value)
    return str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return str(value)
