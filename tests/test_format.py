"""costsim._format: dollars, quantile labels and durations as people read them."""

import pandas as pd
import pytest

from costsim._format import duration_alias, duration_text, quantile_label, usd


@pytest.mark.parametrize("value, text", [
    (12548.0, "$12,548"), (100.0, "$100"), (99.996, "$100.00"), (4.366, "$4.37"), (0.010786, "$0.0108"),
    (0.00012345, "$0.000123"), (-1234.5, "-$1,234"), (0.0, "$0"), (float("inf"), "n/a"),
])
def test_usd(value, text):
    assert usd(value) == text


def test_quantile_labels():
    assert [quantile_label(q) for q in (0.01, 0.05, 0.25, 0.5, 0.9, 0.99, 0.999)] == [
        "p1", "p5", "p25", "p50", "p90", "p99", "p99.9"]


@pytest.mark.parametrize("span, text", [
    ("0 days 00:14:38.343019991", "14 min 38 s"), ("59s", "59 s"), ("1min", "1 min"), ("2h 5min 10s", "2 h 5 min"),
    ("1D", "1 day"), ("3D 4h", "3 days 4 h"), ("30D", "30 days"), ("1.5s", "1.5 s"),
])
def test_duration_text(span, text):
    assert duration_text(pd.Timedelta(span)) == text


@pytest.mark.parametrize("span, alias", [
    ("2592000s", "30D"), ("3600s", "1h"), ("7D", "7D"), ("36h", "36h"), ("90min", "90min"), ("15s", "15s"),
    ("250ms", "250ms"), ("3us", "3us"), ("7ns", "7ns"), ("0s", "0ns"),
])
def test_duration_alias_is_short_and_reads_back(span, alias):
    assert duration_alias(span) == alias
    assert pd.Timedelta(alias) == pd.Timedelta(span)
