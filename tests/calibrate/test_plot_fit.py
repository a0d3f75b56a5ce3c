"""Calibration plots render (Agg, set in conftest) with labelled axes and legends."""

import numpy as np
import pytest

import costsim as cs
from costsim.plot import plot_pilot_gap, plot_qq


@pytest.fixture(scope="module")
def fit():
    rng = np.random.default_rng(0)
    n = 1500
    return cs.fit_traffic({"timestamp": np.sort(rng.uniform(0, 3600, n)),
                           "input_tokens": np.round(rng.lognormal(6.0, 1.0, n)),
                           "output_tokens": np.round(rng.lognormal(4.0, 0.7, n))}, families=["LogNormal"])


def test_qq(fit):
    ax = plot_qq(fit, "input_tokens")
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_ylabel() == "log quantile (input tokens)"
    assert "KS distance" in ax.get_title()
    x, y = ax.collections[0].get_offsets().T
    assert np.all(np.abs(np.log(x / y)) < 0.5)  # a right family: points near the diagonal
    with pytest.raises(ValueError, match="qclass: no class 'rag'"):
        plot_qq(fit, qclass="rag")
    with pytest.raises(ValueError, match="column must be"):
        plot_qq(fit, "tokens")


def test_pilot_gap_plot(fit):
    gap = cs.pilot_gap(fit, cs.TokenPricing(input=3.0, output=15.0), trials=40, seed=1)
    ax = plot_pilot_gap(gap, actual=gap.naive * 1.1)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(label.startswith("naive: pilot") for label in labels)
    assert any(label.startswith("realised") for label in labels)
    assert ax.get_ylabel() == "trials"
