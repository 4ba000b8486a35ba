"""`pylapse web` / `web_ui.py` and `pylapse set-password`."""

from __future__ import annotations

import io
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher

from pylapse.cli import CommandError, main
from pylapse.cli import password as password_cli

REPO = Path(__file__).resolve().parents[1]


def write_config(folder: Path, **extra: object) -> Path:
    config = {
        "data_dir": "data",
        "storage_roots": ["timelapse"],
        "cameras": {
            "demo": {
                "name": "Demo camera",
                "type": "synthetic",
                "output_dir": "timelapse/demo",
                "timezone": "UTC",
                "capture_width": 160,
                "capture_height": 90,
                "schedules": [{"id": "noon", "minute": 0, "hour": 12}],
            }
        },
        **extra,
    }
    path = folder / "capture_config.json"
    path.write_text(json.dumps(config))
    return path


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "::", "example.org"])
def test_web_refuses_a_public_address_without_a_password(tmp_path, capsys, host: str) -> None:
    path = write_config(tmp_path)
    code = main(["web", "--host", host, "--config", str(path)])
    assert code == 1
    err = capsys.readouterr().err
    assert f"refusing to serve on {host}" in err and "pylapse set-password" in err
    assert not (tmp_path / "data" / "pylapse.db").exists()  # refused before anything started


def test_web_reports_a_bad_config(tmp_path, capsys) -> None:
    # an error outside camera entries refuses the whole file (a bad camera entry alone is set
    # aside and shown in a banner while the dashboard runs: tests/web/test_invalid_cameras.py)
    path = tmp_path / "capture_config.json"
    path.write_text('{"cameras": {"x": {"name": "x"}}, "min_free_mb": "lots"}')
    assert main(["web", "--config", str(path)]) == 1
    err = capsys.readouterr().err
    assert "min_free_mb: 'lots' is not accepted; expected a whole number" in err
    assert "cameras.x.output_dir: is required" in err  # the bad camera entry is listed too


def test_web_reports_a_busy_port_before_starting_capture(tmp_path, capsys) -> None:
    import socket

    path = write_config(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["web", "--config", str(path), "--port", str(port)]) == 1
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
    assert not (tmp_path / "timelapse").exists()  # no capture happened


def test_set_password_from_stdin(tmp_path, monkeypatch, capsys) -> None:
    path = write_config(tmp_path)
    monkeypatch.setattr(sys, "stdin", io.StringIO("correct horse battery\n"))
    assert main(["set-password", "--config", str(path)]) == 0
    stored = json.loads(path.read_text())["web"]["password_hash"]
    assert stored.startswith("$argon2")
    assert PasswordHasher().verify(stored, "correct horse battery")
    assert "correct horse" not in path.read_text()
    assert "password set" in capsys.readouterr().out
    password_cli_ok = main(["set-password", "--config", str(path), "--clear"])
    assert password_cli_ok == 0
    assert json.loads(path.read_text())["web"]["password_hash"] is None


def test_set_password_rejects_short_or_mismatched_passwords(tmp_path, monkeypatch) -> None:
    path = write_config(tmp_path)
    before = path.read_text()
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert main(["set-password", "--config", str(path)]) == 1
    assert path.read_text() == before

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    answers = iter(["first-password", "second-password"])
    with pytest.raises(CommandError, match="differ"):
        password_cli.read_password(Tty(), prompt=lambda _: next(answers))


def _start(config: Path, port: int, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(REPO / "web_ui.py"), "--config", str(config), "--port", str(port),
         *extra],
        cwd=config.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip


def _wait_up(proc: subprocess.Popen[str], url: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            pytest.fail(f"web_ui.py exited with {proc.returncode}:\n{proc.stdout.read()}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                proc.kill()
                pytest.fail("web_ui.py did not answer within 30 s")
            time.sleep(0.2)


@pytest.mark.slow
@pytest.mark.network
def test_web_ui_serves_streams_and_shuts_down_cleanly(tmp_path, free_port) -> None:
    config = write_config(tmp_path)
    url = f"http://127.0.0.1:{free_port}"
    proc = _start(config, free_port)
    try:
        _wait_up(proc, url + "/")
        page = httpx.get(url + "/")
        assert page.status_code == 200 and "Demo camera" in page.text
        assert httpx.get(url + "/", headers={"Host": "evil.example"}).status_code == 400
        with httpx.stream("GET", url + "/events", timeout=10) as events:
            assert events.status_code == 200
            assert events.headers["content-type"].startswith("text/event-stream")
        with httpx.stream("GET", url + "/cameras/demo/preview.mjpg", timeout=20) as preview:
            assert preview.headers["content-type"].startswith("multipart/x-mixed-replace")
            data = b""
            for chunk in preview.iter_bytes():
                data += chunk
                if b"\xff\xd9" in data:
                    break
            assert b"--frame" in data and b"\xff\xd8\xff" in data
        # a second dashboard on the same data folder starts, and waits for the first's camera
        other = free_port + 1 if free_port < 65535 else free_port - 1
        second = _start(config, other)
        _wait_up(second, f"http://127.0.0.1:{other}/")
        second.send_signal(signal.SIGINT)
        out, _ = second.communicate(timeout=15)
        assert second.returncode == 0, out
        assert re.search(r"camera demo is captured by host \S+ \(pid \d+\), waiting", out), out
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail("web_ui.py did not stop within 15 s of SIGINT")
    assert proc.returncode == 0, proc.stdout.read()


@pytest.mark.slow
@pytest.mark.network
def test_sigterm_stops_the_dashboard_cleanly(tmp_path, free_port) -> None:
    config = write_config(tmp_path)
    proc = _start(config, free_port)
    _wait_up(proc, f"http://127.0.0.1:{free_port}/")
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0, out
    assert "Application shutdown complete" in out


def _without_entry_points(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``script`` as a plain checkout would (no installed entry points for our commands)."""
    code = (
        "import importlib.metadata as md, runpy, sys\n"
        "md.entry_points = lambda **kw: []  # a checkout that was never pip-installed\n"
        f"sys.argv = [{script!r}, *sys.argv[1:]]\n"
        f"runpy.run_path({script!r}, run_name='__main__')\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )


def test_web_ui_works_from_a_checkout_that_was_never_installed() -> None:
    done = _without_entry_points(str(REPO / "web_ui.py"), "--help")
    assert done.returncode == 0, done.stderr
    assert "--port" in done.stdout and "invalid choice" not in done.stderr


def test_web_ui_does_not_register_web_twice_when_installed() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "web_ui.py"), "--help"],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "--port" in done.stdout


def test_python_dash_m_pylapse_runs_the_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pylapse", "--help"],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "usage: pylapse" in done.stdout and "render" in done.stdout
