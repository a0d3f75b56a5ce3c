"""Machinery of the fuzz suite: hostile values, object specs built inside the test,
and the checks of the two outcomes every property accepts.

A strategy never constructs a costsim object itself: it draws a :class:`Spec` (a class
and its keyword arguments, some of them drawn from a *hostile* pool), and the test
builds it with :func:`build`, so that a constructor's refusal happens inside the
property, where it is checked.  Every property accepts exactly two outcomes:

* a refusal: ``ValueError`` or ``TypeError`` (a :class:`costsim.ParameterError` from a
  constructor) whose message names the offending argument -- the name of a field
  that was given a hostile value, or a path containing it;
* a result that is sound: counts are non-negative integers, costs finite and >= 0.

Anything else -- another exception type, a message that names no argument, a NaN, a
negative count, an example running past :data:`HANG_SECONDS` -- is a finding.

A Spec's ``repr`` is the Python expression that builds it, so a falsifying example
printed by hypothesis is a one-line reproducer (with ``import costsim as cs, numpy as
np``, ``nan = float("nan"); inf = float("inf")`` and, for a deep nesting, :func:`nest`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import faulthandler
import functools
import math
import re
import signal
import sys
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any, NamedTuple

import numba
import numpy as np
from hypothesis import strategies as st

import costsim as cs

nan, inf = math.nan, math.inf

#: An example running longer than this (seconds) fails with :class:`Hang`.
HANG_SECONDS = 30.0


# ---- outcomes ------------------------------------------------------------------------------------------


class Refused(Exception):
    """The library refused the input with a checked ValueError/TypeError (an accepted outcome)."""


class Hang(Exception):
    """An example ran past :data:`HANG_SECONDS` (a finding)."""


def _named(message: str, name: str) -> bool:
    """Whether ``message`` names ``name`` as a word (``service_tier`` also as "service tier");
    a path element such as ``['']`` or ``[0]`` anywhere."""
    if name.startswith("["):
        return name in message
    word = re.escape(name).replace("_", "[_ ]")
    return re.search(rf"(?<![A-Za-z0-9_]){word}(?![A-Za-z0-9_])", message) is not None


def expect_named(err: BaseException, names: Iterable[str], *, parameter: bool = False, where: str = "") -> None:
    """Check a refusal: a ValueError/TypeError whose message names one of ``names``
    (as a word or inside a path); with ``parameter``, a ValueError must be a ParameterError."""
    names = sorted(set(names))
    message = str(err)
    assert isinstance(err, (ValueError, TypeError)), f"{type(err).__name__} is not a ValueError/TypeError"
    if parameter and isinstance(err, ValueError):
        assert isinstance(err, cs.ParameterError), (
            f"{where}: a ValueError that is not a costsim.ParameterError: {message}")
    assert any(_named(message, n) for n in names), (
        f"{where}: {type(err).__name__} names none of the arguments {names}: {message!r}")


@contextlib.contextmanager
def watchdog(seconds: float = HANG_SECONDS):
    """Raise :class:`Hang` in Python code running past ``seconds``; dump every thread's
    stack if it is still stuck (in compiled code, which a signal cannot interrupt) later."""

    def alarm(signum, frame):
        raise Hang(f"still running after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    faulthandler.dump_traceback_later(4 * seconds, exit=False)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        faulthandler.cancel_dump_traceback_later()


def attempt(fn: Callable[..., Any], *args: Any, names: Iterable[str], parameter: bool = False,
            where: str = "", **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` under the watchdog; a ValueError/TypeError is checked with
    :func:`expect_named` and re-raised as :class:`Refused`; anything else propagates."""
    with watchdog():
        try:
            return fn(*args, **kwargs)
        except (ValueError, TypeError) as err:
            expect_named(err, names, parameter=parameter, where=where or getattr(fn, "__name__", repr(fn)))
            raise Refused(str(err)) from err


# ---- specs ------------------------------------------------------------------------------------------------


