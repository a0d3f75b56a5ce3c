"""Turns per run: a Geometric, or a hazard per turn where a likelihood-ratio test rejects it."""

import math

import numpy as np
import pytest
from scipy import stats

from costsim.calibrate.turns import TEST_LEVEL, fit_turns


def _censor(turns, rng, share):
    """A log's end cuts ``share`` of the runs at a turn drawn independently of their length (1 to 10):
    a run longer than its cut shows the cut's turns and is censored."""
    cut = np.where(rng.random(turns.size) < share, rng.integers(1, 11, turns.size), np.iinfo(np.int64).max)
    return np.minimum(turns, cut), turns > cut


def test_the_test_rejects_geometric_turns_at_its_level():
    """200 logs of Geometric turns (300 runs, a fifth cut): the Geometric is rejected in about
    1 % of them; 9 or more of 200 has probability 0.0003 at 1 %."""
    rejected = 0
    for seed in range(200):
        rng = np.random.default_rng(seed)
        shown, censored = _censor(rng.geometric(0.35, 300), rng, 0.2)
        rejected += fit_turns(shown, censored).test < TEST_LEVEL
    assert stats.binom.sf(rejected - 1, 200, TEST_LEVEL) > 1e-3


def test_censored_geometric_turns_recover_p():
    rng = np.random.default_rng(1)
    shown, censored = _censor(rng.geometric(0.25, 4000), rng, 0.5)
    fit = fit_turns(shown, censored)
    assert fit.distribution is fit.geometric
    assert abs(fit.geometric.p - 0.25) < 4 * fit.p_sd
    # observed information: complete runs / p^2 + later turns / (1 - p)^2
    complete, extra = np.count_nonzero(~censored), np.sum(shown - 1)
    assert fit.p_sd == pytest.approx(1 / math.sqrt(complete / 0.25**2 + extra / 0.75**2), rel=0.05)


@pytest.mark.parametrize("censor_share", [0.0, 0.4])
def test_turns_that_are_not_geometric_are_the_hazards_distribution(censor_share):
    """1 + Binomial(6, 0.5) turns (mean 4, E[T^2] 17.5), some runs cut: the Geometric is rejected; the
    fitted distribution's mean and second moment are within 4 standard errors of the truth."""
    rng = np.random.default_rng(2)
    n = 3000
    shown, censored = _censor(1 + rng.binomial(6, 0.5, n), rng, censor_share)
    fit = fit_turns(shown, censored)
    assert fit.test < 1e-6 and fit.distribution is not fit.geometric
    values = np.asarray(fit.distribution.values)
    assert values.min() >= 1 and values.max() <= 7
    mean_se = math.sqrt(1.5 / n) * (1 + censor_share)  # sd of 1 + Binomial(6, 1/2) is sqrt(1.5); censoring loses some
    assert abs(values.mean() - 4.0) < 4 * mean_se
    assert fit.mean_sd == pytest.approx(math.sqrt(1.5 / n), rel=0.5 + censor_share)
    second_sd = np.sqrt(np.var((1 + rng.binomial(6, 0.5, 200_000)) ** 2) / n) * (1 + censor_share)
    assert abs(np.mean(values**2) - 17.5) < 4 * second_sd


def test_a_tail_no_run_was_seen_to_end_stays_geometric():
    """Every run beyond its first turn is censored: nothing is known of the hazard there, no test."""
    turns = np.r_[np.ones(100, dtype=int), np.full(100, 2), np.full(100, 3)]
    fit = fit_turns(turns, turns >= 2)
    assert fit.distribution is fit.geometric and math.isnan(fit.test)
