"""Write the API reference pages (reStructuredText) from the package itself; run by conf.py.

Every name in ``costsim.__all__`` is documented, grouped by the subpackage that
defines it, and so is every public module: the subpackages and modules of costsim
(except the internals in ``INTERNAL``) and the submodules in ``SUBMODULES``.  A
module page shows the module docstring and the public names not already documented
above it.  autosummary then writes one page per name (``reference/generated/``), so
names added to the package later appear without editing the docs.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import types
from pathlib import Path

import costsim

# Not user API: the compiled engine (docs/kernel.md describes it) and the command
# line (the how-to guides describe its commands).
INTERNAL = {"kernels", "cli"}
# Submodules whose own public names are user API (their package does not re-export them).
SUBMODULES = ("pricing.litellm",)


def _group(obj: object) -> str:
    """The subpackage of costsim that defines ``obj``: 'traffic', 'pricing', ..."""
    module = getattr(obj, "__module__", None) or "costsim"
    parts = [p for p in module.split(".")[1:] if not p.startswith("_")]
    return parts[0] if parts else "core"


def _public(module: types.ModuleType) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n, v in vars(module).items()
                 if not n.startswith("_") and getattr(v, "__module__", None) == module.__name__
                 and (inspect.isclass(v) or inspect.isfunction(v))]
    return list(names)


def _modules() -> dict[str, types.ModuleType]:
    found = {n: getattr(costsim, n) for n in costsim.__all__ if isinstance(getattr(costsim, n), types.ModuleType)}
    for info in pkgutil.iter_modules(costsim.__path__):
        # a name that costsim rebinds (costsim.simulate is the function) is documented as that object
        shadowed = not isinstance(getattr(costsim, info.name, None), (types.ModuleType, type(None)))
        if not info.name.startswith("_") and info.name not in INTERNAL and info.name not in found and not shadowed:
            found[info.name] = importlib.import_module(f"costsim.{info.name}")
    found.update({name: importlib.import_module(f"costsim.{name}") for name in SUBMODULES})
    return dict(sorted(found.items()))


def _title(key: str) -> str:
    return key.replace("_", " ").capitalize()


def _autosummary(names: list[str]) -> list[str]:
    return [".. autosummary::", "   :toctree: generated/", "   :nosignatures:", ""] + [f"   {n}" for n in names] + [""]


def _heading(text: str, mark: str = "=") -> list[str]:
    return [text, mark * len(text), ""]


def write(folder: Path) -> None:
    """Write ``index.rst``, one page per group and one per module into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    top = {n: getattr(costsim, n) for n in costsim.__all__}
    groups: dict[str, list[str]] = {}
    for name, obj in top.items():
        if not isinstance(obj, types.ModuleType):
            groups.setdefault(_group(obj), []).append(name)
    documented = {id(obj) for obj in top.values() if inspect.isclass(obj) or callable(obj)}
    pages = {}
    for key in sorted(groups):
        names = sorted(groups[key], key=str.lower)
        pages[key] = _heading(_title(key)) + [".. currentmodule:: costsim", ""] + _autosummary(names)
    module_pages = []
    for key, module in _modules().items():
        members = []
        for name in _public(module):
            obj = getattr(module, name, None)
            if inspect.isclass(obj) or callable(obj):
                if id(obj) in documented:
                    continue
                documented.add(id(obj))
            members.append(name)
        page = f"costsim.{key}"
        module_pages.append(page)
        lines = _heading(f"``costsim.{key}``") + [f".. automodule:: costsim.{key}", "   :no-members:", ""]
        if members:
            lines += [f".. currentmodule:: costsim.{key}", ""] + _heading("Contents", "-") + _autosummary(members)
        pages[page] = lines
    index = _heading("API reference") + [
        "Generated from the docstrings. Everything in ``costsim.__all__`` is importable as",
        "``costsim.<name>`` (``import costsim as cs``); the module pages add what is only",
        "reachable through a module.", "",
        ".. toctree::", "   :maxdepth: 1", "   :caption: By topic", "",
    ] + [f"   {key}" for key in sorted(groups)] + ["", ".. toctree::", "   :maxdepth: 1", "   :caption: Modules", ""]
    index += [f"   {page}" for page in module_pages] + [""]
    pages["index"] = index
    for page, lines in pages.items():
        path = folder / f"{page}.rst"
        text = "\n".join(lines) + "\n"
        if not path.exists() or path.read_text() != text:  # unchanged pages keep Sphinx's cache valid
            path.write_text(text)
