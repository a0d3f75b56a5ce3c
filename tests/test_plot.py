"""Plot helpers render on Agg (set in conftest), label everything and draw what results computes."""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import PolyCollection

import costsim as cs
from costsim.plot import plot_cost_bands, usd_formatter


@pytest.fixture(scope="module")
def ds():
    traffic = cs.Traffic(
        (cs.QueryClass("chat", 0.8, cs.LogNormal(6.5, 1.0), cs.LogNormal(5.0, 0.8)),
         cs.QueryClass("rag", 0.2, cs.LogNormal(8.0, 0.5), cs.LogNormal(5.5, 0.6), cached_fraction=0.3)),
        cs.Arrivals(volume=6_000, horizon="1D", bin="1h", overdispersion=0.2, daily_profile=tuple(range(1, 25))),
    )
    options = {"big": cs.TokenPricing(3.0, 15.0, 0.3), "small": cs.TokenPricing(0.4, 1.6)}
    return cs.simulate(traffic, options, trials=8, seed=9)


def test_backend_is_agg():
    assert matplotlib.get_backend().lower() == "agg"


def _fills(ax):
    return [c for c in ax.collections if isinstance(c, PolyCollection)]


def test_cost_bands_draws_medians_bands_and_labels(ds):
    ax = plot_cost_bands(ds)
    assert isinstance(ax, matplotlib.axes.Axes)
    assert ax.get_title() == "Cost per hour by deployment option (8 trials)"
    assert ax.get_ylabel() == "Cost per hour (USD)"
    assert ax.get_xlabel() == "Time (UTC)"
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["big (median)", "small (median)"]
    # each median line is the median that results computes
    median = ds.costsim.bands(q=[0.5]).isel(quantile=0)
    for line, option in zip(lines, ["big", "small"]):
        np.testing.assert_allclose(line.get_ydata(), median.sel(option=option).values)
        assert len(line.get_xdata()) == ds.sizes["time"]
    assert len(_fills(ax)) == 2 * 2  # two bands per option
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["big (median)", "small (median)", "p5–p95 across trials", "p25–p75 across trials"]
    # dollar ticks
    assert ax.yaxis.get_major_formatter()(1_500) == "$1.5k"
    assert ax.get_ylim()[0] == 0


def test_a_result_of_one_bin_draws_its_bands_across_the_bin(ds):
    # one point makes no line and no band: the chart of a one-day result by day was empty
    one = ds.isel(time=[3])
    ax = plot_cost_bands(one)
    start = one["time"].values[0]
    for line, option in zip(ax.get_lines(), ["big", "small"]):
        median = float(one.costsim.bands(q=[0.5]).sel(option=option).squeeze())
        assert line.get_ydata().tolist() == [median, median]
        np.testing.assert_array_equal(line.get_xdata(), [start, start + np.timedelta64(1, "h")])
    assert all(len(fill.get_paths()[0].vertices) > 2 for fill in _fills(ax))
    plt.close(ax.figure)


def test_cumulative_bands_start_at_zero_and_end_at_the_total(ds):
    ax = plot_cost_bands(ds, cumulative=True, q=(0.1, 0.9))
    assert ax.get_title() == "Cumulative cost by deployment option (8 trials)"
    assert [t.get_text() for t in ax.get_legend().get_texts()][-1] == "p10–p90 across trials"
    assert ax.get_ylabel() == "Cumulative cost (USD)"
    assert len(_fills(ax)) == 2
    total_median = ds.costsim.total().median("trial")
    for line, option in zip(ax.get_lines(), ["big", "small"]):
        y = line.get_ydata()
        assert y[0] == 0 and len(y) == ds.sizes["time"] + 1  # one point per bin end, plus the start
        assert np.all(np.diff(y) >= 0)
        np.testing.assert_allclose(y[-1], float(total_median.sel(option=option)), rtol=1e-12)
    # the last point sits at the end of the horizon: last bin start + one bin
    x_end = matplotlib.dates.num2date(ax.get_lines()[0].get_xdata(orig=False)[-1]).replace(tzinfo=None)
    assert np.datetime64(x_end, "ns") == ds["time"].values[-1] + np.timedelta64(1, "h")


def test_options_subset_and_given_axes(ds):
    fig, (top, bottom) = plt.subplots(2, 1)
    bottom.set_xlabel("mine")
    out = plot_cost_bands(ds, ax=top, options=["small"])
    assert out is top
    assert [line.get_label() for line in top.get_lines()] == ["small (median)"]
    assert top.get_lines()[0].get_color() == "C1"  # the colour it has when every option is shown
    # the figure's other axes are left alone, and the plotted one keeps its date labels
    assert bottom.get_lines() == [] and bottom.get_title() == "" and bottom.get_xlabel() == "mine"
    fig.canvas.draw()
    assert top.get_xlabel() == "Time (UTC)"
    labels = [t for t in top.get_xticklabels() if t.get_text()]
    assert labels and all(t.get_visible() for t in labels)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(q=(0.05, 0.25, 0.75)), "q must hold pairs of band quantiles"),
        (dict(options=["nope"]), r"options must be among \['big', 'small'\]; got unknown \['nope'\]"),
    ],
)
def test_rejects_bad_arguments(ds, kwargs, message):
    with pytest.raises(ValueError, match=message):
        plot_cost_bands(ds, **kwargs)


def test_usd_formatter():
    f = usd_formatter()
    assert [f(x) for x in (0, 0.5, 950, 12_500, 3.2e6, 7e9, -40, -2_500)] == [
        "$0", "$0.5", "$950", "$12.5k", "$3.2M", "$7B", "-$40", "-$2.5k"]


def test_saves_a_png(ds, tmp_path):
    ax = plot_cost_bands(ds, cumulative=True)
    path = tmp_path / "bands.png"
    ax.figure.savefig(path, dpi=60)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 5_000
