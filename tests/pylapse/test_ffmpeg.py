"""Finding and probing ffmpeg, and the runner: progress, stderr tail, cancel.

The runner tests use tiny stand-in ffmpeg scripts (to produce exact progress sequences and
stubborn processes); finding and probing use the real bundled binary too.
"""

from __future__ import annotations

import json
import os
import stat
import textwrap
import threading
import time
from pathlib import Path

import pytest

from pylapse import ffmpeg
from pylapse.cli import main
from pylapse.ffmpeg import (
    FfmpegNotFound,
    find_ffmpeg,
    probe_encoders,
    probe_filters,
    probe_version,
    run_ffmpeg,
    stabilise_support,
)
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
    # its filter list is empty: stabilising is not offered, and the doctor says why
    assert "[--  ] stabilise      not offered: this ffmpeg lacks vidstabdetect and" in out
    assert "--enable-libvidstab" in out


def test_filters_are_parsed_and_vidstab_needs_both_passes(tmp_path: Path) -> None:
    exe = script(
        tmp_path,
        "ffmpeg",
        """\
        printf 'Filters:\n  T.. = Timeline support\n  ------\n'
        printf ' TS scale            V->V       Scale the input video size.\n'
        printf ' .. vidstabdetect    V->V       Extract relative transformations.\n'
        printf ' .. nullsrc          |->V       Null video source.\n'
        """,
    )
    assert probe_filters(exe) == frozenset({"scale", "vidstabdetect", "nullsrc"})
    why = stabilise_support(exe)
    assert why is not None and "lacks vidstabtransform" in why
    bundled = find_ffmpeg()
    assert {"scale", "deflicker"} <= bundled.filters
    if {"vidstabdetect", "vidstabtransform"} <= bundled.filters:
        assert bundled.stabilise_support() is None


# --- the runner, report by report, with stand-ins that print exactly what ffmpeg would -------


def _recording(folder: Path, body: str) -> tuple[Path, Path]:
    """A stand-in ffmpeg that writes its arguments (one per line) to a file, then runs ``body``."""
    argv = folder / "argv.txt"
    exe = script(folder, "ffmpeg", f'printf "%s\\n" "$@" > {argv}\n' + textwrap.dedent(body))
    return exe, argv


def test_the_runner_asks_for_progress_on_stdout_and_passes_the_command_on(tmp_path: Path) -> None:
    exe, argv = _recording(tmp_path, "")
    result = run_ffmpeg([str(exe), "-i", "in.mp4", "out.mp4"])
    assert result.returncode == 0
    assert argv.read_text().splitlines() == [
        "-nostdin", "-progress", "pipe:1", "-nostats", "-i", "in.mp4", "out.mp4"
    ]  # fmt: skip


def test_each_report_from_its_progress_block(tmp_path: Path) -> None:
    exe = script(
        tmp_path,
        "ffmpeg",
        """\
        printf 'frame=4\\nfps=2.00\\nprogress=continue\\n'
        printf 'frame=N/A\\nfps=N/A\\nprogress=continue\\n'
        printf 'frame=8\\nfps=4.00\\nstream_0_0_q=28.0\\nprogress=continue\\n'
        printf 'frame=10\\nfps=4.00\\nprogress=end\\n'
        """,
    )
    seen: list[Progress] = []
    result = run_ffmpeg([str(exe)], total=10, progress=seen.append, stage="render")
    assert [(p.stage, p.done, p.total) for p in seen] == [
        ("render", 4, 10),
        ("render", 4, 10),  # a block that cannot be read keeps the count it had
        ("render", 8, 10),
        ("render", 10, 10),
    ]
    assert (seen[0].rate, seen[0].eta) == (2.0, 3.0)
    assert (seen[2].rate, seen[2].eta) == (4.0, 0.5)
    assert seen[3].eta == 0.0
    assert (result.frames, result.returncode) == (10, 0)


def test_a_rate_of_zero_is_measured_instead(tmp_path: Path) -> None:
    # ffmpeg prints fps=0.00 in its first reports: the rate comes from the clock then
    exe = script(
        tmp_path, "ffmpeg", "sleep 0.2; printf 'frame=3\\nfps=0.00\\nprogress=continue\\n'\n"
    )
    seen: list[Progress] = []
    before = time.monotonic()
    run_ffmpeg([str(exe)], total=9, progress=seen.append)
    took = time.monotonic() - before
    first = seen[0]
    assert first.done == 3 and first.rate is not None
    # 3 frames over the time since the run started: at least 0.2 s, at most the whole call
    assert 3 / took <= first.rate <= 3 / 0.2
    assert first.eta == pytest.approx(6 / first.rate)
    exe = script(tmp_path, "ffmpeg", "printf 'frame=0\\nfps=0.00\\nprogress=continue\\n'\n")
    seen.clear()
    run_ffmpeg([str(exe)], total=9, progress=seen.append)
    assert (seen[0].rate, seen[0].eta) == (None, None)  # nothing done yet: no rate to speak of


