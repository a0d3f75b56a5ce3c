import os
import subprocess
import sys
import time
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
sys.path.insert(0, str(Path(__file__).parent))  # tests/_reference.py and friends

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

# a script run in another interpreter (the one with focus-validator, Python >= 3.12), not a test module:
# --doctest-modules would import it here, where focus_validator is absent
collect_ignore = ["analysis/_focus_validator.py"]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture(scope="session")
def docs_build(tmp_path_factory) -> Path:
    """The documentation site, built once per session in a subprocess with
    ``python -m sphinx -W --keep-going`` (warnings as errors), the way CI and a maintainer
    build it.  Returns the build folder: ``html/`` holds the site and, as myst-nb writes
    them, ``jupyter_execute/notebooks/*.ipynb`` the notebooks the build executed (used by
    tests/test_docs.py and tests/test_notebooks.py, so each notebook runs once)."""
    pytest.importorskip("sphinx", reason="sphinx is not installed (pip install '.[docs]' or '.[test]')")
    out = tmp_path_factory.mktemp("docs")
    # The notebooks' kernels draw inline; an inherited MPLBACKEND (CI sets Agg) would leave
    # them without image outputs (sphinx-gallery picks its own backend).
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    started = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "-q",
         "-d", str(out / ".doctrees"), str(ROOT / "docs"), str(out / "html")],
        check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800,
    )
    print(f"sphinx build: {time.perf_counter() - started:.1f} s")
    log = run.stdout + run.stderr
    assert run.returncode == 0, f"sphinx -W failed:\n{log[-6000:]}"
    return out
