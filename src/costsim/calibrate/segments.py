"""Latent segments: input/output dependence as a mixture of independent classes.

Input and output tokens of real logs are nearly uncorrelated overall, yet not
independent: the Azure conversation trace is a blend of request types (one
prompt template of ~1,070 tokens with ~400-token answers, long prompts at the
4k limit with short answers, ...).  Sampling input and output independently
there misses the per-request cost quantiles by 18-23 %.  A costsim query class
draws input and output independently, so the dependence is carried by splitting
a class into latent segments, each a query class of its own with independent
input and output: a mixture of independent components, which can approximate
any joint distribution.

The segments are found by EM for a mixture of bivariate normals with diagonal
covariance on ``(log(input + 0.5), log(output + 0.5))``; each row goes to its
most likely segment.  The number of segments is the smallest ``k`` (up to
``max_segments``) whose model reproduces the log's joint distribution: the
largest gap between the empirical joint CDF and the segments' mixture of
products of (empirical) marginals, over a 40 x 40 grid of quantiles, must be
below ``tol + 1 / sqrt(n)`` (``1 / sqrt(n)``: the sampling noise of a
two-dimensional KS distance on ``n`` rows).

A class of more than :data:`~costsim.calibrate.tokens.FIT_ROWS` rows is
segmented by EM on a random subsample of that many rows (drawn with ``seed``);
every row then goes to its most likely segment under the fitted mixture, and the
dependence distance is measured on all rows.
"""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_int, check_number
from .tokens import FIT_ROWS

__all__ = ["dependence_distance", "find_segments"]

#: Fewest rows a segment may have.
MIN_SEGMENT_ROWS = 50
#: Rows per chunk when assigning rows to segments (bounds the memory of a large class).
_CHUNK = 1 << 18


def _log_density(z: np.ndarray, w: np.ndarray, mu: np.ndarray, var: np.ndarray) -> np.ndarray:
    """``log(w_j) + log N(z; mu_j, diag(var_j))`` for every row of ``z`` and segment ``j``."""
    return np.log(w)[None, :] - 0.5 * (((z[:, None, :] - mu[None]) ** 2) / var[None]
                                       + np.log(2 * np.pi * var[None])).sum(axis=2)


def _em(z: np.ndarray, k: int, iters: int = 300) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """A k-component diagonal Gaussian mixture fitted by EM, started from k equal slices of the
    rows ordered by ``z.sum(1)`` (deterministic): the hard labels of the rows and the
    parameters ``(w, mu, var)`` those labels were read from."""
    n = z.shape[0]
    chunks = np.array_split(np.argsort(z.sum(axis=1), kind="stable"), k)
    mu = np.array([z[c].mean(axis=0) for c in chunks])
    var = np.array([z[c].var(axis=0) + 1e-3 for c in chunks])
    w = np.full(k, 1.0 / k)
    previous = -math.inf
    for _ in range(iters):
        params = (w, mu, var)
        lp = _log_density(z, w, mu, var)
        top = lp.max(axis=1, keepdims=True)
        r = np.exp(lp - top)
        total = r.sum(axis=1, keepdims=True)
        loglik = float(np.sum(top[:, 0] + np.log(total[:, 0])))
        r /= total
        nk = r.sum(axis=0) + 1e-12
        w = nk / n
        mu = (r.T @ z) / nk[:, None]
        var = np.maximum((r.T @ (z * z)) / nk[:, None] - mu * mu, 1e-4)
        if loglik - previous < 1e-7 * abs(loglik):
            break
        previous = loglik
    return r.argmax(axis=1), params


def _log_sizes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.column_stack([np.log(x + 0.5), np.log(y + 0.5)])


