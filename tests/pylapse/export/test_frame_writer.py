"""FrameWriter: an export's per-frame settings held by an object, so two exports can write
frames in one process (the exporting process writes the first chunks while its pool starts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image

from pylapse import timeutil
from pylapse.export.options import ExportOptions
from pylapse.export.worker import FrameWriter, item

START = datetime(2026, 3, 8, 9, 0, tzinfo=UTC)


def _frames(folder: Path, count: int) -> list[tuple[Path, datetime]]:
    folder.mkdir()
    frames = []
    for i in range(count):
        path = folder / f"cam-{i}.jpg"
        Image.new("RGB", (320, 240), (40, 60, 90)).save(path, quality=95)
        frames.append((path, timeutil.from_utc((START + timedelta(hours=i)).timestamp(), 0)))
    return frames


def test_two_writers_in_one_process_keep_their_own_settings(tmp_path):
    frames = _frames(tmp_path / "src", 4)
    stamped, plain = tmp_path / "stamped", tmp_path / "plain"
    stamped.mkdir()
    plain.mkdir()
    a = FrameWriter(
        ExportOptions(width=320, height=240, drawtimestamp=True, timestamp_format="%H:%M"),
        str(stamped),
        len(frames),
    )
    b = FrameWriter(ExportOptions(width=160, height=120, ext="png"), str(plain), len(frames))
    numbered = [(n, item(f)) for n, f in enumerate(frames, start=1)]
    for one in numbered:  # interleaved, as two exports' threads would
        assert a.process_chunk([one]) == [(one[0], False, None)]
        assert b.process_chunk([one]) == [(one[0], False, None)]

    for path in sorted(stamped.iterdir()):
        with Image.open(path) as image:
            assert image.format == "JPEG" and image.size == (320, 240)
            # the white stamp at the bottom right, on a dark blue frame
            corner = image.crop((160, 180, 320, 240)).convert("L")
            assert corner.getextrema()[1] > 200, path.name
    for path in sorted(plain.iterdir()):
        with Image.open(path) as image:
            assert image.format == "PNG" and image.size == (160, 120)
            assert image.convert("L").getextrema()[1] < 100, path.name  # no stamp
    assert len(list(stamped.iterdir())) == len(list(plain.iterdir())) == 4


def test_an_unreadable_frame_is_a_skip_with_its_reason(tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really")
    out = tmp_path / "out"
    out.mkdir()
    writer = FrameWriter(ExportOptions(width=160, height=120), str(out), 1)
    ((number, linked, skip),) = writer.process_chunk([(1, item(broken))])
    assert (number, linked) == (1, False)
    assert skip is not None and skip[0] == str(broken) and "cannot be" in skip[1]
    assert list(out.iterdir()) == []
