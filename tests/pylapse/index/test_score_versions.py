"""Which method scored each frame (schema step 10): frames scored before the index recorded
it count as scored by an older method, counted from a partial index; unscored ones do not."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from pylapse import db, timeutil
from pylapse.imaging import quality
from pylapse.index.schema import COMPONENT
from pylapse.index.store import FrameIndex
from tests.pylapse.index.schema_support import SCORE_VERSIONS, undo_score_versions

START = datetime(2026, 5, 1, 6, 0, tzinfo=timeutil.zone("UTC"))


def test_frames_scored_before_the_step_count_as_older(tmp_path: Path, index_location: str) -> None:
    with FrameIndex(index_location) as index:
        ids = [
            index.add_frame(
                "cam", tmp_path / f"f{k}.jpg", START + timedelta(minutes=k), size=1, mtime=1.0
            )
            for k in range(5)
        ]
        scores = {"sharpness": 10.0, "dhash": 5, "score_version": quality.VERSION}
        index.set_scores((i, scores) for i in ids[:4])  # the fifth is not scored
    conn = db.connect(index_location)
    with conn:  # as the index was before the step: no column, no version
        undo_score_versions(conn)
        conn.execute(
            "UPDATE schema_versions SET version = ? WHERE component = ?",
            (SCORE_VERSIONS, COMPONENT),
        )
    conn.close()
    with FrameIndex(index_location) as index:
        assert index.count_old_scores("cam", quality.VERSION) == 4
        assert index.count_old_scores("cam", 0) == 4  # NULL is older than any version
        assert index.count_old_scores("nope", quality.VERSION) == 0
        assert index.count_old_scores("cam", quality.VERSION, at_most=3) == 3  # a page's count
        assert index.count_old_scores("cam", quality.VERSION, at_most=9) == 4
        walked = index.old_scored("cam", quality.VERSION, None, 3)
        assert [f.id for f in walked] == ids[:3]
        rest = index.old_scored("cam", quality.VERSION, (walked[-1].utc, walked[-1].id), 3)
        assert [f.id for f in rest] == ids[3:4]
        index.set_scores([(ids[0], {"score_version": quality.VERSION})])
        assert index.count_old_scores("cam", quality.VERSION) == 3
        assert index.next_hash("cam", walked[0].utc, ids[0], quality.VERSION) == (ids[1], 5, True)
        assert index.next_hash("cam", rest[0].utc, ids[3], 1)[1:] == (None, False)  # unscored


def test_counting_them_reads_the_partial_index(tmp_path: Path) -> None:
    with FrameIndex(tmp_path / "pylapse.db") as index:
        index.add_frame("cam", tmp_path / "f.jpg", START, size=1, mtime=1.0)
        conn = index._reader()
        for older in ("score_version IS NULL", "score_version < 1"):  # count_older's two
            sql = (
                "SELECT COUNT(*) FROM (SELECT 1 FROM frames WHERE collection_id = 1 "
                f"AND dhash IS NOT NULL AND {older} LIMIT 10) AS t"
            )
            plan = " ".join(str(row[-1]) for row in conn.execute("EXPLAIN QUERY PLAN " + sql))
            assert "frames_score_version (collection_id=? AND score_version" in plan, plan
