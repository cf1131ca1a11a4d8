"""The PostgreSQL backend (optional extra: `pip install '.[postgres]'`), for several replicas.

Every replica keeps a small pool of connections. Writes are transactions at READ COMMITTED;
what must not run twice at once across replicas (migrations, the needs refresh, periodic jobs)
holds a PostgreSQL advisory lock, and follow-ups are claimed with `FOR UPDATE SKIP LOCKED`.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from bot.storage.base import Database, Work
from bot.storage.dialect import POSTGRESQL, Row, lock_key, redact_url
from bot.storage.records import StorageError
from bot.storage.schema import MIGRATIONS

try:
    import asyncpg
except ImportError as missing:  # the default install has SQLite only
    raise StorageError(
        "a postgresql:// database needs the PostgreSQL driver: pip install '.[postgres]'"
    ) from missing

log = logging.getLogger(__name__)

T = TypeVar("T")

# Connections per replica: a webhook replica handles a few updates at once (python-telegram-bot
# runs 256 concurrent updates at most, but each holds a connection only for one statement);
# 10 kept the 4-writer benchmark from waiting on the pool (benchmarks/storage.py).
POOL_MAX = 10
# A transaction that lost a serialization race or a deadlock is tried again, this many times.
WRITE_ATTEMPTS = 3
# How long opening waits for the server, in seconds.
CONNECT_TIMEOUT = 10.0

_RETRYABLE = (asyncpg.SerializationError, asyncpg.DeadlockDetectedError)
_CHANGED = re.compile(r"(\d+)\s*$")


def cause(error: BaseException) -> str:
    """The driver's error in words an operator can act on."""
    if isinstance(
        error, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError
    ):
        return "the PostgreSQL server refused the user name or password"
    if isinstance(error, asyncpg.InvalidCatalogNameError):
        return "that PostgreSQL database does not exist (create it first)"
    if isinstance(error, asyncpg.DiskFullError):
        return "the PostgreSQL server's disk is full"
    if isinstance(error, asyncpg.ReadOnlySQLTransactionError):
        return "the PostgreSQL server is read-only (a standby?)"
    if isinstance(error, OSError | asyncio.TimeoutError | asyncpg.ConnectionDoesNotExistError):
        return "cannot reach the PostgreSQL server"
    return str(error)


class _PgConnection:
    """The `Connection` protocol over one asyncpg connection (inside a transaction)."""

    dialect = POSTGRESQL

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        status = await self._connection.execute(POSTGRESQL.sql(sql), *params)
        found = _CHANGED.search(str(status))
        return int(found.group(1)) if found else 0

    async def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        return int(
            await self._connection.fetchval(POSTGRESQL.returning_id(POSTGRESQL.sql(sql)), *params)
        )

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self._connection.executemany(POSTGRESQL.sql(sql), rows)

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(await self._connection.fetch(POSTGRESQL.sql(sql), *params))

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row: Row | None = await self._connection.fetchrow(POSTGRESQL.sql(sql), *params)
        return row


class PostgresDatabase(Database):
    """A pool of connections to one PostgreSQL database, shared by every replica."""

    dialect = POSTGRESQL

    def __init__(self, pool: asyncpg.Pool, url: str, spool_dir: Path) -> None:
        self._pool = pool
        self.url = url
        # Each replica spools to its own local file while the server cannot be reached.
        self.spool_path = spool_dir / f"postgresql-{lock_key(url) & 0xFFFFFFFF:08x}.spool.jsonl"

    @classmethod
    async def connect(cls, url: str, spool_dir: Path) -> PostgresDatabase:
        """Connect and migrate (one replica at a time migrates; the others wait for it)."""
        where = redact_url(url)
        try:
            pool = await asyncpg.create_pool(
                url, min_size=1, max_size=POOL_MAX, timeout=CONNECT_TIMEOUT
            )
        except (asyncpg.PostgresError, OSError, TimeoutError) as exc:
            raise StorageError(f"cannot open the database {where}: {cause(exc)}") from exc
        database = cls(pool, url, spool_dir)
        try:
            await database._migrate()
        except (asyncpg.PostgresError, OSError) as exc:
            await pool.close()
            raise StorageError(f"cannot use the database {where}: {cause(exc)}") from exc
        except BaseException:
            await pool.close()
            raise
        return database

    @property
    def location(self) -> str:
        """The URL without its password."""
        return redact_url(self.url)

    async def close(self) -> None:
        """Close every pooled connection."""
        await self._pool.close()

    async def schema_version(self) -> int:
        """The number of migrations applied."""
        row = await self.fetch_one("SELECT COALESCE(MAX(version), 0) FROM schema_version")
        return int(row[0]) if row else 0

    async def _migrate(self) -> None:
        key = lock_key("welcome-bot:migrate")
        async with self._pool.acquire() as connection:
            # Under the lock too: two concurrent CREATE TABLE IF NOT EXISTS can both try to
            # create it, and the loser fails on PostgreSQL's catalogue (seen with 3 replicas).
            async with connection.transaction():
                await connection.execute("SELECT pg_advisory_xact_lock($1)", key)
                await connection.execute(
                    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY)"
                )
            for number, script in enumerate(MIGRATIONS, start=1):
                # One transaction per migration, holding a lock so that replicas starting
                # together migrate once: the others wait, then find the version bumped.
                async with connection.transaction():
                    await connection.execute("SELECT pg_advisory_xact_lock($1)", key)
                    done = await connection.fetchval(
                        "SELECT COALESCE(MAX(version), 0) FROM schema_version"
                    )
                    if number <= done:
                        continue
                    await connection.execute(POSTGRESQL.schema(script))
                    await connection.execute("INSERT INTO schema_version VALUES ($1)", number)
                log.info("database migrated to version %d", number)

    # -- reading ---------------------------------------------------------------------------

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Every row of a query."""
        try:
            return list(await self._pool.fetch(POSTGRESQL.sql(sql), *params))
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
            raise StorageError(cause(exc)) from exc

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """The first row of a query, or None."""
        try:
            row: Row | None = await self._pool.fetchrow(POSTGRESQL.sql(sql), *params)
            return row
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
            raise StorageError(cause(exc)) from exc

    # -- writing ---------------------------------------------------------------------------

    async def transaction(self, work: Work[T], *, retry: bool = True) -> T:
        """Run `work` in one committed transaction; again after a serialization race."""
        attempts = WRITE_ATTEMPTS if retry else 1
        for attempt in range(1, attempts + 1):
            try:
                async with self._pool.acquire() as connection, connection.transaction():
                    return await work(_PgConnection(connection))
            except _RETRYABLE as exc:
                if attempt == attempts:
                    raise StorageError(cause(exc)) from exc
                await asyncio.sleep(0.05 * attempt)
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
                raise StorageError(cause(exc)) from exc
        raise AssertionError("unreachable: the loop returns or raises")

    @asynccontextmanager
    async def exclusive(self, name: str, *, wait: bool = True) -> AsyncIterator[bool]:
        """An advisory lock held on one pooled connection; a crashed holder releases it."""
        key = lock_key(f"welcome-bot:{name}")
        async with self._pool.acquire() as connection:
            if wait:
                await connection.execute("SELECT pg_advisory_lock($1)", key)
            elif not await connection.fetchval("SELECT pg_try_advisory_lock($1)", key):
                yield False
                return
            try:
                yield True
            finally:
                await connection.execute("SELECT pg_advisory_unlock($1)", key)
