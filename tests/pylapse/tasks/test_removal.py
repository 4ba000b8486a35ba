"""Removing cameras and collections (pylapse.tasks.removal) on real configs, files and SQLite."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pylapse import naming, storage, timeutil
from pylapse.collection import Collection
from pylapse.config.file import load_config, parse_config, to_json
from pylapse.index.store import FrameIndex
from pylapse.progress import Cancelled
from pylapse.tasks.removal import (
    SIZE_SAMPLE,
    RemovalRefused,
    delete_frames,
    preview_files,
    remove_camera,
    remove_collection,
)

BERLIN = timeutil.zone("Europe/Berlin")
START = datetime(2026, 2, 8, 10, 0, tzinfo=BERLIN)


def frames(root: Path, count: int, step: timedelta = timedelta(hours=7), size: int = 100):
    paths = []
    for i in range(count):
        when = START + i * step
        path = storage.day_folder(root, when) / naming.format_name(when, prefix="cam-")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * (size + i))
        paths.append(path)
    return paths


def config_with(tmp_path: Path, **sections) -> object:  # type: ignore[no-untyped-def]
    raw = {
        "data_dir": "data",
        "storage_roots": ["timelapse"],
        "cameras": {
            "porch": {
                "name": "Porch",
                "type": "synthetic",
                "output_dir": "timelapse/porch",
                "timezone": "Europe/Berlin",
            },
        },
        **sections,
    }
    path = tmp_path / "capture_config.json"
    path.write_text(json.dumps(raw))
    (tmp_path / "timelapse").mkdir(exist_ok=True)
    return load_config(path)


@pytest.fixture
def index(index_location):
    """The index on SQLite, then on PostgreSQL: removal renames and drops collections' rows."""
    with FrameIndex(index_location) as ix:
        yield ix


def reloads(config) -> object:  # type: ignore[no-untyped-def]
    """The config as saved and loaded again (the cross-checks run)."""
    return parse_config(json.loads(to_json(config)), config.source)


# -- cameras -------------------------------------------------------------------------------------


def test_a_removed_camera_with_frames_becomes_a_folder_collection(tmp_path, index) -> None:
    config = config_with(tmp_path, exports={"noon": {"collection": "porch", "minute": 0}})
    folder = config.resolve("timelapse/porch")
    frames(folder, 4)
    index.scan("porch", folder, BERLIN)
    kept = remove_camera(config, "porch", index)
    assert (kept.collection, kept.renamed, kept.rescan) == ("porch", None, ())
    assert config.cameras == {}
    saved = json.loads(to_json(config))["collections"]["porch"]
    assert saved == {"name": "Porch", "path": "timelapse/porch", "timezone": "Europe/Berlin"}
    again = reloads(config)
    coll = Collection.from_config(again, "porch", index)
    assert len(coll) == 4 and "noon" in coll.presets
    assert len(coll.preset_selection(coll.presets["noon"]).frames) == 4


def test_a_removed_camera_without_frames_leaves_nothing(tmp_path, index) -> None:
    config = config_with(tmp_path)
    assert remove_camera(config, "porch", index).collection is None
    assert config.all_collections() == {}


def test_a_named_collection_takes_the_cameras_rows(tmp_path, index) -> None:
    config = config_with(tmp_path, collections={
        "garden": {"name": "Garden", "path": "timelapse/porch", "camera": "porch"},
        "garden-png": {"name": "Garden PNG", "path": "timelapse/porch", "camera": "porch",
                       "extensions": ["png"]},
    })  # fmt: skip
    folder = config.resolve("timelapse/porch")
    frames(folder, 3)
    index.scan("porch", folder, BERLIN)
    kept = remove_camera(config, "porch", index)
    assert kept == type(kept)("garden", ("porch", "garden"), ("garden-png",))
    assert all(c.camera is None for c in reloads(config).collections.values())
    assert "camera" not in json.loads(to_json(config))["collections"]["garden"]
    kept.apply(index)
    assert len(Collection.from_config(config, "garden", index)) == 3


def test_a_named_collection_with_rows_of_its_own_is_rescanned(tmp_path, index) -> None:
    config = config_with(
        tmp_path,
        collections={"garden": {"name": "Garden", "path": "timelapse/porch", "camera": "porch"}},
    )
    folder = config.resolve("timelapse/porch")
    frames(folder, 2)
    index.scan("porch", folder, BERLIN)
    index.scan("garden", folder, BERLIN)  # declared as a folder once, before it named the camera
    kept = remove_camera(config, "porch", index)
    assert (kept.renamed, kept.rescan) == (None, ("garden",))


# -- collections ---------------------------------------------------------------------------------


