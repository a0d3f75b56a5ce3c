"""Every notebook in notebooks/ runs from a clean checkout, and its outputs hold a plot.

Each ``notebooks/*.ipynb`` is executed once per test session, in a fresh kernel on the
current interpreter, in notebooks/ (as a user opening it in Jupyter would): by the
documentation build where the docs stack is installed (myst-nb executes every notebook
for the site, and the executed notebooks it writes are checked here: the ``docs_build``
fixture of tests/conftest.py), otherwise here with nbclient.  Conventions for
notebooks (tests/test_notebooks.py checks them):

* stored WITHOUT outputs (run "Clear All Outputs" before saving), so git diffs stay
  readable and nothing stale is shipped; the outputs exist only here;
* small default sizes, in a first code cell tagged ``parameters`` that a reader
  edits to scale up;
* at least one ``image/png`` output;
* data comes from the package (``costsim.datasets``), never from a folder beside the
  repository, so every notebook runs on a fresh clone and none is skipped.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (pip install '.[test]')")
nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed (pip install '.[test]')")
pytest.importorskip("ipykernel", reason="ipykernel is not installed (pip install '.[test]')")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
KERNEL = "costsim-test"
CELL_TIMEOUT_S = 600


def test_notebooks_found():
    """Guards the parametrisation below: an empty or moved folder must not pass silently."""
    assert any(p.name.startswith("01-") for p in PATHS), f"no notebooks/01-*.ipynb in {NOTEBOOKS}"


def _code(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{path.name}: cells {dirty} hold outputs; clear all outputs before saving"
    assert "shared/data" not in _code(nb), f"{path.name}: read data through costsim.datasets, not ../shared/data"
    parameters = [c for c in nb.cells if c.cell_type == "code"][:1]
    assert parameters and "parameters" in parameters[0].metadata.get("tags", []), (
        f"{path.name}: the first code cell must be the parameter cell, tagged 'parameters'"
    )


@pytest.fixture(scope="module")
def kernel_manager_factory(tmp_path_factory):
    """Kernel managers for a kernel spec that runs THIS interpreter (not whatever 'python3'
    names on the machine)."""
    from ipykernel.kernelspec import install
    from jupyter_client import KernelManager
    from jupyter_client.kernelspec import KernelSpecManager

    prefix = tmp_path_factory.mktemp("jupyter")
    install(kernel_name=KERNEL, prefix=str(prefix))
    specs = KernelSpecManager(kernel_dirs=[str(prefix / "share" / "jupyter" / "kernels")])
    assert Path(specs.get_kernel_spec(KERNEL).argv[0]).resolve() == Path(sys.executable).resolve()
    return lambda: KernelManager(kernel_name=KERNEL, kernel_spec_manager=specs)


def _docs_build_executes_notebooks() -> bool:
    """Whether the documentation build (tests/test_docs.py) executes the notebooks: the docs
    stack is installed and docs/conf.py's execution is not switched off."""
    installed = all(importlib.util.find_spec(m) for m in ("sphinx", "myst_nb"))
    return installed and os.environ.get("COSTSIM_DOCS_EXECUTE", "cache") != "off"


def _execute(path, kernel_manager_factory):
    nb = nbformat.read(path, as_version=4)
    # The kernel's own inline backend draws the figures into the outputs; an inherited
    # MPLBACKEND (CI sets Agg) would replace it and leave no image output.
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    client = nbclient.NotebookClient(
        nb, km=kernel_manager_factory(), timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    started = time.perf_counter()
    client.execute(env=env)
    print(f"{path.name}: executed in {time.perf_counter() - started:.1f} s")
    return nb


@pytest.mark.slow
@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_notebook_runs_and_plots(path, request):
    if _docs_build_executes_notebooks():  # executed by the docs build (it fails on any cell's error)
        executed = request.getfixturevalue("docs_build") / "jupyter_execute" / "notebooks" / path.name
        assert executed.exists(), f"the docs build wrote no executed {path.name} (myst-nb's {executed})"
        nb = nbformat.read(executed, as_version=4)
        assert [c.source for c in nb.cells] == [c.source for c in nbformat.read(path, as_version=4).cells]
    else:
        nb = _execute(path, request.getfixturevalue("kernel_manager_factory"))
    unexecuted = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.execution_count is None]
    assert not unexecuted, f"{path.name}: code cells {unexecuted} did not run"
    images = [
        o for c in nb.cells if c.cell_type == "code"
        for o in c.outputs if "image/png" in o.get("data", {})
    ]
    assert images, f"{path.name}: no cell produced an image/png output (a plot)"
