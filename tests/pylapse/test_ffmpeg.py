"""Finding and probing ffmpeg, and the runner: progress, stderr tail, cancel.

The runner tests use tiny stand-in ffmpeg scripts (to produce exact progress sequences and
stubborn processes); finding and probing use the real bundled binary too.
"""

from __future__ import annotations

import os
import stat
import textwrap
import threading
from pathlib import Path

import pytest

from pylapse import ffmpeg
from pylapse.cli import main
from pylapse.ffmpeg import FfmpegNotFound, find_ffmpeg, probe_encoders, probe_version, run_ffmpeg
from pylapse.progress import Cancelled, Progress


def script(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\n" + textwrap.dedent(body))
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def alive(pid: int) -> bool:
    """A process that exists and is not a zombie (read from /proc, no psutil)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return False
    return fields[0] != "Z"


def test_default_is_bundled_or_bin_and_works() -> None:
    info = find_ffmpeg()
    assert info.source in ("bin", "imageio-ffmpeg", "PATH")
    assert os.access(info.path, os.X_OK)
    assert any(ch.isdigit() for ch in info.version)
    assert {"libx264", "mpeg4", "gif"} <= info.encoders
    assert info.has_encoder("libx264") and not info.has_encoder("no-such-encoder")


def test_explicit_path_must_exist(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "ffmpeg"
    with pytest.raises(FfmpegNotFound, match="nowhere"):
        find_ffmpeg(missing)


def test_explicit_path_must_be_executable(tmp_path: Path) -> None:
    plain = tmp_path / "ffmpeg"
    plain.write_text("not a program")
    with pytest.raises(FfmpegNotFound, match="not an executable"):
        find_ffmpeg(plain)


def test_explicit_folder_means_the_ffmpeg_in_it(tmp_path: Path) -> None:
    exe = script(tmp_path, "ffmpeg", "echo 'ffmpeg version 1.2.3-test'\n")
    info = find_ffmpeg(tmp_path)
    assert (info.path, info.source) == (exe, "config")
    assert info.version == "1.2.3-test"


def test_bin_folder_comes_before_the_bundled_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "bin").mkdir()
    exe = script(tmp_path / "bin", "ffmpeg", "echo 'ffmpeg version 0.0-bin'\n")
    monkeypatch.chdir(tmp_path)
    info = find_ffmpeg()
    assert (info.path, info.source, info.version) == (exe, "bin", "0.0-bin")


def test_path_is_the_last_resort(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exe = script(tmp_path, "ffmpeg", "echo 'ffmpeg version 0.0-path'\n")
    monkeypatch.chdir(tmp_path / "..")
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(tmp_path / "gone"))  # bundled one unusable
    monkeypatch.setenv("PATH", str(tmp_path))
    info = find_ffmpeg()
    assert (info.path, info.source) == (exe, "PATH")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(FfmpegNotFound, match=r"no ffmpeg found .*imageio-ffmpeg.*PATH"):
        find_ffmpeg()


def test_probes_are_cached_until_the_binary_changes(tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    exe = script(
        tmp_path,
        "ffmpeg",
        f"""\
        echo x >> {calls}
        case "$*" in
          *-encoders*) printf ' V..... = Video\\n ------\\n V....D libx264   H.264\\n' ;;
          *) echo 'ffmpeg version 7.0-fake' ;;
        esac
        """,
    )
    assert probe_version(exe) == "7.0-fake"
    assert probe_encoders(exe) == frozenset({"libx264"})
    probe_version(exe), probe_encoders(exe)
    assert len(calls.read_text().split()) == 2
    exe.write_text(exe.read_text().replace("7.0-fake", "7.1-fake") + "\n")
    os.utime(exe, ns=(1, 1))  # a new stamp, whatever the clock resolution
    assert probe_version(exe) == "7.1-fake"


def test_progress_is_clamped_monotonic_and_survives_a_bad_callback(tmp_path: Path) -> None:
    exe = script(
        tmp_path,
        "ffmpeg",
        """\
        for f in 3 7 5 12 9; do
          printf 'frame=%s\\nfps=25.0\\nout_time_us=1\\nprogress=continue\\n' $f
        done
        printf 'frame=10\\nfps=0.00\\nprogress=end\\n'
        """,
    )
    seen: list[Progress] = []
    threads = set()

    def callback(p: Progress) -> None:
        seen.append(p)
        threads.add(threading.current_thread())
        if len(seen) == 2:
            raise RuntimeError("a broken progress bar")

    result = run_ffmpeg([str(exe)], total=10, progress=callback)
    assert result.returncode == 0
    done = [p.done for p in seen]
    assert done == sorted(done) and max(done) == 10 and done[0] == 3
    assert all(0 <= p.percent <= 100 for p in seen)
    assert seen[-1].percent == 100 and {p.stage for p in seen} == {"encode"}
    assert seen[0].rate == 25.0 and seen[0].eta == pytest.approx(7 / 25)
    assert threads == {threading.current_thread()}  # reports arrive in the caller's thread


def test_output_time_stands_in_for_a_missing_frame_count(tmp_path: Path) -> None:
    """ffmpeg's ``out_time_ms`` is in microseconds, like ``out_time_us``."""
    exe = script(
        tmp_path,
        "ffmpeg",
        """\
        printf 'out_time_us=500000\\nprogress=continue\\n'
        printf 'out_time_ms=1000000\\nprogress=continue\\n'
        """,
    )
    seen: list[Progress] = []
    run_ffmpeg([str(exe)], total=20, progress=seen.append, fps=10)
    assert [p.done for p in seen] == [5, 10]


