"""Per-request cost quantiles, concentration, Lorenz and Gini from cost histograms."""

import warnings

import numpy as np
import pytest
import xarray as xr

import costsim as cs
from costsim.analysis import (
    class_shares,
    cost_histogram,
    cost_share_of_top,
    gini,
    lorenz_curve,
    request_cost_ccdf,
    request_cost_quantiles,
)


def _exact_top_share(costs, top):
    s = np.sort(costs)
    k = round(top * s.size)
    return s[s.size - k:].sum() / s.sum()


def _exact_gini(costs):
    s = np.sort(costs)
    return 1 - 2 * np.sum((np.cumsum(s) - s / 2) / s.sum()) / s.size


@pytest.mark.parametrize("trace", ["code", "conv"])
def test_replayed_azure_trace_matches_numpy(trace):
    """Acceptance 2: at 64 bins per octave the histogram's p50/p90/p99 are within 1% and
    its top-1%/top-10% cost shares within 0.5 percentage points of NumPy on exact costs."""
    df = cs.datasets.load_azure_trace(trace)
    costs = cs.price(cs.TokenPricing(input=3.0, output=15.0), df["ContextTokens"].to_numpy(),
                     df["GeneratedTokens"].to_numpy())
    hist = cost_histogram(costs, bins_per_octave=64)
    assert int(hist.sum()) == costs.size
    q = request_cost_quantiles(hist, [0.5, 0.9, 0.99])
    exact = np.quantile(costs, [0.5, 0.9, 0.99])
    # measured: <= 0.18% (code), <= 0.15% (conv); the bound from the bin width is 1.09%
    np.testing.assert_allclose(q.values, exact, rtol=0.01)
    shares = cost_share_of_top(hist, [0.01, 0.1])
    exact_shares = [_exact_top_share(costs, 0.01), _exact_top_share(costs, 0.1)]
    np.testing.assert_allclose(shares.values, exact_shares, atol=0.005)  # measured: <= 0.011 points
    assert float(gini(hist)) == pytest.approx(_exact_gini(costs), abs=0.002)


@pytest.mark.parametrize("per_octave", [4, 16, 64])
def test_quantile_error_is_below_the_bin_width(per_octave):
    """On a smooth density every quantile lies within one bin-width ratio of the exact one."""
    costs = np.random.default_rng(5).lognormal(-6.0, 1.5, 200_000)
    qs = [0.01, 0.1, 0.5, 0.9, 0.99, 0.999]
    est = request_cost_quantiles(cost_histogram(costs, bins_per_octave=per_octave), qs).values
    bound = 2 ** (1 / per_octave) - 1
    err = np.abs(est / np.quantile(costs, qs) - 1)
    assert np.all(err < bound), (err, bound)
    # and log-uniform interpolation does much better than the bound on a smooth density
    assert np.median(err) < bound / 4


def test_two_point_distribution_has_known_concentration_and_gini():
    # 90% of queries cost $0.001, 10% cost $0.01 (both exact bin edges: no spread inside a bin
    # is assumed beyond one 256th of an octave)
    costs = np.r_[np.full(900, 2.0**-10), np.full(100, 2.0**-7)]
    hist = cost_histogram(costs, bins_per_octave=256)
    mean = costs.mean()
    # top 10% are the expensive ones: 100 * 2^-7 / total
    assert float(cost_share_of_top(hist, 0.1)[0]) == pytest.approx(100 * 2.0**-7 / costs.sum(), abs=0.003)
    # Gini of a two-point law: p (1 - p) (b - a) / mean
    expected = 0.9 * 0.1 * (2.0**-7 - 2.0**-10) / mean
    assert float(gini(hist)) == pytest.approx(expected, abs=0.003)
    np.testing.assert_allclose(request_cost_quantiles(hist, [0.5, 0.95]).values, [2.0**-10, 2.0**-7], rtol=0.003)


def test_equal_costs_have_gini_zero_and_a_diagonal_lorenz_curve():
    hist = cost_histogram(np.full(500, 0.02), bins_per_octave=256)
    assert float(gini(hist)) == pytest.approx(0.0, abs=0.002)
    curve = lorenz_curve(hist)
    np.testing.assert_allclose(curve["cost_share"], curve["request_share"], atol=0.003)


