"""Sensitivity: rank correlation and first-order variance-based indices."""

import numpy as np
import pytest
import xarray as xr

import costsim as cs
from costsim.analysis import first_order_index, rank_correlation, sensitivity

N = 4_000


def _synthetic(n=N, seed=0):
    """Y = 3 X1 - 2 X2 + 0 X3 with independent uniforms on [0, 1]: Var(Y) = (9 + 4) / 12, so the
    first-order indices are 9/13, 4/13 and 0 (additive: they sum to 1)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(n, 3))
    y = 3 * x[:, 0] - 2 * x[:, 1]
    return x, y


def test_first_order_indices_match_the_analytic_values():
    x, y = _synthetic()
    xs = xr.DataArray(x, dims=("trial", "parameter"), coords={"parameter": ["x1", "x2", "x3"]})
    s = first_order_index(xs, xr.DataArray(y, dims="trial"))
    # binning estimator, 63 groups of ~63 samples: its sampling sd at n = 4,000 is ~0.01
    # (checked over seeds); 0.04 is four of them
    np.testing.assert_allclose(s.sel(parameter=["x1", "x2", "x3"]), [9 / 13, 4 / 13, 0.0], atol=0.04)


def test_first_order_index_of_an_irrelevant_input_is_near_zero_across_seeds():
    # the bias correction: without it the estimate would be ~ (groups - 1) / n = 0.016 on average
    est = [float(first_order_index(xr.DataArray(np.random.default_rng(s).uniform(size=N), dims="trial"),
                                   xr.DataArray(np.random.default_rng(100 + s).normal(size=N), dims="trial")))
           for s in range(10)]
    assert np.mean(est) < 0.008


def test_noise_attribute_is_the_spread_of_an_irrelevant_estimate():
    """Where a parameter does not matter, estimates above twice the recorded noise are rare:
    sqrt(2 (G - 1)) / n is the sd of the uncorrected estimate (a chi-square with G - 1 degrees of
    freedom over n); 2 sd is exceeded in ~3% of draws (chi-square skew), 8% allows the binomial
    noise of 1,000 replicates (sd 0.6%)."""
    rng = np.random.default_rng(5)
    x = xr.DataArray(rng.uniform(size=(1_000, 400)), dims=("rep", "trial"))
    y = xr.DataArray(rng.normal(size=(1_000, 400)), dims=("rep", "trial"))
    s = first_order_index(x, y)
    assert s.attrs["noise"] == pytest.approx(np.sqrt(2 * 19) / 400) and s.attrs["trials"] == 400
    assert float((s > 2 * s.attrs["noise"]).mean()) < 0.08


@pytest.mark.parametrize("path, label", [
    ("traffic.classes[1].input_tokens.components[0].mu", "conv/2: prompt tokens (component 1 mu)"),
    ("traffic.classes[0].output_tokens.dist.sigma", "code: output tokens (sigma)"),
    ("traffic.classes[0].cached_fraction.value", "code: cached fraction"),
    ("traffic.classes[1].share", "conv/2: share"),
    ("traffic.classes[5].share", "class 6: share"),
    ("traffic.arrivals.volume", "arrivals: volume"),
    ("traffic.class_modulation['code'][0].cv", "code modulation 1: cv"),
    ("traffic.modulation[1].on.mu", "modulation 2: on (mu)"),
    ("options['self hosted'].gpu_hour_price", "self hosted: gpu hour price"),
    ("options['api'].cached_input", "api: cached input price"),
])
def test_parameter_labels_are_readable(path, label):
    assert cs.analysis.parameter_label(path, ["code", "conv/2"]) == label


def test_rank_correlation_has_the_right_signs_and_order():
    x, y = _synthetic()
    rho = rank_correlation(xr.DataArray(x, dims=("trial", "parameter")), xr.DataArray(y, dims="trial"))
    assert rho[0] > 0.7 and rho[1] < -0.4 and abs(float(rho[2])) < 0.05  # 3 sd of a null rho: 0.047
    x1 = xr.DataArray(x[:, 0], dims="trial")
    assert float(rank_correlation(x1, np.exp(x1))) == 1.0  # any monotone transform


def _dataset(x, y):
    n = y.size
    cost = np.zeros((n, 2, 1, 1))
    cost[:, 0, 0, 0] = y + 10  # two time bins: the total is y + 10 + 1
    cost[:, 1, 0, 0] = 1.0
    return xr.Dataset(
        {"cost": (("trial", "time", "option", "qclass"), cost),
         "uncertain": (("trial", "parameter"), x)},
        coords={"trial": np.arange(n), "option": ["api"], "qclass": ["q"],
                "parameter": ["price", "growth", "noise"]},
    )


def test_sensitivity_of_a_dataset_ranks_parameters_by_importance():
    x, y = _synthetic(2_000, seed=4)
    s = sensitivity(_dataset(x, y))
    assert s["parameter"].values.tolist() == ["price", "growth", "noise"]  # sorted by first-order index
    assert s["first_order"].dims == ("parameter", "option")
    assert float(s["spearman"].sel(parameter="growth", option="api")) < 0


def test_sensitivity_of_a_simulation_finds_the_uncertain_price():
    """The input price (uniform over a factor 2) drives the total far more than growth (0-10%)."""
    traffic = cs.Traffic([cs.QueryClass("q", 1.0, cs.LogNormal.from_median_p90(2_000, 6_000), cs.Constant(50))],
                         cs.Arrivals(volume=2_000, horizon="1D", bin="6h", growth=cs.Uniform(0.0, 0.1)))
    ds = cs.simulate(traffic, {"api": cs.TokenPricing(input=cs.Uniform(2.0, 4.0), output=15.0)}, trials=60, seed=8)
    s = sensitivity(ds)
    assert s["parameter"].values.tolist()[0] == "options['api'].input"
    assert float(s["spearman"].isel(parameter=0, option=0)) > 0.8


def test_rejects_what_it_cannot_analyse():
    with pytest.raises(ValueError, match="no uncertain parameters"):
        sensitivity(xr.Dataset({"cost": (("trial",), np.ones(5))}))
    x = xr.DataArray(np.arange(10.0), dims="trial")
    with pytest.raises(ValueError, match=r"bins must be in \[2, 5\]; got 6"):
        first_order_index(x, x, bins=6)
    with pytest.raises(ValueError, match="x and y must both have the dim 'trial'"):
        rank_correlation(x, x.rename(trial="t"))


@pytest.mark.parametrize("bins, rule", [(2.7, "must be an integer"), (float("nan"), "must be an integer"),
                                        (float("inf"), "must be an integer"), (True, "must be an integer"),
                                        (1, r"must be in \[2, 5\]")])
def test_bins_must_be_a_whole_number_of_groups(bins, rule):
    # 2.7 was truncated to 2 groups; NaN and inf reached int(), whose error named no argument
    x = xr.DataArray(np.arange(10.0), dims="trial")
    with pytest.raises(cs.ParameterError, match=rf"bins {rule}; got"):
        first_order_index(x, x, bins=bins)


def test_first_order_index_needs_two_groups_of_two():
    x = xr.DataArray(np.arange(3.0), dims="trial")
    with pytest.raises(ValueError, match="trial must have at least 4 samples"):
        first_order_index(x, x)
