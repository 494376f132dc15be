"""The two databases behind Conduit: SQLite (a file, the default) and PostgreSQL (a server).

Both are used the same way, through `database.transaction(write=...)`, which yields a
`Transaction` with `fetch_one`, `fetch_all` and `execute`. SQL is written once, with `?`
placeholders; the PostgreSQL side turns them into psycopg's `%s`. Each backend maps its own
unique-constraint error to `UniqueViolation`, so the layer above never imports a driver.

- SQLite: one connection per thread (and per process, after a fork), in WAL mode; a write
  transaction starts with `BEGIN IMMEDIATE`, so two writers queue on the busy timeout instead of
  failing on a lock upgrade.
- PostgreSQL: one psycopg_pool `ConnectionPool` per process, created on the first transaction,
  which is after gunicorn forked its workers. A pool is never shared across a fork: a process
  that finds a pool made by its parent makes its own and leaves the parent's sockets alone.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Row = dict[str, Any]
Params = Sequence[object]


class UniqueViolation(Exception):
    """An insert or update broke a unique constraint; the text names the column or constraint."""


class DatabaseUnavailable(Exception):
    """The database cannot answer now (down, unreachable, no free connection, locked too long)."""


class Transaction(ABC):
    """One open transaction: committed when its block ends, rolled back if the block raises."""

    kind: str

    @abstractmethod
    def execute(self, sql: str, params: Params = ()) -> int:
        """Run a statement; return the number of rows it changed."""

    @abstractmethod
    def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        """Run a query; return its rows as dicts."""

    def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        """Run a query; return its first row, or None."""
        rows = self.fetch_all(sql, params)
        return rows[0] if rows else None

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Undo only this block's statements if it raises (the transaction goes on)."""
        self.execute("SAVEPOINT conduit_savepoint")
        try:
            yield
        except BaseException:
            self.execute("ROLLBACK TO SAVEPOINT conduit_savepoint")
            self.execute("RELEASE SAVEPOINT conduit_savepoint")
            raise
        self.execute("RELEASE SAVEPOINT conduit_savepoint")


class Database(ABC):
    """A database the app opens transactions on."""

    kind: str

    @abstractmethod
    def transaction(self, write: bool = False) -> Any:
        """Return a context manager that yields a `Transaction`."""

    def prepare(self) -> None:  # noqa: B027 - optional for a backend
        """Set up what must happen outside any transaction (SQLite's WAL mode)."""

    @abstractmethod
    def close(self) -> None:
        """Close this process's connections."""


# -- SQLite ----------------------------------------------------------------------------------------


_SQLITE_UNAVAILABLE = ("locked", "busy", "unable to open")


@contextmanager
def _sqlite_errors() -> Iterator[None]:
    try:
        yield
    except sqlite3.IntegrityError as exc:
        if "UNIQUE" in str(exc):
            raise UniqueViolation(str(exc)) from exc
        raise
    except sqlite3.OperationalError as exc:
        if any(word in str(exc) for word in _SQLITE_UNAVAILABLE):
            raise DatabaseUnavailable(f"SQLite: {exc}") from exc
        raise


class SQLiteTransaction(Transaction):
    kind = "sqlite"

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def execute(self, sql: str, params: Params = ()) -> int:
        with _sqlite_errors():
            return self.connection.execute(sql, tuple(params)).rowcount

    def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        with _sqlite_errors():
            cursor = self.connection.execute(sql, tuple(params))
            return [dict(row) for row in cursor.fetchall()]


class SQLiteDatabase(Database):
    """A SQLite file; the folder is created when missing."""

    kind = "sqlite"

    def __init__(self, path: str | Path, timeout: float = 10.0) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self._local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: this class issues BEGIN/COMMIT itself.
            connection = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA foreign_keys = ON")
            connection.execute("PRAGMA synchronous = NORMAL")  # safe in WAL mode
            local.connection, local.pid = connection, os.getpid()
        connection_: sqlite3.Connection = local.connection
        return connection_

    def prepare(self) -> None:
        # WAL lets readers go on while one worker writes; it cannot be set inside a transaction.
        with _sqlite_errors():
            self._connection().execute("PRAGMA journal_mode = WAL")

    @contextmanager
    def transaction(self, write: bool = False) -> Iterator[Transaction]:
        with _sqlite_errors():
            connection = self._connection()
            connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield SQLiteTransaction(connection)
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        with _sqlite_errors():
            connection.execute("COMMIT")

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None and self._local.pid == os.getpid():
            connection.close()
        self._local = threading.local()


