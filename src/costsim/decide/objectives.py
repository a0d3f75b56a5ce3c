"""Objectives and constraints of :func:`costsim.optimize`, over the trials of each candidate.

An objective turns a candidate's total cost in each trial (the sample of its
cost distribution) into one number to minimise:

=============================  =====================================================
spec                           value
=============================  =====================================================
``"mean"``                     the mean over trials
``("quantile", q)``            the ``q``-quantile (numpy's default, linear
                               interpolation between order statistics)
``("cvar", a)``                the conditional value at risk at level ``a``: the
                               mean of the worst ``1 - a`` share of trials
                               (Rockafellar-Uryasev: ``min_z z + E[(X - z)+] /
                               (1 - a)``; with ``T`` equally likely trials the
                               boundary trial is weighted fractionally)
``("mean+cvar", lam, a)``      ``mean + lam x CVaR_a``, ``lam >= 0``
=============================  =====================================================

Lists work as well as tuples (``["cvar", 0.95]``, as a scenario file holds them).

Constraints (a mapping; every entry optional):

``"throttled_share": x``
    the share of all requests (over the trials and the horizon) that the plan
    throttles (no capacity and no fallback served them) is at most ``x``;
``"budget": (usd, p)``
    the share of trials whose total cost exceeds ``usd`` is at most ``p``;
``"utilisation": u``
    the plan's capacity utilisation, the share of the money paid for capacity
    that served demand (used capacity cost / capacity cost, over all trials), is
    at least ``u``; a plan without capacity cost meets it.

A candidate's *violation* is the sum of how far it misses each constraint, each in
its own unit (a share, a probability, a fraction): 0 for a feasible candidate.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._validation import ParameterError, check_number

__all__ = ["Constraints", "Objective", "cvar", "parse_constraints", "parse_objective"]


def cvar(x: np.ndarray, level: float, axis: int = -1) -> np.ndarray:
    """Conditional value at risk of the equally likely samples ``x`` along ``axis``.

    The mean of the worst ``1 - level`` share of the samples, the sample at the
    boundary weighted by the part of it inside that share (Rockafellar-Uryasev:
    ``min_z z + mean((x - z)+) / (1 - level)``).  ``level = 0`` gives the mean.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(1.0, 11.0)  # 1 .. 10
    >>> float(cvar(x, 0.8))  # the worst 2 of 10: (9 + 10) / 2
    9.5
    >>> float(cvar(x, 0.75))  # the worst 2.5 of 10: (0.5 x 8 + 9 + 10) / 2.5
    9.2
    >>> float(cvar(x, 0.0)) == float(x.mean())
    True
    """
    x = np.sort(np.moveaxis(np.asarray(x, dtype=np.float64), axis, -1), axis=-1)
    n = x.shape[-1]
    if level <= 0.0:
        return x.mean(axis=-1)
    # sample i (0-based, ascending) covers probability (i/n, (i+1)/n]; the tail is (level, 1]
    lower = np.arange(n) / n
    weight = np.clip(np.minimum(lower + 1.0 / n, 1.0) - np.maximum(lower, level), 0.0, None)
    return (x * weight).sum(axis=-1) / (1.0 - level)


@dataclasses.dataclass(frozen=True)
class Objective:
    """A parsed objective (see :func:`parse_objective`)."""

    kind: str  # "mean", "quantile", "cvar", "mean+cvar"
    level: float | None = None
    weight: float | None = None

    def __call__(self, totals: np.ndarray) -> np.ndarray:
        """The objective of each row of ``totals`` [..., trial]."""
        totals = np.asarray(totals, dtype=np.float64)
        if self.kind == "mean":
            return totals.mean(axis=-1)
        if self.kind == "quantile":
            return np.quantile(totals, self.level, axis=-1)
        if self.kind == "cvar":
            return cvar(totals, self.level)
        return totals.mean(axis=-1) + self.weight * cvar(totals, self.level)

    @property
    def label(self) -> str:
        """``'mean'``, ``'p95'``, ``'CVaR95'``, ``'mean + 0.5 x CVaR95'``."""
        if self.kind == "mean":
            return "mean"
        pct = f"{100 * self.level:g}"
        if self.kind == "mean+cvar":
            return f"mean + {self.weight:g} x CVaR{pct}"
        return f"p{pct}" if self.kind == "quantile" else f"CVaR{pct}"

    @property
    def spec(self) -> str | tuple[Any, ...]:
        """The spec that parses back into this objective."""
        if self.kind == "mean":
            return "mean"
        if self.kind == "mean+cvar":
            return ("mean+cvar", self.weight, self.level)
        return (self.kind, self.level)

    @property
    def tail(self) -> Objective:
        """The tail measure that goes with this objective on a frontier: itself for a
        quantile or a CVaR, the CVaR for mean + CVaR, CVaR95 for the mean."""
        if self.kind in ("quantile", "cvar"):
            return self
        return Objective("cvar", 0.95 if self.level is None else self.level)


KINDS = ("mean", "quantile", "cvar", "mean+cvar")


def parse_objective(objective: Any, name: str = "objective") -> Objective:
    """An :class:`Objective` from its spec (see the module docstring), or a
    :class:`~costsim.ParameterError` naming ``name``, the rule and the value.

    Examples
    --------
    >>> parse_objective(("cvar", 0.95)).label
    'CVaR95'
    >>> parse_objective(["mean+cvar", 0.5, 0.9]).label
    'mean + 0.5 x CVaR90'
    >>> parse_objective(("quantile", 1.5))
    Traceback (most recent call last):
    ...
    costsim._validation.ParameterError: objective[1] (the quantile level) must be in (0, 1); got 1.5
    """
    if isinstance(objective, Objective):
        return objective
    spec = (objective,) if isinstance(objective, str) else objective
    if isinstance(spec, (list, tuple)) and spec and isinstance(spec[0], str):
        kind, args = spec[0].strip().lower(), tuple(spec[1:])
        expected = {"mean": 0, "quantile": 1, "cvar": 1, "mean+cvar": 2}.get(kind)
        if expected is not None and len(args) == expected:
            if kind == "mean":
                return Objective("mean")
            what = "the quantile level" if kind == "quantile" else "the CVaR level"
            level = _level(f"{name}[{len(args)}] ({what})", args[-1], kind == "quantile")
            if kind == "mean+cvar":
                weight = check_number(f"{name}[1] (the weight lambda of the CVaR)", args[0], low=0.0, finite=True)
                return Objective(kind, level, weight)
            return Objective(kind, level)
    raise ParameterError(name, "must be 'mean', ('quantile', q), ('cvar', level) or ('mean+cvar', lam, level)",
                         objective)


def _level(name: str, value: Any, open_low: bool) -> float:
    return check_number(name, value, low=0.0, high=1.0, low_open=open_low, high_open=True)


@dataclasses.dataclass(frozen=True)
class Constraints:
    """Parsed constraints (see :func:`parse_constraints`); None: not constrained."""

    throttled_share: float | None = None
    budget: tuple[float, float] | None = None
    utilisation: float | None = None

    def measures(self, totals: np.ndarray, throttled: np.ndarray, requests: np.ndarray,
                 capacity_cost: np.ndarray, used_cost: np.ndarray) -> dict[str, np.ndarray]:
        """Per candidate: ``throttled_share`` (of all requests), ``utilisation`` (used
        / paid capacity cost; NaN without capacity cost) and, with a budget,
        ``budget_exceedance`` (share of trials above it), from arrays [candidate, trial]
        (``requests`` [trial])."""
        paid = capacity_cost.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = {
                "throttled_share": throttled.sum(axis=1) / max(float(requests.sum()), 1.0),
                "utilisation": np.where(paid > 0.0, used_cost.sum(axis=1) / paid, np.nan),
            }
        if self.budget is not None:
            out["budget_exceedance"] = (totals > self.budget[0]).mean(axis=1)
        return out

    def violation(self, measures: Mapping[str, np.ndarray]) -> np.ndarray:
        """How far each candidate misses the constraints (0: feasible), the misses
        summed, each in its own unit."""
        total = np.zeros(measures["throttled_share"].shape)
        if self.throttled_share is not None:
            total += np.clip(measures["throttled_share"] - self.throttled_share, 0.0, None)
        if self.budget is not None:
            total += np.clip(measures["budget_exceedance"] - self.budget[1], 0.0, None)
        if self.utilisation is not None:
            total += np.clip(self.utilisation - np.nan_to_num(measures["utilisation"], nan=1.0), 0.0, None)
        return total

    @property
    def spec(self) -> dict[str, Any]:
        """The spec that parses back into these constraints."""
        out: dict[str, Any] = {}
        if self.throttled_share is not None:
            out["throttled_share"] = self.throttled_share
        if self.budget is not None:
            out["budget"] = list(self.budget)
        if self.utilisation is not None:
            out["utilisation"] = self.utilisation
        return out

    def describe(self) -> list[str]:
        """One phrase per constraint: ``'throttled share <= 1%'``."""
        out = []
        if self.throttled_share is not None:
            out.append(f"throttled share of requests <= {self.throttled_share:.4g}")
        if self.budget is not None:
            out.append(f"P(total cost > {self.budget[0]:,.2f} USD) <= {self.budget[1]:.4g}")
        if self.utilisation is not None:
            out.append(f"capacity utilisation >= {self.utilisation:.4g}")
        return out


def parse_constraints(constraints: Any, name: str = "constraints") -> Constraints:
    """:class:`Constraints` from a mapping (see the module docstring), or a
    :class:`~costsim.ParameterError` naming the entry, the rule and the value.

    Examples
    --------
    >>> parse_constraints({"throttled_share": 0.01, "budget": (50_000, 0.05)}).describe()
    ['throttled share of requests <= 0.01', 'P(total cost > 50,000.00 USD) <= 0.05']
    >>> parse_constraints({"budget": 50_000})
    Traceback (most recent call last):
    ...
    costsim._validation.ParameterError: constraints['budget'] must be (USD, probability): ...; got 50000
    """
    if constraints is None:
        return Constraints()
    if isinstance(constraints, Constraints):
        return constraints
    if not isinstance(constraints, Mapping):
        raise ParameterError(name, "must be a mapping such as {'throttled_share': 0.01, 'budget': (usd, p), "
                             "'utilisation': 0.5}", constraints)
    unknown = sorted(set(constraints) - {"throttled_share", "budget", "utilisation"})
    if unknown:
        raise ParameterError(name, "must have keys among 'throttled_share', 'budget', 'utilisation'", unknown[0])
    share = constraints.get("throttled_share")
    if share is not None:
        share = check_number(f"{name}['throttled_share']", share, low=0.0, high=1.0)
    utilisation = constraints.get("utilisation")
    if utilisation is not None:
        utilisation = check_number(f"{name}['utilisation']", utilisation, low=0.0, high=1.0)
    budget = constraints.get("budget")
    if budget is not None:
        label = f"{name}['budget']"
        if isinstance(budget, (str, bytes)) or not isinstance(budget, Sequence) or len(budget) != 2:
            raise ParameterError(label, "must be (USD, probability): the total cost exceeds USD in at most that "
                                 "share of trials", budget)
        usd = check_number(f"{label}[0] (USD)", budget[0], low=0.0, finite=True)
        budget = (usd, check_number(f"{label}[1] (probability)", budget[1], low=0.0, high=1.0))
    return Constraints(share, budget, utilisation)
