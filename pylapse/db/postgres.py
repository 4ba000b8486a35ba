"""A PostgreSQL connection (psycopg 3) that the code can use as it uses :mod:`sqlite3`'s.

The subset pyLapse uses: ``execute``/``executemany`` (SQL in SQLite's dialect, translated by
:func:`pylapse.db.dialect.to_postgres`) returning a cursor with ``fetchone``/``fetchall``/
``fetchmany``/iteration/``rowcount``; rows readable by index and by column name like
:class:`sqlite3.Row` (or plain tuples with ``row_factory = None``); ``commit``/``rollback``/
``in_transaction``/``close``; ``with conn:`` commits. Transactions start as :mod:`sqlite3`'s
do: implicitly before the first ``INSERT``/``UPDATE``/``DELETE``, so a reader never sits idle in
a transaction. Errors are raised as the matching :mod:`sqlite3` exception (the DB-API classes
every caller already catches), the psycopg error chained as its cause, with ``sqlstate``.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import errors as pg_errors
from psycopg.rows import tuple_row

from pylapse.db.dialect import to_postgres

if TYPE_CHECKING:
    from psycopg.rows import RowMaker

__all__ = ["PostgresConnection", "Row", "mask_password"]

# A key for pg_advisory_xact_lock: what BEGIN IMMEDIATE is to SQLite (one writer at a time).
WRITE_LOCK_KEY = 0x70794C61707365  # "pyLapse"
_DML = ("INSERT", "UPDATE", "DELETE", "REPLACE")
_ERRORS: list[tuple[type[Exception], type[sqlite3.Error]]] = [
    (pg_errors.IntegrityError, sqlite3.IntegrityError),
    (pg_errors.OperationalError, sqlite3.OperationalError),
    (pg_errors.ProgrammingError, sqlite3.ProgrammingError),
    (pg_errors.DataError, sqlite3.DataError),
    (pg_errors.NotSupportedError, sqlite3.NotSupportedError),
    (pg_errors.InternalError, sqlite3.InternalError),
    (pg_errors.InterfaceError, sqlite3.InterfaceError),
]


def mask_password(url: str) -> str:
    """``url`` with its password (if any) replaced by ``***``: for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


class Row(tuple[Any, ...]):
    """A result row read by index or by column name, like :class:`sqlite3.Row`."""

    _names: ClassVar[dict[str, int]] = {}

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            try:
                return tuple.__getitem__(self, self._names[key])
            except KeyError:
                raise IndexError(f"no column named {key!r}") from None
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


def _named_rows(cursor: psycopg.Cursor[Any]) -> RowMaker[Row]:
    names = tuple(column.name for column in cursor.description or ())
    return _row_class(names)  # the class is the row maker: kind(values)


@functools.lru_cache(maxsize=512)
def _row_class(names: tuple[str, ...]) -> type[Row]:
    return type("Row", (Row,), {"_names": {n: i for i, n in enumerate(names)}, "__slots__": ()})


class _NoRows:
    """The cursor of a statement with no PostgreSQL counterpart (a ``PRAGMA``)."""

    rowcount = -1
    description = None

    def fetchone(self) -> Any:
        return None

    def fetchall(self) -> list[Any]:
        return []

    def fetchmany(self, size: int = 1) -> list[Any]:
        return []

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def close(self) -> None:
        pass


def _raise_as_sqlite(exc: psycopg.Error) -> NoReturn:
    kind: type[sqlite3.Error] = sqlite3.DatabaseError
    for pg_kind, sqlite_kind in _ERRORS:
        if isinstance(exc, pg_kind):
            kind = sqlite_kind
            break
    error = kind(str(exc).strip())
    error.sqlstate = exc.sqlstate  # type: ignore[attr-defined]
    raise error from exc


