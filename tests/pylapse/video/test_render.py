"""Rendering with the real bundled ffmpeg, probed with Debian's ffprobe.

Sequences are tiny Pillow JPEGs so every codec renders in a fraction of a second.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import struct
import subprocess
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageDraw

from pylapse import naming
from pylapse.ffmpeg import find_ffmpeg
from pylapse.progress import Cancelled, Progress
from pylapse.video.command import (
    RenderOptions,
    build_command,
    build_palette_command,
    check_options,
)
from pylapse.video.framelist import NoFramesError, concat_list, order_paths, plan_frames
from pylapse.video.manifest import frame_list_hash, read_manifest
from pylapse.video.render import (
    CodecUnavailable,
    RenderError,
    render_frames,
    render_sequence_to_video,
)

FFPROBE = shutil.which("ffprobe") or "/usr/bin/ffprobe"
TOKYO = ZoneInfo("Asia/Tokyo")
START = datetime(2026, 2, 9, 14, 30, tzinfo=TOKYO)


@dataclass(frozen=True)
class IndexedFrame:
    """The shape of ``pylapse.index.Frame`` that rendering reads (path and time)."""

    path: Path
    utc: float
    offset: int


def make_frames(
    folder: Path, count: int, size: tuple[int, int] = (101, 75), start: datetime = START
) -> list[Path]:
    """JPEGs named with the default template, one a minute, each visibly different."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        when = start + timedelta(minutes=i)
        image = Image.new("RGB", size, ((i * 37) % 256, 90, 160))
        ImageDraw.Draw(image).rectangle((i % size[0], 2, i % size[0] + 8, 12), fill="white")
        path = folder / naming.format_name(when, naming.DEFAULT_FORMAT, prefix="cam-", ext="jpg")
        image.save(path, quality=90)
        paths.append(path)
    return paths