def test_failure_returns_code_and_only_the_stderr_tail(tmp_path: Path) -> None:
    exe = script(
        tmp_path,
        "ffmpeg",
        """\
        i=0; while [ $i -lt 200 ]; do echo "noise line $i" >&2; i=$((i+1)); done
        echo 'the real reason' >&2
        exit 3
        """,
    )
    seen: list[Progress] = []
    result = run_ffmpeg([str(exe)], total=5, progress=seen.append)
    assert result.returncode == 3
    lines = result.stderr_tail.splitlines()
    assert lines[-1] == "the real reason" and len(lines) == ffmpeg.STDERR_TAIL_LINES
    assert "noise line 0" not in result.stderr_tail
    assert not any(p.done == 5 for p in seen)  # a failed run never claims 100 %


def test_cancel_terminates_then_kills_and_removes_the_partial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ffmpeg, "TERMINATE_GRACE", 0.3)
    partial = tmp_path / "partial.mp4.tmp"
    exe = script(
        tmp_path,
        "ffmpeg",
        f"""\
        trap '' TERM
        echo data > {partial}
        printf 'frame=1\\nprogress=continue\\n'
        exec sleep 60
        """,
    )
    cancel = threading.Event()
    procs = []

    def on_progress(p: Progress) -> None:
        if p.done >= 1:
            cancel.set()

    with pytest.raises(Cancelled):
        run_ffmpeg(
            [str(exe)],
            total=100,
            progress=on_progress,
            cancel=cancel,
            remove_on_cancel=[partial],
            on_start=procs.append,
        )
    assert procs[0].returncode is not None  # reaped
    assert not alive(procs[0].pid)
    assert not partial.exists()


def test_doctor_reports_ffmpeg_and_our_codecs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--config", str(Path("/nonexistent/capture_config.json"))]) == 1
    out = capsys.readouterr().out
    assert find_ffmpeg().version in out
    assert "codec h264" in out and "libx264" in out
    assert "no such config file" in out


def test_doctor_flags_a_codec_the_configured_ffmpeg_lacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script(
        tmp_path,
        "ffmpeg",
        """\
        case "$*" in
          *-encoders*) printf ' V....D libx264   H.264\\n' ;;
          *) echo 'ffmpeg version 6.0-lean' ;;
        esac
        """,
    )
    config = tmp_path / "capture_config.json"
    config.write_text('{"ffmpeg_path": "ffmpeg", "data_dir": "data"}')
    assert main(["doctor", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "6.0-lean" in out and "(from config)" in out
    assert "[ok  ] codec h264" in out and "[FAIL] codec h265" in out
    assert "is valid" in out and "data folder" in out
