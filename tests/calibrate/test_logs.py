"""Reading logs: every kind of bad input raises naming the column and the rows affected."""

import warnings

import numpy as np
import pandas as pd
import pytest

from costsim.calibrate import read_log


def _log(n=5, **cols):
    base = {"timestamp": np.arange(n, dtype=float), "input_tokens": np.arange(10, 10 + n),
            "output_tokens": np.arange(1, 1 + n)}
    base.update(cols)
    return base


def test_reads_mapping_dataframe_and_csv(tmp_path):
    frame = pd.DataFrame({"TIMESTAMP": ["2023-11-16 18:17:03.97", "2023-11-16 18:17:04.03", "2023-11-16 18:17:05"],
                          "ContextTokens": [4808, 3180, 10], "GeneratedTokens": [10, 8, 3]})
    path = tmp_path / "log.csv"
    frame.to_csv(path, index=False)
    for source in (frame, path, str(path)):
        log = read_log(source)
        assert len(log) == 3
        assert log.input_tokens.tolist() == [4808, 3180, 10]
        assert log.timestamp.dtype == np.dtype("datetime64[ns]")
        assert log.class_names == ("all",)


def test_custom_columns_class_and_cached():
    frame = pd.DataFrame({"t": [0.0, 1.0, 2.0], "p": [100, 200, 300], "c": [10, 20, 30],
                          "kind": ["a", "b", "a"], "hit": [50, 0, 300]})
    log = read_log(frame, columns={"timestamp": "t", "input_tokens": "p", "output_tokens": "c",
                                   "qclass": "kind", "cached_tokens": "hit"})
    assert log.class_names == ("a", "b")
    assert log.cached_tokens.tolist() == [50, 0, 300]


@pytest.mark.parametrize("drop, message", [
    ("timestamp", "no column for timestamp"),
    ("input_tokens", "no column for input_tokens"),
    ("output_tokens", "no column for output_tokens"),
])
def test_missing_column(drop, message):
    data = _log()
    del data[drop]
    with pytest.raises(ValueError, match=message):
        read_log(data)


def test_named_column_missing():
    with pytest.raises(ValueError, match=r"column 'prompt' \(for input_tokens\) is missing"):
        read_log(_log(), columns={"input_tokens": "prompt"})


@pytest.mark.parametrize("column, values, message", [
    ("input_tokens", [1, 2, np.nan, 4, np.nan], "'input_tokens': 2 of 5 rows are missing or not numbers"),
    ("output_tokens", [1, -2, 3, -4, 5], "'output_tokens': token counts must be >= 0; 2 of 5 rows are negative"),
    ("input_tokens", [1.0, 2.5, 3.0, 4.0, 5.0], "'input_tokens': token counts must be whole numbers; 1 of 5 rows"),
    ("input_tokens", ["1", "2", "x", "4", "5"], "'input_tokens': 1 of 5 rows are missing or not numbers"),
    ("timestamp", [0.0, 1.0, np.nan, 3.0, 4.0], "'timestamp': 1 of 5 rows are missing"),
    ("timestamp", ["2026-01-01", "soon", "2026-01-02", "2026-01-03", "2026-01-04"],
     "'timestamp': 1 of 5 rows are not date-times"),
])
def test_bad_values_name_column_and_rows(column, values, message):
    with pytest.raises(ValueError, match=message):
        read_log(_log(**{column: values}))


def test_cached_above_input():
    with pytest.raises(ValueError, match=r"cached tokens must be <= input tokens .* 1 of 5 rows exceed"):
        read_log(_log(cached_tokens=[0, 0, 100, 0, 0]))


def test_class_nan():
    with pytest.raises(ValueError, match="'qclass': 1 of 5 rows have no class"):
        read_log(_log(qclass=["a", None, "a", "b", "b"]))


def test_too_few_rows():
    with pytest.raises(ValueError, match="at least 2 rows"):
        read_log(_log(n=1))


def test_unsorted_is_sorted_with_warning():
    with pytest.warns(UserWarning, match="1 of 4 rows are earlier than the row before them; sorted"):
        log = read_log({"timestamp": [0.0, 2.0, 1.0, 3.0], "input_tokens": [10, 30, 20, 40],
                        "output_tokens": [1, 3, 2, 4]})
    assert log.input_tokens.tolist() == [10, 20, 30, 40]
    assert np.all(np.diff(log.timestamp) >= np.timedelta64(0))


