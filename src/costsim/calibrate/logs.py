"""Request logs: read, validate and hold the columns that calibration fits.

A log is one row per request: when it arrived, its prompt (input) tokens and its
output tokens, optionally its query class and its cached prompt tokens.  It can
come as a pandas DataFrame, a CSV path or a mapping of column name -> array.

Bad input never turns into a silent wrong fit: a missing column, a NaN, a negative
or non-integer token count, or cached tokens above the prompt raise a
``ValueError`` naming the column and the number of rows affected.  Two things are
repaired, with a warning: rows out of time order are sorted (a log merged from
several servers is rarely in order), and rows whose timestamp repeats are kept
as separate requests (two requests in the same millisecond are common) unless
``duplicates="drop"`` (drop rows that repeat timestamp, tokens and class
exactly: double logging) or ``duplicates="raise"``.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["DEFAULT_COLUMNS", "TrafficLog", "read_log"]

#: Column names tried, in order, for each field when ``columns`` does not name one.
DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "timestamp": ("timestamp", "TIMESTAMP", "time", "ts"),
    "input_tokens": ("input_tokens", "ContextTokens", "prompt_tokens", "input"),
    "output_tokens": ("output_tokens", "GeneratedTokens", "completion_tokens", "output"),
    "qclass": ("qclass", "class", "query_class"),
    "cached_tokens": ("cached_tokens", "cached_input_tokens", "cache_read_tokens"),
}
_REQUIRED = ("timestamp", "input_tokens", "output_tokens")


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
    """

    timestamp: np.ndarray
    input_tokens: np.ndarray
    output_tokens: np.ndarray
    qclass: np.ndarray
    cached_tokens: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.timestamp.shape[0])

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
        n = len(self)
        first_last = pd.Timedelta(self.timestamp[-1] - self.timestamp[0])
        return first_last * n / (n - 1) if n > 1 else pd.Timedelta(0)

    def select(self, mask: np.ndarray) -> TrafficLog:
        """The rows where ``mask`` is true (a boolean array), still sorted."""
        cached = None if self.cached_tokens is None else self.cached_tokens[mask]
        return TrafficLog(self.timestamp[mask], self.input_tokens[mask], self.output_tokens[mask],
                          self.qclass[mask], cached)

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
            mask &= self.timestamp >= pd.Timestamp(start).to_datetime64()
        if end is not None:
            mask &= self.timestamp < pd.Timestamp(end).to_datetime64()
        return self.select(mask)


def read_log(
    source: Any,
    *,
    columns: Mapping[str, str] | None = None,
    duplicates: str = "warn",
) -> TrafficLog:
    """Read and validate a request log.

    Timestamps may be date-times (strings or ``datetime64``) or numbers, read as
    seconds (from 1970-01-01 UTC when they are Unix times; any origin works,
    only differences matter unless the log spans days).

    Parameters
    ----------
    source : pandas.DataFrame, str, os.PathLike, mapping or TrafficLog
        The rows: a DataFrame, a CSV file path, or a mapping of column name ->
        array (all of one length).
    columns : mapping, optional
        Which column holds each field: keys ``timestamp``, ``input_tokens``,
        ``output_tokens``, ``qclass``, ``cached_tokens``.  A field not named is
        looked up under the names in :data:`DEFAULT_COLUMNS` (the Azure trace's
        ``TIMESTAMP``, ``ContextTokens``, ``GeneratedTokens`` included); the
        first three are required.
    duplicates : {"warn", "drop", "raise"}, default "warn"
        Rows whose timestamp repeats: keep them as separate requests with a
        warning, drop exact repeats of a row (timestamp, tokens and class) with a
        warning, or raise.

    Returns
    -------
    TrafficLog

    Raises
    ------
    ValueError
        Naming the column and the number of rows affected: missing column, NaN or
        unreadable values, negative or non-integer tokens, cached above input
        tokens, fewer than two rows.

    Examples
    --------
    >>> log = read_log({"timestamp": [0.0, 1.5, 3.0], "input_tokens": [120, 80, 4096],
    ...                 "output_tokens": [30, 12, 200]})
    >>> len(log), log.class_names, str(log.span)
    (3, ('all',), '0 days 00:00:04.500000')
    >>> read_log({"timestamp": [0.0, 1.0], "input_tokens": [10, -3], "output_tokens": [1, 2]})
    Traceback (most recent call last):
    ...
    ValueError: log column 'input_tokens': token counts must be >= 0; 1 of 2 rows are negative (first at row 1: -3)
    """
    if isinstance(source, TrafficLog):
        return source
    if duplicates not in ("warn", "drop", "raise"):
        raise ValueError(f"duplicates must be 'warn', 'drop' or 'raise'; got {duplicates!r}")
    frame = _frame(source)
    names = _resolve_columns(frame, columns)
    n = len(frame)
    ts = _timestamps(frame[names["timestamp"]], names["timestamp"])
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
    if "qclass" in names:
        raw = frame[names["qclass"]]
        missing = int(raw.isna().sum())
        if missing:
            raise ValueError(f"log column {names['qclass']!r}: {missing} of {n} rows have no class (NaN/None)")
        qclass = raw.astype(str).to_numpy(dtype=object)
    else:
        qclass = np.full(n, "all", dtype=object)
    if n < 2:
        raise ValueError(f"log: needs at least 2 rows to estimate anything; got {n}")

    order = np.argsort(ts, kind="stable")
    unsorted = int(np.count_nonzero(np.diff(ts) < np.timedelta64(0)))
    if unsorted:
        warnings.warn(f"log column {names['timestamp']!r}: {unsorted} of {n} rows are earlier than the row "
                      "before them; sorted the log by time", stacklevel=2)
    ts, qclass = ts[order], qclass[order]
    tokens = {f: v[order] for f, v in tokens.items()}
    cached = None if cached is None else cached[order]

    keep = _duplicates(ts, tokens, qclass, cached, duplicates, names["timestamp"])
    if keep is not None:
        ts, qclass = ts[keep], qclass[keep]
        tokens = {f: v[keep] for f, v in tokens.items()}
        cached = None if cached is None else cached[keep]
    return TrafficLog(ts, tokens["input_tokens"], tokens["output_tokens"], qclass, cached)


