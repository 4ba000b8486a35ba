"""The library never depends on the web layer: pylapse/ imports no web framework (DESIGN.md)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FORBIDDEN = {"web", "fastapi", "starlette", "jinja2", "sse_starlette"}


def _imported_names(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, top-level module) for every import in ``tree``, including ``import_module("x")``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value.split(".")[0]))
    return found


def test_no_module_under_pylapse_imports_the_web_layer() -> None:
    offenders = []
    files = sorted((REPO / "pylapse").rglob("*.py"))
    assert files, "pylapse/ has no Python files?"
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, name in _imported_names(tree):
            if name in FORBIDDEN:
                offenders.append(f"{path.relative_to(REPO)}:{line} imports {name}")
    assert offenders == []


def test_the_checker_sees_every_kind_of_import() -> None:
    source = (
        "import fastapi\nfrom starlette.responses import Response\nimport os, jinja2.ext\n"
        "def f():\n    import sse_starlette\n    importlib.import_module('web.app')\n"
        "from . import web\n"
    )
    names = [name for _, name in _imported_names(ast.parse(source))]
    assert [n for n in names if n in FORBIDDEN] == [
        "fastapi",
        "starlette",
        "jinja2",
        "sse_starlette",
        "web",
    ]


def _modules_loaded_by(code: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"the import itself failed:\n{result.stderr}", pytrace=False)
    return json.loads(result.stdout.splitlines()[-1])


_REPORT = (
    "import json, sys; "
    f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {sorted(FORBIDDEN)!r})))"
)


def test_importing_pylapse_loads_no_web_framework() -> None:
    assert _modules_loaded_by(f"import pylapse; {_REPORT}") == []


def test_importing_every_pylapse_module_loads_no_web_framework() -> None:
    code = (
        "import importlib, pkgutil, pylapse\n"
        "for info in pkgutil.walk_packages(pylapse.__path__, 'pylapse.'):\n"
        "    if not info.name.endswith('__main__'):\n"
        "        importlib.import_module(info.name)\n"
        f"{_REPORT}"
    )
    assert _modules_loaded_by(code) == []


def test_every_public_name_resolves() -> None:
    """``from pylapse import X`` works for every name the package advertises."""
    import pylapse

    for name in pylapse.__all__:
        assert getattr(pylapse, name) is not None, name
    from pylapse import Camera, Collection, render_sequence_to_video

    assert callable(Camera) and callable(Collection) and callable(render_sequence_to_video)
