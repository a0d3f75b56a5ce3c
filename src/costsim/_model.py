"""Frozen, self-validating parameter objects and the trial-level (outer) uncertainty.

Every traffic and pricing object is a frozen dataclass deriving from :class:`Model`.
Any numeric field may hold a :class:`~costsim.traffic.Distribution` instead of a
number: that parameter is *uncertain* and each trial draws one value of it.  Fields
that hold request-level distributions (a query class's ``input_tokens``, a
mixture's ``components``) are declared with :func:`request_field`; the walker
recurses into them to find uncertain parameters nested inside.

Trial draws follow the randomness contract: the value of the parameter at
``path`` in trial ``t`` is ``dist.ppf(u)`` with ``u`` a pure function of
``(seed, t, path)``, so adding an uncertain parameter never changes another's draws.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Mapping
from typing import Any, TypeVar

import numpy as np

from ._validation import ParameterError, check_int, check_number

__all__ = ["DistributionBase", "Model", "request_field", "uncertain_parameters", "resolve", "stream_key"]

M = TypeVar("M")

RARE_DRAW = 1e-9
"""Largest share of trials in which an uncertain parameter may draw a value its field refuses
(a Normal's far tail); a distribution with more is refused when the model is built."""


def request_field(**kwargs: Any) -> Any:
    """A dataclass field holding request-level distributions (not a trial-level draw)."""
    metadata = dict(kwargs.pop("metadata", {}))
    metadata["request"] = True
    return dataclasses.field(metadata=metadata, **kwargs)


def stream_key(name: str) -> int:
    """A stable 64-bit key for a name (class name, parameter path).

    Independent of the process, the platform and ``PYTHONHASHSEED``.

    Examples
    --------
    >>> stream_key("chat") == stream_key("chat")
    True
    >>> stream_key("chat") != stream_key("rag")
    True
    """
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


@dataclasses.dataclass(frozen=True)
class Model:
    """Base class: a frozen dataclass that validates itself after construction.

    Subclasses implement ``_validate`` with the helpers :meth:`_number` and
    :meth:`_int`, which pass uncertain (distribution-valued) fields through
    unchecked; they are checked again once a trial has drawn their value.
    """

    def __post_init__(self) -> None:
        self._validate()

    def _validate(self) -> None:  # pragma: no cover - every subclass overrides
        pass

    @property
    def _label(self) -> str:
        return type(self).__name__

    def _checked(self, name: str, value: Any, *, integer: bool = False, **rule: Any) -> Any:
        """``value`` as a finite float (an int with ``integer``) obeying ``rule`` (see
        :func:`~costsim._validation.check_number`), or unchanged if uncertain (a
        :class:`DistributionBase`: checked once a trial has drawn it).  The one
        checker of every numeric field: errors name this model as their owner."""
        if isinstance(value, DistributionBase):
            self._check_draws(name, value, **rule)
            return value
        try:
            checked = check_int(name, value, **rule) if integer else check_number(name, value, **rule)
        except ParameterError as err:
            raise err.within(owner=self._label) from None
        if not integer and math.isinf(checked):  # an infinite volume, share or price breaks the arithmetic
            self._fail(name, "must be finite", value)
        return checked

    def _check_draws(self, name: str, dist: DistributionBase, low: float | None = None,
                     high: float | None = None, low_open: bool = False, high_open: bool = False, **rule: Any) -> None:
        """Refuse an uncertain value that breaks the field's range in more than :data:`RARE_DRAW` of
        the trials (``Uniform(-2, 0.15)`` for a growth above -1): checked only in the trial that
        draws it, it would fail at a seed-dependent trial instead of here."""
        cdf = getattr(dist, "cdf", None)
        if cdf is None or (low is None and high is None):
            return
        try:
            below = 0.0 if low is None else float(cdf(low if low_open else math.nextafter(low, -math.inf)))
            above = 0.0 if high is None else 1.0 - float(cdf(math.nextafter(high, -math.inf) if high_open else high))
            outside = below + above
            if not outside > RARE_DRAW:
                return
            example = float(dist.ppf(below / 2.0 if below >= above else 1.0 - above / 2.0))
        except (TypeError, ValueError, ArithmeticError):  # parameters themselves uncertain, or out of float range
            return
        try:  # the range's words, as for a number given (an integer field's range is closed)
            check_number(name, example, low=low, high=high, low_open=low_open, high_open=high_open, **rule)
        except ParameterError as err:
            self._fail(name, f"{err.rule} in every trial; {outside:.3g} of its draws are not (such as "
                       f"{example:.6g})", dist)

    def _number(self, name: str, **rule: Any) -> None:
        """Check the numeric field ``name`` and store it as a float."""
        object.__setattr__(self, name, self._checked(name, getattr(self, name), **rule))

    def _int(self, name: str, **rule: Any) -> None:
        """Check the integer field ``name`` and store it as an int."""
        object.__setattr__(self, name, self._checked(name, getattr(self, name), integer=True, **rule))

    def _numbers(self, name: str, **rule: Any) -> None:
        """Check a sequence-of-numbers field entry by entry and store it as a tuple."""
        value = getattr(self, name)
        if not isinstance(value, (list, tuple)):
            self._fail(name, "must be a sequence of numbers", value)
        object.__setattr__(self, name, tuple(self._checked(f"{name}[{i}]", item, **rule) for i, item in enumerate(value)))

    def _fail(self, name: str, rule: str, value: Any) -> None:
        raise ParameterError(name, rule, value, self._label)


@dataclasses.dataclass(frozen=True)
class DistributionBase(Model):
    """What makes a value random: the base of :class:`costsim.traffic.Distribution`.

    In a numeric field of a model it makes that parameter *uncertain* (each trial
    draws one value, through ``ppf``); in a request-level field
    (:func:`request_field`) it is drawn per request.  Defined here so that this
    module finds uncertain parameters without importing the traffic layer.
    """

    def ppf(self, q: Any) -> np.ndarray:  # pragma: no cover - every distribution overrides
        raise NotImplementedError

    def _stream(self, path: str) -> str:
        """The name of the random stream a trial draws this parameter from: its path
        (independent of every other parameter), unless the distribution draws jointly
        with others (:class:`costsim.traffic.Joint`)."""
        return path


def _children(obj: Any):
    """Yield ``(suffix, child, is_request)`` for the fields of a Model."""
    for f in dataclasses.fields(obj):
        yield f.name, getattr(obj, f.name), bool(f.metadata.get("request"))


def _join(path: str, name: str) -> str:
    return name if not path else f"{path}.{name}"


def uncertain_parameters(obj: Any, path: str = "") -> dict[str, Any]:
    """All uncertain parameters below ``obj``, keyed by their path.

    Examples
    --------
    >>> from costsim import LogNormal, Uniform
    >>> uncertain_parameters(LogNormal(mu=Uniform(5.0, 6.0), sigma=1.0))
    {'mu': Uniform(low=5.0, high=6.0)}
    """
    found: dict[str, Any] = {}
    _walk(obj, path, request=True, found=found)
    return found


def _plain_numbers(value: Any) -> bool:
    """A sequence of plain numbers (e.g. Empirical data): nothing uncertain inside."""
    return isinstance(value, (tuple, list)) and all(isinstance(x, (int, float)) for x in value)


def _walk(value: Any, path: str, request: bool, found: dict[str, Any]) -> None:
    if _plain_numbers(value):
        return
    if isinstance(value, DistributionBase) and not request:
        found[path] = value
    elif isinstance(value, Model):
        for name, child, is_request in _children(value):
            _walk(child, _join(path, name), is_request, found)
    elif isinstance(value, (tuple, list)):
        for i, item in enumerate(value):
            _walk(item, f"{path}[{i}]", request, found)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _walk(item, f"{path}[{key!r}]", request, found)


def resolve(obj: M, values: Mapping[str, float], path: str = "") -> M:
    """A copy of ``obj`` with the uncertain parameter at each path replaced by its value.

    The copy is validated again, so a drawn value that breaks a rule raises.

    Examples
    --------
    >>> from costsim import LogNormal, Uniform
    >>> resolve(LogNormal(mu=Uniform(5.0, 6.0), sigma=1.0), {"mu": 5.5})
    LogNormal(mu=5.5, sigma=1.0)
    """
    return _substitute(obj, path, True, values)


def _substitute(value: Any, path: str, request: bool, values: Mapping[str, float]) -> Any:
    if _plain_numbers(value):
        return value
    if isinstance(value, DistributionBase) and not request:
        return values[path]
    if isinstance(value, Model):
        changes = {
            name: _substitute(child, _join(path, name), is_request, values)
            for name, child, is_request in _children(value)
        }
        if all(changes[name] is getattr(value, name) for name in changes):
            return value
        return dataclasses.replace(value, **changes)
    if isinstance(value, tuple):
        return tuple(_substitute(item, f"{path}[{i}]", request, values) for i, item in enumerate(value))
    if isinstance(value, list):
        return [_substitute(item, f"{path}[{i}]", request, values) for i, item in enumerate(value)]
    if isinstance(value, Mapping):
        return {key: _substitute(item, f"{path}[{key!r}]", request, values) for key, item in value.items()}
    return value


def draw_uncertain(
    uncertain: Mapping[str, Any], seed: int, trials: np.ndarray
) -> dict[str, np.ndarray]:
    """Draw every uncertain parameter for the given trial indices.

    Each value is ``dist.ppf(u)`` with ``u`` a pure function of (seed, trial, stream): the stream is the
    path, or a key shared by parameters drawn jointly (``dist._stream(path)``).
    """
    from .kernels import trial_uniforms

    trials = np.asarray(trials, dtype=np.int64)
    return {
        path: np.asarray(dist.ppf(trial_uniforms(np.uint64(seed), trials, np.uint64(stream_key(dist._stream(path))))),
                         dtype=float)
        for path, dist in uncertain.items()
    }
