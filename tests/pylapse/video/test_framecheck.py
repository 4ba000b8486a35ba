"""The look at every frame before a render: real files, no ffmpeg."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
from PIL import Image

from pylapse.progress import Cancelled
from pylapse.video.framecheck import check_frames, decode_problem, drop_frames, near
from pylapse.video.framelist import ListEntry, NoFramesError, plan_frames


def jpeg(path: Path, size: tuple[int, int] = (64, 48), shade: int = 90) -> Path:
    Image.effect_noise(size, 40).convert("RGB").point(lambda v: (v + shade) % 256).save(
        path, quality=90
    )
    return path


def entries(paths: list[Path]) -> list[ListEntry]:
    return plan_frames(paths, 24)


def test_good_frames_pass_untouched(tmp_path: Path) -> None:
    paths = [jpeg(tmp_path / f"{i}.jpg") for i in range(4)]
    check = check_frames(entries(paths))
    assert check.entries == entries(paths) and check.skipped == [] and check.size == (64, 48)


def test_each_kind_of_bad_frame_is_named_with_its_reason(tmp_path: Path) -> None:
    paths = [jpeg(tmp_path / f"{i:02d}.jpg") for i in range(9)]
    paths[1].write_bytes(b"<html><body>503 Service Unavailable</body></html>")
    Image.new("RGB", (64, 48)).save(paths[2], format="PNG")  # a PNG named .jpg
    data = paths[3].read_bytes()
    paths[3].write_bytes(data[: len(data) * 2 // 3])  # cut off: headers intact, no end marker
    Image.new("RGB", (1, 1)).save(paths[4])
    paths[5].unlink()
    check = check_frames(entries(paths))
    reasons = {Path(s.path).name: s.reason for s in check.skipped}
    assert list(reasons) == ["01.jpg", "02.jpg", "03.jpg", "04.jpg", "05.jpg"]
    assert reasons["01.jpg"].startswith("not a readable image")
    assert reasons["02.jpg"].startswith("a PNG among JPEG frames")
    assert reasons["03.jpg"].startswith("cut off or damaged: no end-of-image marker")
    assert reasons["04.jpg"].startswith("1x1, not the video's 64x48")
    assert reasons["05.jpg"] == "the file is gone"
    assert [Path(e.path).name for e in check.entries] == ["00.jpg", "06.jpg", "07.jpg", "08.jpg"]


def test_data_after_the_end_marker_is_not_damage(tmp_path: Path) -> None:
    """Phones append data after a JPEG (motion photos, maker trailers): a missing end marker
    only makes a frame suspect, and one that decodes is kept."""
    paths = [jpeg(tmp_path / f"{i}.jpg") for i in range(3)]
    paths[1].write_bytes(paths[1].read_bytes() + b"\x00\x00\x00\x18ftypmp42" + b"x" * 4000)
    assert check_frames(entries(paths)).skipped == []


def test_other_sizes_fit_keeps_them_and_counts_them(tmp_path: Path) -> None:
    paths = [jpeg(tmp_path / f"{i}.jpg") for i in range(4)]
    jpeg(paths[0], (1, 1))  # the first frame does not set the video's size
    jpeg(paths[3], (48, 64))
    check = check_frames(entries(paths), "fit")
    assert check.skipped == [] and check.fitted == 2 and check.size == (64, 48)
    with pytest.raises(ValueError, match="'stretch' is not a valid OtherSizes"):
        check_frames(entries(paths), "stretch")


def test_nothing_usable_is_an_error_naming_the_frames(tmp_path: Path) -> None:
    paths = [tmp_path / "a.jpg", tmp_path / "b.jpg"]
    for path in paths:
        path.write_bytes(b"")
    with pytest.raises(NoFramesError, match=r"none of the 2 frames .*a\.jpg: not a readable"):
        check_frames(entries(paths))


def test_many_frames_keep_their_order_progress_and_cancel(tmp_path: Path) -> None:
    """Several chunks (threads when the disk is slow): order and progress are kept."""
    one = jpeg(tmp_path / "one.jpg")
    data = one.read_bytes()
    paths = []
    for i in range(700):
        path = tmp_path / f"f{i:04d}.jpg"
        path.write_bytes(data)
        paths.append(path)
    paths[650].write_bytes(b"nope")
    done: list[tuple[int, int]] = []
    check = check_frames(entries(paths), progress=lambda d, t: done.append((d, t)))
    assert [Path(s.path) for s in check.skipped] == [paths[650]]
    assert len(check.entries) == 699 and check.entries[0].path == str(paths[0])
    assert done[-1] == (700, 700) and [d for d, _ in done] == sorted(d for d, _ in done)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled, match="cancelled after checking 0 of 700 frames"):
        check_frames(entries(paths), cancel=cancel)


def test_a_dropped_frame_is_a_gap_when_gaps_are_filled() -> None:
    run = [ListEntry("a", 1), ListEntry("b", 2), ListEntry("c", 1)]
    assert drop_frames(run, ["b"]) == [ListEntry("a", 1), ListEntry("c", 1)]
    assert drop_frames(run, ["b"], fill_gaps=True) == [ListEntry("a", 3), ListEntry("c", 1)]
    assert drop_frames(run, ["a"], fill_gaps=True) == [ListEntry("b", 2), ListEntry("c", 1)]


def test_near_maps_output_counts_to_frames_with_repeats() -> None:
    run = [ListEntry("a", 3), ListEntry("b", 1), ListEntry("c", 2), ListEntry("d", 1)]
    assert near(run, [0], 2) == ["a", "b"]
    assert near(run, [3], 2) == ["b", "c"]  # output frame 3 is b's
    assert near(run, [5, 4], 9) == ["c", "d"]
    assert near(run, [7], 2) == ["d"]  # past the end: the last frame


def test_decode_problem_finds_a_broken_body(tmp_path: Path) -> None:
    good = jpeg(tmp_path / "good.jpg", (320, 240))
    assert decode_problem(str(good)) == ""
    data = bytearray(good.read_bytes())
    table = data.find(b"\xff\xc4")
    data[table + 4 : table + 30] = b"\xff" * 26  # the Huffman table: the end marker stays
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(bytes(data))
    assert decode_problem(str(broken)).startswith("cannot be decoded")
    buffer = io.BytesIO()
    Image.effect_noise((64, 64), 50).save(buffer, "PNG")
    png = tmp_path / "cut.png"
    png.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    assert decode_problem(str(png)).startswith("cannot be decoded")
    assert decode_problem(str(tmp_path / "gone.jpg")) == "the file is gone"