def test_lorenz_curve_is_increasing_convex_and_ends_at_one(ds):
    curve = lorenz_curve(ds, option="big")
    for c in ("chat", "long"):
        x = curve["request_share"].sel(option="big", qclass=c).values
        y = curve["cost_share"].sel(option="big", qclass=c).values
        assert x[0] == y[0] == 0 and x[-1] == pytest.approx(1) and y[-1] == pytest.approx(1)
        assert np.all(np.diff(x) >= 0) and np.all(np.diff(y) >= 0)
        step = np.diff(x) > 0
        slopes = np.diff(y)[step] / np.diff(x)[step]
        assert np.all(np.diff(slopes) >= -1e-9)  # cheapest first: slopes never fall
        assert np.all(y <= x + 1e-12)


def test_histogram_of_known_costs_matches_the_kernels():
    """cost_histogram bins exactly as the kernel does: constant tokens give one cost per class."""
    traffic = cs.Traffic(
        (cs.QueryClass("a", 0.5, cs.Constant(1_000), cs.Constant(100)),
         cs.QueryClass("b", 0.5, cs.Constant(4_096), cs.Constant(0))),
        cs.Arrivals(volume=500, horizon="1D", bin="6h"),
    )
    options = {"api": cs.TokenPricing(input=1.0, output=2.0),
               "fee": cs.TokenPricing(input=0.0, output=0.0, fee_per_request=2.0**-10)}  # exactly on an edge
    ds = cs.simulate(traffic, options, trials=2, seed=1, hist_bins_per_octave=32)
    for option, qclass, (inp, out) in (("api", "a", (1_000, 100)), ("api", "b", (4_096, 0)), ("fee", "a", (1, 1))):
        n = int(ds["requests"].sel(qclass=qclass).sum())
        cost = float(options[option].price(inp, out))
        expected = cost_histogram(np.full(n, cost), bins_per_octave=32)
        np.testing.assert_array_equal(ds["cost_hist"].sel(option=option, qclass=qclass).sum("trial"), expected)
        np.testing.assert_array_equal(ds["cost_lower"], expected["cost_lower"])
    edge = ds["cost_hist"].sel(option="fee", qclass="a").sum("trial")
    assert float(ds["cost_lower"][int(edge.argmax("cost_bin"))]) == 2.0**-10  # an edge cost opens its bin


def test_underflow_bin_is_uniform_from_zero():
    # costs uniform on [0, lowest edge): the median is half the edge, the Gini of U(0, b) is 1/3
    edge = 2.0**-24
    costs = np.linspace(0.0, edge, 10_001)[:-1]
    hist = cost_histogram(costs, hist_range=(1e-7, 1.0))
    assert float(hist["cost_upper"][0]) == edge and int(hist[0]) == costs.size
    assert float(request_cost_quantiles(hist, 0.5)[0]) == pytest.approx(edge / 2)
    assert float(gini(hist)) == pytest.approx(1 / 3, abs=1e-3)
    assert float(cost_share_of_top(hist, 0.5)[0]) == pytest.approx(0.75, abs=1e-3)  # 1 - (1/2)**2


def test_quantiles_per_class_and_option_and_per_trial(ds):
    q = request_cost_quantiles(ds, [0.5, 0.99], option=["big", "small"])
    assert q.dims == ("quantile", "option", "qclass")
    assert q.attrs["units"] == "USD/query"
    # long-context queries cost more than chat ones, and p99 > p50
    assert np.all(q.sel(qclass="long") > q.sel(qclass="chat"))
    assert np.all(q.sel(quantile=0.99) > q.sel(quantile=0.5))
    per_trial = request_cost_quantiles(ds, 0.5, option="small", over=None)
    assert per_trial.dims == ("quantile", "trial", "option", "qclass")
    pooled = request_cost_quantiles(ds, 0.5, option="small", over=("trial", "qclass"))
    assert pooled.dims == ("quantile", "option")


def test_mean_cost_from_the_histogram_matches_the_simulated_total(ds):
    """The within-bin model is right on average: the histogram's implied cost matches ``cost``."""
    curve_total = cost_share_of_top(ds, 1.0, option="small")  # the whole cost: share 1
    np.testing.assert_allclose(curve_total, 1.0)
    # total cost implied by the histogram (Lorenz mass) vs the simulated sum, 16 bins per octave:
    # log-uniform within a bin of ratio 2**(1/16) is off by far less than 0.5%
    from costsim.analysis.tails import _mass

    hist = ds["cost_hist"].sel(option="small").sum("trial")
    implied = _mass(hist.values.astype(float), ds["cost_lower"].values, ds["cost_upper"].values, 1.0).sum(-1)
    simulated = ds["cost"].sel(option="small").sum(("trial", "time")).values
    np.testing.assert_allclose(implied, simulated, rtol=0.005)


