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
