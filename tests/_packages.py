"""A throwaway importable package holding a compiled capacity function, for the tests of
import paths in scenario files and result attrs: its import writes ``imported.txt`` beside
it, so a test sees whether loading a file imported it."""

import sys
import uuid
from pathlib import Path

CAPACITY_MODULE = '''
from pathlib import Path

import numba

Path(__file__).with_name("imported.txt").write_text(__name__)  # the visible side effect of an import


@numba.njit
def capacity(demand, params, bin_hours, cost, served, units, utilisation):
    for b in range(demand.shape[0]):
        for c in range(demand.shape[1]):
            cost[b, c] = params[0] * demand[b, c, 0]
        served[b] = 1.0
        units[b] = 1.0
        utilisation[b] = 1.0
'''


def capacity_package(root: Path, prefix: str) -> tuple[str, Path]:
    """Write a uniquely named package under ``root`` with the module ``cap`` (function
    ``capacity``): its name, and the marker file its import writes."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text("")
    (folder / "cap.py").write_text(CAPACITY_MODULE)
    return name, folder / "imported.txt"


def forget(name: str) -> None:
    """Drop the package ``name`` and its modules from ``sys.modules``."""
    for module in [m for m in sys.modules if m == name or m.startswith(f"{name}.")]:
        del sys.modules[module]
