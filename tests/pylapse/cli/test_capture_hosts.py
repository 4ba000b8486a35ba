"""Two capture hosts on one config: real ``pylapse capture --host`` processes against a loopback
camera. No camera is captured by both; when one host is killed, the other takes over its
unpinned camera once the lease expires, and its pinned camera waits for it."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pylapse.capture.leases import LeaseStore
from tests.servers.camera_server import CameraServer

pytestmark = [pytest.mark.network, pytest.mark.slow]

LEASE = 2.0
EVERY = {"id": "s", "type": "interval", "interval_amount": 1, "interval_unit": "seconds"}
SAVED = re.compile(r"(\S+): \S+ saved (\S+)")


@pytest.fixture(scope="module")
def server():
    with CameraServer(frame_size=(96, 64)) as cam:
        yield cam


def _config(folder: Path, server: CameraServer) -> Path:
    def camera(name: str, **extra: str) -> dict:
        return {"url": server.url("/shot.jpg"), "output_dir": f"frames/{name}",
                "schedules": [EVERY], "read_timeout": 2, **extra}  # fmt: skip

    raw = {
        "cameras": {
            "north": camera("north", capture_host="A"),
            "south": camera("south", capture_host="B"),
            "free": camera("free"),
        },
        "data_dir": "data",
        "min_free_mb": 0,
        "capture": {"lease_seconds": LEASE},
    }
    path = folder / "capture_config.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    return path


class Host:
    """One ``pylapse capture --host NAME`` process, its log in a file (no pipe to fill up)."""

    def __init__(self, config: Path, name: str, repo: Path) -> None:
        self.log = config.parent / f"host-{name}.log"
        self._file = self.log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pylapse", "capture", "--config", str(config), "--host", name],
            cwd=repo, stdout=self._file, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8")

    def saved(self) -> dict[str, set[str]]:
        """Camera id -> names of the frames this host says it saved."""
        found: dict[str, set[str]] = {}
        for camera_id, path in SAVED.findall(self.text()):
            found.setdefault(camera_id, set()).add(Path(path).name)
        return found

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._file.close()
        return self.proc.returncode


def _frames(folder: Path, camera_id: str) -> set[str]:
    return {p.name for p in (folder / "frames" / camera_id).rglob("*.jpg")}


def _wait_for(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def _holders(folder: Path) -> dict[str, str]:
    store = LeaseStore(folder / "data" / "pylapse.db")
    try:
        return {x.camera_id: x.host for x in store.leases() if x.live()}
    finally:
        store.close()


def test_two_hosts_share_the_cameras_and_one_takes_over_from_a_killed_one(tmp_path, server, repo):
    config = _config(tmp_path, server)
    a = Host(config, "A", repo)
    b: Host | None = None
    try:
        assert _wait_for(lambda: _frames(tmp_path, "free") and _frames(tmp_path, "north")), a.text()
        b = Host(config, "B", repo)
        assert _wait_for(lambda: len(_frames(tmp_path, "south")) >= 2), b.text()
        time.sleep(1.0)  # both running side by side for a slot or two
        assert f"camera free is captured by host A (pid {a.proc.pid}), waiting" in b.text()
        assert _holders(tmp_path) == {"north": "A", "free": "A", "south": "B"}
        assert set(a.saved()) == {"north", "free"} and set(b.saved()) == {"south"}

        a.stop(signal.SIGKILL)  # no release: its leases must run out
        killed = time.monotonic()
        north_then = _frames(tmp_path, "north")
        assert _wait_for(lambda: "free" in b.saved(), timeout=LEASE + 10), b.text()
        took = time.monotonic() - killed
        assert "camera free: lease taken by host B" in b.text()
        assert took >= LEASE - 0.5  # not before A's lease ran out
        time.sleep(1.0)
        assert "north" not in b.saved()  # pinned to A: waits for A
        assert _frames(tmp_path, "north") == north_then
        assert _holders(tmp_path) == {"free": "B", "south": "B"}

        status = subprocess.run(
            [sys.executable, "-m", "pylapse", "capture", "--config", str(config), "--status"],
            cwd=repo, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert status.returncode == 0, status.stderr
        assert re.search(r"free: captured by host B \(pid \d+\)", status.stdout)
        assert "north: not captured by any host, pinned to A" in status.stdout
        assert "B (pid" in status.stdout and "A (pid" in status.stdout
    finally:
        a.stop(signal.SIGKILL)
        code = b.stop() if b is not None else 0
    assert code == 0, b.text()
    # every frame on disk was saved by exactly one host, none twice
    a_saved, b_saved = a.saved(), b.saved()
    for camera_id in ("north", "south", "free"):
        mine, theirs = a_saved.get(camera_id, set()), b_saved.get(camera_id, set())
        assert not mine & theirs
        assert _frames(tmp_path, camera_id) == mine | theirs
        assert not [n for n in mine | theirs if re.search(r"-\d+\.jpg$", n)]  # no slot twice
    assert max(a_saved["free"]) < min(b_saved["free"])  # one after the other, never together
    assert _holders(tmp_path) == {}  # B released its leases on SIGTERM
