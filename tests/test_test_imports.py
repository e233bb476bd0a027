"""Tests and benchmarks import their helpers by names that mean one file, whatever paths pytest is given.

pytest puts each test folder on sys.path (rootdir-relative "prepend"
imports, no ``__init__.py``), so a module is found by its bare name. Every
folder has a ``conftest.py``: ``from conftest import ...`` got whichever one
pytest imported last, and ``pytest tests/project tests/link`` failed at
collection. The same would happen to any two helpers sharing a name.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

pytestmark = pytest.mark.host

ROOT = Path(__file__).resolve().parents[1]


def _python_files() -> list[Path]:
    files = [*(ROOT / "tests").rglob("*.py"), *(ROOT / "benchmarks").glob("*.py")]
    return sorted(path for path in files if "__pycache__" not in path.parts)


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_nothing_imports_a_conftest_by_name() -> None:
    importers = [str(path.relative_to(ROOT)) for path in _python_files() if "conftest" in _imported_modules(path)]
    assert importers == [], "import helpers from a uniquely named module (tests/project/project_helpers.py), " \
                            f"not from conftest: {importers}"


def test_test_helpers_have_unique_names() -> None:
    folders: dict[str, list[str]] = defaultdict(list)
    for path in _python_files():
        if path.is_relative_to(ROOT / "tests") and path.name != "conftest.py":
            folders[path.stem].append(str(path.parent.relative_to(ROOT)))
    clashes = {name: places for name, places in folders.items() if len(places) > 1}
    assert clashes == {}, f"test modules sharing a name resolve to one file on sys.path: {clashes}"
