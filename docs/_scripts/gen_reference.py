"""Generate the API reference pages (run by mkdocs-gen-files during the build).

Every name in ``costsim.__all__`` is documented, grouped by the subpackage that
defines it, and so is every public submodule (those in ``costsim.__all__`` and the
non-underscore modules of the package, except the internals listed in
``INTERNAL``).  A module page shows the module docstring and the public names that
are not already documented at the top level.  Nothing here lists names by hand, so
names added to the package later appear without editing the docs.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import types

import mkdocs_gen_files

import costsim

# Submodules that are not user API: the compiled engine (docs/kernel.md describes it)
# and the command line (the how-to guides describe its commands).
INTERNAL = {"kernels", "cli"}


def _group(obj: object) -> str:
    """The subpackage of costsim that defines ``obj``: 'traffic', 'pricing', ..."""
    module = getattr(obj, "__module__", None) or "costsim"
    parts = [p for p in module.split(".")[1:] if not p.startswith("_")]
    return parts[0] if parts else "core"


def _public(module: types.ModuleType) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            n for n, v in vars(module).items()
            if not n.startswith("_") and getattr(v, "__module__", None) == module.__name__
            and (inspect.isclass(v) or inspect.isfunction(v))
        ]
    return list(names)


def _modules() -> dict[str, types.ModuleType]:
    found = {n: getattr(costsim, n) for n in costsim.__all__ if isinstance(getattr(costsim, n), types.ModuleType)}
    for info in pkgutil.iter_modules(costsim.__path__):
        # a name that costsim rebinds (costsim.simulate is the function) is documented as that object
        shadowed = not isinstance(getattr(costsim, info.name, None), (types.ModuleType, type(None)))
        if not info.name.startswith("_") and info.name not in INTERNAL and info.name not in found and not shadowed:
            found[info.name] = importlib.import_module(f"costsim.{info.name}")
    return dict(sorted(found.items()))


def _title(key: str) -> str:
    return key.replace("_", " ").capitalize()


def main() -> None:
    top = {n: getattr(costsim, n) for n in costsim.__all__}
    groups: dict[str, list[str]] = {}
    for name, obj in top.items():
        if not isinstance(obj, types.ModuleType):
            groups.setdefault(_group(obj), []).append(name)
    documented = {id(obj) for obj in top.values()}

    nav = mkdocs_gen_files.Nav()
    nav["Overview"] = "index.md"
    index = [
        "# API reference\n",
        "Generated from the docstrings. Everything in `costsim.__all__` is importable as",
        "`costsim.<name>` (`import costsim as cs`); the module pages add what is only",
        "reachable through a submodule.\n",
    ]
    for key in sorted(groups):
        page = f"{key}.md"
        nav[_title(key)] = page
        index.append(f"## [{_title(key)}]({page})\n")
        index += [f"- [`costsim.{n}`]({page}#costsim.{n})" for n in sorted(groups[key], key=str.lower)]
        index.append("")
        with mkdocs_gen_files.open(f"reference/{page}", "w") as fh:
            fh.write(f"# {_title(key)}\n\n")
            for name in sorted(groups[key], key=str.lower):
                fh.write(f"::: costsim.{name}\n\n")

    index.append("## Modules\n")
    for key, module in _modules().items():
        page = f"module-{key}.md"
        nav["Modules", f"costsim.{key}"] = page
        index.append(f"- [`costsim.{key}`]({page})")
        members = [n for n in _public(module) if id(getattr(module, n, None)) not in documented]
        with mkdocs_gen_files.open(f"reference/{page}", "w") as fh:
            fh.write(f"::: costsim.{key}\n    options:\n      heading_level: 1\n")
            fh.write(f"      members: {members!r}\n\n")
    with mkdocs_gen_files.open("reference/index.md", "w") as fh:
        fh.write("\n".join(index) + "\n")
    with mkdocs_gen_files.open("reference/SUMMARY.txt", "w") as fh:
        fh.writelines(nav.build_literate_nav())


main()
