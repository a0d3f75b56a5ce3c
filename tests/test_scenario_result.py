"""A result file alone reproduces itself: costsim.scenario.from_result."""

import numpy as np
import pytest
import xarray as xr

from costsim.scenario import examples, from_result, load_scenario


@pytest.mark.parametrize("trials", [3, [5, 2, 9]], ids=["count", "explicit-ids"])
def test_result_file_reruns_bit_for_bit(tmp_path, trials):
    # capacity options, uncertain parameters, a non-default histogram
    scenario = next(load_scenario(p) for p in examples() if p.stem == "deployment_options")
    ds = scenario.run(trials=trials, seed=11, hist_range=(3e-6, 20.0), hist_bins_per_octave=8)
    ds.to_netcdf(tmp_path / "r.nc")

    again, keywords = from_result(tmp_path / "r.nc")
    assert (again.traffic, again.options, again.seed) == (scenario.traffic, scenario.options, 11)
    assert again.trials == 3
    assert keywords.get("trials") == (None if trials == 3 else trials)
    rerun = again.run(**keywords)
    xr.testing.assert_identical(rerun, ds)
    for name in ds.data_vars:
        np.testing.assert_array_equal(rerun[name].values, ds[name].values, err_msg=name)


def test_not_a_result():
    with pytest.raises(ValueError, match="result must be a costsim result"):
        from_result(xr.Dataset())
    with pytest.raises(ValueError, match=r"result.attrs\['scenario'\] is not a costsim scenario"):
        from_result(xr.Dataset(attrs={"scenario": "{}"}))  # where costsim 0.1 kept it
    with pytest.raises(ValueError, match=r"result\['trial'\]\.attrs\['scenario'\] is not a costsim scenario"):
        from_result(xr.Dataset(coords={"trial": ("trial", [0], {"scenario": "{}"})}))


def test_a_selection_or_concatenation_of_trials_reruns_the_trials_it_holds():
    # the scenario attr of the trial coordinate survives ds.isel(trial=...) and xr.concat unchanged:
    # from_result used to return the trial ids of the original run (a rerun gave other trials)
    scenario = next(load_scenario(p) for p in examples() if p.stem == "deployment_options")
    ds = scenario.run(trials=4, seed=3)
    subset = ds.isel(trial=[3, 1])
    again, keywords = from_result(subset)
    assert again.trials == 2 and keywords["trials"] == [3, 1]
    xr.testing.assert_equal(again.run(**keywords), subset)  # the recorded scenario attr lists the old trials

    joined = xr.concat([scenario.run(trials=[0, 1], seed=3), scenario.run(trials=[2, 3], seed=3)], "trial",
                       data_vars="minimal", coords="minimal", compat="override", combine_attrs="override")
    again, keywords = from_result(joined)
    assert again.trials == 4 and "trials" not in keywords
    xr.testing.assert_equal(again.run(**keywords), ds)
