"""Prompt caching learned from a log: hits, their steady state, the warm-up and the TTL.

A log can say which prompt tokens could come from a prefix cache in two ways:

* **prefix hashes** (``prefix_hashes=``, with ``block_tokens=``): each request
  lists the hashes of its prompt's blocks of ``block_tokens`` tokens, in order
  (as vLLM's automatic prefix caching and the Mooncake traces do).  Block ``j``
  is a hit when an earlier request carried the same hash, within the TTL
  when one is known, and every block before it hit too;
* **session ids** (``session=``): each request of a conversation re-sends the
  previous request's prompt and its answer, so those tokens (at most this
  prompt) are a hit when the previous request is within the TTL: costsim's own
  session model (:meth:`~costsim.QueryClass.session`), which the fit then
  returns (see :mod:`costsim.calibrate.sessions`).

Both reduce to the same description of each request, its *reuse runs*: the
prompt's cacheable prefix cut where the time since the last use of the blocks
so far (their largest gap) grows; a run of ``k`` tokens with gap ``g`` hits
under a TTL ``tau`` when ``g <= tau``.

**Cold start.**  A log starts with an empty view of the cache: a block last used
before the log began looks new, so the hit share of the first requests is too
low, and a pilot forecasts production too high.  The steady state is estimated
with the Horvitz-Thompson weight of each hit: a reuse with gap ``g`` is visible
only to requests at least ``g`` after the log's start, a share ``(S - g) / S``
of a stationary log of span ``S``, so it counts ``S / (S - g)`` times.  Reuse
after more than half the span (weights above 2) is not counted: the estimate is
then a lower bound, and :attr:`CacheFit.horizon` says so.  The same weights give
the **warm-up** of a new deployment's cache: its hit share ``a`` after the start
counts the reuses with ``g <= min(tau, a)``.

**TTL.**  Given (``ttl=``), or estimated where the log has the provider's cached
tokens as well as hashes or sessions: the longest gap of a hit and the shortest
gap of a reusable miss bracket it (:attr:`CacheFit.ttl_bounds`).  Without either
every earlier use counts (no expiry).

The uncertainty of the steady-state share is a block bootstrap over time
(:func:`~costsim.calibrate._bootstrap.log_ratio_variance`).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..traffic.distributions import Beta, Constant, Distribution
from ._bootstrap import log_ratio_variance

__all__ = ["CacheFit", "ClassCache", "Reuse", "fit_caching", "previous_in_session", "reuse_from_hashes",
           "reuse_from_sessions"]

#: Largest Horvitz-Thompson weight counted: reuse after more than half the log is not seen often enough.
MAX_WEIGHT = 2.0


@dataclasses.dataclass(frozen=True)
class Reuse:
    """The reuse runs of each request (a ragged array).

    Attributes
    ----------
    offsets : numpy.ndarray
        ``int64[n + 1]``: request ``i``'s runs are ``offsets[i]:offsets[i + 1]``.
    tokens : numpy.ndarray
        ``float64``: cacheable prefix tokens at the end of each run (increasing within a request).
    gap : numpy.ndarray
        ``float64`` seconds: the largest time since the last use of the blocks up to the run's
        end (increasing within a request); ``inf`` where a block was not used before.
    """

    offsets: np.ndarray
    tokens: np.ndarray
    gap: np.ndarray

    def hits(self, ttl: float = math.inf) -> np.ndarray:
        """Prompt tokens each request reads from the cache under ``ttl`` (seconds)."""
        ok = (self.gap <= ttl) & np.isfinite(self.gap)  # inf: never used before
        hit = np.where(ok, self.tokens, 0.0)
        # the runs' gaps increase: the hit prefix ends at the last run within the TTL
        return np.maximum.reduceat(np.r_[hit, 0.0], self.offsets[:-1]) * (np.diff(self.offsets) > 0)

    def weighted_hits(self, ttl: float, span: float, age: float = math.inf) -> np.ndarray:
        """Each request's hit tokens in the steady state (Horvitz-Thompson weighted), counting
        the reuses with ``gap <= min(ttl, age, span / 2)``, each ``span / (span - gap)`` times."""
        reach = min(ttl, age, span * (1.0 - 1.0 / MAX_WEIGHT))
        weight = np.where(self.gap <= reach, span / (span - np.minimum(self.gap, reach)), 0.0)
        return _sum_runs(self._widths() * weight, self.offsets)

    def horizon_hits(self, ttl: float, span: float, horizon: float) -> np.ndarray:
        """Each request's hit tokens averaged over the first ``horizon`` seconds of a new
        deployment: a reuse with gap ``g`` counts from age ``g`` on, ``(horizon - g) / horizon``."""
        reach = min(ttl, span * (1.0 - 1.0 / MAX_WEIGHT))
        g = np.minimum(self.gap, reach)
        weight = np.where(self.gap <= reach, span / (span - g) * np.maximum(horizon - g, 0.0) / horizon, 0.0)
        return _sum_runs(self._widths() * weight, self.offsets)

    def _widths(self) -> np.ndarray:
        """Tokens of each run (its end less the previous run's; a request's first run starts at 0)."""
        widths = np.diff(np.r_[0.0, self.tokens])
        first = self.offsets[:-1][np.diff(self.offsets) > 0]
        widths[first] = self.tokens[first]
        return widths


def _sum_runs(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    out = np.add.reduceat(np.r_[values, 0.0], offsets[:-1])
    return np.where(np.diff(offsets) > 0, out, 0.0)


def _seconds(ts: np.ndarray) -> np.ndarray:
    return (ts - ts[0]).astype("timedelta64[ns]").astype(np.int64) / 1e9


def reuse_from_hashes(ts: np.ndarray, hashes: Sequence[Sequence[Any]], block_tokens: int,
                      input_tokens: np.ndarray) -> Reuse:
    """The reuse runs of requests (sorted by time) from their prompt's block hashes.

    Examples
    --------
    >>> ts = np.array([0, 10, 20], dtype="datetime64[s]").astype("datetime64[ns]")
    >>> r = reuse_from_hashes(ts, [[1, 2], [1, 2, 3], [1, 9, 3]], 16, np.array([40, 50, 60]))
    >>> r.hits().tolist(), r.hits(ttl=5.0).tolist()  # block 9 misses, so block 3 after it does too
    ([0.0, 32.0, 16.0], [0.0, 0.0, 0.0])
    """
    t = _seconds(ts)
    last: dict[Any, float] = {}
    offsets, tokens, gaps = [0], [], []
    for i, blocks in enumerate(hashes):
        run_max = -1.0
        for j, h in enumerate(blocks):
            g = t[i] - last[h] if h in last else math.inf
            if g > run_max:
                if j > 0:
                    tokens.append(float(j * block_tokens))
                    gaps.append(run_max)
                run_max = g
        if len(blocks):
            tokens.append(float(len(blocks) * block_tokens))
            gaps.append(run_max)
        for h in blocks:
            last[h] = t[i]
        offsets.append(len(tokens))
    owner = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    capped = np.minimum(np.asarray(tokens, dtype=float), np.asarray(input_tokens, dtype=float)[owner])
    return Reuse(np.asarray(offsets, dtype=np.int64), capped, np.asarray(gaps, dtype=float))


def reuse_from_sessions(ts: np.ndarray, session: np.ndarray, input_tokens: np.ndarray,
                        output_tokens: np.ndarray) -> Reuse:
    """The reuse runs of requests (sorted by time) of conversations: each re-sends the previous
    request's prompt and answer of its session (at most its own prompt), last used at that request.

    Examples
    --------
    >>> ts = np.array([0, 10, 30], dtype="datetime64[s]").astype("datetime64[ns]")
    >>> r = reuse_from_sessions(ts, np.array(["a", "a", "b"], dtype=object), np.array([100, 180, 50]),
    ...                         np.array([60, 20, 10]))
    >>> r.tokens.tolist(), r.gap.tolist(), r.offsets.tolist()
    ([160.0], [10.0], [0, 0, 1, 1])
    """
    t = _seconds(ts)
    prev = previous_in_session(session)
    has = prev >= 0
    counts = has.astype(np.int64)
    rows = np.flatnonzero(has)
    tokens = np.minimum(input_tokens[prev[rows]] + output_tokens[prev[rows]], input_tokens[rows]).astype(float)
    keep = tokens > 0
    counts[rows[~keep]] = 0
    return Reuse(np.r_[0, np.cumsum(counts)].astype(np.int64), tokens[keep], (t[rows] - t[prev[rows]])[keep])


def previous_in_session(session: np.ndarray) -> np.ndarray:
    """Each row's previous row of its session (rows sorted by time); -1 for a session's first.

    Examples
    --------
    >>> previous_in_session(np.array(["a", "b", "a", "a"], dtype=object)).tolist()
    [-1, -1, 0, 2]
    """
    codes = pd.factorize(session)[0]
    order = np.lexsort((np.arange(codes.size), codes))  # by session, then time
    prev = np.full(codes.size, -1, dtype=np.int64)
    same = codes[order][1:] == codes[order][:-1]
    prev[order[1:][same]] = order[:-1][same]
    return prev


@dataclasses.dataclass(frozen=True)
class CacheFit:
    """Prompt caching estimated from a log (see :mod:`costsim.calibrate.caching`).

    Attributes
    ----------
    observed : float
        Cached share of the log's prompt tokens, as logged (or derived from the
        hashes or sessions).
    steady : float
        Estimated cached share of prompt tokens once the cache is warm.
    steady_sd : float
        Its standard error (block bootstrap over time).
    ttl : float or None
        The TTL used, in seconds (None: no expiry).
    ttl_bounds : (float, float) or None
        Where estimated: the longest gap of a logged hit and the shortest gap of a
        reusable miss.
    horizon : float
        Longest reuse gap counted (seconds): ``min(ttl, span / 2)``.
    warmup : pandas.Series
        The hit share of a new deployment's cache against its age (index: seconds).
    span : float
        Seconds of the log.
    """

    observed: float
    steady: float
    steady_sd: float
    ttl: float | None
    ttl_bounds: tuple[float, float] | None
    horizon: float
    warmup: pd.Series
    span: float
    reuse: Reuse = dataclasses.field(repr=False)
    input_tokens: np.ndarray = dataclasses.field(repr=False, default_factory=lambda: np.zeros(0))

    @functools.cached_property
    def _steady_hits(self) -> np.ndarray:
        return self.reuse.weighted_hits(self._ttl, self.span)

    def for_rows(self, rows: np.ndarray, blocks: np.ndarray, n_blocks: int, *, seed: int = 0) -> ClassCache:
        """The steady-state cached share of the requests ``rows`` (a class), with its block-bootstrap
        standard error (``blocks``: each request's time block, ``n_blocks`` of them)."""
        total = float(self.input_tokens[rows].sum())
        hits = self._steady_hits[rows]
        share = min(float(hits.sum()) / total, 1.0) if total > 0 else 0.0
        sd = 0.0
        if share > 0:
            num = np.bincount(blocks[rows], weights=hits, minlength=n_blocks)
            den = np.bincount(blocks[rows], weights=self.input_tokens[rows].astype(float), minlength=n_blocks)
            sd = share * math.sqrt(log_ratio_variance(num, den, seed=seed))
        return ClassCache(share, sd, self, rows)

    def warmup_share(self, rows: np.ndarray, horizon: float) -> float:
        """The cached share of the prompt tokens of ``rows`` over the first ``horizon`` seconds
        of a new deployment (a cold cache warming up)."""
        total = float(self.input_tokens[rows].sum())
        hits = self.reuse.horizon_hits(self._ttl, self.span, horizon)
        return min(float(hits[rows].sum()) / total, 1.0) if total > 0 else 0.0

    @property
    def _ttl(self) -> float:
        return math.inf if self.ttl is None else self.ttl

    def table_rows(self, rows: int) -> list[dict[str, Any]]:
        """The fit report's rows of the whole log's cache (see :class:`~costsim.calibrate.FitReport`):
        the logged and the steady-state hit share, the TTL, the age at which a new deployment's
        cache reaches 90 % of the steady state, and the longest reuse counted."""
        band = (max(self.steady - 1.645 * self.steady_sd, 0.0), min(self.steady + 1.645 * self.steady_sd, 1.0))
        ttl = (math.nan, math.nan) if self.ttl_bounds is None else self.ttl_bounds
        reached = self.warmup.index[self.warmup.to_numpy() >= 0.9 * self.steady]
        warm = float(reached[0]) if self.steady > 0 and reached.size else math.nan
        return [
            table_row("hit share, logged", self.observed, rows=rows),
            table_row("hit share, steady state", self.steady, self.steady_sd, *band, rows=rows),
            table_row("TTL (s)", math.nan if self.ttl is None else self.ttl, math.nan, *ttl, rows=rows),
            table_row("warm-up to 90% of steady (s)", warm, rows=rows),
            table_row("reuse counted up to (s)", self.horizon, rows=rows),
        ]

    def __str__(self) -> str:
        ttl = "none (no expiry)" if self.ttl is None else f"{self.ttl:g} s"
        if self.ttl_bounds is not None:
            ttl += f" (estimated: between {self.ttl_bounds[0]:g} and {self.ttl_bounds[1]:g} s)"
        return (f"prompt cache: observed hit share {self.observed:.3f}; steady state {self.steady:.3f} "
                f"+- {self.steady_sd:.3f}; TTL {ttl}; reuse counted up to {self.horizon:g} s")


def table_row(quantity: str, estimate: float, sd: float = math.nan, low: float = math.nan, high: float = math.nan, *,
         rows: int, sessions: int | None = None, qclass: str = "(all)") -> dict[str, Any]:
    """A row of the fit report's cache table."""
    return {"qclass": qclass, "quantity": quantity, "estimate": estimate, "sd": sd, "low": low, "high": high,
            "rows": rows, "sessions": sessions}


def estimate_ttl(reuse: Reuse, cached: np.ndarray) -> tuple[float, float] | None:
    """Bracket the TTL from logged cached tokens: (longest gap of a hit run, shortest gap of a
    reusable run that missed); None where the log has no such runs or they contradict a TTL.

    Examples
    --------
    >>> r = Reuse(np.array([0, 1, 2, 3]), np.array([64.0, 64.0, 64.0]), np.array([100.0, 250.0, 400.0]))
    >>> estimate_ttl(r, np.array([64, 64, 0]))
    (250.0, 400.0)
    """
    n = reuse.offsets.shape[0] - 1
    owner = np.repeat(np.arange(n), np.diff(reuse.offsets))
    hit = reuse.tokens <= cached[owner] + 0.5
    known = np.isfinite(reuse.gap)
    if not (np.any(hit & known) and np.any(~hit & known)):
        return None
    low, high = float(reuse.gap[hit & known].max()), float(reuse.gap[~hit & known].min())
    return (low, high) if low < high else None


def fit_caching(ts: np.ndarray, input_tokens: np.ndarray, cached: np.ndarray | None, reuse: Reuse, *,
                span: float, blocks: np.ndarray, n_blocks: int, ttl: float | None = None, seed: int = 0) -> CacheFit:
    """Estimate the steady-state hit share, its uncertainty, the warm-up and the TTL.

    Parameters
    ----------
    ts : numpy.ndarray
        ``datetime64[ns]`` arrivals, sorted.
    input_tokens : numpy.ndarray
        Prompt tokens.
    cached : numpy.ndarray or None
        Logged cached tokens (None: derived from ``reuse`` and the TTL).
    reuse : Reuse
        The requests' reuse runs.
    span : float
        Seconds the log covers.
    blocks : numpy.ndarray
        Time block of each request, for the bootstrap; ``n_blocks`` of them.
    ttl : float, optional
        The cache's TTL in seconds; estimated from ``cached`` where possible, else none.
    seed : int
        Seed of the bootstrap.
    """
    bounds = None
    if ttl is None and cached is not None:
        bounds = estimate_ttl(reuse, cached)
        ttl = None if bounds is None else bounds[0]
    limit = math.inf if ttl is None else ttl
    logged = reuse.hits(limit) if cached is None else cached.astype(float)
    total = float(input_tokens.sum())
    steady_hits = reuse.weighted_hits(limit, span)
    steady = min(float(steady_hits.sum()) / total, 1.0) if total > 0 else 0.0
    sd = 0.0
    if steady > 0:
        num = np.bincount(blocks, weights=steady_hits, minlength=n_blocks)
        den = np.bincount(blocks, weights=input_tokens.astype(float), minlength=n_blocks)
        sd = steady * math.sqrt(log_ratio_variance(num, den, seed=seed))
    horizon = min(limit, span * (1.0 - 1.0 / MAX_WEIGHT))
    ages = np.unique(np.r_[0.0, np.geomspace(1.0, max(horizon, 1.0), 40)])
    curve = [min(float(reuse.weighted_hits(limit, span, age=a).sum()) / total, 1.0) if total > 0 else 0.0
             for a in ages]
    warm = pd.Series(curve, index=pd.Index(ages, name="age_seconds"), name="hit_share")
    return CacheFit(float(logged.sum()) / total if total > 0 else 0.0, steady, sd, ttl, bounds, horizon, warm,
                    span, reuse, input_tokens)


@dataclasses.dataclass(frozen=True)
class ClassCache:
    """The prompt cache of one query class.

    Attributes
    ----------
    steady : float
        Steady-state cached share of its prompt tokens.
    sd : float
        Its standard error (block bootstrap).
    fit : CacheFit
        The log's cache fit.
    rows : numpy.ndarray
        The class's rows in the log.
    """

    steady: float
    sd: float
    fit: CacheFit = dataclasses.field(repr=False)
    rows: np.ndarray = dataclasses.field(repr=False)

    def fraction(self, *, uncertain: bool, warmup: float | None = None) -> float | Distribution:
        """The class's ``cached_fraction``: the steady state (``warmup=None``) or the mean over the
        first ``warmup`` seconds of a new deployment; with ``uncertain``, drawn per trial from a
        Beta of the same mean and the standard error (``Constant(Beta(...))``)."""
        mean = self.steady if warmup is None else self.fit.warmup_share(self.rows, warmup)
        scale = mean / self.steady if self.steady > 0 else 0.0
        sd = self.sd * scale
        if not uncertain or sd <= 0 or not 0.0 < mean < 1.0:
            return mean
        sd = min(sd, 0.5 * math.sqrt(mean * (1.0 - mean)))  # a Beta needs sd**2 < mean * (1 - mean)
        total = mean * (1.0 - mean) / sd**2 - 1.0
        return Constant(Beta(mean * total, (1.0 - mean) * total))


def parse_hashes(cell: Any) -> tuple:
    """A cell of a prefix-hash column as a tuple of hashes: a list/tuple/array, or its JSON text.

    Examples
    --------
    >>> parse_hashes("[12, 7, 31]"), parse_hashes([1, 2])
    ((12, 7, 31), (1, 2))
    """
    if isinstance(cell, str):
        cell = json.loads(cell)  # data only: JSON never runs code
    if isinstance(cell, np.ndarray):
        cell = cell.tolist()
    if not isinstance(cell, (list, tuple)):
        raise TypeError(f"a list of block hashes; got {type(cell).__name__}")
    out = tuple(cell)
    for h in out:
        if not isinstance(h, (int, str)) or isinstance(h, bool):
            raise TypeError(f"block hashes must be integers or strings; got {h!r}")
    return out