def _frame(source: Any) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        return source
    if isinstance(source, (str, os.PathLike)):
        return pd.read_csv(source)
    if isinstance(source, Mapping):
        lengths = {k: len(v) for k, v in source.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"log: every column must have the same length; got {lengths}")
        return pd.DataFrame({k: np.asarray(v) for k, v in source.items()})
    raise TypeError(f"log must be a pandas DataFrame, a CSV path or a mapping of columns; got {type(source).__name__}")


def _resolve_columns(frame: pd.DataFrame, columns: Mapping[str, str] | None) -> dict[str, str]:
    columns = dict(columns or {})
    unknown = sorted(set(columns) - set(DEFAULT_COLUMNS))
    if unknown:
        raise ValueError(f"columns: unknown field(s) {unknown}; the fields are {sorted(DEFAULT_COLUMNS)}")
    available = list(frame.columns)
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
    return names


def _timestamps(col: pd.Series, name: str) -> np.ndarray:
    n = len(col)
    missing = int(col.isna().sum())
    if missing:
        raise ValueError(f"log column {name!r}: {missing} of {n} rows are missing (NaN/NaT)")
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        values = col.to_numpy(dtype=float)
        bad = int(np.count_nonzero(~np.isfinite(values)))
        if bad:
            raise ValueError(f"log column {name!r}: {bad} of {n} rows are not finite numbers")
        return (np.round(values * 1e9).astype(np.int64)).astype("datetime64[ns]")
    parsed = pd.to_datetime(col, errors="coerce", utc=True)
    if parsed.isna().any():  # the format inferred from the first row may not fit all: parse row by row
        parsed = pd.to_datetime(col, errors="coerce", utc=True, format="mixed")
    bad = int(parsed.isna().sum())
    if bad:
        first = col[parsed.isna()].iloc[0]
        raise ValueError(f"log column {name!r}: {bad} of {n} rows are not date-times (first: {_show(first)!r})")
    return parsed.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")


def _show(value: Any) -> Any:
    """A cell as a plain Python value, for messages."""
    return value.item() if isinstance(value, np.generic) else value


def _tokens(col: pd.Series, name: str) -> np.ndarray:
    n = len(col)
    values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(np.isnan(values))
    if bad.size:
        raise ValueError(f"log column {name!r}: {bad.size} of {n} rows are missing or not numbers "
                         f"(first at row {bad[0]}: {_show(col.iloc[bad[0]])!r})")
    neg = np.flatnonzero(values < 0)
    if neg.size:
        raise ValueError(f"log column {name!r}: token counts must be >= 0; {neg.size} of {n} rows are negative "
                         f"(first at row {neg[0]}: {_show(col.iloc[neg[0]])!r})")
    frac = np.flatnonzero(~np.isfinite(values) | (values != np.round(values)))
    if frac.size:
        raise ValueError(f"log column {name!r}: token counts must be whole numbers; {frac.size} of {n} rows "
                         f"are not (first at row {frac[0]}: {_show(col.iloc[frac[0]])!r})")
    return values.astype(np.int64)


def _duplicates(ts, tokens, qclass, cached, mode: str, name: str) -> np.ndarray | None:
    """Rows to keep (None: all) after applying the ``duplicates`` rule."""
    repeated = np.concatenate([[False], ts[1:] == ts[:-1]])
    count = int(np.count_nonzero(repeated))
    if not count:
        return None
    if mode == "raise":
        raise ValueError(f"log column {name!r}: {count} of {ts.shape[0]} rows repeat the timestamp of the row "
                         "before them (duplicates='raise')")
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
