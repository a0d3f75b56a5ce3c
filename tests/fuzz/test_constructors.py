"""Fuzz the public constructors: distributions (nested in mixtures and caps, deeply too),
QueryClass, Arrivals, Traffic with its modulations and mix shift, and every pricing
model and composition.

Property: building any drawn spec either raises a ParameterError (or TypeError) naming
a field that was given a hostile value, or gives an object whose basic outputs are
sound (no NaN, nothing negative where a count or a rate is meant).
"""

from __future__ import annotations

import json

import numpy as np
from hypothesis import strategies as st

import costsim as cs
from costsim._model import uncertain_parameters

from ._fuzz import (
    HOSTILE,
    Deep,
    Refused,
    Spec,
    arrivals,
    attempt,
    build,
    field_names,
    fuzz_tests,
    hostile_number,
    junk,
    nasty_numbers,
    options,
    query_classes,
    tainted,
    token_dists,
    token_pricings,
    traffics,
)


def _distribution(d) -> None:
    """A token distribution builds or is refused by name; a built one (not deeply nested,
    whose methods recurse per level) has a sound support, samples and quantiles: no NaN,
    samples inside the support, quantiles non-decreasing."""
    try:
        dist = build(d)
    except Refused:
        return
    names = field_names(d) | {"dist", "components"}
    lo, hi = attempt(dist.support, names=names)
    assert not (np.isnan(lo) or np.isnan(hi)) and lo <= hi, (lo, hi)
    if isinstance(d, Deep) or uncertain_parameters(dist):
        return
    x = np.asarray(attempt(dist.sample, 16, rng=0, names=names))
    assert not np.isnan(x).any(), f"NaN samples: {x}"
    assert ((x >= lo) & (x <= hi)).all(), f"samples {x} outside the support [{lo}, {hi}]"
    q = np.asarray(attempt(dist.ppf, [0.01, 0.5, 0.99], names=names))
    assert not np.isnan(q).any(), f"NaN quantiles: {q}"
    assert (q[1:] >= q[:-1]).all(), f"quantiles decrease: {q}"
    assert not np.isnan(attempt(dist.mean, names=names))


test_distributions, test_distributions_slow = fuzz_tests(_distribution, token_dists())


def _query_class(q) -> None:
    """A QueryClass builds or is refused naming the field (or a path through it)."""
    try:
        qc = build(q)
    except Refused:
        return
    assert isinstance(qc, cs.QueryClass)
    assert isinstance(qc.name, str) and qc.name


test_query_class, test_query_class_slow = fuzz_tests(_query_class, query_classes())


def _arrivals(a) -> None:
    """Arrivals build or are refused by name; built ones have increasing bin starts (no
    wrap past the datetime64 limit) and finite, non-negative expected requests."""
    try:
        arr = build(a)
    except Refused:
        return
    names = field_names(a)
    n_bins = attempt(lambda: arr.n_bins, names=names)
    assert n_bins >= 1
    if n_bins > 100_000 or uncertain_parameters(arr):
        return  # absurd bin counts are simulate's memory guard's to refuse (test_simulate)
    starts = attempt(arr.bin_starts, names=names)
    assert (np.diff(starts.astype(np.int64)) > 0).all(), f"bin starts wrap: {starts[0]} .. {starts[-1]}"
    expected = attempt(arr.expected_requests, names=names)
    assert expected.shape == (n_bins,)
    assert np.isfinite(expected).all() and (expected >= 0).all(), f"expected requests {expected}"


test_arrivals, test_arrivals_slow = fuzz_tests(_arrivals, arrivals())


def _round_trip(spec) -> None:
    """A built traffic or option survives ``to_dict`` -> JSON -> ``from_dict`` unchanged (a
    result file holds its scenario as JSON), unless it holds a user's compiled function or
    model class."""
    try:
        obj = build(spec)
    except Refused:
        return
    data = cs.to_dict(obj)
    text = json.dumps(data, allow_nan=False)
    if "CustomCapacity" in text or "UnbilledModel" in text:
        return
    assert cs.from_dict(json.loads(text)) == obj


