"""The database every component keeps its tables in: SQLite or PostgreSQL, one interface.

By default a SQLite file in the data folder (``<data_path>/pylapse.db``, :mod:`.sqlite`); a
``postgresql://`` URL selects PostgreSQL (:mod:`.postgres`, psycopg 3, the ``postgresql``
extra) for an index shared by several hosts or grown past one machine. :func:`connect` is the
one entry; the connection it returns behaves as :mod:`sqlite3`'s on both (:class:`Connection`),
with SQL written in SQLite's dialect and translated for PostgreSQL in one module
(:mod:`.dialect`). Errors are :mod:`sqlite3`'s exception classes on both.

Each component owns its tables and versions them with :func:`migrate`: a list of numbered schema
steps, applied once each, in order, recorded in ``schema_versions``; the same steps on either
backend, so there is one schema history.

Transactions start implicitly before the first write and ``with conn:`` commits them (Python's
default); :func:`transaction` is there for read-then-write work that must hold the write lock
from its first read.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from pylapse.db import sqlite
from pylapse.db.dialect import Backend, backend_of
from pylapse.db.sqlite import DB_NAME

__all__ = [
    "DB_NAME",
    "NO_LIMIT",
    "Backend",
    "Connection",
    "Cursor",
    "MigrationError",
    "backend",
    "backend_of",
    "bulk_insert",
    "connect",
    "describe",
    "migrate",
    "schema_version",
    "transaction",
]


# LIMIT's "no limit" on both backends (SQLite's LIMIT -1 is refused by PostgreSQL)
NO_LIMIT = 2**63 - 1


class MigrationError(RuntimeError):
    """A schema step that failed, or a database newer than this program."""


class Cursor(Protocol):
    """What the code reads from a cursor (``sqlite3.Cursor`` and psycopg's both give it)."""

    @property
    def rowcount(self) -> int: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def fetchmany(self, size: int = ..., /) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """The part of :class:`sqlite3.Connection` the code uses; what :func:`connect` returns."""

    row_factory: Any

    @property
    def in_transaction(self) -> bool: ...
    def execute(self, sql: str, parameters: Any = ..., /) -> Cursor: ...
    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Cursor: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def close(self) -> None: ...
    def __enter__(self) -> Any: ...
    def __exit__(self, kind: Any, exc: Any, traceback: Any, /) -> Any: ...


def connect(location: str | os.PathLike[str]) -> Connection:
    """Open the database at ``location``: a ``postgresql://`` URL, or a SQLite file path (its
    folder and file created if needed; the data folder itself means :data:`DB_NAME` in it)."""
    if backend_of(location) is Backend.POSTGRESQL:
        from pylapse.db.postgres import PostgresConnection  # psycopg only when asked for

        return PostgresConnection(os.fspath(location))
    return sqlite.connect(location)


def backend(conn: Connection) -> Backend:
    return Backend.SQLITE if isinstance(conn, sqlite3.Connection) else Backend.POSTGRESQL


def describe(location: str | os.PathLike[str]) -> str:
    """``location`` for messages and logs: a URL's password masked."""
    text = os.fspath(location)
    if backend_of(location) is Backend.POSTGRESQL:
        from pylapse.db.postgres import mask_password

        return mask_password(text)
    return text


@contextlib.contextmanager
def transaction(conn: Connection) -> Iterator[Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (rolled back on error); joins an open transaction.

    IMMEDIATE takes the write lock up front, so a transaction that reads before it writes cannot
    fail half-way with "database is locked" when another connection wrote in between. On
    PostgreSQL the same: an advisory lock, one such transaction at a time across connections.
    """
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.rollback()
        raise
    conn.commit()


def bulk_insert(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    constants: Mapping[str, int | str] | None = None,
    skip_conflicts: Sequence[str] = (),
) -> int:
    """Insert many rows in the caller's transaction; returns how many went in.

    ``constants``: columns with the same value in every row (written once, not per row).
    ``skip_conflicts``: a unique key's columns; a row that clashes with one is left out.
    ``COPY`` on PostgreSQL (through a temporary table when conflicts are to be skipped): row
    by row ``INSERT`` costs a round of the server's parse-plan-execute per row there;
    ``executemany`` on SQLite, in process.
    """
    constants = dict(constants or {})
    if not isinstance(conn, sqlite3.Connection):
        if not skip_conflicts and constants:  # COPY straight into the table, constants per row
            fixed = tuple(constants.values())
            columns, rows = (*constants, *columns), ((*fixed, *row) for row in rows)
            constants = {}
        copied: int = conn.copy_insert(  # type: ignore[attr-defined]
            table, columns, rows, constants, skip_conflicts
        )
        return copied
    names = ", ".join((*constants, *columns))
    values = ", ".join([*(_literal(v) for v in constants.values()), *("?" * len(columns))])
    conflict = f" ON CONFLICT ({', '.join(skip_conflicts)}) DO NOTHING" if skip_conflicts else ""
    sql = f"INSERT INTO {table} ({names}) VALUES ({values}){conflict}"
    return int(conn.executemany(sql, rows).rowcount)


def _literal(value: int | str) -> str:
    if isinstance(value, int):
        return str(int(value))
    return "'" + value.replace("'", "''") + "'"


_VERSIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_versions (
    component TEXT PRIMARY KEY,
    version INTEGER NOT NULL
)"""


def schema_version(conn: Connection, component: str) -> int:
    """The number of ``component``'s schema steps applied so far (0 for none)."""
    conn.execute(_VERSIONS_TABLE)
    row = conn.execute(
        "SELECT version FROM schema_versions WHERE component = ?", (component,)
    ).fetchone()
    return int(row[0]) if row else 0


def migrate(conn: Connection, component: str, steps: Sequence[str]) -> int:
    """Apply the steps of ``component``'s schema that this database lacks; return the version.

    ``steps[0]`` is version 1, ``steps[1]`` version 2, and so on; a step is a script of one or
    more SQL statements (SQLite's dialect: :mod:`.dialect` translates them for PostgreSQL).
    Steps are append-only: never edit one that has shipped, add a new one. Each step runs in
    its own transaction together with the version bump, so a failing step leaves the database
    at the previous version. Running ``migrate`` again is a no-op.
    """
    with transaction(conn):
        current = schema_version(conn, component)
        if current > len(steps):
            raise MigrationError(
                f"the database's {component!r} schema is version {current}, newer than this "
                f"program knows ({len(steps)}); upgrade pyLapse or use another data folder"
            )
    for number in range(current + 1, len(steps) + 1):
        with transaction(conn):
            # Another process may have migrated while we waited for the write lock.
            if schema_version(conn, component) >= number:
                continue
            try:
                for statement in _statements(steps[number - 1]):
                    conn.execute(statement)
            except sqlite3.Error as exc:
                raise MigrationError(f"{component} schema step {number} failed: {exc}") from exc
            conn.execute(
                "INSERT INTO schema_versions (component, version) VALUES (?, ?) "
                "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                (component, number),
            )
    return max(current, len(steps))


def _statements(script: str) -> Iterator[str]:
    """Split a script into complete statements (``executescript`` would commit mid-step)."""
    buffer = ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \t\r\n;"):
                yield buffer.strip()
            buffer = ""
    if buffer.strip(" \t\r\n;"):
        raise MigrationError(f"incomplete SQL statement in schema step: {buffer.strip()!r}")
