"""plot_frontier and plot_search render on Agg, label from attrs, mark the chosen plan."""

from __future__ import annotations

import matplotlib.pyplot as plt  # the Agg backend: tests/conftest.py
import numpy as np
import pytest
from _optimize_scenario import small_options, small_traffic

import costsim as cs
from costsim.decide import optimize
from costsim.plot import plot_frontier, plot_search


@pytest.fixture(scope="module")
def result():
    gpu = cs.SelfHostedGPU(gpu_hour_price=0.3, prefill_tokens_per_s=3_000, decode_tokens_per_s=30, max_replicas=2,
                           fallback="api")
    options = {**small_options(), "gpu": gpu, "routed": cs.PromptRouter(thresholds=(2_000,), options=("gpu", "capped"))}
    search = {"routed.thresholds": [(1_000,), (2_000,), (4_000,)], "capped.units": [1, 2, 4, 8]}
    result = optimize(small_traffic(days=4), options, search, objective=("quantile", 0.9),
                      constraints={"throttled_share": 0.02, "budget": (60.0, 0.5)}, trials=6, seed=3)
    assert 0 < result.dataset["feasible"].sum() < 12  # some candidates are shaded as infeasible
    return result


def test_plot_frontier(result):
    ax = plot_frontier(result)
    assert ax.get_xlabel() == "Mean total cost over trials (USD)"
    assert ax.get_ylabel() == "p90 of total cost over trials (USD)"
    assert ax.get_title() == "Mean vs p90 of 12 candidate plans (6 trials)"
    labels = ax.get_legend_handles_labels()[1]
    assert "efficient frontier" in labels and "chosen (p90)" in labels
    assert "misses the constraints" in labels
    # the chosen star sits on the chosen candidate
    star = next(c for c in ax.collections if c.get_label() == "chosen (p90)")
    i = result.best_index
    np.testing.assert_allclose(star.get_offsets()[0], [result.dataset["mean_cost"][i], result.dataset["tail_cost"][i]])
    plt.close(ax.figure)
    _, given = plt.subplots()
    assert plot_frontier(result.dataset, ax=given, annotate=False) is given


def test_plot_search_numeric_and_categorical(result):
    ax = plot_search(result, "capped.units")
    assert ax.get_xlabel() == "capped.units"
    assert ax.get_ylabel() == "Total cost of 'routed' over the horizon (USD)"
    assert "routed.thresholds = " in ax.get_title()
    labels = ax.get_legend_handles_labels()[1]
    assert "median" in labels and "mean" in labels and "p90" in labels
    assert any(label.startswith("chosen (p90): capped.units = ") for label in labels)
    assert any(label.startswith("budget") for label in labels) and "misses the constraints" in labels
    ax = plot_search(result, "routed.thresholds")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1000", "2000", "4000"]
    with pytest.raises(ValueError, match="q must hold pairs"):
        plot_search(result, q=(0.1, 0.5, 0.9))
    with pytest.raises(ValueError, match="parameter must be one of the searched parameters"):
        plot_search(result, "gpu.max_replicas")
    with pytest.raises(TypeError, match="expected a costsim.optimize result"):
        plot_search(object())


def test_frontier_labels_cover_no_marker_and_no_other_label(result):
    from costsim.decide import example_result

    for data in (result, example_result()):
        ax = plot_frontier(data)
        ax.figure.canvas.draw()
        renderer = ax.figure.canvas.get_renderer()
        notes = [t for t in ax.texts if t.get_text().count(" = ")]
        assert notes  # the chosen plan at least
        boxes = [t.get_window_extent(renderer) for t in notes]
        ds = data.dataset
        points = ax.transData.transform(np.column_stack([ds["mean_cost"].values, ds["tail_cost"].values]))
        for box in boxes:
            inside = (points[:, 0] >= box.x0) & (points[:, 0] <= box.x1) & (points[:, 1] >= box.y0) \
                & (points[:, 1] <= box.y1)
            assert not inside.any(), [t.get_text() for t in notes]
        assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
        plt.close(ax.figure)


def test_plot_search_names_linked_parameters_as_moving_not_fixed():
    """A linked key (a discount threshold moving with the commitment): the partner is on the x label,
    not among the parameters held at the chosen plan's values."""
    traffic = small_traffic(days=3)
    options = {"api": cs.TokenPricing(input=3.0, output=15.0),
               "disc": cs.VolumeDiscount("api", thresholds=(10.0,), multipliers=(0.8,), measure="spend"),
               "commit": cs.CommittedSpend("disc", monthly_minimum=10.0)}
    search = {("disc.thresholds", "commit.monthly_minimum"): [((m,), m) for m in (20.0, 40.0, 60.0)],
              "disc.multipliers": [(0.9,), (0.8,)]}
    result = optimize(traffic, options, search, trials=4, seed=2)
    ax = plot_search(result, "commit.monthly_minimum")
    assert ax.get_xlabel() == "commit.monthly_minimum (with disc.thresholds, linked)"
    title = ax.get_title()
    assert "disc.thresholds" not in title and "held at the chosen plan: disc.multipliers = 0.8" in title
    assert len(ax.lines[0].get_xdata()) == 3  # the three linked values, the multiplier held
    plt.close(ax.figure)
