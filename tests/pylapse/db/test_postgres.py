"""pylapse.db on both backends: what the code relies on from a connection, on a real SQLite
file and a real PostgreSQL database (the ``index_location`` fixture's two parameters)."""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time

import pytest

from pylapse import db
from pylapse.config import Config
from pylapse.config.base import ConfigError
from pylapse.config.file import parse_config


@pytest.fixture
def conn(index_location):
    connection = db.connect(index_location)
    yield connection
    connection.close()


def _table(conn, columns: str = "id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, n INTEGER"):
    """A table of this test's own (PostgreSQL's schema lives for the session)."""
    name = f"t_{secrets.token_hex(4)}"
    conn.execute(f"CREATE TABLE {name} ({columns})")
    return name


def test_rows_read_by_index_by_name_and_as_plain_tuples(conn):
    row = conn.execute("SELECT 1 AS one, 'two' AS two").fetchone()
    assert row[0] == 1 and row["two"] == "two" and tuple(row) == (1, "two")
    assert dict(zip(row.keys(), row, strict=True)) == {"one": 1, "two": "two"}
    conn.row_factory = None
    assert conn.execute("SELECT 1 AS one").fetchall() == [(1,)]


def test_a_write_begins_a_transaction_that_with_commits(conn, index_location):
    table = _table(conn)
    other = db.connect(index_location)
    try:
        assert not conn.in_transaction
        conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
        assert not conn.in_transaction  # a read opens none (no reader idles in one)
        inserted = conn.execute(
            f"INSERT INTO {table} (name, n) VALUES (?, ?) RETURNING id", ("a", 1)
        ).fetchone()[0]
        assert conn.in_transaction and inserted == 1
        assert other.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0
        with conn:
            conn.execute(f"UPDATE {table} SET n = n + ? WHERE id = ?", (41, inserted))
        assert not conn.in_transaction
        assert other.execute(f"SELECT n FROM {table}").fetchone()["n"] == 42
    finally:
        other.close()


def test_errors_are_sqlite3_s_and_roll_back(conn):
    table = _table(conn)
    with conn:
        conn.execute(f"INSERT INTO {table} (name) VALUES ('a')")
    with pytest.raises(sqlite3.IntegrityError), conn:
        conn.execute(f"INSERT INTO {table} (name) VALUES ('b')")
        conn.execute(f"INSERT INTO {table} (name) VALUES ('a')")
    assert [r[0] for r in conn.execute(f"SELECT name FROM {table}")] == ["a"]
    with pytest.raises(sqlite3.OperationalError if db.backend(conn) is db.Backend.SQLITE
                       else sqlite3.ProgrammingError):  # fmt: skip
        conn.execute("SELECT no_such_column FROM " + table)


def test_transaction_lets_one_writer_in_at_a_time(conn, index_location):
    table = _table(conn)
    conn.commit()
    order: list[str] = []
    inside = threading.Event()

    def first() -> None:
        other = db.connect(index_location)
        with db.transaction(other):
            other.execute(f"INSERT INTO {table} (name) VALUES ('first')")
            inside.set()
            time.sleep(0.5)
            order.append("first commits")
        other.close()

    thread = threading.Thread(target=first)
    thread.start()
    inside.wait(10)
    with db.transaction(conn):  # waits for the first to commit, then reads what it wrote
        order.append("second in")
        assert conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 1
    thread.join()
    assert order == ["first commits", "second in"]


STEPS = [
    "CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT NOT NULL);",
    """
    ALTER TABLE things ADD COLUMN size INTEGER;  -- a comment's ; and ' are no statement
    CREATE TABLE things_log (thing_id INTEGER, note TEXT);
    CREATE TABLE things_stamp (k INTEGER PRIMARY KEY, stamp INTEGER NOT NULL);
    CREATE TRIGGER things_logged AFTER INSERT ON things BEGIN
        INSERT INTO things_log VALUES (new.id, 'added; logged');
        INSERT INTO things_stamp (k, stamp) VALUES (1, 1)
            ON CONFLICT (k) DO UPDATE SET stamp = stamp + 1;
    END;
    """,
]


