"""Plot helpers of the analysis lessons: they draw exactly what costsim.analysis computes."""

import warnings

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr

import costsim as cs
from costsim import analysis
from costsim.plot import (
    plot_budget,
    plot_class_shares,
    plot_comparison,
    plot_lorenz,
    plot_request_cost_ccdf,
    plot_tornado,
    plot_unit_cost,
    plot_volume_sweep,
    usd_log_formatter,
)


def test_volume_sweep_draws_curves_and_marks_the_break_even():
    traffic = cs.Traffic([cs.QueryClass("q", 1.0, cs.Constant(1_000), cs.Constant(100))],
                         cs.Arrivals(volume=1.0, horizon="1D", bin="1h"))
    options = {"api": cs.TokenPricing(input=3.0, output=15.0),
               "ptu": cs.ProvisionedCapacity(units=1, price_per_unit_hour=10.0, tokens_per_minute=1e9)}
    sw = cs.sweep(traffic, options, volume=[1e4, 3e4, 1e5, 3e5], trials=4, seed=1)
    unit_ax, total_ax = plot_volume_sweep(sw)
    assert unit_ax.figure is total_ax.figure
    for ax in (unit_ax, total_ax):
        assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
        assert ax.get_xlabel() == "Traffic volume (queries/day)"
    assert total_ax.get_title() == "Total cost: where the options cross"
    curves = analysis.volume_curves(sw)
    medians = [line for line in total_ax.get_lines() if line.get_label().endswith("(median)")]
    assert [line.get_label() for line in medians] == ["api (median)", "ptu (median)"]
    np.testing.assert_allclose(medians[0].get_ydata(), curves["total"].sel(quantile=0.5, option="api"))
    np.testing.assert_allclose(medians[1].get_xdata(), sw["volume"])
    # the break-even line sits at the median crossing
    table = analysis.crossovers(sw)
    vlines = [line for line in total_ax.get_lines() if line.get_label().startswith("break-even")]
    assert len(vlines) == 1 and vlines[0].get_xdata()[0] == pytest.approx(table.loc[0, "p50"])
    assert "break-even api = ptu: 53," in vlines[0].get_label()
    (legend,) = total_ax.figure.legends  # one legend for both panels
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels[:2] == ["api (median)", "ptu (median)"] and labels[-1] == "p5–p95 across trials"
    assert labels[2].startswith("break-even api = ptu")
    assert unit_ax.yaxis.get_major_formatter()(0.0045) == "$0.004"


def test_budget_per_period_draws_the_budget_and_the_probability(ds):
    cost_ax, prob_ax = plot_budget(ds, 100.0, period="1D", options=["big", "small"])
    assert cost_ax.get_title() == "Cost per day against the budget (20 trials)"
    budget = [line for line in cost_ax.get_lines() if line.get_label() == "budget $100"]
    assert len(budget) == 1 and budget[0].get_ydata()[0] == 100.0
    p = analysis.exceedance_probability(ds, 100.0, period="1D", option=["big", "small"])
    lines = prob_ax.get_lines()
    assert [line.get_label() for line in lines] == ["big", "small"]
    np.testing.assert_allclose(lines[0].get_ydata(), p.sel(option="big"))
    assert prob_ax.yaxis.get_major_formatter()(0.5) == "50%"
    legend = [t.get_text() for t in cost_ax.get_legend().get_texts()]
    assert legend == ["big (median)", "small (median)", "p5–p95 across trials", "p25–p75 across trials",
                      "budget $100"]


def test_budget_cumulative_per_option(ds):
    budget = {"big": 300.0, "small": 40.0, "gpu": 100.0}
    cost_ax, prob_ax = plot_budget(ds, budget, cumulative=True)
    assert cost_ax.get_ylabel() == "Cumulative cost (USD)"
    labels = [line.get_label() for line in cost_ax.get_lines()]
    assert "budget $300 (big)" in labels and "budget $100 (gpu)" in labels
    p = analysis.exceedance_probability(ds, budget, cumulative=True)
    gpu = prob_ax.get_lines()[2]
    np.testing.assert_allclose(gpu.get_ydata(), p.sel(option="gpu"))
    # a cumulative value sits at the end of its bin, like the fan chart's
    x_end = matplotlib.dates.num2date(gpu.get_xdata(orig=False)[-1]).replace(tzinfo=None)
    assert np.datetime64(x_end, "ns") == ds["time"].values[-1] + np.timedelta64(1, "h")


