"""The ds.costsim accessor delegates to costsim.analysis."""

import pandas as pd
import xarray as xr

from costsim import analysis


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
