"""Issue 11 (hardening), calibration: ordinary logs never crash, nonsense in a log or an argument is
refused naming the column / row or the argument, and large logs fit in bounded time and memory."""

import math
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import costsim as cs
from costsim import ParameterError
from costsim._limits import MAX_TOKENS_PER_CALL
from costsim.calibrate import (
    _bootstrap,
    dependence_distance,
    find_segments,
    fit_tokens,
    ks_distance,
    qq_points,
    read_log,
    segments,
)
from costsim.calibrate.tokens import FAMILIES, FIT_ROWS, _Cells, _neg_loglik

T0 = pd.Timestamp("2026-01-05")


def _tokens(n, seed=0):
    rng = np.random.default_rng(seed)
    return {"input_tokens": np.round(rng.lognormal(6.0, 1.0, n)), "output_tokens": np.round(rng.lognormal(4.0, 0.7, n))}


def _even(n, days, seed=0):
    """``n`` requests evenly spaced over ``days`` (datetime64[ns]): the log's span is exactly ``days``."""
    gap_ns = days * 86_400 * 10**9 // n
    return {"timestamp": T0.to_datetime64() + (np.arange(n) * gap_ns).astype("timedelta64[ns]"), **_tokens(n, seed)}


def _small(n=500, seconds=3600.0, seed=0):
    rng = np.random.default_rng(seed)
    return {"timestamp": np.sort(rng.uniform(0, seconds, n)), **_tokens(n, seed)}


@pytest.fixture(scope="module")
def small_fit():
    return cs.fit_traffic(_small(), families=["LogNormal"])


# ---------------------------------------------------------------------------------------------
# Item 1: the span of an ordinary log overflowed int64 nanoseconds (first-to-last x n)
# ---------------------------------------------------------------------------------------------
SHAPES = [(5_000, 30), (20_000, 7), (120_000, 1)]


