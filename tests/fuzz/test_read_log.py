"""Fuzz ``costsim.calibrate.read_log``: request logs as mappings of columns, DataFrames
and CSV files, with hostile timestamps (epoch milli- and nanoseconds, NaN, dates past
the datetime64 limits), token counts (negative, fractional, beyond int64), classes,
column mappings and duplicate rules.

Property: read_log either raises a ValueError/TypeError naming the column or argument
at fault, or returns a log whose timestamps are sorted, valid date-times (no NaT), whose
token counts are the given ones as non-negative int64 (cached ones at most the prompt)
and whose span is a non-negative duration.
"""

from __future__ import annotations

import inspect
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from costsim.calibrate import read_log

from ._fuzz import HOSTILE, NASTY_FLOATS, NASTY_INTS, Refused, attempt, fuzz_tests, junk, show

_PARAMETERS = inspect.signature(read_log).parameters
FIELDS = ("timestamp", "input_tokens", "output_tokens", "qclass", "cached_tokens")


def _timestamps(n: int) -> st.SearchStrategy:
    seconds = st.lists(st.floats(0.0, 2 * 86_400.0), min_size=n, max_size=n)
    return st.one_of(
        seconds,
        seconds.map(lambda v: [1.767e9 + x for x in v]),  # Unix seconds
        seconds.map(lambda v: pd.to_datetime(np.asarray(v) + 1.767e9, unit="s").strftime("%Y-%m-%dT%H:%M:%S.%f")
                    .tolist()),
        seconds.map(lambda v: (np.datetime64("2026-01-05") + (np.asarray(v) * 1e9).astype("timedelta64[ns]"))),
    )


def _hostile_timestamps(n: int) -> st.SearchStrategy:
    return st.one_of(
        st.lists(st.floats(1.7e12, 1.8e12), min_size=n, max_size=n),  # epoch milliseconds
        st.lists(st.integers(1_700_000_000_000_000_000, 1_800_000_000_000_000_000), min_size=n, max_size=n),  # ns
        st.lists(st.sampled_from(NASTY_FLOATS + NASTY_INTS), min_size=n, max_size=n),
        st.lists(st.sampled_from(["2262-04-12", "1677-09-21", "9999-12-31", "abc", "", "NaT", "2026-13-01",
                                  "2026-01-05T25:00"]), min_size=n, max_size=n),
        st.lists(st.one_of(st.floats(0, 1e5), st.text(max_size=3), st.none(), st.booleans()), min_size=n,
                 max_size=n),
        st.just([0.0, 4.7e8][:n] + [0.0] * max(0, n - 2)),  # decades apart: the span overflows
        st.just([True] * n),
    )


def _tokens(n: int) -> st.SearchStrategy:
    return st.one_of(st.lists(st.integers(0, 200_000), min_size=n, max_size=n),
                     st.lists(st.integers(0, 200_000).map(float), min_size=n, max_size=n))


def _hostile_tokens(n: int) -> st.SearchStrategy:
    return st.one_of(
        st.lists(st.sampled_from([-1, 1.5, 1e20, 2**63, 2**64, 10**400, np.nan, np.inf, "12", "x", None, True,
                                  2.0**53 + 1, -0.0]), min_size=n, max_size=n),
        st.lists(st.one_of(st.integers(0, 10), st.floats(), st.text(max_size=2)), min_size=n, max_size=n),
        st.lists(st.integers(0, 10), min_size=n + 1, max_size=n + 2),  # another length
        junk(),
    )


