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