def test_ccdf_one_line_per_class_plus_all(ds):
    ax = plot_request_cost_ccdf(ds, option="big")
    assert [line.get_label() for line in ax.get_lines()] == ["chat", "long", "all classes"]
    assert ax.get_xscale() == ax.get_yscale() == "log"
    s = analysis.request_cost_ccdf(ds, option="big").sel(option="big", qclass="long")
    y = ax.get_lines()[1].get_ydata()
    assert set(np.round(y, 12)) <= set(np.round(s.values, 12))
    assert y[0] == 1.0 and y[-1] > 0  # from where every query costs more, to the last query
    with pytest.raises(ValueError, match="option must name the option to show"):
        plot_request_cost_ccdf(ds)
    with pytest.raises(ValueError, match="option 'gpu' is priced per time bin"):
        plot_request_cost_ccdf(ds, option="gpu")


def test_ccdf_and_lorenz_of_a_replayed_trace():
    costs = np.random.default_rng(1).lognormal(-5, 1.2, 5_000)
    hist = xr.concat([analysis.cost_histogram(costs), analysis.cost_histogram(costs * 3)],
                     dim=xr.DataArray(["a", "b"], dims="qclass"))
    ax = plot_request_cost_ccdf(hist)
    assert [line.get_label() for line in ax.get_lines()] == ["a", "b", "all classes"]
    ax = plot_lorenz(hist)
    assert ax.get_title() == "Where the bill concentrates"


def test_lorenz_labels_gini_and_marks_top_shares(ds):
    ax = plot_lorenz(ds, option="small")
    labels = [line.get_label() for line in ax.get_lines()]
    g = analysis.gini(ds, option="small")
    assert labels[1] == f"chat (Gini {float(g.sel(option='small', qclass='chat')):.2f})"
    assert labels[0] == "every query costs the same"
    pooled = ax.get_lines()[3]
    assert pooled.get_xdata()[-1] == pytest.approx(1.0) and pooled.get_ydata()[-1] == pytest.approx(1.0)
    top = analysis.cost_share_of_top(ds, (0.01, 0.1), option="small", over=("trial", "qclass"))
    dots = ax.get_lines()[4]
    np.testing.assert_allclose(dots.get_ydata(), 1 - top.sel(option="small").values)
    text = ax.texts[0].get_text()
    assert f"{float(top.sel(top=0.01, option='small')):.0%} of the cost" in text


def test_class_shares_bars_are_the_medians(ds):
    ax = plot_class_shares(ds, option="gpu")
    s = analysis.class_shares(ds, option="gpu", q=0.5).sel(option="gpu")
    heights = [p.get_height() for p in ax.patches]
    np.testing.assert_allclose(heights, np.r_[s.sel(share="queries").values, s.sel(share="cost").values])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["chat", "long"]
    assert ax.get_title() == "Rare classes can carry most of the cost (gpu)"


@pytest.mark.parametrize("per, label", [("query", "Cost per query (USD)"),
                                        ("1k_tokens", "Cost per 1,000 tokens (USD)")])
def test_unit_cost_points_and_bands(ds, per, label):
    ax = plot_unit_cost(ds, per=per)
    assert ax.get_ylabel() == label and ax.get_yscale() == "log"
    table = analysis.unit_cost_table(ds)
    table = table[table["per"] == per]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["chat", "long", "all classes"]
    assert len(ax.containers) == 3  # one errorbar set per option
    gpu = ax.containers[2]
    np.testing.assert_allclose(gpu.lines[0].get_ydata(), table[table["option"] == "gpu"]["p50"])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["big", "small", "gpu"]
    with pytest.raises(ValueError, match="per must be 'query' or '1k_tokens'"):
        plot_unit_cost(ds, per="token")


def test_comparison_panels(ds):
    diff_ax, regret_ax = plot_comparison(ds, "big")
    table = analysis.compare_options(ds, "big")
    assert [t.get_text() for t in diff_ax.get_yticklabels()] == ["big", "small", "gpu"]
    texts = [t.get_text() for t in diff_ax.texts]
    assert texts[0] == "baseline" and texts[1] == f"cheaper in {table.loc['small', 'p_cheaper']:.0%} of trials"
    widths = [p.get_width() for p in regret_ax.patches]
    np.testing.assert_allclose(widths[1::2], table["regret_p50"])  # dark bars: medians
    assert regret_ax.get_xlim()[0] == 0
    assert diff_ax.xaxis.get_major_formatter()(-2_000) == "-$2k"


