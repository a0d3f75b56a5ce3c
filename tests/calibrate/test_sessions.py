"""Session classes fitted from a log's session ids (issue 13, caching from logs)."""

import dataclasses
import math

import _cache_sim as cache_sim
import numpy as np
import pandas as pd
import pytest
from _session_sim import (
    FIRST,
    GAP_MEAN,
    OUTPUT,
    USER,
    P,
    five_to_nine_turns,
    lognormal_mean,
    lognormal_sd,
    session_log,
)

import costsim as cs

FAMILIES = ["LogNormal"]
PRICING = cs.TokenPricing(input=3.0, output=15.0, cached_input=0.3)
HOURS = 8.0


def _fit(log, **kwargs):
    return cs.fit_traffic(log, families=FAMILIES, **kwargs)


def test_no_expiry_recovers_the_session_model():
    log = session_log(HOURS, seed=1).drop(columns=["cached_tokens"])  # session ids only
    fit = _fit(log)
    klass = fit.classes["all"]
    s = klass.session
    assert s is not None and s.sessions == log.session_id.nunique() and s.expired == 0.0
    # turns per run: Geometric(P), its standard error from the observed information ~ sqrt(p^2 (1 - p) / runs)
    p_sd = s.turns_fit.p_sd
    assert p_sd == pytest.approx(math.sqrt(P**2 * (1 - P) / (s.runs_fitted - s.censored)), rel=0.1)
    assert s.turns is s.turns_fit.geometric and s.turns_fit.test > 0.01 and abs(s.turns.p - P) < 4 * p_sd
    assert s.turns_sd == pytest.approx(p_sd / s.turns.p**2)  # the mean's, by the delta method
    # the mean first prompt and new user tokens, within 4 standard errors of a mean of that many draws
    first_se = lognormal_sd(*FIRST) / math.sqrt(s.first_prompt.n)
    assert abs(s.first_prompt.distribution.mean() - lognormal_mean(*FIRST)) < 4 * first_se
    user_se = lognormal_sd(*USER) / math.sqrt(s.user_tokens.n)
    assert abs(s.user_tokens.distribution.mean() - (1 + lognormal_mean(*USER))) < 4 * user_se
    out_se = lognormal_sd(*OUTPUT) / math.sqrt(len(log))
    assert abs(klass.output_tokens.distribution.mean() - lognormal_mean(*OUTPUT)) < 4 * out_se
    assert s.gap_median == pytest.approx(GAP_MEAN * math.log(2), rel=0.1)
    # the projected class is costsim's session model; a query is a run of turns
    q = cs.project(fit, uncertainty=False).classes[0]
    assert q.prefix_cache and q.steps == s.turns and q.tool_tokens == s.user_tokens.distribution
    assert fit.queries_per_row == pytest.approx(s.turns.p)
    # the rows cluster by session (overdispersed per minute); the sessions arrive as a Poisson stream, and
    # the projection takes the burstiness of the runs' starts, not the rows'
    assert klass.arrivals.modulation and not s.arrivals.modulation
    assert not cs.project(fit).modulation


def _cluster_se(values, weights, session):
    """Standard error of sum(values) / sum(weights) over independent sessions (delta method)."""
    frame = pd.DataFrame({"v": values, "w": weights, "s": session}).groupby("s").sum()
    ratio = frame.v.sum() / frame.w.sum()
    return ratio, math.sqrt(float(np.sum((frame.v - ratio * frame.w) ** 2))) / frame.w.sum()


@pytest.mark.parametrize(("ttl", "answer_cached"), [(None, True), (120.0, True), (None, False)])
def test_simulated_hits_and_cost_per_request_match_the_log(ttl, answer_cached):
    """A provider that caches the previous prompt and answer, or the prompt alone (the answer is
    read in full once more): the fit says which, and the simulation reads what the log did."""
    log = session_log(HOURS, ttl=ttl, answer_cached=answer_cached, seed=2)
    fit = _fit(log, cache_ttl=None if ttl is None else f"{ttl:g}s")
    s = fit.classes["all"].session
    assert s.prefix_cache == (True if answer_cached else "prompt")
    assert ("prefix_cache='prompt'" in fit.report.cache_note) == (not answer_cached)
    if ttl is not None:  # a pause beyond the TTL opens a new run: runs are Geometric(1 - (1 - P)(1 - e^(-ttl/gap)))
        expired = math.exp(-ttl / GAP_MEAN)
        assert abs(s.expired - expired) < 4 * math.sqrt(expired * (1 - expired) / (len(log) - s.runs))
        assert abs(s.turns.p - (1 - (1 - P) * (1 - expired))) < 4 * s.turns_fit.p_sd
    _assert_simulation_matches(log, cs.project(fit, uncertainty=False, scale=SCALE))