def test_the_same_schema_steps_on_either_backend(conn):
    suffix = secrets.token_hex(4)
    steps = [s.replace("things", f"things_{suffix}") for s in STEPS]
    component = f"test_{suffix}"
    assert db.migrate(conn, component, steps) == 2
    assert db.migrate(conn, component, steps) == 2  # a no-op
    assert db.schema_version(conn, component) == 2
    with conn:
        conn.executemany(
            f"INSERT INTO things_{suffix} (name, size) VALUES (?, ?)", [("a", 1), ("b", 2)]
        )
    log = conn.execute(f"SELECT thing_id, note FROM things_{suffix}_log ORDER BY 1").fetchall()
    assert [tuple(r) for r in log] == [(1, "added; logged"), (2, "added; logged")]
    stamp = conn.execute(f"SELECT stamp FROM things_{suffix}_stamp").fetchone()[0]
    # a stamp moves once per transaction on PostgreSQL (enough: others see commits only)
    assert stamp == (2 if db.backend(conn) is db.Backend.SQLITE else 1)
    with pytest.raises(db.MigrationError, match="newer than this program"):
        db.migrate(conn, component, steps[:1])


def test_bulk_insert_sets_constants_and_skips_conflicts(conn):
    table = _table(conn, "id INTEGER PRIMARY KEY, kind TEXT, name TEXT UNIQUE, n INTEGER")
    with conn:
        conn.execute(f"INSERT INTO {table} (kind, name, n) VALUES ('old', 'b', 0)")
        rows = [("a", 1), ("b", 2), ("c", None)]
        added = db.bulk_insert(
            conn, table, ("name", "n"), iter(rows), constants={"kind": "new"},
            skip_conflicts=("name",),
        )  # fmt: skip
    assert added == 2
    got = conn.execute(f"SELECT kind, name, n FROM {table} ORDER BY name").fetchall()
    assert [tuple(r) for r in got] == [("new", "a", 1), ("old", "b", 0), ("new", "c", None)]
    with conn:
        assert db.bulk_insert(conn, table, ("name",), [("d",), ("e",)]) == 2


def test_a_connection_error_names_the_server_but_never_its_password():
    with pytest.raises(sqlite3.OperationalError) as caught:
        db.connect("postgresql://pylapse:s3cret@127.0.0.1:1/none?connect_timeout=2")
    assert "s3cret" not in str(caught.value) and "pylapse:***@127.0.0.1:1" in str(caught.value)
    assert db.describe("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"


def test_index_url_is_a_postgresql_url_or_nothing(tmp_path):
    config = Config.model_validate({"data_dir": str(tmp_path)})
    assert config.index_location == tmp_path / db.DB_NAME
    url = "postgresql://pylapse:pw@db.example:5432/pylapse"
    assert Config.model_validate({"index_url": url}).index_location == url
    with pytest.raises(ConfigError, match="not a PostgreSQL URL") as caught:
        parse_config({"index_url": "mysql://u:hidden@h/db"})  # what loading a file shows
    assert "hidden" not in str(caught.value) and "u:***@h" in str(caught.value)


def test_a_connection_the_server_dropped_is_opened_again_between_transactions(index_location):
    if db.backend_of(index_location) is not db.Backend.POSTGRESQL:
        pytest.skip("a SQLite connection is never dropped by a server")
    conn, killer = db.connect(index_location), db.connect(index_location)
    try:
        table = _table(conn)

        def drop() -> None:
            pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
            killer.execute("SELECT pg_terminate_backend(?)", (pid,))
            time.sleep(0.2)

        drop()
        assert conn.execute("SELECT 1").fetchone()[0] == 1  # a read outside a transaction
        conn.execute(f"INSERT INTO {table} (name) VALUES ('lost')")
        drop()
        with pytest.raises(sqlite3.OperationalError):  # mid-transaction: the caller's error
            conn.commit()
        assert not conn.in_transaction
        with conn:
            conn.execute(f"INSERT INTO {table} (name) VALUES ('kept')")
        assert [r[0] for r in killer.execute(f"SELECT name FROM {table}")] == ["kept"]
    finally:
        conn.close()
        killer.close()
