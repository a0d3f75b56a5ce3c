"""`costsim backtest LOG`: the per-origin table, the summary, the plot and the dataset file."""

import numpy as np
import pandas as pd
import xarray as xr

from costsim.cli import main


def _log(path, n=3_000):
    rng = np.random.default_rng(5)
    pd.DataFrame({
        "ts": pd.Timestamp("2026-03-02") + pd.to_timedelta(np.sort(rng.uniform(0, 4 * 3600, n)), unit="s"),
        "prompt": np.round(rng.lognormal(7.0, 0.8, n)).astype(int),
        "completion": np.round(rng.lognormal(5.0, 0.6, n)).astype(int),
    }).to_csv(path, index=False)


def test_backtest_prints_scores_and_writes_the_plot_and_dataset(tmp_path, capsys):
    _log(tmp_path / "log.csv")
    code = main(["backtest", str(tmp_path / "log.csv"), "--column", "timestamp=ts", "--column", "input_tokens=prompt",
                 "--column", "output_tokens=completion", "--input-price", "3", "--output-price", "15",
                 "--origins", "3", "--trials", "20", "--plot", str(tmp_path / "bt.png"),
                 "--out", str(tmp_path / "bt.nc")])
    out = capsys.readouterr().out
    assert code == 0
    assert "backtest: 3 origins (0 without a forecast), 20 trials each" in out
    assert "naive_per_request_score" in out and "p95" in out
    assert (tmp_path / "bt.png").stat().st_size > 10_000
    ds = xr.load_dataset(tmp_path / "bt.nc")
    assert ds.sizes["origin"] == 3 and list(ds["level"].values) == [0.5, 0.9]


def test_backtest_needs_one_pricing(tmp_path, capsys):
    _log(tmp_path / "log.csv", n=300)
    code = main(["backtest", str(tmp_path / "log.csv"), "--input-price", "3"])
    assert code == 2
    assert capsys.readouterr().err.strip() == ("costsim backtest: error: give --model NAME, or both --input-price "
                                               "and --output-price (USD per million tokens)")
    code = main(["backtest", str(tmp_path / "log.csv"), "--model", "gpt-4o", "--input-price", "3"])
    assert code == 2 and "give --model or --input-price/--output-price, not both" in capsys.readouterr().err
    code = main(["backtest", str(tmp_path / "log.csv"), "--model", "gpt-4o", "--column", "timestamp=ts",
                 "--column", "input_tokens=prompt", "--column", "output_tokens=completion", "--pilot", "2.0"])
    assert code == 2 and "pilot must be in (0, 1); got 2.0" in capsys.readouterr().err


def _mooncake_like(path, n=2_000):
    """JSON lines as the Mooncake traces have them: ms from the first request, token counts and the
    hashes of each prompt's 512-token blocks (a few shared documents, then new blocks)."""
    rng = np.random.default_rng(8)
    docs = [[1000 * d + b for b in range(int(rng.integers(1, 12)))] for d in range(40)]
    rows = []
    for i, t in enumerate(np.sort(rng.uniform(0, 2 * 3600_000, n)).astype(int)):
        hashes = docs[int(rng.integers(0, 40))] + [10**6 + 10 * i + j for j in range(int(rng.integers(0, 3)))]
        rows.append({"timestamp": int(t), "input_length": 512 * len(hashes) - int(rng.integers(0, 512)),
                     "output_length": int(rng.lognormal(5.0, 0.6)), "hash_ids": hashes})
    pd.DataFrame(rows).to_json(path, orient="records", lines=True)


def test_backtest_reads_a_preset_export_with_its_prompt_cache(tmp_path, capsys):
    """--preset mooncake: JSON lines, ms timestamps, the cache learned from 512-token block hashes (as
    costsim fit does); a cached-input price makes the cache part of the forecast."""
    _mooncake_like(tmp_path / "trace.jsonl")
    code = main(["backtest", str(tmp_path / "trace.jsonl"), "--preset", "mooncake", "--input-price", "3",
                 "--output-price", "15", "--cached-input-price", "0.3", "--origins", "2", "--trials", "20",
                 "--max-input", "131072", "--out", str(tmp_path / "bt.nc")])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "backtest: 2 origins (0 without a forecast), 20 trials each" in captured.out
    assert xr.load_dataset(tmp_path / "bt.nc").sizes["origin"] == 2
    code = main(["backtest", str(tmp_path / "trace.jsonl"), "--preset", "mooncake", "--column", "timestamp=ts",
                 "--input-price", "3", "--output-price", "15"])
    assert code == 2 and "--preset and --column exclude each other" in capsys.readouterr().err
