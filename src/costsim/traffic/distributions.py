"""Distributions of token lengths, step counts and uncertain parameters.

Each distribution is a frozen, self-validating dataclass with a scipy-like API
(``sample(shape, *, rng=None)``, ``mean``, ``var``, ``cdf``, ``ppf``, ``support``)
and a ``_lower`` method that appends its kind code and parameters to a
:class:`DistTable` the compiled kernel samples from.

The same objects serve both levels of randomness: as a query class's
``input_tokens`` they are drawn per request (in the kernel); as the value of a
numeric parameter they are drawn once per trial (through ``ppf``).

Families
--------
Leaves (one kernel row each): :class:`Constant`, :class:`LogNormal`,
:class:`Pareto`, :class:`GeneralizedPareto`, :class:`Gamma`, :class:`Weibull`,
:class:`Normal`, :class:`Uniform`, :class:`Beta`, :class:`Geometric`,
:class:`Empirical`, :class:`Joint` (for trial-level parameters drawn together).  Combinators: :class:`Mixture` (a finite mixture) and
:class:`Capped` (``min(X, upper)``, leaving a point mass at ``upper``).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
from scipy import integrate, stats

from .. import kernels as K
from .._model import DistributionBase, request_field, uncertain_parameters
from .._validation import ParameterError, check_int, check_number, prefixed

__all__ = [
    "Beta",
    "Capped",
    "Constant",
    "DistTable",
    "Distribution",
    "Empirical",
    "Gamma",
    "GeneralizedPareto",
    "Geometric",
    "Joint",
    "LogNormal",
    "Mixture",
    "Normal",
    "Pareto",
    "Uniform",
    "Weibull",
]


class DistTable:
    """The lowered form of a set of distributions: rows of (kind, offset) over a
    parameter vector, plus a static data vector (empirical values).

    Parameters of one row occupy ``par[offset : offset + n]``; their layout per
    kind is documented in :mod:`costsim.kernels._engine`.
    """

    def __init__(self) -> None:
        self.kind: list[int] = []
        self.offset: list[int] = []
        self.par: list[float] = []
        self.data: list[float] = []

    def add(self, kind: int, params: list[float]) -> int:
        """Append a row and return its index."""
        self.kind.append(int(kind))
        self.offset.append(len(self.par))
        self.par.extend(float(p) for p in params)
        return len(self.kind) - 1

    def add_data(self, values: np.ndarray) -> int:
        """Append static values and return their offset in the data vector."""
        start = len(self.data)
        self.data.extend(np.asarray(values, dtype=float).tolist())
        return start

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(kind int64[D], offset int64[D], par float64[P], data float64[Q])``."""
        data = self.data if self.data else [0.0]
        return (
            np.asarray(self.kind, dtype=np.int64),
            np.asarray(self.offset, dtype=np.int64),
            np.asarray(self.par, dtype=np.float64),
            np.asarray(data, dtype=np.float64),
        )


def _generator(rng: Any) -> np.random.Generator:
    """``rng`` as a Generator: a Generator, a seed (an int >= 0 or a SeedSequence) or None."""
    if isinstance(rng, np.random.Generator):
        return rng
    try:
        return np.random.default_rng(rng)
    except (TypeError, ValueError):
        raise ParameterError("rng", "must be a numpy Generator, a seed (an int >= 0) or None", rng) from None


def _ordered(x: np.ndarray) -> np.ndarray:
    """Float64s as int64s in the same order (the bit pattern, negatives mirrored); NaN is not ordered."""
    bits = np.asarray(x, dtype=np.float64).view(np.int64)
    return np.where(bits < 0, -(bits & np.int64(0x7FFFFFFFFFFFFFFF)), bits)


def _unordered(i: np.ndarray) -> np.ndarray:
    """The float64s of :func:`_ordered`'s int64s."""
    i = np.asarray(i, dtype=np.int64)
    return np.where(i < 0, (-i) | np.int64(-0x8000000000000000), i).view(np.float64)


def _positive_value(name: str, value: Any) -> float:
    """A finite number > 0 of a LogNormal constructor (an argument, not a field)."""
    with prefixed(owner="LogNormal"):
        x = check_number(name, value, low=0.0, low_open=True)
    if math.isinf(x):
        raise ParameterError(name, "must be finite", value, "LogNormal")
    return x


def _shape(shape: Any) -> tuple[int, ...]:
    """``shape`` of :meth:`Distribution.sample` as a tuple of ints >= 0."""
    items = shape if isinstance(shape, tuple) else (shape,)
    try:
        return tuple(check_int("shape", n, low=0, high=2**40) for n in items)
    except ParameterError:
        raise ParameterError("shape", "must be an int >= 0 or a tuple of them", shape) from None