def probe(path: Path) -> dict:
    if not Path(FFPROBE).exists():
        pytest.skip("ffprobe is not installed (apt-get install ffmpeg gives Debian's)")
    out = subprocess.run(
        [FFPROBE, "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
         "stream=codec_name,codec_tag_string,width,height,pix_fmt,r_frame_rate,nb_read_frames,"
         "color_range", "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return json.loads(out)["streams"][0]


def top_level_atoms(path: Path) -> list[str]:
    """MP4 box types at the top level of the file, in order."""
    names = []
    with path.open("rb") as f:
        while header := f.read(8):
            size, kind = struct.unpack(">I4s", header)
            skip = size - 8
            if size == 1:
                skip = struct.unpack(">Q", f.read(8))[0] - 16
            names.append(kind.decode("latin-1"))
            if size == 0:
                break
            f.seek(skip, 1)
    return names


@pytest.fixture(scope="module")
def frames(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return make_frames(tmp_path_factory.mktemp("seq"), 12)


@pytest.mark.parametrize(
    ("codec", "ext", "name", "tag"),
    [
        ("h264", "mp4", "h264", "avc1"),
        ("h265", "mp4", "hevc", "hvc1"),
        ("mpeg4", "mp4", "mpeg4", "mp4v"),
        ("vp9", "webm", "vp9", None),
        ("gif", "gif", "gif", None),
    ],
)
def test_each_codec_renders_even_frames_at_the_rate(
    frames: list[Path], tmp_path: Path, codec: str, ext: str, name: str, tag: str | None
) -> None:
    out = tmp_path / f"video.{ext}"
    result = render_frames(frames, out, RenderOptions(codec=codec, fps=12))
    info = probe(out)
    assert info["codec_name"] == name
    assert int(info["nb_read_frames"]) == 12 == result.frames
    assert (info["width"], info["height"]) == (100, 74) == (result.width, result.height)
    if tag:
        assert info["codec_tag_string"] == tag
    if codec == "gif":  # GIF delays are centiseconds: 12 fps is stored as 8 cs
        assert abs(Fraction(info["r_frame_rate"]) - 12) < 0.1
    else:
        assert Fraction(info["r_frame_rate"]) == 12
        assert info["pix_fmt"] == "yuv420p"
    if codec in ("h264", "h265", "vp9"):
        assert info["color_range"] == "tv"
    if codec == "gif":
        assert "palettegen" in " ".join(read_manifest(out)["palette_command"])
    if ext == "mp4":
        atoms = top_level_atoms(out)
        assert atoms.index("moov") < atoms.index("mdat")
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name, out.name + ".json"]


def test_real_camera_frames(tmp_path: Path) -> None:
    """80 real JPEGs (768x576, numbered, no times) from the shared sequence."""
    from tests.conftest import shared_testdata

    folder = shared_testdata("sequence-real") / "frames"
    out = tmp_path / "real.mp4"
    render_sequence_to_video(folder, out, fps=10, size=(320, 320), preset="ultrafast",
                             progress=False)  # fmt: skip
    info = probe(out)
    assert (info["width"], info["height"], int(info["nb_read_frames"])) == (320, 240, 80)
    assert (info["pix_fmt"], info["color_range"]) == ("yuv420p", "tv")
    manifest = read_manifest(out)
    assert Path(manifest["first_frame"]).name == "vtest_000.jpg"
    assert Path(manifest["last_frame"]).name == "vtest_079.jpg"


def test_manifest_records_frames_options_and_ffmpeg(tmp_path: Path) -> None:
    paths = make_frames(tmp_path / "in", 5)
    frames = [IndexedFrame(p, (START + timedelta(minutes=i)).timestamp(), 32400)
              for i, p in enumerate(paths)]  # fmt: skip
    random.Random(4).shuffle(frames)  # the renderer puts frames in time order
    out = tmp_path / "out" / "tl.mp4"
    result = render_frames(frames, out, RenderOptions(fps=10, crf=30, preset="veryfast"))
    manifest = read_manifest(out)
    assert manifest is not None and result.manifest == out.with_name("tl.mp4.json")
    entries = plan_frames(sorted(frames, key=lambda f: f.utc), 10)
    assert manifest["frame_list_hash"] == frame_list_hash(concat_list(entries))
    assert manifest["frame_count"] == 5 and manifest["output_frames"] == 5
    assert manifest["first_time"] == "2026-02-09T14:30:00+09:00"
    assert manifest["last_time"] == "2026-02-09T14:34:00+09:00"
    assert manifest["first_frame"] == str(paths[0]) and manifest["last_frame"] == str(paths[-1])
    assert manifest["options"]["crf"] == 30 and manifest["options"]["preset"] == "veryfast"
    assert manifest["ffmpeg"]["version"] == find_ffmpeg().version
    command = manifest["command"]
    assert command[command.index("-f") + 1] == "concat" and "<concat list>" in command
    assert command[-1] == out.as_posix() and "+faststart" in command


def test_video_is_readable_like_the_frames(frames: list[Path], tmp_path: Path) -> None:
    output = tmp_path / "out.mp4"
    render_sequence_to_video(frames[0].parent, output, fps=10, progress=False)
    assert output.stat().st_mode & 0o777 == 0o644  # mkstemp's 0600 would hide it from a web server
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4", "out.mp4.json"]


def test_progress_reaches_100_and_never_goes_back(frames: list[Path], tmp_path: Path) -> None:
    seen: list[Progress] = []
    render_frames(frames, tmp_path / "p.mp4", RenderOptions(fps=24), progress=seen.append)
    done = [p.done for p in seen]
    assert done == sorted(done)
    assert seen[-1].percent == 100 and seen[-1].done == seen[-1].total == 12
    assert {p.stage for p in seen} == {"encode"}


def test_mixed_sizes_are_fitted_and_padded_when_asked(tmp_path: Path) -> None:
    paths = (
        make_frames(tmp_path / "a", 3, (160, 120))
        + make_frames(tmp_path / "b", 3, (90, 160), START + timedelta(hours=1))
        + make_frames(tmp_path / "c", 3, (63, 47), START + timedelta(hours=2))
    )
    out = tmp_path / "mixed.mp4"
    fitted = render_frames(paths, out, RenderOptions(fps=9, other_sizes="fit"))
    info = probe(out)
    assert (info["width"], info["height"], int(info["nb_read_frames"])) == (160, 120, 9)
    assert fitted.skipped == () and fitted.fitted == 6
    # by default frames of other sizes than most (a tie goes to the first) are left out, by name
    kept = render_frames(paths, tmp_path / "kept.mp4", RenderOptions(fps=9))
    assert kept.frames == 3 and int(probe(kept.output)["nb_read_frames"]) == 3
    assert [Path(s.path) for s in kept.skipped] == paths[3:]
    assert "90x160, not the video's 160x120" in kept.skipped[0].reason


def test_size_fits_inside_the_box_keeping_aspect(frames: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "small.webm"
    render_frames(frames, out, RenderOptions(codec="vp9", size=(64, 64), preset="ultrafast"))
    info = probe(out)
    assert (info["width"], info["height"]) == (64, 48)  # 101x75 * 64/101 = 64x47.5 -> even


def test_target_duration_sets_the_fps(frames: list[Path], tmp_path: Path) -> None:
    result = render_frames(frames, tmp_path / "d.mp4", RenderOptions(duration=2))
    assert result.fps == 6
    assert Fraction(probe(tmp_path / "d.mp4")["r_frame_rate"]) == 6


def test_gaps_are_filled_with_the_previous_frame_when_asked(
    frames: list[Path], tmp_path: Path
) -> None:
    slots = [frames[0], None, frames[1], None, None, frames[2]]
    filled = render_frames(slots, tmp_path / "f.mp4", RenderOptions(fill_gaps=True))
    skipped = render_frames(slots, tmp_path / "s.mp4", RenderOptions())
    assert (filled.frames, skipped.frames) == (6, 3)
    assert int(probe(tmp_path / "f.mp4")["nb_read_frames"]) == 6


def test_per_frame_durations_become_repeats(frames: list[Path], tmp_path: Path) -> None:
    timed = [(frames[0], 1.0), (frames[1], 0.5), (frames[2], 0.25)]
    result = render_frames(timed, tmp_path / "t.mp4", RenderOptions(fps=8))
    assert result.frames == 14
    assert int(probe(tmp_path / "t.mp4")["nb_read_frames"]) == 14


def test_a_render_with_no_usable_frame_keeps_the_old_video(
    frames: list[Path], tmp_path: Path
) -> None:
    seq = [tmp_path / f"{i:02d}.jpg" for i in range(3)]
    for i, path in enumerate(seq):
        shutil.copy(frames[i], path)
    seq[0].write_bytes(b"<html>not found</html>")
    seq[1].write_bytes(seq[1].read_bytes()[:300])  # cut inside the JPEG headers
    seq[2].write_bytes(b"")
    out = tmp_path / "video.mp4"
    out.write_bytes(b"the previous render")
    with pytest.raises(NoFramesError, match=r"none of the 3 frames.*00\.jpg: not a readable"):
        render_frames(seq, out, RenderOptions())
    assert out.read_bytes() == b"the previous render"
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".jpg")) == [
        "video.mp4"
    ]


def ffmpeg_processes_mentioning(text: str) -> list[int]:
    """Live processes whose command line contains ``text`` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


@pytest.mark.slow
def test_cancel_mid_render_leaves_no_process_and_no_file(tmp_path: Path) -> None:
    folder = tmp_path / "noise"
    folder.mkdir()
    for i in range(40):  # noise is slow to encode, so the render is still running when cancelled
        Image.effect_noise((640, 480), 80 + i).convert("RGB").save(folder / f"n{i:03d}.jpg")
    out = tmp_path / "out" / "slow.mp4"
    cancel = threading.Event()
    reports: list[Progress] = []
    running: list[list[int]] = []

    def on_progress(p: Progress) -> None:
        reports.append(p)
        plain = [r for r in reports if not r.message]  # not "checked n of m frames"
        if len(plain) == 2 and not p.message:  # the first report from ffmpeg itself
            running.append(ffmpeg_processes_mentioning(str(out.parent)))
            cancel.set()

    with pytest.raises(Cancelled):
        render_frames(
            sorted(folder.iterdir()),
            out,
            RenderOptions(preset="veryslow", crf=0),
            progress=on_progress,
            cancel=cancel,
        )
    assert running and running[0], "ffmpeg was not running when cancel was set"
    assert ffmpeg_processes_mentioning(str(out.parent)) == []
    assert list(out.parent.iterdir()) == []


def test_folder_api_of_the_original(frames: list[Path], tmp_path: Path) -> None:
    calls = []
    result = render_sequence_to_video(
        frames[0].parent,
        tmp_path / "legacy.mp4",
        fps=6,
        progress=False,
        progress_callback=lambda done, total, stage: calls.append((done, total, stage)),
    )
    assert result == str(tmp_path / "legacy.mp4")
    assert calls[-1] == (12, 12, "Encoding")
    numbered = tmp_path / "numbered"
    numbered.mkdir()
    for n in (1, 2, 10):
        shutil.copy(frames[n], numbered / f"{n}.jpg")
    render_sequence_to_video(numbered, tmp_path / "n.mp4", progress=False)
    manifest = read_manifest(tmp_path / "n.mp4")
    assert Path(manifest["first_frame"]).name == "1.jpg"
    assert Path(manifest["last_frame"]).name == "10.jpg" and manifest["first_time"] is None
    with pytest.raises(FileNotFoundError, match="missing"):
        render_sequence_to_video(tmp_path / "missing", tmp_path / "x.mp4", progress=False)
    with pytest.raises(NoFramesError, match=r"\*\.png"):
        render_sequence_to_video(frames[0].parent, tmp_path / "x.mp4", pattern="*.png")


def test_bad_options_are_refused_before_ffmpeg_runs(frames: list[Path], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown codec 'av2'"):
        render_frames(frames, tmp_path / "a.mp4", RenderOptions(codec="av2"))
    with pytest.raises(ValueError, match=r"\.webm"):
        render_frames(frames, tmp_path / "a.mp4", RenderOptions(codec="vp9"))
    with pytest.raises(ValueError, match="crf 60"):
        render_frames(frames, tmp_path / "a.mp4", RenderOptions(crf=60))
    with pytest.raises(ValueError, match="preset 'warp'"):
        render_frames(frames, tmp_path / "a.mp4", RenderOptions(preset="warp"))
    with pytest.raises(ValueError, match="pix_fmt"):
        render_frames(frames, tmp_path / "a.mp4", RenderOptions(pix_fmt="yuv420p,hflip"))
    with pytest.raises(ValueError, match="fps 0"):
        render_frames(frames, tmp_path / "a.mp4", RenderOptions(fps=0))
    with pytest.raises(NoFramesError):
        render_frames([], tmp_path / "a.mp4")
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(PermissionError, match="cannot write"):
        render_frames(frames, blocker / "a.mp4")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_options_from_plain_data(frames: list[Path], tmp_path: Path) -> None:
    opts = RenderOptions.from_dict({"codec": "vp9", "size": "64x48", "crf": None, "fps": 5})
    assert (opts.codec, opts.size, opts.crf, opts.fps) == ("vp9", (64, 48), None, 5)
    with pytest.raises(ValueError, match=r"unknown render option.*bitrate"):
        RenderOptions.from_dict({"bitrate": "2M"})
    result = render_frames(frames[:4], tmp_path / "d.webm", {"codec": "vp9", "size": [32, 32]})
    assert (result.width, result.height, result.frames) == (32, 24, 4)


def test_a_codec_the_ffmpeg_lacks_is_refused(frames: list[Path], tmp_path: Path) -> None:
    real = find_ffmpeg().path
    lean = tmp_path / "ffmpeg"
    lean.write_text(
        "#!/bin/sh\n"
        "case \"$*\" in *-encoders*) printf ' V....D libx264  H.264\\n V....D gif  GIF\\n';;\n"
        f"  *-version*) echo 'ffmpeg version 5.1-lean';; *) exec {real} \"$@\";; esac\n"
    )
    lean.chmod(0o755)
    with pytest.raises(CodecUnavailable, match=r"h265 needs the libx265.*available: h264, gif"):
        render_frames(frames, tmp_path / "a.mp4", RenderOptions(codec="h265", ffmpeg_path=lean))
    ok = render_frames(frames[:3], tmp_path / "b.mp4", RenderOptions(ffmpeg_path=str(lean)))
    assert ok.frames == 3 and read_manifest(ok.output)["ffmpeg"]["version"] == "5.1-lean"


def test_command_is_pure_and_complete() -> None:
    cmd = build_command(
        "/opt/ffmpeg", "/tmp/list.txt", "/v/.out.tmp", RenderOptions(codec="h265", crf=20),
        fps=29.97, size=(1920, 1080), frames=300, container="mp4",
    )  # fmt: skip
    assert cmd[0] == "/opt/ffmpeg" and cmd[-3:] == ["-f", "mp4", "/v/.out.tmp"]
    assert cmd[cmd.index("-i") - 6 : cmd.index("-i") + 2] == [
        "-r", "2997/100", "-f", "concat", "-safe", "0", "-i", "/tmp/list.txt",
    ]  # fmt: skip
    for flag, value in [
        ("-c:v", "libx265"),
        ("-crf", "20"),
        ("-tag:v", "hvc1"),
        ("-frames:v", "300"),
        ("-color_range", "tv"),
        ("-movflags", "+faststart"),
    ]:
        assert cmd[cmd.index(flag) + 1] == value  # fmt: skip
    graph = cmd[cmd.index("-vf") + 1]
    assert "min(1920/iw,1080/ih)" in graph and "pad=1920:1080" in graph
    assert "format=yuv420p" in graph and "-xerror" not in cmd  # a bad frame never stops it


def test_gif_takes_its_palette_from_a_first_pass() -> None:
    """Two passes keep memory flat: one graph with split+palettegen holds every frame."""
    opts = RenderOptions(codec="gif")
    first = build_palette_command("ff", "list", "pal.tmp", opts, fps=10, size=(320, 240))
    assert "palettegen" in first[first.index("-vf") + 1] and first[-1] == "pal.tmp"
    with pytest.raises(ValueError, match="palette"):
        build_command("ff", "list", "o.gif", opts, fps=10, size=(320, 240), frames=5,
                      container="gif")  # fmt: skip
    second = build_command("ff", "list", "o.gif", opts, fps=10, size=(320, 240), frames=5,
                           container="gif", palette="pal.tmp")  # fmt: skip
    assert second[second.index("pal.tmp") - 1] == "-i"
    graph = second[second.index("-filter_complex") + 1]
    assert "paletteuse" in graph and "split" not in graph and "-color_range" not in second


@pytest.mark.slow
def test_list_builder_orders_100001_frames_by_time(tmp_path: Path) -> None:
    """Names across a DST fall-back sort wrongly as text; the list must follow time."""
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)  # the clocks go back at 01:00 UTC on 25th
    names = []
    for i in range(100_001):  # the default name template, written out for speed
        when = (start + timedelta(seconds=10 * i)).astimezone(berlin)
        offset = "+02.00" if when.utcoffset() == timedelta(hours=2) else "+01.00"
        names.append(f"{tmp_path}/{when:%Y-%m-%dT%H-%M-%S}{offset}.jpg")
    shuffled = names[:]
    random.Random(1).shuffle(shuffled)
    assert sorted(names) != names  # text order is wrong here
    ordered = order_paths(shuffled, berlin)
    assert [f.path for f in ordered] == names
    assert ordered[0].time == start and ordered[-1].offset == 3600
    frames = [IndexedFrame(f.path, f.utc, f.offset) for f in ordered]
    random.Random(2).shuffle(frames)
    text = concat_list(plan_frames(frames, 24))
    lines = text.splitlines()
    assert len(lines) == 100_002 and lines[0] == "ffconcat version 1.0"
    assert lines[1] == f"file '{names[0]}'" and lines[-1] == f"file '{names[-1]}'"
    assert lines[1:] == [f"file '{n}'" for n in names]


def test_undated_names_go_in_natural_order(tmp_path: Path) -> None:
    names = ["img10.jpg", "img2.jpg", "IMG1.jpg", "img1b.jpg"]
    ordered = order_paths([str(tmp_path / n) for n in names])
    assert [Path(f.path).name for f in ordered] == [
        "IMG1.jpg",
        "img1b.jpg",
        "img2.jpg",
        "img10.jpg",
    ]
    assert all(f.time is None for f in ordered)


def test_an_undated_name_among_dated_ones_takes_its_file_time(tmp_path: Path) -> None:
    dated = make_frames(tmp_path, 3)  # 14:30, 14:31, 14:32 Tokyo
    odd = tmp_path / "snapshot.jpg"
    shutil.copy(dated[0], odd)
    when = (START + timedelta(seconds=90)).timestamp()  # 14:31:30, no EXIF in these JPEGs
    os.utime(odd, (when, when))
    ordered = order_paths(sorted(map(str, tmp_path.iterdir())), TOKYO)
    assert [Path(f.path).name for f in ordered] == [
        dated[0].name, dated[1].name, "snapshot.jpg", dated[2].name
    ]  # fmt: skip


def test_list_quotes_awkward_paths(tmp_path: Path) -> None:
    text = concat_list(plan_frames([tmp_path / "it's here.jpg"], 24))
    assert text.splitlines()[1] == "file '" + str(tmp_path) + "/it'\\''s here.jpg'"
    with pytest.raises(ValueError, match="line break"):
        concat_list(plan_frames([tmp_path / "a\nb.jpg"], 24))


def test_cli_bars_count_each_stage_on_its_own(capsys) -> None:
    """A select step's 1/1 never becomes "1 of 5 frames" on the next stage's bar."""
    from pylapse.video.render import tqdm_progress

    report, close = tqdm_progress("Exporting")
    for p in (Progress("select", 0, 1), Progress("select", 1, 1),
              *(Progress("process", n, 5) for n in range(6))):  # fmt: skip
        report(p)
    close()
    err = capsys.readouterr().err.replace("\r", "\n")
    finals = [line for line in err.splitlines() if "100%" in line]
    assert any(line.startswith("Exporting: select") and "1/1" in line for line in finals), err
    assert any(line.startswith("Exporting: process") and "5/5" in line for line in finals), err


# --- one bad frame never kills a render (issue 10, item 4) ------------------------------------


def bad_sequence(folder: Path) -> list[Path]:
    """Ten 160x120 frames; a camera served a 1x1 placeholder as the 4th, and the 7th was cut
    off at two thirds (its headers are intact, its end-of-image marker is gone)."""
    paths = make_frames(folder, 10, (160, 120))
    Image.new("RGB", (1, 1), (0, 0, 0)).save(paths[3], quality=90)
    data = paths[6].read_bytes()
    paths[6].write_bytes(data[: len(data) * 2 // 3])
    return paths


def test_a_1x1_frame_and_a_cut_off_jpeg_are_skipped_and_named(tmp_path: Path) -> None:
    paths = bad_sequence(tmp_path / "seq")
    seen: list[Progress] = []
    result = render_frames(paths, tmp_path / "day.mp4", RenderOptions(fps=10), seen.append)
    assert [Path(s.path) for s in result.skipped] == [paths[3], paths[6]]
    assert "1x1, not the video's 160x120" in result.skipped[0].reason
    assert "cut off or damaged" in result.skipped[1].reason
    assert result.frames == 8 and (result.width, result.height) == (160, 120)
    assert int(probe(result.output)["nb_read_frames"]) == 8
    manifest = read_manifest(result.output)
    assert manifest["skipped_frames"] == 2 and manifest["output_frames"] == 8
    assert [s["path"] for s in manifest["skipped"]] == [str(paths[3]), str(paths[6])]
    assert seen[-1].percent == 100 and [p.done for p in seen] == sorted(p.done for p in seen)


def test_with_fit_the_1x1_frame_is_scaled_in(tmp_path: Path) -> None:
    paths = bad_sequence(tmp_path / "seq")
    result = render_frames(paths, tmp_path / "day.mp4", RenderOptions(other_sizes="fit"))
    assert [Path(s.path) for s in result.skipped] == [paths[6]]  # still cannot be decoded
    assert result.frames == 9 and result.fitted == 1
    info = probe(result.output)
    assert (info["width"], info["height"], int(info["nb_read_frames"])) == (160, 120, 9)


def test_a_placeholder_first_frame_does_not_set_the_size(tmp_path: Path) -> None:
    """The size used to come from the first frame: a 1x1 one made a 2x2 video."""
    paths = make_frames(tmp_path / "seq", 5, (160, 120))
    Image.new("RGB", (1, 1)).save(paths[0])
    result = render_frames(paths, tmp_path / "v.mp4", RenderOptions(other_sizes="fit"))
    assert (result.width, result.height, result.frames, result.fitted) == (160, 120, 5, 1)


def test_a_frame_only_ffmpeg_finds_damaged_is_dropped_and_named(tmp_path: Path) -> None:
    """Header and end marker intact, Huffman table broken: only decoding finds it."""
    paths = make_frames(tmp_path / "seq", 10, (160, 120))
    data = bytearray(paths[5].read_bytes())
    table = data.find(b"\xff\xc4")  # DHT
    data[table + 4 : table + 30] = b"\xff" * 26
    paths[5].write_bytes(bytes(data))
    result = render_frames(paths, tmp_path / "v.mp4", RenderOptions())
    assert [Path(s.path) for s in result.skipped] == [paths[5]]
    assert "cannot be decoded" in result.skipped[0].reason
    assert result.frames == 9 and int(probe(result.output)["nb_read_frames"]) == 9


def test_frames_deleted_while_ffmpeg_runs_are_left_out(tmp_path: Path) -> None:
    """ffmpeg stops at the first missing file; all missing ones are found at once and the
    encode runs again without them."""
    paths = make_frames(tmp_path / "seq", 10, (160, 120))
    seen: list[Progress] = []

    def on_progress(p: Progress) -> None:
        if paths[2].exists() and not p.message:  # frames checked; ffmpeg starts next
            paths[2].unlink()
            paths[7].unlink()
        seen.append(p)

    result = render_frames(paths, tmp_path / "v.mp4", RenderOptions(), on_progress)
    assert [(Path(s.path), s.reason) for s in result.skipped] == [
        (paths[2], "the file is gone (moved or deleted during the render)"),
        (paths[7], "the file is gone (moved or deleted during the render)"),
    ]
    assert result.frames == 8 and int(probe(result.output)["nb_read_frames"]) == 8
    assert any("encoding again" in p.message for p in seen)


def failing_ffmpeg(tmp_path: Path, stdout: str, stderr: str) -> Path:
    """The real ffmpeg, except that an encode (a concat input) prints ``stdout`` and
    ``stderr`` as ffmpeg would and exits 1: a failure no frame check could have foreseen."""
    real = find_ffmpeg().path
    wrapper = tmp_path / "ffmpeg"
    (tmp_path / "out.txt").write_text(stdout)
    (tmp_path / "err.txt").write_text(stderr)
    wrapper.write_text(
        "#!/bin/sh\n"
        f'case "$*" in *concat*) cat {tmp_path}/out.txt; cat {tmp_path}/err.txt >&2; exit 1;; '
        f'*) exec {real} "$@";; esac\n'
    )
    wrapper.chmod(0o755)
    return wrapper


def test_an_ffmpeg_failure_names_the_frame_and_a_fix(tmp_path: Path) -> None:
    paths = make_frames(tmp_path / "seq", 6, (160, 120))
    out = tmp_path / "v.mp4"
    out.write_bytes(b"the previous render")
    ffmpeg = failing_ffmpeg(
        tmp_path,
        "frame=3\nprogress=continue\n",
        f"[in#0/concat @ 0x5581] Impossible to open '{paths[4]}'\n"
        "[in#0/concat @ 0x5581] Error during demuxing: Permission denied\n",
    )
    with pytest.raises(RenderError) as failed:
        render_frames(paths, out, RenderOptions(ffmpeg_path=str(ffmpeg)))
    message = str(failed.value)
    assert f"failed at frame {paths[4]}" in message
    assert f"Impossible to open '{paths[4]}'" in message and "[in#0" not in message
    assert "fix: check that the output folder is writable and the frames are readable" in message
    assert out.read_bytes() == b"the previous render"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["err.txt", "ffmpeg", "out.txt", "seq",
                                                          "v.mp4"]  # fmt: skip
    # no file named: the frame ffmpeg had reached, and what to try
    ffmpeg = failing_ffmpeg(
        tmp_path,
        "frame=3\nprogress=continue\n",
        "[vost#0:0/libx264 @ 0x55] Error submitting video frame to the encoder\n"
        "[vost#0:0/libx264 @ 0x55] Task finished with error code: -22 (Invalid argument)\n",
    )
    with pytest.raises(RenderError) as failed:
        render_frames(paths, out, RenderOptions(ffmpeg_path=str(ffmpeg)))
    assert f"near frame 4 of 6 ({paths[3]})" in str(failed.value)
    assert "Error submitting video frame to the encoder; fix: try another codec" in str(
        failed.value
    )


# --- a render never replaces a video silently (issue 10, item 3) ------------------------------


def test_if_exists_rename_keeps_both_videos(frames: list[Path], tmp_path: Path) -> None:
    first = render_frames(frames[:4], tmp_path / "day.mp4", if_exists="rename")
    second = render_frames(frames[:6], tmp_path / "day.mp4", if_exists="rename")
    assert (first.output.name, second.output.name) == ("day.mp4", "day-2.mp4")
    assert int(probe(first.output)["nb_read_frames"]) == 4
    assert int(probe(second.output)["nb_read_frames"]) == 6
    assert read_manifest(second.output)["video"] == "day-2.mp4"
    assert second.manifest.name == "day-2.mp4.json"


def test_if_exists_error_refuses_before_encoding(frames: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "day.mp4"
    out.write_bytes(b"mine")
    with pytest.raises(FileExistsError, match=r"day\.mp4 exists; nothing was replaced"):
        render_frames(frames, out, if_exists="error")
    assert out.read_bytes() == b"mine" and sorted(tmp_path.iterdir()) == [out]
    with pytest.raises(ValueError, match=r"if_exists 'keep' is not one of 'replace'"):
        render_frames(frames, tmp_path / "x.mp4", if_exists="keep")


def test_concurrent_renders_to_one_name_take_different_names(
    frames: list[Path], tmp_path: Path
) -> None:
    results: list[Path] = []

    def render() -> None:
        results.append(render_frames(frames[:3], tmp_path / "day.mp4", if_exists="rename").output)

    threads = [threading.Thread(target=render) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(p.name for p in results) == ["day-2.mp4", "day-3.mp4", "day.mp4"]


def test_the_folder_api_replaces_as_pyLapse_did(frames: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "legacy.mp4"
    out.write_bytes(b"old")
    assert render_sequence_to_video(frames[0].parent, out, progress=False) == str(out)
    assert out.stat().st_size > 100
    again = render_sequence_to_video(frames[0].parent, out, progress=False, if_exists="rename")
    assert again == str(tmp_path / "legacy-2.mp4")


def _after(command: list[str], flag: str) -> str:
    return command[command.index(flag) + 1]


@pytest.mark.parametrize(
    ("codec", "speed", "preset", "quality"),
    [("h264", "draft", "veryfast", "26"), ("h264", "final", "slow", "21"),
     ("h265", "draft", "veryfast", "31"), ("vp9", "final", "good", "30")],
)  # fmt: skip
def test_a_speed_reaches_ffmpeg_as_a_preset_and_quality_pair(
    codec: str, speed: str, preset: str, quality: str
) -> None:
    options = RenderOptions(codec=codec, speed=speed)
    command = build_command("ffmpeg", "list.txt", "out.mkv", options, fps=24, size=(64, 64),
                            frames=10, container="matroska")  # fmt: skip
    assert _after(command, "-crf") == quality
    assert _after(command, "-deadline" if codec == "vp9" else "-preset") == preset
    plain = build_command("ffmpeg", "list.txt", "out.mkv", RenderOptions(codec=codec), fps=24,
                          size=(64, 64), frames=10, container="matroska")  # fmt: skip
    assert plain != command  # no speed: the codec's defaults


def test_an_explicit_crf_or_preset_wins_over_the_speed() -> None:
    options = RenderOptions(speed="draft", crf=18)
    command = build_command("ffmpeg", "l.txt", "o.mp4", options, fps=24, size=(64, 64),
                            frames=1, container="mp4")  # fmt: skip
    assert (_after(command, "-crf"), _after(command, "-preset")) == ("18", "veryfast")
    with pytest.raises(ValueError, match="speed 'quick' is not one of draft, final"):
        check_options(RenderOptions.from_dict({"speed": "quick"}))


def test_a_draft_render_records_its_speed_and_arguments(tmp_path: Path) -> None:
    paths = make_frames(tmp_path / "in", 3)
    out = tmp_path / "draft.mp4"
    render_sequence_to_video(tmp_path / "in", out, fps=5, speed="draft", progress=False)
    manifest = read_manifest(out)
    assert manifest is not None and manifest["options"]["speed"] == "draft"
    assert _after(manifest["command"], "-preset") == "veryfast" and len(paths) == 3