def test_without_a_total_the_count_is_reported_as_is(tmp_path: Path) -> None:
    exe = script(tmp_path, "ffmpeg", "printf 'frame=7\\nfps=7.0\\nprogress=end\\n'\n")
    seen: list[Progress] = []
    result = run_ffmpeg([str(exe)], progress=seen.append)  # total unknown (0)
    assert [(p.done, p.total, p.eta) for p in seen] == [(7, 0, None)]  # no invented 100 % report
    assert result.frames == 7


def test_a_total_of_one_frame(tmp_path: Path) -> None:
    exe = script(tmp_path, "ffmpeg", "printf 'frame=3\\nfps=2.0\\nprogress=end\\n'\n")
    seen: list[Progress] = []
    run_ffmpeg([str(exe)], total=1, progress=seen.append)
    assert [(p.done, p.total, p.eta) for p in seen] == [(1, 1, 0.0)]  # clamped, with an ETA


def test_days_of_output_time(tmp_path: Path) -> None:
    # 1,000,000 s of output at 2 frames a second: exactly 2,000,000 frames
    exe = script(tmp_path, "ffmpeg", "printf 'out_time_us=1000000000000\\nprogress=end\\n'\n")
    seen: list[Progress] = []
    run_ffmpeg([str(exe)], total=3_000_000, progress=seen.append, fps=2)
    assert [p.done for p in seen] == [2_000_000]


def test_output_time_counts_only_with_a_frame_rate_and_ignores_junk(tmp_path: Path) -> None:
    exe = script(
        tmp_path,
        "ffmpeg",
        """\
        printf 'out_time_us=2000000\\nprogress=continue\\n'
        printf 'out_time_us=N/A\\nprogress=continue\\n'
        printf 'progress=continue\\n'
        """,
    )
    seen: list[Progress] = []
    run_ffmpeg([str(exe)], total=100, progress=seen.append, fps=12.5)
    assert [p.done for p in seen] == [25, 25, 25]
    seen.clear()
    run_ffmpeg([str(exe)], total=100, progress=seen.append)  # no rate given: no count from time
    assert [p.done for p in seen] == [0, 0, 0]


def test_the_last_report_is_100_percent_only_when_every_frame_came(tmp_path: Path) -> None:
    # the count settles after the last block: the runner adds the 100 % report itself
    settled = script(tmp_path, "ffmpeg", "printf 'frame=12\\nfps=6.0\\nprogress=continue\\n'\n")
    seen: list[Progress] = []
    run_ffmpeg([str(settled)], total=12, progress=seen.append)
    assert [(p.done, p.eta) for p in seen] == [(12, 0.0)]  # already there: no second report
    early = script(tmp_path, "early", "printf 'frame=11\\nfps=0\\nprogress=continue\\n'\n")
    seen.clear()
    run_ffmpeg([str(early)], total=12, progress=seen.append)
    assert [p.done for p in seen] == [11]  # ended a frame short: never claims 100 %
    seen.clear()
    beyond = script(tmp_path, "beyond", "printf 'frame=13\\nprogress=continue\\n'\n")
    run_ffmpeg([str(beyond)], total=12, progress=seen.append)
    assert [p.done for p in seen] == [12]  # clamped to the total


def test_an_unfinished_block_is_not_reported_and_counts_never_go_back(tmp_path: Path) -> None:
    exe = script(
        tmp_path,
        "ffmpeg",
        """\
        printf 'frame=3\\nfps=3.0\\nprogress=continue\\n'
        printf 'frame=6\\n'
        """,
    )
    seen: list[Progress] = []
    result = run_ffmpeg([str(exe)], total=6, progress=seen.append, stage="render")
    assert result.frames == 3  # the unfinished block was never reported
    assert [(p.stage, p.done) for p in seen] == [("render", 3)]
    exe = script(
        tmp_path,
        "ffmpeg",
        """\
        printf 'frame=3\\nfps=3.0\\nprogress=continue\\n'
        printf 'frame=6\\nfps=3.0\\nprogress=continue\\n'
        printf 'frame=5\\nprogress=continue\\n'
        """,
    )
    seen.clear()
    run_ffmpeg([str(exe)], total=8, progress=seen.append, stage="render")
    assert [p.done for p in seen] == [3, 6, 6]  # never goes back; ended short of 8: no 100 %


