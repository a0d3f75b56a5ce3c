"""The ds.costsim accessor delegates to costsim.analysis."""

import pandas as pd
import xarray as xr

from costsim import analysis
from costsim._format import usd


def test_accessor_methods_match_the_functions(ds):
    acc = ds.costsim
    xr.testing.assert_identical(acc.request_cost_quantiles(option="big"),
                                analysis.request_cost_quantiles(ds, option="big"))
    xr.testing.assert_identical(acc.cost_share_of_top(0.1, option="small"),
                                analysis.cost_share_of_top(ds, 0.1, option="small"))
    xr.testing.assert_identical(acc.gini(option="big"), analysis.gini(ds, option="big"))
    xr.testing.assert_identical(acc.exceedance_probability(50.0, period="1D"),
                                analysis.exceedance_probability(ds, 50.0, period="1D"))
    pd.testing.assert_frame_equal(acc.compare("big"), analysis.compare_options(ds, "big"))
    pd.testing.assert_frame_equal(acc.unit_cost_table(), analysis.unit_cost_table(ds))
    xr.testing.assert_identical(acc.sensitivity(), analysis.sensitivity(ds))
    pd.testing.assert_frame_equal(acc.to_focus(trial=1), analysis.to_focus(ds, trial=1))


def test_summary_shows_dollars_under_readable_quantiles(ds):
    table = ds.costsim.summary(q=(0.05, 0.5, 0.95))
    assert list(table.columns) == ["total p5", "total p50", "total p95",
                                   "per query p5", "per query p50", "per query p95"]
    assert table.index.tolist() == ds["option"].values.tolist()
    total = ds.costsim.total().quantile(0.5, dim="trial")
    unit = ds.costsim.unit_cost(by=None).quantile(0.95, dim="trial")
    for option in table.index:
        assert table.loc[option, "total p50"] == usd(total.sel(option=option))
        assert table.loc[option, "per query p95"] == usd(unit.sel(option=option))
    assert all(cell.startswith("$") for cell in table.to_numpy().ravel())
