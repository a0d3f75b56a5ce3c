"""Conversations learned from a log's session ids: costsim's session model, fitted turn by turn.

costsim's session model (:meth:`costsim.QueryClass.session`) prices a
conversation as one query: turn 1 sends ``first_prompt`` tokens; each later turn
re-sends the previous prompt and its answer, read from the prompt cache, plus
``user_tokens`` new ones; every turn draws its ``output_tokens``.  A log whose
rows carry a session (conversation) id shows each of these quantities:

* a **run** is what the cache sees of a session: its turns, each within the TTL
  of the one before (no expiry where the TTL is unknown).  A longer pause empties
  the cache, so the next turn opens a new run whose first prompt is the whole
  conversation so far.  Each run is one query of the model;
* **turns per run**: a Geometric fitted by maximum likelihood, or, where a
  likelihood-ratio test rejects it, a hazard per turn
  (:mod:`costsim.calibrate.turns`: a conversation's cost grows with the square
  of its turns, so their spread matters).  A run whose first logged turn lies
  within the *edge* (the 99th percentile of the gaps between a run's turns) of
  the log's start may have begun before it: it is left out.  A run whose last
  turn lies within the edge of the log's end may go on after it: it counts as
  right-censored (at least its logged turns);
* **first prompt**: the first prompts of the runs that began in the log;
* **user tokens**: each later turn's prompt less the previous prompt and
  answer.  Where more than :data:`MAX_SHRINKING` of the turns shrink (a
  context cut, a prompt edited), the log does not follow the model, and no
  session class is fitted (the note says so);
* **output tokens**: every turn's (the class's own fit);
* **the cache**: where the log has cached tokens (a provider's column, or hits
  derived from prefix hashes), what its later turns read from it: the previous
  prompt and answer (``prefix_cache=True``), or the previous prompt alone (an
  API that caches prompts, not answers; prefix hashes show this too, since an
  answer is hashed only once it is re-sent), whichever the logged hits of the
  later turns are nearer (:attr:`SessionFit.prefix_cache`); without cached
  tokens, the previous prompt and answer;
* **gaps** between turns: not in the model (a query's turns are priced in the
  bin it arrives in); :attr:`SessionFit.gap_median` and the share of pauses
  longer than the TTL (:attr:`SessionFit.expired`) are reported;
* **burstiness**: of the runs' starts (:attr:`SessionFit.arrivals`, set by
  :func:`~costsim.calibrate.fit_traffic`): the rows of a log cluster by
  session, so their counts per bin are overdispersed even where sessions
  arrive as a Poisson stream, and the model clusters the turns already.

The prompt cache across sessions (a shared system prompt, seen in prefix
hashes) is the first turn's ``cached_fraction``: the steady-state hit share of
the runs' first prompts (:mod:`costsim.calibrate.caching`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..traffic.distributions import Empirical, Geometric
from .arrivals import ArrivalFit
from .caching import previous_in_session, table_row
from .tokens import TokenFit, fit_tokens
from .turns import TurnsFit, fit_turns

__all__ = ["MAX_SHRINKING", "MIN_RUNS", "SessionFit", "fit_sessions"]

#: Most share of later turns whose prompt may shrink (a context cut) for the session model to be fitted.
MAX_SHRINKING = 0.05
#: Fewest runs that began in the log, and fewest later turns, a session fit needs.
MIN_RUNS = 20


@dataclasses.dataclass(frozen=True)
class SessionFit:
    """A log class's conversations fitted to costsim's session model (see :mod:`costsim.calibrate.sessions`).

    Attributes
    ----------
    turns : Geometric or Empirical
        Turns per run (model calls per query): the Geometric, or a hazard per turn
        where the log rejects it (:class:`~costsim.calibrate.turns.TurnsFit`).
    turns_sd : float
        Standard error of the mean turns per run.
    first_prompt, user_tokens : TokenFit
        The fits of the runs' first prompts and of the later turns' new tokens.
    sessions : int
        Distinct session ids of the class.
    runs : int
        Runs (queries) in the log.
    runs_fitted : int
        Runs that began in the log (the turns and first prompts are fitted on these).
    censored : int
        Of those, runs that may go on after the log.
    first_rows : numpy.ndarray
        The rows (indices into the rows fitted) of every run's first turn.
    turns_fit : TurnsFit
        The fit of the turns: the Geometric, its test, the standard errors.
    gap_median : float
        Median seconds between a session's turns (NaN without any).
    expired : float
        Share of a session's pauses longer than the TTL (each opens a new run; 0 without a TTL).
    pauses : int
        Pauses between a session's turns in the log.
    shrinking : float
        Share of later turns whose prompt is shorter than the previous prompt and answer (set to 0 new tokens).
    edge : float
        Seconds at the log's ends within which a run may be cut by them.
    prefix_cache : bool or "prompt"
        What a later turn reads from the cache, as the log shows it: the previous
        prompt and answer (True) or the previous prompt alone (``"prompt"``);
        the projected class's :attr:`~costsim.QueryClass.prefix_cache`.
    arrivals : ArrivalFit or None
        The arrivals of the runs' first turns, whose burstiness the projected class takes.
    """

    turns: Geometric | Empirical
    turns_sd: float
    first_prompt: TokenFit
    user_tokens: TokenFit
    sessions: int
    runs: int
    runs_fitted: int
    censored: int
    first_rows: np.ndarray = dataclasses.field(repr=False)
    turns_fit: TurnsFit = dataclasses.field(repr=False)
    gap_median: float = math.nan
    expired: float = 0.0
    pauses: int = 0
    shrinking: float = 0.0
    edge: float = 0.0
    prefix_cache: bool | str = True
    arrivals: ArrivalFit | None = None

    @property
    def mean_turns(self) -> float:
        """Mean turns per run: the log's requests per query of the fitted class."""
        return float(self.turns.mean())

    def table_rows(self, qclass: str, first_turn: tuple[float, float] | None) -> list[dict[str, Any]]:
        """The fit report's rows of the class's sessions (see :class:`~costsim.calibrate.FitReport`);
        ``first_turn``: the steady hit share of the runs' first prompts and its sd, where learned."""
        runs = {"rows": self.runs_fitted, "sessions": self.sessions, "qclass": qclass}
        rows = [
            table_row("turns per run", self.mean_turns, self.turns_sd, **runs),
            table_row("first prompt tokens, mean", self.first_prompt.distribution.mean(), **runs),
            table_row("new tokens per later turn, mean", self.user_tokens.distribution.mean(),
                 **{**runs, "rows": self.user_tokens.n}),
            table_row("gap between turns, median (s)", self.gap_median, **{**runs, "rows": self.pauses}),
            table_row("pauses longer than the TTL", self.expired, **{**runs, "rows": self.pauses}),
        ]
        if first_turn is not None:
            rows.append(table_row("first-turn hit share, steady state", *first_turn, **{**runs, "rows": self.runs}))
        return rows


