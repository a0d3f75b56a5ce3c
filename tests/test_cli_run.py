"""`costsim run SCENARIO` and `costsim report RESULT` in a subprocess."""

import subprocess
import sys

import numpy as np
import pytest

from costsim.results import scenario_text
from costsim.scenario import examples


def _costsim(*args, cwd):
    return subprocess.run([sys.executable, "-m", "costsim", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("path", examples(), ids=lambda p: p.name)
def test_run_example_then_report(path, tmp_path):
    done = _costsim("run", path, "--trials", 2, "--seed", 3, "--out", "r.nc", "--plots", "figs", "--progress",
                    cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("costsim run: ") and " queries expected (2 trials x " in done.stderr
    assert "2/2 [" in done.stderr  # the progress bar, finished
    assert "Total cost over the horizon, across 2 trials" in done.stdout
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
        (("run", examples()[0], "--trials", 10**7), "the result would take "),
        (("run", examples()[0], "--scheduler", "tcp://127.0.0.1:1", "--connect-timeout", 1),
         "no Dask scheduler answered at 'tcp://127.0.0.1:1' within 1 s"),
        (("report", "bad.toml"), "not a costsim result file"),
    ]
    for args, message in cases:
        done = _costsim(*args, cwd=tmp_path)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_run_on_a_dask_scheduler(tmp_path):
    distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed")
    import xarray as xr

    from costsim.scenario import load_scenario

    path = examples()[0]
    # workers in this process, reachable over TCP from the costsim subprocess
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp",
                                  dashboard_address=None) as cluster:
        done = _costsim("run", path, "--trials", 3, "--seed", 5, "--out", "r.nc", "--progress",
                        "--scheduler", cluster.scheduler_address, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "task" in done.stderr  # progress over the Dask tasks
    local = load_scenario(path).run(trials=3, seed=5)
    with xr.open_dataset(tmp_path / "r.nc") as ds:
        for name in local.data_vars:
            np.testing.assert_array_equal(ds[name].values, local[name].values, err_msg=name)
        assert scenario_text(ds) == scenario_text(local)
