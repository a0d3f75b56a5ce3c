"""`costsim fit LOG --out SCENARIO` in a subprocess: a scenario file that loads and runs."""

import subprocess
import sys

import numpy as np
import pandas as pd

from costsim.scenario import load_scenario


def _costsim(*args, cwd):
    return subprocess.run([sys.executable, "-m", "costsim", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def _log(path, n=3_000):
    rng = np.random.default_rng(5)
    pd.DataFrame({
        "ts": pd.Timestamp("2026-03-02") + pd.to_timedelta(np.sort(rng.uniform(0, 7200, n)), unit="s"),
        "prompt": np.round(rng.lognormal(7.0, 0.8, n)).astype(int),
        "completion": np.round(rng.lognormal(5.0, 0.6, n)).astype(int),
    }).to_csv(path, index=False)


def test_fit_writes_a_scenario_that_runs(tmp_path):
    _log(tmp_path / "log.csv")
    done = _costsim("fit", "log.csv", "--column", "timestamp=ts", "--column", "input_tokens=prompt",
                    "--column", "output_tokens=completion", "--model", "gpt-4o", "--model", "gpt-4o-mini",
                    "--volume", 20_000, "--horizon", "3D", "--bin", "1h", "--trials", 4, "--seed", 1,
                    "--out", "scenario.toml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Token distributions" in done.stdout and "worst KS distance" in done.stdout
    scenario = load_scenario(tmp_path / "scenario.toml")
    assert list(scenario.options) == ["gpt-4o", "gpt-4o-mini"] and scenario.trials == 4
    assert pd.Timedelta(scenario.traffic.arrivals.horizon) == pd.Timedelta("3D")
    run = _costsim("run", "scenario.toml", "--out", "r.nc", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "gpt-4o-mini" in run.stdout


def test_fit_bad_input_is_one_line_and_writes_nothing(tmp_path):
    _log(tmp_path / "log.csv")
    done = _costsim("fit", "log.csv", "--model", "gpt-4o", "--out", "s.toml", cwd=tmp_path)  # column names
    assert done.returncode == 2
    assert done.stderr.startswith("costsim fit: error:") and len(done.stderr.strip().splitlines()) == 1
    assert "no column for input_tokens" in done.stderr and "the log has ['ts', 'prompt', 'completion']" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv"]


def test_fit_unit_sets_the_epoch_unit_of_numeric_timestamps(tmp_path):
    """Epoch seconds read as milliseconds (--unit ms) span 1,000 times less time: the fitted
    volume per day is 1,000 times larger; without --unit the magnitude says seconds."""
    from costsim.cli import main

    rng = np.random.default_rng(2)
    n = 2_000
    pd.DataFrame({"timestamp": 1.77e9 + np.sort(rng.uniform(0, 4 * 86_400, n)),
                  "input_tokens": np.round(rng.lognormal(6.0, 0.5, n)).astype(int),
                  "output_tokens": np.round(rng.lognormal(4.0, 0.5, n)).astype(int)}).to_csv(tmp_path / "log.csv",
                                                                                             index=False)
    volumes = {}
    for unit in (None, "s", "ms"):
        out = tmp_path / f"{unit}.toml"
        args = ["fit", str(tmp_path / "log.csv"), "--model", "gpt-4o", "--out", str(out), "--seed", "1"]
        assert main([*args, *(["--unit", unit] if unit else [])]) == 0
        volumes[unit] = load_scenario(out).traffic.arrivals.volume
    assert volumes[None] == volumes["s"]  # uncertain volumes: joint scenarios of requests per day
    # the levels (medians of the joint scenarios, each within a few % of its fitted volume) differ by 1,000x
    ratio = np.median(np.log(volumes["ms"].values)) - np.median(np.log(volumes["s"].values))
    assert abs(ratio - np.log(1_000.0)) < 0.1


def test_fit_preset_limits_and_cache(tmp_path):
    rng = np.random.default_rng(2)
    n = 2_000
    prompts = np.round(rng.lognormal(7.0, 0.8, n)).astype(int)
    pd.DataFrame({  # the Mooncake trace format: milliseconds, 512-token blocks
        "timestamp": np.sort(rng.integers(0, 3_600_000, n)), "input_length": prompts,
        "output_length": np.minimum(np.round(rng.lognormal(5.0, 0.6, n)), 800).astype(int),
        "hash_ids": [[0, *rng.integers(1, 50, size=p // 512)][: max(p // 512, 1)] for p in prompts],
    }).to_json(tmp_path / "trace.jsonl", orient="records", lines=True)
    done = _costsim("fit", "trace.jsonl", "--preset", "mooncake", "--max-output", 800, "--cache-ttl", "5min",
                    "--model", "gpt-4o", "--horizon", "1D", "--bin", "1h", "--out", "s.toml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "prompt cache: observed hit share" in done.stdout and "TTL 300 s" in done.stdout
    assert all(c.output_tokens.upper == 800.0 for c in load_scenario(tmp_path / "s.toml").traffic.classes)
    bad = _costsim("fit", "trace.jsonl", "--preset", "mooncake", "--max-output", 100, "--model", "gpt-4o",
                   "--out", "t.toml", cwd=tmp_path)
    assert bad.returncode != 0 and "exceed the limit of 100 tokens" in bad.stderr
