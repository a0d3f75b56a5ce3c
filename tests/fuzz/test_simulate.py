"""Fuzz ``costsim.simulate`` over drawn traffics, options and run settings.

Runs are tiny (at most a few thousand queries a day, two days of bins, three trials)
unless a hostile value asks for more, which simulate must refuse quickly.

Property: simulate either raises a ValueError/TypeError naming an argument that was
given a hostile value (a field, a path through it, an option or a keyword), or returns
a Dataset whose counts are integers >= 0 (of an integer dtype: ``test_count_dtypes``)
and whose costs are finite and >= 0.  It may
warn about draws clipped at a documented limit (a ``UserWarning``).
"""

from __future__ import annotations

import inspect
import math
import warnings

import numpy as np
from hypothesis import strategies as st

import costsim as cs

from ._fuzz import (
    COUNT_UNITS,
    HOSTILE,
    Refused,
    attempt,
    build,
    check_dataset,
    exact_int,
    fuzz_tests,
    hostile_names,
    junk,
    option_maps,
    tainted,
    traffics,
)

_SANE_RUN = {
    "trials": st.one_of(st.integers(1, 3), st.just([0, 2]), st.just((5,)), st.integers(1, 3).map(np.int64)),
    "seed": st.one_of(st.integers(0, 2**63 - 1), st.sampled_from([0, 2**63 - 1]), st.none()),
    "hist_range": st.sampled_from([(1e-7, 1e3), (1e-5, 10.0)]),
    "hist_bins_per_octave": st.sampled_from([16, 1, 4, 256]),
    "max_result_bytes": st.sampled_from([2e8, 5e7]),
    "progress": st.just(False),
}
_HOSTILE_RUN = {
    "trials": st.one_of(st.sampled_from([0, -1, 10**8, 10**12, 10**30, True, 1.5, "3", [], [1, 1], [-1], [2**63],
                                         np.uint64(2**64 - 1), None]), junk()),
    "seed": st.one_of(st.sampled_from([-1, 2**63, 2**64, 10**400, 1.0, "1", True, np.uint64(2**64 - 1),
                                       np.int64(-5)]), junk()),
    "hist_range": st.one_of(st.sampled_from([(0.0, 1.0), (1.0, 0.0), (np.nan, 1.0), (1e-300, 1e300), (-1.0, 1.0),
                                             (1.0,), (np.inf, np.inf), (1e-7, 1e3, 1e9), "ab"]), junk()),
    "hist_bins_per_octave": st.one_of(st.sampled_from([0, 3, 512, 2**40, -1, 1.5, True]), junk()),
    "max_result_bytes": st.one_of(st.sampled_from([np.nan, -1.0, 0, "x"]), junk()),
    "progress": st.sampled_from(["yes", 2]),
}


# newer keywords, fuzzed where simulate has them: absent when sane
_EXTRA_HOSTILE = {
    "max_seconds": st.one_of(st.sampled_from([np.nan, -1.0, 0.0, "x", 1e-9]), junk()),
    "max_memory_bytes": st.one_of(st.sampled_from([np.nan, -1.0, 0, "x", 1.0]), junk()),
    "trials_per_task": st.sampled_from([2, 0, -1]),  # without a client
    "lazy": st.sampled_from([True, "yes"]),
}
_PARAMETERS = inspect.signature(cs.simulate).parameters


@st.composite
def runs(draw):
    """``(traffic spec, options spec, simulate keywords, hostile keywords)``."""
    traffic = draw(traffics())
    class_names = tuple(getattr(q, "kwargs", {}).get("name") for q in traffic.kwargs["classes"]) \
        if isinstance(traffic.kwargs["classes"], list) else ("chat",)
    class_names = tuple(n for n in class_names if isinstance(n, str) and n) or ("chat",)
    options = draw(option_maps(class_names))
    kwargs, hostile = {}, set()
    for name, sane in _SANE_RUN.items():
        if draw(HOSTILE):
            kwargs[name] = draw(_HOSTILE_RUN[name])
            hostile.add(name)
        else:
            kwargs[name] = draw(sane)
    for name, bad in _EXTRA_HOSTILE.items():
        if name in _PARAMETERS and draw(HOSTILE):
            kwargs[name] = draw(bad)
            hostile.add(name)
    return traffic, options, kwargs, hostile


