"""fit_traffic, project, pilot_gap and to_scenario on synthetic logs with known truth."""

import math

import numpy as np
import pandas as pd
import pytest

import costsim as cs
from costsim._model import draw_uncertain, resolve, uncertain_parameters
from costsim.calibrate import find_segments
from costsim.calibrate.segments import dependence_distance
from costsim.scenario import dumps_scenario, load_scenario, save_scenario

API = cs.TokenPricing(input=3.0, output=15.0)


def _log(n=3000, seconds=3600.0, seed=0):
    rng = np.random.default_rng(seed)
    kind = rng.choice(["chat", "rag"], size=n, p=[0.7, 0.3])
    rag = kind == "rag"
    return pd.DataFrame({
        "timestamp": np.sort(rng.uniform(0, seconds, n)),
        "input_tokens": np.round(np.where(rag, rng.lognormal(8.0, 0.4, n), rng.lognormal(6.0, 0.8, n))),
        "output_tokens": np.round(rng.lognormal(5.0, 0.6, n)),
        "qclass": kind,
    })


@pytest.fixture(scope="module")
def fit():
    return cs.fit_traffic(_log(), families=["LogNormal", "Gamma"])


def test_classes_shares_and_tokens(fit):
    assert sorted(fit.classes) == ["chat", "rag"]
    chat = fit.classes["chat"]
    # a share of 0.7 from 3000 rows: sd sqrt(0.21 / 3000) = 0.0084
    assert abs(chat.share - 0.7) < 4 * 0.0084
    assert chat.input_tokens.family == "LogNormal"
    # mu of 2100 rows with sigma 0.8: sd 0.017
    assert abs(chat.input_tokens.body.mu - 6.0) < 4 * 0.8 / math.sqrt(2100)
    assert fit.report.tokens.loc[("rag", "input_tokens"), "ks"] < 0.05
    assert set(fit.report.arrivals.index) == {"(all)", "chat", "rag"}
    assert "Token distributions" in str(fit.report)


def test_one_class_report_has_one_arrivals_row_and_a_readable_repr():
    log = _log().drop(columns="qclass").assign(timestamp=lambda d: d["timestamp"] * 0.244)  # 14 min 38 s
    one = cs.fit_traffic(log, families=["LogNormal"])
    assert one.report.arrivals.index.tolist() == ["all"]  # no "(all)" twin of the only class
    assert repr(one) == (f"TrafficFit(3,000 rows, 1 class(es), span {cs._format.duration_text(one.span)}, "
                         f"{one.arrivals.volume:,.0f} requests/day)")
    assert str(one.span).startswith("0 days 00:14:") and " span 14 min " in repr(one)


def test_point_traffic_has_no_uncertainty(fit):
    t = fit.traffic
    assert uncertain_parameters(t) == {}
    assert t.class_names == tuple(fit.classes)
    # the horizon is the log's span in whole bins of about a minute
    assert abs(t.arrivals.n_bins - 60) <= 1


def test_project_carries_uncertainty(fit):
    t = cs.project(fit, horizon="30D", bin="1D")
    paths = uncertain_parameters(t)
    assert isinstance(paths["arrivals.volume"], cs.Joint)  # drawn jointly with the shares and token locations
    assert any(p.endswith("share") for p in paths)
    assert any(".input_tokens." in p and p.endswith("mu") for p in paths)
    # a 30-day horizon from a 1-hour pilot: the future-window term (1 + span / horizon) is negligible
    assert t.arrivals.n_bins == 30


def test_project_assumptions(fit):
    t = cs.project(fit, volume=cs.Uniform(1e5, 2e5), growth=0.1, mix={"rag": 0.5}, horizon="7D", bin="1h",
                   uncertainty=False)
    assert t.arrivals.volume == cs.Uniform(1e5, 2e5) and t.arrivals.growth == 0.1
    assert t.classes[t.class_names.index("rag")].share == 0.5
    logistic = cs.project(fit, growth=cs.LogisticGrowth(ceiling=3.0, rate=1.0), horizon="7D", bin="1h")
    assert any(isinstance(m, cs.LogisticGrowth) for m in logistic.modulation)
    with pytest.raises(ValueError, match=r"mix: unknown class\(es\) \['agent'\]"):
        cs.project(fit, mix={"agent": 0.2})


