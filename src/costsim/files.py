"""Writing output files safely: atomic replacement, and checks before anything is written.

Every file costsim writes (a scenario, a result, a plot) goes through
:func:`write_atomic`: the data is written to a temporary file beside the target and
renamed into place, so an interrupted write never leaves a partial file.  The command
line checks its output paths with :func:`check_writable` and :func:`check_folder`
before any work starts.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["check_folder", "check_writable", "write_atomic"]


def write_atomic(path: str | os.PathLike, write: Callable[[str], Any]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside the target, then rename it into place.

    The target is ``path`` or, where ``path`` is a symbolic link, the file it points to:
    the link is kept and its target replaced (written *through* the link).  An existing
    target keeps its permission bits; a new one gets those a plain ``open()`` gives.
    A target that cannot be replaced (see :func:`check_writable`) is refused before
    anything is written.

    The temporary file is ``.<name>.costsim-tmp-<host>-<pid>-<random><suffix>``.  It
    is removed when ``write`` raises or the process is interrupted (any exception,
    including KeyboardInterrupt and the CLI's SIGTERM); a process killed outright
    (SIGKILL) leaves it behind, and the next write to the same target removes the
    temporary files of that target whose process no longer runs on this host.

    Returns
    -------
    Path
        The file written (the link's target for a symbolic link).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     target = write_atomic(pathlib.Path(d) / "a.txt", lambda tmp: pathlib.Path(tmp).write_text("hi"))
    ...     target.read_text(), [p.name for p in target.parent.iterdir()]
    ('hi', ['a.txt'])
    """
    target = check_writable(path)
    _remove_stale_temporaries(target)
    mode = target.stat().st_mode & 0o7777 if target.exists() else 0o666 & ~_umask()
    tmp = target.with_name(f".{target.name}.{_TEMP_TAG}-{_host()}-{os.getpid()}-{secrets.token_hex(4)}"
                           f"{target.suffix}")
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        write(str(tmp))
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def check_writable(path: str | os.PathLike) -> Path:
    """The file a write to ``path`` replaces, checked before anything is written.

    A symbolic link is followed to its target (the link itself is kept).  The
    target's folder must exist and be writable, and an existing target must be a
    writable regular file (never a device such as ``/dev/null`` or a pipe).  A file
    or folder without any write permission bit counts as read-only even for a user
    (root) whom the bits do not stop.

    Raises
    ------
    OSError
        IsADirectoryError, FileNotFoundError or PermissionError, naming the path.

    Examples
    --------
    >>> import tempfile, pathlib, os
    >>> with tempfile.TemporaryDirectory() as d:
    ...     ro = pathlib.Path(d) / "ro.nc"
    ...     ro.write_text("")
    ...     os.chmod(ro, 0o444)
    ...     check_writable(ro)
    Traceback (most recent call last):
    ...
    PermissionError: cannot replace .../ro.nc: the file is read-only (mode 0o444)
    """
    path = Path(path)
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    shown = str(path) if target == path else f"{path} (a link to {target})"
    if target.is_dir():
        raise IsADirectoryError(f"cannot write {shown}: it is a folder")
    folder = target.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot write {shown}: {folder} is not a writable folder (it does not exist)")
    if not _may_write(folder):
        raise PermissionError(f"cannot write {shown}: {folder} is not a writable folder")
    if target.exists() and not target.is_file():
        raise PermissionError(f"cannot replace {shown}: it is not a regular file")
    if target.exists() and not _may_write(target):
        raise PermissionError(f"cannot replace {shown}: the file is read-only "
                              f"(mode {oct(target.stat().st_mode & 0o7777)})")
    return target


def check_folder(path: str | os.PathLike) -> Path:
    """``path`` as an output folder, checked before anything is written: an existing
    writable folder, or one that can be created (its nearest existing parent is a
    writable folder).  The same rule as :func:`check_writable`: a folder without any
    write permission bit counts as read-only even for root.

    Raises
    ------
    OSError
        NotADirectoryError or PermissionError, naming the path.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     check_folder(pathlib.Path(d) / "new" / "plots") == pathlib.Path(d) / "new" / "plots"
    True
    """
    path = Path(path)
    existing = next((p for p in (path, *path.parents) if p.exists()), Path("."))  # the folder a mkdir would start in
    if not existing.is_dir():
        raise NotADirectoryError(f"cannot write into {path}: {existing} is not a folder")
    if not _may_write(existing):
        raise PermissionError(f"cannot write into {path}: {existing} is not a writable folder")
    return path


def _may_write(path: Path) -> bool:
    """Writable by this process, and by someone: a path without any write bit counts as read-only for root too."""
    return bool(path.stat().st_mode & 0o222) and os.access(path, os.W_OK)


_TEMP_TAG = "costsim-tmp"


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname())[:64] or "host"


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _remove_stale_temporaries(target: Path) -> None:
    """Remove the temporary files a killed writer of ``target`` on this host left behind."""
    if os.name != "posix":  # os.kill(pid, 0) probes a process only on POSIX
        return
    pattern = re.compile(rf"\.{re.escape(target.name)}\.{_TEMP_TAG}-{re.escape(_host())}-(\d+)-[0-9a-f]{{8}}"
                         rf"{re.escape(target.suffix)}")
    try:
        names = [p.name for p in target.parent.iterdir()]
    except OSError:  # a folder we may write but not list: nothing to tidy
        return
    for name in names:
        match = pattern.fullmatch(name)
        if match is not None and not _running(int(match[1])):
            (target.parent / name).unlink(missing_ok=True)


def _running(pid: int) -> bool:
    """Whether process ``pid`` may be running (another user's process, or no valid pid, counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        pass
    return True