def show(value: Any) -> str:
    """Python source of a drawn value (a reproducer)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, (Spec, Deep)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join(show(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{show(k)}: {show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, np.ndarray):
        return f"np.array({show(value.tolist())}, dtype={str(value.dtype)!r})"
    if isinstance(value, np.longdouble):
        return f"np.longdouble({str(value)!r})"
    if isinstance(value, np.generic):
        return f"np.{type(value).__name__}({show(value.item())})"
    if isinstance(value, int) and abs(value) > 10**30 and str(abs(value)).rstrip("0") == "1":
        return f"{'-' if value < 0 else ''}10**{len(str(abs(value))) - 1}"
    if callable(value) and hasattr(value, "__name__"):
        return value.__name__
    return repr(value)


@dataclasses.dataclass(frozen=True)
class Spec:
    """``cls(**kwargs)``, not yet built; ``hostile``: the fields given a hostile value
    (drawn from a hostile pool, or holding a spec with hostile fields)."""

    cls: Callable[..., Any]
    kwargs: dict[str, Any]
    hostile: frozenset[str] = frozenset()
    parameter: bool = True  # a ValueError refusing it must be a ParameterError

    def __repr__(self) -> str:
        name = getattr(self.cls, "__qualname__", getattr(self.cls, "__name__", repr(self.cls)))
        prefix = "cs." if getattr(self.cls, "__module__", "").startswith("costsim") else ""
        return f"{prefix}{name}({', '.join(f'{k}={show(v)}' for k, v in self.kwargs.items())})"

    def _repr_pretty_(self, printer, cycle) -> None:  # hypothesis prints falsifying examples with it
        printer.text(repr(self))

    @property
    def tainted(self) -> bool:
        return bool(self.hostile)


@dataclasses.dataclass(frozen=True)
class Deep:
    """``depth`` levels of Mixture or Capped around ``leaf`` (a hostile nesting)."""

    kind: str
    depth: int
    leaf: Any

    def __repr__(self) -> str:
        return f"nest({self.kind!r}, {self.depth}, {show(self.leaf)})"

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(repr(self))

    @property
    def tainted(self) -> bool:
        return True


def nest(kind: str, depth: int, leaf: Any) -> Any:
    """Build ``depth`` levels of ``kind`` around a built distribution (no recursion here)."""
    d = leaf
    for _ in range(depth):
        d = cs.Mixture([d], [1.0]) if kind == "Mixture" else cs.Capped(d, upper=1e6)
    return d


def tainted(value: Any) -> bool:
    """Whether a drawn value holds a hostile value anywhere."""
    if isinstance(value, (Spec, Deep)):
        return value.tainted
    if isinstance(value, (list, tuple)):
        return any(tainted(v) for v in value)
    if isinstance(value, dict):
        return any(tainted(v) for v in value.values())
    return False


def hostile_names(value: Any) -> set[str]:
    """Every field name that holds a hostile value, anywhere below ``value``."""
    found: set[str] = set()
    if isinstance(value, Spec):
        found |= set(value.hostile)
        for v in value.kwargs.values():
            found |= hostile_names(v)
    elif isinstance(value, Deep):
        found |= {"components", "dist", "upper", "weights"} | hostile_names(value.leaf)
    elif isinstance(value, (list, tuple)):
        for v in value:
            found |= hostile_names(v)
    elif isinstance(value, dict):
        for v in value.values():
            found |= hostile_names(v)
    return found


def field_names(value: Any) -> set[str]:
    """Every field name given anywhere below ``value``."""
    found: set[str] = set()
    if isinstance(value, Spec):
        found |= set(value.kwargs)
        for v in value.kwargs.values():
            found |= field_names(v)
    elif isinstance(value, Deep):
        found |= {"components", "dist", "upper", "weights"} | field_names(value.leaf)
    elif isinstance(value, (list, tuple)):
        for v in value:
            found |= field_names(v)
    elif isinstance(value, dict):
        for v in value.values():
            found |= field_names(v)
    return found


def build(node: Any) -> Any:
    """Build a drawn value bottom-up; a constructor's refusal is checked (it must be a
    ParameterError or TypeError naming a hostile field) and raised as :class:`Refused`."""
    if isinstance(node, Spec):
        kwargs = {k: build(v) for k, v in node.kwargs.items()}
        names = node.hostile or set(node.kwargs) or {getattr(node.cls, "__name__", "")}
        return attempt(node.cls, names=names, parameter=node.parameter, where=repr(node), **kwargs)
    if isinstance(node, Deep):
        leaf = build(node.leaf)
        return attempt(nest, node.kind, node.depth, leaf, names={"components", "dist", "upper", "weights"},
                       parameter=True, where=repr(node))
    if isinstance(node, list):
        return [build(v) for v in node]
    if isinstance(node, tuple):
        return tuple(build(v) for v in node)
    if isinstance(node, dict):
        return {k: build(v) for k, v in node.items()}
    return node


class F(NamedTuple):
    """A field of a spec: its sane strategy, its hostile one (None: never hostile), and
    whether it may be left out (its default)."""

    sane: st.SearchStrategy
    bad: st.SearchStrategy | None = None
    optional: bool = False


@functools.cache
def _hostile_at(level: int) -> st.SearchStrategy:
    return st.just(False) if level == 0 else st.integers(0, level - 1).map(lambda i: i == level - 1)


#: Per field: whether this draw is hostile.  The rate is drawn once per example (shared by
#: every field): never, one field in 100, 30, 10 or 3 -- so some examples are wholly sane,
#: most have a hostile value or two and a few are hostile throughout.  Shrinks towards sane.
HOSTILE = st.shared(st.sampled_from([0, 100, 30, 10, 3]), key="costsim-hostility").flatmap(_hostile_at)


@st.composite
def spec(draw, cls: Callable[..., Any], fields: Mapping[str, F], hostile: st.SearchStrategy = HOSTILE) -> Spec:
    """A Spec of ``cls`` with each field drawn sane or (sometimes) hostile."""
    kwargs: dict[str, Any] = {}
    bad: set[str] = set()
    for name, f in fields.items():
        if f.optional and not draw(st.booleans()):
            continue
        if f.bad is not None and draw(hostile):
            kwargs[name] = draw(f.bad)
            bad.add(name)
        else:
            kwargs[name] = draw(f.sane)
            if tainted(kwargs[name]):
                bad.add(name)
    return Spec(cls, kwargs, frozenset(bad))


# ---- hostile values ---------------------------------------------------------------------------------------

NASTY_FLOATS = [0.0, -0.0, -1.0, -1e-300, 5e-324, 1e-300, 1e-30, 1e15, 1e19, 2.0**63, 1e20, 1e30, 1e100, 1e300,
                1e308, sys.float_info.max, inf, -inf, nan, 2.0**53 + 2.0]
NASTY_INTS = [0, -1, 2**31, 2**53 + 1, 2**62, 2**63 - 1, 2**63, 2**64, 10**20, 10**400, -(2**63), -(10**400)]
NUMPY_SCALARS = [np.float64(nan), np.float64(inf), np.float32(1e38), np.float32(3.0), np.float16(65504.0),
                 np.int64(2**63 - 1), np.int64(3), np.uint64(2**64 - 1), np.int8(-1), np.int32(7), np.bool_(True),
                 np.longdouble("1e4000")]
JUNK = [None, True, False, "", "abc", "1.5", "nan", b"1", [], [1.0], [[]], {}, {"a": 1}, (), (1, 2),
        complex(1.0, 2.0), Decimal("1.5"), Decimal("NaN"), Fraction(1, 3), [[[[[[[[1.0]]]]]]]]]


@functools.cache
def junk() -> st.SearchStrategy:
    return st.sampled_from(JUNK)


@functools.cache
def nasty_numbers() -> st.SearchStrategy:
    return st.one_of(st.sampled_from(NASTY_FLOATS), st.sampled_from(NASTY_INTS), st.sampled_from(NUMPY_SCALARS),
                     st.floats(), st.integers(-(2**70), 2**70))


@functools.cache
def hostile_number() -> st.SearchStrategy:
    """Any hostile value for a numeric field: extreme or non-finite numbers, numpy
    scalars, junk, or a wild uncertain (trial-level) distribution."""
    return st.one_of(nasty_numbers(), junk(), wild_uncertain())


@functools.cache
def hostile_int() -> st.SearchStrategy:
    """A hostile value for an integer field: the same, plus floats that look integral."""
    return st.one_of(hostile_number(), st.sampled_from([1.0, 2.5, 1e20, np.float64(4.0)]))


@functools.cache
def wild_uncertain() -> st.SearchStrategy:
    """A trial-level distribution that draws values no parameter should take."""
    return st.one_of(
        st.builds(lambda s: Spec(cs.Normal, {"mu": 0.0, "sigma": s}, frozenset({"sigma"})),
                  st.sampled_from([1.0, 1e10, 1e300])),
        st.builds(lambda m: Spec(cs.LogNormal, {"mu": m, "sigma": 3.0}, frozenset({"mu"})),
                  st.sampled_from([50.0, 700.0, 1e300])),
        st.just(Spec(cs.Uniform, {"low": -1e308, "high": 1e308}, frozenset({"low", "high"}))),
        st.just(Spec(cs.Pareto, {"scale": 1.0, "alpha": 0.01}, frozenset({"alpha"}))),
    )


@functools.cache
def sane_uncertain(low: float, high: float) -> st.SearchStrategy:
    """A trial-level distribution drawing within ``[low, high]``."""
    return st.builds(lambda a, w: Spec(cs.Uniform, {"low": a, "high": a + w}),
                     st.floats(low, low + 0.5 * (high - low)), st.floats(0.01 * (high - low), 0.5 * (high - low)))


@functools.cache
def number(low: float, high: float, *, uncertain: bool = True) -> st.SearchStrategy:
    """A sane number in ``[low, high]``: floats, ints, numpy floats, an uncertain one."""
    options = [st.floats(low, high), st.sampled_from([low, high]),
               st.floats(low, high).map(np.float64)]
    if low == int(low) and high == int(high) and high - low >= 1:
        options.append(st.integers(int(low), int(high)))
    plain = st.one_of(*options)
    if uncertain and high > low:  # one value in eight uncertain
        return st.one_of(*[plain] * 7, sane_uncertain(low, high))
    return plain


@functools.cache
def integer(low: int, high: int) -> st.SearchStrategy:
    return st.one_of(st.integers(low, high), st.integers(low, high).map(np.int64))


# ---- distributions ------------------------------------------------------------------------------------------

_HOSTILE_DIST_PARAMS = st.one_of(nasty_numbers(), junk())


def _leaf(cls: Callable[..., Any], **fields: F) -> st.SearchStrategy:
    return spec(cls, fields)


@functools.cache
def token_leaves() -> st.SearchStrategy:
    """Request-level distributions of token counts, sane parameters with some hostile ones."""
    bad = _HOSTILE_DIST_PARAMS
    return st.one_of(
        _leaf(cs.Constant, value=F(st.integers(0, 5000), bad)),
        _leaf(cs.LogNormal, mu=F(st.floats(0.0, 9.0), bad), sigma=F(st.floats(0.05, 2.0), bad)),
        _leaf(cs.Pareto, scale=F(st.floats(1.0, 1000.0), bad), alpha=F(st.floats(1.1, 4.0), bad)),
        _leaf(cs.GeneralizedPareto, loc=F(st.floats(0.0, 100.0), bad), scale=F(st.floats(1.0, 1000.0), bad),
              shape=F(st.floats(-0.5, 0.5), bad)),
        _leaf(cs.Gamma, shape=F(st.floats(0.5, 10.0), bad), scale=F(st.floats(1.0, 500.0), bad)),
        _leaf(cs.Weibull, shape=F(st.floats(0.5, 3.0), bad), scale=F(st.floats(1.0, 2000.0), bad)),
        st.builds(lambda a, w, b: Spec(cs.Uniform, {"low": a, "high": a + w} if not b else {"low": a, "high": b[0]},
                                       frozenset() if not b else frozenset({"high"})),
                  st.floats(0.0, 1000.0), st.floats(1.0, 1000.0),
                  st.one_of(st.just(()), st.tuples(_HOSTILE_DIST_PARAMS))),
        _leaf(cs.Geometric, p=F(st.floats(0.05, 1.0), bad)),
        _leaf(cs.Empirical, values=F(st.lists(st.integers(0, 10_000), min_size=1, max_size=8),
                                     st.one_of(st.lists(nasty_numbers(), max_size=4), junk()))),
        # the issue's wrapping cases
        st.sampled_from([
            Spec(cs.Constant, {"value": 1e19}, frozenset({"value"})),
            Spec(cs.LogNormal, {"mu": 700.0, "sigma": 1.0}, frozenset({"mu"})),
            Spec(cs.Pareto, {"scale": 100.0, "alpha": 0.1}, frozenset({"alpha"})),
            Spec(cs.GeneralizedPareto, {"loc": 0.0, "scale": 1e300, "shape": 0.5}, frozenset({"scale"})),
            Spec(cs.Weibull, {"shape": 0.05, "scale": 1e300}, frozenset({"scale", "shape"})),
            Spec(cs.Normal, {"mu": 100.0, "sigma": 10.0}, frozenset({"mu", "sigma"})),  # support below 0
        ]),
    )


def _extend_dists(children: st.SearchStrategy) -> st.SearchStrategy:
    """Mixtures of up to three ``children`` and caps around one."""
    mixtures = st.lists(children, min_size=1, max_size=3).flatmap(
        lambda comps: spec(cs.Mixture, {
            "components": F(st.just(comps), st.one_of(junk(), st.just([]), st.just(comps[:1] * 0))),
            "weights": F(st.lists(st.floats(0.01, 10.0), min_size=len(comps), max_size=len(comps)),
                         st.one_of(st.lists(nasty_numbers(), min_size=len(comps), max_size=len(comps)),
                                   st.lists(st.floats(0.1, 1.0), max_size=4), junk())),
        }))
    caps = children.flatmap(lambda d: spec(cs.Capped, {
        "dist": F(st.just(d)),
        "upper": F(st.floats(5_000.0, 1e6), _HOSTILE_DIST_PARAMS),
    }))
    return st.one_of(mixtures, caps)


@functools.cache
def token_dists() -> st.SearchStrategy:
    """Token distributions, leaves nested in mixtures and caps (and some very deep nestings)."""
    deep = st.builds(Deep, st.sampled_from(["Mixture", "Capped"]), st.sampled_from([30, 400, 2000]),
                     st.just(Spec(cs.LogNormal, {"mu": 5.0, "sigma": 1.0})))
    nested = st.recursive(token_leaves(), _extend_dists, max_leaves=4)
    hostile = st.one_of(nested, nested, nested, deep)  # hostile parameters inside, or too deep
    return HOSTILE.flatmap(lambda bad: hostile if bad else nested)


@functools.cache
def fractions() -> st.SearchStrategy:
    """Sane values of a fraction field: a number in [0, 1] or a distribution on [0, 1]."""
    return st.one_of(
        st.floats(0.0, 0.5), st.just(0.0),
        _leaf(cs.Beta, a=F(st.floats(0.5, 5.0)), b=F(st.floats(0.5, 5.0))),
        st.builds(lambda x: Spec(cs.Constant, {"value": x}), st.floats(0.0, 0.5)),
        st.builds(lambda x: Spec(cs.Constant, {"value": Spec(cs.Uniform, {"low": 0.0, "high": x})}),
                  st.floats(0.1, 0.5)),
    )


@functools.cache
def step_counts() -> st.SearchStrategy:
    return st.one_of(
        st.integers(1, 6), st.just(1),
        _leaf(cs.Geometric, p=F(st.floats(0.2, 1.0))),
        st.builds(lambda n: Spec(cs.Constant, {"value": float(n)}), st.integers(1, 5)),
    )


@functools.cache
def hostile_dist_field() -> st.SearchStrategy:
    """Hostile values of a distribution-valued field."""
    return st.one_of(
        junk(), nasty_numbers(),
        st.sampled_from([
            Spec(cs.Constant, {"value": 1e20}, frozenset({"value"})),
            Spec(cs.Constant, {"value": -5.0}, frozenset({"value"})),
            Spec(cs.Pareto, {"scale": 1.0, "alpha": 0.05}, frozenset({"alpha"})),
            Spec(cs.Constant, {"value": float(2**63 - 1)}, frozenset({"value"})),
            Spec(cs.Constant, {"value": 2.5}, frozenset({"value"})),
            Spec(cs.Uniform, {"low": 0.0, "high": 1e300}, frozenset({"high"})),
        ]),
    )


# ---- traffic --------------------------------------------------------------------------------------------------

CLASS_NAMES = ("chat", "rag", "agent")


@functools.cache
def query_classes(name: str = "chat") -> st.SearchStrategy:
    """QueryClass specs (tiny requests by default; hostile fields now and then)."""
    return spec(cs.QueryClass, {
        "name": F(st.just(name), st.one_of(st.sampled_from(["", 5, None, "x" * 300, "a\x00b", "🙂"]), junk())),
        "share": F(number(0.05, 1.0), hostile_number()),
        "input_tokens": F(token_dists(), hostile_dist_field()),
        "output_tokens": F(token_dists(), hostile_dist_field()),
        "cached_fraction": F(fractions(), st.one_of(hostile_number(), hostile_dist_field()), optional=True),
        "steps": F(step_counts(), st.one_of(hostile_int(), hostile_dist_field()), optional=True),
        "tool_tokens": F(token_dists(), hostile_dist_field(), optional=True),
        "service_tier": F(st.just("standard"), st.one_of(st.sampled_from(["batch", "", "nope"]), junk()),
                          optional=True),
        "cache_write_fraction": F(st.floats(0.0, 0.4), st.one_of(hostile_number(), hostile_dist_field()),
                                  optional=True),
        "cache_write_ttl": F(st.sampled_from(["5m", "1h"]), st.one_of(st.sampled_from(["2h", "5M"]), junk()),
                             optional=True),
        "reasoning_tokens": F(token_dists(), hostile_dist_field(), optional=True),
        "tool_calls": F(st.one_of(st.integers(0, 3), _leaf(cs.Geometric, p=F(st.floats(0.3, 1.0)))),
                        st.one_of(hostile_int(), hostile_dist_field()), optional=True),
        "io_rank_correlation": F(number(-0.9, 0.9, uncertain=False), hostile_number(), optional=True),
        "prefix_cache": F(st.one_of(st.booleans(), st.just("prompt")),
                          st.one_of(st.sampled_from([0, 1, "yes", "Prompt", np.bool_(True)]), junk()),
                          optional=True),
    })


HORIZONS = {"1h": 1, "6h": 6, "12h": 12, "1D": 24, "2D": 48, "24h": 24}
HOSTILE_DURATIONS = ["0D", "-1D", "abc", "", "1ns", "1.5s", "NaT", "100000D", "1000000D", "1s", "P1D", 3600,
                     1e308, nan, None, dt.timedelta(0), dt.timedelta(days=-1)]
HOSTILE_STARTS = ["2262-04-01", "2262-04-11T23:00", "1677-09-22", "9999-12-31", "abc", "", "NaT",
                  "2026-01-05T00:00:00.5", "2026-01-05T00:00+14:00", 0, 1e18, None, np.datetime64("NaT"),
                  dt.datetime(1, 1, 1)]


@functools.cache
def profiles(length: int) -> st.SearchStrategy:
    return st.lists(st.floats(0.1, 3.0), min_size=length, max_size=length)


@functools.cache
def hostile_profiles(length: int) -> st.SearchStrategy:
    return st.one_of(
        st.lists(st.floats(0.1, 3.0), max_size=30).filter(lambda v: len(v) != length),
        st.lists(st.sampled_from([0.0, 1e308, -1.0, nan, inf, 1e-300]), min_size=length, max_size=length),
        st.lists(hostile_number(), min_size=length, max_size=length),
        st.just("a" * length), st.just([0.0] * length), junk(),
    )


@functools.cache
def arrivals() -> st.SearchStrategy:
    """Arrivals specs: tiny volumes over at most two days of hourly-ish bins, and hostile ones."""
    return st.sampled_from(sorted(HORIZONS)).flatmap(_arrivals_over)


@functools.cache
def _arrivals_over(horizon: str) -> st.SearchStrategy:
    return spec(cs.Arrivals, {
        "volume": F(number(0.0, 3000.0), st.one_of(hostile_number(), st.sampled_from([1e15, 1e16, 1e20, 1e13]))),
        "horizon": F(st.one_of(st.just(horizon), st.just(dt.timedelta(hours=HORIZONS[horizon]))),
                     st.sampled_from(HOSTILE_DURATIONS)),
        "bin": F(st.sampled_from(["1h", "30min"] if HORIZONS[horizon] <= 24 else ["1h", "2h"]),
                 st.sampled_from(HOSTILE_DURATIONS)),
        "start": F(st.sampled_from(["2026-01-05T00:00", "2026-03-01", "2026-06-30T12:00:00",
                                    dt.datetime(2026, 1, 5), "2026-01-05T00:00+05:30"]),
                   st.sampled_from(HOSTILE_STARTS), optional=True),
        "daily_profile": F(profiles(24), hostile_profiles(24), optional=True),
        "weekly_profile": F(profiles(7), hostile_profiles(7), optional=True),
        "growth": F(number(-0.5, 0.5), st.one_of(hostile_number(), st.sampled_from([1e30, 1e6, -0.999999999]))),
        "overdispersion": F(number(0.0, 2.0), hostile_number(), optional=True),
    })


@functools.cache
def modulations() -> st.SearchStrategy:
    bad = hostile_number()
    return st.one_of(
        spec(cs.Overdispersion, {"cv": F(number(0.0, 1.5), bad)}),
        spec(cs.OnOff, {
            "on": F(st.sampled_from([Spec(cs.LogNormal, {"mu": 1.5, "sigma": 1.0}),
                                     Spec(cs.Constant, {"value": 5.0})]), hostile_dist_field()),
            "off": F(st.sampled_from([Spec(cs.LogNormal, {"mu": 1.0, "sigma": 1.0}),
                                      Spec(cs.Constant, {"value": 3.0})]),
                     st.one_of(hostile_dist_field(), st.just(Spec(cs.Constant, {"value": 1e-300},
                                                                  frozenset({"value"}))))),
            "unit": F(st.sampled_from(["1min", "10min"]), st.sampled_from(HOSTILE_DURATIONS), optional=True),
            "off_level": F(number(0.0, 1.0), bad, optional=True),
        }),
        HOSTILE.flatmap(lambda hostile: st.just(Spec(cs.OnOff, {  # periods of 1e-300 minutes
            "on": Spec(cs.Constant, {"value": 1e-300}), "off": Spec(cs.Constant, {"value": 1e-300})},
            frozenset({"on", "off"}))) if hostile else st.just(Spec(cs.Overdispersion, {"cv": 0.5}))),
        spec(cs.Profile, {"daily": F(profiles(24), hostile_profiles(24), optional=True),
                          "weekly": F(profiles(7), hostile_profiles(7), optional=True)}),
        spec(cs.LogisticGrowth, {"ceiling": F(number(0.5, 10.0), bad), "rate": F(number(0.1, 5.0), bad)}),
        spec(cs.FlashEvent, {"start": F(st.sampled_from(["2026-01-05T02:30", "2026-01-06"]),
                                        st.sampled_from(HOSTILE_STARTS)),
                             "duration": F(st.sampled_from(["2h", "30min"]), st.sampled_from(HOSTILE_DURATIONS)),
                             "multiplier": F(number(0.0, 5.0), bad)}),
    )


@functools.cache
def mix_shifts(names: tuple[str, ...]) -> st.SearchStrategy:
    return spec(cs.MixShift, {
        "shares": F(st.fixed_dictionaries({n: number(0.05, 1.0, uncertain=False) for n in names}),
                    st.one_of(st.dictionaries(st.sampled_from([*names, "ghost"]), hostile_number(), max_size=3),
                              junk())),
        "curve": F(st.sampled_from(["linear", "logistic"]), st.one_of(st.just("cubic"), junk()), optional=True),
        "midpoint": F(number(0.0, 1.0), hostile_number(), optional=True),
        "steepness": F(number(0.5, 20.0), hostile_number(), optional=True),
    })


@st.composite
def traffics(draw) -> Spec:
    """Traffic specs: one to three classes, arrivals, sometimes modulations and a mix shift."""
    n = draw(st.integers(1, 3))
    names = CLASS_NAMES[:n]
    classes = [draw(query_classes(name)) for name in names]
    if draw(HOSTILE):  # every class the same extreme share: normalising them must not overflow
        share = draw(st.sampled_from([1e308, sys.float_info.max, 5e-324, 1e-300, 2**1000]))
        classes = [Spec(q.cls, {**q.kwargs, "share": share}, q.hostile | {"share"}) for q in classes]
    return draw(spec(cs.Traffic, {
        "classes": F(st.just(classes), st.one_of(
            st.just([]), st.just(classes + classes[:1]), st.just(tuple(classes)), junk(),
            st.just([*classes, Spec(cs.Arrivals, {"volume": 1.0})]))),
        "arrivals": F(arrivals(), junk()),
        "modulation": F(st.lists(modulations(), max_size=2), st.one_of(junk(), st.lists(junk(), min_size=1,
                                                                                        max_size=2)),
                        optional=True),
        "class_modulation": F(st.dictionaries(st.sampled_from(names), st.lists(modulations(), max_size=2),
                                              max_size=2),
                              st.one_of(junk(), st.just({"ghost": []}), st.just({names[0]: [1.0]}))),
        "mix_shift": F(mix_shifts(names), junk(), optional=True),
    }))


# ---- pricing ------------------------------------------------------------------------------------------------------


@functools.cache
def rates(uncertain: bool = True) -> st.SearchStrategy:
    return number(0.0, 80.0, uncertain=uncertain)


@functools.cache
def hostile_rate() -> st.SearchStrategy:
    return st.one_of(hostile_number(), st.sampled_from([1e308, 1e7, 1e300]))


RATE_FIELDS = ("cached_input", "cache_write", "cache_write_1h", "reasoning")


def rate_fields(optional: bool = True, uncertain: bool = True) -> dict[str, F]:
    fields = {"input": F(rates(uncertain), hostile_rate()), "output": F(rates(uncertain), hostile_rate())}
    fields.update({name: F(rates(uncertain), hostile_rate(), optional=optional) for name in RATE_FIELDS})
    return fields


@functools.cache
def long_context_tiers(uncertain: bool = True) -> st.SearchStrategy:
    return st.lists(st.integers(1, 300_000), max_size=2, unique=True).flatmap(
        lambda thresholds: st.tuples(*(spec(cs.LongContextTier, {
            "threshold": F(st.just(t), hostile_int()), **rate_fields(uncertain=uncertain)}) for t in sorted(thresholds))))


@functools.cache
def rate_cards(uncertain: bool = True) -> st.SearchStrategy:
    return spec(cs.RateCard, {**rate_fields(uncertain=uncertain),
                              "long_context": F(long_context_tiers(uncertain), junk(), optional=True)})


@functools.cache
def off_peaks(uncertain: bool = True) -> st.SearchStrategy:
    window = spec(cs.OffPeakWindow, {
        "weekdays": F(st.lists(st.integers(1, 7), min_size=1, max_size=7, unique=True),
                      st.one_of(st.lists(st.sampled_from([0, 8, -1, 1.0, True, 10**400]), min_size=1, max_size=3),
                                junk())),
        "start": F(st.sampled_from(["00:00", "01:30"]), st.one_of(st.sampled_from(["24:00", "1:00", "ab:cd"]),
                                                                  junk())),
        "end": F(st.sampled_from(["06:00", "00:00"]), st.one_of(st.sampled_from(["00:30", "99:99"]), junk())),
    })
    return spec(cs.OffPeak, {"windows": F(st.lists(window, min_size=1, max_size=2), st.one_of(st.just([]), junk())),
                             "rates": F(rate_cards(uncertain), junk())})


@functools.cache
def token_pricings(uncertain: bool = True) -> st.SearchStrategy:
    """TokenPricing specs with every modifier, sane rates (some uncertain) and hostile ones."""
    return spec(cs.TokenPricing, {
        **rate_fields(uncertain=uncertain),
        "long_context": F(long_context_tiers(uncertain), st.one_of(junk(), st.just([Spec(cs.LongContextTier, {
            "threshold": 10, "input": 1.0, "output": 1.0})] * 2)), optional=True),
        "service_tiers": F(st.dictionaries(st.sampled_from(["batch", "flex"]), rate_cards(uncertain), max_size=2),
                           st.one_of(junk(), st.just({"standard": Spec(cs.RateCard, {"input": 1.0, "output": 1.0})}),
                                     st.just({"batch": 1.0})),
                           optional=True),
        "off_peak": F(off_peaks(uncertain), junk(), optional=True),
        "multiplier": F(number(0.5, 2.0, uncertain=uncertain), hostile_rate(), optional=True),
        "fee_per_request": F(number(0.0, 0.01, uncertain=uncertain), hostile_rate(), optional=True),
        "fee_per_tool_call": F(number(0.0, 0.05, uncertain=uncertain), hostile_rate(), optional=True),
        "minimum_charge": F(number(0.0, 0.01, uncertain=uncertain), hostile_rate(), optional=True),
    })


@numba.njit(cache=False)
def flat_capacity(demand, params, bin_hours, cost, served, units, utilisation):  # pragma: no cover - compiled
    """A CustomCapacity function: a flat fee per bin plus a fee per query (params[0], params[1])."""
    for b in range(demand.shape[0]):
        n_classes = demand.shape[1]
        for c in range(n_classes):
            cost[b, c] = params[0] * bin_hours / n_classes + params[1] * demand[b, c, 0]
        served[b] = 1.0
        units[b] = 1.0
        utilisation[b] = 1.0


def _plain_function(*args):  # not compiled: CustomCapacity must refuse it
    return None


@dataclasses.dataclass(frozen=True)
class UnbilledModel(cs.PricingModel):
    """A user's PricingModel subclass of a kind the kernel does not know (issue 11 item 4)."""

    rate: float = 1.0

    def _validate(self) -> None:
        self._number("rate", low=0.0)

    def _lower(self):
        return 99, [self.rate]

    def _card_offsets(self, service_tier):
        return 0, -1

    def _off_peak_mask(self, when):
        return np.zeros(np.shape(when), dtype=bool)


