"""Turns per run of a conversation: a Geometric, or a hazard per turn where the log rejects it.

A conversation's cost grows with the square of its turns (each turn re-sends the
ones before), so the spread of turns per run matters, not only their mean: a
Geometric with the right mean but the wrong spread misprices conversations
(five turns every time: ``E[T**2]`` is 25; a Geometric of mean 5 says 45).

The runs of a log are right-censored (a run still going when the log ends shows
only its first turns).  At each turn ``k`` a run *at risk* either ended there
(a complete run of ``k`` turns) or went on (a run of more than ``k`` logged
turns); a censored run of ``k`` logged turns is at risk up to ``k - 1`` only.
The hazard ``h_k`` (ended / at risk) is the probability that a run that reached
turn ``k`` ends there.  A Geometric is one hazard for every turn; its maximum
likelihood ``p`` is all runs ended over all at risk.

The Geometric is tested against a hazard per turn (turns with at least
:data:`MIN_AT_RISK` runs at risk each; later turns share one hazard, a
geometric tail) by the likelihood ratio, chi-squared with one degree of freedom
per extra hazard.  Below :data:`TEST_LEVEL` the turns are the hazards'
distribution (the discrete Kaplan-Meier estimate with that tail), represented
as an :class:`~costsim.Empirical` of :data:`QUANTILES` equally spaced
quantiles.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy import stats

from .._limits import MAX_STEPS
from ..traffic.distributions import Empirical, Geometric

__all__ = ["MIN_AT_RISK", "QUANTILES", "TEST_LEVEL", "TurnsFit", "fit_turns"]

TEST_LEVEL = 0.01
"""Level of the likelihood-ratio test of a Geometric against a hazard per turn."""

MIN_AT_RISK = 20
"""Fewest runs at risk at a turn for a hazard of its own; later turns share one."""

QUANTILES = 1000
"""Values of the :class:`~costsim.Empirical` of turns that are not Geometric: the
distribution's quantiles at ``(i + 0.5) / QUANTILES``."""

_BOOTSTRAP = 200  # resamples of the runs for the standard error of the mean of the hazards' distribution


@dataclasses.dataclass(frozen=True)
class TurnsFit:
    """Turns per run fitted to a log's runs (see :mod:`costsim.calibrate.turns`).

    Attributes
    ----------
    distribution : Geometric or Empirical
        Turns per run: the Geometric, or the hazards' distribution where the test rejects it.
    geometric : Geometric
        The Geometric's maximum-likelihood fit (with censoring).
    p_sd : float
        Standard error of its ``p`` (observed information).
    test : float
        p-value of the Geometric against a hazard per turn (NaN where there is one turn to test).
    mean_sd : float
        Standard error of the mean of ``distribution`` (delta method for the Geometric, a bootstrap
        over runs for the hazards).
    """

    distribution: Geometric | Empirical
    geometric: Geometric
    p_sd: float
    test: float
    mean_sd: float


def fit_turns(turns: np.ndarray, censored: np.ndarray, *, seed: int = 0) -> TurnsFit:
    """Fit turns per run to the logged turns of runs (``censored``: may go on after the log).

    Parameters
    ----------
    turns : numpy.ndarray
        Logged turns of each run (>= 1).
    censored : numpy.ndarray
        Whether each run may go on after the log (at least its logged turns).
    seed : int
        Seed of the bootstrap of the standard error of the hazards' mean.

    Returns
    -------
    TurnsFit

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> geometric = fit_turns(rng.geometric(0.3, 2000), np.zeros(2000, dtype=bool))
    >>> type(geometric.distribution).__name__, round(geometric.distribution.p, 2), geometric.test > 0.01
    ('Geometric', 0.3, True)
    >>> five = fit_turns(np.full(500, 5), np.zeros(500, dtype=bool))  # five turns every time
    >>> type(five.distribution).__name__, five.distribution.mean(), five.test < 1e-10
    ('Empirical', 5.0, True)
    """
    turns = np.asarray(turns, dtype=np.int64)
    censored = np.asarray(censored, dtype=bool)
    ended, at_risk = _hazard_counts(turns, censored)
    complete, exposure = float(ended.sum()), float(at_risk.sum())
    p = complete / exposure
    info = complete / p**2 + ((exposure - complete) / (1.0 - p) ** 2 if p < 1.0 else 0.0)
    geometric = Geometric(p)
    p_sd = 1.0 / math.sqrt(info)
    geometric_fit = TurnsFit(geometric, geometric, p_sd, math.nan, p_sd / p**2)
    last = _pooled_from(at_risk)
    if last <= 1 or ended[last - 1:].sum() == 0:  # one hazard to test, or a tail no run was seen to end
        return geometric_fit
    hazards = _hazards(ended, at_risk, last)
    ratio = 2.0 * (_loglik(ended[:last - 1], at_risk[:last - 1]).sum()
                   + _loglik(ended[last - 1:].sum(), at_risk[last - 1:].sum()) - _loglik(complete, exposure))
    test = float(stats.chi2.sf(max(ratio, 0.0), last - 1))
    if test >= TEST_LEVEL:
        return dataclasses.replace(geometric_fit, test=test)
    rng = np.random.default_rng(seed)
    means = []
    for _ in range(_BOOTSTRAP):
        pick = rng.integers(0, turns.size, turns.size)
        b_ended, b_at_risk = _hazard_counts(turns[pick], censored[pick], size=ended.size)
        if b_ended[last - 1:].sum() > 0:
            means.append(_mean(_hazards(b_ended, b_at_risk, last)))
    return TurnsFit(_quantile_distribution(hazards), geometric, p_sd, test, float(np.std(means, ddof=1)))


