"""Monthly billing (CommittedSpend, VolumeDiscount) against hand computations: a
commitment's minimum prorated over the hours of each calendar month (UTC) the
horizon covers, and bins that cross a month refused (their spend would count wholly
in the month they start in)."""

from __future__ import annotations

import pytest

import costsim as cs

API = cs.TokenPricing(input=3.0, output=15.0)
MINIMUM = 3_100.0  # 100 USD a day in January


def _traffic(horizon: str, bin: str, start: str) -> cs.Traffic:
    # a vanishing volume: no request arrives, the bill is the commitment's shortfall alone
    return cs.Traffic([cs.QueryClass("chat", 1.0, cs.Constant(1_000), cs.Constant(100))],
                      cs.Arrivals(volume=1e-9, horizon=horizon, bin=bin, start=start))


@pytest.mark.parametrize("horizon, bin, start, expected", [
    ("35D", "1D", "2026-01-01", MINIMUM + MINIMUM * 4 / 28),  # all of January, 4 of February's 28 days
    ("35D", "1h", "2026-01-01", MINIMUM + MINIMUM * 4 / 28),
    ("28D", "7D", "2026-02-01", MINIMUM),  # weeks that tile February
    ("3D", "1D", "2026-01-30T12:00+12:00", MINIMUM * 2 / 31 + MINIMUM / 28),  # 2026-01-30T00:00 UTC
])
def test_commitment_shortfall_is_the_minimum_prorated_by_month(horizon, bin, start, expected):
    ds = cs.simulate(_traffic(horizon, bin, start), {"commit": cs.CommittedSpend(API, monthly_minimum=MINIMUM)},
                     trials=1, seed=1)
    assert int(ds["requests"].sum()) == 0
    assert float(ds["cost"].sum()) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("option", [
    cs.CommittedSpend(API, monthly_minimum=MINIMUM),
    cs.VolumeDiscount(API, thresholds=(1e6,), multipliers=(0.5,)),
    cs.Hybrid({"chat": cs.CommittedSpend("api", monthly_minimum=MINIMUM)}),  # nested: found too
])
@pytest.mark.parametrize("horizon, bin, start, crossing", [
    ("35D", "7D", "2026-01-01", "2026-01-29 00:00:00"),  # billed 35 days at January's rate (3,500 USD)
    ("62D", "31D", "2026-01-01", "2026-02-01 00:00:00"),
    ("3D", "1D", "2026-01-30T12:00", "2026-01-31 12:00:00"),
])
def test_bins_crossing_a_month_are_refused_for_monthly_billing(option, horizon, bin, start, crossing):
    options = {"api": API, "monthly": option}
    with pytest.raises(ValueError, match=rf"options\['monthly'\].* is a (CommittedSpend|VolumeDiscount), billed per "
                                         rf"calendar month \(UTC\), but the bin of .* starting {crossing} crosses"):
        cs.simulate(_traffic(horizon, bin, start), options, trials=1, seed=1)


def test_bins_crossing_a_month_are_fine_without_monthly_billing():
    ds = cs.simulate(_traffic("35D", "7D", "2026-01-01"), {"api": API}, trials=1, seed=1)
    assert ds.sizes["time"] == 5
