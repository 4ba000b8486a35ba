"""Each frame's dead-camera verdict is stored as its scores are written: by capture, by the
metrics job (runs across its batches' borders), cleared with a replaced file's scores, and
decided once for frames scored before the column existed (the migration's backfill)."""

from __future__ import annotations

import os
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pylapse import db
from pylapse.index import deadflags
from pylapse.index.schema import COMPONENT, SCHEMA
from pylapse.index.store import FrameIndex
from pylapse.selection.dead_camera import DayBefore, Dead, dead_flags
from pylapse.tasks.metrics import fill_metrics
from tests.pylapse.dead_sequence import BLANK, COUNT, FROZEN, porch_camera, write_dead_sequence
from tests.pylapse.index.schema_support import SCORE_VERSIONS, undo_score_versions

START = datetime(2026, 3, 1, 6, tzinfo=UTC)
STEP = timedelta(minutes=10)
EXPECTED = {**dict.fromkeys(FROZEN, "frozen"), **dict.fromkeys(BLANK, "blank")}


def _stored(index: FrameIndex, key: str) -> list[str | None]:
    """Every frame's stored verdict, in time order."""
    rows = index._reader().execute(
        "SELECT f.dead FROM frames f JOIN index_collections c ON c.id = f.collection_id "
        "WHERE c.key = ? ORDER BY f.utc, f.id",
        (key,),
    )
    return [r[0] for r in rows]


def _by_rule(index: FrameIndex, key: str) -> list[str | None]:
    """The rule over the collection's whole sequence, as the selection-time read decided:
    frozen and blank, else dark against the frame nearest the same local time the day before."""
    rows = index._reader().execute(
        "SELECT f.luma, f.contrast, f.hash_distance, f.utc + f.utc_offset, f.grain FROM frames f "
        "JOIN index_collections c ON c.id = f.collection_id WHERE c.key = ? "
        "ORDER BY f.utc, f.id",
        (key,),
    ).fetchall()
    flags = dead_flags(
        [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], grain=[r[4] for r in rows]
    )
    dark = DayBefore((r[3], r[0]) for r in rows).dark([r[3] for r in rows], [r[0] for r in rows])
    return [
        Dead(f).name.lower() if f else "dark" if d else None
        for f, d in zip(flags, dark, strict=True)
    ]


def _expected(count: int = COUNT) -> list[str | None]:
    return [EXPECTED.get(k) for k in range(count)]


@pytest.fixture
def scanned(tmp_path, index_location):
    root = tmp_path / "frames"
    paths = write_dead_sequence(root, START, STEP)
    index = FrameIndex(index_location)
    index.scan("cam", root, "UTC")
    yield index, root, paths
    index.close()


@pytest.mark.parametrize("batch", [3, 12, 40])
def test_the_metrics_job_flags_frozen_runs_and_blank_frames_across_its_batches(scanned, batch):
    index, _root, _paths = scanned
    assert _stored(index, "cam") == [None] * COUNT  # unscored: nothing is dead yet
    # fill_metrics reads its batch size from this argument; 12 cuts the frozen run 10..16
    # (frames 10 and 11 end the first batch, two of a run too short to be frozen alone)
    assert fill_metrics(index, "cam", batch=batch).scored == COUNT
    assert _stored(index, "cam") == _expected()
    assert _stored(index, "cam") == _by_rule(index, "cam")


