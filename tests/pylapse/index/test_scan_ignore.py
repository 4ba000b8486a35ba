"""What a scan indexes in a pyLapse 0.2 frame folder: names without seconds with their times
(DST-aware), flat frames beside day folders, and never pyLapse's own outputs or ignored folders."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pylapse import storage, timeutil
from pylapse.export import staging
from pylapse.index.scan import ScanError
from pylapse.index.store import FrameIndex

BERLIN = timeutil.zone("Europe/Berlin")


@pytest.fixture
def index(tmp_path: Path, index_location):
    found = FrameIndex(index_location)
    yield found
    found.close()


def touch(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"\xff\xd8 not decoded by a scan \xff\xd9")


def indexed(index: FrameIndex, root: Path, collection: str = "cam") -> list[str]:
    return sorted(f.path.relative_to(root).as_posix() for f in index.frames(collection))


def test_names_without_seconds_are_indexed_at_0_2s_times_across_dst(index, tmp_path):
    root = tmp_path / "cam"
    touch(
        root,
        "Porch 2024-10-27-0130.jpg",  # before the fall-back: CEST
        "Porch 2024-10-27-0230.jpg",  # ambiguous: the first occurrence (CEST), as documented
        "Porch 2024-10-27-0330.jpg",  # after: CET
        "Porch 2024-03-31-0230.jpg",  # skipped by the spring-forward: the clock after the gap
        "Porch 2024-01-15 12-00.jpg",
    )
    index.scan("cam", root, BERLIN)
    got = {f.path.name: (datetime.fromtimestamp(f.utc, UTC), f.offset) for f in index.frames("cam")}
    assert got == {
        "Porch 2024-10-27-0130.jpg": (datetime(2024, 10, 26, 23, 30, tzinfo=UTC), 7200),
        "Porch 2024-10-27-0230.jpg": (datetime(2024, 10, 27, 0, 30, tzinfo=UTC), 7200),
        "Porch 2024-10-27-0330.jpg": (datetime(2024, 10, 27, 2, 30, tzinfo=UTC), 3600),
        "Porch 2024-03-31-0230.jpg": (datetime(2024, 3, 31, 1, 30, tzinfo=UTC), 7200),
        "Porch 2024-01-15 12-00.jpg": (datetime(2024, 1, 15, 11, 0, tzinfo=UTC), 3600),
    }
    assert {f.source for f in index.frames("cam")} == {"filename"}  # not EXIF, not mtime


def test_flat_frames_and_day_folders_are_indexed_together(index, tmp_path):
    root = tmp_path / "cam"
    touch(root, "c-2026-02-08T12-00-00+01.00.jpg")  # 0.2's flat frames
    touch(root / "2026-02-09", "c-2026-02-09T12-00-00+01.00.jpg")  # then a folder per day
    index.scan("cam", root, BERLIN)
    assert indexed(index, root) == [
        "2026-02-09/c-2026-02-09T12-00-00+01.00.jpg",
        "c-2026-02-08T12-00-00+01.00.jpg",
    ]


def own_outputs_and_rejects(root: Path) -> None:
    frame = "c-2026-02-09T12-00-00+01.00.jpg"
    touch(root / "2026-02-09", frame)
    # an export written into the frame folder: dated names (its frames' times), a manifest
    touch(root / "exports" / "full", "c-2026-02-09T12-00-00+01.00.jpg", staging.MANIFEST)
    # an export being swapped in, its staging folder, a render's temp file, a dot-folder
    touch(root / "swapping", "x 2026-02-09 12-00-00.jpg", staging.JOURNAL)
    touch(root / ".full.pylapse-staging-4242-k3j2x9ab", "x 2026-02-09 12-00-01.jpg")
    touch(root, ".clip.mp4.pylapse-4242-k3j2x9ab.tmp", ".thumbs.jpg")
    touch(root / ".cache" / "2026-02-09", frame)
    touch(root / "rejected", "c-2026-02-09T12-30-00+01.00.jpg")  # 0.2 users' reject pile
    touch(root / "2026-02-09" / "Rejected", "c-2026-02-09T13-00-00+01.00.jpg")


def test_own_outputs_hidden_entries_and_rejected_are_never_indexed(index, tmp_path):
    root = tmp_path / "cam"
    own_outputs_and_rejects(root)
    result = index.scan("cam", root, BERLIN)
    assert indexed(index, root) == ["2026-02-09/c-2026-02-09T12-00-00+01.00.jpg"]
    assert (result.added, result.skipped) == (1, 0)


def test_an_empty_ignore_list_indexes_rejected_but_never_own_outputs(index, tmp_path):
    root = tmp_path / "cam"
    own_outputs_and_rejects(root)
    index.scan("cam", root, BERLIN, ignore=[])
    assert indexed(index, root) == [
        "2026-02-09/Rejected/c-2026-02-09T13-00-00+01.00.jpg",
        "2026-02-09/c-2026-02-09T12-00-00+01.00.jpg",
        "rejected/c-2026-02-09T12-30-00+01.00.jpg",
    ]


def test_ignore_patterns_by_name_by_path_and_for_files(index, tmp_path):
    root = tmp_path / "cam"
    touch(root / "2026-02-09", "c-2026-02-09T12-00-00+01.00.jpg", "c-2026-02-09T12-00-00_thumb.jpg")
    touch(root / "2026-02-09" / "bad", "c-2026-02-09T12-05-00+01.00.jpg")
    touch(root / "2026-02-10" / "bad", "c-2026-02-10T12-05-00+01.00.jpg")
    touch(root / "Full", "Outside 2026-02-09 12-00-00.jpg")  # a 0.2 export (no manifest)
    index.scan("cam", root, BERLIN, ignore=["2026-02-09/bad/", "full/", "*_THUMB.jpg"])
    assert indexed(index, root) == [
        "2026-02-09/c-2026-02-09T12-00-00+01.00.jpg",
        "2026-02-10/bad/c-2026-02-10T12-05-00+01.00.jpg",
    ]


def test_a_folder_indexed_before_and_ignored_now_loses_its_rows(index, tmp_path):
    root = tmp_path / "cam"
    touch(root / "2026-02-09", "c-2026-02-09T12-00-00+01.00.jpg")
    touch(root / "rejected", "c-2026-02-09T12-30-00+01.00.jpg")
    index.scan("cam", root, BERLIN, ignore=[])
    assert index.count("cam") == 2
    time.sleep(0.01)
    index.scan("cam", root, BERLIN)  # nothing changed on disk: the rejects still go
    assert indexed(index, root) == ["2026-02-09/c-2026-02-09T12-00-00+01.00.jpg"]
    assert (root / "rejected" / "c-2026-02-09T12-30-00+01.00.jpg").exists()  # files stay


def test_an_export_that_appears_in_a_scanned_folder_loses_its_rows(index, tmp_path):
    root = tmp_path / "cam"
    touch(root / "2026-02-09", "c-2026-02-09T12-00-00+01.00.jpg")
    touch(root / "out", "c-2026-02-09T12-30-00+01.00.jpg")
    index.scan("cam", root, BERLIN)
    assert index.count("cam") == 2
    touch(root / "out", staging.MANIFEST)  # pyLapse exported into it since
    index.scan("cam", root, BERLIN)
    assert index.count("cam") == 1


def test_the_scanned_folder_itself_is_read_even_when_it_holds_an_export(index, tmp_path):
    root = tmp_path / "export"
    touch(root, "c-2026-02-09T12-00-00+01.00.jpg", staging.MANIFEST)
    index.scan("export", root, BERLIN)
    assert index.count("export") == 1


def test_a_bad_ignore_pattern_is_a_scan_error(index, tmp_path):
    touch(tmp_path / "cam", "c-2026-02-09T12-00-00+01.00.jpg")
    with pytest.raises(ScanError, match=r"ignore: '\.\./x' must be relative"):
        index.scan("cam", tmp_path / "cam", BERLIN, ignore=["../x"])


def test_the_markers_are_the_names_export_writes():
    assert set(storage.OUTPUT_MARKERS) == {staging.MANIFEST, staging.JOURNAL}
