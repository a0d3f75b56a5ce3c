"""Query classes: what one kind of request looks like."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
from scipy import special

from .. import kernels as K
from .._limits import MAX_STEPS, MAX_TAIL_SHARE, MAX_TOKENS_PER_CALL, MAX_TOOL_CALLS
from .._model import Model, request_field, uncertain_parameters
from .._validation import ParameterError, prefixed
from .distributions import Constant, Distribution, DistTable

__all__ = ["DRAW_LIMITS", "QueryClass"]

_TOKEN_FIELDS = ("input_tokens", "output_tokens", "tool_tokens", "reasoning_tokens")
_LIMITS = {
    **{name: (MAX_TOKENS_PER_CALL, "tokens per call") for name in _TOKEN_FIELDS},
    "steps": (MAX_STEPS, "model calls per query"),
    "tool_calls": (MAX_TOOL_CALLS, "tool calls per query"),
}


_SESSION_NAMES = {"input_tokens": "first_prompt", "tool_tokens": "user_tokens", "steps": "turns"}
"""The QueryClass fields that QueryClass.session fills from its arguments."""


def _draw_limits() -> np.ndarray:
    limits = np.ones(K.N_CLASS_DISTS)  # the cached and cache-write fractions: at most 1
    for column in (K.CLS_INPUT, K.CLS_OUTPUT, K.CLS_TOOL, K.CLS_REASONING):
        limits[column] = MAX_TOKENS_PER_CALL
    limits[K.CLS_STEPS] = MAX_STEPS
    limits[K.CLS_TOOL_CALLS] = MAX_TOOL_CALLS
    limits.flags.writeable = False
    return limits


DRAW_LIMITS = _draw_limits()
"""The kernel clips each CLS_* column's draws at these (see :mod:`costsim._limits`)."""


