"""Acceptance 3 of issue 15: every candidate's numbers, and the quantile and CVaR
objectives, agree with a brute-force evaluation of each candidate through
``costsim.simulate`` with the same seed, to 1e-12 (relative).

The scenario exercises what one kernel run must get right for every candidate:
two classes, uncertain traffic and an uncertain GPU price (drawn per trial by
path), an autoscaled GPU pool with a lag spilling to an API, provisioned units
without a fallback (throttling), a prompt-size router whose threshold is searched
(the kernel runs with the union of the candidates' size edges) and a committed
spend over two calendar months (the second prorated).
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

import costsim as cs
from costsim.decide import cvar, optimize

TRIALS, SEED = 10, 5
SEARCH = {
    "gpu.max_replicas": [1, 3],
    "routed.thresholds": [(1_000,), (4_000,)],
    "ptu.units": [1, 4],
    "commit.monthly_minimum": [0.0, 800.0],
}


def _scenario():
    traffic = cs.Traffic(
        [cs.QueryClass("chat", 0.7, cs.LogNormal(7.0, 1.0), cs.LogNormal(5.0, 0.6)),
         cs.QueryClass("rag", 0.3, cs.LogNormal(8.5, 0.7), cs.LogNormal(5.5, 0.6))],
        cs.Arrivals(volume=cs.Uniform(1_500, 2_500), horizon="40D", bin="2h", overdispersion=0.3,
                    growth=cs.Normal(0.1, 0.05)),
    )
    options = {
        "api": cs.TokenPricing(input=3.0, output=15.0),
        "gpu": cs.SelfHostedGPU(gpu_hour_price=cs.Uniform(0.2, 0.4), prefill_tokens_per_s=2_000,
                                decode_tokens_per_s=3, max_replicas=2, scale_lag="2h", fallback="api"),
        "ptu": cs.ProvisionedCapacity(units=2, price_per_unit_hour=0.3, tokens_per_minute=5_000),
        "routed": cs.PromptRouter(thresholds=(2_000,), options=("gpu", "ptu")),
        "commit": cs.CommittedSpend("routed", monthly_minimum=100.0),
        "unrelated": cs.TokenPricing(input=1.0, output=2.0),  # not used by "commit": not simulated by optimize
    }
    return traffic, options


def _candidate(options, values):
    out = dict(options)
    out["gpu"] = dataclasses.replace(options["gpu"], max_replicas=values["gpu.max_replicas"])
    out["routed"] = dataclasses.replace(options["routed"], thresholds=values["routed.thresholds"])
    out["ptu"] = dataclasses.replace(options["ptu"], units=values["ptu.units"])
    out["commit"] = dataclasses.replace(options["commit"], monthly_minimum=values["commit.monthly_minimum"])
    return out


def _cvar_brute(x, a):
    """Rockafellar-Uryasev by brute force: min over z of z + mean((x - z)+) / (1 - a), z at each sample."""
    return min(z + np.clip(x - z, 0, None).mean() / (1 - a) for z in x)


@pytest.fixture(scope="module")
def brute():
    """Each candidate simulated on its own: its totals per trial."""
    traffic, options = _scenario()
    rows = []
    for combo in itertools.product(*SEARCH.values()):
        values = dict(zip(SEARCH, combo))
        ds = cs.simulate(traffic, _candidate(options, values), trials=TRIALS, seed=SEED)
        sel = {"option": "commit"}
        rows.append({
            "total": ds["cost"].sel(sel).sum(("time", "qclass")).values,
            "spill": ds["spill_cost"].sel(sel).sum(("time", "qclass")).values,
            "throttled": ds["throttled_requests"].sel(sel).sum(("time", "qclass")).values,
            "capacity": ds["capacity_cost"].sel(sel).sum("time").values,
            "unused": ds["unused_capacity_cost"].sel(sel).sum("time").values,
            "monthly": ds["cost"].sel(sel).sum("qclass").resample(time="MS").sum().transpose("trial", "time").values,
            "requests": ds["requests"].sum(("time", "qclass")).values,
        })
    return rows


@pytest.mark.parametrize("objective", [("cvar", 0.8), ("quantile", 0.9), ("mean+cvar", 0.5, 0.7), "mean"])
def test_objectives_agree_with_simulate_per_candidate(brute, objective):
    traffic, options = _scenario()
    result = optimize(traffic, options, SEARCH, objective=objective, trials=TRIALS, seed=SEED)
    ds = result.dataset
    assert ds.sizes["candidate"] == len(brute) == 16
    for i, row in enumerate(brute):
        for name, var in (("total", "total_cost"), ("spill", "spill_cost"), ("capacity", "capacity_cost")):
            np.testing.assert_allclose(ds[var].values[i], row[name], rtol=1e-12, atol=0, err_msg=f"{var}[{i}]")
        np.testing.assert_allclose(ds["unused_capacity_cost"].values[i], row["unused"], rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(ds["throttled_requests"].values[i], row["throttled"], rtol=1e-12)
        np.testing.assert_allclose(ds["monthly_cost"].values[i], row["monthly"], rtol=1e-12)
        np.testing.assert_array_equal(ds["requests"].values, row["requests"])
        x = row["total"]
        if objective == "mean":
            expected = x.mean()
        elif objective[0] == "quantile":
            expected = np.quantile(x, objective[1])
        elif objective[0] == "cvar":
            expected = _cvar_brute(x, objective[1])
        else:
            expected = x.mean() + objective[1] * _cvar_brute(x, objective[2])
        np.testing.assert_allclose(ds["objective"].values[i], expected, rtol=1e-12, err_msg=f"objective[{i}]")
    expected_best = int(np.argmin(ds["objective"].values))
    assert result.best_index == expected_best
    assert result.options["gpu"].max_replicas == ds["gpu.max_replicas"].values[expected_best]
    # a throttling candidate exists, and the searched thresholds really moved traffic between the options
    assert ds["throttled_requests"].values.max() > 0
    assert not np.allclose(ds["total_cost"].values[0], ds["total_cost"].values[4])  # thresholds 1000 vs 4000


def test_cvar_matches_its_brute_force_definition():
    rng = np.random.default_rng(0)
    for n in (1, 2, 7, 40):
        x = rng.lognormal(size=n)
        for a in (0.0, 0.3, 0.5, 0.9, 0.95, 0.999):
            np.testing.assert_allclose(cvar(x, a), _cvar_brute(x, a), rtol=1e-12)


def test_discount_candidates_agree_with_simulate():
    """Volume-discount candidates (an uncertain threshold drawn per trial, a spend
    discount on provisioned units that spill) and a commitment linked to them: each
    candidate's totals equal simulate's to 1e-12."""
    traffic = cs.Traffic([cs.QueryClass("chat", 1.0, cs.LogNormal(7.0, 1.0), cs.LogNormal(5.0, 0.6))],
                         cs.Arrivals(volume=cs.Uniform(1_500, 2_500), horizon="45D", bin="6h", overdispersion=0.3,
                                     start="2026-01-10"))
    options = {
        "api": cs.TokenPricing(input=3.0, output=15.0),
        "ptu": cs.ProvisionedCapacity(units=1, price_per_unit_hour=0.2, tokens_per_minute=2_000, fallback="api"),
        "tokens_off": cs.VolumeDiscount("api", thresholds=(cs.Uniform(5e6, 2e7),), multipliers=(0.8,)),
        "spend_off": cs.VolumeDiscount("ptu", thresholds=(100.0,), multipliers=(0.7,), measure="spend"),
        "commit": cs.CommittedSpend("tokens_off", monthly_minimum=500.0),
    }
    search = {"tokens_off.multipliers": [(0.9,), (0.6,)], "commit.monthly_minimum": [0.0, 2_000.0, 6_000.0]}
    result = optimize(traffic, options, search, trials=6, seed=2)
    ds = result.dataset
    for i, (multipliers, minimum) in enumerate(itertools.product(*search.values())):
        candidate = dict(options)
        candidate["tokens_off"] = dataclasses.replace(options["tokens_off"], multipliers=multipliers)
        candidate["commit"] = dataclasses.replace(options["commit"], monthly_minimum=minimum)
        sim = cs.simulate(traffic, candidate, trials=6, seed=2)
        total = sim["cost"].sel(option="commit").sum(("time", "qclass")).values
        np.testing.assert_allclose(ds["total_cost"].values[i], total, rtol=1e-12, atol=0, err_msg=f"candidate {i}")
    spend = optimize(traffic, options, {"spend_off.multipliers": [(0.9,), (0.5,)], "ptu.units": [1, 3]}, trials=6,
                     seed=2).dataset
    for i, (multipliers, units) in enumerate(itertools.product([(0.9,), (0.5,)], [1, 3])):
        candidate = dict(options)
        candidate["spend_off"] = dataclasses.replace(options["spend_off"], multipliers=multipliers)
        candidate["ptu"] = dataclasses.replace(options["ptu"], units=units)
        sim = cs.simulate(traffic, candidate, trials=6, seed=2).sel(option="spend_off")
        for var, name in (("total_cost", "cost"), ("spill_cost", "spill_cost")):
            np.testing.assert_allclose(spend[var].values[i], sim[name].sum(("time", "qclass")).values, rtol=1e-12,
                                       atol=0, err_msg=f"{var}[{i}]")
    # the searched values matter: a deeper discount costs less, a larger commitment more in the low trials
    assert (ds["total_cost"].values[3] < ds["total_cost"].values[0]).all()
    assert (ds["total_cost"].values[2] >= ds["total_cost"].values[0]).all()
    assert (ds["total_cost"].values[2] > ds["total_cost"].values[0]).any()