def test_finishing_reports_the_total_once(tmp_path: Path) -> None:
    # every frame came in a block that was not the last report: the closing report says 100 %
    exe = script(
        tmp_path,
        "ffmpeg",
        """\
        printf 'frame=9\\nfps=3.0\\nprogress=continue\\n'
        printf 'out_time_us=1\\nprogress=continue\\n'
        """,
    )
    seen: list[Progress] = []
    run_ffmpeg([str(exe)], total=9, progress=seen.append, stage="render")
    assert seen[-1] == Progress("render", 9, 9, seen[-1].rate, 0.0)
    assert [p.done for p in seen].count(9) == 2


def test_stderr_is_decoded_leniently_and_marked_with_the_frame_count(tmp_path: Path) -> None:
    exe = script(
        tmp_path,
        "ffmpeg",
        """\
        printf '  [mjpeg] bad frame \\377\\376\\n' >&2
        sleep 0.5
        printf 'frame=2\\nprogress=continue\\n'
        sleep 0.5
        printf '  [image2] another\\n' >&2
        exit 1
        """,
    )
    result = run_ffmpeg([str(exe)], total=5)
    assert result.returncode == 1
    assert "[mjpeg] bad frame \ufffd\ufffd" in result.stderr_tail
    assert result.marks == ((0, "  [mjpeg] bad frame \ufffd\ufffd"), (2, "  [image2] another"))


def test_at_most_so_many_stderr_lines_are_marked(tmp_path: Path) -> None:
    count = ffmpeg.STDERR_MARK_LINES + 5
    exe = script(tmp_path, "ffmpeg", f"i=0; while [ $i -lt {count} ]; do echo \"e $i\" >&2; "
                                     "i=$((i+1)); done\n")  # fmt: skip
    result = run_ffmpeg([str(exe)])
    assert len(result.marks) == ffmpeg.STDERR_MARK_LINES
    assert result.marks[-1] == (0, f"e {ffmpeg.STDERR_MARK_LINES - 1}")


def test_the_run_takes_as_long_as_it_took(tmp_path: Path) -> None:
    exe = script(tmp_path, "ffmpeg", "sleep 0.1\n")
    before = time.monotonic()
    result = run_ffmpeg([str(exe)])
    assert 0.1 <= result.elapsed <= time.monotonic() - before


def test_a_quiet_ffmpeg_delivers_only_reports(tmp_path: Path) -> None:
    # seconds without output, then a report: the waiting loop must pass on reports only
    exe = script(tmp_path, "ffmpeg", "sleep 0.3; printf 'frame=1\\nprogress=end\\n'\n")
    seen: list[object] = []
    run_ffmpeg([str(exe)], total=1, progress=seen.append)
    assert seen and all(isinstance(p, Progress) for p in seen)
    assert seen[-1].done == 1  # type: ignore[union-attr]


