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
from ..traffic.distributions import Distribution, LogNormal
from ..traffic.processes import MixShift, Modulation
from ..traffic.query_class import QueryClass
from ..traffic.traffic import Traffic
from .arrivals import ArrivalFit
from .caching import CacheFit, ClassCache
from .logs import TrafficLog, _instant
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

    def query_class(self, *, share: float | Distribution | None = None,
                    token_var: tuple[float, float] | None = None, warmup: float | None = None) -> QueryClass:
        """The class as a :class:`~costsim.QueryClass`.

        Parameters
        ----------
        share : float or Distribution, optional
            Its share (default: the fitted one, uncertain where ``token_var`` is given).
        token_var : (float, float), optional
            None: point estimates.  ``(factor, extra)``: the location parameters
            of the token distributions are drawn per trial so that the variance
            of the log of each column's mean token count is the bootstrap's
            times ``factor``, plus ``extra`` (and a learned cached share is drawn
            per trial with its standard error).
        warmup : float, optional
            Seconds of a new deployment whose mean cached share (a cache warming
            up from cold) replaces the steady state, where the cache was learned.
        """
        if token_var is None:
            inp, out = self.input_tokens.distribution, self.output_tokens.distribution
            default_share: float | Distribution = self.share
        else:
            factor, extra = token_var
            inp = _uncertain_tokens(self.input_tokens, self.input_log_var * factor + extra)
            out = _uncertain_tokens(self.output_tokens, self.output_log_var * factor + extra)
            default_share = LogNormal(math.log(self.share), math.sqrt(self.share_log_var)) \
                if self.share_log_var > 0 else self.share
        cached = self.cached_fraction if self.cache is None else \
            self.cache.fraction(uncertain=token_var is not None, warmup=warmup)
        return QueryClass(self.name, default_share if share is None else share, inp, out, cached_fraction=cached)



def _uncertain_tokens(fit: TokenFit, log_var: float) -> Distribution:
    """The fit with independent per-trial location draws whose combined effect on the log
    of the mean has variance ``log_var``: ``sd**2 * sum(g**2) = log_var`` with ``g`` the
    gradient of the log-mean in the components' log-locations.

    The components' draws are independent (costsim draws every uncertain
    parameter on its own stream), so the spread is set from the quantity that
    drives cost, the mean, rather than from each location's own bootstrap spread.
    """
    if log_var <= 0:
        return fit.distribution
    g = fit.log_mean_gradient()
    return fit.with_location_sd(math.sqrt(log_var / float(np.sum(g * g))))



@dataclasses.dataclass(frozen=True)
class FitReport:
    """Goodness of fit of a :class:`~costsim.calibrate.TrafficFit`.

    Attributes
    ----------
    tokens : pandas.DataFrame
        One row per (class, column): rows fitted, the chosen family, the cap and
        its mass, the limit, the generalized Pareto tail (its threshold, share
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
    """

    tokens: pd.DataFrame
    arrivals: pd.DataFrame

    @classmethod
    def build(cls, classes: dict[str, ClassFit], total: ArrivalFit) -> FitReport:
        rows = []
        for c in classes.values():
            for column, fit, var in (("input_tokens", c.input_tokens, c.input_log_var),
                                     ("output_tokens", c.output_tokens, c.output_log_var)):
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
        return cls(pd.DataFrame(rows).set_index(["qclass", "column"]), pd.DataFrame(arr).set_index("qclass"))

    def worst_ks(self) -> float:
        """Largest KS distance over all token columns."""
        return float(self.tokens["ks"].max())

    def __str__(self) -> str:
        with pd.option_context("display.width", 120, "display.max_columns", 20, "display.precision", 4):
            return f"Token distributions\n{self.tokens}\n\nArrivals\n{self.arrivals}"


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
    cache : CacheFit or None
        The prompt cache learned from prefix hashes or session ids.
    """

    classes: dict[str, ClassFit]
    arrivals: ArrivalFit
    log: TrafficLog
    start: pd.Timestamp
    span: pd.Timedelta
    report: FitReport
    cache: CacheFit | None = None

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


def projected_traffic(
    fit: TrafficFit,
    *,
    volume: float | Distribution | None = None,
    growth: float | Distribution | Modulation | Sequence[Modulation] = 0.0,
    mix: Mapping[str, float | Distribution] | MixShift | None = None,
    horizon: str | pd.Timedelta | None = None,
    bin: str | pd.Timedelta | None = None,
    start: Any = None,
    uncertainty: bool = True,
    drift: float = 0.0,
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
    drift = check_number("drift", drift, low=0.0)
    if drift > 0 and not uncertainty:
        raise ParameterError("drift", "needs uncertainty=True (it widens the fit's uncertainty)", drift)
    if mix is not None and not isinstance(mix, (Mapping, MixShift)):
        raise TypeError(f"mix must be a mapping of class -> share or a costsim.MixShift; got {type(mix).__name__}")
    drift_var = drift**2
    token_var = (1.0 + fit.span / horizon_td, drift_var) if uncertainty else None
    shares = dict(mix) if isinstance(mix, Mapping) else {}
    unknown = sorted(set(shares) - set(fit.classes))
    if unknown:
        raise ValueError(f"mix: unknown class(es) {unknown}; the fit has {list(fit.classes)}")
    warmup = horizon_td / pd.Timedelta(seconds=1) if cache == "warm-up" else None
    classes = [c.query_class(share=shares.get(name), token_var=token_var, warmup=warmup)
               for name, c in fit.classes.items()]
    if volume is None:
        volume = fit.arrivals.uncertain_volume(extra_log_var=drift_var) if uncertainty else fit.arrivals.volume
    modulation: tuple[Modulation, ...] = ()
    if isinstance(growth, Modulation):
        modulation, growth = (growth,), 0.0
    elif isinstance(growth, (list, tuple)):
        modulation, growth = tuple(growth), 0.0
    arrivals = Arrivals(volume=volume, horizon=duration_alias(horizon_td), bin=duration_alias(width), start=pd.Timestamp(start).isoformat(),
                        daily_profile=fit.arrivals.daily_profile, weekly_profile=fit.arrivals.weekly_profile,
                        growth=growth)
    if len({c.qclass for c in fit.classes.values()}) == 1:  # one log class: its segments burst together
        modulation = (*fit.arrivals.modulation_for(width), *modulation)
        class_mod = None
    else:
        class_mod = {name: c.arrivals.modulation_for(width) for name, c in fit.classes.items()}
        class_mod = {k: v for k, v in class_mod.items() if v} or None
    return Traffic(classes, arrivals, modulation=modulation, class_modulation=class_mod,
                   mix_shift=mix if isinstance(mix, MixShift) else None)
