"""Acceptance on the Azure LLM inference traces (2023, code and conversation; the copies in costsim.datasets).

1. Fitted per-request cost quantiles (p50, p90, p99 at $3/M input, $15/M output)
   within 10 % of the trace's own; KS distance of the pooled token fits < 0.05.
2. Pilot: fit on the first 10 % of the span, project to the remaining 90 %
   with uncertainty: the realised cost lies inside the simulated 5-95 % band.
3. Code trace: index of dispersion of per-minute counts and share of empty
   minutes of the simulated fit within a factor 1.5 of the trace's.
"""

import functools

import numpy as np
import pytest

import costsim as cs
from costsim.calibrate import qq_points, read_log
from costsim.datasets import load_azure_trace

API = cs.TokenPricing(input=3.0, output=15.0)

pytestmark = pytest.mark.slow


def _log(name):
    return read_log(load_azure_trace(name))


@functools.cache
def _fit(name):
    return cs.fit_traffic(_log(name))


@pytest.fixture(scope="module", params=["code", "conv"])
def trace(request):
    return request.param, _log(request.param), _fit(request.param)


def test_cost_quantiles_and_ks(trace):
    name, log, fit = trace
    real = np.asarray(cs.price(API, log.input_tokens, log.output_tokens))
    s = fit.sample(400_000, rng=1)  # quantile noise of 400k draws is far below 1 %
    sim = np.asarray(cs.price(API, s.input_tokens.to_numpy(), s.output_tokens.to_numpy()))
    q = [0.5, 0.9, 0.99]
    rel = np.quantile(sim, q) / np.quantile(real, q) - 1
    assert np.all(np.abs(rel) < 0.10), f"{name}: p50/p90/p99 off by {np.round(rel, 3)}"
    for column in ("input_tokens", "output_tokens"):
        assert qq_points(fit, column).attrs["ks"] < 0.05


def test_code_on_off_reproduced():
    fit = _fit("code")
    counts = fit.arrivals.counts
    trace_index, trace_empty = counts.var(ddof=1) / counts.mean(), np.mean(counts == 0)
    ds = cs.simulate(cs.project(fit, uncertainty=False), {"api": API}, trials=100, seed=1)
    n = ds["requests"].sum("qclass").to_numpy()
    index = np.median(n.var(axis=1, ddof=1) / n.mean(axis=1))
    empty = np.median(np.mean(n == 0, axis=1))
    assert 1 / 1.5 < index / trace_index < 1.5
    assert 1 / 1.5 < empty / trace_empty < 1.5


@pytest.mark.parametrize("name", ["code", "conv"])
def test_pilot_band_contains_realised_cost(name):
    log = _log(name)
    cut = log.start + log.span / 10
    pilot = cs.fit_traffic(log.between(end=cut), span=(log.start, cut))
    rest = log.between(start=cut)
    realised = float(np.sum(cs.price(API, rest.input_tokens, rest.output_tokens)))
    traffic = cs.project(pilot, horizon=log.span - log.span / 10, start=cut)
    gap = cs.pilot_gap(pilot, API, traffic=traffic, trials=400, seed=3, quantiles=(0.05, 0.5, 0.95))
    lo, hi = gap.quantiles[0.05], gap.quantiles[0.95]
    assert lo <= realised <= hi, f"{name}: realised {realised:.2f} outside [{lo:.2f}, {hi:.2f}]"
    # the band's expected count of requests is the horizon's: 90 % of the log, within the pilot's error
    assert 0.5 < gap.requests / len(rest) < 2.0