def test_token_uncertainty_matches_bootstrap_variance(fit):
    # the joint scenarios give the log of each class's mean input the variance of the class's own
    # block bootstrap (ClassFit.input_log_var, drawn independently); drift off, a horizon so long
    # that the future-window term (1 + span / horizon) vanishes
    t = cs.project(fit, horizon="3650D", bin="1D", drift=0)
    chat = t.classes[t.class_names.index("chat")]
    paths = uncertain_parameters(chat)
    draws = draw_uncertain(paths, seed=1, trials=np.arange(4000))
    means = np.array([resolve(chat.input_tokens, {p.removeprefix("input_tokens."): float(v[i])
                                                  for p, v in draws.items() if p.startswith("input_tokens.")}).mean()
                      for i in range(4000)])
    # 1000 joint scenarios against 2000 bootstrap resamples: relative sds sqrt(2/1000) and sqrt(2/2000),
    # 0.055 together; 4 of them
    assert abs(np.var(np.log(means)) / fit.classes["chat"].input_log_var - 1) < 4 * 0.055


def test_pilot_gap_on_a_stationary_log(fit):
    gap = cs.pilot_gap(fit, API, traffic=cs.project(fit, horizon="1D", bin="1h"), trials=100, seed=2)
    assert gap.quantiles[0.05] < gap.naive < gap.quantiles[0.95]
    # 1 day at the pilot's ~3000 per hour
    assert abs(gap.requests / (24 * 3000) - 1) < 0.05
    assert "naive pilot extrapolation" in str(gap)
    with pytest.raises(TypeError, match="TokenPricing"):
        cs.pilot_gap(fit, "gpt-4o")


def test_the_naive_extrapolation_bills_the_pilot_at_its_times():
    # a pilot run at night, under rates that halve at night: the pilot paid the off-peak rates, but
    # pilot_gap priced its requests at peak ones (backtest billed them at their times already)
    nights = cs.TokenPricing(input=3.0, output=15.0, off_peak=cs.OffPeak(
        [cs.OffPeakWindow((1, 2, 3, 4, 5, 6, 7), "00:00", "06:00")], cs.RateCard(1.5, 7.5)))
    log = _log(n=600, seconds=3600.0).assign(
        timestamp=lambda d: pd.Timestamp("2026-01-05T01:00") + pd.to_timedelta(d["timestamp"], unit="s"))
    fit = cs.fit_traffic(log, families=["LogNormal"], segments=1)
    gap = cs.pilot_gap(fit, nights, traffic=cs.project(fit, horizon="2h", bin="1h"), trials=4, seed=1)
    paid = (log["input_tokens"] * 1.5 + log["output_tokens"] * 7.5).mean() / 1e6
    assert gap.pilot_cost_per_request == pytest.approx(paid, rel=1e-12)


def test_scenario_file_round_trip(fit, tmp_path):
    s = cs.to_scenario(fit, {"api": API}, horizon="30D", bin="1D", trials=10, seed=3)
    path = tmp_path / "fitted.toml"
    save_scenario(s, path)
    assert load_scenario(path) == s
    assert s.run().sizes["trial"] == 10


@pytest.mark.parametrize("horizon, bin", [("30D", "1h"), ("2592000s", "3600s"), ("14D", "15min"), ("36h", "90s")])
def test_scenario_file_writes_durations_short(fit, tmp_path, horizon, bin):
    s = cs.to_scenario(fit, {"api": API}, horizon=horizon, bin=bin, trials=2, seed=3)
    text = dumps_scenario(s)
    short_horizon, short_bin = (cs._format.duration_alias(t) for t in (horizon, bin))
    assert f'horizon = "{short_horizon}"' in text and f'bin = "{short_bin}"' in text
    assert short_horizon in ("30D", "14D", "36h") and short_bin in ("1h", "15min", "90s")
    path = tmp_path / "fitted.toml"
    save_scenario(s, path)
    assert load_scenario(path) == s


def test_projected_start_is_aligned_to_the_bin(fit):
    end = fit.start + fit.span
    hourly = pd.Timestamp(cs.project(fit, horizon="30D", bin="1h").arrivals.start)
    assert hourly == end.ceil("h") and hourly - end < pd.Timedelta("1h")
    assert pd.Timestamp(cs.project(fit, horizon="30D", bin="1D").arrivals.start) == end.ceil("D")
    odd = pd.Timestamp(cs.project(fit, horizon="37000s", bin="37s").arrivals.start)  # 37 s does not tile a day
    assert odd == end.ceil("s")
    given = pd.Timestamp(cs.project(fit, horizon="30D", bin="1h", start="2026-03-01T10:20:30").arrivals.start)
    assert given == pd.Timestamp("2026-03-01T10:20:30")


