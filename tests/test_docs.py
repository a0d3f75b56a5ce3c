"""The documentation site builds with warnings as errors and documents the whole API.

The site (mkdocs.yml, docs/) is built with ``mkdocs build --strict`` in a subprocess,
the way CI and a maintainer build it: a warning (a broken link, a docstring whose
sections do not match the signature, a gallery script that draws nothing) fails the
build.  The API reference is generated from ``costsim.__all__`` at build time
(docs/_scripts/gen_reference.py); here we check its output, not its code.
"""

from __future__ import annotations

import doctest
import inspect
import os
import re
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest

import costsim

pytest.importorskip("mkdocs", reason="mkdocs is not installed (pip install '.[test]')")

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {
        **os.environ,
        "MPLBACKEND": "Agg",  # the gallery scripts draw off-screen
        "NO_MKDOCS_2_WARNING": "1",  # banners about MkDocs 2 from the theme and the plugins
        "DISABLE_MKDOCS_2_WARNING": "true",
    }
    started = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml"),
         "--site-dir", str(out)],
        check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    print(f"mkdocs build: {time.perf_counter() - started:.1f} s")
    log = run.stdout + run.stderr
    assert run.returncode == 0, f"mkdocs build --strict failed:\n{log[-6000:]}"
    return out


def _ids(folder: Path) -> set[str]:
    return {m for page in folder.rglob("*.html") for m in re.findall(r'id="([^"]+)"', page.read_text())}


@pytest.mark.slow
def test_every_public_name_in_api_reference(site):
    ids = _ids(site / "reference")
    missing = [name for name in costsim.__all__ if f"costsim.{name}" not in ids]
    assert not missing, f"in costsim.__all__ but not in the built API reference: {missing}"


@pytest.mark.slow
def test_reference_can_fail(site):
    """The check above looks for anchors that a documented object has and a missing one lacks."""
    ids = _ids(site / "reference")
    assert "costsim.simulate" in ids
    assert "costsim.not_a_public_name" not in ids


@pytest.mark.slow
def test_gallery_shows_every_plot_helper():
    """Every plot helper of costsim.plot is drawn by at least one gallery script."""
    import costsim.plot

    scripts = "\n".join(p.read_text() for p in (DOCS / "gallery").glob("*.py"))
    missing = [name for name in costsim.plot.__all__ if name.startswith("plot_") and f"{name}(" not in scripts]
    assert not missing, f"plot helpers without a gallery script in docs/gallery/: {missing}"


def test_gallery_has_an_image_per_script(site):
    scripts = sorted(p for p in (DOCS / "gallery").glob("*.py") if not p.name.startswith("_"))
    assert scripts, "docs/gallery/ holds no script"
    images = {p.name for p in (site / "gallery").glob("*.png")}
    for script in scripts:
        assert f"{script.stem}-0.png" in images, f"docs/gallery/{script.name} produced no image"
    page = (site / "gallery" / "index.html").read_text()
    assert all(name in page for name in images)


def test_public_functions_and_classes_have_examples():
    """Every public function and class shows a runnable example (they run as doctests)."""
    lacking = []
    for name in costsim.__all__:
        obj = getattr(costsim, name)
        if isinstance(obj, types.ModuleType):
            continue
        if ">>>" not in (inspect.getdoc(obj) or ""):
            lacking.append(name)
    assert not lacking, f"public names whose docstring has no Examples section with >>> lines: {lacking}"


@pytest.mark.parametrize(
    "page", sorted(p for p in DOCS.rglob("*.md") if ">>>" in p.read_text()),
    ids=lambda p: str(p.relative_to(DOCS)),
)
def test_examples_in_pages_run(page):
    """The ``>>>`` examples of the hand-written pages run, with ``cs`` imported."""
    result = doctest.testfile(
        str(page), module_relative=False, globs={"cs": costsim}, report=True,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} of the examples in docs/{page.relative_to(DOCS)} failed (see above)"
