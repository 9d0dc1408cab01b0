"""The layout rules of docs/architecture.md, checked on the code itself.

import-linter (run by ``./dev test``) keeps packages importing downwards; these
tests keep what it does not: no cycle between modules inside a package, no
private name reaching across modules, small modules that say what they own.
The test suite follows the same discipline: test modules share code through
helper modules (``tests/_*.py``, ``tests/faults.py``), never by importing each
other, and every helper (``conftest`` included) is imported under one name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "lbhealth"
TESTS = ROOT / "tests"
MAX_LINES = 400


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _python_files() -> list[Path]:
    return [
        *_modules(),
        *sorted((ROOT / "tests").glob("*.py")),
        *sorted((ROOT / "bench").glob("*.py")),
    ]


def test_no_import_cycle_between_modules() -> None:
    graph = grimp.build_graph("lbhealth", cache_dir=None)
    cycles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if imported != module and graph.chain_exists(imported, module, as_packages=False):
                cycles.append(f"{module} -> {imported} -> ... -> {module}")
    assert cycles == []


@pytest.mark.parametrize("path", _python_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_name_is_imported_across_modules(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    private = [
        f"{node.module}.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and (node.module or "").startswith(("lbhealth", "tests"))
        for alias in node.names
        if alias.name.startswith("_") and not alias.name.startswith("__")
    ]
    assert private == []


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_each_module_is_small_and_says_what_it_owns(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_LINES
    assert ast.get_docstring(ast.parse(text)), f"{path.name} starts with no docstring"


def imported_modules(source: str) -> list[str]:
    """Every module an import statement names, dotted (``from tests import x`` -> ``tests.x``)."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
            if node.module == "tests":
                names += [f"tests.{alias.name}" for alias in node.names]
    return names


def imports_of_test_modules(source: str) -> list[str]:
    """The test modules (``tests/test_*.py``) that ``source`` imports, under any name."""
    found = []
    for name in imported_modules(source):
        module = name.removeprefix("tests.").split(".")[0]
        if module.startswith("test_") and (TESTS / f"{module}.py").is_file():
            found.append(name)
    return found


def misnamed_helper_imports(source: str) -> list[str]:
    """Imports of ``conftest`` (pytest's alone), or of a helper by its bare module name."""
    found = []
    for name in imported_modules(source):
        first = name.split(".")[0]
        if name in ("conftest", "tests.conftest"):
            found.append(name)
        elif first != "tests" and (TESTS / f"{first}.py").is_file():
            found.append(name)  # `from _cases import ...`: a second copy of tests._cases
    return found


def _test_files() -> list[Path]:
    return sorted(TESTS.glob("*.py"))


@pytest.mark.parametrize("path", sorted(TESTS.glob("test_*.py")), ids=lambda p: p.name)
def test_no_test_module_imports_another(path: Path) -> None:
    assert imports_of_test_modules(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", _test_files(), ids=lambda p: p.name)
def test_helpers_and_conftest_are_imported_under_one_name(path: Path) -> None:
    assert misnamed_helper_imports(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    "line",
    [
        "from tests.test_cli import lbhealth",
        "from test_docker import running",
        "from tests import test_endpoints",
        "import tests.test_haproxy as haproxy",
    ],
)
def test_the_import_rules_see_an_import_of_a_test_module(line: str) -> None:
    assert imports_of_test_modules(line) != []


@pytest.mark.parametrize(
    "line", ["from conftest import bg", "from tests.conftest import x", "from _cases import Case"]
)
def test_the_import_rules_see_a_helper_under_a_second_name(line: str) -> None:
    assert misnamed_helper_imports(line) != []