def test_duplicates_warn_drop_raise():
    # a fine clock (timestamps to the 100 ns): a repeat is suspicious (coarse clocks: test_coarse_clock_ticks)
    t = 1.0000003
    data = {"timestamp": [0.0, t, t, t, 2.0], "input_tokens": [1, 2, 2, 3, 4], "output_tokens": [1, 1, 1, 1, 1]}
    with pytest.warns(UserWarning, match="2 of 5 rows repeat a timestamp; kept"):
        assert len(read_log(data)) == 5
    with pytest.warns(UserWarning, match="dropped 1 of 5 rows"):
        assert len(read_log(data, duplicates="drop")) == 4
    with pytest.raises(ValueError, match="2 of 5 rows repeat the timestamp"):
        read_log(data, duplicates="raise")
    with pytest.raises(ValueError, match="duplicates must be"):
        read_log(data, duplicates="ignore")


def test_coarse_clock_ticks_repeat_without_a_warning():
    rng = np.random.default_rng(0)
    seconds = np.sort(rng.integers(0, 60, 500)).astype(float)  # ~8 rows per second on a 1 s clock
    data = {"timestamp": seconds, "input_tokens": np.arange(500), "output_tokens": np.ones(500, dtype=int)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        log = read_log(data)
        ms = read_log({**data, "timestamp": np.sort(np.round(rng.uniform(0, 0.2, 500), 3))})  # 500 rows in 200 ms
    assert (len(log), log.timestamp_tick) == (500, "1s")
    assert (len(ms), ms.timestamp_tick) == (500, "1ms")
    assert read_log({**data, "timestamp": np.arange(500.0)}).timestamp_tick is None  # no repeats: no tick


def test_between_and_span():
    log = read_log(_log(n=11))
    assert log.span == pd.Timedelta(seconds=11)  # 10 gaps of 1 s between 11 rows, plus one gap
    assert len(log.between(start=log.start + pd.Timedelta(seconds=5))) == 6


def test_column_presets(tmp_path):
    path = tmp_path / "trace.jsonl"
    pd.DataFrame({"timestamp": [0, 250, 250, 3052], "input_length": [6755, 7319, 700, 2287],
                  "output_length": [500, 490, 20, 316],
                  "hash_ids": [list(range(14)), [0, *range(14, 28)], [0, 1], [0, 42, 43, 44, 45]]}
                 ).to_json(path, orient="records", lines=True)
    log = read_log(path, columns="mooncake")  # milliseconds and 512-token blocks, from the preset
    assert (log.timestamp_unit, log.block_tokens, str(log.span)) == ("ms", 512, "0 days 00:00:04.069333333")
    assert log.cached_tokens.tolist() == [0, 512, 700, 512]  # no expiry known: every earlier use counts (at most the prompt)
    spend = pd.DataFrame({"startTime": ["2026-01-05 10:00:00", "2026-01-05 10:00:01"], "prompt_tokens": [10, 20],
                          "completion_tokens": [1, 2], "model": ["gpt-4o", "gpt-4o-mini"]})
    assert read_log(spend, columns="litellm-spend-logs").class_names == ("all",)
    with pytest.raises(Exception, match=r"columns must be a mapping or a preset among \['azure-llm-2023'"):
        read_log(spend, columns="openai-usage")


def test_json_lines_errors(tmp_path):
    empty, broken = tmp_path / "empty.jsonl", tmp_path / "broken.jsonl"
    empty.write_text("")
    broken.write_text('{"timestamp": 1, \n')
    with pytest.raises(ValueError, match=r"empty.jsonl' has no rows"):
        read_log(empty)
    with pytest.raises(ValueError, match=r"broken.jsonl' is not readable JSON lines"):
        read_log(broken)


def test_a_log_prints_as_one_line_not_its_arrays():
    log = read_log({"timestamp": np.arange(5000.0), "input_tokens": np.full(5000, 100),
                    "output_tokens": np.full(5000, 10), "session_id": np.arange(5000) // 4})
    text = repr(log)
    assert "\n" not in text and "array" not in text and len(text) < 200
    assert text.startswith("TrafficLog(5,000 rows from 1970-01-01 00:00:00 over 1 h 23 min;") and "sessions" in text


def test_relative_whole_numbers_over_a_day_warn_that_they_may_be_milliseconds():
    """Milliseconds counted from 0 (as some trace exports are) read as seconds span 41 days: the
    reader says so, and how to read them; unit= silences it, and relative seconds within a day or
    epoch seconds do not warn."""
    n = 18_000
    ms = {"timestamp": np.arange(0, 3_600_000, 200), "input_tokens": np.full(n, 10), "output_tokens": np.full(n, 1)}
    with pytest.warns(UserWarning, match=r"read as seconds \(inferred\), counted from 0 rather than since 1970, so "
                                         r"the log spans 41 days 16 h; .*it would span 60 min\), pass unit='ms'"):
        read_log(ms)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert str(read_log(ms, unit="ms").span) == "0 days 01:00:00"
        read_log(ms, unit="s")
        read_log({**ms, "timestamp": np.arange(n) * 4.0})  # relative seconds over 20 h
        read_log({**ms, "timestamp": 1_767_225_600 + np.arange(n) * 60})  # epoch seconds over 12 days
