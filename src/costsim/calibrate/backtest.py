"""Backtests: fit a window of a log, forecast the rest, and compare with what the log billed.

The way a team checks the forecast on its own logs before believing it (the
idea of Prophet's ``cross_validation`` and ``performance_metrics``): each
*origin* takes a pilot window of the log, fits it (:func:`fit_traffic`),
projects the horizon (:func:`project`, default settings unless told), simulates
it, and sets the forecast band beside the *realised* cost of the horizon: every
logged request of the horizon priced with the same pricing.  The naive
extrapolations are scored beside it:

- ``naive_per_request``: the pilot's mean cost per request times the horizon's
  actual request count (the spreadsheet, even given the right volume);
- ``naive_per_hour``: the pilot's cost per hour times the horizon's hours.

Scores are the interval score of Gneiting and Raftery (2007) of a central band
of level ``1 - a``: ``(upper - lower) + 2/a (lower - y)`` when the realised ``y``
falls below it, ``+ 2/a (y - upper)`` above it (lower is better: a narrow band
that covers).  A point forecast scores as a band of width 0: ``2/a |y - x|``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from .._validation import ParameterError, check_duration, check_int, check_number
from ..pricing.token import TokenPricing
from .fit import fit_traffic
from .logs import read_log
from .project import billed, project

__all__ = ["Backtest", "backtest", "interval_score"]

#: Keywords of fit_traffic a backtest passes through (the log, its span and the seed are the backtest's).
FIT_KEYS = frozenset({"families", "cap", "bin", "block", "segments", "duplicates", "max_input", "max_output"})
#: Keywords of project a backtest passes through (the horizon and its start are the backtest's).
PROJECT_KEYS = frozenset({"drift", "uncertainty", "bin"})


def interval_score(lower: Any, upper: Any, realised: Any, level: float) -> np.ndarray:
    """Interval score of central bands of ``level`` (Gneiting and Raftery 2007); lower is better.

    Examples
    --------
    >>> interval_score([90.0, 90.0], [110.0, 110.0], [100.0, 120.0], 0.9).tolist()
    [20.0, 220.0]
    """
    lower, upper, y = (np.asarray(v, dtype=float) for v in (lower, upper, realised))
    a = 1.0 - level
    return (upper - lower) + 2.0 / a * (np.maximum(lower - y, 0.0) + np.maximum(y - upper, 0.0))


@dataclasses.dataclass(frozen=True, eq=False)
class Backtest:
    """The result of :func:`backtest`.

    Attributes
    ----------
    dataset : xarray.Dataset
        Dims ``origin`` and ``level``.  Per origin: ``pilot_start``,
        ``pilot_end``, ``horizon_hours``, ``pilot_requests``, ``requests``
        (the horizon's, realised), ``realised`` (USD), ``median`` (USD),
        ``requests_median``, ``cost_per_request_median``, the naive forecasts
        ``naive_per_request`` and ``naive_per_hour`` (USD), ``status`` ("ok" or
        why the origin has no forecast).  Per origin and level: ``lower`` and
        ``upper`` (USD), ``covered``, ``interval_score`` and the naive forecasts'
        scores ``naive_per_request_score`` and ``naive_per_hour_score``, and the
        bands of the volume (``requests_lower``, ``requests_upper``) and of the
        mean cost per request (``cost_per_request_lower``, ``..._upper``).
    """

    dataset: xr.Dataset

    @property
    def ok(self) -> xr.Dataset:
        """The origins with a forecast."""
        return self.dataset.where(self.dataset["status"] == "ok", drop=True)

    def metrics(self) -> pd.DataFrame:
        """Per level: origins scored, coverage of the cost, of the volume and of the mean
        cost per request, median band width over realised, and the mean interval score
        over realised of the forecast and of each naive extrapolation.

        Examples
        --------
        See :func:`backtest`.
        """
        ds = self.ok
        y = ds["realised"]
        n = int(ds.sizes["origin"])

        def over_origins(x: xr.DataArray, how: str = "mean") -> float:
            """The mean (or median) over the origins scored; NaN, without numpy's warning, where none is."""
            return float(getattr(x, how)()) if n else math.nan

        rows = []
        for level in ds["level"].to_numpy():
            d = ds.sel(level=level)
            per_request = ds["realised"] / ds["requests"]
            rows.append({
                "level": float(level), "origins": n, "covered": int(d["covered"].sum()),
                "coverage": over_origins(d["covered"]),
                "volume_coverage": over_origins((d["requests_lower"] <= ds["requests"])
                                                & (ds["requests"] <= d["requests_upper"])),
                "cost_per_request_coverage": over_origins((d["cost_per_request_lower"] <= per_request)
                                                          & (per_request <= d["cost_per_request_upper"])),
                "median_width": over_origins((d["upper"] - d["lower"]) / y, "median"),
                "interval_score": over_origins(d["interval_score"] / y),
                "naive_per_request_score": over_origins(d["naive_per_request_score"] / y),
                "naive_per_hour_score": over_origins(d["naive_per_hour_score"] / y),
            })
        return pd.DataFrame(rows).set_index("level")

    def drift(self) -> float:
        """The drift the origins show: the sd of the log level that, added to the forecasts' own
        spread, accounts for how far the realised costs fell from the medians.

        ``sqrt(max(0, mean(e**2) - mean(s**2)))`` over the origins with a forecast, with ``e =
        log(realised / median)`` and ``s`` the forecast's own sd of the log cost (the widest band's
        log-width over its normal width, ``2 z``).  Pass it as ``project(fit, drift=...)`` for a
        forecast whose pilot is as short, relative to its horizon, as these.  It is fitted on these
        origins: a backtest with it is no longer out of sample.

        Examples
        --------
        See :func:`backtest`.
        """
        ds = self.ok
        if not ds.sizes["origin"]:
            raise ValueError("backtest: no origin has a forecast, so no drift can be read from it")
        widest = float(ds["level"].max())
        d = ds.sel(level=widest)
        z = float(stats.norm.isf((1.0 - widest) / 2.0))
        own = (np.log(d["upper"]) - np.log(d["lower"])).to_numpy() / (2.0 * z)
        err = np.log(ds["realised"] / ds["median"]).to_numpy()
        return float(math.sqrt(max(0.0, np.mean(err**2) - np.mean(own**2))))

    def __str__(self) -> str:
        ds = self.dataset
        failed = int((ds["status"] != "ok").sum())
        with pd.option_context("display.width", 160, "display.max_columns", 20, "display.precision", 3):
            head = (f"backtest: {ds.sizes['origin']} origins ({failed} without a forecast), "
                    f"{ds.attrs['trials']} trials each; widths and interval scores relative to the realised cost")
            return f"{head}\n{self.metrics()}"


def _pilot_length(pilot: Any, span: pd.Timedelta) -> pd.Timedelta:
    if isinstance(pilot, (int, float)) and not isinstance(pilot, bool):
        frac = check_number("pilot", pilot, low=0.0, high=1.0, low_open=True, high_open=True)
        return pd.Timedelta(int(span.value * frac), unit="ns")
    length = check_duration("pilot", pilot)
    if length >= span:
        raise ParameterError("pilot", f"must be shorter than the log's span ({span})", pilot)
    return length


def _horizon_length(horizon: Any, span: pd.Timedelta, pilot: pd.Timedelta) -> pd.Timedelta | None:
    """None for ``"rest"``; else the horizon's length (the pilot and it fit in the log)."""
    if isinstance(horizon, str) and horizon == "rest":
        return None
    length = check_duration("horizon", horizon)
    if pilot + length > span:
        raise ParameterError("horizon", f"must leave room for the pilot ({pilot}) in the log's span ({span}): "
                             "at most the span minus the pilot, or 'rest'", horizon)
    return length


def _origins(origins: Any, start: pd.Timestamp, room: pd.Timedelta) -> list[pd.Timestamp]:
    """Pilot starts: ``n`` evenly from the log's start to ``start + room``, or the given date-times."""
    if isinstance(origins, (int, np.integer)) and not isinstance(origins, bool):
        n = check_int("origins", origins, low=1)
        step = room / (n - 1) if n > 1 else pd.Timedelta(0)
        return [start + step * k for k in range(n)]
    if isinstance(origins, Sequence) and not isinstance(origins, str) and len(origins) > 0:
        out = []
        for i, item in enumerate(origins):
            try:
                t = pd.Timestamp(item)
            except (TypeError, ValueError):
                raise ParameterError(f"origins[{i}]", "must be a date-time", item) from None
            t = t.tz_convert("UTC").tz_localize(None) if t.tzinfo is not None else t
            if not start <= t <= start + room:
                raise ParameterError(f"origins[{i}]", f"must lie in [{start}, {start + room}] (a pilot and its "
                                     "horizon inside the log)", item)
            out.append(t)
        return out
    raise ParameterError("origins", "must be a number of origins >= 1 or a non-empty list of date-times", origins)


def _options(name: str, given: Any, allowed: frozenset[str]) -> dict[str, Any]:
    if given is None:
        return {}
    if not isinstance(given, Mapping):
        raise ParameterError(name, "must be a mapping of keyword -> value", given)
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise ParameterError(name, f"may set only {sorted(allowed)}", unknown)
    return dict(given)


def backtest(
    log: Any,
    pricing: TokenPricing,
    *,
    pilot: float | str | pd.Timedelta = 0.1,
    origins: int | Sequence[Any] = 10,
    horizon: str | pd.Timedelta = "rest",
    trials: int = 200,
    seed: int = 0,
    levels: Sequence[float] = (0.5, 0.9),
    columns: Mapping[str, str] | str | None = None,
    unit: str | None = None,
    block_tokens: int | None = None,
    cache_ttl: str | pd.Timedelta | None = None,
    fit_options: Mapping[str, Any] | None = None,
    project_options: Mapping[str, Any] | None = None,
) -> Backtest:
    """Backtest the forecast on a log: fit pilot windows, forecast the horizon, score against the log.

    Parameters
    ----------
    log : pandas.DataFrame, str, os.PathLike, mapping or TrafficLog
        The log (see :func:`read_log`).
    pricing : TokenPricing
        Per-token pricing: of the forecast, and of every logged request of the
        horizon (the realised cost).
    pilot : float or duration, default 0.1
        The pilot window: a fraction of the log's span in (0, 1), or a duration.
    origins : int or sequence of date-times, default 10
        Pilot windows: ``n`` spread evenly from the log's start to the latest
        start that leaves room for the horizon (with ``pilot=0.1``, ten origins
        are the log's ten tenths), or the pilots' start times.
    horizon : "rest" or duration, default "rest"
        What is forecast: the whole log outside the pilot (``"rest"``, simulated
        as one stretch of that length after the pilot), or the window of this
        length right after the pilot.
    trials : int, default 200
        Trials per origin.
    seed : int, default 0
        Seed of the fits' bootstraps and of the simulations.
    levels : sequence of float, default (0.5, 0.9)
        Central band levels scored, each in (0, 1).
    columns, unit, block_tokens, cache_ttl
        As in :func:`read_log` (``columns`` a mapping or a preset name such as
        ``"mooncake"``; ``block_tokens`` for a prefix-hash column).
    fit_options : mapping, optional
        Keywords of :func:`fit_traffic`: ``families``, ``cap``, ``bin``,
        ``block``, ``segments``, ``duplicates``, ``max_input``,
        ``max_output`` (default: its defaults).
    project_options : mapping, optional
        Keywords of :func:`project`: ``drift``, ``uncertainty``, ``bin``
        (default: its defaults).

    Returns
    -------
    Backtest
        ``.dataset`` (per origin and level), ``.metrics()`` (the summary),
        ``.drift()`` (the drift the origins show); draw it with
        :func:`costsim.plot.plot_backtest`.

    Examples
    --------
    >>> import numpy as np, costsim as cs
    >>> rng = np.random.default_rng(0)
    >>> n = 6000
    >>> log = {"timestamp": np.sort(rng.uniform(0, 6 * 3600, n)),
    ...        "input_tokens": np.round(rng.lognormal(6.0, 1.0, n)),
    ...        "output_tokens": np.round(rng.lognormal(4.0, 0.7, n))}
    >>> bt = cs.backtest(log, cs.TokenPricing(input=3.0, output=15.0), origins=3, trials=50,
    ...                  fit_options={"families": ["LogNormal"], "segments": 1})
    >>> bt.dataset.sizes["origin"], list(bt.metrics().index)
    (3, [0.5, 0.9])
    >>> bt.drift() >= 0  # the sd of the log level the realised costs show beyond the bands
    True
    """
    from ..run import simulate

    if not isinstance(pricing, TokenPricing):
        raise TypeError(f"pricing must be a costsim.TokenPricing (priced per request); got {type(pricing).__name__}")
    trials = check_int("trials", trials, low=2)
    seed = check_int("seed", seed, low=0)
    if isinstance(levels, (str, bytes)) or not isinstance(levels, Sequence) or not levels:
        raise ParameterError("levels", "must be a non-empty sequence of numbers in (0, 1)", levels)
    levels = sorted({check_number(f"levels[{i}]", v, low=0.0, high=1.0, low_open=True, high_open=True)
                     for i, v in enumerate(levels)})
    fit_kw = _options("fit_options", fit_options, FIT_KEYS)
    project_kw = _options("project_options", project_options, PROJECT_KEYS)
    log = read_log(log, columns=columns, duplicates=fit_kw.get("duplicates", "warn"), unit=unit,
                   block_tokens=block_tokens, cache_ttl=cache_ttl)
    start, span = log.start, log.span
    pilot_len = _pilot_length(pilot, span)
    horizon_len = _horizon_length(horizon, span, pilot_len)
    room = span - pilot_len - (horizon_len if horizon_len is not None else pd.Timedelta(0))
    starts = _origins(origins, start, room)
    cost = billed(pricing, log)
    end = start + span
    q = np.array([[0.5 - lv / 2, 0.5 + lv / 2] for lv in levels])

    records = []
    for a in starts:
        b = a + pilot_len
        in_pilot = (log.timestamp >= a.to_datetime64()) & (log.timestamp < b.to_datetime64())
        if horizon_len is None:
            in_horizon, hours = ~in_pilot, (span - pilot_len) / pd.Timedelta(hours=1)
        else:
            in_horizon = (log.timestamp >= b.to_datetime64()) & (log.timestamp < (b + horizon_len).to_datetime64())
            hours = horizon_len / pd.Timedelta(hours=1)
        rec: dict[str, Any] = {"pilot_start": a, "pilot_end": b, "horizon_hours": hours,
                               "pilot_requests": int(in_pilot.sum()), "requests": int(in_horizon.sum()),
                               "realised": float(cost[in_horizon].sum())}
        pilot_cost = float(cost[in_pilot].sum())
        rec["naive_per_request"] = pilot_cost / max(rec["pilot_requests"], 1) * rec["requests"]
        rec["naive_per_hour"] = pilot_cost / (pilot_len / pd.Timedelta(hours=1)) * hours
        try:
            fit = fit_traffic(log.select(in_pilot), span=(a, b), seed=seed, **fit_kw)
            length = span - pilot_len if horizon_len is None else horizon_len
            traffic = project(fit, horizon=length, start=b, **project_kw)
            ds = simulate(traffic, {"forecast": pricing}, trials=trials, seed=seed, progress=False)
        except (ValueError, TypeError) as err:  # a pilot too small or too odd to fit: say why, score the rest
            rec["status"] = f"no forecast: {err}"
            records.append((rec, None))
            continue
        rec["status"] = "ok"
        total = ds["cost"].sel(option="forecast").sum(("time", "qclass")).to_numpy()
        # a logged row is one model call: a session class's query is a run of several
        requests = ds["calls"].sum(("time", "qclass")).to_numpy().astype(float)
        per_request = total / np.maximum(requests, 1.0)
        bands = {"": np.quantile(total, q), "requests_": np.quantile(requests, q),
                 "cost_per_request_": np.quantile(per_request, q)}
        rec.update(median=float(np.median(total)), requests_median=float(np.median(requests)),
                   cost_per_request_median=float(np.median(per_request)))
        records.append((rec, bands))
    return Backtest(_dataset(records, levels, trials, seed, end))


def _dataset(records: list, levels: list[float], trials: int, seed: int, end: pd.Timestamp) -> xr.Dataset:
    n, k = len(records), len(levels)
    per_origin = {name: np.full(n, np.nan) for name in ("median", "requests_median", "cost_per_request_median")}
    per_level = {f"{p}{side}": np.full((n, k), np.nan) for p in ("", "requests_", "cost_per_request_")
                 for side in ("lower", "upper")}
    for i, (rec, bands) in enumerate(records):
        if bands is None:
            continue
        for name, values in per_origin.items():
            values[i] = rec[name]
        for p, band in bands.items():
            per_level[f"{p}lower"][i], per_level[f"{p}upper"][i] = band[:, 0], band[:, 1]
    take = {name: np.array([rec[name] for rec, _ in records]) for name in
            ("pilot_start", "pilot_end", "horizon_hours", "pilot_requests", "requests", "realised",
             "naive_per_request", "naive_per_hour", "status")}
    take["pilot_start"] = take["pilot_start"].astype("datetime64[ns]")
    take["pilot_end"] = take["pilot_end"].astype("datetime64[ns]")
    y = take["realised"][:, None]
    lower, upper = per_level["lower"], per_level["upper"]
    covered = (lower <= y) & (y <= upper)
    scores = np.column_stack([interval_score(lower[:, j], upper[:, j], y[:, 0], lv) for j, lv in enumerate(levels)])
    naive = {name: np.column_stack([interval_score(take[name], take[name], y[:, 0], lv) for lv in levels])
             for name in ("naive_per_request", "naive_per_hour")}
    units = {"realised": "USD", "median": "USD", "naive_per_request": "USD", "naive_per_hour": "USD",
             "lower": "USD", "upper": "USD", "interval_score": "USD", "requests": "requests",
             "horizon_hours": "h", "cost_per_request_lower": "USD", "cost_per_request_upper": "USD"}
    data = {name: ("origin", v) for name, v in {**take, **per_origin}.items()}
    data.update({name: (("origin", "level"), v) for name, v in per_level.items()})
    data.update(covered=(("origin", "level"), covered), interval_score=(("origin", "level"), scores),
                naive_per_request_score=(("origin", "level"), naive["naive_per_request"]),
                naive_per_hour_score=(("origin", "level"), naive["naive_per_hour"]))
    ds = xr.Dataset(data, coords={"origin": np.arange(n), "level": np.asarray(levels)},
                    attrs={"trials": trials, "seed": seed, "log_end": str(end)})
    for name, u in units.items():
        ds[name].attrs["units"] = u
    return ds