def _accepted_names(traffic, options, hostile_kwargs) -> set[str]:
    """What a refusal may name: fields given hostile values, options holding one,
    keywords given one; any argument when nothing was hostile."""
    names = hostile_names(traffic) | hostile_names(options) | set(hostile_kwargs)
    names |= {str(k) for k, v in options.items() if tainted(v)}
    if any(not (isinstance(k, str) and k) for k in options):
        names.add("options")
    if not names:
        names = {"traffic", "options", *hostile_kwargs}
    return names


def _simulated(run):
    """``(traffic, options, Dataset)`` of a run, or None where a constructor or simulate refused it
    by name (``attempt`` fails the property for any other outcome)."""
    traffic_spec, options_spec, kwargs, hostile_kwargs = run
    try:
        traffic = build(traffic_spec)
        options = build(options_spec)
        with warnings.catch_warnings(record=True):  # clipped draws warn (a UserWarning); numpy may too
            warnings.simplefilter("always")
            ds = attempt(cs.simulate, traffic, options, names=_accepted_names(traffic_spec, options_spec,
                                                                               hostile_kwargs), **kwargs)
    except Refused:
        return None
    return traffic, options, ds


def _simulate(run) -> None:
    """simulate refuses by name or returns a sound Dataset (see the module docstring)."""
    simulated = _simulated(run)
    if simulated is None:
        return
    traffic, options, ds = simulated
    kwargs = run[2]
    trials = kwargs["trials"]
    n_trials = int(trials) if isinstance(trials, (int, np.integer)) else len(trials)
    check_dataset(ds, n_trials=n_trials, option_names=list(options), class_names=list(traffic.class_names))


test_simulate, test_simulate_slow = fuzz_tests(_simulate, runs())


SHARES_OF_COUNTS = {"throttled_requests"}
"""Count variables that are a share of a bin's queries by design, so floats (costsim.results)."""


def _count_dtypes(run) -> None:
    """Every count variable of a result (units queries, calls, tokens) has an integer dtype.

    (A property of its own, so that a count stored as float in every capacity run does
    not end the search of ``test_simulate``.)"""
    simulated = _simulated(run)
    if simulated is None:
        return
    ds = simulated[2]
    floats = sorted(name for name, var in ds.data_vars.items()
                    if var.attrs.get("units") in COUNT_UNITS and var.dtype.kind not in "iu"
                    and name not in SHARES_OF_COUNTS)
    assert not floats, f"counts stored as floats: {floats}"


test_count_dtypes, test_count_dtypes_slow = fuzz_tests(_count_dtypes, runs())


def _estimate(run) -> None:
    """``costsim.estimate`` refuses by name, or estimates non-negative finite sizes and times."""
    traffic_spec, options_spec, kwargs, hostile_kwargs = run
    try:
        traffic = build(traffic_spec)
        options = build(options_spec)
    except Refused:
        return
    keys = ("trials", "seed", "hist_range", "hist_bins_per_octave")
    hostile = {k for k in hostile_kwargs if k in keys}
    try:
        est = attempt(cs.estimate, traffic, options, names=_accepted_names(traffic_spec, options_spec, hostile),
                      **{k: v for k, v in kwargs.items() if k in keys})
    except Refused:
        return
    for name in ("trials", "bins", "classes", "options", "result_bytes", "peak_bytes", "threads"):
        value = getattr(est, name)
        assert exact_int(value) and value >= 0, f"{name} = {value!r}"
    for name in ("queries", "seconds"):
        value = getattr(est, name)
        assert math.isfinite(value) and value >= 0, f"{name} = {value!r}"


test_estimate, test_estimate_slow = fuzz_tests(_estimate, runs())
