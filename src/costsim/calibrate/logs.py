"""Request logs: read, validate and hold the columns that calibration fits.

A log is one row per request: when it arrived, its prompt (input) tokens and its
output tokens, optionally its query class, its cached prompt tokens, the hashes
of its prompt's blocks and its session (conversation) id.  It can come as a
pandas DataFrame, a CSV or JSON-lines path (``.jsonl``, ``.ndjson``) or a
mapping of column name -> array.

Bad input never turns into a silent wrong fit: a missing column, a NaN, a
timestamp that is not a date-time (or lies outside 1677-2262, the range of
nanosecond date-times), a negative, non-integer or absurd token count (above
:data:`~costsim._limits.MAX_TOKENS_PER_CALL`), or cached tokens above the prompt
raise a ``ValueError`` naming the column, the number of rows affected and the
first of them.  Two things are repaired, with a warning: rows out of time order
are sorted (a log merged from several servers is rarely in order), and rows
whose timestamp repeats are kept as separate requests (two requests in the same
millisecond are common) unless ``duplicates="drop"`` (drop rows that repeat
timestamp, tokens and class exactly: double logging) or ``duplicates="raise"``.
A clock that ticks coarsely (every timestamp a whole number of milliseconds,
seconds, ...) repeats timestamps by design: such repeats are kept without a
warning, and the tick is :attr:`TrafficLog.timestamp_tick`.

Numeric timestamps are times since 1970-01-01 UTC (or any origin: only
differences matter unless the log spans days) in a unit given by ``unit=`` or
inferred from their magnitude (:data:`EPOCH_UNITS`): below 1e11 seconds (Unix
seconds reach 1e11 in the year 5138), below 1e14 milliseconds, below 1e17
microseconds, nanoseconds above.  The unit used is kept in
:attr:`TrafficLog.timestamp_unit`, and an inferred unit other than seconds is
announced by a warning.  A column whose rows fall in different ranges (a mix of
units, or nanoseconds counted from 0) is refused: pass ``unit=``.  Numbers in an
``object`` column are read the same way (not as nanoseconds, pandas' default); a
column mixing numbers and date-time strings is refused.  Date-times whose first row
reads month first but whose other rows only fit day first (``01/02/2024``,
``13/02/2024``) are all read day first, with a warning.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._format import duration_text
from .._limits import MAX_TOKENS_PER_CALL
from .._validation import ParameterError, check_duration, check_int, shorten
from .caching import Reuse, parse_hashes, reuse_from_hashes, reuse_from_sessions

__all__ = ["CLOCK_TICKS", "COLUMN_PRESETS", "DEFAULT_COLUMNS", "EPOCH_UNITS", "MAX_LOG_SPAN", "TrafficLog",
           "read_log"]

#: Column names tried, in order, for each field when ``columns`` does not name one.
DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "timestamp": ("timestamp", "TIMESTAMP", "time", "ts"),
    "input_tokens": ("input_tokens", "ContextTokens", "prompt_tokens", "input"),
    "output_tokens": ("output_tokens", "GeneratedTokens", "completion_tokens", "output"),
    "qclass": ("qclass", "class", "query_class"),
    "cached_tokens": ("cached_tokens", "cached_input_tokens", "cache_read_tokens", "cache_read_input_tokens"),
    "prefix_hashes": ("prefix_hashes", "block_hashes", "hash_ids"),
    "session": ("session_id", "conversation_id", "session"),
}
_REQUIRED = ("timestamp", "input_tokens", "output_tokens")

#: Column names and reading options of common exports, by name (``read_log(path, columns="mooncake")``):
#:
#: - ``"azure-llm-2023"``: the Azure LLM inference traces of 2023 (``TIMESTAMP``, ``ContextTokens``,
#:   ``GeneratedTokens``; date-times);
#: - ``"litellm-spend-logs"``: rows of the LiteLLM proxy's ``LiteLLM_SpendLogs`` table (``startTime``,
#:   ``prompt_tokens``, ``completion_tokens``); add ``"qclass": "model"`` for a class per model;
#: - ``"mooncake"``: the Mooncake traces (JSON lines: ``timestamp`` in milliseconds from the first
#:   request, ``input_length``, ``output_length``, ``hash_ids`` of 512-token blocks).
#:
#: Aggregated usage exports (the OpenAI usage API's time buckets of token totals) are not request
#: logs: they have no per-request rows to fit.
COLUMN_PRESETS: dict[str, dict[str, Any]] = {
    "azure-llm-2023": {"columns": {"timestamp": "TIMESTAMP", "input_tokens": "ContextTokens",
                                   "output_tokens": "GeneratedTokens"}},
    "litellm-spend-logs": {"columns": {"timestamp": "startTime", "input_tokens": "prompt_tokens",
                                       "output_tokens": "completion_tokens"}},
    "mooncake": {"columns": {"timestamp": "timestamp", "input_tokens": "input_length",
                             "output_tokens": "output_length", "prefix_hashes": "hash_ids"},
                 "unit": "ms", "block_tokens": 512},
}

#: Units of numeric timestamps: nanoseconds per unit, and the magnitude below which
#: a number is read in that unit when ``unit`` is not given (checked in this order).
EPOCH_UNITS: dict[str, tuple[int, float]] = {
    "s": (10**9, 1e11), "ms": (10**6, 1e14), "us": (10**3, 1e17), "ns": (1, math.inf),
}
#: Clock ticks recognised, coarsest first (nanoseconds): a log whose timestamps are all whole
#: multiples of one of them repeats timestamps without a warning.
CLOCK_TICKS: dict[str, int] = {"1s": 10**9, "100ms": 10**8, "10ms": 10**7, "1ms": 10**6}
_UNIT_WORDS = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}
#: A log's window (first arrival to last plus one mean gap) lies within the range of
#: nanosecond date-times, with a day to spare for rounding to hours.
_EARLIEST, _LATEST = pd.Timestamp("1677-09-22"), pd.Timestamp("2262-04-10")
#: Longest time from a log's first arrival to its last: more is a wrong unit or a stray row.
MAX_LOG_SPAN = pd.Timedelta(days=36_525)


@dataclasses.dataclass(frozen=True, eq=False)
class TrafficLog:
    """A validated request log, sorted by time.

    Attributes
    ----------
    timestamp : numpy.ndarray
        ``datetime64[ns]`` arrival times, non-decreasing.
    input_tokens, output_tokens : numpy.ndarray
        ``int64`` token counts, >= 0.
    qclass : numpy.ndarray
        Query class of each row (``object`` array of str); ``"all"`` where the log
        has no class column.
    cached_tokens : numpy.ndarray or None
        ``int64`` cached prompt tokens (<= input tokens), or None.
    timestamp_unit : {"s", "ms", "us", "ns"} or None
        The unit numeric timestamps were read in (given or inferred); None where
        the column held date-times.
    prefix_hashes : numpy.ndarray or None
        ``object`` array: each request's prompt block hashes (a tuple), or None.
    block_tokens : int or None
        Tokens per hashed block.
    session : numpy.ndarray or None
        ``object`` array of session (conversation) ids, or None.
    cache_ttl : float or None
        The prompt cache's TTL in seconds where given (None: unknown).
    timestamp_tick : str or None
        The clock's tick (a key of :data:`CLOCK_TICKS`) where timestamps repeat on a coarse clock.
    """

    timestamp: np.ndarray
    input_tokens: np.ndarray
    output_tokens: np.ndarray
    qclass: np.ndarray
    cached_tokens: np.ndarray | None = None
    timestamp_unit: str | None = None
    prefix_hashes: np.ndarray | None = None
    block_tokens: int | None = None
    session: np.ndarray | None = None
    cache_ttl: float | None = None
    timestamp_tick: str | None = None

    def __len__(self) -> int:
        return int(self.timestamp.shape[0])

    def __repr__(self) -> str:
        """One line: rows, start, span, classes and what the log carries (not its arrays).

        Examples
        --------
        >>> read_log({"timestamp": [0.0, 1.5, 3.0], "input_tokens": [120, 80, 4096],
        ...           "output_tokens": [30, 12, 200]})
        TrafficLog(3 rows from 1970-01-01 00:00:00 over 4.5 s; classes ['all']; timestamps in s)
        """
        extras = [f"{name} ({detail})" if detail else name for name, present, detail in (
            ("cached tokens", self.cached_tokens is not None, ""),
            ("prefix hashes", self.prefix_hashes is not None, f"{self.block_tokens} tokens a block"),
            ("sessions", self.session is not None, ""),
        ) if present]
        ttl = "" if self.cache_ttl is None else f"; cache TTL {self.cache_ttl:g} s"
        unit = "" if self.timestamp_unit is None else f"; timestamps in {self.timestamp_unit}"
        return (f"TrafficLog({len(self):,} rows from {self.start} over {duration_text(self.span)}; "
                f"classes {list(self.class_names)}"
                f"{unit}{'; ' + ', '.join(extras) if extras else ''}{ttl})")

    @property
    def class_names(self) -> tuple[str, ...]:
        """Query classes in order of first appearance."""
        return tuple(pd.unique(self.qclass).tolist())

    @property
    def start(self) -> pd.Timestamp:
        """First arrival."""
        return pd.Timestamp(self.timestamp[0])

    @property
    def span(self) -> pd.Timedelta:
        """Time covered: first to last arrival, plus one mean gap (so ``n`` rows span
        ``n`` gaps, and the rate ``len / span`` is unbiased for a Poisson stream)."""
        return pd.Timedelta(_span_ns(self.timestamp), unit="ns")

    @property
    def reuse(self) -> Reuse | None:
        """The requests' prompt-cache reuse (see :mod:`costsim.calibrate.caching`), from the
        prefix hashes or else the sessions, as this log alone shows it; None without either."""
        if self.prefix_hashes is not None:
            return reuse_from_hashes(self.timestamp, self.prefix_hashes, self.block_tokens, self.input_tokens)
        if self.session is not None:
            return reuse_from_sessions(self.timestamp, self.session, self.input_tokens, self.output_tokens)
        return None

    def select(self, mask: np.ndarray) -> TrafficLog:
        """The rows where ``mask`` is true (a boolean array; or increasing row indices), still sorted."""
        def rows(column: np.ndarray | None) -> np.ndarray | None:
            return None if column is None else column[mask]

        return dataclasses.replace(self, timestamp=self.timestamp[mask], input_tokens=self.input_tokens[mask],
                                   output_tokens=self.output_tokens[mask], qclass=self.qclass[mask],
                                   cached_tokens=rows(self.cached_tokens), prefix_hashes=rows(self.prefix_hashes),
                                   session=rows(self.session))

    def between(self, start: Any = None, end: Any = None) -> TrafficLog:
        """The rows with ``start <= timestamp < end`` (None: open end).

        Examples
        --------
        >>> log = read_log({"timestamp": [0.0, 30.0, 90.0], "input_tokens": [10, 20, 30],
        ...                 "output_tokens": [1, 2, 3]})
        >>> len(log.between(end=log.start + pd.Timedelta("1min")))
        2
        """
        mask = np.ones(len(self), dtype=bool)
        if start is not None:
            mask &= self.timestamp >= _instant("start", start).to_datetime64()
        if end is not None:
            mask &= self.timestamp < _instant("end", end).to_datetime64()
        return self.select(mask)


def _instant(name: str, value: Any) -> pd.Timestamp:
    """``value`` as a tz-naive UTC Timestamp (the log's clock), or a ParameterError naming ``name``."""
    try:
        when = pd.Timestamp(value)
    except (TypeError, ValueError):
        when = pd.NaT
    if when is pd.NaT:
        raise ParameterError(name, "must be a date-time such as '2026-01-05T00:00'", value)
    return when if when.tz is None else when.tz_convert("UTC").tz_localize(None)


def read_log(
    source: Any,
    *,
    columns: Mapping[str, str] | str | None = None,
    duplicates: str = "warn",
    unit: str | None = None,
    block_tokens: int | None = None,
    cache_ttl: str | pd.Timedelta | None = None,
) -> TrafficLog:
    """Read and validate a request log.

    Timestamps may be date-times (strings or ``datetime64``) or numbers: times
    since 1970-01-01 UTC in ``unit`` (any origin works, only differences matter
    unless the log spans days).

    Parameters
    ----------
    source : pandas.DataFrame, str, os.PathLike, mapping or TrafficLog
        The rows: a DataFrame, a CSV or JSON-lines file path (``.jsonl`` or
        ``.ndjson``: one JSON object per line), or a mapping of column name ->
        array (all of one length).
    columns : mapping or str, optional
        The name of a preset of :data:`COLUMN_PRESETS` (its columns, and its
        ``unit`` and ``block_tokens`` where these are not given), or which column
        holds each field: keys ``timestamp``, ``input_tokens``,
        ``output_tokens``, ``qclass``, ``cached_tokens``, ``prefix_hashes``,
        ``session``.  A field not named is looked up under the names in
        :data:`DEFAULT_COLUMNS` (the Azure trace's ``TIMESTAMP``,
        ``ContextTokens``, ``GeneratedTokens`` included); the first three are
        required.  ``prefix_hashes``: each row a list of its prompt's block
        hashes in order (integers or strings; in a CSV file, as JSON text such
        as ``[12, 7, 31]``).  ``session``: a session or conversation id (a request
        re-sends its session's previous prompt and answer).
    duplicates : {"warn", "drop", "raise"}, default "warn"
        Rows whose timestamp repeats: keep them as separate requests with a
        warning, drop exact repeats of a row (timestamp, tokens and class) with a
        warning, or raise.
    unit : {"s", "ms", "us", "ns"}, optional
        Unit of numeric timestamps (date-times need none: it is ignored for
        them).  By default inferred from their magnitude (see
        :data:`EPOCH_UNITS`), with a warning when it is not seconds; the unit
        used is :attr:`TrafficLog.timestamp_unit`.
    block_tokens : int, optional
        Tokens per hashed block; required with a ``prefix_hashes`` column (a row
        may list at most ``ceil(input_tokens / block_tokens)`` hashes).
    cache_ttl : str or timedelta, optional
        The prompt cache's time to live, where known (a block last used longer
        ago misses).  Without a cached-tokens column, the cached tokens are
        derived from the hashes (or sessions) under it (no expiry where None).

    Returns
    -------
    TrafficLog

    Raises
    ------
    ValueError
        Naming the column, the number of rows affected and the first of them:
        missing column, NaN or unreadable values, timestamps outside 1677-2262
        or first and last more than :data:`MAX_LOG_SPAN` apart, negative, non-integer or
        absurd token counts (above ``MAX_TOKENS_PER_CALL``), cached above input
        tokens, fewer than two rows, an empty file.

    Examples
    --------
    >>> log = read_log({"timestamp": [0.0, 1.5, 3.0], "input_tokens": [120, 80, 4096],
    ...                 "output_tokens": [30, 12, 200]})
    >>> len(log), log.class_names, str(log.span), log.timestamp_unit
    (3, ('all',), '0 days 00:00:04.500000', 's')
    >>> ms = read_log({"timestamp": [1767225600000, 1767225600250], "input_tokens": [10, 20],
    ...                "output_tokens": [1, 2]}, unit="ms")
    >>> str(ms.start), str(ms.span)
    ('2026-01-01 00:00:00', '0 days 00:00:00.500000')
    >>> read_log({"timestamp": [0.0, 1.0], "input_tokens": [10, -3], "output_tokens": [1, 2]})
    Traceback (most recent call last):
    ...
    ValueError: log column 'input_tokens': token counts must be >= 0; 1 of 2 rows are negative (first at row 1: -3)
    """
    if isinstance(source, TrafficLog):
        return source
    if isinstance(columns, str):
        if columns not in COLUMN_PRESETS:
            raise ParameterError("columns", f"must be a mapping or a preset among {sorted(COLUMN_PRESETS)}", columns)
        preset = COLUMN_PRESETS[columns]
        unit = preset.get("unit") if unit is None else unit
        block_tokens = preset.get("block_tokens") if block_tokens is None else block_tokens
        columns = preset["columns"]
    if duplicates not in ("warn", "drop", "raise"):
        raise ParameterError("duplicates", "must be 'warn', 'drop' or 'raise'", duplicates)
    if unit is not None and not (isinstance(unit, str) and unit in EPOCH_UNITS):
        raise ParameterError("unit", "must be 's', 'ms', 'us' or 'ns' (or None: inferred from the magnitude)", unit)
    frame = _frame(source)
    names = _resolve_columns(frame, columns)
    n = len(frame)
    if n < 2:
        raise ValueError(f"log: needs at least 2 rows to estimate anything; got {n}")
    ts, unit = _timestamps(frame[names["timestamp"]], names["timestamp"], unit)
    tokens = {f: _tokens(frame[names[f]], names[f]) for f in ("input_tokens", "output_tokens")}
    cached = None
    if "cached_tokens" in names:
        cached = _tokens(frame[names["cached_tokens"]], names["cached_tokens"])
        over = np.flatnonzero(cached > tokens["input_tokens"])
        if over.size:
            raise ValueError(
                f"log column {names['cached_tokens']!r}: cached tokens must be <= input tokens "
                f"({names['input_tokens']!r}); {over.size} of {n} rows exceed them (first at row {over[0]})"
            )
    qclass = _classes(frame[names["qclass"]], names["qclass"]) if "qclass" in names else \
        np.full(n, "all", dtype=object)
    hashes = None
    if block_tokens is not None:
        block_tokens = check_int("block_tokens", block_tokens, low=1)
    if "prefix_hashes" in names:
        if block_tokens is None:
            raise ParameterError("block_tokens", "must be given with a prefix_hashes column (tokens per hashed "
                                 "block)", block_tokens)
        hashes = _hashes(frame[names["prefix_hashes"]], names["prefix_hashes"], tokens["input_tokens"],
                         block_tokens)
    session = _classes(frame[names["session"]], names["session"]) if "session" in names else None
    ttl = None if cache_ttl is None else check_duration("cache_ttl", cache_ttl) / pd.Timedelta(seconds=1)

    unsorted = int(np.count_nonzero(ts[1:] < ts[:-1]))
    if unsorted:
        warnings.warn(f"log column {names['timestamp']!r}: {unsorted} of {n} rows are earlier than the row "
                      "before them; sorted the log by time", stacklevel=2)
        order = np.argsort(ts, kind="stable")
        rows = (int(order[0]), int(order[-1]))
    else:  # in order already: copies (not views of the caller's arrays), without a sort
        order, rows = slice(None), (0, n - 1)
    ts, qclass = ts[order].copy(), qclass[order].copy()
    tokens = {f: v[order].copy() for f, v in tokens.items()}
    cached = None if cached is None else cached[order].copy()
    hashes = None if hashes is None else hashes[order].copy()
    session = None if session is None else session[order].copy()
    _check_window(ts, rows, names["timestamp"])

    tick = _tick(ts)
    keep = _duplicates(ts, tokens, qclass, cached, duplicates, names["timestamp"], tick)
    if keep is not None:
        ts, qclass = ts[keep], qclass[keep]
        tokens = {f: v[keep] for f, v in tokens.items()}
        cached = None if cached is None else cached[keep]
        hashes = None if hashes is None else hashes[keep]
        session = None if session is None else session[keep]
        if ts.shape[0] < 2:
            raise ValueError(f"log: needs at least 2 rows to estimate anything; got {ts.shape[0]} after "
                             "dropping duplicates")
    repeats = tick if np.any(ts[1:] == ts[:-1]) else None
    log = TrafficLog(ts, tokens["input_tokens"], tokens["output_tokens"], qclass, cached, unit, hashes,
                     block_tokens if hashes is not None else None, session, ttl, repeats)
    if cached is None and log.reuse is not None:  # the hits the hashes or sessions imply
        hits = log.reuse.hits(math.inf if ttl is None else ttl)
        log = dataclasses.replace(log, cached_tokens=np.minimum(hits, log.input_tokens).astype(np.int64))
    return log


def _frame(source: Any) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        return source
    if isinstance(source, (str, os.PathLike)):
        try:
            if os.fspath(source).lower().endswith(_JSON_LINES):
                frame = _read_json_lines(source)
            else:
                frame = pd.read_csv(source)
        except pd.errors.EmptyDataError:
            raise ValueError(f"log file {os.fspath(source)!r} is empty: no header and no rows") from None
        except pd.errors.ParserError as err:
            raise ValueError(f"log file {os.fspath(source)!r} is not a readable CSV file: {err}") from None
        if frame.empty:
            raise ValueError(f"log file {os.fspath(source)!r} has no rows (columns {list(frame.columns)})")
        return frame
    if isinstance(source, Mapping):
        arrays = {k: _column(v) for k, v in source.items()}
        shapes = {k: v.shape for k, v in arrays.items()}
        if any(len(s) != 1 for s in shapes.values()) or len({s[0] for s in shapes.values()}) > 1:
            raise ValueError(f"log: every column must be 1-d and of the same length; got shapes {shapes}")
        return pd.DataFrame(arrays, copy=False)
    raise TypeError(f"log must be a pandas DataFrame, a CSV path or a mapping of columns; got {type(source).__name__}")


def _column(values: Any) -> np.ndarray:
    """A mapping's column as an array; a column of lists (prefix hashes) as an ``object`` array of them."""
    try:
        array = np.asarray(values)
    except ValueError:  # lists of different lengths
        array = None
    if array is None or array.ndim == 2:
        rows = list(values)
        array = np.empty(len(rows), dtype=object)
        array[:] = [list(r) for r in rows]
    return array


_JSON_LINES = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")


def _read_json_lines(path: Any) -> pd.DataFrame:
    """A JSON-lines file (one object per line; nested values stay lists) as a DataFrame."""
    try:
        return pd.read_json(path, lines=True, dtype=False)
    except ValueError as err:
        raise ValueError(f"log file {os.fspath(path)!r} is not readable JSON lines: {err}") from None


def _resolve_columns(frame: pd.DataFrame, columns: Mapping[str, str] | None) -> dict[str, str]:
    if columns is not None and not isinstance(columns, Mapping):
        raise TypeError(f"columns must be a mapping of field -> column name; got {type(columns).__name__}")
    columns = dict(columns or {})
    unknown = sorted(set(columns) - set(DEFAULT_COLUMNS))
    if unknown:
        raise ValueError(f"columns: unknown field(s) {unknown}; the fields are {sorted(DEFAULT_COLUMNS)}")
    available = list(frame.columns)
    repeated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
    names: dict[str, str] = {}
    for field, candidates in DEFAULT_COLUMNS.items():
        if field in columns:
            if columns[field] not in available:
                raise ValueError(f"log: column {columns[field]!r} (for {field}) is missing; the log has {available}")
            names[field] = columns[field]
            continue
        found = next((c for c in candidates if c in available), None)
        if found is not None:
            names[field] = found
        elif field in _REQUIRED:
            raise ValueError(f"log: no column for {field} (tried {list(candidates)}; pass columns={{{field!r}: ...}}); "
                             f"the log has {available}")
    clash = [c for c in names.values() if str(c) in repeated]
    if clash:
        raise ValueError(f"log: column {clash[0]!r} appears more than once; the log has {available}")
    return names


def _refuse(col: Any, name: str, bad: np.ndarray, rule: str, verdict: str) -> None:
    """Raise (when ``bad``, the offending rows, is not empty) naming the column, the rule, how
    many rows break it and the first of them: ``log column 'x': <rule>; 2 of 9 rows <verdict> (first
    at row 3: -1)`` (no ``<rule>; `` where ``rule`` is empty)."""
    if bad.size:
        rule = f"{rule}; " if rule else ""
        raise ValueError(f"log column {name!r}: {rule}{bad.size} of {len(col)} rows {verdict} (first at row "
                         f"{bad[0]}: {_show(col[bad[0]] if isinstance(col, np.ndarray) else col.iloc[bad[0]])!r})")


def _timestamps(col: pd.Series, name: str, unit: str | None) -> tuple[np.ndarray, str | None]:
    """``datetime64[ns]`` times of a timestamp column, and the unit numbers were read in."""
    _refuse(col, name, np.flatnonzero(col.isna().to_numpy()), "", "are missing (NaN/NaT)")
    if pd.api.types.is_bool_dtype(col):
        raise ValueError(f"log column {name!r}: timestamps must be date-times or numbers; got booleans")
    if pd.api.types.is_numeric_dtype(col):
        return _epoch(col, name, unit)
    if col.dtype == object:  # numbers in an object column: pandas would read them as nanoseconds
        is_number = np.fromiter((_is_number(v) for v in col.to_numpy()), dtype=bool, count=len(col))
        if is_number.all():
            huge = [i for i, v in enumerate(col.to_numpy()) if abs(v) >= 2**63]  # beyond any epoch unit's range
            _refuse(col, name, np.asarray(huge, dtype=np.int64), "numeric timestamps must be below 2**63 in "
                    "magnitude", "are not")
            return _epoch(pd.to_numeric(col), name, unit)
        _refuse(col, name, np.flatnonzero(is_number), "timestamps must be all date-times or all numbers",
                "are numbers among date-times")
    parsed = pd.to_datetime(col, errors="coerce", utc=True)
    if parsed.isna().any():  # the format inferred from the first row (month first where ambiguous) does not fit all
        with warnings.catch_warnings():  # pandas: "Parsing dates in %Y-%m-%d format when dayfirst=True ..."
            warnings.filterwarnings("ignore", "Parsing dates in .* format when dayfirst=True", UserWarning)
            days_first = pd.to_datetime(col, errors="coerce", utc=True, dayfirst=True)
        if not days_first.isna().any():  # one format, day first ('13/02/2024'), fits every row: not a mix of both
            warnings.warn(f"log column {name!r}: date-times read day first (such as {col.iloc[0]!r}), the order "
                          "that fits every row", stacklevel=4)
            parsed = days_first
        else:  # several formats: parse row by row
            parsed = pd.to_datetime(col, errors="coerce", utc=True, format="mixed")
    _refuse(col, name, np.flatnonzero(parsed.isna().to_numpy()), "", "are not date-times")
    parsed = parsed.dt.tz_localize(None)
    _refuse(col, name, np.flatnonzero(((parsed < _EARLIEST) | (parsed > _LATEST)).to_numpy()),
            f"date-times must lie between {_EARLIEST.date()} and {_LATEST.date()}", "do not")
    return parsed.dt.as_unit("ns").to_numpy(dtype="datetime64[ns]"), None


def _is_number(value: Any) -> bool:
    return isinstance(value, (numbers.Real, np.number)) and not isinstance(value, (bool, np.bool_))


def _epoch(col: pd.Series, name: str, unit: str | None) -> tuple[np.ndarray, str]:
    """Numeric timestamps as ``datetime64[ns]``, in ``unit`` or one inferred from their magnitude."""
    values = col.to_numpy()
    if values.dtype.kind not in "iuf":  # nullable or extension numbers (without NA: checked)
        values = col.to_numpy(dtype=float)
    if values.dtype.kind == "f":
        _refuse(values, name, np.flatnonzero(~np.isfinite(values)), "timestamps must be finite", "are not")
    inferred = unit is None
    if inferred:
        unit = _infer_unit(values, name)
    per_unit = EPOCH_UNITS[unit][0]
    lo, hi = _EARLIEST.value / per_unit, _LATEST.value / per_unit
    _refuse(values, name, np.flatnonzero((values < lo) | (values > hi)),
            f"as {_UNIT_WORDS[unit]} since 1970, timestamps must lie in [{lo:.6g}, {hi:.6g}] ({_EARLIEST.date()} "
            f"to {_LATEST.date()}; pass unit= if {unit!r} is not the unit meant)", "do not")
    if values.dtype.kind in "iu":  # exact integer arithmetic (in range, so no overflow)
        ns = values.astype(np.int64) * np.int64(per_unit)
    else:
        ns = np.round(values * float(per_unit)).astype(np.int64)
    if inferred and unit != "s":
        warnings.warn(f"log column {name!r}: numeric timestamps read as {_UNIT_WORDS[unit]} since 1970 "
                      f"(inferred from their magnitude, up to {float(np.abs(values).max()):.4g}); pass "
                      f"unit={unit!r} to confirm, or another unit", stacklevel=4)
    elif inferred and _relative_whole_numbers_over_a_day(values):
        span = float(values.max() - values.min())
        warnings.warn(f"log column {name!r}: numeric timestamps read as seconds (inferred), counted from "
                      f"{_show(values.min())} rather than since 1970, so the log spans {duration_text(span * 1e9)}; "
                      f"if they count milliseconds from a start (it would span {duration_text(span * 1e6)}), pass "
                      "unit='ms'; pass unit='s' to confirm", stacklevel=4)
    return ns.view("datetime64[ns]"), unit


def _relative_whole_numbers_over_a_day(values: np.ndarray) -> bool:
    """Whether timestamps read as seconds look like a count of milliseconds from a start: whole
    numbers from before 2001 (as seconds since 1970: a relative clock) spanning over a day."""
    lo, hi = float(values.min()), float(values.max())
    whole = values.dtype.kind in "iu" or bool(np.all(values == np.round(values)))
    return whole and 0.0 <= lo < 1e9 and hi - lo > 86_400.0


def _infer_unit(values: np.ndarray, name: str) -> str:
    """The unit of :data:`EPOCH_UNITS` whose magnitude range holds every value."""
    limits = np.array([limit for _, limit in EPOCH_UNITS.values()])
    units = list(EPOCH_UNITS)
    magnitude = np.abs(values.astype(float))  # float: abs(INT64_MIN) overflows in integers
    low_row, high_row = int(np.argmin(magnitude)), int(np.argmax(magnitude))
    small, large = np.searchsorted(limits, magnitude[[low_row, high_row]], side="right")
    if small != large:
        raise ValueError(f"log column {name!r}: numeric timestamps of different magnitudes (row {low_row}: "
                         f"{_show(values[low_row])!r} reads as {_UNIT_WORDS[units[small]]}, row {high_row}: "
                         f"{_show(values[high_row])!r} as {_UNIT_WORDS[units[large]]}); pass unit='s', 'ms', "
                         "'us' or 'ns'")
    return units[small]


def _span_ns(ts: np.ndarray) -> int:
    """Time covered by sorted ``datetime64[ns]`` arrivals, in ns: first to last times ``n / (n - 1)``
    (rounded), in Python integers (first to last times ``n`` overflows int64 on real logs)."""
    n = ts.shape[0]
    if n < 2:
        return 0
    first_last = int(ts[-1].astype(np.int64)) - int(ts[0].astype(np.int64))
    return (first_last * n + (n - 1) // 2) // (n - 1)


def _check_window(ts: np.ndarray, rows: tuple[int, int], name: str) -> None:
    """Refuse sorted arrivals whose first and last are more than :data:`MAX_LOG_SPAN` apart, or
    whose window ends past ``_LATEST``; ``rows``: the input rows of the first and last arrival."""
    first, last = int(ts[0].astype(np.int64)), int(ts[-1].astype(np.int64))
    where = f"row {rows[0]}: {pd.Timestamp(ts[0])} to row {rows[1]}: {pd.Timestamp(ts[-1])}"
    if last - first > MAX_LOG_SPAN.value:
        raise ValueError(f"log column {name!r}: a log may cover at most {MAX_LOG_SPAN.days / 365.25:.0f} years; "
                         f"this one covers {(last - first) / 365.25 / 86400e9:.4g} years ({where}): a stray row "
                         "or a wrong unit?")
    if first + _span_ns(ts) > _LATEST.value:
        raise ValueError(f"log column {name!r}: the log's window (first arrival plus its span; {where}) must end "
                         f"by {_LATEST.date()}")


def _show(value: Any) -> Any:
    """A cell as a plain Python value, for messages."""
    return shorten(value.item() if isinstance(value, np.generic) else value)


def _tokens(col: pd.Series, name: str) -> np.ndarray:
    """``int64`` token counts of a column: whole numbers in ``[0, MAX_TOKENS_PER_CALL]``."""
    if pd.api.types.is_bool_dtype(col):
        raise ValueError(f"log column {name!r}: token counts must be numbers; got booleans")
    try:
        numbers = pd.to_numeric(col, errors="coerce")
    except OverflowError:  # an int beyond the float range (object column): beyond any limit
        big = [i for i, v in enumerate(col.to_numpy()) if isinstance(v, int) and abs(v) > MAX_TOKENS_PER_CALL]
        _refuse(col, name, np.asarray(big[:1]), f"token counts must be <= {MAX_TOKENS_PER_CALL:,} "
                "(MAX_TOKENS_PER_CALL)", "exceed it")
        raise
    values = numbers.to_numpy()
    if values.dtype.kind not in "iuf":
        values = numbers.to_numpy(dtype=float, na_value=np.nan)
    if values.dtype.kind == "f":
        _refuse(col, name, np.flatnonzero(np.isnan(values)), "", "are missing or not numbers")
    _refuse(col, name, np.flatnonzero(values < 0), "token counts must be >= 0", "are negative")
    _refuse(col, name, np.flatnonzero(values > MAX_TOKENS_PER_CALL),
            f"token counts must be <= {MAX_TOKENS_PER_CALL:,} (MAX_TOKENS_PER_CALL)", "exceed it")
    if values.dtype.kind == "f":
        _refuse(col, name, np.flatnonzero(values != np.round(values)), "token counts must be whole numbers",
                "are not")
    return values.astype(np.int64, copy=False)


def _hashes(col: pd.Series, name: str, input_tokens: np.ndarray, block_tokens: int) -> np.ndarray:
    """Each row's block hashes as a tuple (an ``object`` array), checked: lists of integers or
    strings, at most ``ceil(input_tokens / block_tokens)`` of them."""
    out = np.empty(len(col), dtype=object)
    for i, cell in enumerate(col.to_numpy()):
        try:
            out[i] = parse_hashes(cell)
        except (TypeError, ValueError) as err:
            raise ValueError(f"log column {name!r}: each row must be a list of block hashes (integers or strings"
                             f"); row {i} is not: {err}") from None
    counts = np.fromiter((len(h) for h in out), dtype=np.int64, count=out.size)
    _refuse(counts, name, np.flatnonzero(counts > -(-input_tokens // block_tokens)),
            f"a row lists at most ceil(input_tokens / block_tokens) hashes (block_tokens={block_tokens})",
            "list more (the number of hashes")
    return out


def _classes(col: pd.Series, name: str) -> np.ndarray:
    """Query class of each row as an ``object`` array of str (one str object per class)."""
    codes, uniques = pd.factorize(col)
    _refuse(col, name, np.flatnonzero(codes < 0), "", "have no class (NaN/None)")
    return np.array([str(u) for u in uniques], dtype=object)[codes]


def _tick(ts: np.ndarray) -> str | None:
    """The coarsest tick of :data:`CLOCK_TICKS` that every timestamp is a whole multiple of (None: none)."""
    ns = ts.view(np.int64)
    return next((name for name, tick in CLOCK_TICKS.items() if not np.any(ns % tick)), None)


def _duplicates(ts, tokens, qclass, cached, mode: str, name: str, tick: str | None) -> np.ndarray | None:
    """Rows to keep (None: all) after applying the ``duplicates`` rule (repeats on a coarse
    clock, ``tick``, are expected: kept without a warning under "warn")."""
    repeated = np.concatenate([[False], ts[1:] == ts[:-1]])
    count = int(np.count_nonzero(repeated))
    if not count:
        return None
    if mode == "raise":
        raise ValueError(f"log column {name!r}: {count} of {ts.shape[0]} rows repeat the timestamp of the row "
                         "before them (duplicates='raise')")
    if mode == "warn" and tick is not None:
        return None
    if mode == "warn":
        warnings.warn(f"log column {name!r}: {count} of {ts.shape[0]} rows repeat a timestamp; kept as separate "
                      "requests (duplicates='drop' drops exact repeats)", stacklevel=3)
        return None
    frame = pd.DataFrame({"t": ts, "q": qclass, **tokens, **({} if cached is None else {"c": cached})})
    keep = ~frame.duplicated().to_numpy()
    dropped = int(np.count_nonzero(~keep))
    if dropped:
        warnings.warn(f"log: dropped {dropped} of {ts.shape[0]} rows that exactly repeat another row "
                      "(duplicates='drop')", stacklevel=3)
    return keep
