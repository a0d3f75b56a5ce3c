"""A known session process, for the session-fit tests: costsim's own session model with gaps and a TTL.

Sessions arrive as a Poisson stream.  Each takes ``Geometric(P)`` turns: turn 1
sends a first prompt (lognormal), each later turn the previous prompt and answer
plus ``1 + round(lognormal)`` new user tokens; every answer is lognormal.  Turns
are ``GAP_MEAN`` seconds apart on average (exponential).  The provider's cache
holds a session's previous prompt and answer for ``ttl`` seconds (None: no
expiry), so a turn reads them when it comes within the TTL, and nothing else.
With ``answer_cached=False`` the provider caches the previous prompt but not its
answer (as APIs that cache prompts do): not the session model.
The log starts ``BURN_IN`` seconds into the stream (sessions that began before
it are part of it, as in any real log).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

P = 0.3  # turns per session ~ Geometric(0.3): mean 3.3
FIRST = (math.log(1500.0), 0.6)  # first prompt ~ LogNormal(mu, sigma)
USER = (math.log(120.0), 0.8)  # new user tokens of a later turn ~ 1 + round(LogNormal(mu, sigma))
OUTPUT = (math.log(250.0), 0.7)
GAP_MEAN = 60.0
BURN_IN = 1800.0


def lognormal_mean(mu: float, sigma: float) -> float:
    return math.exp(mu + sigma**2 / 2)


def lognormal_sd(mu: float, sigma: float) -> float:
    return lognormal_mean(mu, sigma) * math.sqrt(math.expm1(sigma**2))


def five_to_nine_turns(rng: np.random.Generator, n: int) -> np.ndarray:
    """Turns that are not Geometric: 5 + Binomial(4, 0.5), mean 7, variance 1."""
    return 5 + rng.binomial(4, 0.5, n)


def session_log(hours: float, *, ttl: float | None = None, sessions_per_hour: float = 200.0,
                answer_cached: bool = True, turns: Callable[[np.random.Generator, int], np.ndarray] | None = None,
                seed: int = 0) -> pd.DataFrame:
    """The log of ``hours`` of the process: timestamp (s), input/output tokens, the provider's
    cached tokens and the session id, sorted by time.  ``turns(rng, n)``: the turns of ``n``
    sessions (default Geometric(P))."""
    rng = np.random.default_rng(seed)
    span = hours * 3600.0
    n = rng.poisson(sessions_per_hour * (span + BURN_IN) / 3600.0)
    starts = rng.uniform(-BURN_IN, span, n)
    turns = rng.geometric(P, n) if turns is None else turns(rng, n)
    rows = int(turns.sum())
    first_row = np.cumsum(turns) - turns
    turn = np.arange(rows) - np.repeat(first_row, turns)
    gaps = np.where(turn > 0, rng.exponential(GAP_MEAN, rows), 0.0)
    elapsed = np.cumsum(gaps)
    t = np.repeat(starts, turns) + elapsed - np.repeat(elapsed[first_row], turns)
    output = np.round(rng.lognormal(*OUTPUT, rows)).astype(np.int64)
    new = np.where(turn == 0, np.round(rng.lognormal(*FIRST, rows)), 1 + np.round(rng.lognormal(*USER, rows)))
    prompt = new.astype(np.int64)
    cached = np.zeros(rows, dtype=np.int64)
    for i in np.flatnonzero(turn > 0):  # in order: the previous turn's prompt is final
        prompt[i] += prompt[i - 1] + output[i - 1]
        if ttl is None or gaps[i] <= ttl:
            cached[i] = prompt[i - 1] + (output[i - 1] if answer_cached else 0)
    frame = pd.DataFrame({"timestamp": t, "input_tokens": prompt, "output_tokens": output, "cached_tokens": cached,
                          "session_id": np.repeat(np.arange(n), turns)})
    inside = (frame.timestamp >= 0.0) & (frame.timestamp < span)
    return frame[inside].sort_values("timestamp", kind="stable").reset_index(drop=True)
