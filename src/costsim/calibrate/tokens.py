"""Fit token-length distributions to integer token counts.

Candidates: :class:`~costsim.LogNormal`, :class:`~costsim.Gamma`,
:class:`~costsim.Weibull`, :class:`~costsim.GeneralizedPareto` (``loc=0``) and
:class:`~costsim.Mixture` of two or three lognormals (``Mixture2``, ``Mixture3``:
real token columns are multimodal), fitted by maximum likelihood
(``scipy.optimize``: L-BFGS-B from moment or 1-d k-means starting points;
Nelder-Mead where the start has no finite likelihood) and ranked by AIC.

Discreteness.  Token counts are integers and costsim rounds every draw to the
nearest integer, so the likelihood of an observed count ``k`` is the probability
that a draw rounds to it, ``F(k + 0.5) - F(k - 0.5)`` (``F(0.5)`` for 0): the
fitted model is the one the simulation samples, and short counts (code outputs
of 6-10 tokens) are not mistaken for a continuous density.

Caps.  Prompts pile up at a context limit and outputs at ``max_tokens``.  A pile
in the upper tail (by default detected automatically, see :func:`find_pile`) is
treated as censoring: the rows at or above the pile's start ``lo`` only tell that
``X >= lo``, with likelihood ``1 - F(lo - 0.5)``, and the fitted distribution is
wrapped in :class:`~costsim.Capped` at the pile's median value, so the pile
becomes a point mass of the right size.  Rows above the pile (rare prompts past
a soft limit) are folded into the point mass.  All candidates are fitted to the
same censored data, so their AICs compare.

Tails and limits.  Without a pile, the rows above a high threshold are
censored in the same way and the tail above it is a generalized Pareto fitted
to them by maximum likelihood (see :mod:`costsim.calibrate.tails`): the family
describes the body, extreme-value theory the extrapolation.  A known limit
(``limit=``: a context window, ``max_tokens``) caps the distribution there.

Large columns.  The likelihood is evaluated on the distinct counts (with their
multiplicities), so its cost grows with the number of distinct values, not of
rows.  A column of more than :data:`FIT_ROWS` rows is fitted on a random
subsample of ``FIT_ROWS`` rows drawn with ``seed`` (``max_rows=None``: all rows):
for families of 2 to 8 parameters, 200,000 rows pin the parameters to a
fraction of a percent, far inside the bootstrap uncertainty of a real log, while
the starting values and the optimiser's work no longer grow with the log.  The
pile (cap), its censoring threshold and the KS distance use every row.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import optimize, special, stats

from .._validation import ParameterError, check_int
from ..traffic.distributions import (
    Capped,
    Distribution,
    Gamma,
    GeneralizedPareto,
    LogNormal,
    Mixture,
    Normal,
    Weibull,
)
from .tails import Tail, choose_tail, splice, with_limit

__all__ = ["FAMILIES", "FIT_ROWS", "TokenFit", "find_pile", "fit_tokens", "ks_distance"]

#: Fewest rows a family is fitted to, per free parameter.
MIN_ROWS_PER_PARAMETER = 10

#: Most rows the likelihood of a column is maximised on; a larger column is subsampled.
FIT_ROWS = 200_000


@dataclasses.dataclass(frozen=True)
class _Family:
    """A candidate family in an unconstrained parameterisation ``theta``.

    ``log_loc`` lists the entries of ``theta`` that are the log of a component's
    location (``mu`` of a lognormal, log scale otherwise): shifting one by ``d``
    multiplies that component's values by ``exp(d)``.  ``partial`` gives the mean
    below a bound, which the fit matches to the rows' (:func:`_match_mean`).
    """

    name: str
    n_par: int
    cdf_sf: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
    starts: Callable[[np.ndarray], list[np.ndarray]]
    build: Callable[[np.ndarray, Sequence[Distribution | None]], Distribution]
    log_loc: tuple[int, ...]
    partial: Callable[[np.ndarray, float], tuple[float, float]]
    """``(E[X; X <= c], P(X <= c))`` at ``theta`` (closed forms; ``c`` may be infinite)."""


def _ln_cdf_sf(x, mu, sigma):
    with np.errstate(divide="ignore"):
        z = (np.log(np.maximum(x, 0.0)) - mu) / sigma
    return special.ndtr(z), special.ndtr(-z)


def _loc(value: float, shift: Distribution | None, log: bool):
    """A location field: the value, or (with a shift distribution's sd) an uncertain one."""
    if shift is None:
        return value
    return Normal(value, shift.sigma) if log else LogNormal(math.log(value), shift.sigma)


def _lognormal() -> _Family:
    def starts(y):
        return [np.array([y.mean(), math.log(max(y.std(), 1e-3))])]

    def build(t, s):
        return LogNormal(_loc(float(t[0]), s[0], True), math.exp(t[1]))

    return _Family("LogNormal", 2, lambda x, t: _ln_cdf_sf(x, t[0], math.exp(t[1])), starts, build, (0,),
                   lambda t, c: _ln_partial(t[0], math.exp(t[1]), c))


def _ln_partial(mu: float, sigma: float, c: float) -> tuple[float, float]:
    """``(E[X; X <= c], P(X <= c))`` of a lognormal."""
    if c <= 0.0:
        return 0.0, 0.0
    z = (math.log(c) - mu) / sigma
    # in logs: exp(mu + sigma**2 / 2) alone overflows for a wide component whose mass below c is small
    log_below = mu + sigma * sigma / 2.0 + float(special.log_ndtr(z - sigma))
    return (math.exp(log_below) if log_below < 709.0 else math.inf), float(special.ndtr(z))


def _gamma() -> _Family:
    def cdf_sf(x, t):
        a, scale = math.exp(t[0]), math.exp(t[1])
        z = np.maximum(x, 0.0) / scale
        return special.gammainc(a, z), special.gammaincc(a, z)

    def starts(y):
        x = np.exp(y)
        a = max(x.mean() ** 2 / max(x.var(), 1e-9), 1e-2)
        return [np.array([math.log(a), math.log(x.mean() / a)])]

    def build(t, s):
        return Gamma(math.exp(t[0]), _loc(math.exp(t[1]), s[0], False))

    def partial(t, c):
        a, scale = math.exp(t[0]), math.exp(t[1])
        z = max(c, 0.0) / scale
        return a * scale * float(special.gammainc(a + 1.0, z)), float(special.gammainc(a, z))

    return _Family("Gamma", 2, cdf_sf, starts, build, (1,), partial)


def _weibull() -> _Family:
    def cdf_sf(x, t):
        c, scale = math.exp(t[0]), math.exp(t[1])
        z = (np.maximum(x, 0.0) / scale) ** c
        return -np.expm1(-z), np.exp(-z)

    def build(t, s):
        return Weibull(math.exp(t[0]), _loc(math.exp(t[1]), s[0], False))

    def partial(t, c):
        k, scale = math.exp(t[0]), math.exp(t[1])
        z = (max(c, 0.0) / scale) ** k
        return (scale * math.gamma(1.0 + 1.0 / k) * float(special.gammainc(1.0 + 1.0 / k, z)),
                float(-np.expm1(-z)))

    return _Family("Weibull", 2, cdf_sf, lambda y: [np.array([0.0, math.log(np.mean(np.exp(y)))])], build, (1,),
                   partial)


def _genpareto() -> _Family:
    def cdf_sf(x, t):
        d = stats.genpareto(c=t[1], scale=math.exp(t[0]))
        x = np.maximum(x, 0.0)
        return d.cdf(x), d.sf(x)

    def build(t, s):
        return GeneralizedPareto(0.0, _loc(math.exp(t[0]), s[0], False), float(t[1]))

    def partial(t, c):
        scale, shape = math.exp(t[0]), float(t[1])
        if shape < 0.0:
            c = min(c, -scale / shape)  # the upper end
        if math.isinf(c):
            return (scale / (1.0 - shape) if shape < 1.0 else math.inf), 1.0
        # E[X; X <= c] = int_0^c S(x) dx - c S(c), S the survival function
        if shape == 0.0:
            survival, area = math.exp(-c / scale), scale * -math.expm1(-c / scale)
        else:
            base = 1.0 + shape * c / scale
            survival = base ** (-1.0 / shape)
            area = scale * (math.log(base) if shape == 1.0 else (1.0 - base ** (1.0 - 1.0 / shape)) / (1.0 - shape))
        return area - c * survival, 1.0 - survival

    return _Family("GeneralizedPareto", 2, cdf_sf, lambda y: [np.array([float(np.median(y)), 0.2])], build, (0,),
                   partial)


def _kmeans_starts(y: np.ndarray, k: int) -> list[np.ndarray]:
    """Starting points for a k-lognormal mixture: 1-d k-means of the log-values,
    seeded at even and at skewed quantiles; each cluster's mean, sd and share."""
    out = []
    for seeds in (np.linspace(0.1, 0.9, k), np.linspace(0.3, 0.97, k)):
        centre = np.quantile(y, seeds)
        for _ in range(30):
            label = np.argmin(np.abs(y[:, None] - centre[None, :]), axis=1)
            centre = np.array([y[label == j].mean() if np.any(label == j) else centre[j] for j in range(k)])
        share = np.array([np.mean(label == j) for j in range(k)])
        if np.any(share < 0.01):
            continue
        sd = np.array([max(y[label == j].std(), 0.05) for j in range(k)])
        out.append(np.r_[np.column_stack([centre, np.log(sd)]).ravel(), np.log(share[:-1] / share[-1])])
    return out


def _mixture(k: int) -> _Family:
    """``k`` lognormals; ``theta = (mu_1, log sigma_1, ..., mu_k, log sigma_k, a_1, ..., a_{k-1})``
    with weights ``softmax(a_1, ..., a_{k-1}, 0)``."""

    def weights(t):
        a = np.r_[t[2 * k:], 0.0]
        e = np.exp(a - a.max())
        return e / e.sum()

    def cdf_sf(x, t):
        w = weights(t)
        c, s = np.zeros_like(x, dtype=float), np.zeros_like(x, dtype=float)
        for j in range(k):
            cj, sj = _ln_cdf_sf(x, t[2 * j], math.exp(t[2 * j + 1]))
            c += w[j] * cj
            s += w[j] * sj
        return c, s

    def build(t, s):
        comps = tuple(LogNormal(_loc(float(t[2 * j]), s[j], True), math.exp(t[2 * j + 1])) for j in range(k))
        return Mixture(comps, tuple(float(v) for v in weights(t)))

    def partial(t, c):
        parts = [_ln_partial(t[2 * j], math.exp(t[2 * j + 1]), c) for j in range(k)]
        w = weights(t)
        return float(sum(wj * m for wj, (m, _) in zip(w, parts))), float(sum(wj * p for wj, (_, p) in zip(w, parts)))

    return _Family(f"Mixture{k}", 3 * k - 1, cdf_sf, lambda y: _kmeans_starts(y, k), build,
                   tuple(2 * j for j in range(k)), partial)


#: Candidate families by name.
FAMILIES: dict[str, _Family] = {f.name: f for f in (_lognormal(), _gamma(), _weibull(), _genpareto(), _mixture(2), _mixture(3))}


@dataclasses.dataclass(frozen=True)
class Pile:
    """A pile of counts in the upper tail: rows ``>= lo`` are censored, the cap is ``cap``."""

    lo: int
    cap: int
    mass: float


def find_pile(x: np.ndarray, *, min_mass: float = 0.01) -> Pile | None:
    """Find a pile (a cap or a spike) in the upper quarter of integer counts.

    The upper quarter is binned at 1 % steps of log-value; the fullest bin and its
    neighbours holding more than a twentieth of its count (and twice the
    background) form a candidate pile.  It is
    a pile when it holds at least ``min_mass`` of all rows, its peak bin holds
    at least five times the mean count of the bins 5-20 steps to either side (a
    smooth tail does not), and at most a fifth of its mass lies above it (a cap
    ends the distribution; a spike in the body is left to the families).  The
    cap is the median value in the pile; ``lo`` its smallest value.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = np.minimum(np.round(rng.lognormal(6, 1.5, 20_000)), 4096)
    >>> find_pile(x)
    Pile(lo=4061, cap=4096, mass=0.0605)
    >>> find_pile(np.round(rng.lognormal(6, 1.0, 20_000))) is None
    True
    """
    x = np.asarray(x)
    top = x[x >= np.quantile(x, 0.75)]
    top = top[top > 0]
    if top.size == 0:
        return None
    y = np.log(top)
    edges = np.arange(y.min(), y.max() + 0.02, 0.01)
    if edges.size < 3:
        return None
    counts, _ = np.histogram(y, bins=edges)
    peak = int(np.argmax(counts))
    lo_b = hi_b = peak
    side = np.r_[counts[max(peak - 20, 0):max(peak - 4, 0)], counts[peak + 5:peak + 21]]
    background = side.mean() if side.size else 0.0
    floor = max(counts[peak] / 20, 2 * background)
    while lo_b > 0 and counts[lo_b - 1] > floor:
        lo_b -= 1
    while hi_b < counts.size - 1 and counts[hi_b + 1] > floor:
        hi_b += 1
    in_pile = (y >= edges[lo_b]) & (y < edges[hi_b + 1])
    mass = np.count_nonzero(in_pile) / x.size
    above = np.count_nonzero(y >= edges[hi_b + 1]) / x.size
    if mass < min_mass or counts[peak] < 5 * background + 5 or above > mass / 5:
        return None
    values = top[in_pile]
    return Pile(int(values.min()), int(np.median(values)), round(float(mass), 4))


@dataclasses.dataclass(frozen=True)
class TokenFit:
    """A fitted token-length distribution.

    Attributes
    ----------
    distribution : Distribution
        The selected fit (in :class:`~costsim.Capped` where a pile was found).
    family : str
        Name of the selected family.
    theta : numpy.ndarray
        Its parameters in the fitting parameterisation.
    aic : dict of str to float
        AIC of every candidate fitted (lower is better), on the same data.
    n : int
        Rows of the column.
    pile : Pile or None
        The censored pile (cap), found in all rows.
    ks : float
        KS distance between the rounded fit and all rows.
    fit_rows : int
        Rows the likelihood was maximised on (``n``, or the subsample's size
        where ``n`` exceeds ``max_rows``); the AICs are on these rows.
    tail : Tail or None
        The generalized Pareto tail above a threshold (None: the family's own
        tail, where a pile ends the column or it is too short for a tail fit).
    limit : int or None
        The cap of the column's values (a context window, ``max_tokens``).
    """

    distribution: Distribution
    family: str
    theta: np.ndarray
    aic: dict[str, float]
    n: int
    pile: Pile | None
    ks: float
    fit_rows: int = 0
    tail: Tail | None = None
    limit: int | None = None

    @property
    def body(self) -> Distribution:
        """The fitted family alone (without the tail, the cap and the limit)."""
        fam = FAMILIES[self.family]
        return fam.build(self.theta, [None] * len(fam.log_loc))

    def with_location_sd(self, sd: float) -> Distribution:
        """The fitted distribution whose location parameters are uncertain: each
        drawn per trial with standard deviation ``sd`` on the log scale (a
        Normal around ``mu``, a LogNormal around a scale)."""
        fam = FAMILIES[self.family]
        shifts = [Normal(0.0, sd) if sd > 0 else None] * len(fam.log_loc)
        return self.complete(fam.build(self.theta, shifts))

    def complete(self, body: Distribution) -> Distribution:
        """The column's distribution around a body of the fitted family: the tail
        spliced on, then the pile's cap and the limit."""
        return _complete(body, self.pile, self.tail, self.limit)

    def log_mean_gradient(self) -> np.ndarray:
        """``d log E[X] / d shift`` for the log-location of each component (finite differences)."""
        fam = FAMILIES[self.family]
        h = 1e-4
        base = self.complete(fam.build(self.theta, [None] * len(fam.log_loc))).mean()
        grads = []
        for i in fam.log_loc:
            t = self.theta.copy()
            t[i] += h
            grads.append((math.log(self.complete(fam.build(t, [None] * len(fam.log_loc))).mean())
                          - math.log(base)) / h)
        g = np.asarray(grads)
        if not np.all(np.isfinite(g)):  # an infinite mean (a very heavy tail): spread evenly
            g = np.full(len(fam.log_loc), 1.0 / len(fam.log_loc))
        return g


def _complete(body: Distribution, pile: Pile | None, tail: Tail | None, limit: int | None) -> Distribution:
    dist = body if tail is None else splice(body, tail)
    return with_limit(dist if pile is None else Capped(dist, float(pile.cap)), limit)


@dataclasses.dataclass(frozen=True)
class _Cells:
    """The data of a likelihood: the distinct counts below the pile (``k``, seen ``counts``
    times) and the rows censored at ``lo``.  A count's probability is ``F(k + 0.5) - F(k -
    0.5)``; neighbouring counts share an edge, so the CDF is evaluated once per distinct
    edge (``edges``; ``lower`` and ``upper`` index each count's two edges in it)."""

    edges: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    counts: np.ndarray
    censored: int
    lo: float

    @classmethod
    def of(cls, rows: np.ndarray, lo: float) -> _Cells:
        values, counts = np.unique(rows, return_counts=True)
        body = values < lo
        values = values[body].astype(float)
        edges, index = np.unique(np.r_[values - 0.5, values + 0.5], return_inverse=True)
        m = values.shape[0]
        return cls(edges, index[:m], index[m:], counts[body].astype(float), int(rows.size - counts[body].sum()), lo)


def _neg_loglik(fam: _Family, theta: np.ndarray, cells: _Cells) -> float:
    if not np.all(np.isfinite(theta)) or np.any(np.abs(theta) > 50):
        return math.inf
    with np.errstate(all="ignore"):
        cdf, sf = fam.cdf_sf(cells.edges, theta)
        c_hi, c_lo = cdf[cells.upper], cdf[cells.lower]
        p = np.where(c_hi < 0.5, c_hi - c_lo, sf[cells.lower] - sf[cells.upper])  # the accurate side
        # einsum, not np.dot: a BLAS dot of this length runs threaded, and on a busy machine the
        # threads' wake-ups and spinning over thousands of calls cost more than the sum itself
        total = np.einsum("i,i->", cells.counts, np.log(np.maximum(p, 1e-300)))
        if cells.censored:
            tail = float(fam.cdf_sf(np.array([cells.lo - 0.5]), theta)[1][0])
            total += cells.censored * math.log(max(tail, 1e-300))
    return -float(total) if np.isfinite(total) else math.inf


def _fit_family(fam: _Family, cells: _Cells, y: np.ndarray) -> tuple[np.ndarray, float]:
    best_theta, best = None, math.inf
    for start in fam.starts(y):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            nll = functools.partial(_neg_loglik, fam, cells=cells)
            res = optimize.minimize(nll, start, method="L-BFGS-B")
            if not np.isfinite(res.fun):  # a start where the gradient is undefined: derivative-free
                res = optimize.minimize(nll, start, method="Nelder-Mead",
                                        options={"maxiter": 400 * fam.n_par, "adaptive": True})
        if res.fun < best:
            best_theta, best = res.x, float(res.fun)
    return best_theta, best


def check_families(families: Sequence[str] | None) -> list[str]:
    """The candidate family names (all where None), checked: a non-empty sequence of :data:`FAMILIES` keys."""
    if families is None:
        return list(FAMILIES)
    names = [families] if isinstance(families, str) else families
    if not isinstance(names, Sequence) or not names or any(f not in FAMILIES for f in names):
        raise ParameterError("families", f"must be a non-empty list of names among {list(FAMILIES)}", families)
    return list(names)


def check_cap(cap: str | int | None) -> str | int | None:
    """``cap`` checked: ``"auto"``, None or an integer >= 1."""
    if cap is None or (isinstance(cap, str) and cap == "auto"):
        return cap
    if isinstance(cap, str):
        raise ParameterError("cap", "must be 'auto', None or an integer >= 1", cap)
    return check_int("cap", cap, low=1)


def _check_counts(x: Any, name: str) -> np.ndarray:
    """``x`` as a 1-d array of whole numbers >= 0 (ints kept as they are)."""
    x = np.asarray(x)
    if x.ndim != 1 or x.dtype.kind not in "iuf":
        raise ValueError(f"{name}: token counts must be a 1-d array of numbers; got shape {x.shape}, dtype {x.dtype}")
    if x.size and (x.min() < 0 or (x.dtype.kind == "f" and not (np.all(np.isfinite(x)) and np.all(x == np.round(x))))):
        raise ValueError(f"{name}: token counts must be whole numbers >= 0")
    return x


def fit_tokens(
    x: np.ndarray,
    *,
    families: Sequence[str] | None = None,
    cap: str | int | None = "auto",
    name: str = "tokens",
    max_rows: int | None = FIT_ROWS,
    seed: int = 0,
    limit: int | None = None,
    tail: bool = True,
) -> TokenFit:
    """Fit integer token counts; choose the family by AIC.

    Parameters
    ----------
    x : array of int
        Token counts (>= 0, whole numbers).
    families : sequence of str, optional
        Candidates among ``LogNormal``, ``Gamma``, ``Weibull``,
        ``GeneralizedPareto``, ``Mixture2``, ``Mixture3`` (two or three
        lognormals); all by default.
        A family needs at least 10 rows per free parameter.
    cap : "auto", int or None, default "auto"
        ``"auto"``: censor a pile found by :func:`find_pile`; an int: censor the
        rows ``>= cap`` and cap there; None: no cap.
    name : str
        Label for error messages (the column name).
    max_rows : int or None, default FIT_ROWS
        Most rows the likelihood is maximised on: a larger column is fitted on a
        random subsample of this many rows (None: all rows).
    seed : int, default 0
        Seed of that subsample.
    limit : int, optional
        Most tokens a value can have (a context window, an output's
        ``max_tokens``): the distribution is capped there; a row above it is an error.
    tail : bool, default True
        Without a pile, fit a generalized Pareto tail above a high threshold
        (see :mod:`costsim.calibrate.tails`); False: the family's own tail.

    Returns
    -------
    TokenFit

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> x = np.round(np.r_[rng.lognormal(4.0, 0.4, 3000), rng.lognormal(6.5, 0.6, 1000)])
    >>> fit = fit_tokens(x)
    >>> fit.family, fit.ks < 0.02
    ('Mixture2', True)
    >>> fit_tokens([3, 4, 5], families=["LogNormal"])
    Traceback (most recent call last):
    ...
    ValueError: tokens: too few rows to fit LogNormal (needs >= 20 rows for 2 parameters); got 3
    """
    x = _check_counts(x, name)
    names = check_families(families)
    cap = check_cap(cap)
    if max_rows is not None:
        max_rows = check_int("max_rows", max_rows, low=1)
    seed = check_int("seed", seed, low=0)
    if limit is not None:
        limit = check_int("limit", limit, low=1)
        over = np.flatnonzero(x > limit)
        if over.size:
            raise ValueError(f"{name}: {over.size} of {x.size} rows exceed the limit of {limit} tokens (first at row "
                             f"{over[0]}: {x[over[0]]}); the log cannot come from a model with that limit")
    if not isinstance(tail, (bool, np.bool_)):
        raise ParameterError("tail", "must be True or False", tail)
    usable = [f for f in names if x.size >= MIN_ROWS_PER_PARAMETER * FAMILIES[f].n_par]
    if not usable:
        need = min(FAMILIES[f].n_par for f in names)
        raise ValueError(f"{name}: too few rows to fit {', '.join(names)} (needs >= {MIN_ROWS_PER_PARAMETER * need} "
                         f"rows for {need} parameters); got {x.size}")
    if cap == "auto":
        pile = find_pile(x)
    elif cap is None:
        pile = None
    else:
        at = np.count_nonzero(x >= cap)
        pile = Pile(cap, cap, round(at / x.size, 4)) if at else None
    gpd = choose_tail(x, limit=limit) if tail and pile is None else None
    lo = float(pile.lo) if pile else float(gpd.threshold) if gpd is not None else math.inf
    rows = x if max_rows is None or x.size <= max_rows else \
        x[np.random.default_rng(seed).choice(x.size, size=max_rows, replace=False, shuffle=False)]
    cells = _Cells.of(rows, lo)
    y = np.log(rows + 0.5)  # starting values from the log-values of the rows fitted
    fits = {}
    for f in usable:
        theta, nll = _fit_family(FAMILIES[f], cells, y)
        if theta is not None and math.isfinite(nll):
            fits[f] = (theta, nll)
    if not fits:
        raise ValueError(f"{name}: no family could be fitted to the {x.size} rows")
    aic = {f: 2 * FAMILIES[f].n_par + 2 * nll + (2 if pile else 0) for f, (theta, nll) in fits.items()}
    best = min(aic, key=aic.get)
    fam = FAMILIES[best]
    top = min(float(pile.cap) if pile else math.inf, math.inf if limit is None else float(limit))
    theta = _match_mean(fam, fits[best][0], cells, x, gpd, top)
    dist = _complete(fam.build(theta, [None] * len(fam.log_loc)), pile, gpd, limit)
    return TokenFit(dist, best, theta, aic, int(x.size), pile, ks_distance(dist, x), int(rows.size), gpd, limit)


def _match_mean(fam: _Family, theta: np.ndarray, cells: _Cells, x: np.ndarray, tail: Tail | None,
                top: float) -> np.ndarray:
    """The most likely ``theta`` whose body has the rows' mean: below the tail's threshold (the
    truncated body against the rows there), or without a tail all of the column below ``top``
    (the pile's cap or the limit: ``E[min(X, top)]`` against all rows).

    A cost is a mean of tokens, and maximum likelihood does not fit the mean: on pilot windows
    of the Azure and synthetic traces the fitted body's mean was 1-7 % off its rows', a bias
    every trial of a forecast repeats.  The likelihood is maximised again under that one
    constraint (SLSQP from the unconstrained fit), so the shape stays the best the family
    allows.  The tail keeps its own fit (its rows' mean is the noisiest part of the column).
    Where the constraint cannot be met (no rows below the threshold, a zero mean, SLSQP
    failing), ``theta`` is returned as it is.
    """
    if tail is not None:
        rows = x[x < tail.threshold]
        bound = tail.threshold - 0.5
    else:
        rows, bound = x, top
    target = float(rows.mean()) if rows.size else 0.0
    if not target > 0.0:
        return theta

    def gap(t: np.ndarray) -> float:
        below, p = fam.partial(t, bound)
        mean = below / p if tail is not None else below + (0.0 if math.isinf(bound) else bound * (1.0 - p))
        return math.log(mean) - math.log(target) if mean > 0.0 and math.isfinite(mean) else math.inf

    if abs(gap(theta)) < 1e-9:
        return theta
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:  # a trial step far out (a huge sigma) may overflow a family's formulas: then no match
            res = optimize.minimize(functools.partial(_neg_loglik, fam, cells=cells), theta, method="SLSQP",
                                    constraints=[{"type": "eq", "fun": gap}],
                                    options={"maxiter": 200, "ftol": 1e-10})
            matched = res.success and np.all(np.isfinite(res.x)) and abs(gap(res.x)) < 1e-6
        except (ArithmeticError, ValueError):
            return theta
    return res.x if matched else theta


def ks_distance(dist: Distribution, x: np.ndarray) -> float:
    """KS distance between integer data and a distribution whose draws are rounded.

    The simulation rounds every draw to the nearest integer, so the model's CDF at
    an integer ``k`` is ``dist.cdf(k + 0.5)``; both CDFs are step functions on the
    integers, and the largest gap lies at a data value or just below one.

    Examples
    --------
    >>> ks_distance(LogNormal(3.0, 0.5), np.round(np.random.default_rng(0).lognormal(3.0, 0.5, 4000))) < 0.03
    True
    """
    values, counts = np.unique(np.asarray(x), return_counts=True)
    at_most = np.cumsum(counts)  # rows <= each value; rows < it (<= value - 1) is at_most - counts
    empirical = np.r_[at_most, at_most - counts] / at_most[-1]
    model = np.asarray(dist.cdf(np.r_[values, values - 1.0].astype(float) + 0.5), dtype=float)
    return float(np.max(np.abs(model - empirical)))
