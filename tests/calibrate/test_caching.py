"""Prompt caching learned from logs: prefix hashes, sessions, cold start, TTL (issue 13, acceptance 3)."""

import json
import math

import numpy as np
import pandas as pd
import pytest
from _cache_sim import BLOCK, TTL, session_log, steady_hit_share

import costsim as cs
from costsim.calibrate import read_log
from costsim.calibrate.caching import reuse_from_hashes, reuse_from_sessions

FAMILIES = ["LogNormal", "Mixture2"]


def _naive_hits(t, hashes, block, inputs, ttl):
    """Reference: block j hits when the hash was used within ttl and blocks 0..j-1 hit."""
    last, out = {}, []
    for ti, blocks, n_in in zip(t, hashes, inputs):
        k = 0
        while k < len(blocks) and blocks[k] in last and ti - last[blocks[k]] <= ttl:
            k += 1
        out.append(min(k * block, n_in))
        for h in blocks:
            last[h] = ti
    return np.array(out, dtype=float)


@pytest.mark.parametrize("ttl", [math.inf, 30.0, 5.0])
def test_hits_from_hashes_match_the_reference(ttl):
    rng = np.random.default_rng(1)
    n = 400
    t = np.sort(rng.uniform(0, 600, n))
    hashes = [list(rng.integers(0, 4, size=int(rng.integers(0, 6)))) for _ in range(n)]  # few hashes: many hits
    inputs = np.array([len(h) * 16 + int(rng.integers(0, 16)) for h in hashes])
    ts = (t * 1e9).astype(np.int64).view("datetime64[ns]")
    reuse = reuse_from_hashes(ts, hashes, 16, inputs)
    assert np.array_equal(reuse.hits(ttl), _naive_hits(t, hashes, 16, inputs, ttl))


def test_hits_from_sessions():
    t = np.array([0.0, 10.0, 20.0, 400.0, 405.0])
    ts = (t * 1e9).astype(np.int64).view("datetime64[ns]")
    session = np.array(["a", "b", "a", "a", "b"], dtype=object)
    reuse = reuse_from_sessions(ts, session, np.array([100, 50, 180, 300, 40]), np.array([20, 5, 30, 10, 5]))
    # a's second turn re-sends a's first prompt and answer (120 tokens, 20 s later); its third, the second's
    # (210) after 380 s; b's second turn re-sends at most its own 40 tokens
    assert reuse.hits().tolist() == [0.0, 0.0, 120.0, 210.0, 40.0]
    assert reuse.hits(ttl=300.0).tolist() == [0.0, 0.0, 120.0, 0.0, 0.0]


def test_read_log_hashes_csv_and_json_lines(tmp_path):
    frame = session_log(0.5, warm=True, seed=3).drop(columns=["cached_tokens"])
    csv = tmp_path / "log.csv"
    frame.assign(prefix_hashes=[json.dumps(h) for h in frame.prefix_hashes]).to_csv(csv, index=False)
    jsonl = tmp_path / "log.jsonl"
    frame.to_json(jsonl, orient="records", lines=True)
    a = read_log(csv, block_tokens=BLOCK, cache_ttl="300s")
    b = read_log(jsonl, block_tokens=BLOCK, cache_ttl="300s")
    expected = _naive_hits(frame.timestamp.to_numpy(), list(frame.prefix_hashes), BLOCK,
                           frame.input_tokens.to_numpy(), TTL)
    assert np.array_equal(a.cached_tokens, expected) and np.array_equal(b.cached_tokens, expected)
    assert a.prefix_hashes[0] == tuple(frame.prefix_hashes[0]) and a.cache_ttl == 300.0
    assert np.array_equal(a.session, frame.session_id.astype(str).to_numpy())
    with pytest.raises(cs.ParameterError, match="block_tokens must be given with a prefix_hashes column"):
        read_log(jsonl)
    bad = frame.assign(prefix_hashes=[[1] * 100] + list(frame.prefix_hashes[1:]))
    with pytest.raises(ValueError, match=r"a row lists at most ceil\(input_tokens / block_tokens\) hashes"):
        read_log(bad, block_tokens=BLOCK)
    with pytest.raises(ValueError, match="each row must be a list of block hashes"):
        read_log(frame.assign(prefix_hashes="{"), block_tokens=BLOCK)