@dataclasses.dataclass(frozen=True)
class _Runs:
    """The runs of a class's rows: per row its previous turn in the run (-1 for a run's first) and its run."""

    previous: np.ndarray
    run: np.ndarray
    gaps: np.ndarray
    expired: int


def _runs(t: np.ndarray, session: np.ndarray, ttl: float) -> _Runs:
    prev = previous_in_session(session)
    linked = np.flatnonzero(prev >= 0)
    gaps = t[linked] - t[prev[linked]]
    cut = gaps > ttl
    prev[linked[cut]] = -1
    order = np.lexsort((t, pd.factorize(session)[0]))  # by session, then time: a run's turns in a row
    run = np.empty(t.size, dtype=np.int64)
    run[order] = np.cumsum(prev[order] < 0) - 1
    return _Runs(prev, run, gaps, int(np.count_nonzero(cut)))


def fit_sessions(t: np.ndarray, session: np.ndarray, input_tokens: np.ndarray, output_tokens: np.ndarray, *,
                 span: float, ttl: float | None = None, families: Sequence[str] | None = None, seed: int = 0,
                 name: str = "", limit: int | None = None,
                 cached: np.ndarray | None = None) -> tuple[SessionFit | None, str]:
    """Fit the session model to the rows of one log class (sorted by time).

    Parameters
    ----------
    t : numpy.ndarray
        Seconds since the log's start, sorted.
    session : numpy.ndarray
        Session id of each row.
    input_tokens, output_tokens : numpy.ndarray
        Each row's prompt and output tokens.
    span : float
        Seconds the log covers.
    ttl : float, optional
        The prompt cache's TTL in seconds (None: no expiry).
    families : sequence of str, optional
        Token families (see :func:`~costsim.calibrate.fit_tokens`).
    seed : int
        Seed of the token fits' subsamples.
    name : str
        Label of the class for the messages.
    limit : int, optional
        Most prompt tokens of a request (a context window): the first prompt's fit is capped there.
    cached : numpy.ndarray, optional
        Each row's cached prompt tokens, logged or derived from prefix hashes (None: the model's).

    Returns
    -------
    (SessionFit or None, str)
        The fit, or None where the log does not support one; and a note saying which.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> rows = []
    >>> for s, start in enumerate(rng.uniform(0, 36_000, 400)):
    ...     prompt = 500 + int(rng.integers(0, 500))
    ...     for k in range(int(rng.geometric(0.4))):
    ...         out = int(rng.integers(50, 150))
    ...         rows.append((start + 60.0 * k, s, prompt, out))
    ...         prompt += out + int(rng.integers(20, 80))
    >>> t, sid, inp, out = map(np.array, zip(*sorted(rows)))
    >>> fit, note = fit_sessions(t, sid, inp, out, span=36_000.0, families=["LogNormal"])
    >>> round(fit.mean_turns, 1), fit.runs, note
    (2.4, 400, '400 sessions, 400 runs (399 began in the log, 2 of them may go on after it), 2.4 turns per run')
    """
    label = f"class {name!r}: " if name else ""
    expiry = math.inf if ttl is None else ttl
    runs = _runs(t, session, expiry)
    later = np.flatnonzero(runs.previous >= 0)
    opening = np.flatnonzero(runs.previous < 0)
    first = np.empty(opening.size, dtype=np.int64)
    first[runs.run[opening]] = opening  # each run's first row, by run
    within = runs.gaps[runs.gaps <= expiry]
    edge = float(np.quantile(within, 0.99)) if within.size else 0.0
    n_runs = first.size
    turns = np.bincount(runs.run, minlength=n_runs)
    last_t = np.full(n_runs, -math.inf)
    np.maximum.at(last_t, runs.run, t)
    began = t[first] >= edge  # a run opening within the edge of the start may have begun before the log
    fitted = np.flatnonzero(began)
    censored = last_t[fitted] > span - edge
    n_sessions = int(np.unique(session).size)
    if fitted.size < MIN_RUNS or later.size < MIN_RUNS:
        return None, (f"{label}{n_sessions} sessions, {n_runs} runs ({fitted.size} began in the log) with "
                      f"{later.size} later turns: too few for the session model (needs >= {MIN_RUNS} of each)")
    added = input_tokens[later] - input_tokens[runs.previous[later]] - output_tokens[runs.previous[later]]
    shrinking = float(np.mean(added < 0))
    if shrinking > MAX_SHRINKING:
        return None, (f"{label}{shrinking:.1%} of later turns send less than the previous prompt and answer "
                      f"(a context cut or edit; more than {MAX_SHRINKING:.0%}): not the session model, whose "
                      "context only grows")
    prefix_cache, cache_note = (True, "") if cached is None else \
        _cache_mode(input_tokens, output_tokens, cached, runs.previous, later)
    if censored.all():
        return None, f"{label}every run that began in the log may go on after it: turns per run not estimable"
    turns_fit = fit_turns(turns[fitted], censored, seed=seed)
    fit = SessionFit(
        turns=turns_fit.distribution, turns_sd=turns_fit.mean_sd, turns_fit=turns_fit,
        first_prompt=fit_tokens(input_tokens[first[fitted]], families=families, name=f"{label}first_prompt",
                                seed=seed, limit=limit),
        user_tokens=fit_tokens(np.maximum(added, 0), families=families, name=f"{label}user_tokens", seed=seed),
        sessions=n_sessions, runs=n_runs, runs_fitted=int(fitted.size), censored=int(censored.sum()),
        first_rows=first, gap_median=float(np.median(runs.gaps)) if runs.gaps.size else math.nan,
        expired=runs.expired / runs.gaps.size if runs.gaps.size else 0.0, pauses=int(runs.gaps.size),
        shrinking=shrinking, edge=edge, prefix_cache=prefix_cache)
    return fit, (f"{label}{n_sessions} sessions, {n_runs} runs ({fit.runs_fitted} began in the log, {fit.censored} "
                 f"of them may go on after it), {fit.mean_turns:.2g} turns per run{_turns_note(turns_fit)}"
                 f"{cache_note}")