@pytest.mark.parametrize("n, days", SHAPES)
def test_span_of_ordinary_logs(n, days):
    log = read_log(_even(n, days))
    # n evenly spaced rows span n gaps exactly (first-to-last is n - 1 gaps)
    assert log.span == pd.Timedelta(days * 86_400 * 10**9 // n * n, unit="ns")


@pytest.mark.parametrize("n, days", SHAPES)
def test_fit_traffic_on_ordinary_logs(n, days):
    fit = cs.fit_traffic(_even(n, days), families=["LogNormal"], segments=1)
    assert fit.span == pd.Timedelta(days=days)
    # evenly spaced arrivals: the rate is n / days exactly, up to the profile correction of partial hours
    assert fit.arrivals.volume == pytest.approx(n / days, rel=1e-3)
    assert fit.arrivals.daily_profile is not None


def test_span_exact_for_huge_products():
    # first-to-last x n is ~1.3e19 ns here: beyond int64, computed exactly in Python integers
    log = read_log({"timestamp": np.array([0, 2_592_000 * 10**9 - 1, 2_592_000 * 10**9], dtype="datetime64[ns]"),
                    "input_tokens": [1, 2, 3], "output_tokens": [1, 2, 3]})
    assert log.span.value == (2_592_000 * 10**9 * 3 + 1) // 2


@pytest.mark.slow  # two subprocesses; in-process: test_fit_traffic_on_ordinary_logs, test_project_arguments
def test_costsim_fit_on_a_month_of_logs(tmp_path):
    n = 5_000
    frame = pd.DataFrame(_even(n, 30))
    frame.to_csv(tmp_path / "log.csv", index=False)
    done = subprocess.run([sys.executable, "-m", "costsim", "fit", "log.csv", "--model", "gpt-4o", "--horizon", "30D",
                           "--bin", "1D", "--out", "s.toml"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"{n:,} requests over 30 days" in done.stdout
    bad = subprocess.run([sys.executable, "-m", "costsim", "fit", "log.csv", "--model", "gpt-4o", "--horizon", "0D",
                          "--out", "t.toml"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert bad.returncode != 0 and "horizon must be a positive duration" in bad.stderr
    assert "Traceback" not in bad.stderr and not (tmp_path / "t.toml").exists()


# ---------------------------------------------------------------------------------------------
# Item 8: numeric timestamps in other units than seconds; absurd values
# ---------------------------------------------------------------------------------------------
def _stamps(values, **kwargs):
    n = len(values)
    return read_log({"timestamp": values, "input_tokens": np.arange(n) + 1, "output_tokens": np.arange(n) + 1},
                    **kwargs)


EPOCH_S = pd.Timestamp("2026-01-01").value // 10**9  # 1767225600


@pytest.mark.parametrize("unit, per_second, word", [
    ("ms", 10**3, "milliseconds"), ("us", 10**6, "microseconds"), ("ns", 10**9, "nanoseconds"),
])
@pytest.mark.parametrize("dtype", [np.int64, np.float64])
def test_epoch_unit_inferred_and_announced(unit, per_second, word, dtype):
    values = (EPOCH_S + np.array([0, 1, 3])) * per_second
    with pytest.warns(UserWarning, match=rf"'timestamp': numeric timestamps read as {word} since 1970 .* "
                                         rf"pass unit='{unit}'"):
        log = _stamps(values.astype(dtype))
    assert log.timestamp_unit == unit
    assert log.start == pd.Timestamp("2026-01-01")
    assert log.span == pd.Timedelta(seconds=4.5)


def test_epoch_seconds_inferred_silently():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        log = _stamps(np.array([EPOCH_S, EPOCH_S + 2.0]))
        relative = _stamps(np.array([0.0, 2.0]))
    assert log.timestamp_unit == relative.timestamp_unit == "s"
    assert log.start == pd.Timestamp("2026-01-01") and relative.span == pd.Timedelta(seconds=4)


def test_explicit_unit():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        log = _stamps(np.array([0, 250, 1000]), unit="ms")  # relative milliseconds: inference would say seconds
    assert log.timestamp_unit == "ms" and log.span == pd.Timedelta(milliseconds=1500)
    dates = _stamps(np.array(["2026-01-01", "2026-01-02"]), unit="ms")  # date-times need no unit: ignored
    assert dates.timestamp_unit is None and dates.start == pd.Timestamp("2026-01-01")
    sub = log.between(end=log.start + pd.Timedelta("300ms"))
    assert len(sub) == 2 and sub.timestamp_unit == "ms"


@pytest.mark.parametrize("values, message", [
    # seconds and milliseconds in one column
    ([EPOCH_S, EPOCH_S * 1000], r"'timestamp': numeric timestamps of different magnitudes \(row 0: 1767225600 reads "
                                r"as seconds, row 1: 1767225600000 as milliseconds\); pass unit="),
    # nanoseconds counted from 0: the first rows look like seconds
    ([0, 10**12, 3 * 10**12], r"row 0: 0 reads as seconds, row 2: 3000000000000 as milliseconds"),
])
def test_mixed_magnitudes_refused(values, message):
    with pytest.raises(ValueError, match=message):
        _stamps(np.array(values))


@pytest.mark.parametrize("kwargs, values, message", [
    ({"unit": "minutes"}, [0.0, 1.0], r"unit must be 's', 'ms', 'us' or 'ns' .*; got 'minutes'"),
    ({"unit": ["ms"]}, [0.0, 1.0], r"unit must be 's', 'ms', 'us' or 'ns' .*; got \['ms'\]"),
    ({"unit": "s"}, [EPOCH_S, 1e11], r"'timestamp': as seconds since 1970, timestamps must lie in \[-9\.22329e\+09, "
                                     r"9\.2232e\+09\] \(1677-09-22 to 2262-04-10; pass unit= if .s. is not the "
                                     r"unit meant\); 1 of 2 rows do not \(first at row 1: 100000000000\.0\)"),
    ({}, [0.0, np.inf], r"'timestamp': timestamps must be finite; 1 of 2 rows are not \(first at row 1: inf\)"),
    ({}, [0.0, np.nan], r"'timestamp': 1 of 2 rows are missing \(NaN/NaT\) \(first at row 1"),
    ({}, [True, False], r"'timestamp': timestamps must be date-times or numbers; got booleans"),
    ({}, ["2026-01-01", "2500-01-01"], r"'timestamp': date-times must lie between 1677-09-22 and 2262-04-10; 1 of 2 "
                                       r"rows do not \(first at row 1: '2500-01-01'\)"),
    ({}, np.array(["2026-01-01", "3000-01-01"], dtype="datetime64[s]"), r"first at row 1: .*3000"),
    ({}, ["1900-01-01", "2026-01-01"], r"'timestamp': a log may cover at most 100 years; this one covers 126 years "
                                       r"\(row 0: 1900-01-01 00:00:00 to row 1: 2026-01-01"),
    ({}, ["2262-04-09", "2262-04-01"], r"'timestamp': the log's window .*row 1: 2262-04-01 00:00:00 to row 0: "
                                       r"2262-04-09 00:00:00\) must end by 2262-04-10"),
])
def test_bad_timestamps_refused(kwargs, values, message):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "sorted the log by time"
        with pytest.raises(ValueError, match=message):
            _stamps(values if isinstance(values, np.ndarray) else np.array(values), **kwargs)


def test_datetime64_seconds_beyond_2262_do_not_wrap():
    # a datetime64[s] column of year 3000 used to become 1830 silently
    with pytest.raises(ValueError, match=r"'timestamp': date-times must lie between .*first at row 1"):
        _stamps(np.array(["2026-01-01", "3000-01-01"], dtype="datetime64[s]"))


@pytest.mark.parametrize("values, message", [
    ([1, 1e20, 3], r"'output_tokens': token counts must be <= 1,073,741,824 \(MAX_TOKENS_PER_CALL\); 1 of 3 rows "
                   r"exceed it \(first at row 1: 1e\+20\)"),
    ([1, 2, MAX_TOKENS_PER_CALL + 1], r"1 of 3 rows exceed it \(first at row 2: 1073741825\)"),
    (np.array([1, 2**63, 3], dtype=np.uint64), r"1 of 3 rows exceed it \(first at row 1: 9223372036854775808\)"),
    ([1, np.inf, 3], r"1 of 3 rows exceed it \(first at row 1: inf\)"),
    (["1", "1e20", "3"], r"1 of 3 rows exceed it \(first at row 1: '1e20'\)"),
    ([True, False, True], r"'output_tokens': token counts must be numbers; got booleans"),
])
def test_absurd_token_counts_refused(values, message):
    data = {"timestamp": [0.0, 1.0, 2.0], "input_tokens": [1, 2, 3], "output_tokens": values}
    with pytest.raises(ValueError, match=message):
        read_log(data)


def test_token_bound_is_inclusive():
    log = read_log({"timestamp": [0.0, 1.0], "input_tokens": [MAX_TOKENS_PER_CALL, 0], "output_tokens": [1, 2]})
    assert log.input_tokens.tolist() == [MAX_TOKENS_PER_CALL, 0] and log.input_tokens.dtype == np.int64


def test_log_arrays_are_copies():
    data = {"timestamp": np.arange(4.0), "input_tokens": np.arange(4), "output_tokens": np.arange(4)}
    log = read_log(data)
    data["input_tokens"][0] = 99
    assert log.input_tokens[0] == 0


def test_classes_of_mixed_types_and_missing():
    log = read_log({**_small(4), "qclass": [1, "a", 1, "a"]})
    assert log.class_names == ("1", "a")
    with pytest.raises(ValueError, match=r"'qclass': 1 of 4 rows have no class \(NaN/None\) \(first at row 2"):
        read_log({**_small(4), "qclass": ["a", "b", None, "a"]})


@pytest.mark.parametrize("content, message", [
    ("", r"log file '.*log\.csv' is empty: no header and no rows"),
    ("timestamp,input_tokens,output_tokens\n", r"log file '.*log\.csv' has no rows \(columns \['timestamp', "),
    ("timestamp,input_tokens,output_tokens\n0,1,2\n1,2,3,4,5\n", r"log file '.*log\.csv' is not a readable CSV file"),
])
def test_unreadable_csv(tmp_path, content, message):
    (tmp_path / "log.csv").write_text(content)
    with pytest.raises(ValueError, match=message):
        read_log(tmp_path / "log.csv")
    with pytest.raises(ValueError, match=message):
        cs.fit_traffic(str(tmp_path / "log.csv"))


def test_duplicates_dropped_below_two_rows():
    with pytest.warns(UserWarning, match="dropped 1 of 2 rows"):
        with pytest.raises(ValueError, match="needs at least 2 rows .* got 1 after dropping duplicates"):
            read_log({"timestamp": [1.0, 1.0], "input_tokens": [5, 5], "output_tokens": [1, 1]}, duplicates="drop")


# ---------------------------------------------------------------------------------------------
# Items 8 and 9: arguments of read_log, fit_traffic, fit_arrivals, project, pilot_gap, qq_points
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    ({"bin": "abc"}, r"^bin must be a positive duration such as '30D' or '1h'; got 'abc'$"),
    ({"bin": "0s"}, r"^bin must be a positive duration .*; got '0s'$"),
    ({"bin": "-1min"}, r"^bin must be a positive duration .*; got '-1min'$"),
    ({"bin": "1h"}, r"^bin must be at most half the log's span \(59 min \d+ s\): two bins at least \(a log this short needs a "
                     r"shorter bin=\); got '1h'$"),
    ({"bin": "1us"}, r"^bin must leave at most 16,777,216 bins in the log's span .*; got '1us'$"),
    ({"block": "0s"}, r"^block must be a positive duration .*; got '0s'$"),
    ({"block": "30s"}, r"^block must be at least bin \(0 days 00:01:00\) and shorter than the log's span .*leaving "
                       r"2 to 10,000 blocks; got '30s'$"),
    ({"block": "2h"}, r"^block must be at least bin .*; got '2h'$"),
    ({"bin": "0.1s", "block": "0.2s"}, r"^block must be at least bin .*leaving 2 to 10,000 blocks; got '0.2s'$"),
    ({"seed": -1}, r"^seed must be >= 0; got -1$"),
    ({"seed": 1.5}, r"^seed must be an integer; got 1\.5$"),
    ({"segments": 0}, r"^segments must be >= 1; got 0$"),
    ({"cap": 0}, r"^cap must be >= 1; got 0$"),
    ({"cap": "max"}, r"^cap must be 'auto', None or an integer >= 1; got 'max'$"),
    ({"families": ["Lognormal"]}, r"^families must be a non-empty list of names among \['LogNormal', .*; "
                                  r"got \['Lognormal'\]$"),
    ({"families": []}, r"^families must be a non-empty list of names .*; got \[\]$"),
    ({"span": ("soon", "later")}, r"^span\[0\] must be a date-time such as '2026-01-05T00:00'; got 'soon'$"),
    ({"span": (T0, T0)}, r"^span must be \(start, end\) with start < end; got "),
    ({"span": "2026-01-05"}, r"^span must be \(start, end\), two date-times; got '2026-01-05'$"),
    ({"duplicates": "ignore"}, r"^duplicates must be 'warn', 'drop' or 'raise'; got 'ignore'$"),
    ({"unit": "sec"}, r"^unit must be 's', 'ms', 'us' or 'ns' .*; got 'sec'$"),
])
def test_fit_traffic_arguments(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        cs.fit_traffic(_small(), **kwargs)


def test_fit_traffic_other_arguments():
    with pytest.raises(TypeError, match="columns must be a mapping of field -> column name; got list"):
        cs.fit_traffic(_small(), columns=["timestamp"])
    with pytest.raises(TypeError, match="log must be a pandas DataFrame, a CSV path or a mapping of columns; got int"):
        cs.fit_traffic(7)
    with pytest.raises(ValueError, match=r"every column must be 1-d and of the same length; got shapes"):
        cs.fit_traffic({"timestamp": [0.0, 1.0], "input_tokens": [1, 2, 3], "output_tokens": [1, 2]})
    with pytest.raises(ValueError, match=r"log: all 3 rows arrived at 1970-01-01 00:00:05; a rate needs arrivals at "
                                         "different times"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # repeated timestamps
            cs.fit_traffic({"timestamp": [5.0] * 3, "input_tokens": [1, 2, 3], "output_tokens": [1, 2, 3]})


def test_a_single_family_name_is_accepted():
    fit = cs.fit_traffic(_small(), families="LogNormal")
    assert {c.input_tokens.family for c in fit.classes.values()} == {"LogNormal"}


@pytest.mark.parametrize("kwargs, error, message", [
    ({"horizon": "0D"}, ParameterError, r"^horizon must be a positive duration such as '30D' or '1h'; got '0D'$"),
    ({"horizon": "-2h"}, ParameterError, r"^horizon must be a positive duration .*; got '-2h'$"),
    ({"horizon": "500ms"}, ParameterError, r"^horizon must be at least 1 second \(bins are whole seconds\); "
                                           r"got '500ms'$"),
    ({"horizon": "1D", "bin": "0s"}, ParameterError, r"^bin must be a positive duration .*; got '0s'$"),
    ({"start": "soon"}, ParameterError, r"^start must be a date-time such as '2026-01-05T00:00'; got 'soon'$"),
    ({"drift": -0.1}, ParameterError, r"^drift must be >= 0; got -0\.1$"),
    ({"drift": "x"}, ParameterError, r"^drift must be 'auto', a number >= 0 or a costsim Distribution; got 'x'$"),
    ({"uncertainty": "no"}, ParameterError, r"^uncertainty must be True or False; got 'no'$"),
    ({"mix": [0.5]}, TypeError, r"^mix must be a mapping of class -> share or a costsim\.MixShift; got list$"),
    ({"volume": -5.0}, ParameterError, r"^Arrivals: volume must be .*; got -5\.0$"),
])
def test_project_arguments(small_fit, kwargs, error, message):
    with pytest.raises(error, match=message):
        cs.project(small_fit, **kwargs)


def test_project_needs_a_fit():
    with pytest.raises(TypeError, match=r"fit must be a costsim\.calibrate\.TrafficFit \(from fit_traffic\); got dict"):
        cs.project({"volume": 1})


def test_pilot_gap_quantiles(small_fit):
    with pytest.raises(ParameterError, match=r"^quantiles\[1\] must be in \[0, 1\]; got 1\.5$"):
        cs.pilot_gap(small_fit, cs.TokenPricing(3.0, 15.0), quantiles=(0.5, 1.5))


def test_other_calibration_arguments(small_fit):
    with pytest.raises(ParameterError, match=r"^n must be >= 1; got 0$"):
        qq_points(small_fit, n=0)
    with pytest.raises(ParameterError, match=r"^start must be a date-time .*; got 'soon'$"):
        small_fit.log.between(start="soon")
    with pytest.raises(ParameterError, match=r"^seed must be >= 0; got -3$"):
        cs.calibrate.fit_arrivals(small_fit.log.timestamp, start=small_fit.start, span=small_fit.span, seed=-3)
    with pytest.raises(ParameterError, match=r"^span must be a positive duration .*; got 'long'$"):
        cs.calibrate.fit_arrivals(small_fit.log.timestamp, start=small_fit.start, span="long")
    with pytest.raises(ParameterError, match=r"^max_segments must be >= 1; got 0$"):
        find_segments(np.arange(10.0), np.arange(10.0), max_segments=0)
    assert find_segments(np.arange(10.0), np.arange(10.0), max_segments=np.int64(2)).shape == (10,)
    with pytest.raises(ParameterError, match=r"^max_rows must be >= 1; got 0$"):
        fit_tokens(np.arange(100), max_rows=0)
    with pytest.raises(ValueError, match=r"tokens: token counts must be a 1-d array of numbers; got shape \(2, 2\)"):
        fit_tokens(np.ones((2, 2)))


# ---------------------------------------------------------------------------------------------
# Acceptance 3: large logs.  Fits on subsamples, and exact O(n) rewrites checked against references
# ---------------------------------------------------------------------------------------------
def test_large_column_fitted_on_a_seeded_subsample():
    rng = np.random.default_rng(7)
    x = np.round(rng.lognormal(6.0, 1.0, 20_000))
    sub = fit_tokens(x, families=["LogNormal"], cap=None, max_rows=4_000, seed=3)
    full = fit_tokens(x, families=["LogNormal"], cap=None, max_rows=None)
    assert (sub.n, sub.fit_rows, full.fit_rows) == (20_000, 4_000, 20_000)
    # mu from 4,000 rows with sigma 1: sd 1 / sqrt(4000) = 0.016 around the full fit (itself 0.007 from the truth)
    assert abs(sub.body.mu - full.body.mu) < 4 / math.sqrt(4_000)
    assert abs(sub.body.sigma - full.body.sigma) < 4 / math.sqrt(2 * 4_000)
    again = fit_tokens(x, families=["LogNormal"], cap=None, max_rows=4_000, seed=3)
    assert again.distribution == sub.distribution  # the subsample is seeded
    assert sub.ks == ks_distance(sub.distribution, x)  # goodness of fit on every row


def test_fit_traffic_beyond_fit_rows():
    n = FIT_ROWS + 50_000
    log = _small(n, seconds=86_400.0, seed=5)
    fit = cs.fit_traffic(log, families=["LogNormal"], segments=1, seed=2)
    col = fit.classes["all"].input_tokens
    assert (col.n, col.fit_rows) == (n, FIT_ROWS)
    # mu and sigma from FIT_ROWS rows of LogNormal(6, 1): sd 1 / sqrt(2e5) = 0.0022 and 0.0016
    assert abs(col.body.mu - 6.0) < 4 * 0.0022 and abs(col.body.sigma - 1.0) < 4 * 0.0016
    assert fit.report.tokens.loc[("all", "input_tokens"), "rows"] == n
    assert fit.arrivals.volume == pytest.approx(n / (fit.span / pd.Timedelta(days=1)))  # volume: every row
    same = cs.fit_traffic(log, families=["LogNormal"], segments=1, seed=2).classes["all"].input_tokens
    other = cs.fit_traffic(log, families=["LogNormal"], segments=1, seed=3).classes["all"].input_tokens
    assert same.distribution == col.distribution != other.distribution  # the subsample follows the seed


def test_segments_of_a_large_class(monkeypatch):
    # more rows than FIT_ROWS: EM on a subsample, then every row to its most likely segment
    monkeypatch.setattr(segments, "FIT_ROWS", 1_000)
    rng = np.random.default_rng(0)
    a = np.r_[rng.lognormal(7.0, 0.1, 2000), rng.lognormal(5.0, 0.5, 2000)].round()
    b = np.r_[rng.lognormal(6.0, 0.1, 2000), rng.lognormal(3.0, 0.5, 2000)].round()
    labels = find_segments(a, b, seed=1)
    assert np.bincount(labels).tolist() == [2000, 2000]
    assert labels[:2000].tolist() == [1] * 2000  # ordered by mean log-size


def _naive_dependence_distance(x, y, labels, grid=40):
    """The definition, with an n x grid indicator matrix per column."""
    q = np.linspace(0.02, 0.98, grid)
    ix = x[:, None] <= np.unique(np.quantile(x, q))[None, :]
    iy = y[:, None] <= np.unique(np.quantile(y, q))[None, :]
    joint = (ix.T.astype(float) @ iy.astype(float)) / x.shape[0]
    model = np.zeros_like(joint)
    for j in np.unique(labels):
        m = labels == j
        model += m.mean() * np.outer(ix[m].mean(axis=0), iy[m].mean(axis=0))
    return float(np.abs(joint - model).max())


@pytest.mark.parametrize("seed", range(6))
def test_dependence_distance_matches_the_definition(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(200, 3000))
    x = np.round(rng.lognormal(5.0, 1.0, n))
    y = np.round(x * rng.lognormal(0.0, 1.0, n)) if seed % 2 else np.round(rng.lognormal(3.0, 1.0, n))
    labels = rng.integers(0, 1 + seed % 4, n)
    assert dependence_distance(x, y, labels) == pytest.approx(_naive_dependence_distance(x, y, labels), abs=1e-12)


def test_ks_distance_matches_the_definition():
    rng = np.random.default_rng(2)
    x = np.round(rng.lognormal(3.0, 0.8, 3000))
    dist = cs.LogNormal(3.05, 0.75)
    xs = np.sort(x)
    at = np.r_[np.unique(xs), np.unique(xs) - 1.0]
    naive = np.max(np.abs(dist.cdf(at + 0.5) - np.searchsorted(xs, at, side="right") / xs.size))
    assert ks_distance(dist, x) == pytest.approx(naive, abs=1e-15)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_likelihood_on_shared_edges_matches_the_definition(family):
    rng = np.random.default_rng(4)
    x = np.round(rng.lognormal(4.0, 1.0, 2000))
    lo = float(np.quantile(x, 0.97))
    cells = _Cells.of(x, lo)
    fam = FAMILIES[family]
    theta = fam.starts(np.log(x + 0.5))[0]
    body = x[x < lo]
    c_hi, s_hi = fam.cdf_sf(body + 0.5, theta)
    c_lo, s_lo = fam.cdf_sf(body - 0.5, theta)
    p = np.where(c_hi < 0.5, c_hi - c_lo, s_lo - s_hi)
    naive = -(np.sum(np.log(np.maximum(p, 1e-300)))
              + (x.size - body.size) * math.log(fam.cdf_sf(np.array([lo - 0.5]), theta)[1][0]))
    assert _neg_loglik(fam, theta, cells) == pytest.approx(naive, rel=1e-12)


def test_bootstrap_in_chunks_gives_the_same_draws(monkeypatch):
    rng = np.random.default_rng(0)
    values, sizes = rng.gamma(2.0, 5.0, 37), rng.uniform(1, 2, 37)
    whole = _bootstrap.log_ratio_variance(values, sizes, seed=4)
    monkeypatch.setattr(_bootstrap, "_CHUNK", 100)  # 2 resamples per chunk
    assert _bootstrap.log_ratio_variance(values, sizes, seed=4) == whole


@pytest.mark.slow
def test_a_million_rows_fit_in_bounded_time():
    import time

    rng = np.random.default_rng(11)
    n = 1_000_000
    kind = rng.random(n) < 0.3
    log = pd.DataFrame({
        "timestamp": np.sort(rng.uniform(0, 7 * 86_400, n)),
        "input_tokens": np.minimum(np.round(np.where(kind, rng.lognormal(9.0, 0.8, n), rng.lognormal(6.0, 1.0, n))),
                                   32_768),
        "output_tokens": np.round(rng.lognormal(5.0, 0.6, n)),
        "qclass": np.where(kind, "rag", "chat"),
    })
    cpu = time.process_time()
    fit = cs.fit_traffic(log, families=["LogNormal", "Mixture2"])
    cpu = time.process_time() - cpu
    rag = fit.classes["rag"]
    assert rag.input_tokens.fit_rows == FIT_ROWS < rag.n
    assert rag.input_tokens.pile is not None and rag.input_tokens.pile.cap == 32_768
    # a share of 0.3 from 1e6 rows: sd 0.00046
    assert abs(rag.share - 0.3) < 4 * 0.00046
    assert cpu < 60, f"{cpu:.1f} s of CPU"  # ~10 s on the 2-core development machine


def test_numbers_in_an_object_column_are_epoch_times_not_nanoseconds(tmp_path):
    # an object column of numbers (a DataFrame built with dtype=object, or JSON lines whose
    # timestamps are not all of one type) was parsed by pandas as nanoseconds since 1970: a log of
    # one request per second read as one per nanosecond, its rate a billion times too high
    stamps = [EPOCH_S, EPOCH_S + 1, EPOCH_S + 2]
    log = _stamps(pd.Series(stamps, dtype=object))
    assert log.timestamp_unit == "s"
    assert log.start == pd.Timestamp("2026-01-01") and log.span == pd.Timedelta(seconds=3)
    np.testing.assert_array_equal(log.timestamp, _stamps(np.array(stamps)).timestamp)
    with pytest.raises(ValueError, match=r"'timestamp': timestamps must be all date-times or all numbers; 1 of 2 "
                                         r"rows are numbers among date-times \(first at row 0: 1767225600\)"):
        _stamps(pd.Series([EPOCH_S, "2026-01-01T00:00:01"], dtype=object))
    with pytest.raises(ValueError, match=r"numeric timestamps must be below 2\*\*63 in magnitude; 1 of 2 rows are not"):
        _stamps(pd.Series([10**400, 1], dtype=object))
    path = tmp_path / "mixed.jsonl"
    path.write_text('{"timestamp": 0, "input_tokens": 1, "output_tokens": 1}\n'
                    '{"timestamp": "1970-01-01T00:00:01", "input_tokens": 1, "output_tokens": 1}\n')
    with pytest.raises(ValueError, match=r"all date-times or all numbers; 1 of 2 rows are numbers"):
        read_log(path)


def test_a_repeated_column_name_is_refused_naming_it():
    # frame["input_tokens"] is then a DataFrame: a TypeError from pandas' to_numeric
    frame = pd.DataFrame([[0.0, 1, 5, 1], [1.0, 2, 6, 1]],
                         columns=["timestamp", "input_tokens", "input_tokens", "output_tokens"])
    with pytest.raises(ValueError, match=r"log: column 'input_tokens' appears more than once; the log has "
                                         r"\['timestamp', 'input_tokens', 'input_tokens', 'output_tokens'\]"):
        read_log(frame)
    frame.columns = ["timestamp", "input_tokens", "note", "note"]  # a repeat in an unused column is harmless
    assert len(read_log(frame, columns={"output_tokens": "input_tokens"})) == 2


def test_day_first_date_times_are_read_day_first_in_every_row():
    # the format inferred from '01/02/2024' is month first; '13/02/2024' does not fit it, and the
    # row-by-row fallback read it day first: 1 Feb read as 2 Jan beside 13 Feb, a 13-day log spanning 43
    stamps = ["01/02/2024 10:00", "13/02/2024 10:00", "14/02/2024 10:00"]
    with pytest.warns(UserWarning, match=r"'timestamp': date-times read day first \(such as '01/02/2024 10:00'\)"):
        log = _stamps(np.array(stamps, dtype=object))
    assert [str(t)[:10] for t in log.timestamp.astype("datetime64[D]")] == ["2024-02-01", "2024-02-13", "2024-02-14"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # month first where every row fits it; ISO dates as ever
        assert str(_stamps(np.array(["01/02/2024", "12/02/2024"], dtype=object)).start) == "2024-01-02 00:00:00"
        assert len(_stamps(np.array(["2024-02-01T10:00", "Feb 13 2024 10:00"], dtype=object))) == 2