def _in_unit(q: np.ndarray, values: Any) -> np.ndarray:
    """``values`` where ``0 <= q <= 1``, NaN elsewhere (the scipy convention for ppf)."""
    return np.where((q >= 0.0) & (q <= 1.0), values, np.nan)


MAX_NESTING = 32
"""Levels of distributions inside one another (mixtures of capped mixtures, ...)."""

_REAL: dict[str, Any] = {}
_LOG_SCALE: dict[str, Any] = {"low": -700.0, "high": 700.0}  # exp() of it stays finite
_POSITIVE: dict[str, Any] = {"low": 0.0, "low_open": True}


@dataclasses.dataclass(frozen=True)
class Distribution(DistributionBase):
    """Base class of all distributions.

    A leaf family declares ``_kind`` (its kernel code), ``_rules`` (the range rule
    of each field, in kernel parameter order) and ``_scipy()`` (the equivalent
    frozen ``scipy.stats`` distribution); validation, lowering and every method
    then come from this class.  Families without a scipy twin override the
    methods instead.

    Numeric fields may hold a Distribution (an uncertain, trial-level parameter);
    such an object must be resolved (:func:`costsim._model.resolve`) before it can
    be sampled, lowered or evaluated.

    Examples
    --------
    >>> import costsim as cs
    >>> d = cs.LogNormal.from_median_p90(600, 2_400)
    >>> isinstance(d, cs.Distribution), round(float(d.ppf(0.5)))
    (True, 600)
    """

    _kind: ClassVar[int]
    _rules: ClassVar[dict[str, dict[str, Any]]] = {}

    def __post_init__(self) -> None:
        # the depth first: validating a deeply nested tree would recurse through it
        deepest, depth = "", 1
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            for item in value if isinstance(value, (tuple, list)) else (value,):
                if isinstance(item, Distribution) and item._depth + 1 > depth:
                    deepest, depth = f.name, item._depth + 1
        if depth > MAX_NESTING:
            self._fail(deepest, f"must nest distributions at most {MAX_NESTING} levels deep", f"{depth} levels")
        object.__setattr__(self, "_depth", depth)
        super().__post_init__()

    # ---- validation ------------------------------------------------------------
    def _validate(self) -> None:
        for name, rule in self._rules.items():
            object.__setattr__(self, name, self._checked(name, getattr(self, name), **rule))

    def _uncertain(self) -> bool:
        """Whether a parameter here or in a request-level child is still a distribution."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            for item in value if isinstance(value, tuple) else (value,):
                if isinstance(item, Distribution) and (not f.metadata.get("request") or item._uncertain()):
                    return True
        return False

    def _check_resolved(self) -> None:
        if self._uncertain():
            raise TypeError(
                f"{self._label} has uncertain parameters ({', '.join(uncertain_parameters(self))}); "
                "resolve them (draw a trial's values) before using it as a distribution"
            )

    def _frozen(self):
        self._check_resolved()
        return self._scipy_twin

    @functools.cached_property
    def _scipy_twin(self):
        """The frozen scipy distribution, made once per object (scipy's construction formats its
        docstrings: ~0.3 ms, which a Truncated body lowered in every trial would pay dozens of times)."""
        return self._scipy()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_scipy_twin", None)  # a cache: rebuilt where needed, not shipped (to dask workers, say)
        return state

    def _scipy(self):
        raise NotImplementedError

    # ---- the scipy-like API ------------------------------------------------------
    def sample(self, shape: int | tuple[int, ...] = (), *, rng: Any = None) -> np.ndarray:
        """Draw values with NumPy (``rng``: seed, ``numpy.random.Generator`` or None)."""
        return self._draw(_shape(shape), _generator(rng))

    def _draw(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return np.asarray(self._frozen().rvs(size=shape, random_state=rng), dtype=float)

    def mean(self) -> float:
        """Expected value (``inf`` where it does not exist: heavy tails are all to the right)."""
        m = float(self._frozen().mean())
        return math.inf if math.isnan(m) else m

    def var(self) -> float:
        """Variance (``inf`` where the second moment does not exist)."""
        v = float(self._frozen().var())
        return math.inf if math.isnan(v) else v

    def cdf(self, x: Any) -> np.ndarray:
        """Cumulative distribution function ``P(X <= x)``."""
        with np.errstate(divide="ignore"):  # scipy's geom takes log(1 - p), -inf at p = 1
            return self._frozen().cdf(x)

    def ppf(self, q: Any) -> np.ndarray:
        """Quantile function: the smallest ``x`` with ``cdf(x) >= q``."""
        with np.errstate(divide="ignore"):
            return self._frozen().ppf(q)

    def support(self) -> tuple[float, float]:
        """Smallest and largest possible values."""
        lo, hi = self._frozen().support()
        return float(lo), float(hi)

    def _partial(self, f: Callable[[Any], Any], c: float) -> float:
        """``E[f(X); X <= c]``, exactly up to quadrature error (used by :class:`Capped`).

        Discrete families sum the pmf; continuous ones integrate ``f * pdf``
        piecewise between quantiles whose tail masses step by factors of ten, so
        that neither a narrow body nor a heavy tail escapes the integrator.
        """
        d = self._frozen()
        lo, hi = self.support()
        ub = min(c, hi)
        if ub < lo:
            return 0.0
        if isinstance(d.dist, stats.rv_discrete):  # integer support: sum until the tail is nil
            total, k0 = 0.0, int(lo)
            while k0 <= ub:
                k = np.arange(k0, int(min(ub, k0 + 65535)) + 1)
                total += float(np.sum(f(k) * d.pmf(k)))
                k0 = int(k[-1]) + 1
                if d.sf(k[-1]) < 1e-20:
                    break
            return total
        tails = 10.0 ** -np.array([*range(1, 17), 20, 30, 50, 100, 200, 300])
        with np.errstate(over="ignore", divide="ignore"):  # isf of a tiny tail may overflow: inf
            cuts = np.concatenate([[lo, ub], d.ppf([1e-12, 1e-8, 1e-4, 1e-2, 0.1, 0.5]), d.isf(tails)])
        cuts = np.unique(np.clip(cuts, lo, ub))

        def integrand(x: float) -> float:
            density = d.pdf(x)
            return f(x) * density if density > 0.0 else 0.0  # no inf * 0 far in a light tail

        with warnings.catch_warnings():  # pieces far in a light tail are ~0: no tolerance to meet
            warnings.simplefilter("ignore", integrate.IntegrationWarning)
            return float(sum(
                integrate.quad(integrand, a, b, epsabs=0.0, epsrel=1e-10, limit=200)[0]
                for a, b in zip(cuts[:-1], cuts[1:])
            ))

    def _lower(self, table: DistTable) -> int:
        """Append this distribution to ``table``; return its row."""
        self._check_resolved()
        return table.add(self._kind, [getattr(self, name) for name in self._rules])


@dataclasses.dataclass(frozen=True)
class Constant(Distribution):
    """A point mass: every draw is ``value``.

    Parameters
    ----------
    value : float
        The value.

    Examples
    --------
    >>> d = Constant(3.0)
    >>> d.sample(2, rng=0)
    array([3., 3.])
    >>> d.cdf([2.9, 3.0]), float(d.ppf(0.7)), d.support()
    (array([0., 1.]), 3.0, (3.0, 3.0))
    """

    value: float
    _kind = K.CONSTANT
    _rules = {"value": _REAL}

    def _v(self) -> float:
        self._check_resolved()
        return self.value

    def _draw(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return np.full(shape, self._v())

    def mean(self) -> float:
        return self._v()

    def var(self) -> float:
        self._v()
        return 0.0

    def cdf(self, x: Any) -> np.ndarray:
        return np.where(np.asarray(x, dtype=float) >= self._v(), 1.0, 0.0)

    def ppf(self, q: Any) -> np.ndarray:
        return _in_unit(np.asarray(q, dtype=float), self._v())

    def support(self) -> tuple[float, float]:
        return self._v(), self._v()

    def _partial(self, f: Callable[[Any], Any], c: float) -> float:
        return float(f(self._v())) if self._v() <= c else 0.0


@dataclasses.dataclass(frozen=True)
class LogNormal(Distribution):
    """Lognormal: ``log X ~ Normal(mu, sigma)``.

    Parameters
    ----------
    mu : float
        Mean of ``log X`` (the median is ``exp(mu)``).
    sigma : float
        Standard deviation of ``log X``; > 0.

    Examples
    --------
    >>> d = LogNormal.from_median_p90(median=500, p90=2000)
    >>> round(float(d.ppf(0.5)))
    500
    >>> round(float(d.ppf(0.9)))
    2000
    """

    mu: float
    sigma: float
    _kind = K.LOGNORMAL
    _rules = {"mu": _LOG_SCALE, "sigma": _POSITIVE}

    @classmethod
    def from_median_p90(cls, median: float, p90: float) -> "LogNormal":
        """The lognormal with the given median and 90th percentile (``p90 > median > 0``)."""
        median, p90 = _positive_value("median", median), _positive_value("p90", p90)
        if not p90 > median:
            raise ParameterError("p90", f"must be > median ({median:g})", p90, "LogNormal")
        return cls._through((0.5, median), (0.9, p90))

    @classmethod
    def from_interval(cls, low: float, high: float, coverage: float = 0.9) -> "LogNormal":
        """The lognormal whose central ``coverage`` interval is ``[low, high]``."""
        low, high = _positive_value("low", low), _positive_value("high", high)
        with prefixed(owner="LogNormal"):
            coverage = check_number("coverage", coverage, low=0.0, high=1.0, low_open=True, high_open=True)
        if not high > low:
            raise ParameterError("high", f"must be > low ({low:g})", high, "LogNormal")
        tail = (1.0 - coverage) / 2.0
        if not stats.norm.ppf(1.0 - tail) > stats.norm.ppf(tail):
            raise ParameterError("coverage", "must be large enough to tell its two quantiles apart", coverage,
                                 "LogNormal")
        return cls._through((tail, low), (1.0 - tail, high))

    @classmethod
    def from_quantiles(cls, a: tuple[float, float], b: tuple[float, float]) -> "LogNormal":
        """The lognormal through two ``(probability, value)`` points, ``a`` below ``b``."""
        points = []
        for name, point in (("a", a), ("b", b)):
            if isinstance(point, (str, bytes)) or not isinstance(point, Sequence) or len(point) != 2:
                raise ParameterError(name, "must be a (probability, value) pair", point, "LogNormal")
            with prefixed(owner="LogNormal"):
                q = check_number(f"{name}[0]", point[0], low=0.0, high=1.0, low_open=True, high_open=True)
            points.append((q, _positive_value(f"{name}[1]", point[1])))
        (qa, xa), (qb, xb) = points
        if not stats.norm.ppf(qb) > stats.norm.ppf(qa):
            raise ParameterError("b[0]", f"must be > a[0] ({qa:g}), far enough to tell them apart", qb, "LogNormal")
        if not xb > xa:
            raise ParameterError("b[1]", f"must be > a[1] ({xa:g})", xb, "LogNormal")
        return cls._through((qa, xa), (qb, xb))

    @classmethod
    def _through(cls, a: tuple[float, float], b: tuple[float, float]) -> "LogNormal":
        """The lognormal through two checked points (``0 < qa < qb < 1``, ``0 < xa < xb``)."""
        (qa, xa), (qb, xb) = a, b
        za, zb = stats.norm.ppf(qa), stats.norm.ppf(qb)
        sigma = (math.log(xb) - math.log(xa)) / (zb - za)
        return cls(mu=math.log(xa) - sigma * za, sigma=sigma)

    def _scipy(self):
        return stats.lognorm(s=self.sigma, scale=math.exp(self.mu))


@dataclasses.dataclass(frozen=True)
class Pareto(Distribution):
    """Pareto type I: ``P(X > x) = (scale / x) ** alpha`` for ``x >= scale``.

    The mean is infinite for ``alpha <= 1`` and the variance for ``alpha <= 2``.

    Parameters
    ----------
    scale : float
        Smallest value ``x_m``; > 0.
    alpha : float
        Tail index; > 0.

    Examples
    --------
    >>> d = Pareto(scale=100.0, alpha=2.5)
    >>> d.mean(), d.support()
    (166.666..., (100.0, inf))
    >>> Pareto(scale=100.0, alpha=1.5).var()
    inf
    """

    scale: float
    alpha: float
    _kind = K.PARETO
    _rules = {"scale": _POSITIVE, "alpha": _POSITIVE}

    def _scipy(self):
        return stats.pareto(b=self.alpha, scale=self.scale)


@dataclasses.dataclass(frozen=True)
class GeneralizedPareto(Distribution):
    """Generalized Pareto, as ``scipy.stats.genpareto(c=shape, loc=loc, scale=scale)``.

    ``shape > 0`` gives a power-law tail, ``shape == 0`` the exponential and
    ``shape < 0`` a bounded support ``[loc, loc - scale / shape]``.

    Parameters
    ----------
    loc : float
        Lower end of the support.
    scale : float
        Scale; > 0.
    shape : float
        Shape ``c`` (tail index ``1 / c`` when positive).

    Examples
    --------
    >>> GeneralizedPareto(loc=10.0, scale=2.0, shape=-0.5).support()
    (10.0, 14.0)
    >>> GeneralizedPareto(loc=0.0, scale=2.0, shape=0.0).mean()
    2.0
    """

    loc: float
    scale: float
    shape: float
    _kind = K.GENPARETO
    _rules = {"loc": _REAL, "scale": _POSITIVE, "shape": _REAL}

    def _scipy(self):
        return stats.genpareto(c=self.shape, loc=self.loc, scale=self.scale)


@dataclasses.dataclass(frozen=True)
class Gamma(Distribution):
    """Gamma with density proportional to ``x ** (shape - 1) * exp(-x / scale)``.

    Parameters
    ----------
    shape : float
        Shape ``k``; > 0.
    scale : float
        Scale ``theta``; > 0 (the mean is ``shape * scale``).

    Examples
    --------
    >>> d = Gamma.from_mean_cv(mean=200.0, cv=0.5)
    >>> d
    Gamma(shape=4.0, scale=50.0)
    >>> d.mean(), d.var() ** 0.5 / d.mean()
    (200.0, 0.5)
    """

    shape: float
    scale: float
    _kind = K.GAMMA
    _rules = {"shape": _POSITIVE, "scale": _POSITIVE}

    @classmethod
    def from_mean_cv(cls, mean: float, cv: float) -> "Gamma":
        """The gamma with the given mean (> 0) and coefficient of variation (> 0)."""
        try:
            m = check_number("mean", mean, **_POSITIVE)
            v = check_number("cv", cv, **_POSITIVE)
        except ParameterError as err:
            raise err.within(owner=cls.__name__) from None
        if v > 1e100:
            raise ParameterError("cv", "must be <= 1e+100 (the shape 1 / cv**2 must stay a float)", cv, cls.__name__)
        if math.isinf(m * v**2):
            raise ParameterError("mean", f"must keep the scale mean * cv**2 finite (cv = {v:g})", mean, cls.__name__)
        return cls(shape=1.0 / v**2, scale=m * v**2)

    def _scipy(self):
        return stats.gamma(a=self.shape, scale=self.scale)


@dataclasses.dataclass(frozen=True)
class Weibull(Distribution):
    """Weibull: ``P(X > x) = exp(-(x / scale) ** shape)`` for ``x >= 0``.

    Parameters
    ----------
    shape : float
        Shape ``k``; > 0 (``k < 1``: heavier than exponential).
    scale : float
        Scale ``lambda``; > 0.

    Examples
    --------
    >>> Weibull(shape=1.0, scale=3.0).mean()
    3.0
    """

    shape: float
    scale: float
    _kind = K.WEIBULL
    _rules = {"shape": _POSITIVE, "scale": _POSITIVE}

    def _scipy(self):
        return stats.weibull_min(c=self.shape, scale=self.scale)


@dataclasses.dataclass(frozen=True)
class Normal(Distribution):
    """Normal (mostly for trial-level parameters such as a growth rate).

    Parameters
    ----------
    mu : float
        Mean.
    sigma : float
        Standard deviation; > 0.

    Examples
    --------
    >>> d = Normal(mu=0.05, sigma=0.02)
    >>> float(d.ppf(0.5)), d.var()
    (0.05, 0.0004)
    """

    mu: float
    sigma: float
    _kind = K.NORMAL
    _rules = {"mu": _REAL, "sigma": _POSITIVE}

    def _scipy(self):
        return stats.norm(loc=self.mu, scale=self.sigma)


@dataclasses.dataclass(frozen=True)
class Uniform(Distribution):
    """Uniform on ``[low, high)``.

    Parameters
    ----------
    low : float
        Lower end.
    high : float
        Upper end; > ``low``.

    Examples
    --------
    >>> d = Uniform(5.0, 6.0)
    >>> d
    Uniform(low=5.0, high=6.0)
    >>> d.mean(), float(d.cdf(5.25))
    (5.5, 0.25)
    """

    low: float
    high: float
    _kind = K.UNIFORM
    _rules = {"low": _REAL, "high": _REAL}

    def _validate(self) -> None:
        super()._validate()
        if isinstance(self.low, float) and isinstance(self.high, float):
            if not self.low < self.high:
                self._fail("high", f"must be > low ({self.low:g})", self.high)
            if math.isinf(self.high - self.low):
                self._fail("high", f"must be within the float range of low ({self.low:g}): high - low overflows",
                           self.high)

    def _scipy(self):
        return stats.uniform(loc=self.low, scale=self.high - self.low)


@dataclasses.dataclass(frozen=True)
class Beta(Distribution):
    """Beta on ``[0, 1]`` (for fractions such as a cache-hit share).

    Parameters
    ----------
    a, b : float
        Shape parameters; > 0 (the mean is ``a / (a + b)``).

    Examples
    --------
    >>> Beta(a=6.0, b=4.0).mean()
    0.6
    """

    a: float
    b: float
    _kind = K.BETA
    _rules = {"a": _POSITIVE, "b": _POSITIVE}

    def _scipy(self):
        return stats.beta(a=self.a, b=self.b)


@dataclasses.dataclass(frozen=True)
class Geometric(Distribution):
    """Geometric on ``{1, 2, ...}``: trials up to and including the first success.

    For the number of model calls of an agentic query: ``P(X = k) = (1-p)**(k-1) p``.

    Parameters
    ----------
    p : float
        Success probability; in (0, 1] (``p = 1``: always one call).

    Examples
    --------
    >>> d = Geometric(p=0.25)
    >>> d.mean(), float(d.cdf(1)), d.support()
    (4.0, 0.25, (1.0, inf))
    """

    p: float
    _kind = K.GEOMETRIC
    _rules = {"p": {"low": 0.0, "high": 1.0, "low_open": True}}

    def _scipy(self):
        return stats.geom(p=self.p)


@dataclasses.dataclass(frozen=True)
class Empirical(Distribution):
    """Resamples observed values, each observation equally likely.

    Parameters
    ----------
    values : sequence of float
        The observations (at least one, all finite); stored sorted as a tuple, so
        two samples with the same values compare equal and hash alike.

    Examples
    --------
    >>> d = Empirical([30, 10, 20, 20])
    >>> d
    Empirical(values=(10.0, 20.0, 20.0, 30.0))
    >>> d.mean(), d.cdf([10, 15, 20]), d.ppf([0.25, 0.26, 1.0])
    (20.0, array([0.25, 0.25, 0.75]), array([10., 20., 30.]))
    """

    values: tuple[float, ...]
    _kind = K.EMPIRICAL

    def __repr__(self) -> str:
        v = self.values
        shown = repr(v) if len(v) <= 8 else f"<{len(v)} values from {v[0]:g} to {v[-1]:g}>"
        return f"Empirical(values={shown})"

    def _validate(self) -> None:
        try:
            x = np.asarray(self.values, dtype=float)
        except OverflowError:  # an int beyond the float range: name it
            for i, item in enumerate(self.values):
                self._checked(f"values[{i}]", item)
            raise
        except (TypeError, ValueError):
            self._fail("values", "must be a sequence of real numbers", self.values)
        if x.ndim != 1 or x.size == 0:
            self._fail("values", "must be a non-empty 1-d sequence", self.values)
        bad = np.flatnonzero(~np.isfinite(x))
        if bad.size:
            self._fail(f"values[{bad[0]}]", "must be finite", float(x[bad[0]]))
        object.__setattr__(self, "values", tuple(np.sort(x).tolist()))

    def _uncertain(self) -> bool:
        return False  # values are data, never trial-level parameters

    @functools.cached_property
    def _sorted(self) -> np.ndarray:
        x = np.asarray(self.values)
        x.flags.writeable = False
        return x

    def _draw(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        x = self._sorted
        return x[rng.integers(x.size, size=shape)]

    def mean(self) -> float:
        return float(self._sorted.mean())

    def var(self) -> float:
        return float(self._sorted.var())

    def cdf(self, x: Any) -> np.ndarray:
        return np.searchsorted(self._sorted, x, side="right") / len(self.values)

    def ppf(self, q: Any) -> np.ndarray:
        n = len(self.values)
        q = np.asarray(q, dtype=float)
        i = np.searchsorted(np.arange(1, n + 1) / n, q, side="left")
        return _in_unit(q, self._sorted[np.minimum(i, n - 1)])

    def support(self) -> tuple[float, float]:
        return self.values[0], self.values[-1]

    def _partial(self, f: Callable[[Any], Any], c: float) -> float:
        x = self._sorted
        return float(np.sum(f(x[x <= c]))) / x.size

    def _lower(self, table: DistTable) -> int:
        return table.add(self._kind, [table.add_data(self._sorted), len(self.values)])


@dataclasses.dataclass(frozen=True)
class Joint(Empirical):
    """Trial-level values drawn together: one of ``values``, picked by an index shared
    by every Joint with the same ``key`` and as many values.

    A trial draws one uniform ``u`` per key (not per parameter), and every Joint
    of that key takes its value number ``floor(u * len(values))``: row ``k`` of
    a table of joint scenarios (a bootstrap of a log's time blocks, say) lands in
    the same trial for every parameter, so their correlation carries into the
    trials.  The values keep their order (``ppf`` picks by position and is not
    monotone); the other methods describe the marginal, as :class:`Empirical`.

    Parameters
    ----------
    values : sequence of float
        One value per joint scenario (at least one, all finite).
    key : str, default "joint"
        The parameters that draw together share it.

    Examples
    --------
    >>> a, b = Joint([1.0, 2.0, 3.0]), Joint([30.0, 20.0, 10.0])
    >>> a.ppf([0.1, 0.5, 0.9]), b.ppf([0.1, 0.5, 0.9])
    (array([1., 2., 3.]), array([30., 20., 10.]))
    >>> b.mean(), b.support()
    (20.0, (10.0, 30.0))
    """

    key: str = "joint"

    def __repr__(self) -> str:
        v = self.values
        shown = repr(v) if len(v) <= 8 else f"<{len(v)} values>"
        return f"Joint(values={shown}, key={self.key!r})"

    def _validate(self) -> None:
        if not isinstance(self.key, str) or not self.key:
            self._fail("key", "must be a non-empty string", self.key)
        order = self.values
        super()._validate()  # checks the values (and sorts them): keep the given order
        object.__setattr__(self, "values", tuple(float(v) for v in order))

    def _stream(self, path: str) -> str:
        return f"joint:{self.key}:{len(self.values)}"

    @functools.cached_property
    def _sorted(self) -> np.ndarray:
        x = np.sort(np.asarray(self.values))
        x.flags.writeable = False
        return x

    def ppf(self, q: Any) -> np.ndarray:
        n = len(self.values)
        q = np.asarray(q, dtype=float)
        i = np.clip(np.nan_to_num(np.floor(q * n)), 0, n - 1).astype(np.int64)
        return _in_unit(q, np.asarray(self.values)[i])

    def support(self) -> tuple[float, float]:
        return float(self._sorted[0]), float(self._sorted[-1])


@dataclasses.dataclass(frozen=True)
class Mixture(Distribution):
    """A finite mixture: draw component ``i`` with probability ``weights[i]``.

    Parameters
    ----------
    components : sequence of Distribution
        The components (request-level distributions).
    weights : sequence of float
        One relative weight >= 0 per component, normalised to sum to 1 (so
        ``(3, 1)`` means 75 % / 25 %).  A weight may be an uncertain Distribution;
        each trial normalises the weights it drew.

    Examples
    --------
    >>> d = Mixture((Uniform(0.0, 1.0), Uniform(10.0, 12.0)), (0.25, 0.75))
    >>> d.mean(), float(d.cdf(1.0)), float(d.ppf(0.625))
    (8.375, 0.25, 11.0)
    """

    components: tuple[Distribution, ...] = request_field()
    weights: tuple[float, ...]

    def _validate(self) -> None:
        comps = self._sequence("components")
        if not comps:
            self._fail("components", "must hold at least one distribution", self.components)
        for i, c in enumerate(comps):
            if not isinstance(c, Distribution):
                self._fail(f"components[{i}]", "must be a Distribution", c)
        raw = self._sequence("weights")
        if len(raw) != len(comps):
            self._fail("weights", f"must hold one weight per component ({len(comps)})", self.weights)
        w = tuple(self._checked(f"weights[{i}]", x, low=0.0) for i, x in enumerate(raw))
        if all(isinstance(x, float) for x in w):
            total = math.fsum(w)
            if not total > 0.0:
                self._fail("weights", "must have a positive sum", w)
            if abs(total - 1.0) > 4.0 * len(w) * np.finfo(float).eps:  # normalised already: kept bit for bit
                w = tuple(x / total for x in w)
        object.__setattr__(self, "components", comps)
        object.__setattr__(self, "weights", w)

    def _sequence(self, name: str) -> tuple:
        value = getattr(self, name)
        if isinstance(value, (str, bytes, Distribution)) or not np.iterable(value):
            self._fail(name, "must be a sequence", value)
        return tuple(value)

    def _live(self) -> list[tuple[float, Distribution]]:
        """``(weight, component)`` pairs with a positive weight."""
        self._check_resolved()
        return [(w, c) for w, c in zip(self.weights, self.components) if w > 0.0]

    def _draw(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        self._check_resolved()
        u = rng.random(shape)
        # the kernel's rule: the first j with u < cumw[j], the last otherwise
        pick = np.minimum(np.searchsorted(np.cumsum(self.weights), u, side="right"), len(self.weights) - 1)
        out = np.empty(np.shape(u))
        for j, c in enumerate(self.components):
            mask = pick == j
            out[mask] = c._draw((int(np.count_nonzero(mask)),), rng)
        return out

    def mean(self) -> float:
        return math.fsum(w * c.mean() for w, c in self._live())

    def var(self) -> float:
        live = self._live()
        m = self.mean()
        return math.fsum(w * (c.var() + (c.mean() - m) ** 2) for w, c in live) if math.isfinite(m) else math.inf

    def cdf(self, x: Any) -> np.ndarray:
        return sum(w * np.asarray(c.cdf(x), dtype=float) for w, c in self._live())

    def ppf(self, q: Any) -> np.ndarray:
        """Quantile by bisection, bracketed by the components' quantiles.

        The answer lies between the smallest and the largest component quantile;
        bisection keeps ``cdf(lo) < q <= cdf(hi)`` until no float lies between.
        It halves the floats between the brackets (in the order of their bit
        patterns), not the interval: 64 steps at most, exact at atoms and to the
        last bit elsewhere, whatever the magnitudes (an infinite bracket included).
        """
        q = np.asarray(q, dtype=float)
        bounds = np.array([np.broadcast_to(c.ppf(q), q.shape) for _, c in self._live()], dtype=float)
        lo, hi = _ordered(bounds.min(axis=0)), _ordered(bounds.max(axis=0))
        hi = np.where(self.cdf(_unordered(lo)) >= q, lo, hi)  # below every component quantile F < q
        for _ in range(65):
            mid = (lo >> 1) + (hi >> 1) + (lo & hi & 1)  # the midpoint, without overflowing int64
            open_ = (mid > lo) & (mid < hi)
            if not open_.any():
                break
            up = self.cdf(_unordered(mid)) >= q
            hi = np.where(open_ & up, mid, hi)
            lo = np.where(open_ & ~up, mid, lo)
        return _in_unit(q, _unordered(hi))

    def support(self) -> tuple[float, float]:
        ends = np.array([c.support() for _, c in self._live()])
        return float(ends[:, 0].min()), float(ends[:, 1].max())

    def _partial(self, f: Callable[[Any], Any], c: float) -> float:
        return math.fsum(w * d._partial(f, c) for w, d in self._live())

    def _lower(self, table: DistTable) -> int:
        self._check_resolved()
        rows = [c._lower(table) for c in self.components]
        return table.add(K.MIXTURE, [len(rows), *np.cumsum(self.weights), *rows])


class _MomentsFromPartial:
    """``mean`` and ``var`` from ``_partial`` (for combinators whose scipy twin does not exist)."""

    def mean(self) -> float:
        return self._partial(lambda x: x, math.inf)

    def var(self) -> float:
        m = self.mean()
        return self._partial(lambda x: np.square(x - m), math.inf)


@dataclasses.dataclass(frozen=True)
class Capped(_MomentsFromPartial, Distribution):
    """``min(X, upper)``: values above ``upper`` pile up in a point mass at ``upper``.

    Real prompts pile up at the context limit and outputs at ``max_tokens``.

    Parameters
    ----------
    dist : Distribution
        The uncapped distribution (request level).
    upper : float
        The cap; > the lower end of ``dist``'s support.

    Examples
    --------
    >>> d = Capped(LogNormal(mu=6.0, sigma=1.5), upper=4096.0)
    >>> round(1.0 - float(d.dist.cdf(4096.0)), 4)  # mass of the atom at 4096
    0.0612
    >>> float(d.cdf(4095.9)) < 1.0 == float(d.cdf(4096.0))
    True
    >>> round(d.mean(), 1)  # E[min(X, 4096)], exact
    894.2
    """

    dist: Distribution = request_field()
    upper: float

    def _validate(self) -> None:
        if not isinstance(self.dist, Distribution):
            self._fail("dist", "must be a Distribution", self.dist)
        upper = self._checked("upper", self.upper)
        if isinstance(upper, float) and 0.0 < abs(upper) < np.finfo(float).tiny:
            self._fail("upper", f"must be 0 or at least {np.finfo(float).tiny:g} in size (a normal float)", upper)
        object.__setattr__(self, "upper", upper)
        if isinstance(upper, float) and not self.dist._uncertain():
            lo = self.dist.support()[0]
            if not upper > lo:
                self._fail("upper", f"must be > {lo:g} (the lower end of dist's support)", upper)

    def _cap(self) -> float:
        self._check_resolved()
        return self.upper

    def _draw(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return np.minimum(self.dist._draw(shape, rng), self._cap())

    def cdf(self, x: Any) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return np.where(x < self._cap(), self.dist.cdf(x), 1.0)

    def ppf(self, q: Any) -> np.ndarray:
        return np.minimum(self.dist.ppf(q), self._cap())

    def support(self) -> tuple[float, float]:
        lo, hi = self.dist.support()
        return lo, min(hi, self._cap())

    def _partial(self, f: Callable[[Any], Any], c: float) -> float:
        u = self._cap()
        if c < u:
            return self.dist._partial(f, c)
        tail = 1.0 - float(self.dist.cdf(u))  # the atom at u
        return self.dist._partial(f, u) + (float(f(np.float64(u))) * tail if tail > 0.0 else 0.0)

    def _lower(self, table: DistTable) -> int:
        self._check_resolved()
        return table.add(K.CAPPED, [self.upper, self.dist._lower(table)])
