"""Validation at the public boundary.

Every check raises :class:`ParameterError` whose message names the argument, the
rule and the value received, e.g. ``sigma must be > 0; got -1.0``.  Containers
(query classes, scenarios) re-raise their children's errors with the path
prefixed, so a user sees ``QueryClass 'agent': input_tokens.sigma must be > 0;
got -1.0``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ParameterError", "check_duration", "check_int", "check_number", "prefixed", "shorten"]


class ParameterError(ValueError):
    """A parameter broke a rule.

    Parameters
    ----------
    path : str
        Dotted path of the offending parameter relative to the object that
        raised it (``"sigma"``, ``"components[1].mu"``).
    rule : str
        The rule, phrased to follow the path (``"must be > 0"``).
    value : object
        The value received.
    owner : str, optional
        Label of the object whose parameter it is (``"QueryClass 'agent'"``).

    Examples
    --------
    >>> import costsim as cs
    >>> try:
    ...     cs.LogNormal(mu=6.0, sigma=-1.0)
    ... except cs.ParameterError as err:
    ...     print(err.path, "|", err.rule, "|", err.value)
    sigma | must be > 0 | -1.0
    """

    def __init__(self, path: str, rule: str, value: Any, owner: str = "") -> None:
        self.path = path
        self.rule = rule
        self.value = value
        self.owner = owner
        head = f"{owner}: " if owner else ""
        super().__init__(f"{head}{path} {rule}; got {shorten(value)!r}")

    def within(self, path: str = "", owner: str | None = None) -> "ParameterError":
        """The same error seen from a container: ``path`` is prefixed, ``owner`` replaced."""
        joined = self.path if not path else (
            f"{path}{self.path}" if self.path.startswith("[") else f"{path}.{self.path}"
        )
        return ParameterError(joined, self.rule, self.value, owner if owner is not None else self.owner)


class prefixed:
    """Context manager that re-raises a child's :class:`ParameterError` with a prefix.

    Examples
    --------
    >>> try:
    ...     with prefixed("input_tokens", owner="QueryClass 'chat'"):
    ...         check_number("sigma", -1.0, low=0.0, low_open=True)
    ... except ParameterError as err:
    ...     print(err)
    QueryClass 'chat': input_tokens.sigma must be > 0; got -1.0
    """

    def __init__(self, path: str = "", owner: str | None = None) -> None:
        self.path = path
        self.owner = owner

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:
        if isinstance(exc, ParameterError):
            raise exc.within(self.path, self.owner) from None
        return False


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    finite: bool = False,
) -> float:
    """Return ``value`` as a float after checking it is a real number in a range.

    It must be finite, except that ``+inf`` passes where the range has no upper
    bound and ``finite`` is False.

    Examples
    --------
    >>> check_number("p", 0.5, low=0.0, high=1.0, low_open=True)
    0.5
    >>> check_number("p", 1.7, low=0.0, high=1.0, low_open=True)
    Traceback (most recent call last):
    ...
    costsim._validation.ParameterError: p must be in (0, 1]; got 1.7
    >>> check_number("ttl", float("inf"), low=0.0), check_number("usd", 5, low=0.0, finite=True)
    (inf, 5.0)
    >>> check_number("usd", float("inf"), low=0.0, finite=True)
    Traceback (most recent call last):
    ...
    costsim._validation.ParameterError: usd must be finite; got inf
    """
    if not _is_real(value):
        raise ParameterError(name, "must be a real number", value)
    try:
        x = float(value)
    except OverflowError:  # an int beyond the float range, such as 10**400
        raise ParameterError(name, "must be a finite number", value) from None
    if math.isnan(x):
        raise ParameterError(name, "must not be NaN", value)
    if math.isinf(x) and (finite or not (x > 0 and high is None)):
        raise ParameterError(name, "must be finite", value)
    below = low is not None and (x <= low if low_open else x < low)
    above = high is not None and (x >= high if high_open else x > high)
    if below or above:
        raise ParameterError(name, _range_rule(low, high, low_open, high_open), value)
    return x


def check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int after checking it is an integer in ``[low, high]``.

    Examples
    --------
    >>> check_int("trials", 0, low=1)
    Traceback (most recent call last):
    ...
    costsim._validation.ParameterError: trials must be >= 1; got 0
    """
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        raise ParameterError(name, "must be an integer", value)
    n = int(value)
    if (low is not None and n < low) or (high is not None and n > high):
        raise ParameterError(name, _range_rule(low, high, False, False), value)
    return n


def check_duration(name: str, value: Any, owner: str = "") -> pd.Timedelta:
    """Return ``value`` as a positive :class:`pandas.Timedelta` (``"30D"``, ``"1h"``, a timedelta).

    Examples
    --------
    >>> check_duration("bin", "15min")
    Timedelta('0 days 00:15:00')
    >>> check_duration("bin", "abc")
    Traceback (most recent call last):
    ...
    costsim._validation.ParameterError: bin must be a positive duration such as '30D' or '1h'; got 'abc'
    """
    try:
        td = pd.Timedelta(value)
    except (TypeError, ValueError, OverflowError):
        td = pd.NaT
    if td is pd.NaT or not td > pd.Timedelta(0):
        raise ParameterError(name, "must be a positive duration such as '30D' or '1h'", value, owner)
    return td


def shorten(value: Any) -> Any:
    """``value`` for a message: an int of more than 30 digits as ``'<int of ~401 digits>'``
    (``str`` of a huge int is slow, and refused beyond 4,300 digits)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**30:
        return f"<int of ~{int(abs(value).bit_length() * math.log10(2)) + 1} digits>"
    return value


def _fmt(x: float) -> str:
    """A bound for a message: integers exactly (``9223372036854775807``), floats as ``%g``."""
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return str(int(x))
    return f"{x:g}"


def _range_rule(low, high, low_open, high_open) -> str:
    if low is not None and high is not None:
        return f"must be in {'(' if low_open else '['}{_fmt(low)}, {_fmt(high)}{')' if high_open else ']'}"
    if low is not None:
        return f"must be {'>' if low_open else '>='} {_fmt(low)}"
    if high is not None:
        return f"must be {'<' if high_open else '<='} {_fmt(high)}"
    return "must be a finite number"
