"""Compiled pricing and histogram helpers against obvious references."""

import numpy as np
import pytest

from _kernels import hist_indices
from costsim.results import CostHistogram


def test_histogram_index_matches_searchsorted_on_edges():
    h = CostHistogram.from_range((1e-6, 10.0), 16)
    rng = np.random.default_rng(0)
    costs = np.concatenate([
        np.exp(rng.uniform(np.log(1e-8), np.log(100.0), 20_000)),
        h.lower[1:], np.nextafter(h.lower[1:], 0), [0.0, 1e-300, 1e300],
    ])
    expected = np.searchsorted(h.lower, costs, side="right") - 1
    got = np.empty(costs.size, dtype=np.int64)
    hist_indices(costs, h.lo_exp, h.octaves, h.log2_per_octave, got)
    assert np.array_equal(got, expected)
    assert got.min() == 0 and got.max() == h.n_bins - 1


def test_histogram_edges_cover_the_requested_range():
    h = CostHistogram.from_range((1e-7, 1e3), 16)
    assert h.lower[1] <= 1e-7 < 2 * h.lower[1]  # widened to the power of two below
    assert h.upper[-2] >= 1e3
    ratios = h.upper[1:-1] / h.lower[1:-1]
    assert ratios.max() <= 1 + 1 / 16 + 1e-12


@pytest.mark.parametrize("bad", [(0.0, 1.0), (1.0, 0.5), (1e-3,), "x"])
def test_histogram_range_is_validated(bad):
    with pytest.raises(ValueError, match="hist_range"):
        CostHistogram.from_range(bad, 16)


def test_histogram_resolution_must_be_a_power_of_two():
    with pytest.raises(ValueError, match="hist_bins_per_octave must be a power of two; got 12"):
        CostHistogram.from_range((1e-3, 1.0), 12)
