"""A full disk under the data folder (the SQLite index, health and capture log): capture pauses
and says why, keeps every frame it wrote, and resumes by itself when space returns; the CLI says
so in one line. The disk is real: a 2 MB tmpfs filled up to the last byte (needs root, as CI
has; skipped with the reason otherwise)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pylapse.cli import main
from pylapse.config.file import load_config
from pylapse.index.store import FrameIndex
from pylapse.runtime import Runtime

REPO = Path(__file__).resolve().parents[2]
FULL = "is full: capture paused; free space to resume"


class SmallDisk:
    """A mounted tmpfs of a few MB, filled up and freed again on request."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.filler = path / "filler"

    def fill(self) -> None:
        """Write until the filesystem refuses a single byte more (ENOSPC)."""
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for size in (65536, 4096, 1):
                try:
                    while True:
                        os.write(fd, b"\0" * size)
                except OSError as exc:
                    assert exc.errno == 28, exc  # ENOSPC: the disk is full
        finally:
            os.close(fd)

    def free(self) -> None:
        self.filler.unlink()


def _mount(path: Path, size: str) -> SmallDisk:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("a real full disk needs a tmpfs mount, which needs root (CI runs as root)")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}")
    return SmallDisk(path)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    """``tmp_path/data`` on a 2 MB disk of its own."""
    disk = _mount(tmp_path / "data", "2m")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk.path)], check=False)


def _config(tmp_path: Path, **camera: object) -> Path:
    raw = {
        "data_dir": "data",
        "storage_roots": ["frames"],
        "min_free_mb": 0,
        "max_retries": 2,
        "retry_delay": 1,
        "cameras": {
            "syn": {
                "name": "Synthetic",
                "type": "synthetic",
                "output_dir": "frames/syn",
                "timezone": "UTC",
                "capture_width": 320,
                "capture_height": 180,
                "schedules": [
                    {
                        "id": "fast",
                        "type": "interval",
                        "interval_amount": 1,
                        "interval_unit": "seconds",
                    }
                ],
                **camera,
            }
        },
    }
    path = tmp_path / "capture_config.json"
    path.write_text(json.dumps(raw))
    return path


