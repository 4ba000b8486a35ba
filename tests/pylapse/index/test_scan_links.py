"""Symlinks in a scanned tree: followed only to targets inside the roots (the storage roots and
the scanned folder); a link out of them is not indexed and is reported, by the index scan, a
collection's refresh and ``pylapse index``."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pylapse import naming, timeutil
from pylapse.cli import main
from pylapse.collection import Collection
from pylapse.index.store import FrameIndex

TOKYO = timeutil.zone("Asia/Tokyo")
START = datetime(2026, 2, 9, 12, 0, tzinfo=TOKYO)


def frame_name(minutes: int) -> str:
    return naming.format_name(START + timedelta(minutes=minutes), prefix="cam-")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """``root/frames/2026-02-09`` with three frames; ``root`` is the storage root and
    ``tmp_path/outside`` holds a secret and a folder of frames outside it."""
    day = tmp_path / "root" / "frames" / "2026-02-09"
    day.mkdir(parents=True)
    for minutes in range(3):
        (day / frame_name(minutes)).write_bytes(b"frame")
    outside = tmp_path / "outside"
    (outside / "day").mkdir(parents=True)
    (outside / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (outside / "day" / frame_name(30)).write_bytes(b"not yours")
    return tmp_path / "root"


def names(index: FrameIndex, key: str = "c") -> set[str]:
    return {str(f.path.relative_to(f.path.parents[1])) for f in index.frames(key)}


def test_links_out_of_the_roots_are_not_indexed_and_are_reported(
    tree, tmp_path, caplog, index_location
):
    day = tree / "frames" / "2026-02-09"
    (day / frame_name(10)).symlink_to(tmp_path / "outside" / "passwd")  # a file out
    (day / "more").symlink_to(tmp_path / "outside" / "day")  # a folder out
    scan_log = caplog.at_level(logging.WARNING, "pylapse.index.scan")
    with FrameIndex(index_location) as index, scan_log:
        result = index.scan("c", tree / "frames", TOKYO, roots=[tree])
        assert result.added == 3 and index.count("c") == 3
        assert frame_name(10) not in {f.name for f in index.frames("c")}
        assert not any("more" in f.path.parts for f in index.frames("c"))
    assert result.links_outside == 2
    assert sorted(result.outside_paths) == sorted([str(day / frame_name(10)), str(day / "more")])
    assert "2 symlink(s) pointing outside the storage roots not indexed" in result.outside_message
    assert "2 links out of the roots" in result.summary
    assert result.outside_message in caplog.text


def test_links_inside_the_roots_are_indexed(tree, tmp_path, index_location):
    day = tree / "frames" / "2026-02-09"
    elsewhere = tree / "elsewhere"  # inside the storage root, outside the collection's folder
    (elsewhere / "sub").mkdir(parents=True)
    (elsewhere / frame_name(20)).write_bytes(b"frame")
    (elsewhere / "sub" / frame_name(21)).write_bytes(b"frame")
    (day / frame_name(20)).symlink_to(elsewhere / frame_name(20))
    (day / "more").symlink_to(elsewhere / "sub")
    (day / frame_name(22)).symlink_to(day / frame_name(0))  # inside the scanned folder
    with FrameIndex(index_location) as index:
        result = index.scan("c", tree / "frames", TOKYO, roots=[tree])
        assert result.added == 6 and result.links_outside == 0
        assert {"2026-02-09/" + frame_name(20), "more/" + frame_name(21)} <= names(index)


def test_without_roots_the_scanned_folder_is_the_root(tree, tmp_path, index_location):
    day = tree / "frames" / "2026-02-09"
    (day / frame_name(10)).symlink_to(tree / "frames" / "2026-02-09" / frame_name(1))
    (day / frame_name(11)).symlink_to(tree / "elsewhere.jpg")  # in the storage root only
    (tree / "elsewhere.jpg").write_bytes(b"frame")
    with FrameIndex(index_location) as index:
        result = index.scan("c", tree / "frames", TOKYO)
        assert result.added == 4 and result.links_outside == 1
        assert result.outside_paths == [str(day / frame_name(11))]


def test_links_that_are_not_frames_or_dangle_are_not_reported(tree, tmp_path, index_location):
    day = tree / "frames" / "2026-02-09"
    (day / "notes.txt").symlink_to(tmp_path / "outside" / "passwd")  # not a frame name
    (day / frame_name(40)).symlink_to(tmp_path / "outside" / "gone.jpg")  # dangling
    (day / ".hidden.jpg").symlink_to(tmp_path / "outside" / "passwd")
    with FrameIndex(index_location) as index:
        result = index.scan("c", tree / "frames", TOKYO, roots=[tree])
    assert result.added == 3 and result.links_outside == 0 and result.outside_paths == []


def test_a_collection_scans_with_its_roots(tree, tmp_path, monkeypatch):
    monkeypatch.setenv("PYLAPSE_CACHE_DIR", str(tmp_path / "cache"))
    day = tree / "frames" / "2026-02-09"
    (day / frame_name(10)).symlink_to(tmp_path / "outside" / "passwd")
    # The Python API without a config: the collection's folder is the root.
    with Collection("c", None, tree / "frames", timezone=TOKYO) as coll:
        result = coll.refresh()
        assert result.links_outside == 1 and len(coll) == 3


def test_pylapse_index_names_the_links_it_left_out(tree, tmp_path, capsys):
    day = tree / "frames" / "2026-02-09"
    for n in range(7):
        (day / frame_name(10 + n)).symlink_to(tmp_path / "outside" / "passwd")
    config = {"storage_roots": [str(tree)], "data_dir": str(tmp_path / "data"),
              "collections": {"c": {"name": "C", "path": str(tree / "frames"),
                                    "timezone": "Asia/Tokyo"}}}  # fmt: skip
    path = tmp_path / "capture_config.json"
    path.write_text(json.dumps(config))
    assert main(["index", "--config", str(path), "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert "c: 3 frames" in out and "7 links out of the roots" in out
    assert "7 symlink(s) pointing outside the storage roots not indexed" in err
    assert str(day / frame_name(10)) in err and "and 2 more" in err
