"""A collection's extensions: HEIC/DNG taken by default, other image types counted when left
out, and a new set of extensions applied at the next scan even in folders that did not change."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from pylapse.index.store import FrameIndex

NAMES = {
    "2026-02-09T14-30-00+09.00.jpg": b"jpeg",
    "2026-02-09T14-31-00+09.00.heic": b"heic",
    "2026-02-09T14-32-00+09.00.dng": b"dng",
    "2026-02-09T14-33-00+09.00.nef": b"nef",
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Frames whose names carry their time (the files are never opened), in a day folder whose
    mtime is old, so a scan after the first skips it as unchanged."""
    day = tmp_path / "frames" / "2026-02-09"
    day.mkdir(parents=True)
    for name, data in NAMES.items():
        (day / name).write_bytes(data)
    old = time.time() - 3600
    for path in (day, day.parent):
        os.utime(path, (old, old))
    return day.parent


@pytest.fixture
def index(tmp_path: Path, index_location):
    idx = FrameIndex(index_location)
    yield idx
    idx.close()


def _names(index: FrameIndex) -> list[str]:
    return sorted(f.path.name for f in index.frames("c"))


def test_heic_and_dng_are_taken_by_default_and_other_image_types_are_counted(index, folder):
    result = index.scan("c", folder, "UTC")
    assert [n[-4:] for n in _names(index)] == [".jpg", "heic", ".dng"]
    assert result.left_out_types == {".nef": 1}
    assert "1 .nef left out by the collection's extensions" in result.summary
    jpeg_only = index.scan("j", folder, "UTC", extensions=[".jpg"])
    assert jpeg_only.left_out_types == {".heic": 1, ".dng": 1, ".nef": 1}


def test_changed_extensions_take_effect_in_unchanged_folders(index, folder):
    first = index.scan("c", folder, "UTC", extensions=[".jpg"])
    assert first.added == 1 and not first.extensions_changed
    same = index.scan("c", folder, "UTC", extensions=[".JPG"])  # the same set, spelled otherwise
    assert same.dirs_skipped == 2 and same.dirs_listed == 0 and not same.extensions_changed
    wider = index.scan("c", folder, "UTC", extensions=[".jpg", ".heic", ".dng"])
    assert wider.extensions_changed and wider.added == 2 and wider.dirs_listed == 2
    assert len(_names(index)) == 3
    again = index.scan("c", folder, "UTC", extensions=[".jpg", ".heic", ".dng"])
    assert again.dirs_listed == 0 and again.added == again.deleted == 0
    narrower = index.scan("c", folder, "UTC", extensions=[".jpg"])
    assert narrower.deleted == 2 and len(_names(index)) == 1


def test_an_index_from_before_extensions_were_recorded_lists_every_folder_once(index, folder):
    index.scan("c", folder, "UTC", extensions=[".jpg"])
    # what an index written by an older pyLapse holds: no extensions recorded
    index._conn.execute("UPDATE index_collections SET extensions = NULL")
    index._conn.commit()
    upgraded = index.scan("c", folder, "UTC")  # the new default takes HEIC and DNG
    assert upgraded.extensions_changed and upgraded.added == 2
    assert index.scan("c", folder, "UTC").dirs_listed == 0
