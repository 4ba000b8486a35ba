"""``kill -9`` of the dashboard during a render job: its ffmpeg dies with it, and the next start
sweeps the temp files the render could not remove. A real ``web_ui.py`` on a socket (the process
must really die), a real render through the form, real ffmpeg; /proc says what runs (Linux)."""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from web_support import demo_config

from tests.orphan_support import REPO, kill_leftovers, running, temps, wait_for, write_frames

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's"),
    pytest.mark.network,
    pytest.mark.slow,
]


def _answers(proc: subprocess.Popen[bytes], url: str, log: Path) -> bool:
    assert proc.poll() is None, log.read_text()
    try:
        return httpx.get(url, timeout=1).status_code < 500
    except httpx.HTTPError:
        return False


@pytest.fixture
def start(tmp_path: Path, free_port: int) -> Iterator:  # type: ignore[type-arg]
    """``start(config)``: ``web_ui.py`` on ``free_port`` until it answers; stopped at the end."""
    started: list[subprocess.Popen[bytes]] = []
    log = tmp_path / "web_ui.log"

    def run(config: Path) -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, str(REPO / "web_ui.py"), "--config", str(config),
                 "--port", str(free_port)],
                cwd=config.parent, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        started.append(proc)
        assert wait_for(lambda: _answers(proc, f"http://127.0.0.1:{free_port}/", log)), (
            log.read_text()
        )
        return proc

    yield run
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    kill_leftovers(str(tmp_path))


def test_a_killed_dashboard_takes_its_render_ffmpeg_with_it_and_the_next_start_sweeps(
    tmp_path, free_port, start
):
    config = demo_config(tmp_path)
    frames = write_frames(tmp_path / "timelapse" / "exports" / "demo" / "day", 120)
    videos = tmp_path / "timelapse" / "videos"
    server = start(config)
    with httpx.Client(base_url=f"http://127.0.0.1:{free_port}", timeout=30) as client:
        token = client.get("/api/session").json()["csrf_token"]
        form = {"source": "export", "export_dir": str(frames), "pattern": "*.jpg",
                "codec": "h264", "timing": "fps", "fps": "24", "size": "3840x2160",
                "name": "clip"}  # fmt: skip
        response = client.post("/videos", data={"csrf_token": token, **form})
        assert response.status_code < 400, response.text
    log = (tmp_path / "web_ui.log").read_text
    assert wait_for(lambda: running(str(videos), "ffmpeg")), log()
    ffmpeg = running(str(videos), "ffmpeg")

    server.send_signal(signal.SIGKILL)
    server.wait()
    assert wait_for(lambda: not running(str(videos), "ffmpeg"), 10), f"still running: {ffmpeg}"
    left = temps(videos, "clip.mp4")
    frame_list = list(Path(tempfile.gettempdir()).glob(f"pylapse-{server.pid}-*.concat.txt"))
    assert left and frame_list  # what the dead render could not remove

    start(config)  # the next start: the job history says the render was interrupted
    assert not [p for p in left + frame_list if p.exists()]
