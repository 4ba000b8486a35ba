"""The pieces of an export on Celery workers that need no broker: how frames are cut into
chunks, and a chunk task's body (atomic final names, redone identically, stops when the export's
staging folder is gone). The whole path through real workers: tests/pylapse/worker/."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from pylapse import timeutil
from pylapse.export.distributed import plan_chunks, write_chunk
from pylapse.export.options import ExportOptions
from pylapse.export.run import run_export

TOKYO = 9 * 3600
# 20:00 in Tokyo: frames 40 minutes apart cross local midnight after the 6th
START = datetime(2026, 3, 8, 11, 0, tzinfo=UTC)


def _frames(folder: Path, count: int) -> list[tuple[Path, datetime]]:
    folder.mkdir(parents=True, exist_ok=True)
    frames = []
    for i in range(count):
        path = folder / f"cam-{i:03d}.jpg"
        Image.new("RGB", (96, 64), (10 * i, 60, 90)).save(path, quality=95)
        utc = (START + timedelta(minutes=40 * i)).timestamp()
        frames.append((path, timeutil.from_utc(utc, TOKYO)))
    return frames


def _entry(n: int, when: datetime | None) -> tuple[int, tuple[str, float | None, int | None]]:
    if when is None:
        return (n, (f"/f/{n}.jpg", None, None))
    return (n, (f"/f/{n}.jpg", when.timestamp(), timeutil.offset_seconds(when)))


def test_chunks_cut_at_each_local_day_and_after_n_frames():
    # 23:00, 23:30 local on the 8th, then 00:00 ... 02:30 local on the 9th (six frames)
    first = timeutil.from_utc(datetime(2026, 3, 8, 14, 0, tzinfo=UTC).timestamp(), TOKYO)
    numbered = [_entry(n, first + timedelta(minutes=30 * (n - 1))) for n in range(1, 9)]
    chunks = plan_chunks(numbered, chunk_frames=4)
    assert [[n for n, _ in c] for c in chunks] == [[1, 2], [3, 4, 5, 6], [7, 8]]
    # in UTC all eight are on one day: the cut follows each frame's own clock
    assert [[n for n, _ in c] for c in plan_chunks(numbered, 100)] == [[1, 2], [3, 4, 5, 6, 7, 8]]


def test_frames_without_a_time_are_cut_by_count_alone():
    numbered = [_entry(n, None) for n in range(1, 8)]
    assert [len(c) for c in plan_chunks(numbered, 3)] == [3, 3, 1]
    assert plan_chunks([], 3) == []
    with pytest.raises(ValueError, match="chunk_frames must be at least 1, got 0"):
        plan_chunks(numbered, 0)


def _rows(frames: list[tuple[Path, datetime]]) -> list[list[object]]:
    return [
        [n, str(p), t.timestamp(), timeutil.offset_seconds(t)]
        for n, (p, t) in enumerate(frames, start=1)
    ]


def _fields(options: ExportOptions) -> dict[str, object]:
    return {k: v for k, v in dataclasses.asdict(options).items() if k != "workers"}


def test_a_chunk_writes_what_the_in_process_export_writes_and_a_redo_rewrites_it(tmp_path):
    frames = _frames(tmp_path / "src", 5)
    options = ExportOptions(width=64, drawtimestamp=True, prefix="t-", workers=1)
    run_export(frames, tmp_path / "plain", options)
    staging = tmp_path / "staging"
    staging.mkdir()
    reports: list[int] = []
    result = write_chunk(str(staging), _fields(options), 5, _rows(frames), report=reports.append)
    assert [o[0] for o in result["outcomes"]] == [1, 2, 3, 4, 5]
    assert all(o[2] is None for o in result["outcomes"])
    expected = {p.name: p.read_bytes() for p in (tmp_path / "plain").glob("t-*.jpg")}
    written = {p.name: p.read_bytes() for p in staging.iterdir()}
    assert written == expected  # byte for byte, and no part folder left behind
    again = write_chunk(str(staging), _fields(options), 5, _rows(frames)[1:3])
    assert [o[0] for o in again["outcomes"]] == [2, 3]
    assert {p.name: p.read_bytes() for p in staging.iterdir()} == expected


def test_an_unreadable_frame_is_a_skip_and_writes_nothing(tmp_path):
    frames = _frames(tmp_path / "src", 3)
    frames[1][0].write_bytes(b"not a picture")
    staging = tmp_path / "staging"
    staging.mkdir()
    options = ExportOptions(width=64, workers=1)
    result = write_chunk(str(staging), _fields(options), 3, _rows(frames))
    skips = {o[0]: o[2] for o in result["outcomes"]}
    assert skips[1] is None and skips[3] is None
    assert skips[2] is not None and skips[2][0] == str(frames[1][0])
    assert sorted(p.name for p in staging.iterdir()) == ["000001.jpg", "000003.jpg"]


def test_a_chunk_whose_staging_folder_is_gone_writes_nothing(tmp_path):
    frames = _frames(tmp_path / "src", 2)
    gone = tmp_path / "gone"
    result = write_chunk(str(gone), _fields(ExportOptions(workers=1)), 2, _rows(frames))
    assert result["outcomes"] == [] and "gone" in result["stopped"]
    assert not gone.exists()  # never made again by a late task


def test_an_export_cancelled_before_it_starts_sends_nothing(tmp_path):
    """No broker is reached (the app is never asked for anything) and nothing is written."""
    import threading

    from pylapse.export.distributed import run_export_on_workers
    from pylapse.progress import Cancelled

    class NoBroker:
        def __getattr__(self, name: str) -> object:
            raise AssertionError(f"the app was asked for {name}")

    frames = _frames(tmp_path / "src", 2)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled, match="before any task was sent"):
        run_export_on_workers(
            frames, tmp_path / "out", ExportOptions(workers=1), None, cancel,
            app=NoBroker(), queue="q",
        )  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]
