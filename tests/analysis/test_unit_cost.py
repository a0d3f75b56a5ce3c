"""Unit cost by query class: the tidy table."""

import numpy as np
import pytest

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