def test_segments_carry_dependence():
    rng = np.random.default_rng(4)
    n = 3000
    template = rng.random(n) < 0.4  # a prompt template with long answers, the rest short answers
    x = np.round(np.where(template, rng.lognormal(7.0, 0.05, n), rng.lognormal(6.0, 1.0, n)))
    y = np.round(np.where(template, rng.lognormal(6.0, 0.05, n), rng.lognormal(3.5, 0.6, n)))
    labels = find_segments(x, y)
    assert labels.max() >= 1
    assert dependence_distance(x, y, labels) < 0.05 + 1 / math.sqrt(n)
    assert dependence_distance(x, y, np.zeros(n, dtype=int)) > 0.1
    fit = cs.fit_traffic({"timestamp": np.arange(n, dtype=float), "input_tokens": x, "output_tokens": y},
                         families=["LogNormal", "Mixture2"])
    assert list(fit.classes) == [f"all/{j + 1}" for j in range(labels.max() + 1)]
    # the per-request cost quantiles follow the joint distribution, not the product of marginals
    real = np.asarray(cs.price(API, x, y))
    s = fit.sample(200_000, rng=5)
    sim = np.asarray(cs.price(API, s.input_tokens.to_numpy(), s.output_tokens.to_numpy()))
    for q in (0.5, 0.9, 0.99):
        assert abs(np.quantile(sim, q) / np.quantile(real, q) - 1) < 0.1


def test_bad_span():
    log = _log().assign(timestamp=np.r_[-5.0, -4.0, np.linspace(0, 3600, 2998)])
    with pytest.raises(ValueError, match="2 of 3000 rows lie outside"):
        cs.fit_traffic(log, span=(pd.Timestamp(0, unit="s"), pd.Timestamp(3601, unit="s")), families=["LogNormal"])


def test_drift_widens_volume_and_tokens(fit):
    base = cs.project(fit, horizon="2D", bin="1h", drift=0)
    drifting = cs.project(fit, horizon="2D", bin="1h", drift=0.2)
    # the drift's variance adds to the bootstrap's, on the log scale (0.04 from 1000 scenarios: the sample
    # variance of 0.2 z has sd 0.04 sqrt(2 / 1000) = 0.0018, its covariance with the bootstrap part
    # sd 2 * 0.2 * 0.03 / sqrt(1000) = 0.0004)
    growth = np.var(np.log(drifting.arrivals.volume.values)) - np.var(np.log(base.arrivals.volume.values))
    assert abs(growth - 0.04) < 4 * 0.0019
    body_mu = "classes[0].input_tokens.components[0].dist.mu"  # the body's, under the generalized Pareto tail
    mu = uncertain_parameters(drifting)[body_mu]
    assert np.std(mu.values) > np.std(uncertain_parameters(base)[body_mu].values)
    with pytest.raises(ValueError, match=r"drift needs uncertainty=True \(it widens the fit's uncertainty\); got 0\.5"):
        cs.project(fit, drift=0.5, uncertainty=False)


def test_too_few_rows_in_a_class_names_it():
    log = _log(n=600)
    log.loc[log.index[:5], "qclass"] = "tiny"
    with pytest.raises(ValueError, match=r"class 'tiny': input_tokens: too few rows to fit LogNormal .* got 5"):
        cs.fit_traffic(log, families=["LogNormal"])


def test_report_has_one_arrivals_row_per_log_class_not_per_segment():
    rng = np.random.default_rng(4)
    n = 3000
    template = rng.random(n) < 0.4  # two segments of one log class
    log = {"timestamp": np.sort(rng.uniform(0, 3600, n)),
           "input_tokens": np.round(np.where(template, rng.lognormal(7.0, 0.05, n), rng.lognormal(6.0, 1.0, n))),
           "output_tokens": np.round(np.where(template, rng.lognormal(6.0, 0.05, n), rng.lognormal(3.5, 0.6, n)))}
    fit = cs.fit_traffic(log, families=["LogNormal"])
    assert len(fit.classes) >= 2  # segments
    assert fit.report.arrivals.index.tolist() == ["all"]