SCALE = 20  # simulated requests per logged one: the simulation's own noise is a twentieth of the log's


def _simulated_total(traffic):
    return cs.simulate(traffic, {"api": PRICING}, trials=1, seed=3).sum(("trial", "time", "qclass"))


def _cost_per_request(log, total):
    """Simulated and logged cost per request (model call), and the standard error of their difference."""
    cost = cs.price(PRICING, log.input_tokens.to_numpy(), log.output_tokens.to_numpy(),
                    cache_read_tokens=log.cached_tokens.to_numpy())
    per_request, per_request_se = _cluster_se(cost, np.ones(len(log)), log.session_id)
    return float(total.cost.sel(option="api") / total.calls), per_request, per_request_se * math.sqrt(1 + 1 / SCALE)


def _assert_simulation_matches(log, traffic):
    """Calls, hit share and cost per request of a simulation of SCALE times the log, within 4 standard
    errors of the log's (sessions independent; the simulation's own noise inflates them)."""
    total = _simulated_total(traffic)
    assert float(total.calls) == pytest.approx(SCALE * len(log), rel=4 / math.sqrt(float(total.requests)))
    hit, hit_se = _cluster_se(log.cached_tokens, log.input_tokens, log.session_id)
    assert abs(float(total.cached_tokens / total.input_tokens) - hit) < 4 * hit_se * math.sqrt(1 + 1 / SCALE)
    simulated, logged, se = _cost_per_request(log, total)
    assert abs(simulated - logged) < 4 * se


def test_turns_that_are_not_geometric_keep_their_spread():
    """Five to nine turns (mean 7, variance 1): a conversation's cost grows with the square of its
    turns, and a Geometric of mean 7 (variance 42) overstates the cost per request; the fit rejects
    it and the simulation matches the log."""
    log = session_log(HOURS, turns=five_to_nine_turns, seed=7)
    fit = _fit(log)
    s = fit.classes["all"].session
    assert isinstance(s.turns, cs.Empirical) and s.turns_fit.test < 1e-6 and "not Geometric" in fit.report.cache_note
    assert abs(s.mean_turns - 7.0) < 4 * s.turns_sd and s.turns.ppf(0.0) >= 5 and s.turns.ppf(1.0) <= 9
    traffic = cs.project(fit, uncertainty=False, scale=SCALE)
    _assert_simulation_matches(log, traffic)
    klass = traffic.classes[0]
    geometric = cs.Traffic([dataclasses.replace(klass, steps=s.turns_fit.geometric)], traffic.arrivals)
    simulated, logged, se = _cost_per_request(log, _simulated_total(geometric))
    assert simulated - logged > 4 * se  # the Geometric's spread: the test above could fail


def test_the_fit_report_has_a_cache_table():
    log = session_log(4.0, ttl=120.0, seed=4)
    report = _fit(log).report  # the TTL bracketed from the provider's cached tokens
    table = report.cache
    assert "learned from the session ids" in report.cache_note and "turns per run" in report.cache_note
    steady = table.loc[("(all)", "hit share, steady state")]
    assert steady.low < steady.estimate < steady.high and steady.sd > 0 and steady.rows == len(log)
    ttl = table.loc[("(all)", "TTL (s)")]
    assert ttl.low <= 120.0 <= ttl.high and ttl.estimate == ttl.low
    turns = table.loc[("all", "turns per run")]
    assert turns.sessions == log.session_id.nunique() and turns.sd > 0
    assert "Prompt cache (learned from the session ids" in str(report)
    plain = _fit(log.drop(columns=["cached_tokens", "session_id"])).report
    assert plain.cache.empty and plain.cache_note.startswith("no cached-tokens, prefix-hash or session column")
    logged = _fit(log.drop(columns=["session_id"])).report
    assert logged.cache.empty and logged.cache_note.startswith("a cached-tokens column only")
    # prefix hashes of prompts (an answer is hashed only once re-sent): the later turns read the previous
    # prompt, not its answer
    hashed = _fit(cache_sim.session_log(1.0, warm=True, seed=3).drop(columns=["cached_tokens"]),
                  block_tokens=cache_sim.BLOCK, cache_ttl="300s")
    assert hashed.report.cache_note.startswith("learned from the prefix hashes")
    assert "nearer the previous prompt alone" in hashed.report.cache_note
    assert hashed.classes["all"].session.prefix_cache == "prompt"
    assert list(hashed.report.cache.index.unique("qclass")) == ["(all)", "all"]


