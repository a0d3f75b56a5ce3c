"""Atomic writes (issue 11, item 10): no debris, no silent replacement of a read-only file,
symbolic links written through, output paths checked before anything is written.

Tests run as root in CI, where permission bits do not stop a write: the rule checked here is
that a file or folder without any write bit is refused for everyone.
"""

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import costsim as cs
from costsim.files import check_folder, check_writable, write_atomic
from costsim.scenario import Scenario, load_scenario, save_scenario


def _text(content):
    return lambda tmp: Path(tmp).write_text(content)


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_new_file_gets_the_mode_of_a_plain_open(tmp_path):
    assert write_atomic(tmp_path / "a.txt", _text("new")) == tmp_path / "a.txt"
    (tmp_path / "plain").write_text("")
    assert (tmp_path / "a.txt").stat().st_mode == (tmp_path / "plain").stat().st_mode
    assert (tmp_path / "a.txt").read_text() == "new"


def test_an_existing_file_keeps_its_mode(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")
    os.chmod(target, 0o640)
    write_atomic(target, _text("new"))
    assert target.read_text() == "new" and target.stat().st_mode & 0o7777 == 0o640


def test_a_read_only_file_is_refused_and_kept(tmp_path):
    target = tmp_path / "r.nc"
    target.write_text("precious")
    os.chmod(target, 0o444)
    with pytest.raises(PermissionError, match=rf"^cannot replace {re.escape(str(target))}: the file is read-only "
                                              r"\(mode 0o444\)$"):
        write_atomic(target, _text("new"))
    assert target.read_text() == "precious" and target.stat().st_mode & 0o7777 == 0o444
    assert _names(tmp_path) == ["r.nc"]


def test_save_scenario_refuses_a_read_only_file(tmp_path):
    target = tmp_path / "s.toml"
    target.write_text("")
    os.chmod(target, 0o400)
    scenario = Scenario(cs.demo.demo_traffic(days=1), cs.demo.demo_options())
    with pytest.raises(PermissionError, match="s.toml: the file is read-only"):
        save_scenario(scenario, target)


def test_a_folder_without_write_bits_is_refused(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    os.chmod(folder, 0o555)
    try:
        with pytest.raises(PermissionError, match=rf"^cannot write {re.escape(str(folder / 'a.txt'))}: "
                                                  rf"{re.escape(str(folder))} is not a writable folder$"):
            write_atomic(folder / "a.txt", _text("x"))
        with pytest.raises(PermissionError, match=f"cannot write into {re.escape(str(folder / 'plots'))}: "
                                                  f"{re.escape(str(folder))} is not a writable folder"):
            check_folder(folder / "plots")
    finally:
        os.chmod(folder, 0o755)
    assert _names(folder) == []


def test_missing_folder_and_folder_as_target(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope is not a writable folder"):
        check_writable(tmp_path / "nope" / "a.txt")
    with pytest.raises(IsADirectoryError, match=f"cannot write {re.escape(str(tmp_path))}: it is a folder"):
        write_atomic(tmp_path, _text("x"))
    (tmp_path / "file").write_text("")
    with pytest.raises(NotADirectoryError, match="is not a folder"):
        check_folder(tmp_path / "file" / "plots")
    assert check_folder(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    assert not (tmp_path / "new").exists()  # checked, not created


def test_a_device_or_pipe_is_never_replaced(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    for target in (tmp_path / "pipe", Path(os.devnull)):
        with pytest.raises(PermissionError, match=f"cannot replace {re.escape(str(target))}: it is not a regular file"):
            write_atomic(target, _text("x"))
    assert Path(os.devnull).is_char_device()


def test_writes_through_a_symbolic_link(tmp_path):
    real = tmp_path / "data" / "r.nc"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "r.nc"
    link.symlink_to(real)
    assert write_atomic(link, _text("new")) == real
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "new"
    assert _names(tmp_path) == ["data", "r.nc"] and _names(real.parent) == ["r.nc"]


def test_a_dangling_link_creates_its_target(tmp_path):
    link = tmp_path / "out.txt"
    link.symlink_to(tmp_path / "target.txt")
    write_atomic(link, _text("made"))
    assert link.is_symlink() and (tmp_path / "target.txt").read_text() == "made"


def test_a_link_to_a_read_only_file_is_refused_naming_both(tmp_path):
    real = tmp_path / "real.nc"
    real.write_text("precious")
    os.chmod(real, 0o444)
    link = tmp_path / "r.nc"
    link.symlink_to(real)
    with pytest.raises(PermissionError, match=rf"cannot replace {re.escape(str(link))} \(a link to "
                                              rf"{re.escape(str(real))}\): the file is read-only"):
        write_atomic(link, _text("new"))
    assert real.read_text() == "precious"


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, SystemExit, OSError])
def test_an_interrupted_write_leaves_nothing(tmp_path, interruption):
    target = tmp_path / "r.nc"
    target.write_text("old")
    seen = []

    def write(tmp):
        Path(tmp).write_text("partial")
        seen.append(Path(tmp).name)
        raise interruption()

    with pytest.raises(interruption):
        write_atomic(target, write)
    assert _names(tmp_path) == ["r.nc"] and target.read_text() == "old"
    pattern = rf"\.r\.nc\.costsim-tmp-.+-{os.getpid()}-[0-9a-f]{{8}}\.nc"
    assert re.fullmatch(pattern, seen[0]), seen


def _dead_pid():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_temporary_files_of_killed_writers_are_removed_by_the_next_write(tmp_path):
    host = re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname())[:64]
    dead = f".r.nc.costsim-tmp-{host}-{_dead_pid()}-0123abcd.nc"
    alive = f".r.nc.costsim-tmp-{host}-{os.getpid()}-0123abcd.nc"  # a write in progress in this process
    elsewhere = f".r.nc.costsim-tmp-otherhost-{_dead_pid()}-0123abcd.nc"  # another machine's process
    other_target = f".s.nc.costsim-tmp-{host}-{_dead_pid()}-0123abcd.nc"
    for name in (dead, alive, elsewhere, other_target, ".r.nc.mine"):
        (tmp_path / name).write_text("debris")
    write_atomic(tmp_path / "r.nc", _text("x"))
    assert _names(tmp_path) == sorted([alive, elsewhere, other_target, ".r.nc.mine", "r.nc"])


def test_save_and_load_still_round_trip(tmp_path):
    scenario = Scenario(cs.demo.demo_traffic(days=1), cs.demo.demo_options(), trials=3, seed=2)
    save_scenario(scenario, tmp_path / "s.json")
    assert load_scenario(tmp_path / "s.json") == scenario and _names(tmp_path) == ["s.json"]