def test_tornado_bars_are_rank_correlations(ds):
    sens = analysis.sensitivity(ds)
    ax = plot_tornado(sens, option="big")
    widths = [p.get_width() for p in ax.patches]
    rho = sens["spearman"].sel(option="big")
    names = [t.get_text() for t in ax.get_yticklabels()]  # the readable labels, by default
    path = dict(zip(sens["label"].values.tolist(), sens["parameter"].values.tolist()))
    assert set(names) <= set(path) and not any(n.startswith("traffic.") for n in names)
    np.testing.assert_allclose(widths, [float(rho.sel(parameter=path[n])) for n in names])
    assert np.all(np.diff(np.abs(widths)) <= 0)  # largest first, at the top
    assert ax.get_title() == "What drives the spread of cost (big)"


def test_tornado_top_and_labels(ds):
    sens = analysis.sensitivity(ds).sel(option="big")
    first = str(sens["parameter"].values[np.argmax(np.abs(np.nan_to_num(sens["spearman"].values)))])
    ax = plot_tornado(sens, top=1, labels={first: "the main driver"})
    assert [t.get_text() for t in ax.get_yticklabels()] == ["the main driver"]
    assert len(ax.patches) == 1
    with pytest.raises(ValueError, match="top must be an integer >= 1; got 0"):
        plot_tornado(sens, top=0)


def test_tornado_keeps_shares_honest():
    """Estimates summing above 100% are shown scaled with a note; an estimate within twice its
    noise of zero says it is not told apart from 0."""
    sens = xr.Dataset(
        {"spearman": ("parameter", [0.8, -0.6, 0.05]), "first_order": ("parameter", [0.7, 0.55, 0.04])},
        coords={"parameter": ["a.x", "a.y", "a.z"], "label": ("parameter", ["x", "y", "z"])},
    )
    sens["first_order"].attrs = {"noise": 0.025, "trials": 200}
    ax = plot_tornado(sens)
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["explains 54%* of variance alone", "explains 43%* of variance alone",
                     "3%* alone: not told apart from 0 (200 trials)"]  # 0.7 / 1.29 = 54%, 0.55 / 1.29 = 43%, 0.04 / 1.29 = 3%
    assert "* the first-order estimates sum to 129%" in ax.get_xlabel() and "200 trials" in ax.get_xlabel()
    honest = plot_tornado(sens.assign(first_order=sens["first_order"] * 0.5))
    assert [t.get_text() for t in honest.texts][0] == "explains 35% of variance alone"
    assert "*" not in honest.get_xlabel()


def test_usd_log_formatter():
    f = usd_log_formatter()
    assert [f(x) for x in (1e-5, 0.001, 0.05, 1.0, 2_500)] == ["$1e-05", "$0.001", "$0.05", "$1", "$2.5k"]


def test_pngs_render(ds, tmp_path):
    for i, ax in enumerate([plot_lorenz(ds, option="big"), plot_comparison(ds, "small")[0]]):
        path = tmp_path / f"{i}.png"
        ax.figure.savefig(path, dpi=50)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_free_option_is_drawn_on_a_linear_cost_axis():
    # a log axis drops zeros: an all-zero result drew an empty chart (with matplotlib's "Data has no
    # positive values, and therefore cannot be log-scaled"), a free option beside others vanished
    chat = cs.QueryClass("chat", share=1.0, input_tokens=cs.Constant(1000), output_tokens=cs.Constant(100))
    traffic = cs.Traffic([chat], cs.Arrivals(volume=1000, horizon="1D", bin="6h"))
    options = {"free": cs.TokenPricing(input=0.0, output=0.0), "api": cs.TokenPricing(input=1.0, output=2.0)}
    sw = cs.sweep(traffic, options, volume=[100, 1000], trials=2, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        unit_ax, total_ax = plot_volume_sweep(sw)
        ax = plot_unit_cost(sw.isel(volume=1))
        only_api = plot_volume_sweep(sw, options=["api"])
    assert (unit_ax.get_yscale(), total_ax.get_yscale(), ax.get_yscale()) == ("linear",) * 3
    assert unit_ax.get_lines()[0].get_ydata().tolist() == [0.0, 0.0] and unit_ax.get_ylim()[0] == 0
    assert [a.get_yscale() for a in only_api] == ["log", "log"]  # all costs positive: log as before
    plt.close("all")