def _hash_log(hours, seed):
    """The log with hashes only (no provider column): hits are what the log itself shows, from a cold view."""
    return session_log(hours, warm=True, seed=seed).drop(columns=["cached_tokens", "session_id"])


def test_steady_state_from_a_cold_view_within_its_standard_error():
    truth = steady_hit_share()
    fit = cs.fit_traffic(_hash_log(3.0, seed=2), block_tokens=BLOCK, cache_ttl="300s", segments=1,
                         families=FAMILIES)
    c = fit.cache
    assert c.ttl == TTL and c.horizon == TTL
    assert abs(c.steady - truth) < 4 * c.steady_sd + 0.005  # 0.005: the truth's own noise (a 40 h run)
    # a new deployment's cache: empty at age 0, filling to the steady state once the TTL has passed
    assert c.warmup.iloc[0] == 0.0 and np.all(np.diff(c.warmup.to_numpy()) >= 0)
    assert c.warmup.iloc[-1] == pytest.approx(c.steady)
    # the class's cached fraction is the steady state, drawn per trial with its standard error
    klass = fit.classes["all"]
    assert klass.cached_fraction == pytest.approx(c.steady)
    drawn = cs.project(fit).classes[0].cached_fraction
    assert isinstance(drawn, cs.Constant) and isinstance(drawn.value, cs.Beta)
    assert drawn.value.mean() == pytest.approx(c.steady)
    assert math.sqrt(drawn.value.var()) == pytest.approx(klass.cache.sd)
    # a new deployment over one TTL reads less from the cache than over a day
    short = cs.project(fit, horizon="5min", uncertainty=False, cache="warm-up").classes[0].cached_fraction
    long = cs.project(fit, horizon="1D", bin="1h", uncertainty=False, cache="warm-up").classes[0].cached_fraction
    assert short < long < c.steady
    with pytest.raises(cs.ParameterError, match="cache must be 'steady' or 'warm-up'"):
        cs.project(fit, cache="cold")


def test_ttl_estimated_from_the_providers_cached_tokens():
    log = session_log(3.0, warm=True, seed=2).drop(columns=["session_id"])
    c = cs.fit_traffic(log, block_tokens=BLOCK, segments=1, families=FAMILIES).cache
    low, high = c.ttl_bounds
    assert low <= TTL <= high and high - low < 10.0
    assert c.ttl == low


@pytest.mark.slow
def test_acceptance_steady_state_pilot_and_forecast():
    """Acceptance 3: steady state within 0.02 (whole log) and 0.05 (its first 10 %); the forecast
    of the other 90 % with cached pricing covers the realised cost."""
    truth = steady_hit_share()
    hours = 10.0  # the first 10 %: ~1,000 requests, a standard error of ~0.015
    log = session_log(hours, warm=True, seed=1)
    hashes = log.drop(columns=["cached_tokens", "session_id"])
    whole = cs.fit_traffic(hashes, block_tokens=BLOCK, cache_ttl="300s").cache
    cut = 0.1 * hours * 3600
    pilot = cs.fit_traffic(hashes[hashes.timestamp < cut], block_tokens=BLOCK, cache_ttl="300s")
    assert abs(whole.steady - truth) < 0.02 and abs(pilot.cache.steady - truth) < 0.05
    assert pilot.cache.observed < pilot.cache.steady  # the cold view undercounts; the estimate corrects it
    pricing = cs.TokenPricing(input=3.0, output=15.0, cached_input=0.3)
    rest = log[log.timestamp >= cut]
    realised = float(np.sum(cs.price(pricing, rest.input_tokens.to_numpy(), rest.output_tokens.to_numpy(),
                                     cache_read_tokens=rest.cached_tokens.to_numpy())))
    traffic = cs.project(pilot, horizon=pd.Timedelta(seconds=hours * 3600 - cut), bin="10min")
    total = cs.simulate(traffic, {"api": pricing}, trials=200, seed=1)["cost"].sum(("time", "qclass")).to_numpy()
    low, high = np.quantile(total, [0.05, 0.95])
    assert low <= realised <= high
