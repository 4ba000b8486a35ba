"""The README's Python API example (kept in docs/python-api.md) runs as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from pylapse import naming, storage, timeutil

REPO = Path(__file__).resolve().parents[1]


def _snippet(path: Path) -> str:
    blocks = re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), re.S)
    assert blocks, f"{path} has no python example"
    return blocks[0]


def _readme_collection_example() -> str:
    """The README's ``Collection`` example, taken from README.md itself."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if "Collection(" in b]
    assert len(blocks) == 1, "README.md should have one Collection example"
    return blocks[0]


def _make_frames(root: Path) -> int:
    tz = timeutil.zone("Europe/Berlin")
    start = datetime(2026, 2, 9, tzinfo=tz)
    count = 0
    for k in range(2 * 144):  # two days, a frame every 10 minutes
        when = start + timedelta(minutes=10 * k)
        folder = storage.day_folder(root, when)
        folder.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (64, 48), (k % 255, 90, 160)).save(
            folder / naming.format_name(when, prefix="cam-"), "JPEG"
        )
        count += 1
    return count


@pytest.mark.slow
def test_python_api_example_runs(tmp_path, monkeypatch, capsys):
    frames, export = tmp_path / "frames", tmp_path / "export"
    assert _make_frames(frames) == 288
    monkeypatch.setenv("PYLAPSE_CACHE_DIR", str(tmp_path / "cache"))
    code = _snippet(REPO / "docs" / "python-api.md")
    code = code.replace("/path/to/frames", str(frames)).replace("/path/to/export", str(export))
    namespace: dict = {}
    exec(compile(code, "docs/python-api.md", "exec"), namespace)  # the example, as written
    out = capsys.readouterr().out
    assert f"Image Collection: Outdoor, Location: {frames}, Image Count: 288" in out
    assert "2026-02-09 144" in out and "2026-02-10 144" in out
    # 06:00-20:45 every 15 min = 60 targets a day; frames every 10 min are all within 5 min
    assert "120 frames, 0 gaps" in out
    day_export = sorted((export / "day").glob("Timelapse *.jpg"))
    assert len(day_export) == 2 * 12 * 4  # every 2 h, every 15 min, 2 days
    assert namespace["noon"].counts.chosen == 2
    assert namespace["grid"].counts.gaps == 0
    namespace["outdoor"].close()


def test_readme_shows_the_tested_example() -> None:
    """The README's collection example is the one this file runs, word for word."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert _snippet(REPO / "docs" / "python-api.md") in readme


def _run_python(args: list[str], cwd: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYLAPSE_CACHE_DIR=str(cache))
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.parametrize("how", ["script", "module", "-c"])
def test_readme_example_runs_as_a_plain_script(tmp_path: Path, how: str) -> None:
    """Issue 10 item 5: no ``if __name__ == "__main__":`` guard, the export's worker processes
    must not run the script again (that broke the pool with BrokenProcessPool)."""
    frames, export, marker = tmp_path / "frames", tmp_path / "export", tmp_path / "runs.txt"
    _make_frames(frames)
    code = _readme_collection_example()
    code = code.replace("/path/to/frames", str(frames)).replace("/path/to/export", str(export))
    # the script's top level leaves a trace each time it runs: exactly once is right
    code = f"open({str(marker)!r}, 'a').write('ran\\n')\n" + code
    assert "__main__" not in code
    (tmp_path / "readme_example.py").write_text(code, encoding="utf-8")
    args = {
        "script": ["readme_example.py"],
        "module": ["-m", "readme_example"],
        "-c": ["-c", code],
    }[how]
    done = _run_python(args, tmp_path, tmp_path / "cache")
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"96 frames written to {export / 'day'}" in done.stdout
    assert len(sorted((export / "day").glob("Timelapse *.jpg"))) == 96
    assert marker.read_text(encoding="utf-8") == "ran\n"