@dataclasses.dataclass(frozen=True)
class QueryClass(Model):
    """One kind of query: its share of traffic and the shape of its requests.

    A query makes ``steps`` model calls.  Call ``k`` sends the original input plus
    everything produced in calls ``< k`` (outputs and, if given, tool/observation
    tokens), so an agentic query's prompt grows step by step; each call's output is
    drawn afresh.  ``cached_fraction`` of every call's prompt is billed as cached
    input.

    Three names that sound alike and count different things:

    * ``steps``: **model calls** per query (the agent loop's iterations; each is
      billed for its prompt and output tokens);
    * ``tool_tokens``: **tokens** a tool returns after each call but the last,
      appended to the next call's prompt (billed as prompt tokens of later calls);
    * ``tool_calls``: **priced tool invocations** per query (web searches, code
      runs) billed per call by ``TokenPricing.fee_per_tool_call``; they add no
      tokens and no model calls.

    So an agent that calls the model 5 times and a search tool twice, reading about
    800 tokens of results between calls, has ``steps=5``, ``tool_calls=2`` and
    ``tool_tokens`` around 800 (distributions, in practice).

    Distribution-valued fields are drawn per request.  To make a per-request
    constant uncertain across trials, wrap a trial-level distribution in
    :class:`~costsim.traffic.Constant`: ``cached_fraction=Constant(Uniform(0.2, 0.5))``.

    Every token draw is clipped at ``costsim._limits.MAX_TOKENS_PER_CALL`` (2**30),
    model calls at ``MAX_STEPS`` (4,096) and tool calls at ``MAX_TOOL_CALLS`` (2**20)
    per query; clipped draws are counted in the result's ``clipped_draws``.  A
    distribution that would draw more than 1% of its values beyond its limit is
    refused.

    Parameters
    ----------
    name : str
        Unique name; results are labelled with it.
    share : float or Distribution
        Share of requests (relative weight; shares are normalised to sum to 1 in
        every trial).  A distribution makes the share uncertain across trials.
    input_tokens : Distribution
        Prompt tokens of the first call (later calls add the context produced so
        far), rounded to the nearest integer.
    output_tokens : Distribution
        Output tokens of each call, rounded to the nearest integer.
    cached_fraction : float or Distribution, default 0
        Fraction of each call's prompt served from the provider's prompt cache, in [0, 1].
    steps : int or Distribution, default 1
        Model calls per query (>= 1), e.g. ``Geometric(p=0.25)`` for an agent loop.
        Not tool calls: see ``tool_calls``.
    tool_tokens : Distribution, optional
        Tool/observation tokens appended to the context after each model call but
        the last (they are prompt tokens of the later calls).
    service_tier : str, default "standard"
        The service tier its calls use ("batch", "flex", "priority", ...); every
        option it is priced under must offer it.
    cache_write_fraction : float or Distribution, default 0
        Fraction of each call's prompt written to the prompt cache (billed at the
        cache-write rate); together with ``cached_fraction`` at most the prompt.
    cache_write_ttl : {"5m", "1h"}, default "5m"
        Lifetime of the cache writes, which selects their rate.
    reasoning_tokens : Distribution, optional
        Reasoning tokens of each call: billed (at the reasoning rate), not sent back.
    tool_calls : int or Distribution, default 0
        Priced tool invocations per query (e.g. web searches), billed per call by
        ``TokenPricing.fee_per_tool_call``; not model calls (those are ``steps``)
        and no tokens (those are ``tool_tokens``).
    io_rank_correlation : float or Distribution, default 0
        Rank (Spearman) correlation between a query's input tokens and the output
        tokens of each of its calls, in [-1, 1], through a Gaussian copula: the
        marginal distributions stay exactly as given (sampled through their
        quantile functions, tabulated at 16,385 normal scores), only their
        dependence changes.  Needs concrete (not uncertain) ``input_tokens`` and
        ``output_tokens``; the correlation itself may be uncertain.
    prefix_cache : bool or "prompt", default False
        Prefix caching across calls (multi-turn sessions, agent loops): with
        True, each call after the first reads the previous call's prompt and
        output from the prompt cache, so its cached fraction grows turn by turn;
        with ``"prompt"``, the previous call's prompt only (an API that caches
        prompts but not the answers it generated: each answer is read in full
        once more, in the next call).  ``cached_fraction`` then applies to the
        first call only.  See :meth:`session`.

    Examples
    --------
    >>> from costsim import LogNormal, Geometric
    >>> agent = QueryClass(
    ...     "agent", share=0.1,
    ...     input_tokens=LogNormal.from_median_p90(2000, 8000),
    ...     output_tokens=LogNormal.from_median_p90(300, 1200),
    ...     steps=Geometric(p=0.25),
    ... )
    >>> agent.name, agent.steps.mean()
    ('agent', 4.0)
    >>> QueryClass("bad", share=-1, input_tokens=agent.input_tokens, output_tokens=agent.output_tokens)
    Traceback (most recent call last):
    ...
    costsim._validation.ParameterError: QueryClass 'bad': share must be >= 0; got -1
    """

    name: str
    share: float
    input_tokens: Distribution = request_field()
    output_tokens: Distribution = request_field()
    cached_fraction: float | Distribution = request_field(default=0.0)
    steps: int | Distribution = request_field(default=1)
    tool_tokens: Distribution | None = request_field(default=None)
    service_tier: str = "standard"
    cache_write_fraction: float | Distribution = request_field(default=0.0)
    cache_write_ttl: str = "5m"
    reasoning_tokens: Distribution | None = request_field(default=None)
    tool_calls: int | Distribution = request_field(default=0)
    io_rank_correlation: float | Distribution = 0.0
    prefix_cache: bool | str = False

    @property
    def _label(self) -> str:
        return f"QueryClass {self.name!r}"

    def _validate(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            self._fail("name", "must be a non-empty string", self.name)
        self._number("share", low=0.0)
        self._distribution("input_tokens", low=0.0)
        self._distribution("output_tokens", low=0.0)
        if isinstance(self.cached_fraction, Distribution):
            self._distribution("cached_fraction", low=0.0, high=1.0)
        else:
            self._number("cached_fraction", low=0.0, high=1.0)
        if isinstance(self.steps, Distribution):
            self._distribution("steps", low=0.0)
        else:
            self._int("steps", low=1, high=MAX_STEPS)
        if self.tool_tokens is not None:
            self._distribution("tool_tokens", low=0.0)
        if not isinstance(self.service_tier, str) or not self.service_tier:
            self._fail("service_tier", "must be a non-empty string such as 'standard' or 'batch'", self.service_tier)
        if isinstance(self.cache_write_fraction, Distribution):
            self._distribution("cache_write_fraction", low=0.0, high=1.0)
        else:
            self._number("cache_write_fraction", low=0.0, high=1.0)
            if isinstance(self.cached_fraction, float) and self.cached_fraction + self.cache_write_fraction > 1.0:
                self._fail("cache_write_fraction", f"must be <= 1 - cached_fraction ({1 - self.cached_fraction:g})",
                           self.cache_write_fraction)
        if self.cache_write_ttl not in ("5m", "1h"):
            self._fail("cache_write_ttl", "must be '5m' or '1h'", self.cache_write_ttl)
        if self.reasoning_tokens is not None:
            self._distribution("reasoning_tokens", low=0.0)
        if isinstance(self.tool_calls, Distribution):
            self._distribution("tool_calls", low=0.0)
        else:
            self._int("tool_calls", low=0, high=MAX_TOOL_CALLS)
        for name, (limit, what) in _LIMITS.items():
            self._within_limit(name, limit, what)
        self._number("io_rank_correlation", low=-1.0, high=1.0)
        if self.io_rank_correlation != 0.0:
            for name in ("input_tokens", "output_tokens"):
                if uncertain_parameters(getattr(self, name)):
                    self._fail(name, "must have concrete parameters when io_rank_correlation is set (the copula "
                               "tabulates its quantile function once)", getattr(self, name))
        if not (isinstance(self.prefix_cache, bool) or (isinstance(self.prefix_cache, str) and
                                                          self.prefix_cache == "prompt")):
            self._fail("prefix_cache", "must be true, false or 'prompt'", self.prefix_cache)

    @classmethod
    def session(
        cls,
        name: str,
        share: float | Distribution,
        *,
        first_prompt: Distribution,
        user_tokens: Distribution,
        output_tokens: Distribution,
        turns: int | Distribution,
        prefix_cache: bool | str = True,
        **fields: Any,
    ) -> "QueryClass":
        """A multi-turn conversation as one query: its context grows turn by turn.

        Turn 1 sends ``first_prompt`` tokens (system prompt, documents, the first
        message); each later turn re-sends the whole conversation so far plus
        ``user_tokens`` new tokens, and reads everything but those from the prompt
        cache (``prefix_cache=True``; ``"prompt"`` where the API caches prompts
        but not answers).  Costs and unit costs are per conversation.

        Parameters
        ----------
        name : str
            Unique name; results are labelled with it.
        share : float or Distribution
            Share of requests, as for :class:`QueryClass`.
        first_prompt : Distribution
            Prompt tokens of the first turn (system prompt, documents, first message).
        user_tokens : Distribution
            New user tokens of each later turn.
        output_tokens : Distribution
            Output tokens of each turn.
        turns : int or Distribution
            Turns per conversation (>= 1).
        prefix_cache : bool or "prompt", default True
            What a later turn reads from the prompt cache: the previous turn's
            prompt and answer (True), its prompt alone (``"prompt"``) or
            nothing (False).
        **fields
            Any other :class:`QueryClass` field (``reasoning_tokens``, ``service_tier``, ...).

        Examples
        --------
        >>> from costsim import Constant
        >>> chat = QueryClass.session("chat", 1.0, first_prompt=Constant(1000), user_tokens=Constant(50),
        ...                           output_tokens=Constant(200), turns=3)
        >>> chat.steps, chat.prefix_cache
        (3, True)

        Turn 2 sends 1000 + 200 + 50 tokens and reads 1200 of them from the cache (1000 where
        the API caches prompts only); turn 3 sends 1500 and reads 1450 (1250).
        """
        try:
            return cls(name, share, input_tokens=first_prompt, output_tokens=output_tokens, steps=turns,
                       tool_tokens=user_tokens, prefix_cache=prefix_cache, **fields)
        except ParameterError as err:  # name the arguments of session, not the fields they fill
            head, dot, rest = err.path.partition(".")
            renamed = _SESSION_NAMES.get(head, head)
            raise ParameterError(renamed + dot + rest, err.rule, err.value, err.owner) from None

    def _lower_copula(self, table: DistTable) -> list[float]:
        """``[rho, input table offset, output table offset]`` of the class's Gaussian
        copula (appending the tables to ``table``); zeros for independent draws."""
        if self.io_rank_correlation == 0.0:
            return [0.0, 0.0, 0.0]
        rho = 2.0 * math.sin(math.pi * self.io_rank_correlation / 6.0)  # Pearson rho of the normal scores
        scores = np.linspace(-K.NSCORE_MAX, K.NSCORE_MAX, K.NSCORE_POINTS)
        return [rho, *(table.add_data(_quantiles(dist, scores)) for dist in (self.input_tokens, self.output_tokens))]

    def _flags(self) -> int:
        """The kernel's FLAG_* bits of this class."""
        flags = K.FLAG_TTL_1H if self.cache_write_ttl == "1h" else 0
        if self.prefix_cache:
            flags |= K.FLAG_PREFIX_CACHE | (K.FLAG_PREFIX_PROMPT_ONLY if self.prefix_cache == "prompt" else 0)
        return flags

    def _distribution(self, name: str, low: float, high: float | None = None) -> None:
        value = getattr(self, name)
        if not isinstance(value, Distribution):
            self._fail(name, "must be a costsim Distribution", value)
        if uncertain_parameters(value):
            return  # its support is checked once a trial has drawn the parameters
        with prefixed(owner=self._label):
            lo, hi = value.support()
        if lo < low or (high is not None and hi > high):
            bounds = f"[{low:g}, {high:g}]" if high is not None else f">= {low:g}"
            self._fail(name, f"must have support within {bounds}", value)

    def _within_limit(self, name: str, limit: int, what: str) -> None:
        """Refuse a distribution that draws more than MAX_TAIL_SHARE of its values
        above ``limit`` (the kernel clips the rare ones and counts them)."""
        value = getattr(self, name)
        if not isinstance(value, Distribution) or uncertain_parameters(value):
            return  # a number is checked by its range; an uncertain one once a trial has drawn it
        with prefixed(name, owner=self._label):
            above = 1.0 - float(value.cdf(limit))
        if above > MAX_TAIL_SHARE:
            self._fail(name, f"must draw at least {1 - MAX_TAIL_SHARE:.0%} of its values within the limit of "
                       f"{limit} {what} ({above * 100:.3g}% of its draws lie above)", value)

    def _lower(self, table: DistTable) -> list[int]:
        """Append this class's distributions to ``table``; return its row per CLS_* column."""
        rows = [0] * K.N_CLASS_DISTS
        rows[K.CLS_INPUT] = self.input_tokens._lower(table)
        rows[K.CLS_OUTPUT] = self.output_tokens._lower(table)
        rows[K.CLS_CACHED] = _as_distribution(self.cached_fraction)._lower(table)
        rows[K.CLS_STEPS] = _as_distribution(self.steps)._lower(table)
        rows[K.CLS_TOOL] = _as_distribution(0.0 if self.tool_tokens is None else self.tool_tokens)._lower(table)
        rows[K.CLS_CACHE_WRITE] = _as_distribution(self.cache_write_fraction)._lower(table)
        rows[K.CLS_REASONING] = _as_distribution(0.0 if self.reasoning_tokens is None else self.reasoning_tokens)._lower(table)
        rows[K.CLS_TOOL_CALLS] = _as_distribution(self.tool_calls)._lower(table)
        return rows


def _quantiles(dist: Distribution, scores: np.ndarray) -> np.ndarray:
    """``dist``'s quantile function at the normal scores; an infinite end (a score
    whose probability rounds to 1) is clipped to the nearest finite quantile."""
    values = np.asarray(dist.ppf(special.ndtr(scores)), dtype=float)
    finite = np.isfinite(values)
    return np.clip(values, values[finite].min(), values[finite].max())


def _as_distribution(value: float | Distribution) -> Distribution:
    return value if isinstance(value, Distribution) else Constant(value)
