"""Billing every trial at once (pricing.billing.Billing, as simulate and optimize
bill) equals billing each trial on its own, for every kind of option billed after
the kernel, with parameters that differ per trial (as uncertain ones do).

The kernel's outputs are synthetic here (random leaf costs and counts, some bins
empty, two calendar months), so the test is about the trial axis alone; the
per-trial numbers themselves are checked against the plain-Python reference in
test_capacity.py and against simulate in tests/decide/test_brute_force.py.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import costsim as cs
from costsim import kernels as K
from costsim.pricing.billing import Billing, bill_options, leaf_models, size_edges

CLASSES = ["chat", "rag", "agent"]
T, B = 5, 2 * 31 * 4  # trials; 6-hour bins from mid-January to mid-March


def _options() -> dict:
    api = cs.TokenPricing(input=3.0, output=15.0)
    return {
        "api": api,
        "cheap": cs.TokenPricing(input=0.5, output=1.5),
        "ptu": cs.ProvisionedCapacity(units=2, price_per_unit_hour=0.3, tokens_per_minute=900, output_weight=3.0,
                                      fallback="api"),
        "capped": cs.ProvisionedCapacity(units=1, price_per_unit_hour=0.2, tokens_per_minute=700),
        "gpu": cs.SelfHostedGPU(gpu_hour_price=0.3, prefill_tokens_per_s=20, decode_tokens_per_s=0.5, min_replicas=0,
                                max_replicas=3, scale_lag="12h", fixed_monthly=50.0,
                                fallback=cs.ProvisionedCapacity(units=1, price_per_unit_hour=0.1,
                                                                tokens_per_minute=500, fallback="cheap")),
        "routed": cs.PromptRouter(thresholds=(1_000, 4_000), options=("gpu", "capped", "api")),
        "hybrid": cs.Hybrid(routes={"chat": "ptu", "rag": cs.PromptRouter(thresholds=(2_000,), options=("cheap", "api"))},
                            default="gpu"),
        "commit": cs.CommittedSpend("routed", monthly_minimum=400.0),
        "commit_hybrid": cs.CommittedSpend("hybrid", monthly_minimum=3_000.0),
        "tokens_off": cs.VolumeDiscount("api", thresholds=(2e6, 6e6), multipliers=(0.9, 0.7)),
        "spend_off": cs.VolumeDiscount("ptu", thresholds=(60.0, 200.0), multipliers=(0.8, 0.6), measure="spend"),
        "off_commit": cs.VolumeDiscount(cs.CommittedSpend("cheap", monthly_minimum=150.0), thresholds=(50.0,),
                                        multipliers=(0.5,), measure="spend"),
    }


def _per_trial(options: dict) -> list[dict]:
    """Each trial's options: prices, minimums and thresholds that differ per trial."""
    rows = []
    for t in range(T):
        o = dict(options)
        o["gpu"] = dataclasses.replace(options["gpu"], gpu_hour_price=0.2 + 0.05 * t)
        o["commit"] = dataclasses.replace(options["commit"], monthly_minimum=300.0 + 250.0 * t)
        o["tokens_off"] = dataclasses.replace(options["tokens_off"], thresholds=(1e6 * (1 + t), 8e6))
        o["spend_off"] = dataclasses.replace(options["spend_off"], multipliers=(0.8, 0.5 + 0.05 * t))
        rows.append(o)
    return rows


def _kernel_outputs(options: dict, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Random leaf costs [T, B, L, C, K] and counts [T, B, C, K, N], a tenth of the cells empty."""
    rng = np.random.default_rng(seed)
    n_leaves, n_bands = len(leaf_models(options)), size_edges(options).shape[0] + 1
    counts = np.zeros((T, B, len(CLASSES), n_bands, K.N_COUNTS))
    requests = rng.poisson(20.0, size=(T, B, len(CLASSES), n_bands)).astype(np.float64)
    requests[rng.random(requests.shape) < 0.1] = 0.0
    counts[..., K.N_REQUESTS] = requests
    counts[..., K.N_CALLS] = requests * 2
    counts[..., K.N_INPUT] = np.round(requests * rng.uniform(500, 3_000, requests.shape))
    counts[..., K.N_CACHED] = np.round(counts[..., K.N_INPUT] * rng.uniform(0, 0.5, requests.shape))
    counts[..., K.N_OUTPUT] = np.round(requests * rng.uniform(100, 400, requests.shape))
    counts[..., K.N_REASONING] = np.round(requests * rng.uniform(0, 50, requests.shape))
    leaf_cost = rng.uniform(0.5, 1.5, (T, B, n_leaves, len(CLASSES), n_bands)) * 1e-4 * requests[:, :, None]
    return leaf_cost, counts


BIN = pd.Timedelta("6h")
STARTS = pd.date_range("2026-01-15", periods=B, freq=BIN).to_numpy()


@pytest.mark.parametrize("uncertain", [False, True], ids=["same options", "options per trial"])
def test_all_trials_at_once_equal_each_trial_alone(uncertain):
    options = _options()
    per_trial = _per_trial(options) if uncertain else [options]
    leaf_cost, counts = _kernel_outputs(options)
    together = bill_options(per_trial, CLASSES, leaf_cost, counts, STARTS, BIN)
    assert together.cost.shape == (T, B, len(options), len(CLASSES))
    for t in range(T):
        alone = bill_options([per_trial[t if uncertain else 0]], CLASSES, leaf_cost[t:t + 1], counts[t:t + 1],
                             STARTS, BIN)
        for field in ("cost", "spill_cost", "throttled", "capacity_cost", "unused_capacity_cost", "capacity_units",
                      "utilisation"):
            np.testing.assert_allclose(getattr(together, field)[t:t + 1], getattr(alone, field), rtol=1e-13,
                                       atol=1e-13, equal_nan=True, err_msg=f"{field}, trial {t}")
    # the cases bite: spill, throttling, a commitment's shortfall, discounts below 1, options differing by trial
    names = list(options)
    cost = together.cost.sum(axis=(1, 3))  # [T, O]
    assert together.spill_cost[..., names.index("ptu"), :].sum() > 0
    assert together.throttled[..., names.index("routed"), :].sum() > 0
    assert (cost[:, names.index("commit_hybrid")] > cost[:, names.index("hybrid")]).all()
    assert (cost[:, names.index("tokens_off")] < cost[:, names.index("api")]).all()
    if uncertain:
        assert np.ptp(cost[:, names.index("commit")] - cost[:, names.index("routed")]) > 0


def test_billing_one_option_equals_its_column_of_bill_options():
    """What optimize bills per candidate (one option and what it uses) is what simulate bills for it."""
    options = _options()
    per_trial = _per_trial(options)
    leaf_cost, counts = _kernel_outputs(options, seed=3)
    every = bill_options(per_trial, CLASSES, leaf_cost, counts, STARTS, BIN)
    billing = Billing(options, CLASSES, leaf_cost, counts, size_edges(options), STARTS, BIN)
    n_bands = size_edges(options).shape[0] + 1
    for o, name in enumerate(options):
        if isinstance(options[name], cs.TokenPricing):
            continue
        bill = billing.option(per_trial, name)
        by_class = bill.cost.reshape(T, B, len(CLASSES), n_bands).sum(axis=3)
        np.testing.assert_allclose(by_class, every.cost[:, :, o], rtol=1e-13, atol=1e-13, err_msg=name)
        capacity = np.broadcast_to(bill.capacity_cost, (T, B))
        np.testing.assert_allclose(capacity, every.capacity_cost[:, :, o], rtol=1e-13, atol=1e-13, err_msg=name)
