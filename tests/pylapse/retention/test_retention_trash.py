"""retention.trash: a run's trash is emptied once its grace period is over, never before."""

from __future__ import annotations

from pathlib import Path

from retention_support import NOW, in_place, make_config, make_frames, snapshot, trashed

from pylapse.index.store import FrameIndex
from pylapse.retention.journal import TRASH
from pylapse.retention.trash import empty_trash, trash_runs
from pylapse.tasks.retention import run_retention

DAY = 86400.0


def test_the_trash_is_emptied_after_the_grace_period(tmp_path: Path) -> None:
    config = make_config(tmp_path, {"thin_minutes": 30, "trash_days": 7})
    root = config.resolve("timelapse/porch")
    with FrameIndex(tmp_path / "pylapse.db") as index:
        make_frames(config, index)
        first = run_retention(config, "porch", index, now=NOW)
        moved = trashed(snapshot(root))
        assert len(moved) == first["moved"] == 100
        # a link planted in the trash is removed, not what it points to
        precious = tmp_path / "precious.jpg"
        precious.write_bytes(b"keep me")
        (root / TRASH / first["run"] / "link.jpg").symlink_to(precious)
        # six days on: still there (the second run has nothing to move)
        second = run_retention(config, "porch", index, now=NOW + 6.9 * DAY)
        assert second["trash_emptied"]["runs"] == []
        assert second["trash_emptied"]["waiting"] == 2
        assert trashed(snapshot(root)) == moved | {"link.jpg"}
        # seven days on: the first run's trash goes, the second's (6.9 days younger) waits
        third = run_retention(config, "porch", index, now=NOW + 7 * DAY)
        assert third["trash_emptied"]["runs"] == [first["run"]]
        assert third["trash_emptied"]["files"] == 101
        assert trashed(snapshot(root)) == set()
        assert precious.read_bytes() == b"keep me"
        assert len(in_place(snapshot(root))) == 25
        assert [r.run_id for r in trash_runs(root)] == [second["run"], third["run"]]


def test_an_unfinished_run_is_never_emptied(tmp_path: Path) -> None:
    config = make_config(tmp_path, {"thin_minutes": 30})
    root = config.resolve("timelapse/porch")
    trash = root / TRASH
    (trash / "20260301T000000Z" / "2026-02-01").mkdir(parents=True)
    (trash / "20260301T000000Z" / "2026-02-01" / "a.jpg").write_bytes(b"a")
    (trash / "20260301T000000Z.journal").write_text('{"run": "20260301T000000Z"}\n')
    result = empty_trash(root, NOW + 365 * DAY, 0)
    assert result.emptied == [] and result.waiting == 1
    assert (trash / "20260301T000000Z" / "2026-02-01" / "a.jpg").exists()


def test_a_camera_empties_only_its_own_runs_in_a_shared_folder(tmp_path: Path) -> None:
    config = make_config(tmp_path, {"thin_minutes": 30})
    root = config.resolve("timelapse/porch")
    with FrameIndex(tmp_path / "pylapse.db") as index:
        make_frames(config, index, days=1)
        run = run_retention(config, "porch", index, now=NOW)
    assert [r.run_id for r in trash_runs(root, "gate")] == []
    assert empty_trash(root, NOW + 100 * DAY, 0, "gate").emptied == []
    assert [r.run_id for r in trash_runs(root, "porch")] == [run["run"]]
    assert empty_trash(root, NOW + 100 * DAY, 0, "porch").emptied == [run["run"]]
