"""costsim.backtest: bands against what the log billed, the naive extrapolations, the scores."""

import warnings

import numpy as np
import pandas as pd
import pytest

import costsim as cs
from costsim._validation import ParameterError
from costsim.calibrate import interval_score

API = cs.TokenPricing(input=3.0, output=15.0)
FAST = {"families": ["LogNormal"], "segments": 1}


def _stationary(n=4000, hours=4.0, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"timestamp": np.sort(rng.uniform(0, hours * 3600, n)),
                         "input_tokens": np.round(rng.lognormal(6.0, 1.0, n)),
                         "output_tokens": np.round(rng.lognormal(4.0, 0.7, n))})


@pytest.fixture(scope="module")
def stationary():
    log = _stationary()
    return log, cs.backtest(log, API, origins=10, trials=100, fit_options=FAST)


def test_interval_score_by_hand():
    # inside: the width; below by 10 at level 0.9: width + 2 / 0.1 * 10
    assert interval_score(90.0, 110.0, 100.0, 0.9) == pytest.approx(20.0)
    assert interval_score(90.0, 110.0, 80.0, 0.9) == pytest.approx(20.0 + 200.0)
    assert interval_score(90.0, 110.0, 115.0, 0.5) == pytest.approx(20.0 + 4 * 5.0)
    # a point forecast: 2 / a times its error
    assert interval_score(100.0, 100.0, 90.0, 0.9) == pytest.approx(200.0)


def test_realised_and_naive_are_the_log_billed(stationary):
    log, bt = stationary
    ds = bt.dataset
    cost = (3.0 * log["input_tokens"] + 15.0 * log["output_tokens"]).to_numpy() / 1e6
    t = pd.to_datetime(log["timestamp"], unit="s").to_numpy()
    for i in (0, 4, 9):
        a, b = ds["pilot_start"].values[i], ds["pilot_end"].values[i]
        pilot = (t >= a) & (t < b)
        assert ds["realised"].values[i] == pytest.approx(cost[~pilot].sum(), rel=1e-9)
        assert ds["pilot_requests"].values[i] == pilot.sum() and ds["requests"].values[i] == (~pilot).sum()
        per_request = cost[pilot].mean()
        assert ds["naive_per_request"].values[i] == pytest.approx(per_request * (~pilot).sum(), rel=1e-9)
        hours = (b - a) / np.timedelta64(1, "h")
        assert ds["naive_per_hour"].values[i] == pytest.approx(cost[pilot].sum() / hours * ds["horizon_hours"].values[i],
                                                               rel=1e-9)
    # ten tenths: each pilot a tenth of the span, the horizon the other nine
    assert ds["horizon_hours"].values == pytest.approx(9 * (ds["pilot_end"] - ds["pilot_start"]).values[0]
                                                       / np.timedelta64(1, "h"))
    assert np.all(ds["pilot_start"].values[1:] == ds["pilot_end"].values[:-1])


def test_bands_cover_a_stationary_log(stationary):
    _, bt = stationary
    ds = bt.dataset
    assert bool(np.all(ds["lower"] <= ds["median"])) and bool(np.all(ds["median"] <= ds["upper"]))
    assert bool(np.all(ds["upper"].sel(level=0.5) <= ds["upper"].sel(level=0.9)))
    # a score is at least the band's width, and equal where the band covers
    width = ds["upper"] - ds["lower"]
    assert bool(np.all(ds["interval_score"] >= width - 1e-9))
    assert np.allclose(ds["interval_score"].where(ds["covered"]), width.where(ds["covered"]), equal_nan=True)
    assert "coverage" in str(bt)


def test_bands_cover_at_their_level_on_independent_windows():
    # a stationary log is what the model assumes: twenty non-overlapping (pilot, next window) pairs are
    # independent, so the covered counts are Binomial(20, level); the bounds hold with about 1 %:
    # P(X <= 14 | p=0.9) = 0.011, P(X <= 4 or X >= 16 | p=0.5) = 0.012
    log = _stationary(n=8000, hours=8.0, seed=3)
    bt = cs.backtest(log, API, pilot="12min", horizon="12min", origins=20, trials=100, fit_options=FAST)
    m = bt.metrics()
    assert m.loc[0.9, "origins"] == 20
    assert m.loc[0.9, "covered"] >= 15
    assert 5 <= m.loc[0.5, "covered"] <= 15


def test_window_horizon_and_given_origins():
    log = _stationary()
    start = pd.Timestamp(log["timestamp"].iloc[0], unit="s")
    bt = cs.backtest(log, API, pilot="30min", horizon="1h", origins=[start, start + pd.Timedelta("2h")],
                     trials=50, fit_options=FAST, levels=[0.8])
    ds = bt.dataset
    assert list(ds["level"].values) == [0.8]
    assert ds["horizon_hours"].values.tolist() == [1.0, 1.0]
    t = pd.to_datetime(log["timestamp"], unit="s")
    assert ds["requests"].values[1] == int(((t >= start + pd.Timedelta("2h30min"))
                                            & (t < start + pd.Timedelta("3h30min"))).sum())


