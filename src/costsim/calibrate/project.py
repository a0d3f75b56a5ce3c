"""From a fitted pilot to production: project(), the pilot gap, and scenario files."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._validation import check_number
from ..pricing.litellm import price
from ..pricing.token import TokenPricing
from ..traffic.distributions import Distribution
from ..traffic.processes import MixShift, Modulation
from ..traffic.traffic import Traffic
from .fitted import TrafficFit, projected_traffic
from .logs import TrafficLog

if TYPE_CHECKING:
    import xarray as xr

    from ..scenario import Scenario

__all__ = ["PilotGap", "pilot_gap", "project", "to_scenario"]


def project(
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
    """The traffic to simulate: the fitted pilot under production assumptions.

    Every assumption may be an uncertain :class:`~costsim.Distribution` (drawn
    once per trial).  With ``uncertainty=True`` the estimation uncertainty of
    the fit is carried to the trial level as well, *jointly*: the volume (where
    not given), the class shares and the location parameters of every token
    distribution are :class:`~costsim.Joint` parameters drawn from one table of
    block-bootstrap resamples of the log, so a trial takes all of them from the
    same resample and their correlation (busy stretches with shorter requests,
    say) carries into the bands (:mod:`costsim.calibrate.joint`).  The token
    uncertainty is the prediction variance of a mean over the horizon,
    ``var_fit * (1 + span / horizon)``: the pilot's own error plus that of the
    period to come, whose request-to-request correlation the simulation
    (independent requests) would otherwise miss; for a production horizon much
    longer than the pilot the second term vanishes.  The volume's future
    variance is in the simulated burstiness already.  On top, ``drift`` widens
    the level's spread for what lies beyond the log.

    Burstiness: a log with one class (split in latent segments or not) gets its
    fitted burstiness as a modulation shared by all its query classes (they go
    quiet together); with several log classes each query class gets its log
    class's burstiness, drawn independently (segments of one class then burst
    independently: an approximation).

    Parameters
    ----------
    fit : TrafficFit
        The fitted pilot.
    volume : float or Distribution, optional
        Production requests per day at the start (default: the pilot's, with
        its uncertainty); a given volume is taken as known.  With session
        classes (a log with session ids) a number of requests, turned into
        queries (runs of turns) at the fitted turns per run.
    scale : float, optional
        Production volume as a multiple of the pilot's (> 0), keeping the
        volume's uncertainty: ``scale=10`` gives bands as wide, relative to
        the median, as at the pilot's volume.  Not with ``volume``.
    growth : float, Distribution, Modulation or sequence of Modulation, default 0
        Compound growth per month (``Arrivals.growth``), or modulations such as
        :class:`~costsim.LogisticGrowth` and :class:`~costsim.FlashEvent`
        applied to all classes.
    mix : mapping of str to share, or MixShift, optional
        New class shares (replacing the fitted ones; a class left out keeps its
        share), or a :class:`~costsim.MixShift` moving the shares along the horizon.
    horizon : str or timedelta, optional
        Simulated span (default the log's span); at least a second.
    bin : str or timedelta, optional
        Bin length, positive (default: whole seconds dividing the horizon,
        nearest to the fitted bin).  Gamma burstiness is rescaled to it
        (:meth:`ArrivalFit.modulation_for`).
    start : str or datetime, optional
        Start of the horizon, rounded down to whole seconds (default the end of
        the log, rounded up to a whole bin where the bin divides a day, e.g. the
        next full hour for hourly bins, else to a whole second).  Whole seconds
        keep the profile's sub-steps coarse.
    uncertainty : bool, default True
        Carry the estimation uncertainty to the trial level.
    drift : "auto", float or Distribution, default "auto"
        How far production's level (volume, mean input and output tokens) may
        sit from the log's beyond the bootstrap's spread.  ``"auto"``: read from
        the log how the level's variance grows with the window and extrapolate
        it to the horizon (:mod:`costsim.calibrate.drift`); each quantity's
        spread becomes the larger of that prediction and the bootstrap's.  A
        log too short for it keeps the bootstrap's spread, and its fit report
        (``fit.report.drift_note``) says so.  A number: the sd of the log of the
        level (0.15: volume and mean token counts ~15 % off, one sd), drawn for
        the volume and each token column independently and added to the
        bootstrap's draws; 0 turns drift off.  A Distribution: that law for the
        log of the level (e.g. ``cs.Normal(0.05, 0.1)`` for a level expected 5 %
        up).  The block bootstrap sees only variation within the log: in the
        Azure conversation trace, 6-minute windows of one hour differ in volume
        and mean cost per request by up to 30 %, far more than a 6-minute log's
        own bootstrap shows; :meth:`costsim.calibrate.Backtest.drift` reads the
        drift from a backtest of a longer log.
    cache : {"steady", "warm-up"}, default "steady"
        Where the fit learned the prompt cache (prefix hashes or session ids):
        forecast its steady state (an established deployment), or its mean
        over the horizon of a new deployment whose cache starts cold.

    Returns
    -------
    Traffic

    Examples
    --------
    >>> import numpy as np, costsim as cs
    >>> rng = np.random.default_rng(0)
    >>> log = {"timestamp": np.sort(rng.uniform(0, 3600, 1500)),
    ...        "input_tokens": np.round(rng.lognormal(6.0, 1.0, 1500)),
    ...        "output_tokens": np.round(rng.lognormal(4.0, 0.7, 1500))}
    >>> fit = cs.fit_traffic(log, families=["LogNormal"])
    >>> t = cs.project(fit, volume=1e6, growth=cs.Uniform(0.0, 0.2), horizon="30D", bin="1D")
    >>> t.arrivals.volume, t.arrivals.growth, t.arrivals.n_bins
    (1000000.0, Uniform(low=0.0, high=0.2), 30)
    """
    _check_fit(fit)
    return projected_traffic(fit, volume=volume, scale=scale, growth=growth, mix=mix, horizon=horizon, bin=bin,
                             start=start, uncertainty=uncertainty, drift=drift, cache=cache)


def _check_fit(fit: Any) -> None:
    if not isinstance(fit, TrafficFit):
        raise TypeError(f"fit must be a costsim.calibrate.TrafficFit (from fit_traffic); got {type(fit).__name__}")


@dataclasses.dataclass(frozen=True, eq=False)
class PilotGap:
    """The naive pilot extrapolation beside the simulated production cost.

    Attributes
    ----------
    pilot_cost_per_request : float
        Mean cost per request of the log, priced request by request at its time (USD).
    requests : float
        Production requests (model calls: a session's turns) over the horizon (mean over trials).
    naive : float
        ``pilot_cost_per_request * requests``: the spreadsheet answer (USD).
    simulated : numpy.ndarray
        Simulated total cost of every trial (USD).
    quantiles : pandas.Series
        Quantiles of ``simulated`` (index: the probabilities).
    dataset : xarray.Dataset
        The simulation result: the production traffic priced with ``pricing``, an
        option named ``"production"`` (``dataset.sel(option="production")``; the
        name says which traffic it prices, not a deployment choice).
    """

    pilot_cost_per_request: float
    requests: float
    naive: float
    simulated: np.ndarray
    quantiles: pd.Series
    dataset: xr.Dataset

    @property
    def median(self) -> float:
        """Median simulated total cost (USD)."""
        return float(np.median(self.simulated))

    @property
    def gap(self) -> float:
        """Median simulated cost over the naive extrapolation, minus 1."""
        return self.median / self.naive - 1.0

    def __str__(self) -> str:
        q = ", ".join(f"p{100 * p:g} ${v:,.2f}" for p, v in self.quantiles.items())
        return (f"naive pilot extrapolation ${self.naive:,.2f} (${self.pilot_cost_per_request:.6f} x "
                f"{self.requests:,.0f} requests); simulated {q}; median/naive - 1 = {self.gap:+.1%}")


def pilot_gap(
    fit: TrafficFit,
    pricing: TokenPricing,
    *,
    traffic: Traffic | None = None,
    trials: int = 200,
    seed: int = 0,
    quantiles: Sequence[float] = (0.05, 0.25, 0.5, 0.75, 0.95),
) -> PilotGap:
    """Compare the naive extrapolation (pilot mean cost per request x production
    volume) with the simulated distribution of production cost.

    Parameters
    ----------
    fit : TrafficFit
        The fitted pilot.
    pricing : TokenPricing
        Per-token pricing of both.
    traffic : Traffic, optional
        Production traffic (default ``project(fit)``: the pilot's own volume over
        its own span, with uncertainty).
    trials : int, default 200
        Trials simulated.
    seed : int, default 0
        Seed of the simulation.
    quantiles : sequence of float
        Quantiles of the total cost reported.

    Returns
    -------
    PilotGap

    Examples
    --------
    >>> import numpy as np, costsim as cs
    >>> rng = np.random.default_rng(0)
    >>> log = {"timestamp": np.sort(rng.uniform(0, 3600, 1500)),
    ...        "input_tokens": np.round(rng.lognormal(6.0, 1.0, 1500)),
    ...        "output_tokens": np.round(rng.lognormal(4.0, 0.7, 1500))}
    >>> fit = cs.fit_traffic(log, families=["LogNormal"])
    >>> gap = cs.pilot_gap(fit, cs.TokenPricing(input=3.0, output=15.0),
    ...                    traffic=cs.project(fit, volume=1e5, horizon="7D", bin="1h"), trials=50)
    >>> round(gap.requests, -4), bool(gap.quantiles[0.05] < gap.naive < gap.quantiles[0.95])
    (700000.0, True)
    """
    from ..run import simulate

    _check_fit(fit)
    quantiles = [check_number(f"quantiles[{i}]", q, low=0.0, high=1.0) for i, q in enumerate(quantiles)]
    if not isinstance(pricing, TokenPricing):
        raise TypeError(f"pricing must be a costsim.TokenPricing (priced per request); got {type(pricing).__name__}")
    per_request = float(np.mean(billed(pricing, fit.log)))  # at their times: off-peak rates where they apply
    traffic = project(fit) if traffic is None else traffic
    ds = simulate(traffic, {"production": pricing}, trials=trials, seed=seed)
    total = ds["cost"].sum(("time", "qclass")).sel(option="production").to_numpy()
    requests = float(ds["calls"].sum(("time", "qclass")).mean())  # a log row is a model call (a session's turn)
    qs = pd.Series(np.quantile(total, list(quantiles)), index=list(quantiles), name="USD")
    return PilotGap(per_request, requests, per_request * requests, total, qs, ds)


def billed(pricing: TokenPricing, log: TrafficLog) -> np.ndarray:
    """USD of every logged request, billed at its time (the pilot's actual bill)."""
    cached = 0 if log.cached_tokens is None else log.cached_tokens
    return np.asarray(price(pricing, log.input_tokens, log.output_tokens, cache_read_tokens=cached,
                            when=log.timestamp), dtype=float)


def to_scenario(
    fit: TrafficFit,
    options: Mapping[str, Any],
    *,
    trials: int = 100,
    seed: int | None = None,
    **assumptions: Any,
) -> Scenario:
    """A :class:`~costsim.scenario.Scenario` of the projected traffic, ready for
    :func:`~costsim.scenario.save_scenario` (``costsim fit logs.csv --out scenario.toml``).

    Parameters
    ----------
    fit : TrafficFit
        The fit.
    options : mapping of str to pricing model
        The deployment options.
    trials : int, default 100
        Trials of the scenario.
    seed : int, optional
        Its seed.
    **assumptions
        Keywords of :func:`project` (``volume``, ``growth``, ``mix``,
        ``horizon``, ``bin``, ``start``, ``uncertainty``).

    Examples
    --------
    >>> import numpy as np, costsim as cs
    >>> from costsim.scenario import dumps_scenario
    >>> rng = np.random.default_rng(0)
    >>> log = {"timestamp": np.sort(rng.uniform(0, 3600, 1500)),
    ...        "input_tokens": np.round(rng.lognormal(6.0, 1.0, 1500)),
    ...        "output_tokens": np.round(rng.lognormal(4.0, 0.7, 1500))}
    >>> s = cs.to_scenario(cs.fit_traffic(log, families=["LogNormal"]), {"api": cs.TokenPricing(3.0, 15.0)},
    ...                    horizon="30D", bin="1h")
    >>> "LogNormal" in dumps_scenario(s)
    True
    """
    from ..scenario import Scenario

    return Scenario(project(fit, **assumptions), dict(options), trials=trials, seed=seed)