def test_a_replaced_file_clears_its_flag_and_splits_the_run(scanned):
    index, root, paths = scanned
    fill_metrics(index, "cam")
    assert _stored(index, "cam") == _expected()
    # frame 13, in the middle of the frozen run 10..16, is replaced by another picture (a new
    # file renamed over it, as a copy or an atomic write does): its scores go, and the runs on
    # either side (10..12, 14..16) are three frames each, no longer a frozen camera
    fresh = paths[13].with_name("new.tmp")
    fresh.write_bytes(paths[5].read_bytes())
    os.replace(fresh, paths[13])
    result = index.scan("cam", root, "UTC")
    assert result.changed == 1
    stored = _stored(index, "cam")
    assert stored[10:17] == [None] * 7
    assert stored == _by_rule(index, "cam")
    assert [k for k, v in enumerate(stored) if v] == list(BLANK)
    fill_metrics(index, "cam")  # scored again: a live picture, the run stays split
    assert _stored(index, "cam") == _by_rule(index, "cam")
    assert _stored(index, "cam")[10:17] == [None] * 7


def _downgrade(location: str) -> None:
    """Take the index back to the schema before ``frames.dead`` (as an older pyLapse left it)."""
    step = next(i for i, s in enumerate(SCHEMA) if "ADD COLUMN dead" in s)
    # the steps after it only list collections to decide again (in a table dropped here),
    # until the score versions, undone here too
    later = SCHEMA[step + 1 : SCORE_VERSIONS]
    assert all("dead_unchecked" in s and "ALTER" not in s for s in later)
    conn = db.connect(location)
    with conn:
        undo_score_versions(conn)
        on = " ON frames" if db.backend(conn) is db.Backend.POSTGRESQL else ""
        conn.execute(f"DROP TRIGGER frames_dead_stamp{on}")
        conn.execute("DROP INDEX frames_dead")
        conn.execute("DROP TABLE dead_unchecked")
        conn.execute("DROP TABLE dead_stamps")
        conn.execute("ALTER TABLE frames DROP COLUMN dead")
        conn.execute(
            "UPDATE schema_versions SET version = ? WHERE component = ?", (step, COMPONENT)
        )
    conn.close()


def test_the_migration_decides_frames_scored_before_it(scanned, tmp_path, index_location):
    index, _root, _paths = scanned
    fill_metrics(index, "cam")
    index.close()
    _downgrade(index_location)
    with FrameIndex(index_location) as reopened:
        assert _stored(reopened, "cam") == _expected()
        assert reopened._reader().execute("SELECT COUNT(*) FROM dead_unchecked").fetchone() == (0,)
        dead = reopened.dead_frames("cam")
        assert len(dead) == len(EXPECTED)
        assert bytes(dead.kinds) == bytes(
            Dead.FROZEN if k in FROZEN else Dead.BLANK for k in sorted(EXPECTED)
        )


def _random_scores(n: int, seed: int) -> list[dict[str, float | int | None]]:
    """Columns of a camera that freezes now and then: runs of one picture of random length
    (1 to 12), some frames unmeasured, some blank."""
    rng = random.Random(seed)
    rows: list[dict[str, float | int | None]] = []
    while len(rows) < n:
        luma = rng.uniform(20, 200)
        for j in range(rng.choice([1, 1, 2, 3, 4, 5, 6, 9, 12])):
            unmeasured = rng.random() < 0.03
            rows.append({
                "luma": None if unmeasured else luma,
                "contrast": None if unmeasured else rng.choice([30.0] * 12 + [0.5]),
                "hash_distance": None if unmeasured else (0 if j else rng.randint(1, 20)),
            })  # fmt: skip
    return rows[:n]


def _add_frames(index: FrameIndex, folder: Path, n: int) -> list[int]:
    """``n`` frames of ``cam`` indexed without scores; the ids."""
    return [
        index.add_frame("cam", folder / f"f{k:03d}.jpg", START + k * STEP, size=1, mtime=0.0)
        for k in range(n)
    ]


