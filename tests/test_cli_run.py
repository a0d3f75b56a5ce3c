"""`costsim run SCENARIO` and `costsim report RESULT` in a subprocess."""

import subprocess
import sys

import pytest

from costsim.scenario import examples


def _costsim(*args, cwd):
    return subprocess.run([sys.executable, "-m", "costsim", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("path", examples(), ids=lambda p: p.name)
def test_run_example_then_report(path, tmp_path):
    done = _costsim("run", path, "--trials", 2, "--seed", 3, "--out", "r.nc", "--plots", "figs", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Total cost over the horizon (USD), across 2 trials" in done.stdout
    assert (tmp_path / "r.nc").stat().st_size > 0
    assert (tmp_path / "figs" / f"{path.stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figs", "r.nc"]
    report = _costsim("report", "r.nc", cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    table = done.stdout[done.stdout.index("Total cost"):done.stdout.index("\n\nwrote")]
    assert report.stdout.strip() == table.strip()


def test_bad_inputs_exit_2_with_one_line(tmp_path):
    (tmp_path / "bad.toml").write_text(
        examples()[0].read_text().replace('name = "chat"', 'name = "chat"\nsigmaa = 1.0', 1))
    cases = [
        (("run", "missing.toml"), "missing.toml: no such scenario file"),
        (("run", "bad.toml"), "bad.toml: traffic.classes[0]: unknown key 'sigmaa'"),
        (("run", examples()[0], "--out", tmp_path / "nope" / "r.nc"), "is not a writable folder"),
        (("report", "missing.nc"), "missing.nc: no such result file"),
        (("report", "bad.toml"), "not a costsim result file"),
    ]
    for args, message in cases:
        done = _costsim(*args, cwd=tmp_path)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]