@functools.cache
def fallbacks(option_names: tuple[str, ...]) -> st.SearchStrategy:
    return st.one_of(st.none(), st.sampled_from(option_names), token_pricings())


@functools.cache
def hostile_refs() -> st.SearchStrategy:
    return st.one_of(st.sampled_from(["", "ghost", "api "]), junk())


@functools.cache
def options(names: tuple[str, ...]) -> st.SearchStrategy:
    """One deployment option spec of any kind; string references point at ``"api"``."""
    ref = st.one_of(st.just("api"), token_pricings())
    bad = hostile_number()
    return st.one_of(
        token_pricings(),
        st.builds(lambda m: Spec(cs.TokenPricing.from_litellm, {"model": m}), st.sampled_from(["gpt-4o"])),
        spec(cs.ProvisionedCapacity, {
            "units": F(integer(1, 5), hostile_int()),
            "price_per_unit_hour": F(number(0.0, 10.0), hostile_rate()),
            "tokens_per_minute": F(number(1e3, 1e6), bad),
            "input_weight": F(number(0.0, 2.0), bad, optional=True),
            "cached_weight": F(number(0.0, 2.0), bad, optional=True),
            "output_weight": F(number(0.0, 5.0), bad, optional=True),
            "fallback": F(fallbacks(("api",)), hostile_refs(), optional=True),
        }),
        spec(cs.SelfHostedGPU, {
            "gpu_hour_price": F(number(0.0, 10.0), hostile_rate()),
            "prefill_tokens_per_s": F(number(100.0, 1e5), bad),
            "decode_tokens_per_s": F(number(10.0, 1e4), bad),
            "gpus_per_replica": F(integer(1, 8), hostile_int(), optional=True),
            "target_utilisation": F(number(0.1, 1.0), bad, optional=True),
            "min_replicas": F(integer(0, 2), hostile_int(), optional=True),
            "max_replicas": F(st.one_of(st.none(), integer(2, 8)), hostile_int(), optional=True),
            "scale_step": F(integer(1, 2), hostile_int(), optional=True),
            "scale_lag": F(st.sampled_from(["0h", "1h", "30min"]), st.sampled_from(HOSTILE_DURATIONS),
                           optional=True),
            "interruption_overhead": F(number(0.0, 0.5), bad, optional=True),
            "fixed_monthly": F(number(0.0, 5000.0), hostile_rate(), optional=True),
            "fallback": F(fallbacks(("api",)), hostile_refs(), optional=True),
        }),
        spec(cs.CustomCapacity, {
            "function": F(st.just(flat_capacity), st.one_of(
                st.sampled_from(["math:sqrt", "no_such_module_xyz:f", "costsim:nothing_here", "os.path:join",
                                 "", "a:b:c", "json", _plain_function]), junk())),
            "params": F(st.tuples(number(0.0, 5.0), number(0.0, 0.01)),
                        st.one_of(st.tuples(hostile_number(), hostile_number()), junk())),
            "fallback": F(fallbacks(("api",)), hostile_refs(), optional=True),
        }),
        spec(cs.Hybrid, {
            "routes": F(st.fixed_dictionaries({n: ref for n in names}),  # every class routed
                        st.one_of(st.dictionaries(st.sampled_from(["ghost", "", *names]), hostile_refs(),
                                                  min_size=1, max_size=2), junk())),
            "default": F(st.one_of(st.none(), ref), hostile_refs(), optional=True),
        }),
        st.lists(st.integers(0, 300_000), min_size=1, max_size=3, unique=True).flatmap(
            lambda ts: spec(cs.PromptRouter, {
                "thresholds": F(st.just(sorted(ts)), st.one_of(
                    st.just(sorted(ts, reverse=True) + [-1]), st.lists(hostile_int(), min_size=1, max_size=3),
                    st.just(list(range(0, 2000, 2))), junk())),
                "options": F(st.lists(ref, min_size=len(ts) + 1, max_size=len(ts) + 1),
                             st.one_of(st.lists(ref, max_size=1), junk())),
            })),
        st.lists(st.floats(1e3, 1e12), min_size=1, max_size=3, unique=True).flatmap(
            lambda ts: spec(cs.VolumeDiscount, {
                "base": F(ref, hostile_refs()),
                "thresholds": F(st.just(sorted(ts)), st.one_of(st.lists(hostile_number(), min_size=1, max_size=3),
                                                                junk())),
                "multipliers": F(st.lists(number(0.0, 1.0), min_size=len(ts), max_size=len(ts)),
                                 st.one_of(st.lists(hostile_number(), min_size=len(ts), max_size=len(ts)),
                                           junk())),
                "measure": F(st.sampled_from(["tokens", "spend"]), st.one_of(st.just("queries"), junk()),
                             optional=True),
            })),
        spec(cs.CommittedSpend, {"base": F(ref, hostile_refs()),
                                 "monthly_minimum": F(number(0.0, 10_000.0), hostile_rate())}),
        st.builds(lambda r: Spec(UnbilledModel, {"rate": r}, frozenset({"rate"})), st.floats(0.0, 5.0)),
    )


