"""The database connection: opening, migrating, and the one way to write.

Every write goes through `transaction()`, which serialises writers in this process, retries
while another process holds the file, and turns SQLite's errors into a `StorageError` that
names the cause in plain words.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.storage.records import StorageError
from bot.storage.schema import MIGRATIONS

log = logging.getLogger(__name__)

# How long a write waits for another process (the bot, a staff command) to release the file.
BUSY_TIMEOUT_MS = 5000
# Then the whole transaction is tried again, this many times in all, 50 ms apart and longer.
WRITE_ATTEMPTS = 3

T = TypeVar("T")
Row = aiosqlite.Row


def cause(error: sqlite3.Error) -> str:
    """SQLite's error in words an operator can act on."""
    text = str(error).lower()
    if "locked" in text or "busy" in text:
        return "the database is busy: another program is writing to it"
    if "readonly" in text or "read-only" in text:
        return "the database file is read-only"
    if "disk is full" in text or "database or disk is full" in text:
        return "the disk is full"
    if "malformed" in text or "not a database" in text:
        return "the database file is damaged"
    if "disk i/o" in text:
        return "the disk could not be read or written"
    return str(error)


def _retryable(error: sqlite3.Error) -> bool:
    text = str(error).lower()
    return "locked" in text or "busy" in text


class Database:
    """One open SQLite connection. Create with `await Database.open(path)`."""

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._connection = connection
        self.path = path
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | Path) -> Database:
        """Open (creating if needed) and migrate the database."""
        db_path = Path(path)
        db_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            connection = await aiosqlite.connect(db_path, timeout=BUSY_TIMEOUT_MS / 1000)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the database {db_path}: {cause(exc)}") from exc
        connection.row_factory = aiosqlite.Row
        database = cls(connection, db_path)
        try:
            await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await connection.execute("PRAGMA journal_mode = WAL")
            await connection.execute("PRAGMA foreign_keys = ON")
            await database._migrate()
        except sqlite3.DatabaseError as exc:
            await connection.close()
            raise StorageError(f"cannot use the database {db_path}: {cause(exc)}") from exc
        return database

    async def close(self) -> None:
        """Close the connection (WAL content is checkpointed by SQLite)."""
        await self._connection.close()

    async def schema_version(self) -> int:
        """The number of migrations applied."""
        row = await self.fetch_one("PRAGMA user_version")
        return int(row[0]) if row else 0

    async def _migrate(self) -> None:
        version = await self.schema_version()
        for number, script in enumerate(MIGRATIONS, start=1):
            if number <= version:
                continue
            # executescript commits first, so wrap the migration and its version bump in one
            # explicit transaction: a crash leaves the old schema, never half of the new one.
            await self._connection.executescript(
                f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
            )
            log.info("database migrated to version %d", number)

    # -- reading ---------------------------------------------------------------------------

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Every row of a query."""
        try:
            async with self._connection.execute(sql, params) as cursor:
                return list(await cursor.fetchall())
        except sqlite3.Error as exc:
            raise StorageError(cause(exc)) from exc

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """The first row of a query, or None."""
        try:
            async with self._connection.execute(sql, params) as cursor:
                return await cursor.fetchone()
        except sqlite3.Error as exc:
            raise StorageError(cause(exc)) from exc

    # -- writing ---------------------------------------------------------------------------

    async def transaction(self, work: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
        """Run `work` in one committed transaction, retrying it whole while the file is locked.

        `work` may run more than once, so it must only execute SQL on the connection it gets.
        """
        async with self._write_lock:
            for attempt in range(1, WRITE_ATTEMPTS + 1):
                try:
                    result = await work(self._connection)
                    await self._connection.commit()
                    return result
                except sqlite3.Error as exc:
                    await self._rollback()
                    if not _retryable(exc) or attempt == WRITE_ATTEMPTS:
                        raise StorageError(cause(exc)) from exc
                    await asyncio.sleep(0.05 * attempt)
        raise AssertionError("unreachable: the loop returns or raises")

    async def _rollback(self) -> None:
        try:
            await self._connection.rollback()
        except sqlite3.Error:
            log.debug("rollback failed after a failed write", exc_info=True)

    async def write(self, sql: str, params: Sequence[Any] = ()) -> tuple[int, int]:
        """One statement in its own transaction: (new row id, rows changed)."""

        async def run(connection: aiosqlite.Connection) -> tuple[int, int]:
            cursor = await connection.execute(sql, params)
            return int(cursor.lastrowid or 0), int(cursor.rowcount)

        return await self.transaction(run)

    async def write_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """One statement for many rows, in one transaction."""
        batch = list(rows)

        async def run(connection: aiosqlite.Connection) -> None:
            await connection.executemany(sql, batch)

        if batch:
            await self.transaction(run)
