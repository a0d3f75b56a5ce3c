"""Truncated: a distribution conditioned to lie at or below a bound.

Unlike :class:`~costsim.Capped` (``min(X, upper)``, which piles the mass above
``upper`` into a point mass there), :class:`Truncated` removes that mass and
rescales the rest: ``P(Y <= x) = P(X <= x) / P(X <= upper)``.  Calibration uses
it for the body of a token distribution whose tail above a threshold is a
generalized Pareto (:mod:`costsim.calibrate.tails`).

The kernel has no truncation of its own: a truncated distribution is lowered as
its quantile function interpolated linearly between :data:`PIECES` + 1
quantiles at equal steps of probability, a mixture of :data:`PIECES` uniforms
(``MIXTURE`` of ``MIXTURE`` of ``UNIFORM``: the values go into the parameter
vector, so a body with uncertain parameters lowers to the same layout in every
trial), and :meth:`Truncated.sample` draws from the same pieces, so the
simulation samples exactly what ``sample`` does.  Each piece holds its ``1 /
PIECES`` of the probability (to the resolution of a CDF tabulated on
:data:`GRID` points); the support is bounded above, so no tail is lost.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import kernels as K
from .._model import request_field
from .distributions import Distribution, DistTable, _in_unit, _MomentsFromPartial

__all__ = ["GRID", "PIECES", "Truncated"]

_GROUP = 16
PIECES = _GROUP * _GROUP
"""Uniform pieces a :class:`Truncated` is sampled from (in the kernel and in ``sample``): 16
groups of 16, so that picking one takes two short scans."""

GRID = 4097
"""Points the CDF is tabulated on to find the pieces' ends."""


@dataclasses.dataclass(frozen=True)
class Truncated(_MomentsFromPartial, Distribution):
    """``X`` given ``X <= upper``: the mass above ``upper`` is removed, the rest rescaled.

    Parameters
    ----------
    dist : Distribution
        The untruncated distribution (request level).
    upper : float
        The bound; ``dist`` must have positive probability at or below it.

    Examples
    --------
    >>> from costsim import LogNormal
    >>> d = Truncated(LogNormal(mu=6.0, sigma=1.5), upper=4096.0)
    >>> float(d.cdf(4096.0)), d.support()[1]
    (1.0, 4096.0)
    >>> round(float(d.cdf(403.4)), 4)  # P(X <= e**6) / P(X <= 4096) = 0.5 / 0.9388
    0.5326
    >>> bool(d.sample(10_000, rng=0).max() <= 4096.0)
    True
    """

    dist: Distribution = request_field()
    upper: float

    def _validate(self) -> None:
        if not isinstance(self.dist, Distribution):
            self._fail("dist", "must be a Distribution", self.dist)
        upper = self._checked("upper", self.upper)
        object.__setattr__(self, "upper", upper)
        if isinstance(upper, float) and not self.dist._uncertain() and not float(self.dist.cdf(upper)) > 0.0:
            self._fail("upper", f"must have probability > 0 at or below it under dist ({self.dist!r})", upper)

    def _mass(self) -> float:
        """``P(X <= upper)``."""
        self._check_resolved()
        return float(self.dist.cdf(self.upper))

    @functools.cached_property
    def _knots(self) -> np.ndarray:
        """The quantiles at probabilities ``i / PIECES``, ``i = 0 ... PIECES`` (read-only).

        Computed by inverting the CDF tabulated on :data:`GRID` points (geometric
        from ``upper * 1e-9`` where the support starts at 0 or above; linear from
        the quantile at probability 1e-9 otherwise): a few CDF evaluations instead
        of a bisection per quantile, since a body with uncertain parameters is
        lowered anew in every trial.
        """
        lo = self.support()[0]
        if lo >= 0.0 and self.upper > 0.0:
            grid = np.geomspace(max(lo, self.upper * 1e-9), self.upper, GRID)
            grid = np.r_[lo, grid] if lo < grid[0] else grid
        else:
            if not math.isfinite(lo):
                lo = float(self.dist.ppf(1e-9 * self._mass()))
            grid = np.linspace(lo, self.upper, GRID)
        cdf = np.maximum.accumulate(np.asarray(self.cdf(grid), dtype=float))
        cdf[-1] = 1.0
        x = np.interp(np.arange(PIECES + 1) / PIECES, cdf, grid)
        x.flags.writeable = False
        return x

    def _draw(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        x = self._knots
        piece = rng.integers(PIECES, size=shape)
        return x[piece] + (x[piece + 1] - x[piece]) * rng.random(shape)

    def cdf(self, x: Any) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return np.where(x < self.upper, np.asarray(self.dist.cdf(np.minimum(x, self.upper)), dtype=float)
                        / self._mass(), 1.0)

    def ppf(self, q: Any) -> np.ndarray:
        q = np.asarray(q, dtype=float)
        inside = np.clip(np.where(np.isnan(q), 0.0, q), 0.0, 1.0)
        return _in_unit(q, np.minimum(self.dist.ppf(inside * self._mass()), self.upper))

    def support(self) -> tuple[float, float]:
        lo, hi = self.dist.support()
        return lo, min(hi, self.upper)

    def _partial(self, f: Callable[[Any], Any], c: float) -> float:
        return self.dist._partial(f, min(c, self.upper)) / self._mass()

    def _lower(self, table: DistTable) -> int:
        self._check_resolved()
        x = self._knots.tolist()
        steps = (np.arange(1, _GROUP + 1) / _GROUP).tolist()  # exact in binary: the last is 1.0
        groups = []
        for g in range(_GROUP):
            pieces = [table.add(K.UNIFORM, [x[i], x[i + 1]]) for i in range(g * _GROUP, (g + 1) * _GROUP)]
            groups.append(table.add(K.MIXTURE, [_GROUP, *steps, *pieces]))
        return table.add(K.MIXTURE, [_GROUP, *steps, *groups])
