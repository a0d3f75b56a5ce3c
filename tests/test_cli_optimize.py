"""`costsim optimize SCENARIO` (issue 15): the scenario's [optimize] search, the chosen plan and the frontier."""

import json
import subprocess
import sys

import pytest
import xarray as xr

import costsim as cs
import costsim.decide
from costsim.cli import main
from costsim.scenario import Scenario, examples, load_scenario

RIGHT_SIZE = next(p for p in examples() if p.name == "right_size.toml")


def _one_line(err):
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("costsim optimize: "), err
    return err


def _small(tmp_path, optimize=None, name="s.json"):
    traffic = cs.Traffic([cs.QueryClass("chat", 1.0, cs.LogNormal(7.0, 0.6), cs.LogNormal(5.0, 0.6))],
                         cs.Arrivals(volume=cs.Uniform(2_000, 4_000), horizon="2D", bin="1h", overdispersion=0.3))
    options = {"api": cs.TokenPricing(input=3.0, output=15.0),
               "ptu": cs.ProvisionedCapacity(units=1, price_per_unit_hour=0.08, tokens_per_minute=1_000,
                                              fallback="api")}
    data = Scenario(traffic, options, trials=4, seed=5).to_dict()
    if optimize is not None:
        data["optimize"] = optimize
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_prints_the_plan_and_the_frontier_and_writes_the_candidates(tmp_path, capsys):
    out = tmp_path / "plans.nc"
    assert main(["optimize", str(RIGHT_SIZE), "--trials", "4", "--seed", "9", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    scenario = load_scenario(RIGHT_SIZE)
    expected = cs.optimize(scenario.traffic, scenario.options, **scenario.optimize.keywords(), trials=4, seed=9)
    assert f"costsim optimize {RIGHT_SIZE}: 64 candidates over 4 trials, seed 9" in printed
    assert expected.summary() in printed  # the chosen plan, every linked value shown
    assert "api_list.thresholds,api_committed.monthly_minimum = ((" in printed
    assert "Efficient frontier (mean vs CVaR90, USD)" in printed
    frontier = printed[printed.index("Efficient frontier"):]
    assert len(frontier.splitlines()) == 3 + len(expected.frontier()) + 2  # title, header, index line; rows; wrote
    assert printed.rstrip().endswith(f"wrote {out}")
    with xr.open_dataset(out) as ds:
        assert ds.sizes["candidate"] == 64 and int(ds.attrs["best"]) == expected.best_index
        xr.testing.assert_allclose(ds["total_cost"].load(), expected.dataset["total_cost"])
        assert ds["feasible"].dtype == bool


def test_without_out_nothing_is_written(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = _small(tmp_path, {"search": {"ptu.units": [1, 2, 3]}, "objective": ["quantile", 0.9]})
    assert main(["optimize", str(path)]) == 0
    printed = capsys.readouterr().out
    assert "chosen plan for 'ptu': ptu.units = " in printed and "p90 = " in printed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json"]


def test_infeasible_constraints_choose_the_least_violating(tmp_path, capsys):
    path = _small(tmp_path, {"search": {"ptu.units": [1, 2]}, "constraints": {"budget": [0.01, 0.0]}})
    with pytest.warns(UserWarning):
        assert main(["optimize", str(path)]) == 0
    assert "no candidate meets the constraints: the least violating" in capsys.readouterr().out


@pytest.mark.parametrize("table, message", [
    (None, "s.json: declares no search: add an [optimize] table"),
    ({"search": {"ptu.unit": [1]}}, "s.json: optimize: search['ptu.unit'] names parameter 'unit', which "
     "options['ptu'] (ProvisionedCapacity) does not have"),
    ({"search": {"api.input": [1.0, 2.0]}}, "s.json: optimize: search['api.input'] names a parameter of "
     "options['api'] (TokenPricing), a per-request model"),
    ({"search": {"ptu.units": [0, 1]}}, "s.json: optimize: search['ptu.units'] holds a value that options['ptu'] "
     "refuses"),
    ({"search": {"gpu.units": [1]}}, "s.json: optimize.search['gpu.units'] names option 'gpu'"),
    ({"search": {"ptu.units": []}}, "s.json: optimize.search['ptu.units'] must hold at least one value to try"),
    ({"search": {"ptu.units": [1]}, "objective": ["cvar", 2]}, "s.json: optimize.objective[1] (the CVaR level) "
     "must be in [0, 1); got 2"),
    ({"search": {"ptu.units": [1]}, "constraint": {}}, "s.json: optimize: unknown key 'constraint'"),
])
def test_bad_searches_are_one_line_and_exit_2(tmp_path, capsys, table, message):
    path = _small(tmp_path, table)
    assert main(["optimize", str(path), "--out", str(tmp_path / "r.nc")]) == 2
    assert message in _one_line(capsys.readouterr().err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json"]


def _stop_with(error):
    def fake(*args, **kwargs):
        fake.kwargs = kwargs
        raise error
    return fake


def test_out_is_checked_before_the_run(tmp_path, capsys, monkeypatch):
    fake = _stop_with(AssertionError("optimize must not run"))
    monkeypatch.setattr(costsim.decide, "optimize", fake)
    for out, words in ((tmp_path / "nope" / "r.nc", "is not a writable folder"),
                       (tmp_path / "r.csv", "--out must be a netCDF file name ending in .nc")):
        assert main(["optimize", str(RIGHT_SIZE), "--out", str(out)]) == 2
        assert words in _one_line(capsys.readouterr().err)
    assert not hasattr(fake, "kwargs")
    assert main(["optimize", str(tmp_path / "missing.toml")]) == 2
    assert "missing.toml: no such scenario file" in _one_line(capsys.readouterr().err)


def test_ctrl_c_is_one_line_and_exit_130_and_settings_reach_optimize(tmp_path, capsys, monkeypatch):
    fake = _stop_with(KeyboardInterrupt())
    monkeypatch.setattr(costsim.decide, "optimize", fake)
    assert main(["optimize", str(RIGHT_SIZE), "--out", str(tmp_path / "r.nc"), "--max-hours", "0.5"]) == 130
    assert capsys.readouterr().err == "costsim optimize: interrupted\n"
    assert list(tmp_path.iterdir()) == []
    scenario = load_scenario(RIGHT_SIZE)
    assert fake.kwargs["trials"] == scenario.trials and fake.kwargs["seed"] == scenario.seed
    assert fake.kwargs["max_seconds"] == 1800.0 and fake.kwargs["objective"] == ("mean+cvar", 0.5, 0.9)


def test_in_a_subprocess(tmp_path):
    done = subprocess.run([sys.executable, "-m", "costsim", "optimize", str(RIGHT_SIZE), "--trials", "2"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "chosen plan for 'ptu'" in done.stdout and "Traceback" not in done.stderr
    help_text = subprocess.run([sys.executable, "-m", "costsim", "--help"], capture_output=True, text=True,
                               timeout=60).stdout
    assert "optimize" in help_text
