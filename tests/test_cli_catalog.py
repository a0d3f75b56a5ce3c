"""``costsim catalog list|search|show|update``, in process (the parser is cli.build_parser)."""

import gzip
import json

import pytest

from costsim.cli import main
from costsim.pricing import catalog as C
from costsim.pricing.litellm import from_litellm, price


@pytest.fixture(autouse=True)
def user_catalog(tmp_path, monkeypatch):
    """Every test here sees the shipped catalog unless it writes a user catalog at this path."""
    path = tmp_path / "user" / "catalog.json.gz"
    monkeypatch.setenv("COSTSIM_CATALOG", str(path))
    return path


def _rows(out):
    return [line for line in out.splitlines()[2:-1]]


def test_search_claude_lists_the_claude_models_with_their_rates(capsys):
    assert main(["catalog", "search", "claude"]) == 0
    out = capsys.readouterr().out
    assert "LiteLLM 1.110.2, prices as of 2026-11-27" in out.splitlines()[0]
    rows = _rows(out)
    assert len(rows) > 50 and all("claude" in row.split()[0].lower() for row in rows)
    sonnet = next(row.split() for row in rows if row.split()[0] == "claude-sonnet-4-5")
    p = from_litellm("claude-sonnet-4-5")
    assert sonnet[1:6] == [f"{p.max_input_tokens:,}", f"{p.max_output_tokens:,}", "3", "15", "0.3"]
    assert out.splitlines()[-1].startswith(f"{len(rows)} models")


def test_list_by_provider_and_an_unknown_provider(capsys):
    assert main(["catalog", "list", "--provider", "anthropic"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert rows and all(C.active()[row.split()[0]].get("litellm_provider", "anthropic") == "anthropic"
                        for row in rows)
    assert main(["catalog", "list", "--provider", "antropic"]) == 2
    assert "no model of provider 'antropic'; close matches: ['anthropic'" in capsys.readouterr().err


def test_show_prints_limits_every_tier_and_what_is_not_applied(capsys):
    assert main(["catalog", "show", "gemini/gemini-2.5-flash"]) == 0
    out = capsys.readouterr().out
    assert "context window (max input tokens): 1,048,576" in out and "max output tokens: 65,536" in out
    for tier in ("standard", "batch", "flex", "priority"):
        assert f"\n  {tier}\n" in out
    assert "not applied (costsim bills text tokens): cache_read_input_audio_token_cost," in out


def test_unknown_names_suggest_close_matches(capsys):
    assert main(["catalog", "show", "gpt4o"]) == 2
    assert "unknown model 'gpt4o'" in capsys.readouterr().err
    assert main(["catalog", "search", "zzzqqq"]) == 2
    assert "no model name contains 'zzzqqq'" in capsys.readouterr().err
    assert main(["price", "claude-sonet-4-5", "--input", "10"]) == 2
    assert "close matches: ['claude-sonnet-4-5'" in capsys.readouterr().err


def test_update_writes_a_user_catalog_that_replaces_the_shipped_one(tmp_path, user_catalog, capsys):
    newer = {"sample_spec": {"mode": "chat"},
             "gpt-4o": {"mode": "chat", "litellm_provider": "openai", "input_cost_per_token": 2e-06,
                        "output_cost_per_token": 8e-06, "max_input_tokens": 256_000},
             "tts-9": {"mode": "audio_speech", "input_cost_per_character": 1e-05}}
    source = tmp_path / "model_prices_and_context_window.json"
    source.write_text(json.dumps(newer))
    shipped = C.SHIPPED.read_bytes()
    before = float(price("gpt-4o", 1_000_000, 0))
    assert main(["catalog", "update", str(source), "--date", "2027-01-02", "--litellm-version", "9.9"]) == 0
    assert f"wrote 1 models (1 priced per token) to {user_catalog}" in capsys.readouterr().out
    assert C.SHIPPED.read_bytes() == shipped  # the package data is never touched
    data = json.loads(gzip.decompress(user_catalog.read_bytes()))
    assert sorted(data) == ["_meta", "gpt-4o"] and data["_meta"]["date"] == "2027-01-02"
    assert C.active_path() == user_catalog
    assert before == 2.5 and float(price("gpt-4o", 1_000_000, 0)) == 2.0
    assert from_litellm("gpt-4o").max_input_tokens == 256_000
    assert main(["catalog", "show", "gpt-4o"]) == 0
    assert "LiteLLM 9.9, prices as of 2027-01-02" in capsys.readouterr().out


def test_update_refuses_the_shipped_file_and_files_that_are_not_price_maps(tmp_path, capsys):
    source = tmp_path / "prices.json"
    source.write_text(json.dumps({"m": {"mode": "chat", "input_cost_per_token": 1e-06, "output_cost_per_token": 0}}))
    assert main(["catalog", "update", str(source), "--to", str(C.SHIPPED)]) == 2
    assert "shipped catalog: the package data is never overwritten" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["catalog", "update", str(bad)]) == 2
    assert f"FILE {str(bad)!r} is not valid JSON" in capsys.readouterr().err
    images = tmp_path / "images.json"
    images.write_text(json.dumps({"dall-e": {"mode": "image_generation", "output_cost_per_image": 0.04}}))
    assert main(["catalog", "update", str(images)]) == 2
    assert "no chat, completion, responses or embedding entries" in capsys.readouterr().err


def test_a_reader_that_goes_away_ends_the_listing_quietly(user_catalog):
    """``costsim catalog list | head -1``: exit 141 (SIGPIPE's status), no error printed, no traceback."""
    import os
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "costsim", "catalog", "list"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "COSTSIM_CATALOG": str(user_catalog)})
    assert proc.stdout.readline().startswith(b"costsim price catalog")
    proc.stdout.close()  # the reader goes away while 3,900 rows remain to be written
    stderr = proc.stderr.read()
    assert proc.wait(timeout=120) == 141
    assert stderr == b""
