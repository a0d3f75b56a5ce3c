"""The ``costsim`` command line: demo end to end in a subprocess, help, argument errors."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import xarray as xr

import costsim as cs
from costsim._format import usd
from costsim.cli import main, summary_table


def _run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "costsim", *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd, env={**os.environ, "MPLBACKEND": "Agg"})


def test_demo_end_to_end(tmp_path):
    out = tmp_path / "out"
    proc = _run("demo", "--trials", "20", "--days", "2", "--seed", "7", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    text = proc.stdout
    assert text.startswith("costsim demo: an AI assistant (4 query classes) deployed 3 ways, 2 days of hourly "
                           "traffic at 5 volumes from 1,000 (pilot) to 100,000 (production) queries a day, 20 trials\n")
    options = cs.demo.demo_deployments()
    for name, option in options.items():  # every option's rates, before the run
        assert f"  {name:<12} {cs.demo.describe_option(option)}\n" in text.split("simulated")[0]
    names = [f"costsim-demo-{k}.png" for k in ("crossover", "classes", "tail")]
    written = [out / n for n in names] + [out / "costsim-demo.nc"]
    assert f"wrote {', '.join(map(str, written))}" in text
    for png in written[:3]:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in out.iterdir()) == sorted([*names, "costsim-demo.nc"])  # no temp files left
    reference = tmp_path / "plain"
    reference.write_text("")  # the mode a plain open() gives under this umask
    assert {p.stat().st_mode for p in written} == {reference.stat().st_mode}
    with xr.open_dataset(written[-1]) as sw:
        sw.load()
    assert sw.attrs["seed"] == 7 and sw.sizes["trial"] == 20 and sw.sizes["time"] == 48
    assert sw["volume"].values.tolist() == list(cs.demo.DEMO_VOLUMES)
    assert sw["option"].values.tolist() == ["api", "provisioned", "self_hosted"]
    assert sw["qclass"].values.tolist() == ["chat", "rag", "agent", "long_context"]
    # the printed story is the story of the file's data, and the file is the seed's result
    assert cs.demo.demo_report(sw) in text
    production = cs.simulate(cs.demo.demo_traffic(days=2, volume=cs.demo.PRODUCTION_VOLUME), options,
                             trials=20, seed=7)
    xr.testing.assert_equal(sw["cost"].isel(volume=-1, drop=True), production["cost"])


def test_demo_tells_the_story():
    """The API is the cheapest option in the pilot and the most expensive in production,
    with crossovers between; long-context queries, 5% of them, carry the largest share of the API bill."""
    sw = cs.sweep(cs.demo.demo_traffic(days=2), cs.demo.demo_deployments(), cs.demo.DEMO_VOLUMES, trials=6, seed=3)
    total = sw["cost"].sum(("time", "qclass")).median("trial")
    assert str(total.isel(volume=0).idxmin("option").values) == "api"
    assert str(total.isel(volume=-1).idxmax("option").values) == "api"
    assert str(total.isel(volume=-1).idxmin("option").values) == "self_hosted"
    pairs = cs.analysis.crossovers(sw)
    assert set(zip(pairs["a"], pairs["b"])) == {("api", "provisioned"), ("api", "self_hosted"),
                                                ("provisioned", "self_hosted")}
    report = cs.demo.demo_report(sw)
    assert "At 1,000 queries/day (the pilot) api is the cheapest" in report
    assert "At 100,000 queries/day (production) it is the most expensive" in report
    shares = cs.analysis.class_shares(sw.isel(volume=-1), option="api", q=0.5).sel(option="api", share="cost")
    assert str(shares.idxmax("qclass").values) == "long_context"


def test_demo_says_compilation_only_when_it_happened(tmp_path, monkeypatch, capsys):
    from costsim import cli

    counts = iter([3, 3, 3, 4])  # before and after a warm run, then a run that compiled
    monkeypatch.setattr(cli, "_compilations", lambda: next(counts))
    for _ in range(2):
        assert main(["demo", "--trials", "2", "--days", "1", "--out", str(tmp_path)]) == 0
    first, second = capsys.readouterr().out.split("costsim demo:")[1:]
    assert "(including compilation on first use)" not in first
    assert "(including compilation on first use)" in second


def test_compilations_count_numba_compiles_not_cache_loads():
    from costsim import cli

    cs.simulate(cs.demo.demo_traffic(days=1, volume=100), cs.demo.demo_options(), trials=1, seed=1)
    before = cli._compilations()
    cs.simulate(cs.demo.demo_traffic(days=1, volume=100), cs.demo.demo_options(), trials=1, seed=2)
    assert cli._compilations() == before  # the same kernel again: nothing compiled


def test_summary_table_numbers():
    ds = cs.simulate(cs.demo.demo_traffic(days=1, volume=5_000), cs.demo.demo_options(), trials=5, seed=2)
    lines = summary_table(ds).splitlines()
    assert lines[0] == "Total cost over the horizon, across 5 trials"
    assert lines[1].split() == ["option", "p50", "(median)", "p5", "p95"]
    total = ds.costsim.total().quantile([0.05, 0.5, 0.95], dim="trial")
    row = next(line for line in lines if line.strip().startswith("midrange"))
    p5, median, p95 = (float(total.sel(option="midrange", quantile=q)) for q in (0.05, 0.5, 0.95))
    assert median > 100 and row.split()[1:] == [f"${median:,.0f}", f"${p5:,.0f}", f"${p95:,.0f}"]
    unit = ds.costsim.unit_cost().median("trial")
    row = next(line for line in lines if line.strip().startswith("agent"))
    assert row.split()[1:] == [usd(unit.sel(option=o, qclass="agent")) for o in ("frontier", "midrange", "small")]
    assert all(cell.startswith("$0.") for cell in row.split()[1:])  # under a dollar: three significant digits


def test_help_explains_itself():
    proc = _run("--help")
    assert proc.returncode == 0
    assert "Simulate what an AI product costs at production scale" in proc.stdout
    assert "demo" in proc.stdout and "run the built-in demo scenario" in proc.stdout


def test_demo_help(capsys):
    with pytest.raises(SystemExit) as info:
        main(["demo", "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for words in ("--trials", "Monte Carlo trials per volume (default 20", "--days", "--seed", "--out", "--progress",
                  "costsim-demo-crossover.png", "costsim-demo.nc"):
        assert words in text


def test_bad_argument_in_a_subprocess_has_no_traceback(tmp_path):
    proc = _run("demo", "--trials", "0", "--out", str(tmp_path / "never"))
    assert proc.returncode == 2
    assert "argument --trials: must be >= 1; got 0" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "never").exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["demo", "--trials", "many"], "argument --trials: must be an integer; got 'many'"),
        (["demo", "--days", "0"], "argument --days: must be >= 1; got 0"),
        (["demo", "--seed", "-3"], "argument --seed: must be >= 0; got -3"),
        (["demo", "--bogus"], "unrecognized arguments: --bogus"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_bad_arguments(capsys, argv, message):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_runtime_errors_are_reported_without_traceback(capsys, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main(["demo", "--trials", "2", "--days", "1", "--out", str(blocker)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("costsim demo: error: ") and str(blocker) in err
    # a seed beyond the simulator's range is a ValueError from the library: same treatment
    assert main(["demo", "--trials", "2", "--days", "1", "--seed", str(2**63), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("costsim demo: error: seed must be in [0, ") and "got 9223372036854775808" in err


def test_console_script_is_installed():
    script = Path(sys.executable).with_name("costsim")
    if not script.exists():
        pytest.skip(f"no console script next to {sys.executable} (package not installed in this environment)")
    proc = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.startswith("usage: costsim")


def test_report_reads_the_sweep_costsim_demo_writes(tmp_path, capsys):
    # 'costsim report costsim-demo/costsim-demo.nc' said "not a costsim result file (TypeError: only
    # 0-dimensional arrays can be converted to Python scalars)": the file is a sweep, with a volume dim
    sw = cs.sweep(cs.demo.demo_traffic(days=1), cs.demo.demo_deployments(), [1_000, 5_000], trials=3, seed=2)
    sw.to_netcdf(tmp_path / "costsim-demo.nc")
    assert main(["report", str(tmp_path / "costsim-demo.nc")]) == 0
    text = capsys.readouterr().out
    with xr.open_dataset(tmp_path / "costsim-demo.nc") as saved:
        saved.load()
    for volume in (1_000, 5_000):
        assert f"At {volume:,} queries/day\n{summary_table(saved.sel(volume=volume))}" in text