class PostgresConnection:
    """One psycopg connection behind :mod:`sqlite3`'s interface (see the module doc)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._raw = self._open()
        self._rows: Callable[..., Any] = _named_rows
        # Kept here, not read from libpq's status: that says ACTIVE while another thread's
        # statement runs on this connection, which is no transaction of ours.
        self._in_transaction = False

    def _open(self) -> psycopg.Connection[Any]:
        try:
            # autocommit: transactions are begun here, as sqlite3 begins them (see module doc)
            return psycopg.connect(self.url, autocommit=True)
        except psycopg.Error as exc:
            raise sqlite3.OperationalError(
                f"cannot connect to {mask_password(self.url)}: {str(exc).strip()}"
            ) from exc

    def _reopen_if_lost(self) -> bool:
        """A connection the server dropped (a restart, an idle timeout) is opened again, but
        only between transactions: one lost mid-way is the caller's error (its writes are
        gone). SQLite has no such failure: long-lived connections (a FrameIndex's) rely on
        this."""
        if not self._raw.broken or self._in_transaction:
            return False
        self._raw = self._open()
        return True

    @property
    def row_factory(self) -> Any:
        return None if self._rows is tuple_row else Row

    @row_factory.setter
    def row_factory(self, value: Any) -> None:
        self._rows = tuple_row if value is None else _named_rows

    @property
    def in_transaction(self) -> bool:
        return self._in_transaction

    def begin(self, *, exclusive: bool) -> None:
        """``BEGIN``; with ``exclusive``, also wait for the writers' lock (held until the end
        of the transaction), as SQLite's ``BEGIN IMMEDIATE`` waits for its write lock."""
        self._run("BEGIN")
        self._in_transaction = True
        if exclusive:
            self._run("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Any:
        statements = to_postgres(sql)
        if not statements:
            return _NoRows()
        if statements == ("BEGIN",):
            self.begin(exclusive="IMMEDIATE" in sql.upper() or "EXCLUSIVE" in sql.upper())
            return _NoRows()
        self._implicit_begin(statements[0])
        cursor: Any = None
        for statement in statements:
            cursor = self._run(statement, parameters)
        return cursor

    def executemany(self, sql: str, seq_of_parameters: Iterable[Sequence[Any]], /) -> Any:
        statements = to_postgres(sql)
        if len(statements) != 1:
            raise sqlite3.ProgrammingError(f"executemany needs one statement: {sql[:60]!r}")
        rows = list(seq_of_parameters)
        self._implicit_begin(statements[0])
        cursor = self._raw.cursor(row_factory=self._rows)
        if rows:
            try:
                cursor.executemany(statements[0], rows)
            except psycopg.Error as exc:
                _raise_as_sqlite(exc)
        return cursor

    def copy_insert(
        self,
        table: str,
        columns: Sequence[str],
        rows: Iterable[Sequence[Any]],
        constants: Mapping[str, Any],
        skip_conflicts: Sequence[str],
    ) -> int:
        """:func:`pylapse.db.bulk_insert` on PostgreSQL: ``COPY`` into a temporary table of
        ``table``'s column types, then one ``INSERT ... SELECT`` (the constants, the conflicts
        skipped); without either, ``COPY`` straight into ``table``."""
        self._implicit_begin("INSERT")
        names = ", ".join(columns)
        try:
            with self._raw.cursor() as cursor:
                if not constants and not skip_conflicts:
                    return self._copy(cursor, f"{table} ({names})", rows)
                staging = f"pylapse_bulk_{table}"
                cursor.execute(
                    f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} AS "
                    f"SELECT {names} FROM {table} WHERE false"
                )
                self._copy(cursor, staging, rows)
                fixed = ", ".join(f"%({k})s" for k in constants)
                conflict = (
                    f" ON CONFLICT ({', '.join(skip_conflicts)}) DO NOTHING"
                    if skip_conflicts
                    else ""
                )
                cursor.execute(
                    f"INSERT INTO {table} ({', '.join((*constants, *columns))}) "
                    f"SELECT {fixed}{', ' if fixed else ''}{names} FROM {staging}{conflict}",
                    dict(constants),
                )
                inserted = cursor.rowcount
                # TRUNCATE, not DELETE: a temporary table is never vacuumed, and deleted rows
                # left in it made each later INSERT ... SELECT read them all again (a cold
                # scan of 1 M frames, one COPY a folder: 27 s, O(n^2))
                cursor.execute(f"TRUNCATE {staging}")
                return inserted
        except psycopg.Error as exc:
            _raise_as_sqlite(exc)

    @staticmethod
    def _copy(cursor: psycopg.Cursor[Any], target: str, rows: Iterable[Sequence[Any]]) -> int:
        count = 0
        with cursor.copy(f"COPY {target} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count

    def _implicit_begin(self, statement: str) -> None:
        if statement.lstrip()[:7].upper().startswith(_DML) and not self._in_transaction:
            self.begin(exclusive=False)

    def _run(self, statement: str, parameters: Sequence[Any] = ()) -> Any:
        self._reopen_if_lost()
        cursor = self._raw.cursor(row_factory=self._rows)
        try:
            # parameters always passed (maybe empty) so that psycopg reads %% as %
            cursor.execute(statement, parameters)
        except psycopg.Error as exc:
            # Outside a transaction a statement is a read or a BEGIN: safe to run again once
            # on a new connection when this one turned out to be lost.
            if not self._reopen_if_lost():
                _raise_as_sqlite(exc)
            cursor = self._raw.cursor(row_factory=self._rows)
            try:
                cursor.execute(statement, parameters)
            except psycopg.Error as again:
                _raise_as_sqlite(again)
        return cursor

    def commit(self) -> None:
        if self._in_transaction:
            try:  # still in it while COMMIT runs: a lost connection is an error, not retried
                self._run("COMMIT")
            finally:
                self._in_transaction = False

    def rollback(self) -> None:
        if self._in_transaction:
            try:
                if not self._raw.broken:  # a lost connection took its transaction with it
                    self._run("ROLLBACK")
            finally:
                self._in_transaction = False

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> PostgresConnection:
        return self

    def __exit__(self, kind: object, exc: object, traceback: object) -> None:
        if kind is None:
            self.commit()
        else:
            self.rollback()