def _traffic(t) -> None:
    """A Traffic (classes, arrivals, modulations, mix shift) builds or is refused by name;
    a built one without uncertain parameters has finite, non-negative rates."""
    try:
        traffic = build(t)
    except Refused:
        return
    if uncertain_parameters(traffic) or traffic.arrivals.n_bins > 10_000:
        return
    rates = attempt(traffic.rates, seed=1, trial=0, names=field_names(t))
    assert rates.shape == (traffic.arrivals.n_bins, len(traffic.classes))
    assert np.isfinite(rates).all() and (rates >= 0).all(), f"rates from {rates.min()} to {rates.max()}"


test_traffic, test_traffic_slow = fuzz_tests(_traffic, traffics())


def _option(o) -> None:
    """Any deployment option (token pricing with every modifier, capacity models, custom
    capacity, compositions) builds or is refused by name; a built TokenPricing prices a
    few requests at finite, non-negative costs."""
    try:
        option = build(o)
    except Refused:
        return
    assert isinstance(option, cs.DeploymentOption)
    if isinstance(option, cs.TokenPricing) and not uncertain_parameters(option):
        cost = attempt(option.price, [0, 1_000, 300_000], [0, 500, 8_000], names=field_names(o))
        assert np.isfinite(cost).all() and (cost >= 0).all(), f"costs {cost}"


test_options, test_options_slow = fuzz_tests(_option, st.one_of(options(("chat", "rag")), token_pricings()))

test_round_trip, test_round_trip_slow = fuzz_tests(_round_trip, st.one_of(traffics(), options(("chat", "rag"))))


def _named_constructor(call) -> None:
    """The alternative constructors (``LogNormal.from_median_p90``, ``from_interval``,
    ``from_quantiles``, ``Gamma.from_mean_cv``, ``QueryClass.session``,
    ``TokenPricing.from_litellm``, ``estimate_on_off``) build or are refused naming a
    hostile argument (or the field of the object they build)."""
    built = _build_call(call)
    if built is None:
        return
    for item in built if isinstance(built, tuple) else (built,):
        assert isinstance(item, (cs.Distribution, cs.QueryClass, cs.TokenPricing, cs.Modulation)), type(item)
        if isinstance(item, cs.Distribution) and not uncertain_parameters(item):
            lo, hi = item.support()
            assert not (np.isnan(lo) or np.isnan(hi)), (lo, hi)


def _build_call(call):
    try:
        return build(call)
    except Refused:
        return None


def _sane_or(sane, bad, name):
    return HOSTILE.flatmap(lambda hostile: bad.map(lambda v: (name, v, True)) if hostile
                           else sane.map(lambda v: (name, v, False)))


def _call(fn, *arguments):
    """A Spec calling ``fn`` with keyword arguments drawn sane or hostile (a refusal may be a
    plain ValueError: these are functions, not parameter objects)."""
    return st.tuples(*arguments).map(lambda drawn: Spec(
        fn, {name: value for name, value, _ in drawn},
        frozenset(name for name, value, bad in drawn if bad or tainted(value)), parameter=False))


_positive = st.one_of(st.floats(1.0, 1e5), st.integers(1, 10**5), st.integers(1, 10**5).map(np.int64),
                      st.floats(1.0, 1e5).map(np.float64))
_hostile = st.one_of(hostile_number(), st.sampled_from([0, -1.0, 1e308]))
_quantile = st.tuples(st.floats(0.01, 0.45), st.floats(1.0, 1e4))

