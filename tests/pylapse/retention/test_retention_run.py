"""retention.run: a run killed with SIGKILL loses nothing, and the next run finishes it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from retention_support import BERLIN, NOW, in_place, make_config, make_frames, snapshot, trashed

from pylapse import storage
from pylapse.db import DB_NAME
from pylapse.index.store import FrameIndex
from pylapse.progress import Cancelled, Progress
from pylapse.retention.journal import TRASH, journals, read_journal
from pylapse.retention.run import RetentionBusy, recover
from pylapse.tasks.retention import camera_retention, plan_days, run_retention

REPO = Path(__file__).resolve().parents[3]

_CHILD = textwrap.dedent(
    """
    import sys, time
    from pylapse.config.file import load_config
    from pylapse.db import DB_NAME
    from pylapse.index.store import FrameIndex
    from pylapse.tasks.retention import run_retention

    config_path, marker = sys.argv[1], sys.argv[2]
    stop_at, now = int(sys.argv[3]), float(sys.argv[4])

    def progress(p):
        if p.stage == "move" and p.done == stop_at:
            open(marker, "w").write("moved")
            time.sleep(600)  # killed here, between two renames

    config = load_config(config_path)
    with FrameIndex(config.data_path / DB_NAME) as index:
        run_retention(config, "porch", index, now=now, progress=progress, batch=10)
    """
)


def _doomed(config, index) -> set[str]:  # type: ignore[no-untyped-def]
    setup = camera_retention(config, "porch")
    return {
        (Path(d.folder) / d.name).relative_to(setup.root).as_posix()
        for plan in plan_days(index, setup, NOW)
        for d in plan.doomed
    }


def _consistent(index: FrameIndex, root: Path) -> None:
    """Rows exactly for the files in place, and day counts that agree with them."""
    files = in_place(snapshot(root))
    assert {f.path.relative_to(root).as_posix() for f in index.frames("porch")} == files
    counts = {d.isoformat(): n for d, n in index.count_by_day("porch", BERLIN).items()}
    assert counts == dict(Counter(p.split("/")[0] for p in files))


@pytest.mark.parametrize("stop_at", [7, 25])  # inside the first batch; after two were done
def test_kill_9_during_a_run_loses_nothing(tmp_path: Path, stop_at: int) -> None:
    config = make_config(tmp_path, {"thin_minutes": 30})
    config.data_path.mkdir(parents=True, exist_ok=True)
    with FrameIndex(config.data_path / DB_NAME) as index:
        make_frames(config, index)
        doomed = _doomed(config, index)
    root = config.resolve("timelapse/porch")
    before = snapshot(root)
    marker = tmp_path / "moved"
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(config.source), str(marker), str(stop_at), str(NOW)],
        cwd=REPO,
        stderr=subprocess.PIPE,
    )
    try:
        while not marker.exists():
            if child.poll() is not None:
                pytest.fail(f"the run ended before it was killed: {child.stderr.read()!r}")  # type: ignore[union-attr]
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        child.wait(60)
    finally:
        if child.poll() is None:
            child.kill()
        child.stderr.close()  # type: ignore[union-attr]
    # every frame is either in place or in the trash, once, with its bytes
    killed = snapshot(root)
    moved = trashed(killed)
    assert len(moved) == stop_at
    assert moved <= doomed
    assert in_place(killed) | moved == set(before)
    assert not in_place(killed) & moved
    assert all(killed[k] == before[k] for k in in_place(killed))
    (journal,) = journals(root / TRASH)
    state = read_journal(journal)
    assert state is not None and state.finished is None
    assert len(state.done) == stop_at // 10
    # the next run finishes the interrupted batch, then moves the rest of the plan
    with FrameIndex(config.data_path / DB_NAME) as index:
        result = run_retention(config, "porch", index, now=NOW + 60)
        assert result["recovered"] == [journal.name.removesuffix(".journal")]
        batches = {k: len(m) for k, m in state.batches.items()}  # 10 each, the open one too
        assert result["moved"] == len(doomed) - sum(batches.values())
        after = snapshot(root)
        assert trashed(after) == doomed
        assert in_place(after) == set(before) - doomed
        _consistent(index, root)
    state = read_journal(journal)
    assert state is not None and state.finished is not None and not state.open_batches


def test_a_cancelled_run_settles_its_batch(tmp_path: Path) -> None:
    config = make_config(tmp_path, {"thin_minutes": 30})
    root = config.resolve("timelapse/porch")
    with FrameIndex(tmp_path / "pylapse.db") as index:
        make_frames(config, index)
        before = snapshot(root)
        cancel = threading.Event()

        def progress(p: Progress) -> None:
            if p.stage == "move" and p.done == 13:
                cancel.set()

        with pytest.raises(Cancelled, match="cancelled after moving 13 of 100 frames"):
            run_retention(config, "porch", index, now=NOW, progress=progress, cancel=cancel,
                          batch=10)  # fmt: skip
        after = snapshot(root)
        assert len(trashed(after)) == 13
        assert in_place(after) | trashed(after) == set(before)
        _consistent(index, root)
        (journal,) = journals(root / TRASH)
        state = read_journal(journal)
        assert state is not None and state.finished == {
            "finished": True, "cancelled": True, "moved": 13, "bytes": state.finished["bytes"],
            "left": 0,
        }  # fmt: skip


def test_a_second_run_on_the_same_folder_is_refused(tmp_path: Path) -> None:
    config = make_config(tmp_path, {"thin_minutes": 30})
    setup = camera_retention(config, "porch")
    (setup.root / TRASH).mkdir()
    fd = storage.lock_file(setup.root / TRASH / ".lock")  # as a running run holds it
    try:
        with FrameIndex(tmp_path / "pylapse.db") as index, pytest.raises(RetentionBusy):
            recover(setup.root, setup.roots, index)
    finally:
        storage.unlock_file(setup.root / TRASH / ".lock", fd)


def test_a_journal_line_cut_short_is_ignored(tmp_path: Path) -> None:
    config = make_config(tmp_path, {"thin_minutes": 30})
    setup = camera_retention(config, "porch")
    trash = setup.root / TRASH
    trash.mkdir()
    journal = trash / "20260411T100000Z.journal"
    header = {"run": "20260411T100000Z", "collection": "porch", "root": str(setup.root)}
    journal.write_text(json.dumps(header) + '\n{"batch": 1, "moves": [[1, "/x", "a.jpg"')
    with FrameIndex(tmp_path / "pylapse.db") as index:
        assert recover(setup.root, setup.roots, index) == ["20260411T100000Z"]
    state = read_journal(journal)
    assert state is not None and state.batches == {} and state.finished is not None
    assert os.path.exists(journal)


def test_a_run_is_put_back_and_indexed_again(tmp_path: Path) -> None:
    from pylapse.tasks.retention import restore

    config = make_config(tmp_path, {"thin_minutes": 30})
    root = config.resolve("timelapse/porch")
    with FrameIndex(tmp_path / "pylapse.db") as index:
        make_frames(config, index)
        before = snapshot(root)
        run = run_retention(config, "porch", index, now=NOW)
        taken = sorted(trashed(snapshot(root)))
        (root / taken[0]).write_bytes(b"a new file in its place")  # this one cannot go back
        config.cameras["porch"].retention = None  # turned off since: putting back still works
        done = restore(config, "porch", index, run["run"])
        assert (done["restored"], done["left"]) == (99, 1)
        assert "exists" in done["notes"][0]
        after = snapshot(root)
        assert trashed(after) == {taken[0]}
        assert all(after[k] == before[k] for k in before if k != taken[0])
        _consistent(index, root)
        (journal,) = journals(root / TRASH)  # kept: the run still holds a frame
        assert journal.name == f"{run['run']}.journal"


def test_an_interrupted_run_is_not_put_back(tmp_path: Path) -> None:
    from pylapse.retention.run import restore_run

    config = make_config(tmp_path, {"thin_minutes": 30})
    setup = camera_retention(config, "porch")
    trash = setup.root / TRASH
    trash.mkdir()
    (trash / "20260411T100000Z.journal").write_text('{"run": "20260411T100000Z"}\n')
    with pytest.raises(RetentionBusy, match="interrupted"):
        restore_run(setup.root, "20260411T100000Z")
    for wrong in ("20260411T110000Z", "../porch", "20260411T100000Z/..", "x"):
        with pytest.raises(FileNotFoundError, match="no retention run"):
            restore_run(setup.root, wrong)


def test_a_kill_after_the_rows_went_but_before_done_is_finished(tmp_path: Path) -> None:
    config = make_config(tmp_path, {"thin_minutes": 30})
    root = config.resolve("timelapse/porch")
    with FrameIndex(tmp_path / "pylapse.db") as index:
        make_frames(config, index, days=2)
        before = snapshot(root)
        run_retention(config, "porch", index, now=NOW, batch=10)
        (journal,) = journals(root / TRASH)
        lines = journal.read_text().splitlines()
        # as if killed right after the last batch's rows were removed: no done, no finished
        assert json.loads(lines[-1])["finished"] and "done" in json.loads(lines[-2])
        journal.write_text("\n".join(lines[:-2]) + "\n")
        setup = camera_retention(config, "porch")
        assert recover(setup.root, setup.roots, index) == [journal.name.removesuffix(".journal")]
        state = read_journal(journal)
        assert state is not None and state.finished is not None and not state.open_batches
        after = snapshot(root)
        assert in_place(after) | trashed(after) == set(before)
        _consistent(index, root)
