"""pylapse.db: connection settings and numbered schema steps, on real SQLite files."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from pylapse import db

STEPS = [
    "CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT NOT NULL);",
    """
    ALTER TABLE things ADD COLUMN size INTEGER;
    CREATE TABLE things_log (thing_id INTEGER, note TEXT);
    CREATE TRIGGER things_logged AFTER INSERT ON things BEGIN
        INSERT INTO things_log VALUES (new.id, 'added; logged');
    END;
    """,
]


def test_connect_creates_the_folder_and_tunes_the_connection(tmp_path):
    path = tmp_path / "new" / "folder" / db.DB_NAME
    conn = db.connect(path)
    try:
        assert path.exists()
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        row = conn.execute("SELECT 1 AS one").fetchone()
        assert isinstance(row, sqlite3.Row) and row["one"] == 1
        answers: list[int] = []
        worker = threading.Thread(
            target=lambda: answers.append(conn.execute("SELECT 2").fetchone()[0])
        )
        worker.start()
        worker.join()
        assert answers == [2]  # check_same_thread=False
    finally:
        conn.close()


def test_connect_accepts_the_data_folder(tmp_path):
    conn = db.connect(tmp_path)
    conn.close()
    assert (tmp_path / db.DB_NAME).exists()


def test_migrate_applies_each_step_once_and_records_the_version(tmp_path):
    conn = db.connect(tmp_path / db.DB_NAME)
    try:
        assert db.migrate(conn, "things", STEPS[:1]) == 1
        conn.execute("INSERT INTO things (name) VALUES ('a')")
        conn.commit()
        assert db.migrate(conn, "things", STEPS[:1]) == 1  # idempotent: nothing re-run
        assert db.migrate(conn, "things", STEPS) == 2  # only the new step
        assert db.migrate(conn, "things", STEPS) == 2
        assert db.schema_version(conn, "things") == 2
        assert db.schema_version(conn, "other") == 0
        conn.execute("INSERT INTO things (name, size) VALUES ('b', 3)")
        conn.commit()
        assert [r[0] for r in conn.execute("SELECT name FROM things ORDER BY id")] == ["a", "b"]
        assert conn.execute("SELECT note FROM things_log").fetchone()[0] == "added; logged"
    finally:
        conn.close()


def test_components_are_versioned_separately(tmp_path):
    conn = db.connect(tmp_path / db.DB_NAME)
    try:
        db.migrate(conn, "things", STEPS)
        db.migrate(conn, "jobs", ["CREATE TABLE jobs (id INTEGER PRIMARY KEY);"])
        versions = dict(conn.execute("SELECT component, version FROM schema_versions"))
        assert versions == {"things": 2, "jobs": 1}
    finally:
        conn.close()


def test_a_failing_step_rolls_back_and_names_itself(tmp_path):
    conn = db.connect(tmp_path / db.DB_NAME)
    try:
        broken = [STEPS[0], "CREATE TABLE half (x INTEGER); CREATE TABLE things (y INTEGER);"]
        with pytest.raises(db.MigrationError, match=r"things schema step 2 failed: .*already"):
            db.migrate(conn, "things", broken)
        assert db.schema_version(conn, "things") == 1
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "half" not in tables  # the step's first statement was rolled back with it
    finally:
        conn.close()


def test_a_newer_database_is_refused(tmp_path):
    conn = db.connect(tmp_path / db.DB_NAME)
    try:
        db.migrate(conn, "things", STEPS)
        with pytest.raises(db.MigrationError, match="'things' schema is version 2, newer than"):
            db.migrate(conn, "things", STEPS[:1])
    finally:
        conn.close()


def test_transaction_commits_or_rolls_back(tmp_path):
    conn = db.connect(tmp_path / db.DB_NAME)
    try:
        db.migrate(conn, "things", STEPS[:1])
        with db.transaction(conn):
            conn.execute("INSERT INTO things (name) VALUES ('kept')")
        with pytest.raises(RuntimeError), db.transaction(conn):
            conn.execute("INSERT INTO things (name) VALUES ('lost')")
            raise RuntimeError("boom")
        other = db.connect(tmp_path / db.DB_NAME)
        assert [r[0] for r in other.execute("SELECT name FROM things")] == ["kept"]
        other.close()
    finally:
        conn.close()


def test_connections_enforce_foreign_keys_and_keep_temp_tables_in_memory(tmp_path):
    conn = db.connect(tmp_path)
    try:
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA cache_size").fetchone()[0] == -32000  # 32 MB
        assert conn.execute("PRAGMA temp_store").fetchone()[0] == 2  # MEMORY
        conn.execute("CREATE TABLE a (id INTEGER PRIMARY KEY)")
        conn.execute("CREATE TABLE b (a_id INTEGER REFERENCES a (id))")
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            conn.execute("INSERT INTO b VALUES (7)")
    finally:
        conn.close()


def test_a_database_that_cannot_use_wal_is_refused_by_name():
    # an in-memory database stands in for a file system without shared memory
    with pytest.raises(sqlite3.OperationalError) as caught:
        db.connect(":memory:")
    assert str(caught.value) == ":memory:: cannot use WAL journal mode (got 'memory')"


def test_an_incomplete_statement_is_named(tmp_path):
    conn = db.connect(tmp_path)
    try:
        with pytest.raises(db.MigrationError) as caught:
            db.migrate(conn, "broken", ["CREATE TABLE x (a); INSERT INTO x VALUES ('open"])
        assert str(caught.value) == (
            'incomplete SQL statement in schema step: "INSERT INTO x VALUES (\'open;"'
        )
        assert db.schema_version(conn, "broken") == 0
    finally:
        conn.close()


def test_empty_statements_between_semicolons_are_skipped(tmp_path):
    conn = db.connect(tmp_path)
    try:
        assert db.migrate(conn, "spaced", [" ;; CREATE TABLE x (a INTEGER);\n\t;\r\n;  "]) == 1
        assert conn.execute("SELECT count(*) FROM x").fetchone()[0] == 0
    finally:
        conn.close()


def test_steps_another_process_applied_meanwhile_are_not_run_again(tmp_path, monkeypatch):
    # This process read version 0; before it took the write lock, another one applied step 1.
    conn, other = db.connect(tmp_path), db.connect(tmp_path)
    try:
        db.migrate(other, "things", STEPS[:1])
        real = db.schema_version
        reads = []

        def stale_first(c, component):
            reads.append(component)
            return 0 if len(reads) == 1 else real(c, component)

        monkeypatch.setattr(db, "schema_version", stale_first)  # the name migrate reads
        assert db.migrate(conn, "things", STEPS) == 2  # step 1 not re-run (it would fail)
        monkeypatch.setattr(db, "schema_version", real)
        assert db.schema_version(conn, "things") == 2
        assert "size" in {r[1] for r in conn.execute("PRAGMA table_info(things)")}
    finally:
        conn.close()
        other.close()
