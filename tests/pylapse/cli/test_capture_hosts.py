"""Two capture hosts on one config: real ``pylapse capture --host`` processes against a loopback
camera. No camera is captured by both; a host stopped past its leases loses its unpinned cameras
and writes none of them again; when a host is killed, the other takes over its unpinned cameras
once their leases expire, and its pinned camera waits for it."""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pylapse.capture.leases import Lease, LeaseStore
from tests.servers.camera_server import CameraServer

pytestmark = [pytest.mark.network, pytest.mark.slow]

LEASE = 3.0  # a heartbeat a second: a host may stall 2 s on a busy machine and keep its leases
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
            "spare": camera("spare"),
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


def _leases(folder: Path) -> dict[str, Lease]:
    store = LeaseStore(folder / "data" / "pylapse.db")
    try:
        return store.live()
    finally:
        store.close()


def _holders(folder: Path) -> dict[str, str]:
    return {camera: lease.host for camera, lease in _leases(folder).items()}


def _stop_between_writes(host: Host, folder: Path) -> None:
    """SIGSTOP ``host`` at a moment it holds no write lock on the database (a process stopped
    mid-commit would hold every other writer up until it runs again: a real machine paused
    mid-commit stops its other processes too)."""
    for _ in range(50):
        host.proc.send_signal(signal.SIGSTOP)
        probe = sqlite3.connect(folder / "data" / "pylapse.db", timeout=0.2)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.rollback()
            return
        except sqlite3.OperationalError:  # locked: let it finish its commit, try again
            host.proc.send_signal(signal.SIGCONT)
            time.sleep(0.05)
        finally:
            probe.close()
    pytest.fail("could not stop the host between two of its writes")


def _newest(names: set[str]) -> str:
    return max(names, default="")


def test_two_hosts_share_the_cameras_pause_and_kill(tmp_path, server, repo):
    """A starts first and takes the unpinned cameras; B waits for them. A stopped (SIGSTOP)
    past its leases loses them to B and, woken, writes none of them again; B killed (SIGKILL)
    loses them back to A once its leases ran out, while B's pinned camera waits for B."""
    config = _config(tmp_path, server)
    a = Host(config, "A", repo)
    b: Host | None = None
    unpinned = ("free", "spare")
    try:
        assert _wait_for(lambda: all(_frames(tmp_path, c) for c in ("north", *unpinned))), a.text()
        b = Host(config, "B", repo)
        assert _wait_for(lambda: _frames(tmp_path, "south")), b.text()
        time.sleep(1.0)  # both running side by side for a slot or two
        assert f"camera free is captured by host A (pid {a.proc.pid}), waiting" in b.text()
        assert _holders(tmp_path) == {"north": "A", "free": "A", "spare": "A", "south": "B"}
        assert set(a.saved()) == {"north", *unpinned} and set(b.saved()) == {"south"}

        # A paused past its leases: B takes the unpinned cameras; A, woken, writes none of them
        _stop_between_writes(a, tmp_path)
        a_leases = _leases(tmp_path)
        assert _wait_for(lambda: set(unpinned) <= set(b.saved()), LEASE + 10), b.text()
        a.proc.send_signal(signal.SIGCONT)
        assert _wait_for(lambda: "camera spare: lease lost to host B" in a.text()), a.text()
        assert "camera free: lease lost to host B" in a.text()
        time.sleep(1.0)
        before = a.saved()
        for camera in unpinned:  # whatever A saved was taken before B's first frame of it
            assert _newest(before[camera]) < min(b.saved()[camera])
        assert _holders(tmp_path) == {"north": "A", "free": "B", "spare": "B", "south": "B"}
        taken_by_b = _leases(tmp_path)
        for camera in unpinned:  # not before A's lease ran out
            assert taken_by_b[camera].acquired_at >= a_leases[camera].expires_at

        # B killed: no release; A takes the unpinned cameras back once B's leases expire
        b.stop(signal.SIGKILL)
        b_leases = _leases(tmp_path)
        south_then = _frames(tmp_path, "south")
        taken = "camera free: lease taken by host A"
        assert _wait_for(lambda: a.text().count(taken) == 2, LEASE + 10), a.text()
        for camera in unpinned:  # not before B's lease ran out
            assert _leases(tmp_path)[camera].acquired_at >= b_leases[camera].expires_at
        assert _wait_for(lambda: a.saved()["free"] - before["free"]), a.text()
        time.sleep(1.0)
        assert "south" not in a.saved() and _frames(tmp_path, "south") == south_then  # pinned
        assert _holders(tmp_path) == {"north": "A", "free": "A", "spare": "A"}

        status = subprocess.run(
            [sys.executable, "-m", "pylapse", "capture", "--config", str(config), "--status"],
            cwd=repo, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert status.returncode == 0, status.stderr
        assert re.search(r"free: captured by host A \(pid \d+\)", status.stdout)
        assert "south: not captured by any host, pinned to B" in status.stdout
        # B took the site duty while A was stopped; killed, B's duty expired with its camera leases
        assert re.search(r"scheduled renders \(site duty\): run by host A \(pid \d+\)",
                         status.stdout)  # fmt: skip
        assert re.search(r"A \(pid \d+\): last heartbeat \d+ s ago", status.stdout)
        assert re.search(r"B \(pid \d+\): last heartbeat \d+ s ago \(silent", status.stdout)
    finally:
        if b is not None:
            b.stop(signal.SIGKILL)
        code = a.stop()
    assert code == 0, a.text()
    # every frame on disk was saved by exactly one host, once; a camera's holders took turns
    a_saved, b_saved = a.saved(), b.saved()
    for camera in ("north", "south", *unpinned):
        mine, theirs = a_saved.get(camera, set()), b_saved.get(camera, set())
        assert not mine & theirs
        assert _frames(tmp_path, camera) == mine | theirs
        assert not [n for n in mine | theirs if re.search(r"-\d+\.jpg$", n)]  # no slot twice
    for camera in unpinned:
        later = a_saved[camera] - before[camera]
        assert _newest(before[camera]) < min(b_saved[camera])
        assert _newest(b_saved[camera]) < min(later)
    assert _holders(tmp_path) == {}  # A released its leases on SIGTERM