def _assign(x: np.ndarray, y: np.ndarray, params: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """The most likely segment of every row (in chunks of rows)."""
    labels = np.empty(x.shape[0], dtype=np.int64)
    for lo in range(0, x.shape[0], _CHUNK):
        hi = lo + _CHUNK
        labels[lo:hi] = _log_density(_log_sizes(x[lo:hi], y[lo:hi]), *params).argmax(axis=1)
    return labels


def _grid_index(v: np.ndarray, grid: int) -> tuple[np.ndarray, int]:
    """For each value, how many of the grid's quantile thresholds lie below it (``v <= t_g``
    iff ``index <= g``), and the number of thresholds."""
    thresholds = np.unique(np.quantile(v, np.linspace(0.02, 0.98, grid)))
    return np.searchsorted(thresholds, v, side="left"), thresholds.shape[0]


def _distance(ix: np.ndarray, gx: int, iy: np.ndarray, gy: int, labels: np.ndarray) -> float:
    """:func:`dependence_distance` from the rows' grid indices (counts by bincount: exact, O(n))."""
    n = ix.shape[0]
    cells = np.bincount(ix * (gy + 1) + iy, minlength=(gx + 1) * (gy + 1)).reshape(gx + 1, gy + 1)
    joint = cells.cumsum(axis=0).cumsum(axis=1)[:gx, :gy] / n
    k = int(labels.max()) + 1
    fx = np.bincount(labels * (gx + 1) + ix, minlength=k * (gx + 1)).reshape(k, gx + 1).cumsum(axis=1)[:, :gx]
    fy = np.bincount(labels * (gy + 1) + iy, minlength=k * (gy + 1)).reshape(k, gy + 1).cumsum(axis=1)[:, :gy]
    size = np.bincount(labels, minlength=k)
    used = size > 0
    # sum over segments of share_j * Fx_j * Fy_j, with share_j = size_j / n and F_j = counts / size_j
    model = np.einsum("j,jg,jh->gh", 1.0 / (n * size[used]), fx[used].astype(float), fy[used].astype(float))
    return float(np.abs(joint - model).max())


def dependence_distance(x: np.ndarray, y: np.ndarray, labels: np.ndarray, grid: int = 40) -> float:
    """Largest gap between the joint CDF of ``(x, y)`` and the segments' mixture of
    products of their marginal CDFs, over a grid of quantiles.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=5000), rng.normal(size=5000)
    >>> dependence_distance(x, y, np.zeros(5000, dtype=int)) < 0.02
    True
    >>> dependence_distance(x, x + 0.1 * y, np.zeros(5000, dtype=int)) > 0.2
    True
    """
    ix, gx = _grid_index(np.asarray(x), grid)
    iy, gy = _grid_index(np.asarray(y), grid)
    return _distance(ix, gx, iy, gy, np.asarray(labels, dtype=np.int64))


def find_segments(x: np.ndarray, y: np.ndarray, *, max_segments: int = 4, tol: float = 0.05,
                  seed: int = 0) -> np.ndarray:
    """Segment labels ``0..k-1`` (ordered by mean log-size) for integer columns ``x``, ``y``.

    Parameters
    ----------
    x, y : numpy.ndarray
        Input and output token counts of the rows.
    max_segments : int, default 4
        Most segments.
    tol : float, default 0.05
        Dependence distance accepted beyond the sampling noise ``1 / sqrt(n)``.
    seed : int, default 0
        Seed of the subsample EM runs on when there are more than ``FIT_ROWS`` rows.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> a = np.r_[rng.lognormal(7.0, 0.1, 2000), rng.lognormal(5.0, 0.5, 2000)].round()
    >>> b = np.r_[rng.lognormal(6.0, 0.1, 2000), rng.lognormal(3.0, 0.5, 2000)].round()
    >>> labels = find_segments(a, b)
    >>> np.bincount(labels).tolist()
    [2000, 2000]
    >>> int(find_segments(a[:2000], b[:2000]).max())
    0
    """
    max_segments = check_int("max_segments", max_segments, low=1)
    tol = check_number("tol", tol, low=0.0)
    seed = check_int("seed", seed, low=0)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = x.shape[0]
    labels = np.zeros(n, dtype=np.int64)
    limit = tol + 1.0 / math.sqrt(max(n, 1))
    ix, gx = _grid_index(x, 40)
    iy, gy = _grid_index(y, 40)
    sub = None if n <= FIT_ROWS else np.sort(np.random.default_rng(seed).choice(n, FIT_ROWS, replace=False,
                                                                              shuffle=False))
    z = _log_sizes(x, y) if sub is None else _log_sizes(x[sub], y[sub])
    for k in range(2, max_segments + 1):
        if _distance(ix, gx, iy, gy, labels) < limit:
            break
        candidate, params = _em(z, k)
        if sub is not None:
            candidate = _assign(x, y, params)
        if np.bincount(candidate, minlength=k).min() < MIN_SEGMENT_ROWS:
            break
        labels = candidate
    k = int(labels.max()) + 1
    size = np.log(x + 0.5) + np.log(y + 0.5)
    order = np.argsort(np.bincount(labels, weights=size, minlength=k) / np.bincount(labels, minlength=k))
    return np.argsort(order)[labels]
