"""Generate the plot gallery (run by mkdocs-gen-files during the build).

Each ``docs/gallery/*.py`` (but ``_*.py``, shared helpers such as ``_shared.py``,
importable from the scripts) is a short script whose module docstring gives a title
(first line) and a description.  The script is run here, on the Agg backend, and
every figure it leaves open is saved as a PNG of the built site, so the images are
always those of the current code.  A script that leaves no figure fails the build.
The page ends with the public plot helpers that no script uses yet.
"""

from __future__ import annotations

import ast
import inspect
import io
import logging
import runpy
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import mkdocs_gen_files

import costsim.plot

GALLERY = Path(__file__).resolve().parents[1] / "gallery"
log = logging.getLogger("mkdocs.gen_gallery")


def _split(source: str) -> tuple[str, str, str]:
    """Title, description and code (without the docstring) of a gallery script."""
    module = ast.parse(source)
    doc = ast.get_docstring(module)
    if not doc:
        raise ValueError("a gallery script must start with a docstring: title line, blank line, description")
    title, _, description = doc.partition("\n")
    code_start = module.body[0].end_lineno
    code = "\n".join(source.splitlines()[code_start:]).strip()
    return title.strip(), description.strip(), code


def _helpers() -> list[str]:
    names = getattr(costsim.plot, "__all__", None) or dir(costsim.plot)
    return [n for n in names if n.startswith("plot_") and inspect.isfunction(getattr(costsim.plot, n))]


def main() -> None:
    page = [
        "# Plot gallery\n",
        "Every image below is drawn by the script under it when the documentation is built",
        "(`docs/gallery/*.py`), so it always shows the current code. Add a script there to add",
        "an entry; each helper takes `ax=None` and returns its Axes.\n",
    ]
    sources = []
    sys.path.insert(0, str(GALLERY))
    for script in sorted(p for p in GALLERY.glob("*.py") if not p.name.startswith("_")):
        source = script.read_text()
        sources.append(source)
        title, description, code = _split(source)
        plt.close("all")
        started = time.perf_counter()
        runpy.run_path(str(script), run_name="__main__")
        log.info("gallery: %s ran in %.1f s", script.name, time.perf_counter() - started)
        numbers = plt.get_fignums()
        if not numbers:
            raise RuntimeError(f"docs/gallery/{script.name} left no matplotlib figure open")
        page += [f"## {title}\n", f"{description}\n"]
        for i, number in enumerate(numbers):
            buffer = io.BytesIO()
            plt.figure(number).savefig(buffer, format="png", dpi=100)
            name = f"{script.stem}-{i}.png"
            with mkdocs_gen_files.open(f"gallery/{name}", "wb") as fh:
                fh.write(buffer.getvalue())
            page.append(f"![{title}](gallery/{name})\n")
        plt.close("all")
        page += ["```python", code, "```\n"]
    unused = [n for n in _helpers() if not any(n in s for s in sources)]
    if unused:
        page.append("## Helpers without a gallery example yet\n")
        page += [f"- [`costsim.plot.{n}`][costsim.plot.{n}]" for n in unused]
    with mkdocs_gen_files.open("gallery.md", "w") as fh:
        fh.write("\n".join(page) + "\n")


main()
