"""Upper tails of token counts: a generalized Pareto over a high threshold, and physical limits.

A family fitted to a whole column (a mixture of lognormals, say) describes its
body well but extrapolates its tail by the shape of the body: a lognormal
component runs on far beyond anything the log shows or the model accepts.
Extreme-value theory gives the principled extrapolation (peaks over threshold,
Pickands-Balkema-de Haan): above a high threshold ``u`` the excesses of almost
any distribution are close to a generalized Pareto distribution (GPD).  So:

* the GPD of the rows ``>= u`` is fitted by maximum likelihood on the integer
  counts (a count ``k`` is a draw rounding to it: ``X = u - 0.5 + Z`` with ``Z ~
  GPD(scale, shape)``), and its goodness of fit is the KS distance between those
  rows and the rounded GPD (:attr:`Tail.ks`);
* the threshold ``u`` is the ``1 - share`` quantile for the shares of
  :data:`TAIL_SHARES` in turn (at least :data:`MIN_TAIL_ROWS` rows above it):
  the first whose GPD passes the KS test at 5 % (:attr:`Tail.fits`) with a
  finite mean (shape < 1: a cost forecast needs one) (:func:`choose_tail`); a
  column too short for any threshold, or whose excesses no such GPD describes,
  keeps the family's own tail;
* the family is fitted with the rows ``>= u`` censored (they only tell ``X >=
  u``) and :class:`~costsim.Truncated` below ``u - 0.5``; the column's
  distribution is the mixture of that body (weight ``1 - share``) and the GPD
  (weight ``share``, the share of rows ``>= u``);
* a physical limit (a model's context window, an output's ``max_tokens``)
  caps the result: :func:`with_limit` wraps it in :class:`~costsim.Capped`.

Capped, not truncated, at a limit: an output that would run past ``max_tokens``
is cut there (the pile at ``max_tokens`` real logs show), and a prompt that
would overflow the context window is trimmed to it by the client (chat
histories are) or refused; the cap bills it at the limit, an upper bound, and
the mass it moves there is the GPD's probability beyond the limit, reported as
:attr:`Tail.beyond_limit`.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
from scipy import optimize

from ..traffic.distributions import Capped, Distribution, GeneralizedPareto, Mixture
from ..traffic.truncated import Truncated

__all__ = ["MIN_TAIL_ROWS", "TAIL_SHARES", "Tail", "choose_tail", "fit_tail", "splice", "tail_threshold",
           "with_limit"]

#: Shares of rows above the tail threshold tried in turn (each raised to MIN_TAIL_ROWS rows).
TAIL_SHARES = (0.02, 0.01, 0.005)

#: Fewest rows above the threshold a tail is fitted to; a column with fewer rows
#: than ``MIN_TAIL_ROWS / MAX_TAIL_SHARE`` keeps its family's own tail.
MIN_TAIL_ROWS = 30

#: Largest share of rows the tail may take (for short columns).
MAX_TAIL_SHARE = 0.1


@dataclasses.dataclass(frozen=True)
class Tail:
    """A generalized Pareto tail over a threshold.

    Attributes
    ----------
    threshold : int
        ``u``: the rows ``>= u`` are the tail.
    share : float
        Share of the column's rows ``>= u`` (the tail's weight).
    scale, shape : float
        Of the GPD of ``X - (u - 0.5)``; ``shape > 0``: a power law with tail
        index ``1 / shape``; ``shape < 0``: an upper end at ``u - 0.5 - scale / shape``.
    rows : int
        Rows in the tail.
    ks : float
        KS distance between those rows and the rounded GPD (goodness of fit; the
        5 % critical value of a continuous KS test is about ``1.36 / sqrt(rows)``).
    beyond_limit : float
        Probability the tail puts beyond the column's limit, moved to the limit by
        the cap (0 without a limit).
    """

    threshold: int
    share: float
    scale: float
    shape: float
    rows: int
    ks: float
    beyond_limit: float = 0.0

    @property
    def distribution(self) -> GeneralizedPareto:
        """The GPD of the tail's values (before rounding)."""
        return GeneralizedPareto(self.threshold - 0.5, self.scale, self.shape)

    @property
    def critical_ks(self) -> float:
        """The 5 % critical value of the KS distance for :attr:`rows` (continuous data)."""
        return 1.358 / math.sqrt(self.rows)

    @property
    def fits(self) -> bool:
        """Whether the GPD passes the KS test at 5 % (``ks <= critical_ks``)."""
        return self.ks <= self.critical_ks


def choose_tail(x: np.ndarray, *, limit: float | None = None) -> Tail | None:
    """The tail of a column: the first threshold of :data:`TAIL_SHARES` whose GPD
    fits (:attr:`Tail.fits`) and has a finite mean (shape < 1); None where none
    does (the family keeps its own tail) or the column is too short.

    A GPD that fails the KS test at every threshold describes the excesses no
    better than the family does; one with shape >= 1 (fitted to a few dozen
    clumped rows, say) has an infinite mean and would put most of a forecast's
    cost in draws far beyond anything logged.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = choose_tail(np.round(rng.lognormal(5.0, 1.0, 20_000)))
    >>> t.share, t.fits, -0.1 < t.shape < 0.4  # a lognormal's excesses: GPD shape near 0
    (0.02, True, True)
    """
    tried = []
    for share in TAIL_SHARES:
        u = tail_threshold(x, share)
        if u is None or any(t.threshold == u for t in tried):
            continue
        tried.append(fit_tail(x, u, limit=limit))
        if tried[-1].fits and tried[-1].shape < 1.0:
            return tried[-1]
    return None


