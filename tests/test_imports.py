"""The import contract of the package, read from the source (no module is imported).

- The core (``tokfrag/``) never imports a framework, at any level: frameworks are reached
  through ``tokfrag.frameworks``' lazy registry only.
- Nothing imports ``tokfrag.cli``: it is the console script's module, the top of the graph.
- No import cycles among ``tokfrag`` modules. Imports inside functions count too: a lazy import
  that only dodges a cycle at import time still ties the two modules together.
- No test module imports another test module or ``conftest``: what they share lives in
  ``tests/helpers.py``; ``conftest.py`` keeps fixtures, hooks and options only.

An import edge goes to the module named (``from .model import x`` -> ``tokfrag.leaderboard.model``;
``from . import export`` -> ``tokfrag.leaderboard.export``), not to the packages above it that
Python initialises on the way.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FRAMEWORK_MODULES = ("torch", "tensorflow", "keras", "jax", "timm", "tokenizers", "implementations")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(*folders: str) -> dict[str, Path]:
    return {module_name(p): p for folder in folders for p in sorted((ROOT / folder).rglob("*.py"))}


def imports(name: str, path: Path, known: set[str]) -> list[tuple[str, int]]:
    """(imported module, line) for every import statement in the file, at any level."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                out.append((sub if sub in known else target, node.lineno))
    return out


def graph() -> dict[str, set[str]]:
    mods = modules("tokfrag")
    known = set(mods)
    return {name: {m for m, _ in imports(name, path, known) if m in known and m != name}
            for name, path in mods.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_the_core_never_imports_a_framework():
    mods = modules("tokfrag")
    bad = [f"{path.relative_to(ROOT)}:{line} imports {m}" for name, path in mods.items()
           for m, line in imports(name, path, set(mods)) if m.split(".")[0] in FRAMEWORK_MODULES]
    assert not bad, "the core must stay framework-neutral (use tokfrag.frameworks.get):\n" + "\n".join(bad)


def test_nothing_imports_the_cli_module():
    mods = modules("tokfrag", "implementations", "benchmarks")
    bad = [f"{path.relative_to(ROOT)}:{line}" for name, path in mods.items()
           for m, line in imports(name, path, set(mods)) if m == "tokfrag.cli" and name != "tokfrag.cli"]
    assert not bad, "only the console script imports tokfrag.cli; move what you need out of it:\n" + "\n".join(bad)


def test_no_import_cycles_in_the_package():
    found = cycles(graph())
    assert not found, "import cycles (lazy imports count):\n" + "\n".join(" <-> ".join(c) for c in found)


def test_the_checker_sees_cycles_and_lazy_imports():
    """The checker itself: a cycle through a function-level import is found."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    tree = graph()
    assert "tokfrag.spec" in tree["tokfrag.training"]  # a module-level import
    assert "tokfrag.data" in tree["tokfrag.training"]  # a function-level one (make_trainer)


def forbidden_test_imports(source: str, filename: str = "<test>") -> list[tuple[str, int]]:
    """(module, line) for every import of ``conftest`` or a ``test_*`` module in a test file, at any level."""
    out = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""] if node.module else [alias.name for alias in node.names]
        else:
            continue
        out += [(n, node.lineno) for n in names if n.split(".")[0] == "conftest" or n.startswith("test_")]
    return out


def test_no_test_module_imports_another_or_conftest():
    files = sorted((ROOT / "tests").glob("test_*.py")) + [ROOT / "tests" / "helpers.py"]
    bad = [f"{path.relative_to(ROOT)}:{line} imports {m}" for path in files
           for m, line in forbidden_test_imports(path.read_text(), str(path))]
    assert not bad, "shared test helpers go in tests/helpers.py, not conftest.py or a test module:\n" + "\n".join(bad)
    assert forbidden_test_imports("from conftest import needs\ndef f():\n    import test_spec as s\n") == [
        ("conftest", 1), ("test_spec", 3)]
    assert forbidden_test_imports("from helpers import needs\nimport tokfrag.test_x\n") == []
