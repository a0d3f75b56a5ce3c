"""LiteLLM's cost oracles reproduced through the whole simulation (a class with
fixed token counts), not only through ``price``: the kernel bills exactly what
LiteLLM's calculator bills."""

import csv
import math

import numpy as np
import pytest
from conftest import SHARED_DATA

import costsim as cs

LITELLM = SHARED_DATA / "litellm"
ORACLES = LITELLM / "cost_oracles.csv"
SUBSET = LITELLM / "model_prices_subset.json"


def _rows():
    if not ORACLES.is_file():
        return []
    with ORACLES.open() as f:
        return list(csv.DictReader(f))


@pytest.mark.skipif(not (ORACLES.is_file() and SUBSET.is_file()),
                    reason=f"LiteLLM reference data not found at {LITELLM} (shared reference data absent)")
@pytest.mark.parametrize("row", _rows(), ids=lambda r: f"{r['model']}-{r['note'][:30]}")
def test_oracle_cost_through_simulate(row):
    prompt, completion = int(row["prompt_tokens"]), int(row["completion_tokens"])
    read, write = int(row["cache_read_tokens"]), int(row["cache_creation_tokens"])
    tier = "batch" if row["batch"] == "True" else (row["service_tier"] or "standard")
    expected = float(row["prompt_cost_usd"]) + float(row["completion_cost_usd"])
    pricing = cs.TokenPricing.from_litellm(row["model"], SUBSET)
    qc = cs.QueryClass(
        "fixed", 1.0, cs.Constant(float(prompt)), cs.Constant(float(completion)),
        cached_fraction=read / prompt, cache_write_fraction=write / prompt, service_tier=tier,
    )
    traffic = cs.Traffic([qc], cs.Arrivals(volume=24 * 50, horizon="1h", bin="1h"))
    ds = cs.simulate(traffic, {"model": pricing}, trials=1, seed=3)
    n = int(ds["requests"].sum())
    assert n > 0
    assert int(ds["cached_tokens"].sum()) == n * read and int(ds["cache_write_tokens"].sum()) == n * write
    per_query = float(ds["cost"].sum()) / n
    assert per_query == pytest.approx(expected, rel=1e-12, abs=0.0 if expected else 1e-300)
    # every query cost the same: the histogram holds all of them in one bin
    assert np.count_nonzero(ds["cost_hist"].values) == 1
    assert math.isfinite(per_query)