def _turns_note(fit: TurnsFit) -> str:
    """What the note says of the turns where they are not Geometric."""
    if fit.distribution is fit.geometric:
        return ""
    p_value = f"p = {fit.test:.2g}" if fit.test >= 1e-4 else "p < 0.0001"
    return (f" (not Geometric, {p_value} against a hazard per turn: the turns are the hazards' "
            f"distribution, p90 {fit.distribution.ppf(0.9):g})")


def _cache_mode(input_tokens: np.ndarray, output_tokens: np.ndarray, cached: np.ndarray, previous: np.ndarray,
                later: np.ndarray) -> tuple[bool | str, str]:
    """What the later turns of a log read from the cache: the previous prompt and answer (True) or the
    previous prompt alone (``"prompt"``), whichever their logged cached tokens are nearer in total; and
    a note where it is the prompt alone."""
    before = previous[later]
    answered = float(np.minimum(input_tokens[before] + output_tokens[before], input_tokens[later]).sum())
    prompt_only = float(np.minimum(input_tokens[before], input_tokens[later]).sum())
    logged = float(cached[later].sum())
    if answered <= 0 or abs(logged - prompt_only) >= abs(logged - answered):
        return True, ""
    return "prompt", (f"; the later turns read {logged / answered:.0%} of the previous prompt and answer from the "
                      f"cache, nearer the previous prompt alone ({prompt_only / answered:.0%}): prompts are "
                      "cached, answers not (prefix_cache='prompt')")