def test_overflow_quantile_is_nan_and_empty_class_is_nan():
    hist = cost_histogram([0.5, 5e3, 6e3], hist_range=(1e-3, 1e3))
    assert np.isnan(float(request_cost_quantiles(hist, 0.9)[0]))
    assert float(request_cost_quantiles(hist, 0.1)[0]) == pytest.approx(0.5, rel=0.05)
    empty = cost_histogram(np.array([]))
    assert np.isnan(float(request_cost_quantiles(empty, 0.5)[0]))


def test_ccdf_falls_from_one_to_zero(ds):
    s = request_cost_ccdf(ds, option="big")
    assert s.dims == ("option", "qclass", "cost_bin")
    v = s.sel(option="big", qclass="chat").values
    assert np.all(np.diff(v) <= 1e-12) and v[-1] == pytest.approx(0.0)


def test_capacity_option_has_no_per_request_distribution(ds):
    assert ds["per_request_cost"].values.tolist() == [True, True, False]
    message = "option 'gpu' is priced per time bin: it has no per-request cost distribution"
    for func in (request_cost_quantiles, cost_share_of_top, lorenz_curve, gini, request_cost_ccdf):
        with pytest.raises(ValueError, match=message):
            func(ds)
        with pytest.raises(ValueError, match=message):
            func(ds, option="gpu")
    request_cost_quantiles(ds, option=["big", "small"])  # the others are fine


def test_a_result_without_its_histogram_is_a_clear_error(ds):
    # ds.drop_vars("cost_hist") (to save space) or ds[["cost"]]: a KeyError from xarray before
    lean = ds[["cost", "requests"]]
    for func in (request_cost_quantiles, cost_share_of_top, lorenz_curve, gini, request_cost_ccdf):
        with pytest.raises(ValueError, match=r"the Dataset has no per-request cost histogram \(variable 'cost_hist'.*"
                                             r"it holds \['cost', 'requests'\]"):
            func(lean, option="big")


def test_class_shares_work_for_every_option(ds):
    s = class_shares(ds)
    np.testing.assert_allclose(s.sum("qclass"), 1.0)
    gpu = s.sel(option="gpu", share="cost")
    assert np.all(gpu > 0)
    median = class_shares(ds, q=0.5)
    assert median.dims == ("option", "qclass", "share")
    # a class's share of queries is the same under every option (same requests)
    np.testing.assert_allclose(s.sel(share="queries", option="big"), s.sel(share="queries", option="gpu"))


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: cost_histogram([0.1, np.nan]), ValueError, r"costs must be finite and >= 0; got nan at index 1"),
        (lambda: request_cost_quantiles(cost_histogram([0.1]), 1.5), ValueError, r"q must be quantiles in \[0, 1\]"),
        (lambda: cost_share_of_top(cost_histogram([0.1]), -0.1), ValueError, r"top must be quantiles in \[0, 1\]"),
        (lambda: request_cost_quantiles(cost_histogram([0.1]), option="big"), ValueError, "option applies to"),
        (lambda: request_cost_quantiles(xr.DataArray([1, 2])), TypeError, "cost histogram DataArray"),
    ],
)
def test_rejects_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_unknown_option_is_named(ds):
    with pytest.raises(ValueError, match=r"option must name options among \['big', 'small', 'gpu'\]; got 'nope'"):
        gini(ds, option="nope")


def test_class_shares_of_a_free_option_are_nan_without_numpy_warnings():
    # no cost to share: 0 / 0 in every trial, and the median across trials leaked "All-NaN slice"
    chat = cs.QueryClass("chat", share=0.5, input_tokens=cs.Constant(1000), output_tokens=cs.Constant(100))
    rag = cs.QueryClass("rag", share=0.5, input_tokens=cs.Constant(5000), output_tokens=cs.Constant(100))
    ds = cs.simulate(cs.Traffic([chat, rag], cs.Arrivals(volume=200, horizon="1D", bin="6h")),
                     {"free": cs.TokenPricing(input=0.0, output=0.0)}, trials=3, seed=1, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        shares = class_shares(ds, q=0.5)
    assert shares.sel(share="cost").isnull().all()
    np.testing.assert_allclose(shares.sel(share="queries").sum("qclass"), 1.0)
