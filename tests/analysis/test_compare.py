"""Deployment optionality: paired differences, chance of being cheaper, regret."""

import numpy as np
import pytest
from _analysis_scenario import small_traffic

import costsim as cs
from costsim.analysis import compare_options, paired_difference, prob_cheaper, regret


def test_paired_difference_is_the_per_trial_difference_of_totals(ds):
    d = paired_difference(ds, "big")
    total = ds.costsim.total()
    np.testing.assert_allclose(d.sel(option="small"), total.sel(option="small") - total.sel(option="big"))
    assert float(abs(d.sel(option="big")).max()) == 0.0
    per_bin = paired_difference(ds, "big", over="qclass")
    assert set(per_bin.dims) == {"trial", "time", "option"}


def test_common_random_numbers_make_paired_bands_tight():
    """Two close prices on the same requests: the totals move together (traffic growth and
    burstiness are shared), so sd(a - b) is near |sd(a) - sd(b)| ~ 0.1 sd(a), far below the
    sqrt(var a + var b) ~ 1.4 sd(a) of independent runs; 0.25 leaves room for 12 trials' noise."""
    options = {"a": cs.TokenPricing(input=3.0, output=15.0), "b": cs.TokenPricing(input=3.3, output=16.5)}
    total = cs.simulate(small_traffic(), options, trials=12, seed=2).costsim.total()
    a, b = total.sel(option="a"), total.sel(option="b")
    sd_paired = float((a - b).std())
    sd_independent = float(np.sqrt(a.var() + b.var()))
    assert sd_paired < 0.25 * sd_independent


def test_prob_cheaper_is_complementary(ds):
    p = prob_cheaper(ds)
    assert p.dims == ("option", "versus")
    np.testing.assert_allclose(p + p.rename(option="versus", versus="option").transpose(*p.dims), 1.0)
    np.testing.assert_allclose(np.diag(p.values), 0.5)  # an option ties with itself
    assert float(p.sel(option="small", versus="big")) == 1.0


def test_regret_is_cost_above_the_trials_best(ds):
    r = regret(ds)
    total = ds.costsim.total()
    np.testing.assert_allclose(r, total - total.min("option"))
    assert float(r.min("option").max()) == 0.0  # some option is best in every trial
    assert np.all(r >= 0)


def test_compare_options_table(ds):
    table = compare_options(ds, "big", q=(0.05, 0.5, 0.95))
    assert table.index.tolist() == ["big", "small", "gpu"]
    assert list(table.columns) == ["total_p5", "total_p50", "total_p95", "diff_p5", "diff_p50", "diff_p95",
                                   "p_cheaper", "p_best", "regret_p5", "regret_p50", "regret_p95"]
    assert table["p_best"].sum() == pytest.approx(1.0)  # ties aside, one best option per trial
    assert table.loc["big", "p_cheaper"] == 0.5
    total = ds.costsim.total()
    assert table.loc["gpu", "total_p50"] == pytest.approx(float(total.sel(option="gpu").median()))


def test_rejects_unknown_options_and_dims(ds):
    with pytest.raises(ValueError, match="baseline must name options among"):
        paired_difference(ds, "nope")
    with pytest.raises(ValueError, match="over must name dims of cost other than trial and option"):
        regret(ds, over="trial")
