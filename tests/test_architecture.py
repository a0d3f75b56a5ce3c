"""The import layers (README, docs/architecture.md): checked by import-linter's
contracts in pyproject.toml, and no module-level import cycle anywhere in costsim."""

import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_hold():
    """Lower layers never import higher ones; no cycles between sibling modules."""
    code = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True, no_logo=True))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 2 kept, 0 broken." in done.stdout


def _cycles(graph: grimp.ImportGraph, ignore: frozenset[str] = frozenset()) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative),
    the modules in ``ignore`` left out."""

    def imported_by(module: str):
        return iter(sorted(graph.find_modules_directly_imported_by(module) - ignore))

    index, low, on_stack, stack, found = {}, {}, set(), [], []
    for root in sorted(graph.modules - ignore):
        if root in index:
            continue
        work = [(root, imported_by(root))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, imported_by(child)))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def test_no_module_imports_itself_back_through_others():
    graph = grimp.build_graph("costsim", include_external_packages=False)
    # the package's __init__ gathers the public names of every layer: it is the top, not a layer
    assert _cycles(graph, ignore=frozenset({"costsim"})) == []


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for name in ("p.a", "p.b", "p.c"):
        graph.add_module(name)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.a")
    graph.add_import(importer="p.b", imported="p.c")
    assert _cycles(graph) == [["p.a", "p.b"]]