# -- PostgreSQL ------------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\?")


def to_psycopg(sql: str) -> str:
    """Turn `?` placeholders into psycopg's `%s` (the SQL here has no `%` of its own)."""
    if "%" in sql:
        raise ValueError("SQL for both databases must not contain '%'")
    return _PLACEHOLDER.sub("%s", sql)


class PostgresTransaction(Transaction):
    kind = "postgresql"

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor

    def execute(self, sql: str, params: Params = ()) -> int:
        self._run(sql, params)
        rowcount: int = self.cursor.rowcount
        return rowcount

    def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        self._run(sql, params)
        rows: list[Row] = self.cursor.fetchall()
        return rows

    def _run(self, sql: str, params: Params) -> None:
        import psycopg.errors

        try:
            self.cursor.execute(to_psycopg(sql), tuple(params))
        except psycopg.errors.UniqueViolation as exc:
            name = exc.diag.constraint_name or ""
            raise UniqueViolation(f"{name}: {exc}") from exc


@dataclass
class _Pool:
    pid: int
    pool: Any


class PostgresDatabase(Database):
    """A PostgreSQL server at `url`, through one connection pool per process."""

    kind = "postgresql"

    def __init__(
        self, url: str, min_size: int = 1, max_size: int = 10, timeout: float = 10.0
    ) -> None:
        self.url = url
        self.min_size = min_size
        self.max_size = max_size
        self.timeout = timeout
        self._current: _Pool | None = None
        self._lock = threading.Lock()
        self._inherited: list[Any] = []  # pools of a parent process: kept, never closed here

    def _pool(self) -> Any:
        current = self._current
        if current is not None and current.pid == os.getpid():
            return current.pool
        with self._lock:
            current = self._current
            if current is not None and current.pid == os.getpid():
                return current.pool
            if current is not None:
                # Made before a fork: its sockets belong to the parent. Closing them here would
                # end the parent's sessions, so the object is only kept from being collected.
                self._inherited.append(current.pool)
            from psycopg.rows import dict_row
            from psycopg_pool import ConnectionPool

            pool = ConnectionPool(
                self.url,
                min_size=self.min_size,
                max_size=self.max_size,
                timeout=self.timeout,
                kwargs={"row_factory": dict_row},
                open=True,
                name=f"conduit-{os.getpid()}",
            )
            self._current = _Pool(os.getpid(), pool)
            return pool

    @contextmanager
    def transaction(self, write: bool = False) -> Iterator[Transaction]:
        import psycopg
        from psycopg_pool import PoolTimeout

        try:
            # The pool's block commits on success and rolls back on an exception.
            with self._pool().connection() as connection, connection.cursor() as cursor:
                yield PostgresTransaction(cursor)
        except (PoolTimeout, psycopg.OperationalError) as exc:
            raise DatabaseUnavailable(f"PostgreSQL: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            current, self._current = self._current, None
        if current is not None and current.pid == os.getpid():
            current.pool.close()


# -- choosing one ----------------------------------------------------------------------------------


def open_database(
    url: str | None,
    sqlite_path: str | Path,
    *,
    pool_min: int = 1,
    pool_max: int = 10,
    timeout: float = 10.0,
) -> Database:
    """Return PostgreSQL for a `postgresql://` URL, else SQLite (`sqlite:///path` or the file)."""
    if url:
        if url.startswith(("postgresql://", "postgres://")):
            return PostgresDatabase(url, pool_min, pool_max, timeout)
        if url.startswith("sqlite:///"):
            return SQLiteDatabase(url[len("sqlite:///") :] or sqlite_path, timeout)
        scheme = url.partition(":")[0]
        raise ValueError(
            f"DATABASE_URL scheme {scheme!r} is not supported: use postgresql://user:password@"
            "host:port/name, sqlite:///path/to/file.db, or leave it unset for SQLite"
        )
    return SQLiteDatabase(sqlite_path, timeout)
