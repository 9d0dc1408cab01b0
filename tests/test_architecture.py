"""The layout rules of docs/architecture.md, checked on the code itself.

import-linter (run by ``./dev test``) keeps packages importing downwards; these
tests keep what it does not: no cycle between modules inside a package, no
private name reaching across modules, small modules that say what they own.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "lbhealth"
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