@pytest.mark.parametrize("chunk", [1, 2, 4, 5, 6, 7, 64])
def test_the_backfill_in_chunks_decides_as_the_rule_over_the_whole_sequence(
    tmp_path, chunk, index_location
):
    index = FrameIndex(index_location)
    try:
        rows = _random_scores(150, seed=chunk)
        ids = _add_frames(index, tmp_path, len(rows))
        with index._conn:  # scores written around the index: no verdicts yet
            for fid, row in zip(ids, rows, strict=True):
                index._conn.execute(
                    "UPDATE frames SET luma = ?, contrast = ?, hash_distance = ? WHERE id = ?",
                    (row["luma"], row["contrast"], row["hash_distance"], fid),
                )
        assert _stored(index, "cam") == [None] * len(rows)
        cid = index._collection_id("cam")
        assert cid is not None
        changed = deadflags.backfill(index._conn, index._lock, cid, chunk=chunk)
        expected = _by_rule(index, "cam")
        assert _stored(index, "cam") == expected
        assert changed == sum(v is not None for v in expected) > 10
        assert index.recheck_dead("cam") == 0  # decided again: nothing changes
    finally:
        index.close()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_scores_written_in_any_order_and_batches_end_as_the_rule_decides(
    tmp_path, seed, index_location
):
    index = FrameIndex(index_location)
    try:
        rows = _random_scores(200, seed=seed)
        ids = _add_frames(index, tmp_path, len(rows))
        order = list(range(len(rows)))
        random.Random(seed).shuffle(order)
        rng = random.Random(-seed)
        while order:  # scattered batches of 1 to 30 frames, as re-scoring or a partial job
            n = rng.randint(1, 30)
            batch, order = order[:n], order[n:]
            index.set_scores((ids[k], rows[k]) for k in batch)
        assert _stored(index, "cam") == _by_rule(index, "cam")
        # 200 frames 10 minutes apart span a day and 9 hours: the rule's dark frames (most
        # seeds have some) are decided too, some before the frames of the day before
        assert "frozen" in _stored(index, "cam")
    finally:
        index.close()


@pytest.mark.network
def test_capture_flags_a_frozen_run_as_it_grows_and_a_blank_frame_at_once(tmp_path, index_location):
    index = FrameIndex(index_location)
    with porch_camera(tmp_path) as (server, camera):
        t = iter(START + k * STEP for k in range(100))

        def take(behaviour: str) -> None:
            server.route("/cam", behaviour)
            camera.capture(next(t), index)

        for _ in range(3):
            take("jpeg")  # live: a counter drawn in each picture
        for _ in range(4):
            take("static")  # one picture, again and again: four frames are not frozen yet
        assert _stored(index, "cam") == [None] * 7
        take("static")  # the fifth frame of one picture: the whole run is frozen
        assert _stored(index, "cam") == [None] * 3 + ["frozen"] * 5
        take("static")  # and stays so while it goes on
        assert _stored(index, "cam") == [None] * 3 + ["frozen"] * 6
        take("jpeg")  # alive again
        take("blank")  # a covered lens: blank at once
        assert _stored(index, "cam") == [None] * 3 + ["frozen"] * 6 + [None, "blank"]
    assert _stored(index, "cam") == _by_rule(index, "cam")
    assert len(index.dead_frames("cam")) == 7
    index.close()


def test_a_still_scene_is_kept_where_a_frozen_camera_stamping_its_clock_is_left_out(
    tmp_path, index_location
):
    """Frames of a live camera on a still scene (sensor noise only) keep a dHash and a luma
    that do not move, as a frozen camera's do; their grains differ, so selections keep them."""
    index = FrameIndex(index_location)
    with porch_camera(tmp_path, frame_size=(1280, 720)) as (server, camera):
        t = iter(START + k * STEP for k in range(100))
        server.route("/cam", "still")
        for _ in range(6):
            camera.capture(next(t), index)
        server.route("/cam", "frozen-clock")
        for _ in range(6):
            camera.capture(next(t), index)
    stored = _stored(index, "cam")
    assert stored[:6] == [None] * 6  # the first clock frame still links to the last still one
    assert stored[6:] == ["frozen"] * 6
    assert len(index.dead_frames("cam")) == 6
    index.close()
