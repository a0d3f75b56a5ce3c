"""Numbers and durations as people read them: dollars, quantile labels, spans, pandas durations."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

__all__ = ["duration_alias", "duration_text", "quantile_label", "usd"]


def usd(value: Any) -> str:
    """US dollars: whole dollars from $100 up, three significant digits below, ``"n/a"`` for NaN.

    Examples
    --------
    >>> usd(12548.04), usd(-40), usd(4.366), usd(0.010786), usd(0.0), usd(float("nan"))
    ('$12,548', '-$40.00', '$4.37', '$0.0108', '$0', 'n/a')
    """
    x = float(value)
    if not math.isfinite(x):
        return "n/a"
    sign, a = ("-" if x < 0 else ""), abs(x)
    if a >= 100 or a == 0:
        return f"{sign}${a:,.0f}"
    return f"{sign}${a:,.{max(2, 2 - math.floor(math.log10(a)))}f}"


def quantile_label(q: float) -> str:
    """``0.05 -> "p5"``, ``0.5 -> "p50"``, ``0.999 -> "p99.9"``.

    Examples
    --------
    >>> [quantile_label(q) for q in (0.05, 0.5, 0.95, 0.999)]
    ['p5', 'p50', 'p95', 'p99.9']
    """
    return f"p{round(100 * float(q), 6):g}"


def duration_text(value: Any) -> str:
    """A span in words for people: ``"14 min 38 s"``, ``"2 h 5 min"``, ``"3 days 4 h"``, ``"0.25 s"``.

    Two units at most; the smaller one rounded.

    Examples
    --------
    >>> duration_text(pd.Timedelta("0 days 00:14:38.343019991"))
    '14 min 38 s'
    >>> duration_text("30D"), duration_text("1h"), duration_text("26h 3min"), duration_text("250ms")
    ('30 days', '1 h', '1 day 2 h', '0.25 s')
    """
    seconds = pd.Timedelta(value).total_seconds()
    if seconds < 60:
        return f"{seconds:.3g} s"
    units = (("day", 86_400), ("h", 3_600), ("min", 60), ("s", 1))
    for i, (name, size) in enumerate(units):
        if seconds >= size:
            big, rest = divmod(round(seconds / units[i + 1][1]) * units[i + 1][1], size)
            small_name, small_size = units[i + 1]
            parts = [f"{int(big)} {name}{'s' if name == 'day' and big != 1 else ''}"]
            if rest:
                parts.append(f"{int(rest // small_size)} {small_name}")
            return " ".join(parts)
    raise AssertionError("unreachable: a span of a minute or more has a unit")


def duration_alias(value: Any) -> str:
    """A duration as pandas writes it short: ``"30D"``, ``"1h"``, ``"90min"``, ``"15s"``, ``"250ms"``.

    The largest unit that divides the duration exactly; ``pd.Timedelta`` reads it back
    to the same value.

    Examples
    --------
    >>> duration_alias("2592000s"), duration_alias("3600s"), duration_alias("5400s"), duration_alias("0.25s")
    ('30D', '1h', '90min', '250ms')
    >>> all(pd.Timedelta(duration_alias(t)) == pd.Timedelta(t) for t in ("7D", "36h", "1ns", "0s"))
    True
    """
    ns = pd.Timedelta(value).value
    for unit, size in (("D", 86_400 * 10**9), ("h", 3_600 * 10**9), ("min", 60 * 10**9), ("s", 10**9),
                       ("ms", 10**6), ("us", 10**3)):
        if ns % size == 0 and ns != 0:
            return f"{ns // size}{unit}"
    return f"{ns}ns"