def test_cancelling_a_silent_ffmpeg_stops_it(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(ffmpeg, "TERMINATE_GRACE", 0.3)
    exe = script(tmp_path, "ffmpeg", "exec sleep 60\n")  # prints nothing at all
    cancel = threading.Event()
    procs = []
    threading.Timer(0.2, cancel.set).start()
    with pytest.raises(Cancelled) as caught:
        run_ffmpeg([str(exe)], total=40, cancel=cancel, on_start=procs.append)
    assert str(caught.value) == "cancelled after 0 of 40 frames"
    assert not alive(procs[0].pid)


def test_an_ffmpeg_that_cannot_start_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "no-ffmpeg-here"
    with pytest.raises(ffmpeg.FfmpegError, match=rf"^cannot start {missing}: "):
        run_ffmpeg([str(missing), "-version"])


# --- probing -------------------------------------------------------------------------------------


def test_a_probe_passes_hide_banner_and_reads_lenient_output(tmp_path: Path) -> None:
    exe, argv = _recording(
        tmp_path,
        """\
        case "$*" in
          *-encoders*) printf ' V..... = Video\\n ------\\n V....D libx264  H.264 \\377\\n'
                       printf ' A....D aac  AAC\\n S..... ass  ASS\\n' ;;
          *) printf 'ffmpeg version 7.1-made-here Copyright\\n' ;;
        esac
        """,
    )
    assert probe_version(exe) == "7.1-made-here"
    assert argv.read_text().splitlines() == ["-hide_banner", "-version"]
    assert probe_encoders(exe) == {"libx264", "aac", "ass"}  # "=" is the legend, not an encoder


@pytest.mark.parametrize(
    ("output", "version"),
    [("avconv 12\\nmore", "avconv 12"), ("", "unknown")],
)
def test_a_version_line_that_is_not_ffmpegs_is_shown_as_it_is(
    tmp_path: Path, output: str, version: str
) -> None:
    exe = script(tmp_path, f"ffmpeg-{len(output)}", f"printf '{output}'\n")
    assert probe_version(exe) == version


def test_a_failing_probe_names_the_binary_and_its_last_words(tmp_path: Path) -> None:
    exe = script(tmp_path, "ffmpeg", "echo 'first' >&2; echo 'last words' >&2; exit 4\n")
    with pytest.raises(ffmpeg.FfmpegError) as caught:
        probe_version(exe)
    assert str(caught.value) == f"{exe} -version failed (4): last words"
    quiet = script(tmp_path, "quiet", "exit 2\n")
    with pytest.raises(ffmpeg.FfmpegError) as caught:
        probe_encoders(quiet)
    assert str(caught.value) == f"{quiet} -encoders failed (2): no output"
    on_stdout = script(tmp_path, "stdout", "echo 'only here'; exit 1\n")
    with pytest.raises(ffmpeg.FfmpegError, match=r"failed \(1\): only here$"):
        probe_version(on_stdout)


def test_a_probe_that_hangs_or_cannot_run_is_an_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(ffmpeg, "_PROBE_TIMEOUT", 0.3)  # the name the probe reads
    hangs = script(tmp_path, "ffmpeg", "exec sleep 30\n")
    with pytest.raises(ffmpeg.FfmpegError, match=rf"^cannot run {hangs}: .*timed out"):
        probe_version(hangs)
    broken = tmp_path / "broken"
    broken.write_text("#!/nonexistent/interpreter\n")
    broken.chmod(0o755)
    with pytest.raises(ffmpeg.FfmpegError, match=rf"^cannot run {broken}: "):
        probe_version(broken)


# --- finding -------------------------------------------------------------------------------------


def test_a_bare_name_is_looked_up_on_path(tmp_path: Path, monkeypatch) -> None:
    exe = script(tmp_path, "my-ffmpeg", "echo 'ffmpeg version 1'\n")
    monkeypatch.chdir(tmp_path / "..")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_ffmpeg("my-ffmpeg") == ffmpeg.FfmpegInfo(exe, "config")
    with pytest.raises(FfmpegNotFound) as caught:
        find_ffmpeg("other-ffmpeg")
    assert str(caught.value) == "ffmpeg_path 'other-ffmpeg' does not exist"
    with pytest.raises(FfmpegNotFound):  # a path with a folder is never looked up on PATH
        find_ffmpeg("somewhere/my-ffmpeg")


def test_when_nothing_is_found_the_message_lists_every_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(tmp_path / "gone"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(FfmpegNotFound) as caught:
        find_ffmpeg()
    project = Path(ffmpeg.__file__).resolve().parents[1]
    assert str(caught.value) == (
        f"no ffmpeg found (looked in {project / 'bin' / 'ffmpeg'}, {tmp_path / 'bin' / 'ffmpeg'}, "
        f"{tmp_path / 'gone'} (imageio-ffmpeg), PATH); install imageio-ffmpeg, put an ffmpeg in "
        "bin/, or set 'ffmpeg_path' in the config"
    )


def test_the_bundled_ffmpeg_is_found_when_there_is_no_bin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    bundled = Path(imageio_ffmpeg.get_ffmpeg_exe())
    if not os.access(bundled, os.X_OK):
        pytest.skip(f"imageio-ffmpeg has no usable binary here ({bundled})")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    if any(os.access(p, os.X_OK) for p in ffmpeg._project_bins()):
        pytest.skip("an ffmpeg in the project's bin/ comes first")
    assert find_ffmpeg() == ffmpeg.FfmpegInfo(bundled, "imageio-ffmpeg")


def test_a_failing_imageio_ffmpeg_is_named_in_the_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")

    def no_binary() -> str:
        raise RuntimeError("no binary for this platform")

    monkeypatch.setattr(imageio_ffmpeg, "get_ffmpeg_exe", no_binary)  # what find_ffmpeg calls
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(FfmpegNotFound) as caught:
        find_ffmpeg()
    assert "imageio-ffmpeg (no binary for this platform), PATH);" in str(caught.value)


def test_the_configured_ffmpeg(tmp_path: Path) -> None:
    from pylapse.config.file import load_config

    def config(value: str | None) -> object:
        path = tmp_path / "capture_config.json"
        path.write_text(json.dumps({"ffmpeg_path": value} if value is not None else {}))
        return load_config(path)

    assert ffmpeg.configured_ffmpeg(config(None)) is None
    assert ffmpeg.configured_ffmpeg(config("")) is None
    assert ffmpeg.configured_ffmpeg(object()) is None  # anything without the setting
    assert ffmpeg.configured_ffmpeg(config("ffmpeg")) == "ffmpeg"  # a bare name: PATH
    assert ffmpeg.configured_ffmpeg(config("tools/ffmpeg")) == str(tmp_path / "tools" / "ffmpeg")
    (tmp_path / "ffmpeg").write_text("")
    assert ffmpeg.configured_ffmpeg(config("ffmpeg")) == str(tmp_path / "ffmpeg")  # it is there
    assert ffmpeg.configured_ffmpeg(config("/opt/ffmpeg")) == "/opt/ffmpeg"
