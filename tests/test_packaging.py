"""`pip install .` ships every template, static file and font: the package-data globs in
pyproject.toml cover each non-Python file under the packages, and the web command is an entry
point (the library never imports the web layer)."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def test_package_data_covers_every_data_file() -> None:
    package_data = _pyproject()["tool"]["setuptools"]["package-data"]
    missing = []
    for package, patterns in package_data.items():
        root = REPO / package
        for path in root.rglob("*"):
            if not path.is_file() or path.suffix in (".py", ".pyc") or "__pycache__" in path.parts:
                continue
            relative = path.relative_to(root).as_posix()
            # setuptools globs do not cross folders: "static/*" misses "static/vendor/x.js"
            if not any(
                fnmatch.fnmatch(relative, p) and relative.count("/") == p.count("/")
                for p in patterns
            ):
                missing.append(f"{package}/{relative}")
    assert missing == [], "not shipped by pip install: " + ", ".join(missing)


def test_console_command_and_web_entry_point() -> None:
    project = _pyproject()["project"]
    assert project["scripts"]["pylapse"] == "pylapse.cli:main"
    assert project["entry-points"]["pylapse.commands"]["web"] == "web.cli"
