"""The fitted traffic: what fit_traffic returns, and the traffic it projects to.

:class:`ClassFit` and :class:`TrafficFit` are the results of
:func:`~costsim.calibrate.fit_traffic`; :func:`projected_traffic` turns one into a
:class:`~costsim.Traffic` (the work of :func:`costsim.project`, which checks its
arguments first).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._format import duration_alias, duration_text
from .._validation import ParameterError, check_duration, check_number
from ..traffic.arrivals import Arrivals
from ..traffic.distributions import Capped, Distribution, GeneralizedPareto, Joint, LogNormal, Mixture
from ..traffic.truncated import Truncated
from ..traffic.processes import MixShift, Modulation
from ..traffic.query_class import QueryClass
from ..traffic.traffic import Traffic
from .arrivals import ArrivalFit
from .caching import CacheFit, ClassCache, table_row
from .drift import DriftFit
from .joint import JointDeviations
from .logs import TrafficLog, _instant
from .sessions import SessionFit
from .tokens import TokenFit

__all__ = ["ClassFit", "FitReport", "TrafficFit", "projected_traffic"]


@dataclasses.dataclass(frozen=True)
class ClassFit:
    """What was fitted for one query class.

    Attributes
    ----------
    name : str
        The query class it becomes: the log's class, or ``"<class>/<k>"`` for
        the k-th latent segment of a class (see :mod:`costsim.calibrate.segments`).
    qclass : str
        The log's class it belongs to.
    n : int
        Its rows in the log.
    share : float
        Its share of the rows.
    share_log_var : float
        Block-bootstrap variance of ``log(share)`` (0 with a single class).
    input_tokens, output_tokens : TokenFit
        The token fits.
    input_log_var, output_log_var : float
        Block-bootstrap variance of the log of the column's mean (small-sample
        corrected): how well the log pins down the mean token count.
    cached_fraction : float
        Cached share of the prompt tokens (0 without a cached-tokens column):
        the steady state where the log has prefix hashes or session ids.
    arrivals : ArrivalFit
        The arrivals of its log class (their burstiness is used; the volume comes
        from the whole log).
    cache : ClassCache or None
        The class's prompt cache learned from prefix hashes or session ids (its
        steady state, standard error and warm-up; see :mod:`costsim.calibrate.caching`).
    session : SessionFit or None
        Where the log has session ids and follows the session model: its
        conversations (:mod:`costsim.calibrate.sessions`); the class is then a
        :meth:`~costsim.QueryClass.session` whose queries are runs of turns.
    first_turn_cache : ClassCache or None
        The prompt cache of the runs' first turns (shared prefixes across
        sessions, from prefix hashes), the session class's first-call ``cached_fraction``.
    """

    name: str
    qclass: str
    n: int
    share: float
    share_log_var: float
    input_tokens: TokenFit
    output_tokens: TokenFit
    input_log_var: float
    output_log_var: float
    cached_fraction: float
    arrivals: ArrivalFit
    cache: ClassCache | None = None
    session: SessionFit | None = None
    first_turn_cache: ClassCache | None = None

    @property
    def query_share(self) -> float:
        """Its share of the queries: of the rows, or of the runs of turns for a session class
        (the share of rows over its turns per run, relative to the other classes')."""
        return self.share if self.session is None else self.share / self.session.mean_turns

    def query_class(self, *, share: float | Distribution | None = None,
                    shifts: tuple[np.ndarray, np.ndarray] | None = None, warmup: float | None = None) -> QueryClass:
        """The class as a :class:`~costsim.QueryClass`.

        Parameters
        ----------
        share : float or Distribution, optional
            Its share of the queries (default: the fitted one, :attr:`query_share`).
        shifts : (numpy.ndarray, numpy.ndarray), optional
            Per joint scenario, the log-shift of the input and of the output
            token locations (every component's): the locations become
            :class:`~costsim.Joint` parameters (see :mod:`costsim.calibrate.joint`),
            and a learned cached share is drawn per trial with its standard error.
        warmup : float, optional
            Seconds of a new deployment whose mean cached share (a cache warming
            up from cold) replaces the steady state, where the cache was learned.
        """
        share = self.query_share if share is None else share
        if self.session is not None:
            return self._session_class(share, shifts, warmup)
        inp, out = self.input_tokens.distribution, self.output_tokens.distribution
        if shifts is not None:
            inp, out = shifted(inp, shifts[0]), shifted(out, shifts[1])
        cached = self.cached_fraction if self.cache is None else \
            self.cache.fraction(uncertain=shifts is not None, warmup=warmup)
        return QueryClass(self.name, share, inp, out, cached_fraction=cached)

    def _session_class(self, share: float | Distribution, shifts: tuple[np.ndarray, np.ndarray] | None,
                       warmup: float | None) -> QueryClass:
        """The class as costsim's session model: the prompt shift moves the first prompt and the new
        tokens of every later turn, the output shift every answer."""
        fit = self.session
        first, user, out = (fit.first_prompt.distribution, fit.user_tokens.distribution,
                            self.output_tokens.distribution)
        if shifts is not None:
            first, user, out = shifted(first, shifts[0]), shifted(user, shifts[0]), shifted(out, shifts[1])
        cached = 0.0 if self.first_turn_cache is None else \
            self.first_turn_cache.fraction(uncertain=shifts is not None, warmup=warmup)
        return QueryClass.session(self.name, share, first_prompt=first, user_tokens=user, output_tokens=out,
                                  turns=fit.turns, cached_fraction=cached, prefix_cache=fit.prefix_cache)


#: The key of the joint scenarios of a projection (:class:`~costsim.Joint`).
JOINT_KEY = "fit"


def shifted(dist: Distribution, shift: np.ndarray) -> Distribution:
    """``dist`` with every component's location moved by ``shift`` (log scale), one value per
    joint scenario: ``mu + shift`` of a lognormal, ``scale * exp(shift)`` otherwise; a
    generalized Pareto tail and a truncated body move their threshold with it (the
    whole column is multiplied by ``exp(shift)``), a cap (a physical limit) stays.

    Examples
    --------
    >>> d = shifted(LogNormal(5.0, 1.0), np.array([-0.1, 0.0, 0.1]))
    >>> d.mu
    Joint(values=(4.9, 5.0, 5.1), key='fit')
    """
    if not np.any(shift):
        return dist
    if isinstance(dist, Capped):
        return dataclasses.replace(dist, dist=shifted(dist.dist, shift))
    if isinstance(dist, Truncated):
        return dataclasses.replace(dist, dist=shifted(dist.dist, shift),
                                   upper=Joint(tuple(dist.upper * np.exp(shift)), JOINT_KEY))
    if isinstance(dist, GeneralizedPareto):
        loc = dist.loc if dist.loc == 0 else Joint(tuple(dist.loc * np.exp(shift)), JOINT_KEY)
        return dataclasses.replace(dist, loc=loc,
                                   scale=Joint(tuple(dist.scale * np.exp(shift)), JOINT_KEY))
    if isinstance(dist, Mixture):
        return dataclasses.replace(dist, components=tuple(shifted(c, shift) for c in dist.components))
    if isinstance(dist, LogNormal):
        return dataclasses.replace(dist, mu=Joint(tuple(dist.mu + shift), JOINT_KEY))
    return dataclasses.replace(dist, scale=Joint(tuple(dist.scale * np.exp(shift)), JOINT_KEY))  # Gamma, Weibull


@dataclasses.dataclass(frozen=True)
class FitReport:
    """Goodness of fit of a :class:`~costsim.calibrate.TrafficFit`.

    Attributes
    ----------
    tokens : pandas.DataFrame
        One row per (class, column; a session class adds its ``first_prompt``
        and ``user_tokens``, see :mod:`costsim.calibrate.sessions`): rows
        fitted, the chosen family, the cap and its mass, the limit, the generalized Pareto tail (its threshold, share
        of rows, shape and KS distance on the tail's rows; NaN without one), the
        KS distance between the rounded fit and the log, the AIC of the chosen
        family and its margin over the runner-up, and the relative standard
        error of the column's mean (block bootstrap).
    arrivals : pandas.DataFrame
        One row per class of the log (its latent segments share its arrivals)
        and, where there are several, one for ``"(all)"`` of them together:
        requests per day, the 90 %
        band of the volume, the index of dispersion and the share of empty bins
        of the per-bin counts, and the burstiness model.
    drift : pandas.DataFrame
        One row per quantity (volume, input and output tokens): the short
        windows read, the exponent of the variance growth and the predicted sd
        of the log level of a horizon 9x the log (see :mod:`costsim.calibrate.drift`).
    drift_note : str
        What the drift was estimated from, or why it was not.
    cache : pandas.DataFrame
        The prompt cache learned from the log (see :mod:`costsim.calibrate.caching`
        and :mod:`costsim.calibrate.sessions`), one row per (class, quantity): the
        estimate, its standard error and 90 % band (``low``, ``high``; for the TTL
        the bracket), and the rows and sessions it was read from.  For the whole
        log (``"(all)"``): the logged and the steady-state hit share of prompt
        tokens, the TTL, the warm-up (a new deployment's age at 90 % of the steady
        state) and the longest reuse counted; per class of several, its steady
        share; per session class, the turns per run, the mean first prompt and
        new tokens per turn, the median gap between turns, the share of pauses
        longer than the TTL and the first turn's steady share.  Empty where
        nothing was learned.
    cache_note : str
        What the cache was learned from, or why it was not.
    """

    tokens: pd.DataFrame
    arrivals: pd.DataFrame
    drift: pd.DataFrame
    drift_note: str
    cache: pd.DataFrame = dataclasses.field(default_factory=lambda: _cache_frame([]))
    cache_note: str = "no cache learned"

    @classmethod
    def build(cls, classes: dict[str, ClassFit], total: ArrivalFit, drift: DriftFit, *,
              cache: CacheFit | None = None, log: TrafficLog | None = None,
              session_notes: Sequence[str] = ()) -> FitReport:
        rows = []
        for c in classes.values():
            session = () if c.session is None else (("first_prompt", c.session.first_prompt, math.nan),
                                                     ("user_tokens", c.session.user_tokens, math.nan))
            for column, fit, var in (("input_tokens", c.input_tokens, c.input_log_var),
                                     ("output_tokens", c.output_tokens, c.output_log_var), *session):
                ranked = sorted(fit.aic.values())
                rows.append({
                    "qclass": c.name, "column": column, "rows": fit.n, "family": fit.family,
                    "cap": fit.pile.cap if fit.pile else None, "cap_mass": fit.pile.mass if fit.pile else 0.0,
                    "limit": fit.limit, **_tail_columns(fit.tail),
                    "ks": fit.ks, "aic": ranked[0], "aic_margin": ranked[1] - ranked[0] if len(ranked) > 1 else math.nan,
                    "mean_rel_se": math.sqrt(var),
                })
        arr = []
        # the segments of a log class (conv/1, conv/2) share its arrivals: one row per log class
        per_class = list({c.qclass: (c.qclass, c.arrivals) for c in classes.values()}.values())
        for name, a in ([("(all)", total)] if len(per_class) > 1 else []) + per_class:
            band = (a.volume * math.exp(-1.645 * a.volume_log_sd), a.volume * math.exp(1.645 * a.volume_log_sd))
            arr.append({
                "qclass": name, "per_day": a.volume, "per_day_p5": band[0], "per_day_p95": band[1],
                "dispersion_index": a.dispersion_index, "empty_fraction": a.empty_fraction,
                "burstiness": " x ".join(type(m).__name__ for m in a.modulation) or "Poisson",
                "daily_profile": a.daily_profile is not None,
            })
        return cls(pd.DataFrame(rows).set_index(["qclass", "column"]), pd.DataFrame(arr).set_index("qclass"),
                   drift.table(), drift.note, *_cache_report(classes, cache, log, session_notes))

    def worst_ks(self) -> float:
        """Largest KS distance over all token columns."""
        return float(self.tokens["ks"].max())

    def __str__(self) -> str:
        with pd.option_context("display.width", 120, "display.max_columns", 20, "display.precision", 4):
            cache = f"\n\nPrompt cache ({self.cache_note})" + (f"\n{self.cache}" if len(self.cache) else "")
            return (f"Token distributions\n{self.tokens}\n\nArrivals\n{self.arrivals}\n\n"
                    f"Drift ({self.drift_note})\n{self.drift}{cache}")


def _cache_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    columns = ["qclass", "quantity", "estimate", "sd", "low", "high", "rows", "sessions"]
    return pd.DataFrame(rows, columns=columns).astype({"rows": "Int64", "sessions": "Int64"}).set_index(
        ["qclass", "quantity"])


def _cache_report(classes: dict[str, ClassFit], cache: CacheFit | None, log: TrafficLog | None,
                  session_notes: Sequence[str]) -> tuple[pd.DataFrame, str]:
    """The fit report's cache table and its note (see :class:`FitReport`)."""
    if cache is None:
        if log is not None and log.cached_tokens is not None:
            return _cache_frame([]), ("a cached-tokens column only: each class's cached_fraction is its logged "
                                      "share, without uncertainty or warm-up (prefix hashes or session ids give both)")
        return _cache_frame([]), "no cached-tokens, prefix-hash or session column: no prompt cache (cached_fraction 0)"
    rows = cache.table_rows(len(cache.input_tokens))
    if len(classes) > 1:
        rows += [table_row("hit share, steady state", c.cache.steady, c.cache.sd, rows=c.n, qclass=name)
                 for name, c in classes.items() if c.cache is not None]
    for name, c in classes.items():
        if c.session is not None:
            first = None if c.first_turn_cache is None else (c.first_turn_cache.steady, c.first_turn_cache.sd)
            rows += c.session.table_rows(name, first)
    source = "prefix hashes" if log is not None and log.prefix_hashes is not None else "session ids"
    note = f"learned from the {source} of {len(cache.input_tokens):,} rows"
    return _cache_frame(rows), "; ".join([note, *session_notes])


def _tail_columns(tail: Any) -> dict[str, float]:
    """The report's columns of a :class:`~costsim.calibrate.tails.Tail` (NaN without one)."""
    if tail is None:
        return {"tail_from": math.nan, "tail_share": math.nan, "tail_shape": math.nan, "tail_ks": math.nan}
    return {"tail_from": tail.threshold, "tail_share": tail.share, "tail_shape": tail.shape, "tail_ks": tail.ks}


@dataclasses.dataclass(frozen=True, eq=False)
class TrafficFit:
    """A traffic fitted to a log: per-class fits, arrivals and the goodness-of-fit report.

    Use :attr:`traffic` for the point estimate over the log's own span,
    :func:`costsim.project` for production traffic with the estimation
    uncertainty carried to the trial level, and :func:`costsim.pilot_gap` to
    compare with the naive extrapolation.

    Attributes
    ----------
    classes : dict of str to ClassFit
        Per-class fits, in order of first appearance.
    arrivals : ArrivalFit
        Arrivals of the whole log (volume and its uncertainty, profile).
    log : TrafficLog
        The log fitted.
    start : pandas.Timestamp
        First arrival.
    span : pandas.Timedelta
        Time the log covers.
    report : FitReport
        Goodness of fit.
    joint : JointDeviations
        The joint bootstrap scenarios of volume, shares and token means
        (:mod:`costsim.calibrate.joint`).
    drift : DriftFit
        How the level wanders across the log (:mod:`costsim.calibrate.drift`).
    cache : CacheFit or None
        The prompt cache learned from prefix hashes or session ids.
    """

    classes: dict[str, ClassFit]
    arrivals: ArrivalFit
    log: TrafficLog
    start: pd.Timestamp
    span: pd.Timedelta
    report: FitReport
    joint: JointDeviations
    drift: DriftFit
    cache: CacheFit | None = None

    @property
    def queries_per_row(self) -> float:
        """Queries of the fitted traffic per request of the log: 1, less where session classes make a
        run of turns one query (their turns per run weighted by their shares)."""
        return float(sum(c.query_share for c in self.classes.values()))

    @property
    def traffic(self) -> Traffic:
        """Point-estimate traffic over the log's span (in whole bins of the fitted bin)."""
        return projected_traffic(self, uncertainty=False)

    def sample(self, n: int, *, rng: Any = None) -> pd.DataFrame:
        """Draw ``n`` requests from the point-estimate fit, rounded as the simulation rounds them.

        Returns a DataFrame with columns ``qclass``, ``input_tokens``,
        ``output_tokens`` (for per-request cost quantiles, QQ plots, checks).

        Examples
        --------
        >>> import numpy as np, costsim as cs
        >>> rng = np.random.default_rng(0)
        >>> fit = cs.fit_traffic({"timestamp": np.arange(500.0), "input_tokens": rng.integers(100, 200, 500),
        ...                       "output_tokens": rng.integers(10, 20, 500)}, families=["Gamma"])
        >>> fit.sample(3, rng=1).columns.tolist()
        ['qclass', 'input_tokens', 'output_tokens']
        """
        rng = np.random.default_rng(rng)
        fits = list(self.classes.values())
        counts = rng.multinomial(n, [c.share for c in fits])
        parts = [pd.DataFrame({
            "qclass": c.name,
            "input_tokens": np.round(c.input_tokens.distribution.sample(k, rng=rng)),
            "output_tokens": np.round(c.output_tokens.distribution.sample(k, rng=rng)),
        }) for c, k in zip(fits, counts)]
        return pd.concat(parts, ignore_index=True)

    def __repr__(self) -> str:
        return (f"TrafficFit({len(self.log):,} rows, {len(self.classes)} class(es), span {duration_text(self.span)}, "
                f"{self.arrivals.volume:,.0f} requests/day)")



def _bins(horizon: pd.Timedelta, fitted_bin: pd.Timedelta, bin: Any) -> tuple[pd.Timedelta, pd.Timedelta]:
    """Horizon and bin: ``bin`` as given, or whole seconds nearest to the fitted bin
    that divide the horizon (the horizon rounded to whole seconds, then trimmed by
    less than a bin)."""
    if bin is not None:
        return horizon, pd.Timedelta(bin)
    seconds = max(1, round(horizon / pd.Timedelta(seconds=1)))
    n = max(1, round(seconds / max(fitted_bin / pd.Timedelta(seconds=1), 1.0)))
    width = seconds // n
    return pd.Timedelta(seconds=width * n), pd.Timedelta(seconds=width)


def _query_arrivals(unit: ClassFit, rows: ArrivalFit) -> ArrivalFit:
    """The arrivals whose burstiness a projected class takes: its rows' (``rows``), or a session
    class's runs' starts (its rows cluster by session; the session model clusters the turns)."""
    return rows if unit.session is None or unit.session.arrivals is None else unit.session.arrivals


def check_drift(drift: Any) -> str | float | Distribution:
    """``drift``: ``"auto"``, a number >= 0 or a Distribution (of the log of the level)."""
    if isinstance(drift, Distribution):
        drift._check_resolved()
        return drift
    if isinstance(drift, str):
        if drift != "auto":
            raise ParameterError("drift", "must be 'auto', a number >= 0 or a costsim Distribution", drift)
        return drift
    return check_number("drift", drift, low=0.0)


def _assumed_drift(drift: str | float | Distribution, k: int) -> np.ndarray:
    """``[3, k]`` log-shifts of the volume, the input and the output level per joint scenario: 0 for
    ``"auto"``, ``Normal(0, drift)`` for a number, the distribution's quantiles at fixed uniforms for a
    distribution (each row independent)."""
    if isinstance(drift, str):
        return np.zeros((3, k))
    rng = np.random.default_rng(0)
    if isinstance(drift, Distribution):
        return np.asarray(drift.ppf(rng.random((3, k))), dtype=float)
    return drift * rng.standard_normal((3, k))


def _joint_values(fit: TrafficFit, horizon: pd.Timedelta,
                  drift: str | float | Distribution) -> tuple[np.ndarray, list, list]:
    """Per joint scenario: the volume factor, and per class the share and the (input, output)
    location shifts (see :mod:`costsim.calibrate.joint`)."""
    dev = fit.joint
    future = 1.0 + fit.span / horizon
    inflation = dict.fromkeys(("volume", "input_tokens", "output_tokens"), 1.0)
    predicted = (fit.drift.variance(horizon) if isinstance(drift, str) else None) or {}
    boot = dev.variance()
    own = {"volume": 1.0, "input_tokens": future, "output_tokens": future}
    for q, v in predicted.items():  # the quantities whose drift was estimated
        inflation[q] = max(1.0, v / (boot[q] * own[q])) if boot[q] > 0 else 1.0
    extra = _assumed_drift(drift, dev.volume.shape[0])
    c = dev.correction
    volume = np.exp(np.sqrt(c * inflation["volume"]) * dev.volume + extra[0])
    shares, shifts = [], []
    for u in range(len(fit.classes)):
        shares.append(np.exp(np.sqrt(c) * dev.share[u]))
        shifts.append(tuple(np.sqrt(c * future) * (part[u] + np.sqrt(inflation[q]) * common) + e
                            for part, common, q, e in ((dev.input_own, dev.input_common, "input_tokens", extra[1]),
                                                      (dev.output_own, dev.output_common, "output_tokens", extra[2]))))
    return volume, shares, shifts


def projected_traffic(
    fit: TrafficFit,
    *,
    volume: float | Distribution | None = None,
    scale: float | None = None,
    growth: float | Distribution | Modulation | Sequence[Modulation] = 0.0,
    mix: Mapping[str, float | Distribution] | MixShift | None = None,
    horizon: str | pd.Timedelta | None = None,
    bin: str | pd.Timedelta | None = None,
    start: Any = None,
    uncertainty: bool = True,
    drift: str | float | Distribution = "auto",
    cache: str = "steady",
) -> Traffic:
    """:func:`costsim.project` of a fit known to be a :class:`TrafficFit` (see there)."""
    if cache not in ("steady", "warm-up"):
        raise ParameterError("cache", "must be 'steady' or 'warm-up'", cache)
    horizon_td = fit.span if horizon is None else check_duration("horizon", horizon)
    if horizon_td < pd.Timedelta(seconds=1):
        raise ParameterError("horizon", "must be at least 1 second (bins are whole seconds)", horizon)
    horizon_td, width = _bins(horizon_td, fit.arrivals.bin, None if bin is None else check_duration("bin", bin))
    if start is None:  # the end of the log, on a bin boundary where bins tile a day
        day = pd.Timedelta(days=1)
        start = (fit.start + fit.span).ceil(width if width <= day and day % width == pd.Timedelta(0) else "s")
    else:
        start = _instant("start", start).floor("s")
    if not isinstance(uncertainty, (bool, np.bool_)):
        raise ParameterError("uncertainty", "must be True or False", uncertainty)
    drift = check_drift(drift)
    if (isinstance(drift, Distribution) or (drift != "auto" and drift > 0)) and not uncertainty:
        raise ParameterError("drift", "needs uncertainty=True (it widens the fit's uncertainty)", drift)
    if scale is not None:
        scale = check_number("scale", scale, low=0.0, low_open=True, finite=True)
        if volume is not None:
            raise ParameterError("scale", "multiplies the fitted volume: give volume or scale, not both", scale)
    if mix is not None and not isinstance(mix, (Mapping, MixShift)):
        raise TypeError(f"mix must be a mapping of class -> share or a costsim.MixShift; got {type(mix).__name__}")
    shares = dict(mix) if isinstance(mix, Mapping) else {}
    unknown = sorted(set(shares) - set(fit.classes))
    if unknown:
        raise ValueError(f"mix: unknown class(es) {unknown}; the fit has {list(fit.classes)}")
    warmup = horizon_td / pd.Timedelta(seconds=1) if cache == "warm-up" else None
    per_query = fit.queries_per_row  # session classes: a run of turns is one query
    level = fit.arrivals.volume * per_query * (1.0 if scale is None else scale)
    if uncertainty:
        factor, share_factor, shifts = _joint_values(fit, horizon_td, drift)
        several = len(fit.classes) > 1
        classes = [c.query_class(share=shares.get(name, Joint(tuple(c.query_share * f), JOINT_KEY) if several else None),
                                 shifts=sh, warmup=warmup)
                   for (name, c), f, sh in zip(fit.classes.items(), share_factor, shifts)]
        joint_volume = Joint(tuple(level * factor), JOINT_KEY) if level > 0 else level
    else:
        classes = [c.query_class(share=shares.get(name), warmup=warmup) for name, c in fit.classes.items()]
        joint_volume = level
    if volume is None:
        volume = joint_volume
    elif per_query != 1.0:  # requests (the log's rows, model calls) per day, as queries
        if isinstance(volume, Distribution):
            raise ParameterError("volume", f"must be a number for a fit with session classes (requests per day, "
                                 f"{1 / per_query:.3g} to a query): use scale= for an uncertain multiple", volume)
        volume = check_number("volume", volume, low=0.0) * per_query
    modulation: tuple[Modulation, ...] = ()
    if isinstance(growth, Modulation):
        modulation, growth = (growth,), 0.0
    elif isinstance(growth, (list, tuple)):
        modulation, growth = tuple(growth), 0.0
    arrivals = Arrivals(volume=volume, horizon=duration_alias(horizon_td), bin=duration_alias(width),
                        start=pd.Timestamp(start).isoformat(), daily_profile=fit.arrivals.daily_profile,
                        weekly_profile=fit.arrivals.weekly_profile, growth=growth)
    if len({c.qclass for c in fit.classes.values()}) == 1:  # one log class: its segments burst together
        modulation = (*_query_arrivals(next(iter(fit.classes.values())), fit.arrivals).modulation_for(width),
                      *modulation)
        class_mod = None
    else:
        class_mod = {name: _query_arrivals(c, c.arrivals).modulation_for(width) for name, c in fit.classes.items()}
        class_mod = {k: v for k, v in class_mod.items() if v} or None
    return Traffic(classes, arrivals, modulation=modulation, class_modulation=class_mod,
                   mix_shift=mix if isinstance(mix, MixShift) else None)
