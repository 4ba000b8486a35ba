"""tasks.retention on real files and a real SQLite index: preview, run, protection, trash."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from retention_support import (
    BERLIN,
    DAYS,
    NOW,
    PER_DAY,
    in_place,
    make_config,
    make_frames,
    snapshot,
    trashed,
)

from pylapse.index.store import FrameIndex
from pylapse.retention.plan import DayPlan, Doomed, Reason
from pylapse.retention.run import move_to_trash
from pylapse.tasks.retention import (
    RetentionError,
    camera_retention,
    preview,
    run_retention,
)


@pytest.fixture
def index(tmp_path: Path):  # type: ignore[no-untyped-def]
    with FrameIndex(tmp_path / "pylapse.db") as ix:
        yield ix


def _day(rel: str) -> str:
    return rel.split("/")[0]


def test_the_dry_run_equals_the_real_run(
    tmp_path: Path, index: FrameIndex, caplog: pytest.LogCaptureFixture
) -> None:
    config = make_config(tmp_path, {"thin_minutes": 30, "keep_all_days": 36.96})
    make_frames(config, index)
    root = config.resolve("timelapse/porch")
    before = snapshot(root)
    dry = run_retention(config, "porch", index, now=NOW, dry_run=True)
    assert snapshot(root) == before  # a dry run touches nothing
    caplog.set_level(logging.INFO, "pylapse")
    real = run_retention(config, "porch", index, now=NOW)
    logged = [r.getMessage() for r in caplog.records]
    assert sum("'day': '2026-03-0" in m and "'thinned': 20" in m for m in logged) == 4
    assert any(m.startswith(f"retention run {real['run']} of porch") for m in logged)
    after = snapshot(root)
    gone = in_place(before) - in_place(after)
    assert gone == trashed(after) and gone
    # the same counts and bytes per day as the preview said
    per_day = Counter(_day(p) for p in gone)
    bytes_per_day = Counter()
    for p in gone:
        bytes_per_day[_day(p)] += len(before[p])
    said = {d["day"]: (d["thinned"] + d["expired"], d["bytes"]) for d in dry["preview"]}
    assert said == {d: (per_day[d], bytes_per_day[d]) for d in per_day}
    assert (real["moved"], real["bytes"]) == (dry["removed"], dry["bytes"])
    # keep_all_days ends at 11:57 of the 4th day: its 12:00 and the 5th day are all kept
    assert sorted(per_day) == ["2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"]
    assert per_day["2026-03-02"] == PER_DAY - 5  # 10:00, 10:30, 11:00, 11:30, 12:00 stay
    assert per_day["2026-03-05"] == PER_DAY - 5  # 10:00, 10:30, 11:00, 11:30 and 12:00 too
    # the index forgot exactly the trashed frames, day counts included
    counts = index.count_by_day("porch", BERLIN)
    on_disk = Counter(_day(p) for p in in_place(after))
    assert {d.isoformat(): n for d, n in counts.items()} == dict(on_disk)
    indexed = {f.path.relative_to(root).as_posix() for f in index.frames("porch")}
    assert indexed == in_place(after)
    # nothing changed its bytes on the way
    assert all(after[k] == before[k] for k in in_place(after))
    # a scan of the folder afterwards leaves the trash out (a hidden folder) and finds no change
    scanned = index.scan("porch", root, BERLIN)
    assert (scanned.added, scanned.deleted) == (0, 0)
    assert {f.path.relative_to(root).as_posix() for f in index.frames("porch")} == indexed
    # a second run at the same moment finds nothing more to do
    assert run_retention(config, "porch", index, now=NOW, dry_run=True)["removed"] == 0


def test_protected_frames_survive(tmp_path: Path, index: FrameIndex) -> None:
    config = make_config(
        tmp_path,
        {"thin_minutes": 60, "keep_all_days": 36.5, "delete_after_days": 37.5,
         "keep": ["2026-03-03"]},
        exports={"spring": {"collection": "porch", "date_from": "2026-03-05T10:00",
                            "date_to": "2026-03-05T10:30"}},
    )  # fmt: skip
    make_frames(config, index)
    root = config.resolve("timelapse/porch")
    before = snapshot(root)
    result = run_retention(config, "porch", index, now=NOW)
    after = in_place(snapshot(root))
    kept = Counter(_day(p) for p in after)
    # the kept day whole, though older than delete_after_days
    assert kept["2026-03-03"] == PER_DAY
    assert {p for p in before if p.startswith("2026-03-03/")} <= after
    # expired and unprotected: all gone
    assert kept["2026-03-02"] == kept["2026-03-04"] == 0
    # thinned to one an hour, plus the preset's 10:00-10:30 (7 frames) of that day
    day5 = sorted(p for p in after if p.startswith("2026-03-05/"))
    assert len(day5) == 3 + 6
    assert result["protected"] == PER_DAY + 6  # 10:00 would have stayed anyway
    assert kept["2026-03-06"] == PER_DAY  # younger than keep_all_days


def test_thinning_keeps_the_best_scored_frame_of_each_window(
    tmp_path: Path, index: FrameIndex
) -> None:
    config = make_config(tmp_path, {"thin_minutes": 60})

    def sharpness(day: int, i: int) -> float | None:
        return {3: 80.0, 4: 80.0, 17: 99.0}.get(i, 10.0) if day == 0 else None

    make_frames(config, index, sharpness, days=2)
    run_retention(config, "porch", index, now=NOW)
    left = sorted(in_place(snapshot(config.resolve("timelapse/porch"))))
    # day 1: the sharpest of 10:00-10:55 is 10:15 (tied with 10:20: the earlier), of 11:00-11:55
    # 11:25; 12:00 is a window alone. Day 2 has no scores: each window's first frame.
    assert [p.split("T")[1][:5] for p in left] == [
        "10-15", "11-25", "12-00", "10-00", "11-00", "12-00",
    ]  # fmt: skip


def test_nothing_outside_the_camera_folder_or_unindexed_is_touched(
    tmp_path: Path, index: FrameIndex
) -> None:
    config = make_config(tmp_path, {"delete_after_days": 31})
    paths = make_frames(config, index, days=1)
    root = config.resolve("timelapse/porch")
    # unindexed files beside the frames
    (paths[0].parent / "notes.txt").write_text("mine")
    stray = paths[0].with_name("porch-2026-03-02T09-00-00+01.00.jpg")
    stray.write_bytes(b"not indexed")
    # an indexed frame of the camera's key outside its folder (another collection's folder)
    elsewhere = tmp_path / "timelapse" / "other" / "x.jpg"
    elsewhere.parent.mkdir()
    elsewhere.write_bytes(b"elsewhere")
    outside = tmp_path / "outside.jpg"  # and one outside every storage root
    outside.write_bytes(b"outside")
    when = __import__("datetime").datetime(2026, 3, 2, 9, 30, tzinfo=BERLIN)
    index.add_frame("porch", elsewhere, when, size=9, mtime=None)
    index.add_frame("porch", outside, when, size=7, mtime=None)
    # a day folder that is a symlink out of the camera's folder, with an indexed frame in it
    target = tmp_path / "linked"
    target.mkdir()
    (target / "porch-2026-03-02T08-00-00+01.00.jpg").write_bytes(b"linked")
    (root / "2026-03-01").symlink_to(target)
    index.add_frame("porch", root / "2026-03-01" / "porch-2026-03-02T08-00-00+01.00.jpg",
                    when.replace(hour=8), size=6, mtime=None)  # fmt: skip
    dry = run_retention(config, "porch", index, now=NOW, dry_run=True)
    result = run_retention(config, "porch", index, now=NOW)
    # the frames outside are not the camera's to remove: the preview leaves them out too
    assert result["moved"] == dry["removed"] == len(paths)
    assert result["left"] == 0
    # and the run itself refuses them, even when a plan lists them
    setup = camera_retention(config, "porch")
    outside_rows = [
        Doomed(f.id, str(f.path.parent), f.name, f.utc, f.size, Reason.EXPIRED)
        for f in index.frames("porch")
    ]
    plan = DayPlan(date(2026, 3, 2), 3, 0, tuple(outside_rows))
    moved = move_to_trash([plan], collection="porch", root=setup.root, roots=setup.roots,
                          index=index, now=NOW + 1, total=3)  # fmt: skip
    assert (moved.moved, moved.left) == (0, 3)
    assert all("outside" in note for note in moved.notes)
    assert (paths[0].parent / "notes.txt").read_text() == "mine"
    assert stray.read_bytes() == b"not indexed"
    assert elsewhere.read_bytes() == b"elsewhere"
    assert outside.read_bytes() == b"outside"
    assert (target / "porch-2026-03-02T08-00-00+01.00.jpg").read_bytes() == b"linked"
    assert index.count("porch") == 3  # their rows stay too
    assert not any(p.exists() for p in paths)


def test_a_camera_without_retention_or_outside_the_roots_is_refused(tmp_path: Path) -> None:
    config = make_config(tmp_path, {"thin_minutes": 5})
    config.cameras["porch"].retention = None
    with pytest.raises(RetentionError, match="has no retention enabled"):
        camera_retention(config, "porch")
    with pytest.raises(RetentionError, match="no camera 'gate'; known: porch"):
        camera_retention(config, "gate")
    config = make_config(tmp_path, {"thin_minutes": 5}, storage_roots=["elsewhere"])
    (tmp_path / "elsewhere").mkdir()
    with pytest.raises(RetentionError, match="only inside the storage roots"):
        camera_retention(config, "porch")


def test_the_preview_lists_days_with_their_counts(tmp_path: Path, index: FrameIndex) -> None:
    config = make_config(tmp_path, {"thin_minutes": 30})
    make_frames(config, index)
    seen = preview(index, camera_retention(config, "porch"), NOW)
    assert [d.day for d in seen.days] == [date(2026, 3, 2 + d) for d in range(DAYS)]
    assert all((d.frames, d.kept, d.thinned) == (PER_DAY, 5, PER_DAY - 5) for d in seen.days)


def test_a_preset_of_a_collection_over_the_camera_protects_too(
    tmp_path: Path, index: FrameIndex
) -> None:
    config = make_config(
        tmp_path,
        {"thin_minutes": 60},
        collections={"frames": {"name": "Frames", "path": "timelapse/porch", "camera": "porch"},
                     "other": {"name": "Other", "path": "timelapse/other"}},
        exports={"march": {"collection": "frames", "date_from": "2026-03-02",
                           "date_to": "2026-03-02"},
                 "unrelated": {"collection": "other", "date_from": "2026-03-03",
                               "date_to": "2026-03-03"}},
    )  # fmt: skip
    (tmp_path / "timelapse" / "other").mkdir()
    make_frames(config, index, days=2)
    seen = preview(index, camera_retention(config, "porch"), NOW)
    first, second = seen.days
    assert (first.removed, first.protected) == (0, PER_DAY - 3)
    assert (second.removed, second.protected) == (PER_DAY - 3, 0)