@st.composite
def option_maps(draw, class_names: tuple[str, ...]) -> dict[Any, Any]:
    """A mapping of option name -> option spec; always holds a sane ``"api"``."""
    opts: dict[Any, Any] = {"api": Spec(cs.TokenPricing, {"input": 3.0, "output": 15.0})}
    for i in range(draw(st.integers(0, 2))):
        opts[f"o{i}"] = draw(options(class_names))
    if draw(HOSTILE):
        opts[draw(st.sampled_from(["", 5, None, ("a",)]))] = Spec(cs.TokenPricing, {"input": 1.0, "output": 1.0})
    return opts


# ---- result checks ------------------------------------------------------------------------------------------------

COUNT_UNITS = {"queries", "calls", "tokens", "draws", "requests", "count"}
USD_UNITS = {"USD"}


#: Variables documented as NaN where an option has none (a per-request option's capacity).
NAN_MEANS_NONE = {"capacity_units", "utilisation"}


def check_dataset(ds: Any, *, n_trials: int, option_names: list[str], class_names: list[str]) -> None:
    """A sound simulate result: integer counts >= 0; USD and every other quantity finite
    and >= 0 (``uncertain``, the drawn parameter values, only finite; ``capacity_units``
    and ``utilisation`` NaN where documented: no capacity); utilisation at most 1."""
    assert ds.sizes["trial"] == n_trials
    assert list(ds["option"].values) == option_names
    assert list(ds["qclass"].values) == class_names
    for name, var in ds.data_vars.items():
        values = np.asarray(var.values)
        if values.dtype.kind in "iu":
            assert (values >= 0).all(), f"{name}: negative counts, min {values.min()}"
            continue
        assert values.dtype.kind == "f", f"{name}: dtype {values.dtype}"
        if name in NAN_MEANS_NONE:
            values = values[~np.isnan(values)]
        assert not np.isnan(values).any(), f"{name}: NaN in {int(np.isnan(values).sum())} cells"
        assert np.isfinite(values).all(), f"{name}: infinite values"
        if name == "uncertain":
            continue
        assert (values >= 0).all(), f"{name}: negative values, min {values.min()}"
        if name == "utilisation":
            assert (values <= 1.0 + 1e-9).all(), f"utilisation above 1: {values.max()}"
    assert "clipped_draws" not in ds or ds["clipped_draws"].dtype.kind in "iu"


def exact_int(value: Any) -> bool:
    """Whether ``value`` is an integer (Python or numpy) -- not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


# ---- profiles -----------------------------------------------------------------------------------------------------


def fuzz_tests(prop: Callable[..., None], *strategies: st.SearchStrategy):
    """A CI test and a ``slow`` test (the large profile) of the same property."""
    import pytest
    from hypothesis import given, settings

    ci = settings(settings.get_profile("costsim-fuzz-ci"))(given(*strategies)(prop))
    large = settings(settings.get_profile("costsim-fuzz-large"))(given(*strategies)(prop))
    return ci, pytest.mark.slow(large)
