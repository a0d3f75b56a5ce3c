"""``costsim price``: one call priced item by item, in a subprocess."""

import json
import os
import subprocess
import sys

import pytest

from costsim.pricing.litellm import from_litellm, price


def _run(*args):
    return subprocess.run([sys.executable, "-m", "costsim", "price", *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "MPLBACKEND": "Agg"})


def _total(stdout: str) -> float:
    line = next(line for line in stdout.splitlines() if line.strip().startswith("total"))
    return float(line.split()[-1])


ENTRY = {
    "mode": "chat", "litellm_provider": "acme",
    "input_cost_per_token": 1e-06, "output_cost_per_token": 4e-06,
    "cache_read_input_token_cost": 1e-07, "cache_creation_input_token_cost": 1.25e-06,
    "cache_creation_input_token_cost_above_1hr": 2e-06, "output_cost_per_reasoning_token": 6e-06,
    "input_cost_per_token_above_200k_tokens": 2e-06, "output_cost_per_token_above_200k_tokens": 8e-06,
    "input_cost_per_token_batches": 5e-07, "output_cost_per_token_batches": 2e-06,
    "fedramp_uplift_multiplier": 1.1,
    "off_peak_pricing": {"input_cost_per_token": 5e-07, "windows": [{"hours_utc": "00:00-00:00", "weekdays": [6, 7]}]},
    "input_cost_per_audio_token": 1e-05,
}


@pytest.fixture
def price_map(tmp_path):
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"acme/m1": ENTRY}))
    return path


def test_catalog_model_breakdown():
    proc = _run("claude-sonnet-4-5", "--input", "10000", "--cached", "8000", "--output", "1000")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.splitlines() == [
        "claude-sonnet-4-5 (costsim price catalog of 2026-11-27), service tier standard",
        "  item                        tokens    USD per 1M             USD",
        "  input (uncached)             2,000        3.0000      0.00600000",
        "  cache read                   8,000        0.3000      0.00240000",
        "  output                       1,000       15.0000      0.01500000",
        "  total                                                 0.02340000",
    ]
    assert _total(proc.stdout) == pytest.approx(float(price("claude-sonnet-4-5", 10_000, 1_000,
                                                            cache_read_tokens=8_000)), rel=1e-8)


def test_price_map_tier_long_context_cache_write_reasoning(price_map):
    proc = _run("acme/m1", "--price-map", str(price_map), "--ignore", "*audio*", "--input", "250000",
                "--cache-write", "50000", "--cache-ttl", "1h", "--output", "100", "--reasoning", "400")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == f"acme/m1 (price map {price_map}), service tier standard"
    assert lines[1] == "long-context rates: the prompt exceeds 200,000 tokens"
    assert "  cache write (1h)            50,000        2.0000      0.10000000" in lines
    assert "  reasoning                      400        6.0000      0.00240000" in lines
    want = 200_000 * 2.0e-6 + 50_000 * 2e-6 + 100 * 8e-6 + 400 * 6e-6
    assert _total(proc.stdout) == pytest.approx(want, rel=1e-8)

    proc = _run("acme/m1", "--price-map", str(price_map), "--ignore", "*audio*", "--input", "1000",
                "--output", "100", "--tier", "batch", "--uplift", "fedramp")
    assert proc.returncode == 0, proc.stderr
    assert "service tier batch" in proc.stdout.splitlines()[0]
    assert "  uplift fedramp (x1.1)                                 0.00007000" in proc.stdout.splitlines()
    pricing = from_litellm("acme/m1", price_map, ignore="*audio*", uplift="fedramp")
    assert _total(proc.stdout) == pytest.approx(float(price(pricing, 1_000, 100, service_tier="batch")), rel=1e-8)


def test_off_peak_time(price_map):
    args = ("acme/m1", "--price-map", str(price_map), "--ignore", "*audio*", "--input", "100000")
    saturday = _run(*args, "--when", "2026-11-28T12:00Z")
    monday = _run(*args, "--when", "2026-11-30T12:00")
    assert saturday.returncode == monday.returncode == 0, saturday.stderr + monday.stderr
    assert "service tier standard (off-peak)" in saturday.stdout.splitlines()[0]
    assert "off-peak" not in monday.stdout
    assert _total(saturday.stdout) == pytest.approx(0.05) and _total(monday.stdout) == pytest.approx(0.1)


@pytest.mark.parametrize(
    "args, message",
    [
        (("gpt-4oo", "--input", "10"),
         "costsim price: error: unknown model 'gpt-4oo': not in the price map (3963 models); close matches: ['gpt-4o',"),
        (("gpt-4o", "--input", "10", "--tier", "flex"),
         "costsim price: error: 'gpt-4o' does not offer service tier 'flex'; it offers ['standard', 'batch', 'priority']"),
        (("gpt-4o", "--input", "10", "--cached", "11"),
         "costsim price: error: cache_read_tokens + cache_write_tokens must be <= input_tokens"),
        (("gpt-4o", "--input", "-5"), "argument --input: must be >= 0; got -5"),
        (("gpt-4o",), "the following arguments are required: --input"),
        (("gpt-4o", "--input", "10", "--uplift", "gov"), "costsim price: error: LiteLLM entry 'gpt-4o' has no uplift 'gov'"),
        (("gpt-4o", "--input", "10", "--when", "someday"), "costsim price: error: when must be UTC times"),
        (("gpt-4o", "--input", "10", "--price-map", "/nonexistent/prices.json"), "costsim price: error: "),
    ],
)
def test_errors(args, message):
    proc = _run(*args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_unmappable_keys_name_the_model_until_ignored(tmp_path):
    # audio rates are recorded as not applied (text traffic); a per-second price changes a text bill
    path = tmp_path / "per_second.json"
    path.write_text(json.dumps({"acme/m1": {**ENTRY, "input_cost_per_second": 1e-04}}))
    proc = _run("acme/m1", "--price-map", str(path), "--input", "10")
    assert proc.returncode == 2
    assert ("costsim price: error: LiteLLM entry 'acme/m1' has prices costsim cannot map: "
            "['input_cost_per_second']") in proc.stderr
    proc = _run("acme/m1", "--price-map", str(path), "--input", "10", "--ignore", "*_per_second")
    assert proc.returncode == 0, proc.stderr


def test_help_lists_price_next_to_demo():
    proc = subprocess.run([sys.executable, "-m", "costsim", "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "demo" in proc.stdout and "price" in proc.stdout
    proc = _run("--help")
    assert proc.returncode == 0
    for option in ("--input", "--output", "--cached", "--cache-write", "--tier", "--price-map", "--when"):
        assert option in proc.stdout