@st.composite
def logs(draw):
    """``(form of the source, its columns, read_log keywords, hostile names, column name of each field)``."""
    n = draw(st.one_of(st.integers(2, 12), st.integers(2, 12), st.integers(2, 12), st.sampled_from([0, 1])))
    hostile: set[str] = set() if n >= 2 else {"log"}

    def column(field, sane, bad):
        if draw(HOSTILE):
            hostile.add(field)
            return draw(bad)
        return draw(sane)

    names = {f: draw(st.sampled_from({"timestamp": ["timestamp", "TIMESTAMP", "ts"],
                                      "input_tokens": ["input_tokens", "ContextTokens", "prompt_tokens"],
                                      "output_tokens": ["output_tokens", "GeneratedTokens"],
                                      "qclass": ["qclass", "class"],
                                      "cached_tokens": ["cached_tokens"]}[f])) for f in FIELDS}
    data = {
        names["timestamp"]: column("timestamp", _timestamps(n), _hostile_timestamps(n)),
        names["input_tokens"]: column("input_tokens", _tokens(n), _hostile_tokens(n)),
        names["output_tokens"]: column("output_tokens", _tokens(n), _hostile_tokens(n)),
    }
    if draw(st.booleans()):
        data[names["qclass"]] = column("qclass", st.lists(st.sampled_from(["chat", "rag"]), min_size=n, max_size=n),
                                       st.one_of(st.lists(st.one_of(st.none(), st.integers(), st.floats()),
                                                          min_size=n, max_size=n), junk()))
    if draw(st.booleans()):
        prompt = data[names["input_tokens"]]
        sane = st.just([int(p) // 2 for p in prompt]) if "input_tokens" not in hostile else _tokens(n)
        data[names["cached_tokens"]] = column("cached_tokens", sane, st.one_of(
            _hostile_tokens(n), st.just([10**6] * n)))
    for field in [f for f in ("input_tokens", "output_tokens", "timestamp") if draw(HOSTILE)]:
        data.pop(names[field], None)  # a missing column
        hostile.add(field)
    kwargs = {}
    if draw(HOSTILE):
        kwargs["columns"] = draw(st.one_of(st.just({"timestamp": "nope"}), st.just({"bogus": "ts"}),
                                           st.just({"input_tokens": 5}), junk()))
        hostile.add("columns")
    elif draw(st.booleans()):
        kwargs["columns"] = {f: names[f] for f in ("timestamp", "input_tokens", "output_tokens")
                             if names[f] in data}
    if draw(HOSTILE):
        kwargs["duplicates"] = draw(st.one_of(st.sampled_from(["ignore", "", "RAISE"]), junk()))
        hostile.add("duplicates")
    elif draw(st.booleans()):
        kwargs["duplicates"] = draw(st.sampled_from(["warn", "drop", "raise"]))
    if "unit" in _PARAMETERS:  # the unit of numeric timestamps
        if draw(HOSTILE):
            kwargs["unit"] = draw(st.one_of(st.sampled_from(["h", "", "S", "seconds", 1]), junk()))
            hostile.add("unit")
        elif draw(st.booleans()):
            kwargs["unit"] = draw(st.sampled_from([None, "s", "ms", "us", "ns"]))
    form = draw(st.sampled_from(["mapping", "frame", "csv"]))
    if draw(HOSTILE):
        form = draw(st.sampled_from(["list", "empty-csv", "junk-csv"]))
        hostile |= {"log", "source"}
    return form, data, kwargs, frozenset(hostile), names


def _source(form: str, data: dict, folder: Path):
    if form == "mapping":
        return data
    if form == "frame":
        try:
            return pd.DataFrame(data)
        except (ValueError, TypeError):  # pandas cannot make a frame of these columns: a mapping then
            return data
    if form == "list":
        return list(data.items())
    path = folder / "log.csv"
    if form == "empty-csv":
        path.write_text("")
    elif form == "junk-csv":
        path.write_text('timestamp,input_tokens\n"1,2\n\x00,,,,\n')
    else:
        try:
            pd.DataFrame(data).to_csv(path, index=False)
        except (ValueError, TypeError):  # columns of different lengths: a mapping then
            return data
    return path


def _read_log(case) -> None:
    """read_log refuses naming the column or argument at fault, or returns a sound log."""
    form, data, kwargs, hostile, columns = case
    with tempfile.TemporaryDirectory() as folder:
        source = _source(form, data, Path(folder))
        # a hostile field may be named by its field or its column name; no hostile field: any column
        names = set(hostile) | {columns[f] for f in hostile if f in columns}
        if not hostile:
            names = {"log", *map(str, data)}
        if "columns" in hostile and isinstance(kwargs["columns"], dict):  # the field or column it names
            names |= {str(x) for item in kwargs["columns"].items() for x in item}
        if kwargs.get("unit") is not None:  # a unit that does not fit the timestamps
            names.add("unit")
        if kwargs.get("duplicates") == "raise":
            names.add("duplicates")
        with warnings.catch_warnings(record=True):  # sorting and repeated timestamps warn
            warnings.simplefilter("always")
            try:
                log = attempt(read_log, source, names=names, where=f"read_log({form}: {show(data)}, {kwargs})",
                              **kwargs)
            except Refused:
                return
    n = len(log)
    assert n >= 2
    ts = log.timestamp
    assert ts.dtype == np.dtype("datetime64[ns]")
    assert not np.isnat(ts).any(), f"NaT timestamps: {ts}"
    assert (np.diff(ts.astype(np.int64)) >= 0).all(), "timestamps not sorted"
    for column in (log.input_tokens, log.output_tokens) + ((log.cached_tokens,) if log.cached_tokens is not None
                                                             else ()):
        assert column.dtype == np.int64 and (column >= 0).all(), f"token counts {column}"
        assert column.shape == (n,)
    if log.cached_tokens is not None:
        assert (log.cached_tokens <= log.input_tokens).all()
    if "duplicates" not in kwargs or kwargs["duplicates"] != "drop":
        given = sorted(int(float(x)) for x in next(v for k, v in data.items()
                                                     if k in ("input_tokens", "ContextTokens", "prompt_tokens")))
        assert sorted(log.input_tokens.tolist()) == given, f"input tokens {log.input_tokens} from {given}"
    span = log.span  # first to last arrival plus one mean gap
    assert isinstance(span, pd.Timedelta) and span >= pd.Timedelta(0), span


test_read_log, test_read_log_slow = fuzz_tests(_read_log, logs())
