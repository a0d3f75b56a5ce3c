"""The command line under hostile input and signals (issue 11, items 5, 6, 9 and 10).

Every failure is one line on stderr with exit status 2 (130 for Ctrl-C, 143 for SIGTERM),
output paths are checked before the run, and an interrupted write leaves no debris.
"""

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import costsim as cs
from _packages import capacity_package
from costsim.cli import main
from costsim.scenario import Scenario, examples, write_atomic

EXAMPLE = examples()[0]


def _costsim(*args, cwd, env=None):
    return subprocess.run([sys.executable, "-m", "costsim", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "MPLBACKEND": "Agg", **(env or {})})


def _one_line(err, command="run"):
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"costsim {command}: "), err
    return err


def _small_scenario(tmp_path, options=None, name="s.json"):
    scenario = Scenario(cs.demo.demo_traffic(days=1, volume=2_000), cs.demo.demo_options(), trials=2, seed=4)
    data = scenario.to_dict()
    if options is not None:
        data["options"] = options
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


# ---- item 10: output paths checked before the run, atomic writes ---------------------------------------


def test_read_only_out_is_refused_before_the_run(tmp_path, capsys):
    out = tmp_path / "r.nc"
    out.write_text("precious")
    os.chmod(out, 0o444)
    assert main(["run", str(EXAMPLE), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert _one_line(captured.err) == f"costsim run: error: cannot replace {out}: the file is read-only (mode 0o444)\n"
    assert captured.out == ""  # nothing ran
    assert out.read_text() == "precious" and out.stat().st_mode & 0o777 == 0o444


@pytest.mark.parametrize("setup, words", [
    ("read-only", "is not a writable folder"),
    ("missing-under-read-only", "is not a writable folder"),
    ("a-file", "is not a folder"),
    ("read-only-png", "the file is read-only (mode 0o444)"),
])
def test_plots_folder_is_checked_before_the_run(tmp_path, capsys, setup, words):
    plots = tmp_path / "figs"
    if setup == "read-only":
        plots.mkdir(mode=0o555)
    elif setup == "missing-under-read-only":
        (tmp_path / "ro").mkdir(mode=0o555)
        plots = tmp_path / "ro" / "figs"
    elif setup == "a-file":
        plots.write_text("")
    else:
        plots.mkdir()
        (plots / f"{EXAMPLE.stem}.png").write_text("")
        os.chmod(plots / f"{EXAMPLE.stem}.png", 0o444)
    assert main(["run", str(EXAMPLE), "--out", str(tmp_path / "r.nc"), "--plots", str(plots)]) == 2
    captured = capsys.readouterr()
    assert words in _one_line(captured.err) and str(plots) in captured.err
    assert captured.out == "" and not (tmp_path / "r.nc").exists()


def test_demo_out_folder_is_checked_before_the_run(tmp_path, capsys):
    out = tmp_path / "results"
    out.mkdir()
    (out / "costsim-demo.nc").write_text("")
    os.chmod(out / "costsim-demo.nc", 0o400)
    assert main(["demo", "--trials", "2", "--days", "1", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert "costsim-demo.nc: the file is read-only (mode 0o400)" in _one_line(captured.err, "demo")
    assert captured.out == ""


def test_symlinked_out_is_written_through(tmp_path):
    real = tmp_path / "store" / "real.nc"
    real.parent.mkdir()
    real.write_text("old")
    os.chmod(real, 0o600)
    (tmp_path / "r.nc").symlink_to(real)
    scenario = _small_scenario(tmp_path)
    assert main(["run", str(scenario), "--out", str(tmp_path / "r.nc")]) == 0
    assert (tmp_path / "r.nc").is_symlink() and os.readlink(tmp_path / "r.nc") == str(real)
    assert real.read_bytes()[:4] == b"\x89HDF" and real.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in real.parent.iterdir()) == ["real.nc"]


def test_help_explains_the_file_rules(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for words in ("a read-only one (no write permission bit, even for root) is refused",
                  "a symbolic link is followed: the file it points to is replaced, the link kept",
                  "--allow-import PACKAGE", "loading a file never runs code", "--max-hours H"):
        assert words in text


# A costsim run whose netCDF writer writes part of the file, says so and then hangs: the signal arrives mid-write.
SLOW_WRITER = '''
import sys, time
import xarray as xr
from costsim import cli

def slow(self, path, *args, **kwargs):
    with open(path, "wb") as fh:
        fh.write(b"partial")
    print("WRITING", path, flush=True)
    time.sleep(120)

xr.Dataset.to_netcdf = slow
sys.exit(cli.main(sys.argv[1:]))
'''


def _start_slow_write(tmp_path):
    script = tmp_path / "slow.py"
    script.write_text(SLOW_WRITER)
    scenario = _small_scenario(tmp_path)
    process = subprocess.Popen([sys.executable, str(script), "run", str(scenario), "--out", "r.nc"], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "MPLBACKEND": "Agg"})
    for line in process.stdout:
        if line.startswith("WRITING"):
            return process, Path(tmp_path / line.split()[1])
    process.wait(timeout=60)
    pytest.fail(f"the run ended before writing: {process.stderr.read()}")


@pytest.mark.parametrize("signum, status, words", [(signal.SIGTERM, 143, "terminated"),
                                                   (signal.SIGINT, 130, "interrupted")])
def test_a_signal_mid_write_leaves_no_debris(tmp_path, signum, status, words):
    process, tmp = _start_slow_write(tmp_path)
    assert tmp.exists() and re.fullmatch(rf"\.r\.nc\.costsim-tmp-.+-{process.pid}-[0-9a-f]{{8}}\.nc", tmp.name)
    process.send_signal(signum)
    assert process.wait(timeout=60) == status
    assert process.stderr.read().endswith(f"costsim run: {words}\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json", "slow.py"]


def test_sigkill_debris_is_removed_by_the_next_write(tmp_path):
    process, tmp = _start_slow_write(tmp_path)
    process.kill()
    process.wait(timeout=60)
    assert tmp.exists()  # SIGKILL cannot be caught: the temporary file stays, recognisably named
    write_atomic(tmp_path / "r.nc", lambda p: Path(p).write_text("done"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.nc", "s.json", "slow.py"]


# ---- item 6: Ctrl-C, SIGTERM and --max-hours ------------------------------------------------------------


def _stop_with(error):
    def fake(*args, **kwargs):
        fake.kwargs = kwargs
        raise error
    return fake


@pytest.mark.parametrize("command", ["run", "demo", "fit"])
def test_ctrl_c_is_one_line_and_exit_130(tmp_path, capsys, monkeypatch, command):
    fake = _stop_with(KeyboardInterrupt())
    monkeypatch.setattr(Scenario, "run", fake)  # what run calls
    monkeypatch.setattr(cs.run, "sweep", fake)  # what demo calls
    monkeypatch.setattr(cs.calibrate, "fit_traffic", fake)  # what fit calls
    (tmp_path / "log.csv").write_text("timestamp,input_tokens,output_tokens\n")
    argv = {"run": ["run", str(EXAMPLE), "--out", str(tmp_path / "r.nc")],
            "demo": ["demo", "--trials", "2", "--days", "1", "--out", str(tmp_path / "d")],
            "fit": ["fit", str(tmp_path / "log.csv"), "--model", "gpt-4o", "--out", str(tmp_path / "s.toml")]}
    assert main(argv[command]) == 130
    err = capsys.readouterr().err  # run says its size first, on a line of its own
    assert err.endswith(f"\ncostsim {command}: interrupted\n" if command == "run" else "interrupted\n")
    assert err.count("\n") == (2 if command == "run" else 1) and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv"]


def test_sigterm_handler_is_restored(tmp_path, monkeypatch):
    monkeypatch.setattr(Scenario, "run", _stop_with(ValueError("stop")))
    before = signal.getsignal(signal.SIGTERM)
    main(["run", str(EXAMPLE), "--out", str(tmp_path / "r.nc")])
    assert signal.getsignal(signal.SIGTERM) is before


@pytest.mark.parametrize("hours, seconds", [("1.5", 5400.0), ("inf", float("inf"))])
def test_max_hours_reaches_the_run_as_max_seconds(tmp_path, capsys, monkeypatch, hours, seconds):
    fake = _stop_with(ValueError("stop"))
    monkeypatch.setattr(Scenario, "run", fake)
    assert main(["run", str(EXAMPLE), "--out", str(tmp_path / "r.nc"), "--max-hours", hours]) == 2
    assert fake.kwargs["max_seconds"] == seconds
    monkeypatch.setattr(cs.run, "sweep", fake)  # what demo calls
    assert main(["demo", "--days", "1", "--out", str(tmp_path / "d"), "--max-hours", hours]) == 2
    assert fake.kwargs["max_seconds"] == seconds


def test_scenario_run_forwards_max_seconds_to_simulate():
    scenario = Scenario(cs.demo.demo_traffic(days=1), cs.demo.demo_options(), trials=2, seed=1)
    with pytest.raises(ValueError, match="max_seconds"):
        scenario.run(max_seconds=1e-9)


def test_without_max_hours_simulate_keeps_its_default(tmp_path, monkeypatch):
    fake = _stop_with(ValueError("stop"))
    monkeypatch.setattr(Scenario, "run", fake)
    main(["run", str(EXAMPLE), "--out", str(tmp_path / "r.nc")])
    assert "max_seconds" not in fake.kwargs


def test_a_run_over_max_hours_is_refused_before_it_starts(tmp_path):
    # needs simulate(max_seconds=...) (issue 11 item 6, the library part)
    done = _costsim("run", EXAMPLE, "--out", "r.nc", "--max-hours", "1e-9", cwd=tmp_path)
    assert done.returncode == 2
    assert "max_seconds" in _one_line(done.stderr.splitlines(keepends=True)[-1])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv, message", [
    (["run", "s.toml", "--scheduler", "tcp://x:1", "--connect-timeout", "nan"],
     "argument --connect-timeout: must be a finite number > 0; got 'nan'"),
    (["run", "s.toml", "--connect-timeout", "inf"],
     "argument --connect-timeout: must be a finite number > 0; got 'inf'"),
    (["run", "s.toml", "--connect-timeout", "0"], "argument --connect-timeout: must be a finite number > 0; got '0'"),
    (["run", "s.toml", "--connect-timeout", "soon"], "argument --connect-timeout: must be a number; got 'soon'"),
    (["run", "s.toml", "--max-hours", "0"], "argument --max-hours: must be a number > 0; got '0'"),
    (["run", "s.toml", "--max-hours", "nan"], "argument --max-hours: must be a number > 0; got 'nan'"),
    (["demo", "--max-hours", "-1"], "argument --max-hours: must be a number > 0; got '-1'"),
    (["run", "s.toml", "--allow-import", "my.pkg"],
     "argument --allow-import: must be a top-level package name such as mypkg (no dots); got 'my.pkg'"),
    (["run", "s.toml", "--allow-import", ""],
     "argument --allow-import: must be a top-level package name such as mypkg (no dots); got ''"),
    (["fit", "l.csv", "--model", "m", "--out", "s.toml", "--volume", "inf"],
     "argument --volume: must be a finite number > 0; got 'inf'"),
])
def test_bad_numbers_are_refused_by_the_parser(capsys, argv, message):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2 and message in capsys.readouterr().err


# ---- item 9: hostile scenario files and unexpected errors are one line ---------------------------------


def _hostile(tmp_path):
    def edited(edit):
        data = json.loads(_small_scenario(tmp_path).read_text())
        edit(data)
        return json.dumps(data)

    def huge(d):
        d["traffic"]["classes"][0]["share"] = 10**400

    def unhashable(d):
        d["traffic"]["classes"][0]["type"] = []

    def mixture(d):
        m = {"type": "LogNormal", "mu": 5.0, "sigma": 1.0}
        for _ in range(400):
            m = {"type": "Mixture", "components": [m], "weights": [1.0]}
        d["traffic"]["classes"][0]["output_tokens"] = m

    def late(d):
        d["traffic"]["arrivals"]["start"] = "2262-04-11"  # a 1-day horizon past the datetime64[ns] range

    return {
        "huge.json": (edited(huge), "traffic.classes[0].share must be a finite number"),
        "type.json": (edited(unhashable), "traffic.classes[0].type must be one of ['QueryClass']; got []"),
        "mixture.json": (edited(mixture), "tables and arrays nest more than 64 levels deep"),
        "deep.json": ('{"trials": ' + "[" * 100_000 + "]" * 100_000 + "}", "JSON nested too deeply to read"),
        "late.json": (edited(late), "traffic.arrivals.start"),
    }


@pytest.mark.parametrize("name", ["huge.json", "type.json", "mixture.json", "deep.json", "late.json"])
def test_hostile_scenario_files(tmp_path, capsys, name):
    text, words = _hostile(tmp_path)[name]
    (tmp_path / name).write_text(text)
    assert main(["run", str(tmp_path / name), "--out", str(tmp_path / "r.nc")]) == 2
    err = capsys.readouterr().err
    assert _one_line(err).startswith(f"costsim run: error: {tmp_path / name}: ") and words in err, err
    assert not (tmp_path / "r.nc").exists()


def test_a_hostile_file_in_a_subprocess_has_no_traceback(tmp_path):
    text, words = _hostile(tmp_path)["deep.json"]
    (tmp_path / "deep.json").write_text(text)
    done = _costsim("run", "deep.json", "--out", "r.nc", cwd=tmp_path)
    assert done.returncode == 2
    assert _one_line(done.stderr) == f"costsim run: error: deep.json: {words} (a scenario nests at most 64 levels)\n"


@pytest.mark.parametrize("error, line", [
    (OverflowError("int too large to convert to float"), "error: OverflowError: int too large to convert to float"),
    (TypeError("bad\noperand"), "error: TypeError: bad operand"),
    (RecursionError("maximum recursion depth exceeded"), "error: RecursionError: maximum recursion depth exceeded"),
    (cs.ParameterError("trials", "must be >= 1", 0), "error: trials must be >= 1; got 0"),
])
def test_errors_from_running_a_scenario_are_one_line(tmp_path, capsys, monkeypatch, error, line):
    monkeypatch.setattr(Scenario, "run", _stop_with(error))
    assert main(["run", str(EXAMPLE), "--out", str(tmp_path / "r.nc")]) == 2
    size, error = capsys.readouterr().err.splitlines()  # the run's size, said before it starts; the error
    assert size.startswith("costsim run: ") and " queries expected " in size
    assert error == f"costsim run: {line}"


# ---- item 5: --allow-import -------------------------------------------------------------------------------



@pytest.fixture
def package(tmp_path):
    """A uniquely named package in tmp_path/site whose import writes ``imported.txt``: (name, marker path)."""
    return capacity_package(tmp_path / "site", "costsim_cli_trust")


def _custom_scenario(tmp_path, name):
    return _small_scenario(tmp_path, {"own": {"type": "CustomCapacity", "function": f"{name}.cap:capacity",
                                              "params": [0.001]}})


def test_import_paths_are_refused_without_allow_import(tmp_path, capsys, monkeypatch, package):
    name, marker = package
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    scenario = _custom_scenario(tmp_path, name)
    for trusted in ([], ["--allow-import", "numpy"]):
        assert main(["run", str(scenario), "--out", str(tmp_path / "r.nc"), *trusted]) == 2
        err = _one_line(capsys.readouterr().err)
        assert f"options.own.function names code in package '{name}'" in err and f"--allow-import {name}" in err
    assert not marker.exists() and name not in sys.modules and not (tmp_path / "r.nc").exists()


def test_allow_import_imports_and_runs(tmp_path, package):
    name, marker = package
    scenario = _custom_scenario(tmp_path, name)
    env = {"PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), os.environ.get("PYTHONPATH", "")])}
    done = _costsim("run", scenario, "--out", "r.nc", "--allow-import", "numpy", "--allow-import", name,
                    cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert marker.read_text() == f"{name}.cap" and (tmp_path / "r.nc").exists()
    assert "own" in done.stdout


# ---- costsim price ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("args, words", [
    (["gpt-4o", "--input", "10", "--tier", ""], "'gpt-4o' does not offer service tier ''"),
    (["gpt-4o", "--input", str(10**30)], "input_tokens must be <="),
    (["gpt-4o", "--input", "10", "--output", str(10**30)], "output_tokens must be <="),
    (["gpt-4o", "--input", "10", "--when", ""], "when must"),
    (["gpt-4o", "--input", "10", "--uplift", ""], "has no uplift ''"),
    (["gpt-4o", "--input", "10", "--price-map", ""], ""),
    (["", "--input", "10"], "model"),
])
def test_price_with_empty_or_absurd_values(capsys, args, words):
    assert main(["price", *args]) == 2
    captured = capsys.readouterr()
    assert words in _one_line(captured.err, "price") and captured.out == ""
