"""The data-folder lock: one scheduler per data folder, named refusals, takeover after a crash."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys

import pytest

from pylapse.capture.lock import LOCK_NAME, DataLock, LockHeld, read_owner

HOLDER = """
import sys, time
from pylapse.capture.lock import DataLock
DataLock(sys.argv[1], command="autocapture.py --config test.json").acquire()
print("locked", flush=True)
time.sleep(60)
"""


def _holder(data_path, repo):
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(data_path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=repo,
    )
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_lock_records_owner_and_refuses_a_second(tmp_path):
    first = DataLock(tmp_path, command="web_ui.py").acquire()
    owner = read_owner(tmp_path / LOCK_NAME)
    assert owner.pid == os.getpid() and owner.host == socket.gethostname()
    assert owner.command == "web_ui.py"
    with pytest.raises(LockHeld) as info:
        DataLock(tmp_path).acquire()
    message = str(info.value)
    assert f"pid {os.getpid()}" in message and "web_ui.py" in message
    assert str(tmp_path) in message
    first.release()
    with DataLock(tmp_path) as second:  # free again
        assert second.held


def test_other_process_is_named(tmp_path, repo):
    proc = _holder(tmp_path, repo)
    try:
        with pytest.raises(LockHeld, match=f"pid {proc.pid} .*autocapture.py --config test.json"):
            DataLock(tmp_path).acquire()
    finally:
        proc.kill()
        proc.wait()


def test_lock_of_a_killed_process_is_taken_over(tmp_path, repo):
    proc = _holder(tmp_path, repo)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    stale = json.loads((tmp_path / LOCK_NAME).read_text())
    assert stale["pid"] == proc.pid  # the file still names the dead process
    with DataLock(tmp_path, command="me") as lock:
        assert lock.held
        assert read_owner(tmp_path / LOCK_NAME).pid == os.getpid()


def test_a_released_lock_leaves_no_file(tmp_path):
    with DataLock(tmp_path, command="me"):
        assert (tmp_path / LOCK_NAME).is_file()
    assert not (tmp_path / LOCK_NAME).exists()


def test_a_stale_lock_file_is_taken_over_and_removed(tmp_path):
    (tmp_path / LOCK_NAME).write_text('{"pid": 1, "host": "x", "command": "old", "started": ""}')
    with DataLock(tmp_path, command="me") as lock:
        assert lock.held and read_owner(tmp_path / LOCK_NAME).command == "me"
    assert not (tmp_path / LOCK_NAME).exists()


def test_a_lock_on_a_file_removed_meanwhile_is_taken_on_the_new_one(tmp_path, monkeypatch):
    """The race removal opens: B opened the file before A removed it and let go. B must then
    lock the file the name leads to now, or a third process C could hold that one too."""
    from pylapse.storage import files as lock_module

    path = tmp_path / LOCK_NAME
    real_flock = lock_module.fcntl.flock
    removed = []

    def flock_after_a_removal(fd, op):  # type: ignore[no-untyped-def]
        if op & lock_module.fcntl.LOCK_EX and not removed:
            removed.append(os.fstat(fd).st_ino)
            os.unlink(path)  # the holder removes the file we opened, as it lets go
        return real_flock(fd, op)

    monkeypatch.setattr(lock_module.fcntl, "flock", flock_after_a_removal)
    fd = lock_module.lock_file(path)
    try:
        assert removed and path.is_file()
        assert os.fstat(fd).st_ino == os.stat(path).st_ino  # the lock is on the file named so
        with pytest.raises(BlockingIOError):
            lock_module.lock_file(path)  # and so it keeps a third one out
    finally:
        lock_module.unlock_file(path, fd)
    assert not path.exists()