named_constructors = st.one_of(
    st.tuples(_positive, st.floats(1.5, 10.0)).flatmap(lambda mp: _call(
        cs.LogNormal.from_median_p90, _sane_or(st.just(mp[0]), _hostile, "median"),
        _sane_or(st.just(float(mp[0]) * mp[1]), _hostile, "p90"))),
    st.tuples(_positive, st.floats(1.5, 10.0)).flatmap(lambda lw: _call(
        cs.LogNormal.from_interval, _sane_or(st.just(lw[0]), _hostile, "low"),
        _sane_or(st.just(float(lw[0]) * lw[1]), _hostile, "high"),
        _sane_or(st.floats(0.5, 0.99), _hostile, "coverage"))),
    _quantile.flatmap(lambda q: _call(
        cs.LogNormal.from_quantiles,
        _sane_or(st.just(q), st.one_of(st.tuples(_hostile, _hostile), junk()), "a"),
        _sane_or(st.just((q[0] + 0.5, q[1] * 3.0)), st.one_of(st.tuples(_hostile, _hostile), junk()), "b"))),
    _call(cs.Gamma.from_mean_cv, _sane_or(_positive, _hostile, "mean"),
          _sane_or(st.floats(0.05, 3.0), _hostile, "cv")),
    _call(cs.QueryClass.session, _sane_or(st.just("chat"), junk(), "name"),
          _sane_or(st.floats(0.1, 1.0), _hostile, "share"),
          _sane_or(token_dists(), junk(), "first_prompt"), _sane_or(token_dists(), junk(), "user_tokens"),
          _sane_or(token_dists(), junk(), "output_tokens"),
          _sane_or(st.integers(1, 8), st.one_of(_hostile, st.just(10**6)), "turns")),
    _call(cs.TokenPricing.from_litellm,
          _sane_or(st.sampled_from(["gpt-4o", "claude-sonnet-4-5", "gemini/gemini-2.5-pro"]),
                   st.one_of(st.sampled_from(["no-such-model", "", "../../etc/passwd"]), junk()), "model"),
          _sane_or(st.none(), st.one_of(st.sampled_from(["/nonexistent.json", "", {"models": 5},
                                                         {"gpt-4o": {"input_cost_per_token": -1}},
                                                         {"gpt-4o": {"input_cost_per_token": 1e308}},
                                                         {"gpt-4o": {"input_cost_per_token": "x"}}]), junk()),
                   "price_map"),
          _sane_or(st.booleans(), st.one_of(st.just("yes"), junk()), "web_search"),
          _sane_or(st.sampled_from(["low", "medium", "high"]), st.one_of(st.just("max"), junk()),
                   "search_context")),
    _call(cs.estimate_on_off,
          _sane_or(st.lists(st.integers(0, 50), min_size=10, max_size=200).map(lambda c: [0, 1, *c]),
                   st.one_of(st.lists(nasty_numbers(), max_size=20), st.just([]), st.just([0] * 50),
                             st.just([1e308] * 50), junk()), "counts"),
          _sane_or(st.sampled_from(["1min", "10s"]), st.sampled_from(["0s", "abc", "-1min", 5]), "unit"),
          _sane_or(st.floats(0.1, 3.0), _hostile, "sigma")),
)

test_named_constructors, test_named_constructors_slow = fuzz_tests(_named_constructor, named_constructors)


def _sample(case) -> None:
    """``Distribution.sample(shape, rng=...)`` returns that many draws inside the support, or
    refuses naming ``shape`` or ``rng``."""
    d, shape, rng, hostile = case
    try:
        dist = build(d)
    except Refused:
        return
    if isinstance(d, Deep) or uncertain_parameters(dist):
        return
    try:
        x = attempt(dist.sample, shape, rng=rng, names=hostile or {"shape", "rng"},
                    where=f"{d!r}.sample({shape!r}, rng={rng!r})")
    except Refused:
        return
    x = np.asarray(x)
    assert x.shape == (np.empty(shape).shape if not isinstance(shape, int) else (shape,)), x.shape
    lo, hi = dist.support()
    assert not np.isnan(x).any() and ((x >= lo) & (x <= hi)).all(), x


samples = st.tuples(
    token_dists(),
    _sane_or(st.sampled_from([(), 3, (2, 3), 0, np.int64(4)]),
             st.sampled_from([-1, "a", 2.5, (2, -1), 10**20, None, [[2]]]), "shape"),
    _sane_or(st.one_of(st.sampled_from([None, 0, 2**63]), st.integers(0, 2**32).map(np.random.default_rng)),
             st.sampled_from([-1, "x", 1.5, 2**200, np.random.RandomState(0)]), "rng"),
).map(lambda c: (c[0], c[1][1], c[2][1], frozenset(name for name, _, bad in c[1:] if bad)))

test_sample, test_sample_slow = fuzz_tests(_sample, samples)