def _hazard_counts(turns: np.ndarray, censored: np.ndarray, size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per turn k = 1, 2, ... (index k - 1): runs that ended at k, and runs at risk at k (ended there, or
    logged beyond it)."""
    size = int(turns.max()) if size is None else size
    ended = np.bincount(turns[~censored] - 1, minlength=size)[:size]
    beyond = turns.size - np.cumsum(np.bincount(turns - 1, minlength=size)[:size])  # runs logged beyond turn k
    return ended.astype(float), (ended + beyond).astype(float)


def _pooled_from(at_risk: np.ndarray) -> int:
    """The turn from which one hazard is shared: the last turn with MIN_AT_RISK runs at risk
    (at risk never grows with the turn)."""
    return int(np.count_nonzero(at_risk >= MIN_AT_RISK))


def _hazards(ended: np.ndarray, at_risk: np.ndarray, last: int) -> np.ndarray:
    """Hazards of turns 1 .. last - 1, then the shared hazard of turns >= last."""
    own = np.divide(ended[:last - 1], at_risk[:last - 1], out=np.ones(last - 1), where=at_risk[:last - 1] > 0)
    return np.r_[own, ended[last - 1:].sum() / at_risk[last - 1:].sum()]


def _loglik(ended: np.ndarray | float, at_risk: np.ndarray | float) -> np.ndarray:
    """Binomial log-likelihood at the maximum, ``d log(d / n) + (n - d) log(1 - d / n)`` (0 log 0 = 0)."""
    d = np.asarray(ended, dtype=float)
    n = np.asarray(at_risk, dtype=float)
    h = np.divide(d, n, out=np.zeros_like(d), where=n > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(d > 0, d * np.log(h), 0.0) + np.where(n - d > 0, (n - d) * np.log1p(-h), 0.0)


def _survival(hazards: np.ndarray) -> np.ndarray:
    """P(T >= k) for k = 1 .. len(hazards): the product of the hazards' complements before k."""
    return np.r_[1.0, np.cumprod(1.0 - hazards[:-1])]


def _mean(hazards: np.ndarray) -> float:
    """E[T] = sum over k of P(T >= k); beyond the last hazard's turn a geometric tail."""
    reach = _survival(hazards)
    return float(reach[:-1].sum() + reach[-1] / hazards[-1])


def _quantile_distribution(hazards: np.ndarray) -> Empirical:
    """The hazards' distribution of turns as its QUANTILES equally spaced quantiles (at most MAX_STEPS)."""
    reach = _survival(hazards)
    pmf = reach * hazards  # P(T = k) for k < last; for k >= last, the tail continues geometrically
    tail = reach[-1] * hazards[-1] * (1.0 - hazards[-1]) ** np.arange(1, MAX_STEPS - hazards.size + 1)
    cdf = np.cumsum(np.r_[pmf, tail])
    q = (np.arange(QUANTILES) + 0.5) / QUANTILES
    return Empirical(np.minimum(np.searchsorted(cdf, q * cdf[-1]) + 1, MAX_STEPS).astype(float))