def test_a_pilot_too_small_to_fit_is_reported_not_scored():
    log = _stationary()
    t = log["timestamp"].to_numpy()
    sparse = log[(t > 1440) | (t < 1400)]  # 1440 s: the first tenth of the span keeps only a handful of rows
    sparse = sparse[(sparse["timestamp"] >= 1400) | (sparse["timestamp"] < 8)]
    bt = cs.backtest(sparse, API, origins=10, trials=50, fit_options=FAST)
    status = bt.dataset["status"].values
    assert status[0].startswith("no forecast: ") and np.all(status[1:] == "ok")
    assert bt.metrics().loc[0.9, "origins"] == 9
    assert "(1 without a forecast)" in str(bt)



def test_no_origin_with_a_forecast_reads_nan_without_numpy_warnings():
    # every pilot too small to fit: metrics() took means of nothing and leaked numpy's
    # "invalid value encountered in scalar divide" (an error under -W error)
    log = _stationary(n=150, hours=1.0, seed=150)
    bt = cs.backtest(log, API, origins=3, trials=20, fit_options=FAST)
    assert np.all(bt.dataset["status"].values != "ok")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = bt.metrics()
        text = str(bt)
    assert table["origins"].tolist() == [0, 0] and table.drop(columns=["origins", "covered"]).isna().all().all()
    assert "(3 without a forecast)" in text


@pytest.mark.parametrize("kwargs, error", [
    ({"pilot": 0.0}, r"^pilot must be in \(0, 1\); got 0\.0$"),
    ({"pilot": 1.0}, r"^pilot must be in \(0, 1\); got 1\.0$"),
    ({"pilot": "5h"}, r"^pilot must be shorter than the log's span .*; got '5h'$"),
    ({"horizon": "4h"}, r"^horizon must leave room for the pilot .*; got '4h'$"),
    ({"horizon": "soon"}, r"^horizon must be a positive duration"),
    ({"origins": 0}, r"^origins must be >= 1; got 0$"),
    ({"origins": "many"}, r"^origins must be a number of origins >= 1 or a non-empty list of date-times"),
    ({"origins": ["2030-01-01"]}, r"^origins\[0\] must lie in"),
    ({"trials": 1}, r"^trials must be >= 2; got 1$"),
    ({"levels": [0.9, 1.0]}, r"^levels\[1\] must be in \(0, 1\); got 1\.0$"),
    ({"levels": []}, r"^levels must be a non-empty sequence"),
    ({"fit_options": {"seed": 3}}, r"^fit_options may set only \['bin', .*\]; got \['seed'\]$"),
    ({"project_options": {"horizon": "1D"}}, r"^project_options may set only"),
])
def test_arguments_are_checked(kwargs, error):
    with pytest.raises(ParameterError, match=error):
        cs.backtest(_stationary(n=500), API, **kwargs)


def test_pricing_must_be_per_request():
    with pytest.raises(TypeError, match="pricing must be a costsim.TokenPricing"):
        cs.backtest(_stationary(n=500), "gpt-4o")


def test_plot_backtest(stationary, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from costsim.plot import plot_backtest

    _, bt = stationary
    ax = plot_backtest(bt)
    assert ax.get_ylabel() == "forecast / realised cost"
    ax.figure.savefig(tmp_path / "bt.png")
    plt.close(ax.figure)


def test_drift_read_from_the_origins():
    # a log whose level jumps between stretches far beyond what a short pilot shows: the origins' errors give
    # the drift, and a forecast carrying it covers where the default did not (in sample, by construction)
    rng = np.random.default_rng(8)
    parts = []
    for k, z in enumerate(rng.normal(0.0, 0.3, 10)):
        n = rng.poisson(400 * np.exp(z))
        parts.append(pd.DataFrame({"timestamp": np.sort(rng.uniform(1800 * k, 1800 * (k + 1), n)),
                                   "input_tokens": np.round(rng.lognormal(6.0, 1.0, n)),
                                   "output_tokens": np.round(rng.lognormal(4.0, 0.7, n))}))
    log = pd.concat(parts)
    bt = cs.backtest(log, API, origins=10, trials=100, fit_options=FAST)
    drift = bt.drift()
    # each pilot is one stretch: its level is off the rest's by about the stretches' sd, 0.3 (the rest averages
    # nine of them); from 10 origins the estimate is rough
    assert 0.15 < drift < 0.6
    wide = cs.backtest(log, API, origins=10, trials=100, fit_options=FAST, project_options={"drift": drift})
    assert wide.metrics().loc[0.9, "covered"] > bt.metrics().loc[0.9, "covered"]
    assert wide.metrics().loc[0.9, "covered"] >= 8
