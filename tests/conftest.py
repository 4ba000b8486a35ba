"""Fixtures shared by the whole suite. Area-specific fixtures live next to their tests."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_TESTDATA = REPO.parent / "shared" / "testdata"


def shared_testdata(name: str) -> Path:
    """A folder of ../shared/testdata, or skip the test saying why."""
    folder = SHARED_TESTDATA / name
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent (shared test data lives beside the repo in ../shared)")
    return folder


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Real-browser tests run last: they need every layer, and Playwright's sync API keeps an
    event loop running in the main thread while its browser is open."""
    items.sort(key=lambda item: "/tests/browser/" in str(item.path))


@pytest.fixture
def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def repo() -> Path:
    return REPO


# --- the index database on both backends (issue 21) ----------------------------------------------

#: The PostgreSQL server the tests use (trust auth); a database of their own is made in it.
POSTGRES_SERVER = os.environ.get("PYLAPSE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
_PG_START = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """The URL of a database made for this test session (dropped at its end). CREATE DATABASE
    takes a few hundred ms, a schema a few: tests get a schema each (:func:`index_location`)."""
    try:
        import psycopg

        admin = psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True, connect_timeout=5)
    except Exception as exc:  # psycopg missing or no server: skip, or fail on CI
        message = f"PostgreSQL at {POSTGRES_SERVER} unavailable ({exc}); start it: {_PG_START}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    name = f"pylapse_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_SERVER}/{name}"
    finally:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def _postgres_schema(postgres_database: str) -> Iterator[tuple[str, str, Any]]:
    """``(schema, URL, connection)``: the session's schema, with the index's tables made once
    (their 10 schema steps, ~120 statements, take 0.3-0.5 s; emptying them ~20 ms), and a
    connection of the fixture's own to empty them."""
    from pylapse.index.store import FrameIndex

    schema = f"t_{secrets.token_hex(6)}"
    # synchronous_commit off: a commit does not wait for its WAL flush (an fsync on this disk
    # each; the SQLite half runs with synchronous=NORMAL, no fsync either)
    options = quote(f"-csearch_path={schema} -csynchronous_commit=off")
    url = f"{postgres_database}?options={options}&application_name={schema}"
    import psycopg

    with psycopg.connect(postgres_database, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
        FrameIndex(url).close()
        yield schema, url, admin


@pytest.fixture(params=["sqlite", "postgresql"])
def index_location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Where a test's index lives: a SQLite file in ``tmp_path``, then PostgreSQL: the
    session's schema (every connection to the URL works in it), emptied after each test."""
    if request.param == "sqlite":
        yield str(tmp_path / "pylapse.db")
        return
    schema, url, admin = request.getfixturevalue("_postgres_schema")
    try:
        yield url
    finally:
        # connections a failed test left open (idle in a transaction) would block DELETE
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = %s AND pid <> pg_backend_pid()",
            (schema,),
        )
        # DELETE, not TRUNCATE: a few rows, ~20 ms against ~130 ms (new files, fsyncs)
        tables = [
            name
            for (name,) in admin.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s "
                "AND tablename <> 'schema_versions' ORDER BY tablename <> 'frames'",
                (schema,),  # frames first: its triggers write the stamp tables
            )
        ]
        sequences = admin.execute(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = %s", (schema,)
        ).fetchall()
        with admin.transaction():
            admin.execute("SET LOCAL synchronous_commit = off")
            for name in tables:
                admin.execute(f"DELETE FROM {schema}.{name}")
            for (name,) in sequences:  # ids start at 1 again, as in a new SQLite file
                admin.execute(f"ALTER SEQUENCE {schema}.{name} RESTART")
