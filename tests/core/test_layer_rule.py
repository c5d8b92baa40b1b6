"""Guards the core layer rule: no I/O, no framework imports, no globals, no clock."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import tokenward.core

CORE = Path(tokenward.core.__file__).parent
ALLOWED_THIRD_PARTY = {"cryptography"}
FORBIDDEN_MODULES = {
    "asyncio",
    "datetime",
    "io",
    "logging",
    "os",
    "pathlib",
    "random",
    "shutil",
    "socket",
    "sqlite3",
    "subprocess",
    "threading",
    "time",
    "urllib.request",
}
FORBIDDEN_CALLS = {"print", "input", "eval", "exec", "__import__"}


def modules() -> list[Path]:
    return sorted(CORE.glob("*.py"))


def test_init_is_only_a_docstring() -> None:
    tree = ast.parse((CORE / "__init__.py").read_text())
    assert len(tree.body) == 1
    assert isinstance(tree.body[0], ast.Expr) and isinstance(tree.body[0].value, ast.Constant)
    doc = ast.get_docstring(tree) or ""
    for phrase in ("no I/O", "no framework imports", "no globals", "clock", "passed in"):
        assert phrase in doc


def test_imports_are_stdlib_cryptography_or_core() -> None:
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert name not in FORBIDDEN_MODULES and top not in FORBIDDEN_MODULES, (path, name)
                if top == "tokenward":
                    assert name.startswith("tokenward.core"), (path, name)
                elif top != "__future__":
                    assert top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY, (
                        path,
                        name,
                    )


def test_no_io_calls_or_global_statements() -> None:
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            assert not isinstance(node, ast.Global | ast.Nonlocal), path
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in FORBIDDEN_CALLS, (path, node.func.id)


def test_modules_stay_small() -> None:
    for path in modules():
        assert len(path.read_text().splitlines()) < 300, path
