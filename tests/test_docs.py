"""The documentation site builds with warnings as errors and documents the whole API.

The site (docs/conf.py: Sphinx, pydata-sphinx-theme, numpydoc, sphinx-gallery, myst-nb)
is built once per session (the ``docs_build`` fixture of tests/conftest.py) in a
subprocess with ``python -m sphinx -W --keep-going``, the way CI and a maintainer
build it: a warning (a broken link or reference, a malformed docstring, a
page in no table of contents, a gallery script or a notebook that fails) fails the
build.  The API reference is generated from ``costsim.__all__`` at build time
(docs/_reference.py); here we check its output, not its code.  The notebooks are
executed once, by the build (myst-nb), and shown with their outputs
(tests/test_notebooks.py checks the same executed notebooks); the gallery scripts
run on every build.
"""

from __future__ import annotations

import ast
import doctest
import html
import inspect
import re
import types
from pathlib import Path

import pytest

import costsim

pytest.importorskip("sphinx", reason="sphinx is not installed (pip install '.[docs]' or '.[test]')")

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples"
NOTEBOOKS = ROOT / "notebooks"

# What a reader must never see as text in a built page: a Sphinx role that was not
# rendered (":class:`~costsim.TokenPricing`"), or a default that shows an internal
# helper or a placeholder instead of the value.
RAW_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|data|obj|exc|ref|doc|const|term|math):`")
INTERNAL_DEFAULT = re.compile(r"request_field\(|option_field\(|dataclasses\.field\(|<factory>|object at 0x")


@pytest.fixture(scope="module")
def site(docs_build) -> Path:
    """The built site (tests/conftest.py builds it once per session)."""
    return docs_build / "html"


def _visible_text(page: Path) -> str:
    """The text of an HTML page as a reader sees it (no tags, scripts or styles)."""
    text = re.sub(r"<(script|style)\b.*?</\1>", "", page.read_text(), flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def _unrendered(text: str) -> list[str]:
    return [text[max(0, m.start() - 50):m.end() + 30].replace("\n", " ")
            for rx in (RAW_ROLE, INTERNAL_DEFAULT) for m in rx.finditer(text)]


def _ids(folder: Path) -> set[str]:
    return {m for page in folder.rglob("*.html") for m in re.findall(r'id="([^"]+)"', page.read_text())}


def test_unrendered_text_is_recognised():
    """The check below finds what it is for, and passes rendered text."""
    assert _unrendered("a :class:`~costsim.TokenPricing` b")
    assert _unrendered("cached_fraction=request_field(default=0.0)")
    assert _unrendered("service_tiers=<factory>")
    assert not _unrendered("QueryClass(name, share, cached_fraction=0.0, service_tiers={})")


@pytest.mark.slow
def test_no_raw_roles_or_internal_defaults(site):
    found = {str(p.relative_to(site)): hits
             for p in sorted(site.rglob("*.html")) if (hits := _unrendered(_visible_text(p)))}
    assert not found, f"raw roles or internal defaults shown as text: {found}"


@pytest.mark.slow
def test_dollar_amounts_are_not_typeset_as_math(site):
    # the pages price things in dollars ("$3 per million input and $15 per million output"): with
    # MyST's dollarmath the text between two amounts became an equation, "\\(3 per million input and \\)15"
    found = sorted(str(p.relative_to(site)) for p in site.rglob("*.html") if 'class="math' in p.read_text())
    assert not found, f"pages with typeset math (dollar amounts read as $...$?): {found}"


@pytest.mark.slow
def test_every_public_name_in_api_reference(site):
    ids = _ids(site / "reference")
    missing = [name for name in costsim.__all__ if not {f"costsim.{name}", f"module-costsim.{name}"} & ids]
    assert not missing, f"in costsim.__all__ but not in the built API reference: {missing}"
    for name in ("costsim.pricing.litellm.from_litellm", "costsim.pricing.litellm.catalog"):
        assert name in ids, f"{name} has no entry in the API reference"


@pytest.mark.slow
def test_reference_can_fail(site):
    """The check above looks for anchors that a documented object has and a missing one lacks."""
    ids = _ids(site / "reference")
    assert "costsim.simulate" in ids
    assert "costsim.not_a_public_name" not in ids


def _scripts() -> list[Path]:
    return sorted(EXAMPLES.glob("[0-9]*.py"))


def test_gallery_scripts_import_only_public_api():
    """Each gallery script is a complete program a reader can copy: no private helpers."""
    assert _scripts(), "docs/examples/ holds no gallery script"
    for script in _scripts():
        for node in ast.walk(ast.parse(script.read_text())):
            if isinstance(node, ast.ImportFrom):
                module, names = node.module or "", [a.name for a in node.names]
            elif isinstance(node, ast.Import):
                module, names = "", [a.name for a in node.names]
            else:
                continue
            parts = [p for n in [module, *names] for p in n.split(".") if p]
            assert getattr(node, "level", 0) == 0 and not any(p.startswith("_") for p in parts), (
                f"docs/examples/{script.name} imports a private name: {ast.unparse(node)}")


@pytest.mark.slow
def test_gallery_shows_every_plot_helper():
    """Every plot helper of costsim.plot is drawn by at least one gallery script."""
    import costsim.plot

    scripts = "\n".join(p.read_text() for p in _scripts())
    missing = [name for name in costsim.plot.__all__ if name.startswith("plot_") and f"{name}(" not in scripts]
    assert not missing, f"plot helpers without a gallery script in docs/examples/: {missing}"


@pytest.mark.slow
def test_gallery_has_an_image_per_script(site):
    index = (site / "gallery" / "index.html").read_text()
    for script in _scripts():
        page = site / "gallery" / f"{script.stem}.html"
        assert page.exists(), f"docs/examples/{script.name} has no gallery page"
        image = f"sphx_glr_{script.stem}_001.png"
        assert image in page.read_text() and (site / "_images" / image).exists(), (
            f"docs/examples/{script.name} drew no figure")
        assert f"{script.stem}.html" in index


@pytest.mark.slow
def test_notebooks_appear_with_their_outputs(site):
    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    assert paths, f"no notebook in {NOTEBOOKS}"
    for path in paths:
        page = site / "notebooks" / f"{path.stem}.html"
        assert page.exists(), f"notebooks/{path.name} has no page in the site"
        text = page.read_text()
        outputs = re.findall(r'<div class="cell_output[^"]*">(.*?)</div>\s*</div>', text, flags=re.S)
        assert outputs, f"notebooks/{path.name}: the page shows no cell output"
        assert any("<img" in o for o in outputs), f"notebooks/{path.name}: the page shows no plot"


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
    "page", sorted(p for p in DOCS.rglob("*.md") if ">>>" in p.read_text() and "_build" not in p.parts),
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
