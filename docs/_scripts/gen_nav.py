"""Generate the site's navigation, docs/SUMMARY.txt (run by mkdocs-gen-files during the build).

The sections below are listed in reading order.  Any other page under docs/ appears too,
so a page added later is never left out of the navigation: one in docs/concepts/ or
docs/how-to/ at the end of that section, any other under "More topics", titled by its
first heading.  The API reference's own navigation is reference/SUMMARY.txt
(gen_reference.py).  (The nav files are .txt so that they are not rendered as pages.)
"""

from __future__ import annotations

from pathlib import Path

import mkdocs_gen_files

DOCS = Path(__file__).resolve().parents[1]
NAV_FILE = "SUMMARY.txt"

# (section, [(title, page)]); a section "" lists top-level pages, "API reference" is generated.
SECTIONS: list[tuple[str, list[tuple[str, str]]]] = [
    ("", [("Home", "index.md")]),
    ("Concepts", [("Two-level Monte Carlo", "concepts/monte-carlo.md"),
                  ("Counter-based randomness", "concepts/randomness.md"),
                  ("Pricing semantics", "concepts/pricing.md")]),
    ("How-to guides", [("Calibrate from your logs", "how-to/calibrate.md"),
                       ("Write your own pricing model", "how-to/custom-pricing.md"),
                       ("Run on a cluster", "how-to/cluster.md"),
                       ("Embed via scenario files", "how-to/scenario-files.md")]),
    ("", [("Notebooks", "notebooks.md"), ("Plot gallery", "gallery.md"), ("Benchmarks", "benchmarks.md")]),
    ("API reference", []),
    ("Internals", [("The compiled engine", "kernel.md")]),
    ("More topics", []),
]
FOLDER_SECTION = {"concepts": "Concepts", "how-to": "How-to guides"}


def _title(path: Path) -> str:
    for line in path.read_text().splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return path.stem.replace("-", " ").capitalize()


def main() -> None:
    sections = {name: list(pages) for name, pages in SECTIONS if name}
    listed = {page for _, pages in SECTIONS for _, page in pages}
    for path in sorted(DOCS.rglob("*.md")):
        page = path.relative_to(DOCS).as_posix()
        if page in listed or page.startswith(("reference/", "_scripts/")):
            continue
        sections[FOLDER_SECTION.get(page.split("/")[0], "More topics")].append((_title(path), page))
    lines = []
    for name, pages in SECTIONS:
        if name == "API reference":
            lines.append("* [API reference](reference/)")
        elif not name:
            lines += [f"* [{title}]({page})" for title, page in pages]
        elif sections[name]:
            lines.append(f"* {name}")
            lines += [f"    * [{title}]({page})" for title, page in sections[name]]
    with mkdocs_gen_files.open(NAV_FILE, "w") as fh:
        fh.write("\n".join(lines) + "\n")


main()
