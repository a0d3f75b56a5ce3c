"""Generate the notebooks page (run by mkdocs-gen-files during the build).

It lists every ``notebooks/*.ipynb`` with the title and first paragraph of its first
markdown cell, so a notebook added later appears without editing the docs.
"""

from __future__ import annotations

import json
from pathlib import Path

import mkdocs_gen_files

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def _summary(path: Path) -> tuple[str, str, bool]:
    """Title, first paragraph, and whether it needs the shared data sets (its metadata says)."""
    nb = json.loads(path.read_text())
    text = next(("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"), "")
    blocks = [b.strip() for b in text.split("\n\n") if b.strip()]
    title = blocks[0].lstrip("# ").strip() if blocks else path.stem
    needs_data = bool(nb.get("metadata", {}).get("costsim", {}).get("needs_shared_data", False))
    return title, (blocks[1] if len(blocks) > 1 else ""), needs_data


def main() -> None:
    page = [
        "# Notebooks\n",
        "Each notebook answers one question a platform or FinOps lead asks, with plots.",
        "They live in `notebooks/` (stored without outputs) and run with small default sizes;",
        "a parameter cell near the top scales them up. The test suite executes every one of",
        "them (`tests/test_notebooks.py`), so they cannot rot. Run one yourself with",
        "`jupyter lab notebooks/` after `pip install '.[test]' jupyterlab`.\n",
    ]
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        title, description, needs_data = _summary(path)
        page += [f"## {title}\n", f"`notebooks/{path.name}`\n", f"{description}\n"]
        if needs_data:
            page.append("*Reads the shared data sets (`../shared/data` beside the repository); "
                        "the tests skip it where they are absent.*\n")
    with mkdocs_gen_files.open("notebooks.md", "w") as fh:
        fh.write("\n".join(page) + "\n")


main()
