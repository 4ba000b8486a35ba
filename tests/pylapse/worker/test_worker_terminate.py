"""A pool process told to stop (Celery's revoke with terminate sends it SIGTERM) while a task
runs ffmpeg: the encode is cancelled (ffmpeg stopped, its temp file removed) and the process
then ends by that same signal, as Celery expects of a terminated task."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import signal
import time
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image

from pylapse.ffmpeg import find_ffmpeg
from pylapse.video.command import RenderOptions
from pylapse.video.distributed import encode_segment
from pylapse.video.segments import day_fingerprint
from pylapse.worker.app import terminate_cancels
from tests.pylapse.video.test_segments import BERLIN, Shot

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals and fork")


def _slow_day(folder: Path, count: int) -> list[Shot]:
    folder.mkdir(parents=True)
    shots = []
    for i in range(count):
        when = datetime(2026, 5, 1, 6, i % 60, i // 60, tzinfo=BERLIN)
        path = folder / f"cam-{i:03d}.jpg"
        Image.frombytes("RGB", (640, 360), os.urandom(640 * 360 * 3)).save(path, quality=85)
        shots.append(Shot(path, when.timestamp(), 7200))
    return shots


def _encode_in_a_pool_process(args: dict) -> None:
    # the worker's main process is another one: this is a pool process, the handler is set
    with terminate_cancels(main_pid=os.getppid()) as cancel:
        encode_segment(**args, cancel=cancel)
    os._exit(3)  # not reached when terminated: the process ends by SIGTERM above


def _ffmpegs(folder: Path) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if proc.name.isdigit() and b"ffmpeg" in Path(argv[0].decode()).name.encode() \
                and str(folder).encode() in b" ".join(argv):  # fmt: skip
            found.append(int(proc.name))
    return found


def test_sigterm_mid_encode_stops_ffmpeg_removes_the_temp_file_and_ends_the_process(
    tmp_path: Path,
) -> None:
    shots = _slow_day(tmp_path / "frames", 120)
    cache = tmp_path / "cache"
    cache.mkdir()
    args = {
        "segment": str(cache / "2026-05-01.mp4"), "day": "2026-05-01",
        "rows": [[str(s.path), s.utc, s.offset, None, None, None, None] for s in shots],
        "options": dataclasses.asdict(RenderOptions(fps=10)),
        "fingerprint": day_fingerprint(shots), "size": [640, 360], "roots": [str(tmp_path)],
        "ffmpeg_version": find_ffmpeg().version,
    }  # fmt: skip
    child = multiprocessing.get_context("fork").Process(
        target=_encode_in_a_pool_process, args=(args,)
    )
    child.start()
    deadline = time.monotonic() + 60
    while not (list(cache.glob(".*.tmp")) and _ffmpegs(tmp_path)):
        assert time.monotonic() < deadline and child.is_alive(), "the encode never started"
        time.sleep(0.02)
    assert child.pid is not None
    os.kill(child.pid, signal.SIGTERM)
    child.join(30)
    assert child.exitcode == -signal.SIGTERM
    assert not _ffmpegs(tmp_path)
    assert list(cache.iterdir()) == []  # no temp file, no segment, no manifest