def tail_threshold(x: np.ndarray, share: float = TAIL_SHARES[0]) -> int | None:
    """The threshold ``u`` of a column's tail, or None where the column is too short for one.

    ``u`` is one above the ``1 - share`` quantile, ``share`` raised where needed to leave
    :data:`MIN_TAIL_ROWS` rows above it, at most :data:`MAX_TAIL_SHARE`; ties at the
    quantile stay in the body.

    Examples
    --------
    >>> tail_threshold(np.arange(10_000)), tail_threshold(np.arange(1000))  # 2 %; 30 rows
    (9800, 970)
    >>> tail_threshold(np.arange(100)) is None
    True
    """
    x = np.asarray(x)
    share = max(share, MIN_TAIL_ROWS / max(x.size, 1))
    if share > MAX_TAIL_SHARE:
        return None
    u = math.floor(float(np.quantile(x, 1.0 - share))) + 1
    return u if np.count_nonzero(x >= u) >= MIN_TAIL_ROWS else None


def _neg_loglik(theta: np.ndarray, k: np.ndarray, counts: np.ndarray) -> float:
    """Minus the log-likelihood of excesses ``k`` (integers >= 0, seen ``counts`` times):
    ``P(k <= Z < k + 1)`` with ``Z ~ GPD(exp(theta[0]), theta[1])``."""
    scale, shape = math.exp(theta[0]), float(theta[1])
    if not (-1.0 < shape < 5.0):
        return math.inf
    with np.errstate(all="ignore"):
        p = _gpd_sf(k, scale, shape) - _gpd_sf(k + 1.0, scale, shape)
        total = float(np.dot(counts, np.log(np.maximum(p, 1e-300))))
    return -total if math.isfinite(total) else math.inf


def _gpd_sf(z: np.ndarray, scale: float, shape: float) -> np.ndarray:
    """``P(Z > z)`` of a GPD at ``z >= 0`` (scipy's ``genpareto.sf``, without its per-call overhead)."""
    if abs(shape) < 1e-9:
        return np.exp(-z / scale)
    base = 1.0 + shape * z / scale
    return np.where(base > 0.0, np.power(np.maximum(base, 1e-300), -1.0 / shape), 0.0)


def fit_tail(x: np.ndarray, threshold: int, *, limit: float | None = None) -> Tail:
    """Fit a generalized Pareto to the rows ``>= threshold`` by maximum likelihood.

    Parameters
    ----------
    x : array of int
        The column (token counts).
    threshold : int
        ``u`` (see :func:`tail_threshold`); at least :data:`MIN_TAIL_ROWS` rows must reach it.
    limit : float, optional
        The column's limit, for :attr:`Tail.beyond_limit`.

    Returns
    -------
    Tail

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = np.round(100 * rng.pareto(2.0, 20_000))  # Lomax: a GPD of shape 0.5
    >>> t = fit_tail(x, tail_threshold(x))
    >>> abs(t.shape - 0.5) < 0.15, t.ks < t.critical_ks
    (True, True)
    """
    x = np.asarray(x)
    tail = x[x >= threshold]
    if tail.size < MIN_TAIL_ROWS:
        raise ValueError(f"fit_tail: needs at least {MIN_TAIL_ROWS} rows >= the threshold {threshold}; got {tail.size}")
    k, counts = np.unique(tail - threshold, return_counts=True)
    k, counts = k.astype(float), counts.astype(float)
    mean = float(np.dot(k, counts) / counts.sum()) + 0.5
    best = None
    for shape0 in (0.1, 0.4, -0.1):
        start = np.array([math.log(max(mean * (1.0 - shape0), 0.5)), shape0])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            res = optimize.minimize(_neg_loglik, start, args=(k, counts), method="Nelder-Mead",
                                    options={"xatol": 1e-6, "fatol": 1e-9, "maxiter": 2000})
        if math.isfinite(res.fun) and (best is None or res.fun < best.fun):
            best = res
    if best is None:
        raise ValueError(f"fit_tail: no generalized Pareto fits the {tail.size} rows >= {threshold}")
    scale, shape = math.exp(best.x[0]), float(best.x[1])
    gpd = GeneralizedPareto(threshold - 0.5, scale, shape)
    # KS of the rounded GPD against the tail rows: both are step functions on the integers
    values, n_at = np.unique(tail, return_counts=True)
    at_most = np.cumsum(n_at) / tail.size
    model = np.asarray(gpd.cdf(values + 0.5), dtype=float)
    ks = float(np.max(np.abs(np.r_[model - at_most, np.asarray(gpd.cdf(values - 0.5)) - (at_most - n_at / tail.size)])))
    beyond = 0.0 if limit is None else float(1.0 - gpd.cdf(limit))
    return Tail(int(threshold), round(tail.size / x.size, 6), scale, shape, int(tail.size), ks, beyond)


def splice(body: Distribution, tail: Tail) -> Mixture:
    """``body`` below the tail's threshold (:class:`~costsim.Truncated` at ``u - 0.5``), the GPD above it.

    Examples
    --------
    >>> from costsim import LogNormal
    >>> d = splice(LogNormal(6.0, 1.0), Tail(2000, 0.02, 800.0, 0.2, 400, 0.01))
    >>> round(float(d.cdf(1999.5)), 6)  # the body's share below the threshold
    0.98
    """
    return Mixture((Truncated(body, tail.threshold - 0.5), tail.distribution), (1.0 - tail.share, tail.share))


def with_limit(dist: Distribution, limit: float | None) -> Distribution:
    """``dist`` capped at ``limit`` (unchanged where None, or where its support ends below it).

    Examples
    --------
    >>> from costsim import LogNormal
    >>> with_limit(LogNormal(6.0, 1.0), 8192).upper
    8192.0
    """
    if limit is None or (not dist._uncertain() and dist.support()[1] <= limit):
        return dist
    return Capped(dist, float(limit))
