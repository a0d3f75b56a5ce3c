"""Sphinx configuration of the costsim documentation site.

Build it with ``python -m sphinx -W --keep-going -b html docs docs/_build/html``
(``pip install '.[docs]'``); tests/test_docs.py builds it the same way, warnings as
errors.  Three parts are generated at build time, so they always show the current code:

* the API reference (``reference/``, written by ``_reference.py`` from
  ``costsim.__all__``; one page per name by autosummary, docstrings read by numpydoc);
* the plot gallery (``gallery/``, by sphinx-gallery from the scripts in ``examples/``,
  each run on every build);
* the notebooks (``notebooks/`` links to the repository's ``notebooks/`` folder; myst-nb
  executes them, once per build folder, with its jupyter-cache, and shows their outputs).
"""

from __future__ import annotations

import atexit
import dataclasses
import os
import shutil
import sys
import tempfile
from pathlib import Path

import costsim

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _reference  # noqa: E402  (docs/_reference.py, beside this file)

_reference.write(HERE / "reference")

project = "costsim"
author = "costsim developers"
copyright = "costsim developers, BSD-3-Clause"
release = version = costsim.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_nb",
    "sphinx_gallery.gen_gallery",
]

# gallery/*.ipynb: sphinx-gallery's notebook download of each script, not a page
exclude_patterns = ["_build", "_templates", "examples/README.rst", "gallery/*.ipynb", "**.ipynb_checkpoints",
                    "jupyter_execute"]
templates_path = ["_templates"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}

# --- the API reference ----------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"  # types are in the numpydoc Parameters sections; signatures stay short
autodoc_member_order = "bysource"
autodoc_inherit_docstrings = True
python_maximum_signature_line_length = 80  # longer signatures: one parameter a line
add_module_names = False
numpydoc_show_class_members = False  # the class template lists the members (autodoc)
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False



def _factory_defaults(app, what, name, obj, options, signature, return_annotation):
    """A dataclass field made by ``default_factory`` shows what the factory makes
    (``service_tiers={}``), not ``<factory>``."""
    if signature and "<factory>" in signature and dataclasses.is_dataclass(obj):
        for field in dataclasses.fields(obj):
            if field.default_factory is not dataclasses.MISSING:
                signature = signature.replace(f"{field.name}=<factory>", f"{field.name}={field.default_factory()!r}")
    return signature, return_annotation


def setup(app):
    app.connect("autodoc-process-signature", _factory_defaults)


# --- pages: MyST markdown and notebooks ------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist"]  # no dollarmath: "$3 per million ... $15" is money, not math
myst_heading_anchors = 3
nb_execution_mode = os.environ.get("COSTSIM_DOCS_EXECUTE", "cache")  # "off": show stored outputs only
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_excludepatterns = ["examples/*", "gallery/*"]


def _this_interpreter_kernel() -> str:
    """A kernel spec that runs THIS interpreter, first on the Jupyter path: a notebook's
    "python3" could otherwise name whatever kernel the machine has registered."""
    from ipykernel.kernelspec import install

    prefix = Path(tempfile.mkdtemp(prefix="costsim-docs-kernel-"))
    atexit.register(shutil.rmtree, prefix, ignore_errors=True)
    install(kernel_name="costsim-docs", prefix=str(prefix))
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(prefix / "share" / "jupyter"),
                                                               os.environ.get("JUPYTER_PATH")]))
    return "costsim-docs"


nb_kernel_rgx_aliases = {".*": _this_interpreter_kernel()}

# --- the plot gallery ------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "gallery",
    "filename_pattern": r"/\d\d_",  # run every numbered script
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "remove_config_comments": True,
    "min_reported_time": 1e9,  # no run-time line under each example
    "show_signature": False,
    "write_computation_times": False,
    "run_stale_examples": True,  # run every script on every build: the images show the current code
}

# --- HTML ----------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = "costsim"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_show_sourcelink = False
html_static_path = ["_static"]
html_css_files = ["costsim.css"]
