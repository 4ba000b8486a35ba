"""Taking an index back to an older schema, as an older pyLapse left it: the steps after the
one a test goes back to are undone here, one helper per step that changed a table."""

from __future__ import annotations

from pylapse import db
from pylapse.index.schema import SCHEMA

#: the position in SCHEMA of the step recording each frame's scoring method
SCORE_VERSIONS = next(i for i, sql in enumerate(SCHEMA) if "score_version" in sql)


def undo_score_versions(conn: db.Connection) -> None:
    """Undo the score-version step: no column, so every scored frame reads as scored before."""
    conn.execute("DROP INDEX frames_score_version")
    conn.execute("ALTER TABLE frames DROP COLUMN score_version")
