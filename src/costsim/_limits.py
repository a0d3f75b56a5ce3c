"""Numeric limits of a simulation (see the README's "Security and limits").

Inputs beyond these limits are refused with a :class:`~costsim.ParameterError`
naming the field, the limit and the value.  A heavy-tailed distribution may still
draw beyond a per-draw limit now and then: the kernel clips such draws at the
limit, counts them in the result's ``clipped_draws`` and :func:`costsim.simulate`
warns.  The limits sit far above anything a real product sees and far below the
point where token sums stop being exact in float64 (2**53) or fit in int64.
"""

MAX_TOKENS_PER_CALL = 2**30
"""Tokens of one draw of a prompt, output, tool or reasoning distribution
(1,073,741,824: a hundred times the largest context windows on offer)."""

MAX_STEPS = 4096
"""Model calls of one query (agent steps, conversation turns)."""

MAX_TOOL_CALLS = 2**20
"""Priced tool calls of one query."""

MAX_REQUESTS_PER_BIN = 2**40
"""Expected requests of one class in one time bin (about 1.1e12)."""

MAX_VOLUME = 1e15
"""Requests per day of :class:`~costsim.Arrivals`."""

MAX_PRICE = 1e6
"""Any USD price or rate: per million tokens, per request, per tool call, per
unit-hour or GPU-hour, per month; and a price multiplier."""

MAX_MONTHLY = 1e12
"""USD per month of a commitment or a fixed monthly overhead."""

MAX_UNITS = 2**30
"""Capacity units, GPUs per replica, replicas and scaling steps of a capacity model."""

MAX_THROUGHPUT = 1e9
"""Tokens per second of one capacity unit or GPU (above any real accelerator)."""

MIN_THROUGHPUT = 1e-3
"""Tokens per second of one capacity unit or GPU (below any real one)."""

MAX_TAIL_SHARE = 0.01
"""A request-level distribution whose probability of drawing beyond its limit
exceeds this share is refused (it describes something else than requests: a
wrong unit, a misplaced parameter); below it, draws beyond are clipped and counted."""
