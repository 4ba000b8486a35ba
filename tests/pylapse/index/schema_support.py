"""Taking an index back to an older schema, as an older pyLapse left it: the steps after the
one a test goes back to are undone here, one helper per step that changed a table."""

from __future__ import annotations

from pylapse import db
from pylapse.index.schema import SCHEMA

#: the position in SCHEMA of the step recording each frame's scoring method
SCORE_VERSIONS = next(i for i, sql in enumerate(SCHEMA) if "score_version" in sql)


#: the position in SCHEMA of the step adding each frame's grain (the steps after score versions)
GRAIN = next(i for i, sql in enumerate(SCHEMA) if "ADD COLUMN grain" in sql)


def undo_grain(conn: db.Connection) -> None:
    """Undo the grain step: every scored frame reads as scored before the grain."""
    conn.execute("ALTER TABLE frames DROP COLUMN grain")


def undo_score_versions(conn: db.Connection) -> None:
    """Undo the score-version step and the one after it (:func:`undo_grain`): no column, so
    every scored frame reads as scored before."""
    assert GRAIN == SCORE_VERSIONS + 1 == len(SCHEMA) - 1, "a later step needs its undo here"
    undo_grain(conn)
    conn.execute("DROP INDEX frames_score_version")
    conn.execute("ALTER TABLE frames DROP COLUMN score_version")
