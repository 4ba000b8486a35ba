"""Nothing outlives its owner: ffmpeg and the camera tools die with pyLapse (even by ``kill -9``),
and a dead render's temp file is swept by the next render, never a live one's. Real processes,
real ffmpeg, real renders; /proc tells which processes are running (Linux)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pylapse.cli import main
from pylapse.sources.process import ToolMissing, run_tool
from tests.orphan_support import (
    kill_leftovers,
    running,
    start_render,
    temps,
    wait_for,
    write_frames,
)

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG and /proc are Linux's"
)


@pytest.fixture
def reaper(tmp_path: Path) -> Iterator[None]:
    """Kills what a test left running in its folder, then sweeps the frame lists of the
    renders it killed from the temp folder."""
    yield
    kill_leftovers(str(tmp_path))
    from pylapse.video.temps import sweep_render_temps

    sweep_render_temps(tmp_path)


def kill9(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait()


@pytest.mark.slow
def test_a_killed_render_takes_its_ffmpeg_with_it(tmp_path, reaper):
    frames = write_frames(tmp_path / "frames", 120)
    out = tmp_path / "videos"
    render = start_render(frames, out / "clip.mp4", tmp_path / "render.log")
    assert wait_for(lambda: running(str(out), "ffmpeg")), (tmp_path / "render.log").read_text()
    ffmpeg = running(str(out), "ffmpeg")
    kill9(render)
    assert wait_for(lambda: not running(str(out), "ffmpeg"), 10), f"still running: {ffmpeg}"
    assert temps(out, "clip.mp4")  # left behind (nobody could remove it): see the next test


@pytest.mark.slow
def test_the_next_render_sweeps_what_a_dead_render_left_and_not_a_live_ones(tmp_path, reaper):
    frames = write_frames(tmp_path / "frames", 120)
    out = tmp_path / "videos"
    live = start_render(frames, out / "live.mp4", tmp_path / "live.log")
    dead = start_render(frames, out / "dead.mp4", tmp_path / "dead.log")
    try:
        assert wait_for(lambda: len(running(str(out), "ffmpeg")) == 2)
        assert temps(out, "live.mp4") and temps(out, "dead.mp4")
        kill9(dead)
        assert wait_for(lambda: len(running(str(out), "ffmpeg")) == 1, 10)
        live_temps = temps(out, "live.mp4")

        small = write_frames(tmp_path / "small", 3)
        assert main(["render", str(small), str(out / "next.mp4"), "--no-progress"]) == 0

        assert (out / "next.mp4").is_file()
        assert temps(out, "dead.mp4") == []  # the dead render's temp file is gone
        assert temps(out, "live.mp4") == live_temps  # the running one's is untouched
        assert live.poll() is None and len(running(str(out), "ffmpeg")) == 1
    finally:
        kill9(live)


def test_sweep_removes_only_files_whose_owner_is_dead(tmp_path):
    from pylapse import orphans

    gone = subprocess.Popen(["true"])
    gone.wait()
    dead = f"pylapse-{gone.pid}-abc123"
    mine = f"pylapse-{os.getpid()}-def456"
    files = {
        name: tmp_path / name
        for name in (
            f".clip.mp4.{dead}.tmp",  # a dead render's video
            f".clip.mp4.{dead}.palette.tmp",  # and its GIF palette: they go together
            f".clip.mp4.{mine}.tmp",  # a live render's (this process)
            ".frame.jpg.x1y2z3.tmp",  # a capture's temp file: not a render's
            f".pylapse-{gone.pid}-x.mp4.kept",  # not matched by the caller
        )
    }
    for path in files.values():
        path.write_bytes(b"x")
    # an owner this process cannot see (another container sharing the folder): its lock says
    with orphans.OwnedTemp(tmp_path, ".other.mp4.", ".tmp") as other:
        foreign = other.path.with_name(other.path.name.replace(str(os.getpid()), str(gone.pid)))
        os.link(other.path, foreign)  # same inode, so the same lock, under a dead pid's name
        removed = orphans.sweep(tmp_path, lambda n: n.startswith(".") and n.endswith(".tmp"))
        assert foreign.exists()
    assert sorted(p.name for p in removed) == sorted(
        [f".clip.mp4.{dead}.tmp", f".clip.mp4.{dead}.palette.tmp"]
    )
    assert files[f".clip.mp4.{mine}.tmp"].exists()
    assert files[".frame.jpg.x1y2z3.tmp"].exists()
    assert files[f".pylapse-{gone.pid}-x.mp4.kept"].exists()
    assert orphans.sweep(tmp_path, lambda n: n.endswith(".tmp")) == [foreign]  # lock gone


def test_owner_pid_is_the_last_tag_in_a_name():
    from pylapse import orphans

    assert orphans.owner_pid(".pylapse-2024-march.mp4.pylapse-4242-k3j_9x.tmp") == 4242
    assert orphans.owner_pid(".clip.mp4.k3j29x.tmp") is None
    assert orphans.owned_prefix(".a.mp4.") == f".a.mp4.pylapse-{os.getpid()}-"


_SPAWNER = """
import subprocess, sys
from pylapse.orphans import child_argv
argv, extra = child_argv(["tail", "-f", sys.argv[1]], wrapper={wrapper})
child = subprocess.Popen(argv, **extra)
print(child.pid, flush=True)
child.wait()
"""


@pytest.mark.parametrize("wrapper", [True, False], ids=["setpriv", "prctl-fallback"])
def test_a_tool_dies_with_the_process_that_started_it(tmp_path, reaper, wrapper):
    from pylapse import orphans

    if wrapper and orphans._setpriv() is None:
        pytest.skip("no setpriv with --pdeathsig here (util-linux 2.33+)")
    marker = tmp_path / "marker"
    marker.touch()
    spawner = subprocess.Popen(
        [sys.executable, "-c", _SPAWNER.format(wrapper=wrapper), str(marker)],
        cwd=REPO,
        stdout=subprocess.PIPE,
    )
    assert spawner.stdout is not None
    pid = int(spawner.stdout.readline())
    assert wait_for(lambda: running(str(marker), "tail") == [pid], 10)
    spawner.kill()  # SIGKILL: no cleanup runs in the spawner
    spawner.wait()
    assert wait_for(lambda: not running(str(marker), "tail"), 10)


def test_a_missing_tool_is_still_named(tmp_path):
    with pytest.raises(ToolMissing, match="no-such-camera-tool"):
        run_tool(["no-such-camera-tool", "--capture"], timeout=5)
    script = tmp_path / "tool.sh"
    script.write_text("#!/bin/sh\necho hello\n")
    with pytest.raises(ToolMissing, match=r"tool\.sh"):  # not executable
        run_tool([str(script)], timeout=5)
    script.chmod(0o755)
    assert run_tool([str(script)], timeout=5).stdout == b"hello\n"
