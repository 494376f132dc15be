"""The database side every app shares: a psycopg 3 pool per worker process, the SQL of each test.

The apps differ in their web layer only; each calls the same functions here, so the database work
is identical for every framework. A pool is opened in the process that uses it, at worker start
(after the fork): `open()` refuses to hand a pool opened in another process to this one.

Settings come from the environment, set by the harness:
- `TE_DSN`: the libpq connection string of the hello_world database;
- `TE_POOL_SIZE`: connections per worker (default 4; as many as the worker's threads).
"""

from __future__ import annotations

import os
from operator import itemgetter
from random import randint
from typing import Any

from psycopg_pool import ConnectionPool

MAX_ID = 10_000
SELECT_WORLD = "SELECT id, randomNumber FROM World WHERE id = %s"
UPDATE_WORLD = "UPDATE World SET randomNumber = %s WHERE id = %s"
SELECT_FORTUNES = "SELECT id, message FROM Fortune"
SELECT_ALL_WORLDS = "SELECT id, randomNumber FROM World"
ADDITIONAL_FORTUNE = (0, "Additional fortune added at request time.")

World = dict[str, int]
_by_message = itemgetter(1)
_by_id = itemgetter(1)  # of an (randomNumber, id) update parameter pair


def bounded(queries: int) -> int:
    """Clamp a `queries` or `count` value to TechEmpower's 1..500."""
    return 1 if queries < 1 else min(queries, 500)


class Database:
    """One worker's pool and World cache."""

    def __init__(self, dsn: str | None = None, pool_size: int | None = None) -> None:
        self.dsn = dsn or os.environ.get("TE_DSN", "")
        self.pool_size = pool_size or int(os.environ.get("TE_POOL_SIZE", "4"))
        self._pool: ConnectionPool[Any] | None = None
        self._pid = 0
        self.cache: list[World] = []

    def open(self) -> None:
        """Open this process's pool and wait for its connections (call it at worker start)."""
        if self._pool is not None and self._pid == os.getpid():
            return
        if not self.dsn:
            raise RuntimeError("TE_DSN is not set: the harness passes the database's DSN")
        self._pool = ConnectionPool(
            self.dsn,
            min_size=self.pool_size,
            max_size=self.pool_size,
            kwargs={"autocommit": True},
            name=f"worker-{os.getpid()}",
            open=True,
        )
        self._pool.wait(timeout=30.0)
        self._pid = os.getpid()

    def close(self) -> None:
        if self._pool is not None and self._pid == os.getpid():
            self._pool.close()
        self._pool = None

    @property
    def pool(self) -> ConnectionPool[Any]:
        if self._pool is None or self._pid != os.getpid():
            raise RuntimeError("no pool opened in this process: call open() at worker start")
        return self._pool

    # -- the tests --------------------------------------------------------------------------

    def world(self) -> World:
        """Return one random World row (the db test)."""
        with self.pool.connection() as conn:
            row = conn.execute(SELECT_WORLD, (randint(1, MAX_ID),)).fetchone()
        assert row is not None
        return {"id": row[0], "randomNumber": row[1]}

    def worlds(self, count: int) -> list[World]:
        """Return `count` random World rows, one query each (the queries test)."""
        with self.pool.connection() as conn, conn.cursor() as cursor:
            worlds = []
            for _ in range(count):
                cursor.execute(SELECT_WORLD, (randint(1, MAX_ID),))
                row = cursor.fetchone()
                assert row is not None
                worlds.append({"id": row[0], "randomNumber": row[1]})
            return worlds

    def update_worlds(self, count: int) -> list[World]:
        """Read `count` random rows, give each a new random number, write them back."""
        with self.pool.connection() as conn, conn.cursor() as cursor:
            worlds = []
            for _ in range(count):
                cursor.execute(SELECT_WORLD, (randint(1, MAX_ID),))
                row = cursor.fetchone()
                assert row is not None
                worlds.append({"id": row[0], "randomNumber": randint(1, MAX_ID)})
            # One UPDATE per row, sent in one pipeline; in id order, so two requests that
            # touch the same rows take their locks in the same order.
            updates = sorted(((world["randomNumber"], world["id"]) for world in worlds), key=_by_id)
            cursor.executemany(UPDATE_WORLD, updates)
            return worlds

    def fortunes(self) -> list[tuple[int, str]]:
        """Return the Fortune rows plus one added now, sorted by message (code-point order)."""
        with self.pool.connection() as conn:
            rows: list[tuple[int, str]] = conn.execute(SELECT_FORTUNES).fetchall()
        rows.append(ADDITIONAL_FORTUNE)
        rows.sort(key=_by_message)
        return rows

    def load_cache(self) -> None:
        """Load every World row into this worker's cache (for cached-queries)."""
        cache: list[World] = [{"id": 0, "randomNumber": 0}] * (MAX_ID + 1)
        with self.pool.connection() as conn:
            for world_id, number in conn.execute(SELECT_ALL_WORLDS):
                cache[world_id] = {"id": world_id, "randomNumber": number}
        self.cache = cache

    def cached_worlds(self, count: int) -> list[World]:
        """Return `count` random World rows from the cache (the cached-queries test)."""
        cache = self.cache
        return [cache[randint(1, MAX_ID)] for _ in range(count)]
