"""Unit cost by query class: the tidy table."""

import warnings

import numpy as np
import pytest

import costsim as cs
from costsim.analysis import unit_cost_table


def test_table_holds_every_class_option_and_unit(ds):
    table = unit_cost_table(ds, q=(0.05, 0.5, 0.95))
    assert list(table.columns) == ["per", "option", "qclass", "units", "p5", "p50", "p95"]
    assert len(table) == 2 * 3 * 3  # per x option x (2 classes + all)
    assert set(table["qclass"]) == {"chat", "long", "all classes"}
    assert set(table["units"]) == {"USD/query", "USD/1k tokens"}
    assert np.all(table["p5"] <= table["p50"]) and np.all(table["p50"] <= table["p95"])


def test_table_values_are_quantiles_of_the_accessors_unit_cost(ds):
    table = unit_cost_table(ds).set_index(["per", "option", "qclass"])
    by_class = ds.costsim.unit_cost(by="qclass", per="1k_tokens")
    expected = float(by_class.sel(option="gpu", qclass="long").quantile(0.95, "trial"))
    assert table.loc[("1k_tokens", "gpu", "long"), "p95"] == pytest.approx(expected)
    pooled = ds.costsim.unit_cost(by=None, per="query")
    assert table.loc[("query", "small", "all classes"), "p50"] == pytest.approx(
        float(pooled.sel(option="small").median()))
    # long-context queries cost more per query than chat under token pricing
    assert table.loc[("query", "big", "long"), "p50"] > 5 * table.loc[("query", "big", "chat"), "p50"]


def test_a_class_without_queries_reads_nan_without_numpy_warnings():
    # its unit cost is NaN in every trial: quantiles of it leaked numpy's "All-NaN slice encountered"
    chat = cs.QueryClass("chat", share=1.0, input_tokens=cs.Constant(1000), output_tokens=cs.Constant(100))
    idle = cs.QueryClass("idle", share=0.0, input_tokens=cs.Constant(1000), output_tokens=cs.Constant(100))
    api = {"api": cs.TokenPricing(input=1.0, output=2.0)}
    ds = cs.simulate(cs.Traffic([chat, idle], cs.Arrivals(volume=100, horizon="1D", bin="6h")), api, trials=3,
                     seed=1, progress=False)
    quiet = cs.simulate(cs.Traffic([chat], cs.Arrivals(volume=0, horizon="1D", bin="6h")), api, trials=3,
                        seed=1, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = cs.analysis.unit_cost_table(ds)
        summary = quiet.costsim.summary()
    assert table.set_index(["per", "qclass"]).loc[("query", "idle"), ["p5", "p50", "p95"]].isna().all()
    assert table.set_index(["per", "qclass"]).loc[("query", "chat"), "p50"] == pytest.approx(0.0012)
    assert summary.loc["api", "per query p50"] == "n/a" and summary.loc["api", "total p50"] == "$0"
