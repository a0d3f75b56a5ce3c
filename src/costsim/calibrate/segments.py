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
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["dependence_distance", "find_segments"]

#: Fewest rows a segment may have.
MIN_SEGMENT_ROWS = 50


def _em(z: np.ndarray, k: int, iters: int = 300) -> np.ndarray:
    """Hard segment labels of a k-component diagonal Gaussian mixture fitted by EM,
    started from k equal slices of the rows ordered by ``z.sum(1)`` (deterministic)."""
    n = z.shape[0]
    chunks = np.array_split(np.argsort(z.sum(axis=1), kind="stable"), k)
    mu = np.array([z[c].mean(axis=0) for c in chunks])
    var = np.array([z[c].var(axis=0) + 1e-3 for c in chunks])
    w = np.full(k, 1.0 / k)
    previous = -math.inf
    for _ in range(iters):
        lp = np.log(w)[None, :] - 0.5 * (((z[:, None, :] - mu[None]) ** 2) / var[None]
                                         + np.log(2 * np.pi * var[None])).sum(axis=2)
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
    return r.argmax(axis=1)


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
    q = np.linspace(0.02, 0.98, grid)
    ix = x[:, None] <= np.unique(np.quantile(x, q))[None, :]
    iy = y[:, None] <= np.unique(np.quantile(y, q))[None, :]
    joint = (ix.T.astype(float) @ iy.astype(float)) / x.shape[0]
    model = np.zeros_like(joint)
    for j in np.unique(labels):
        m = labels == j
        model += m.mean() * np.outer(ix[m].mean(axis=0), iy[m].mean(axis=0))
    return float(np.abs(joint - model).max())


def find_segments(x: np.ndarray, y: np.ndarray, *, max_segments: int = 4, tol: float = 0.05) -> np.ndarray:
    """Segment labels ``0..k-1`` (ordered by mean log-size) for integer columns ``x``, ``y``.

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
    if not (isinstance(max_segments, int) and max_segments >= 1):
        raise ValueError(f"max_segments must be an int >= 1; got {max_segments!r}")
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = x.shape[0]
    labels = np.zeros(n, dtype=np.int64)
    limit = tol + 1.0 / math.sqrt(max(n, 1))
    z = np.column_stack([np.log(x + 0.5), np.log(y + 0.5)])
    for k in range(2, max_segments + 1):
        if dependence_distance(x, y, labels) < limit:
            break
        candidate = _em(z, k)
        if np.bincount(candidate, minlength=k).min() < MIN_SEGMENT_ROWS:
            break
        labels = candidate
    order = np.argsort([z[labels == j].sum(axis=1).mean() for j in range(labels.max() + 1)])
    return np.argsort(order)[labels]