def test_remove_collection_refuses_a_cameras_own_and_names_presets(tmp_path, index) -> None:
    config = config_with(
        tmp_path,
        collections={"old": {"name": "Old", "path": "timelapse/old"}},
        exports={n: {"collection": c} for n, c in (("a", "old"), ("b", "old"), ("c", "porch"))},
    )
    with pytest.raises(RemovalRefused, match=r"camera 'porch'.*remove the camera first"):
        remove_collection(config, "porch")
    with pytest.raises(RemovalRefused, match="export presets 'a', 'b' use collection 'old'"):
        remove_collection(config, "old")
    assert "old" in config.collections and set(config.exports) == {"a", "b", "c"}
    assert remove_collection(config, "old", remove_presets=True) == ["a", "b"]
    assert "old" not in config.collections and set(config.exports) == {"c"}
    reloads(config)
    with pytest.raises(KeyError):
        remove_collection(config, "old")


def _collection(tmp_path: Path, index: FrameIndex, name: str = "old") -> Collection:
    folder = tmp_path / "timelapse" / name
    frames(folder, 5)
    index.scan(name, folder, BERLIN)
    return Collection(name, None, folder, timezone=BERLIN, index=index, key=name)


def test_preview_counts_files_and_sizes_from_the_index(tmp_path, index) -> None:
    coll = _collection(tmp_path, index)
    roots = [tmp_path / "timelapse"]
    exact = preview_files(coll, roots)
    assert (exact.files, exact.bytes, exact.estimated) == (5, 100 * 5 + 10, False)
    assert exact.sampled == 5 and exact.problem is None
    when = START + timedelta(days=5)
    extra = storage.day_folder(coll.collection_dir, when) / naming.format_name(when)
    extra.parent.mkdir()
    extra.write_bytes(b"y" * 1000)
    index.add_frame("old", extra, when, size=1000, mtime=1.0)  # captured: its size is known
    assert preview_files(coll, roots).bytes == 510 + 1000
    outside = preview_files(coll, [tmp_path / "elsewhere"])
    assert outside.files == 6 and "only inside the storage roots" in outside.problem


def test_preview_estimates_beyond_the_sample(tmp_path, index) -> None:
    folder = tmp_path / "timelapse" / "big"
    frames(folder, SIZE_SAMPLE + 40, step=timedelta(minutes=1), size=0)  # 0..539 bytes
    index.scan("big", folder, BERLIN)
    coll = Collection("big", None, folder, timezone=BERLIN, index=index, key="big")
    p = preview_files(coll, [tmp_path / "timelapse"])
    assert p.estimated and p.sampled == SIZE_SAMPLE and p.files == SIZE_SAMPLE + 40
    exact = sum(range(SIZE_SAMPLE + 40))
    assert abs(p.bytes - exact) < exact * 0.25  # a random sample of 500 of 540


def test_delete_frames_deletes_only_the_indexed_files_inside_the_folder(tmp_path, index) -> None:
    coll = _collection(tmp_path, index)
    folder = coll.collection_dir
    paths = sorted(folder.rglob("*.jpg"))
    neighbour = frames(tmp_path / "timelapse" / "neighbour", 2)
    index.scan("neighbour", tmp_path / "timelapse" / "neighbour", BERLIN)
    outside = tmp_path / "outside"
    frames(outside, 1)
    (link := folder / "linked").symlink_to(outside / "2026-02-08")
    # the linked folder's frame is indexed too: scanned with wider roots than deletion gets (or
    # indexed before scans left links out of the roots out)
    index.scan("old", folder, BERLIN, roots=[tmp_path])
    assert index.count("old") == 6
    (folder / "notes.txt").write_text("kept")
    (paths[-1].parent / "unindexed.jpg").write_bytes(b"not in the index")
    seen = []
    result = delete_frames(coll, [tmp_path / "timelapse"], progress=seen.append)
    assert (result.deleted, result.bytes, result.left) == (5, 510, 1)
    assert "outside" in result.notes[0]
    assert not any(p.exists() for p in paths)
    assert (folder / "notes.txt").exists() and (paths[-1].parent / "unindexed.jpg").exists()
    assert sorted(p.name for p in folder.iterdir()) == [paths[-1].parent.name, "linked",
                                                        "notes.txt"]  # fmt: skip
    assert any(outside.rglob("*.jpg")) and link.is_symlink()
    assert all(p.exists() for p in neighbour) and index.count("neighbour") == 2
    assert index.count("old") == 0
    assert seen[0].done == 0 and seen[-1].done == seen[-1].total == 6
    assert result.folders_removed == 1  # the first day; the second holds unindexed.jpg


def test_delete_frames_refuses_a_folder_outside_the_roots_or_missing(tmp_path, index) -> None:
    coll = _collection(tmp_path, index)
    with pytest.raises(RemovalRefused, match="only inside the storage roots"):
        delete_frames(coll, [tmp_path / "elsewhere"])
    coll.collection_dir.rename(tmp_path / "unplugged")
    with pytest.raises(RemovalRefused, match="gone or not mounted"):
        delete_frames(coll, [tmp_path / "timelapse"])
    assert index.count("old") == 5  # refused before anything: the rows stay


def test_a_cancelled_delete_stops_and_says_what_is_left(tmp_path, index) -> None:
    coll = _collection(tmp_path, index)
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled, match="after deleting 0 of 5 files"):
        delete_frames(coll, [tmp_path / "timelapse"], cancel=stop)
    assert len(list(coll.collection_dir.rglob("*.jpg"))) == 5
