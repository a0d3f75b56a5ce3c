"""A known prefix-cache process, for the caching tests: chat sessions with growing shared prefixes and a TTL.

Sessions arrive as a Poisson stream.  Each opens with one of a few shared system
prompts, then takes turns: turn ``k`` sends the system prompt, every earlier
turn's user message and answer, and a new user message.  Prompts are hashed in
blocks of ``BLOCK`` tokens (full blocks only): the system prompt's blocks are
shared by every session that uses it, the rest belong to the session (a
prompt only appends, so block ``j`` of a session never changes).  The provider's
cache holds a block for ``TTL`` seconds after its last use; a request reads its
leading blocks that are all still held.  A ``warm`` log starts ``BURN_IN``
seconds into the stream, so the provider's cache is warm when it begins; a cold
one is a new deployment's first hours, its cache empty at the start.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd

BLOCK = 64
TTL = 300.0
BURN_IN = 3600.0
SYSTEM_PROMPTS = (640, 1280, 2048, 3000)
TURN_P = 0.3  # turns per session ~ Geometric(0.3): mean 3.3
THINK_MEAN = 180.0  # seconds between a session's turns (exponential): 19 % longer than the TTL


@functools.cache
def session_log(hours: float, *, warm: bool = False, sessions_per_hour: float = 300.0, seed: int = 0) -> pd.DataFrame:
    """The log of ``hours`` of the process: timestamp (s), input/output tokens, prefix hashes
    (lists), the provider's cached tokens and the session id, sorted by time."""
    rng = np.random.default_rng(seed)
    span, burn_in = hours * 3600.0, BURN_IN if warm else 0.0
    n_sessions = rng.poisson(sessions_per_hour * (span + burn_in) / 3600.0)
    starts = rng.uniform(-burn_in, span, n_sessions)
    rows = []
    for sid, t in enumerate(starts):
        system = int(rng.integers(len(SYSTEM_PROMPTS)))
        context = SYSTEM_PROMPTS[system]
        for _ in range(int(rng.geometric(TURN_P))):
            user = round(rng.lognormal(math.log(150), 0.8)) + 1
            out = round(rng.lognormal(math.log(250), 0.7)) + 1
            prompt = context + user
            # block hashes (integers): the system prompt's shared, the rest the session's own
            blocks = [system * 1_000 + j if (j + 1) * BLOCK <= SYSTEM_PROMPTS[system] else 10**7 + sid * 10**4 + j
                      for j in range(prompt // BLOCK)]
            rows.append((t, prompt, out, blocks, sid))
            context = prompt + out
            t += rng.exponential(THINK_MEAN)
    rows.sort(key=lambda r: r[0])
    last: dict = {}
    cached = []
    for t, prompt, _, blocks, _ in rows:
        hit = 0
        while hit < len(blocks) and t - last.get(blocks[hit], -math.inf) <= TTL:
            hit += 1
        cached.append(hit * BLOCK)
        for b in blocks:
            last[b] = t
    frame = pd.DataFrame({
        "timestamp": [r[0] for r in rows], "input_tokens": [r[1] for r in rows],
        "output_tokens": [r[2] for r in rows],
        "prefix_hashes": [r[3] for r in rows],
        "cached_tokens": cached, "session_id": [r[4] for r in rows],
    })
    return frame[(frame.timestamp >= 0.0) & (frame.timestamp < span)].reset_index(drop=True)


def steady_hit_share(hours: float = 40.0, seed: int = 99) -> float:
    """The process's steady-state hit share: the provider's over a long, warm run."""
    log = session_log(hours, warm=True, seed=seed)
    return float(log.cached_tokens.sum() / log.input_tokens.sum())
