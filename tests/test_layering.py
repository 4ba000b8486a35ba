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


# --- the floor plan: no circles, each wing imports only wings below it (docs/architecture.md) --

#: Each wing's floor. A wing may import the ground floor and wings on lower floors, never a wing
#: on its own floor or above. Ground-floor modules may import each other (without circles).
FLOORS = {
    "ground": 0,
    "storage": -1,  # files on disk, beneath the ground floor: imports nothing of pylapse
    "db": -1,  # the database connection (SQLite or PostgreSQL): imports nothing of pylapse
    "metadata": -1,  # TIFF, ISO-BMFF and XMP readers of frames' bytes: import nothing of pylapse
    "naming": 1,  # frame names: the templates that make them and reading their time back
    "selection": 1,
    "jobs": 1,
    "imaging": 1,
    "notify": 1,  # events, rules and deliveries; runtime wires capture, health and jobs to it
    "config": 2,
    "index": 2,
    "export": 2,
    "pictures": 2,  # pictures of many frames: frames and sky colours handed in, no index
    "video": 2,
    "sources": 3,
    "collection": 3,
    "mosaic": 3,  # tiles of many frames composed per instant: frame times and paths handed in
    "retention": 3,  # thins and expires a camera's frames from its index rows into its trash
    "capture": 4,
    "tasks": 4,
    "runtime": 5,
    "worker": 5,  # the Celery worker's app: registers the task bodies of export and tasks
    "compat": 5,  # pyLapse 0.2's API on collection, capture, export and video (pyLapse.py)
    "cli": 6,
    "__main__": 7,
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _library_graph() -> dict[str, set[str]]:
    """Module -> the pylapse modules it imports (anywhere in it, including under TYPE_CHECKING)."""
    paths = {_module_name(p): p for p in (REPO / "pylapse").rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    found.add(sub if sub in paths else node.module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
        graph[name] = {m for m in found if m in paths and m != name}
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected parts of more than one node (each a circle of imports)."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        order[node] = low[node] = len(order)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in order:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], order[nxt])
        if low[node] == order[node]:
            part = []
            while True:
                top = stack.pop()
                part.append(top)
                if top == node:
                    break
            if len(part) > 1:
                found.append(sorted(part))

    for node in sorted(graph):
        if node not in order:
            visit(node)
    return found


def _wing(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "pylapse"
    if len(parts) > 2 or (REPO / "pylapse" / parts[1]).is_dir():
        return parts[1]
    return parts[1] if parts[1] in FLOORS else "ground"


def test_the_circle_finder_finds_circles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e2"}, "e2": set()}
    assert _circles(graph) == [["a", "b", "c"]]


def test_no_import_circle_inside_pylapse() -> None:
    assert _circles(_library_graph()) == []


def test_each_wing_imports_only_downward() -> None:
    graph = _library_graph()
    wings = {_wing(m) for m in graph} - {"pylapse"}
    assert wings <= set(FLOORS), f"give these wings a floor in FLOORS: {wings - set(FLOORS)}"
    upward = [
        f"{module} ({_wing(module)}, floor {FLOORS[_wing(module)]}) imports {dep} "
        f"({_wing(dep)}, floor {FLOORS[_wing(dep)]})"
        for module, deps in sorted(graph.items())
        if _wing(module) != "pylapse"
        for dep in sorted(deps)
        if _wing(dep) not in ("pylapse", _wing(module))
        and not (_wing(module) == _wing(dep) == "ground")
        and FLOORS[_wing(dep)] >= FLOORS[_wing(module)]
    ]
    assert upward == []


def test_web_routes_do_not_import_each_other() -> None:
    """Use cases live in pylapse.tasks and shared web pieces outside the route modules; a route
    module may use the routes' own helpers (``_media``, ``_removal``) but no other route."""
    routes = REPO / "web" / "routes"
    names = {p.stem for p in routes.glob("*.py") if not p.stem.startswith("_")}
    offenders = []
    for path in sorted(routes.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                hits = [m for m in imported if m.startswith("web.routes.")]
                if any(m.split(".")[2] in names and m.split(".")[2] != path.stem for m in hits):
                    offenders.append(f"{path.name}:{node.lineno} imports {node.module}")
    assert offenders == []