def test_a_log_whose_prompts_shrink_is_not_fitted_as_sessions():
    log = session_log(2.0, seed=5).drop(columns=["cached_tokens"])
    shuffled = log.assign(input_tokens=np.random.default_rng(0).permutation(log.input_tokens.to_numpy()))
    fit = _fit(shuffled)
    assert all(c.session is None for c in fit.classes.values())
    assert "send less than the previous prompt and answer" in fit.report.cache_note
    assert not cs.project(fit, uncertainty=False).classes[0].prefix_cache
    few = _fit(log[log.session_id.isin(log.session_id.unique()[:10])])
    assert few.classes["all"].session is None and "too few for the session model" in few.report.cache_note


def test_volume_of_a_session_fit_counts_requests():
    fit = _fit(session_log(2.0, seed=6))
    p = fit.classes["all"].session.turns.p
    assert cs.project(fit, volume=10_000, uncertainty=False).arrivals.volume == pytest.approx(10_000 * p)
    traffic = cs.project(fit)  # with uncertainty: the volume and token locations drawn jointly
    assert traffic.classes[0].prefix_cache
    with pytest.raises(cs.ParameterError, match="volume must be a number for a fit with session classes"):
        cs.project(fit, volume=cs.Uniform(1e4, 2e4))


@pytest.mark.slow
def test_a_cold_pilot_of_sessions_forecasts_the_rest():
    """The first 10 % of a log (its cache cold: sessions begun before it are cut) forecasts the other 90 %
    with cached pricing: the 90 % band covers the realised cost, and the hit share is the model's."""
    hours = 10.0
    log = session_log(hours, ttl=120.0, seed=7)
    cut = 0.1 * hours * 3600
    pilot = _fit(log[log.timestamp < cut], cache_ttl="120s")
    assert pilot.classes["all"].session is not None
    rest = log[log.timestamp >= cut]
    realised = float(np.sum(cs.price(PRICING, rest.input_tokens.to_numpy(), rest.output_tokens.to_numpy(),
                                     cache_read_tokens=rest.cached_tokens.to_numpy())))
    traffic = cs.project(pilot, horizon=pd.Timedelta(seconds=hours * 3600 - cut), bin="10min")
    ds = cs.simulate(traffic, {"api": PRICING}, trials=200, seed=1)
    low, high = np.quantile(ds["cost"].sum(("time", "qclass")).to_numpy(), [0.05, 0.95])
    assert low <= realised <= high
    hit, hit_se = _cluster_se(rest.cached_tokens, rest.input_tokens, rest.session_id)
    total = ds.sum(("time", "qclass"))
    simulated = total.cached_tokens / total.input_tokens  # per trial
    # the pilot's ~250 runs pin the turns per run (and so the hit share) far less than the rest's sessions
    assert abs(float(simulated.median()) - hit) < 4 * float(simulated.std()) + 4 * hit_se


def test_a_backtest_of_a_session_log_counts_model_calls():
    # a logged row is one model call, a session class's query a run of ~3.3 of them: the forecast's volume
    # (requests_median) must count calls to be compared with the horizon's rows (it was ~0.3x them)
    log = session_log(4.0, seed=8)
    bt = cs.backtest(log, PRICING, pilot=0.25, origins=2, trials=40, seed=0, fit_options={"families": FAMILIES})
    ds = bt.ok
    assert ds.sizes["origin"] == 2
    assert np.all(np.abs(ds["requests_median"] / ds["requests"] - 1) < 0.25)
