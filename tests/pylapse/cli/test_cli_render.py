"""`pylapse render` / `render_video.py`: exit codes and one-line reasons, real ffmpeg."""

from __future__ import annotations

import itertools
import re
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
from tests.pylapse.video.test_render_deflicker import decoded_lumas
from tests.pylapse.video.test_stabilise import lean_ffmpeg

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


# --- a 0.2 camera folder: flat frames, then day folders -------------------------------------------


def mixed_capture_folder(root: Path) -> list[str]:
    """What a 0.2 camera folder looks like once pyLapse captures on into it: 0.2's flat frames
    (one without seconds), then a folder per day; plus a reject pile and an export that are no
    frames of the camera. Returns the frames' names in time order."""
    tokyo = ZoneInfo("Asia/Tokyo")
    frames = []
    flat = [datetime(2026, 2, 8, 23, 0, tzinfo=tokyo), datetime(2026, 2, 9, 6, 0, tzinfo=tokyo)]
    for i, when in enumerate(flat):  # 0.2 wrote these straight into output_dir
        name = f"Camera1 {when:%Y-%m-%dT%H-%M}{'-00' if i else ''}.jpg"
        Image.new("RGB", (64, 48), (40 * i, 90, 120)).save(root / name)
        frames.append(name)
    for day, hours in (("2026-02-09", (7, 23)), ("2026-02-10", (1,))):
        (root / day).mkdir()
        for hour in hours:
            when = datetime.fromisoformat(f"{day}T{hour:02d}:00:00+09:00")
            name = f"Camera1 {when:%Y-%m-%dT%H-%M-%S}+09.00.jpg"
            Image.new("RGB", (64, 48), (hour * 10, 60, 90)).save(root / day / name)
            frames.append(name)
    for other in ("rejected", "Full"):  # not day folders: never rendered
        (root / other).mkdir()
        Image.new("RGB", (64, 48)).save(root / other / "Camera1 2026-02-09T12-00-00+09.00.jpg")
    return frames


def test_a_mixed_flat_and_day_folder_capture_directory_renders_completely(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "camera1"
    root.mkdir()
    names = mixed_capture_folder(root)
    out = tmp_path / "all.mp4"
    code = main(["render", str(root), str(out), "--fps", "5", "--timezone", "Asia/Tokyo",
                 "--no-progress"])  # fmt: skip
    assert code == 0
    captured = capsys.readouterr()
    assert "5 frames, 64x48, 5 fps" in captured.out
    assert (
        f"note: {root} holds 2 frame(s) directly in it and 3 in 2 day folder(s) "
        "(2026-02-09 to 2026-02-10); rendering all 5 in time order"
    ) in captured.err
    manifest = read_manifest(out)
    assert manifest is not None and manifest["output_frames"] == 5
    assert manifest["first_frame"].endswith(names[0])  # the oldest flat frame leads
    assert manifest["first_time"] == "2026-02-08T23:00:00+09:00"
    assert manifest["last_time"] == "2026-02-10T01:00:00+09:00"
    decoded = subprocess.run(  # the video itself holds all five
        [find_ffmpeg().path, "-hide_banner", "-i", str(out), "-map", "0:v", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert re.findall(r"frame=\s*(\d+)", decoded.stderr)[-1] == "5"


def test_day_folders_alone_render_without_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "camera1"
    root.mkdir()
    mixed_capture_folder(root)
    for loose in root.glob("*.jpg"):
        loose.unlink()
    out = tmp_path / "days.mp4"
    assert main(["render", str(root), str(out), "--fps", "5", "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert "3 frames" in captured.out and "note:" not in captured.err


def test_no_frames_anywhere_names_the_day_folders_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty" / "2026-02-09").mkdir(parents=True)
    assert main(["render", str(tmp_path / "empty"), str(tmp_path / "a.mp4"), "--no-progress"]) == 1
    assert "or in day folders under it (YYYY-MM-DD)" in one_line_error(capsys)


def test_speed_draft_reaches_ffmpeg(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "draft.mp4"
    assert main(["render", str(folder), str(out), "--speed", "draft", "--no-progress"]) == 0
    manifest = read_manifest(out)
    assert manifest is not None and manifest["options"]["speed"] == "draft"
    command = manifest["command"]
    assert command[command.index("-preset") + 1] == "veryfast"
    assert command[command.index("-crf") + 1] == "26"


def _flickering(folder: Path, count: int = 40) -> list[float]:
    """Frames of one scene, each with a known exposure change; returns the gains given."""
    import random

    rng = random.Random(4)
    gains = [2 ** rng.uniform(-0.4, 0.4) for _ in range(count)]
    folder.mkdir()
    for i, gain in enumerate(gains):
        level = round(110 * gain)
        image = Image.new("RGB", (64, 48), (level, level, level))
        for x in range(0, 64, 8):  # some texture
            image.paste((min(255, level + 40),) * 3, (x, 0, x + 4, 48))
        image.save(folder / f"frame-{i:03d}.png")
    return gains


def test_deflicker_evens_out_a_flickering_folder(tmp_path: Path) -> None:
    frames = tmp_path / "frames"
    _flickering(frames)
    plain, even = tmp_path / "plain.mp4", tmp_path / "even.mp4"
    base = ["render", str(frames), "--pattern", "*.png", "--fps", "10", "--no-progress"]
    assert main([*base[:2], str(plain), *base[2:]]) == 0
    assert main([*base[:2], str(even), *base[2:], "--deflicker", "9"]) == 0

    def jitter(values: list[float]) -> float:
        return sum(abs(b - a) for a, b in itertools.pairwise(values)) / (len(values) - 1)

    # measured: 16.5 -> 2.9 (what is left is the local fit following runs of bright frames)
    before = jitter(decoded_lumas(plain, (64, 48)))
    after = jitter(decoded_lumas(even, (64, 48)))
    assert before > 10 and after * 4 < before
    manifest = read_manifest(even)
    assert manifest is not None
    assert manifest["options"]["deflicker"] is True
    assert manifest["options"]["deflicker_window"] == 9


def test_stabilise_and_deflicker_reach_the_render(folder: Path, tmp_path: Path) -> None:
    if find_ffmpeg().stabilise_support() is not None:
        pytest.skip(f"no stabilising here: {find_ffmpeg().stabilise_support()}")
    out = tmp_path / "s.mp4"
    assert (
        main(["render", str(folder), str(out), "--stabilise", "--deflicker", "--no-progress"]) == 0
    )
    manifest = read_manifest(out)
    assert manifest is not None
    assert manifest["options"]["stabilise"] is True
    assert manifest["options"]["deflicker_window"] == 13
    assert "vidstabtransform" in " ".join(manifest["command"])
    assert "vidstabdetect" in " ".join(manifest["stabilise_command"])


def test_stabilise_with_an_ffmpeg_without_vidstab_is_one_line(
    folder: Path, tmp_path: Path, capsys
) -> None:
    lean = lean_ffmpeg(tmp_path)
    args = ["render", str(folder), str(tmp_path / "a.mp4"), "--stabilise", "--ffmpeg", str(lean)]
    assert main([*args, "--no-progress"]) == 1
    err = one_line_error(capsys)
    assert "stabilise:" in err and "lacks vidstabdetect and vidstabtransform" in err
    assert not (tmp_path / "a.mp4").exists()


def test_a_deflicker_window_too_small_is_one_line(folder: Path, tmp_path: Path, capsys) -> None:
    assert main(["render", str(folder), str(tmp_path / "a.mp4"), "--deflicker", "2"]) == 1
    assert "deflicker_window must be 3-1001 frames, got 2" in one_line_error(capsys)
