"""`pylapse render` / `render_video.py`: exit codes and one-line reasons, real ffmpeg."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from pylapse.cli import main
from pylapse.ffmpeg import find_ffmpeg
from pylapse.video.manifest import read_manifest

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eight frames whose names sort differently from their times (a DST fall-back)."""
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 10, 25, 0, 40, tzinfo=ZoneInfo("UTC"))  # 02:40+02:00, then 02:00+01:00
    out = tmp_path_factory.mktemp("frames")
    for i in range(8):
        when = (start + timedelta(minutes=10 * i)).astimezone(berlin)
        offset = when.strftime("%z")
        name = f"cam-{when:%Y-%m-%dT%H-%M-%S}{offset[:3]}.{offset[3:]}.jpg"
        Image.new("RGB", (81, 61), (30 * i, 80, 120)).save(out / name)
    (out / "notes.txt").write_text("not a frame")
    return out


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    assert err.startswith("pylapse render: ")
    return err


def test_renders_in_time_order_with_a_manifest(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tl.mp4"
    code = main(["render", str(folder), str(out), "--fps", "8", "--crf", "30", "--no-progress"])
    assert code == 0
    stdout = capsys.readouterr().out
    assert "8 frames, 80x60, 8 fps" in stdout
    manifest = read_manifest(out)
    assert manifest is not None and manifest["output_frames"] == 8
    assert manifest["first_time"] == "2026-10-25T02:40:00+02:00"
    assert manifest["last_time"] == "2026-10-25T02:50:00+01:00"
    assert manifest["first_frame"].endswith("cam-2026-10-25T02-40-00+02.00.jpg")


def test_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", str(tmp_path / "nope"), str(tmp_path / "a.mp4"), "--no-progress"]) == 1
    assert "nope does not exist" in one_line_error(capsys)


def test_no_matching_frames(folder: Path, tmp_path: Path, capsys) -> None:
    args = ["render", str(folder), str(tmp_path / "a.mp4"), "--pattern", "*.png"]
    assert main(args) == 1
    assert "no files matching '*.png'" in one_line_error(capsys)


def test_unknown_codec(folder: Path, tmp_path: Path, capsys) -> None:
    assert main(["render", str(folder), str(tmp_path / "a.mp4"), "--codec", "av9"]) == 1
    assert "unknown codec 'av9'; accepted: h264, h265, mpeg4, vp9, gif" in one_line_error(capsys)


def test_unwritable_output(folder: Path, tmp_path: Path, capsys) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["render", str(folder), str(blocker / "video.mp4"), "--no-progress"]) == 1
    assert "cannot write" in one_line_error(capsys)


def test_codec_this_ffmpeg_lacks(folder: Path, tmp_path: Path, capsys) -> None:
    lean, real = tmp_path / "ffmpeg", find_ffmpeg().path
    lean.write_text(
        "#!/bin/sh\n"
        "case \"$*\" in *-encoders*) printf ' V....D libx264  H.264\\n';;\n"
        f"  *-version*) echo 'ffmpeg version 5.1-lean';; *) exec {real} \"$@\";; esac\n"
    )
    lean.chmod(0o755)
    args = [
        "render",
        str(folder),
        str(tmp_path / "a.webm"),
        "--codec",
        "vp9",
        "--ffmpeg",
        str(lean),
    ]
    assert main(args) == 1
    err = one_line_error(capsys)
    assert "vp9 needs the libvpx-vp9 encoder" in err and "available: h264" in err


def test_ffmpeg_from_a_config(folder: Path, tmp_path: Path, capsys) -> None:
    config = tmp_path / "capture_config.json"
    config.write_text('{"ffmpeg_path": "bin/missing-ffmpeg"}')
    assert main(["render", str(folder), str(tmp_path / "a.mp4"), "--config", str(config)]) == 1
    assert "bin/missing-ffmpeg" in one_line_error(capsys)
    config.write_text('{"ffmpeg_path": 5}')
    assert main(["render", str(folder), str(tmp_path / "a.mp4"), "--config", str(config)]) == 1
    assert "ffmpeg_path" in one_line_error(capsys)


def test_bad_values(folder: Path, tmp_path: Path, capsys) -> None:
    assert main(["render", str(folder), str(tmp_path / "a.mp4"), "--size", "big"]) == 1
    assert "WIDTHxHEIGHT" in one_line_error(capsys)
    assert main(["render", str(folder), str(tmp_path / "a.gif"), "--codec", "h264"]) == 1
    assert "codec h264 is written to" in one_line_error(capsys)
    assert main(["render", str(folder), str(tmp_path / "a.mp4"), "--ffmpeg", "/no/ffmpeg"]) == 1
    assert "/no/ffmpeg" in one_line_error(capsys)


def test_render_video_script_with_progress_bar(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "shim.gif"
    done = subprocess.run(
        [sys.executable, str(REPO / "render_video.py"), str(folder), str(out), "--codec", "gif",
         "--size", "40x40", "--duration", "2"],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "8/8" in done.stderr  # the tqdm bar finished
    assert "4 fps" in done.stdout and out.stat().st_size > 0


def test_an_existing_output_is_refused_unless_asked(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tl.mp4"
    out.write_bytes(b"last week's video")
    assert main(["render", str(folder), str(out), "--no-progress"]) == 1
    err = one_line_error(capsys)
    assert f"{out} exists; nothing was replaced" in err and "--overwrite" in err
    assert "--rename" in err and out.read_bytes() == b"last week's video"
    assert main(["render", str(folder), str(out), "--no-progress", "--rename"]) == 0
    assert capsys.readouterr().out.startswith(f"{tmp_path / 'tl-2.mp4'}: 8 frames")
    assert out.read_bytes() == b"last week's video"
    assert main(["render", str(folder), str(out), "--no-progress", "-y"]) == 0
    assert out.stat().st_size > 100 and read_manifest(out)["output_frames"] == 8


def test_bad_frames_are_listed_and_the_rest_rendered(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(8):
        Image.effect_noise((80, 60), 30 + i).convert("RGB").save(frames / f"f{i}.jpg")
    Image.new("RGB", (1, 1)).save(frames / "f3.jpg")  # a camera served a placeholder
    data = (frames / "f5.jpg").read_bytes()
    (frames / "f5.jpg").write_bytes(data[: len(data) * 2 // 3])
    out = tmp_path / "tl.mp4"
    assert main(["render", str(frames), str(out), "--no-progress", "--skip-corrupt"]) == 0
    captured = capsys.readouterr()
    assert "6 frames, 80x60" in captured.out and "2 frame(s) skipped" in captured.out
    lines = captured.err.splitlines()
    assert lines[0].startswith(f"skipped {frames / 'f3.jpg'}: 1x1, not the video's 80x60")
    assert lines[1].startswith(f"skipped {frames / 'f5.jpg'}: cut off or damaged")
    args = ["render", str(frames), str(out), "--no-progress", "-y", "--other-sizes", "fit"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "7 frames" in captured.out and "1 frame(s) of other sizes fitted" in captured.out
    assert "f3.jpg" not in captured.err and "f5.jpg" in captured.err