def _wait_for(predicate, timeout: float = 20.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return bool(predicate())


def _frames(folder: Path) -> set[Path]:
    return set(folder.rglob("*.jpg"))


def _problems(records: list[logging.LogRecord]) -> list[str]:
    """Log records that carry a traceback or come from a job that raised."""
    return [
        f"{r.name}: {r.getMessage()}"
        for r in records
        if r.exc_info or r.levelno >= logging.ERROR or "Traceback" in r.getMessage()
    ]


@pytest.mark.slow
def test_capture_pauses_on_a_full_data_disk_and_resumes_by_itself(tmp_path, small_disk, caplog):
    caplog.set_level(logging.INFO)
    runtime = Runtime(load_config(_config(tmp_path)), jobs=False)
    frames = tmp_path / "frames" / "syn"
    runtime.start()
    try:
        assert _wait_for(lambda: runtime.index.count("syn") >= 1)
        small_disk.fill()
        # the dashboard's health says why, while the database cannot be written
        assert _wait_for(lambda: FULL in (runtime.health.get("syn").paused_reason or ""))
        reason = runtime.health.get("syn").paused_reason
        assert str(small_disk.path) in reason
        time.sleep(2.5)  # slots come and go while the disk stays full
        during = _frames(frames)
        time.sleep(2.0)
        assert _frames(frames) == during  # paused: nothing captured while full
        assert runtime.health.get("syn").paused_reason == reason  # and still said

        small_disk.free()
        assert _wait_for(lambda: len(_frames(frames)) >= len(during) + 2)
        assert _wait_for(lambda: runtime.health.get("syn").paused_reason is None)
        # every frame written is indexed: the one whose row hit the full disk was kept and
        # its row written once there was space again
        assert _wait_for(lambda: runtime.index.count("syn") >= len(during) + 2)
        indexed = {f.path for f in runtime.index.frames("syn")}
        assert _frames(frames) - indexed <= {p for p in _frames(frames) if p not in during}
        assert during <= indexed
        messages = [e.message for e in runtime.health.log(200, camera="syn")]
        assert any(FULL in m for m in messages)  # reported once writable again
        assert "capture resumed" in messages
    finally:
        runtime.stop()
    assert _problems(caplog.records) == []
    texts = [r.getMessage() for r in caplog.records]
    assert sum(FULL in t for t in texts) >= 1
    assert any("capture resumed" in t for t in texts)


@pytest.fixture
def one_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    """``tmp_path/disk`` on a 4 MB disk of its own, for the data folder and the frames both."""
    disk = _mount(tmp_path / "disk", "4m")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk.path)], check=False)


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["frames", "both"])
def test_capture_pauses_on_a_full_frame_disk_and_resumes_by_itself(
    tmp_path, one_disk, caplog, layout
):
    """The frames' disk full (alone, or with the data folder on it): a pause that says why, not
    a failing camera with retries; capture resumes at the first slot after space returns."""
    caplog.set_level(logging.INFO)
    frames = one_disk.path / "frames"
    config = json.loads(_config(tmp_path, output_dir=str(frames)).read_text())
    if layout == "both":
        config["data_dir"] = str(one_disk.path / "data")
    path = tmp_path / "capture_config.json"
    path.write_text(json.dumps(config))
    runtime = Runtime(load_config(path), jobs=False)
    runtime.start()
    try:
        assert _wait_for(lambda: runtime.index.count("syn") >= 1)
        one_disk.fill()
        assert _wait_for(lambda: FULL in (runtime.health.get("syn").paused_reason or ""))
        time.sleep(2.5)
        health = runtime.health.get("syn")
        assert FULL in (health.paused_reason or "")
        assert health.consecutive_failures == 0  # a full disk is not the camera's fault
        assert runtime.scheduler is not None and runtime.scheduler.pending_retries() == []
        before = _frames(frames)
        one_disk.free()
        assert _wait_for(lambda: len(_frames(frames)) >= len(before) + 2)
        assert _wait_for(lambda: runtime.health.get("syn").paused_reason is None)
        assert _wait_for(lambda: runtime.index.count("syn") == len(_frames(frames)), 5)
        assert not [p for p in frames.rglob("*") if p.name.endswith(".tmp")]  # no half frame
    finally:
        runtime.stop()
    assert _problems(caplog.records) == []
    assert any("capture resumed" in r.getMessage() for r in caplog.records)


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pylapse.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def _one_line(done: subprocess.CompletedProcess[str], command: str, data: Path) -> str:
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith(f"pylapse {command}:")]
    assert len(lines) == 1, done.stderr
    assert f"the disk holding the data folder ({data}) is full" in lines[0]
    return lines[0]


def test_index_on_a_full_disk_says_so_in_one_line(tmp_path, small_disk):
    config = _config(tmp_path)
    FrameIndex(small_disk.path / "pylapse.db").close()  # an index that exists already
    day = tmp_path / "frames" / "syn" / "2026-03-01"
    day.mkdir(parents=True)
    for minute in range(200):  # more rows than the WAL's slack can take
        (day / f"2026-03-01T12-{minute // 60:02d}-{minute % 60:02d}+00.00.jpg").touch()
    small_disk.fill()
    _one_line(
        _cli(["index", "--config", str(config), "--no-progress"], tmp_path),
        "index",
        small_disk.path,
    )
    small_disk.free()
    assert main(["index", "--config", str(config), "--no-progress"]) == 0
    with FrameIndex(small_disk.path / "pylapse.db") as index:
        assert index.count("syn") == 200


def test_capture_and_import_on_a_full_disk_say_so_in_one_line(tmp_path, small_disk):
    """A data folder so full that the database cannot even be created."""
    config = _config(tmp_path)
    (tmp_path / "frames" / "old").mkdir(parents=True)
    small_disk.fill()
    done = _cli(["capture", "--config", str(config), "--duration", "1"], tmp_path)
    _one_line(done, "capture", small_disk.path)
    done = _cli(["import", str(tmp_path / "frames" / "old"), "--config", str(config)], tmp_path)
    _one_line(done, "import", small_disk.path)
