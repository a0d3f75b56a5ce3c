"""Fuzz ``costsim.price`` (trace replay of API calls with the simulation's compiled code).

Property: ``price`` either raises a ValueError/TypeError naming an argument that was
given a hostile value (when a single one was, that one), or returns an array of the
broadcast shape of its arguments whose costs are finite and >= 0.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import costsim as cs
from costsim._model import uncertain_parameters

from ._fuzz import (
    HOSTILE,
    NASTY_INTS,
    Refused,
    Spec,
    attempt,
    build,
    field_names,
    fuzz_tests,
    junk,
    nasty_numbers,
    show,
    token_pricings,
)

TOKEN_ARGS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens",
              "tool_calls")


def _counts(n: int, high: int) -> st.SearchStrategy:
    """Sane token counts: a scalar (int, integral float, numpy int) or ``n`` of them."""
    scalar = st.one_of(st.integers(0, high), st.integers(0, high).map(float), st.integers(0, high).map(np.int64))
    return st.one_of(scalar, st.lists(st.integers(0, high), min_size=n, max_size=n),
                     st.lists(st.integers(0, high), min_size=n, max_size=n).map(np.array))


def _hostile_counts(n: int) -> st.SearchStrategy:
    return st.one_of(
        nasty_numbers(), junk(),
        st.sampled_from([1e19, 2**63, 2**64, 10**400, -1, 1.5, np.uint64(2**64 - 1), 2**31 - 1, 2**40]),
        st.lists(st.sampled_from(NASTY_INTS), min_size=n, max_size=n),
        st.lists(st.integers(0, 100), min_size=n + 1, max_size=n + 2),  # cannot broadcast
        st.just([[1, 2], [3]]), st.just([]), st.just(np.zeros((0,), dtype=np.int64)),
        st.just(np.array([1.0, np.nan])), st.just(np.array(["1", "2"])), st.just(np.array([True, False])),
        st.just(np.ones((2, 1, n), dtype=np.int64)),
    )


@st.composite
def price_calls(draw):
    """``(model, keyword arguments, hostile argument names)`` of one ``price`` call."""
    n = draw(st.integers(1, 4))
    hostile: set[str] = set()
    if draw(HOSTILE):
        model = draw(st.one_of(st.sampled_from(["no-such-model", "", "GPT-4O", 42, None]), junk()))
        hostile.add("model")
    else:
        model = draw(st.one_of(st.sampled_from(["gpt-4o", "claude-sonnet-4-5", "gemini/gemini-2.5-pro"]),
                               token_pricings(uncertain=False), token_pricings()))
        if isinstance(model, Spec) and model.tainted:
            hostile.add("model")
    kwargs = {}
    for name, high in zip(TOKEN_ARGS, (400_000, 20_000, 0, 0, 20_000, 5)):
        if draw(HOSTILE):
            kwargs[name] = draw(_hostile_counts(n))
            hostile.add(name)
        elif high:
            kwargs[name] = draw(_counts(n, high))
    if "input_tokens" not in kwargs or "output_tokens" not in kwargs:  # required
        kwargs.setdefault("input_tokens", 1_000)
        kwargs.setdefault("output_tokens", 100)
    if "input_tokens" not in hostile and draw(st.booleans()):  # cache reads / writes within the prompt
        prompt = int(np.min(kwargs["input_tokens"]))
        kwargs.setdefault("cache_read_tokens", draw(st.integers(0, prompt // 2)))
        kwargs.setdefault("cache_write_tokens", draw(st.integers(0, prompt // 2)))
    for name, sane, bad in (
        ("service_tier", st.sampled_from([None, "standard"]), st.one_of(st.sampled_from(["nope", "", 7]), junk())),
        ("cache_write_ttl", st.sampled_from(["5m", "1h"]), st.one_of(st.sampled_from(["2h", "5M"]), junk())),
        ("when", st.one_of(st.none(), st.sampled_from(["2026-01-05T03:00", "2026-01-10T12:00",
                                                        np.datetime64("2026-01-05T12:00")]),
                           st.just(np.array(["2026-01-05T00:00"] * n, dtype="datetime64[ns]"))),
         st.one_of(st.sampled_from(["abc", 1e30, "2262-04-12", "1677-01-01", np.datetime64("NaT"), [],
                                    "2026-01-05T00:00+99:00", 10**20]), junk())),
    ):
        if draw(HOSTILE):
            kwargs[name] = draw(bad)
            hostile.add(name)
        elif draw(st.booleans()):
            kwargs[name] = draw(sane)
    return model, kwargs, frozenset(hostile)


def _shape(kwargs) -> tuple[int, ...]:
    shapes = [np.shape(kwargs[name]) for name in TOKEN_ARGS if name in kwargs]
    if kwargs.get("when") is not None:
        shapes.append(np.shape(kwargs["when"]))
    return np.broadcast_shapes(*shapes)


def _price(call) -> None:
    """price refuses naming a hostile argument, or returns finite costs >= 0 of the broadcast shape."""
    model_spec, kwargs, hostile = call
    try:
        model = build(model_spec)
    except Refused:
        return
    names = set(hostile)  # one hostile argument: that one must be named
    if "model" in hostile and isinstance(model_spec, Spec):
        names |= field_names(model_spec)
    if not hostile:
        names = {"model", *kwargs}
    if isinstance(model, cs.TokenPricing) and uncertain_parameters(model):
        names |= {"model"}  # price() needs concrete rates
    try:
        cost = attempt(cs.price, model, names=names, where=f"price({show(model_spec)}, **{show(kwargs)})",
                       **kwargs)
    except Refused:
        return
    assert isinstance(cost, np.ndarray), type(cost)
    assert cost.shape == _shape(kwargs), f"shape {cost.shape}, expected {_shape(kwargs)}"
    assert cost.dtype.kind == "f"
    assert np.isfinite(cost).all() and (cost >= 0).all(), f"costs {cost}"


test_price, test_price_slow = fuzz_tests(_price, price_calls())
