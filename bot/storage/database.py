"""The database: opening, migrating, and the one way to write, on SQLite or PostgreSQL.

`open_database(target)` picks the backend: a `postgresql://` URL opens PostgreSQL (the
optional `postgres` extra), anything else is a SQLite file. Every write goes through
`transaction(work)`, which gives `work` a `Connection` (bot.storage.dialect), commits, retries
the whole transaction while another writer holds the database, and turns the driver's errors
into a `StorageError` that names the cause in plain words.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.storage.base import Database, Work
from bot.storage.dialect import SQLITE, Connection, Row, is_url
from bot.storage.records import StorageError
from bot.storage.schema import MIGRATIONS

log = logging.getLogger(__name__)

# How long a write waits for another process (the bot, a staff command) to release the file.
BUSY_TIMEOUT_MS = 5000
# Then the whole transaction is tried again, this many times in all, 50 ms apart and longer.
WRITE_ATTEMPTS = 3
# Files holding personal data (the database, its WAL, the spool) are readable by the owner only.
OWNER_ONLY = 0o600

T = TypeVar("T")

__all__ = ["Connection", "Database", "Row", "SQLiteDatabase", "cause", "open_database"]


async def open_database(target: str | Path, spool_dir: Path | None = None) -> Database:
    """Open (creating if needed) and migrate: a PostgreSQL URL or a SQLite file path."""
    if is_url(target):
        from bot.storage.postgres import PostgresDatabase  # noqa: PLC0415 - optional extra

        return await PostgresDatabase.connect(str(target), spool_dir or Path("data"))
    return await SQLiteDatabase.open(Path(target))


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


def owner_only_file(path: Path) -> None:
    """Create `path` (if missing) readable and writable by its owner only.

    SQLite gives the -wal and -shm files the main file's permissions, so creating the database
    this way keeps all three private whatever the process umask is.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY)
    except FileExistsError:
        return
    os.close(fd)


def _inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except OSError:
        return None


def _retryable(error: sqlite3.Error) -> bool:
    text = str(error).lower()
    return "locked" in text or "busy" in text


class _SQLiteConnection:
    """The `Connection` protocol over one aiosqlite connection."""

    dialect = SQLITE

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cursor = await self._connection.execute(sql, params)
        return int(cursor.rowcount)

    async def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        cursor = await self._connection.execute(sql, params)
        return int(cursor.lastrowid or 0)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self._connection.executemany(sql, rows)

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        async with self._connection.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        async with self._connection.execute(sql, params) as cursor:
            row: Row | None = await cursor.fetchone()
            return row


class SQLiteDatabase(Database):
    """One open SQLite connection: the default, for one bot process on one machine.

    Create with `await SQLiteDatabase.open(path)` (or `open_database`).
    """

    dialect = SQLITE

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._connection = connection
        self._wrapped = _SQLiteConnection(connection)
        self.path = path
        self.spool_path = path.with_name(path.name + ".spool.jsonl")
        self._write_lock = asyncio.Lock()
        self._named_locks: dict[str, asyncio.Lock] = {}
        self._inode = _inode(path)
        self._direct: sqlite3.Connection | None = None

    @classmethod
    async def open(
        cls, path: str | Path, spool_dir: Path | None = None, *, check: bool = True
    ) -> SQLiteDatabase:
        """Open (creating if needed, owner-only) and migrate the database file.

        With `check` (the default), a damaged or read-only database is refused here, with
        one clear StorageError, instead of failing on every update later.
        """
        db_path = Path(path)
        try:
            owner_only_file(db_path)
        except OSError as exc:
            raise StorageError(f"cannot create the database {db_path}: {exc.strerror}") from exc
        connection = await cls._connect(db_path)
        database = cls(connection, db_path)
        try:
            if check:
                await database._quick_check()
            await database._migrate()
            if check:
                await database._write_check()
        except sqlite3.DatabaseError as exc:
            await connection.close()
            raise StorageError(f"cannot use the database {db_path}: {cause(exc)}") from exc
        except StorageError:
            await connection.close()
            raise
        return database

    @staticmethod
    async def _connect(db_path: Path) -> aiosqlite.Connection:
        try:
            connection = await aiosqlite.connect(db_path, timeout=BUSY_TIMEOUT_MS / 1000)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the database {db_path}: {cause(exc)}") from exc
        connection.row_factory = aiosqlite.Row
        try:
            await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await connection.execute("PRAGMA journal_mode = WAL")
            # WAL with NORMAL: a commit survives the bot being killed (kill -9, a crash); only
            # a power cut can lose the last commits, and never corrupts the file. FULL would
            # sync the disk on each of the inbox's two commits per update.
            await connection.execute("PRAGMA synchronous = NORMAL")
            await connection.execute("PRAGMA foreign_keys = ON")
        except sqlite3.DatabaseError as exc:
            await connection.close()
            raise StorageError(f"cannot use the database {db_path}: {cause(exc)}") from exc
        return connection

    async def _quick_check(self) -> None:
        rows = await self.fetch_all("PRAGMA quick_check")
        problems = [str(r[0]) for r in rows if str(r[0]) != "ok"]
        if problems:
            raise StorageError(
                f"the database {self.path} is damaged ({problems[0]}): restore it from a backup"
            )

    async def _write_check(self) -> None:
        """Write the header once: a read-only file or folder, or a full disk, shows here."""
        version = await self.schema_version()
        try:
            await self._connection.execute("BEGIN IMMEDIATE")
            await self._connection.execute(f"PRAGMA user_version = {version}")
            await self._connection.commit()
        except sqlite3.Error as exc:
            await self._rollback()
            raise StorageError(f"cannot write to the database {self.path}: {cause(exc)}") from exc

    async def _reopen_if_replaced(self) -> None:
        """Notice a database deleted or replaced while running, and start a fresh one there.

        Without this, SQLite keeps writing to the deleted file and everything is lost at exit.
        """
        if _inode(self.path) == self._inode:
            return
        log.error(
            "the database %s was deleted or replaced while the bot was running: reopening it;"
            " what was written before is only in a backup",
            self.path,
        )
        old = self._connection
        self._close_direct()
        owner_only_file(self.path)
        connection = await self._connect(self.path)
        self._connection = connection
        self._wrapped = _SQLiteConnection(connection)
        self._inode = _inode(self.path)
        try:
            await self._migrate()
        finally:
            await old.close()

    @property
    def location(self) -> str:
        """The database file."""
        return str(self.path)

    async def close(self) -> None:
        """Close the connection (WAL content is checkpointed by SQLite)."""
        self._close_direct()
        await self._connection.close()

    def _close_direct(self) -> None:
        if self._direct is not None:
            self._direct.close()
            self._direct = None

    def write_now(self, sql: str, params: Sequence[Any] = ()) -> bool:
        """One statement committed at once, from the calling thread, never waiting for a lock.

        For tiny writes whose delay matters (marking an update done: until it is committed,
        a crash means the update is answered again). Takes well under a millisecond; False
        when the file is busy or the write fails, and the caller then uses `write`.
        """
        try:
            if self._direct is None:
                # Autocommit, and no busy wait: waiting here would block the event loop.
                self._direct = sqlite3.connect(self.path, timeout=0, isolation_level=None)
            self._direct.execute(sql, params)
        except sqlite3.Error:
            self._close_direct()
            return False
        return True

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
                f"BEGIN;\n{SQLITE.schema(script)}\nPRAGMA user_version = {number};\nCOMMIT;"
            )
            log.info("database migrated to version %d", number)

    # -- reading ---------------------------------------------------------------------------

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Every row of a query."""
        try:
            return await self._wrapped.fetch_all(sql, params)
        except sqlite3.Error as exc:
            raise StorageError(cause(exc)) from exc

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """The first row of a query, or None."""
        try:
            return await self._wrapped.fetch_one(sql, params)
        except sqlite3.Error as exc:
            raise StorageError(cause(exc)) from exc

    # -- writing ---------------------------------------------------------------------------

    async def transaction(self, work: Work[T], *, retry: bool = True) -> T:
        """Run `work` in one committed transaction, retrying it whole while the file is locked."""
        attempts = WRITE_ATTEMPTS if retry else 1
        async with self._write_lock:
            try:
                await self._reopen_if_replaced()
            except (sqlite3.Error, OSError) as exc:
                raise StorageError(f"cannot reopen the database: {exc}") from exc
            for attempt in range(1, attempts + 1):
                try:
                    result = await work(self._wrapped)
                    await self._connection.commit()
                    return result
                except sqlite3.Error as exc:
                    await self._rollback()
                    if not _retryable(exc) or attempt == attempts:
                        raise StorageError(cause(exc)) from exc
                    await asyncio.sleep(0.05 * attempt)
                except BaseException:
                    await self._rollback()
                    raise
        raise AssertionError("unreachable: the loop returns or raises")

    async def _rollback(self) -> None:
        try:
            await self._connection.rollback()
        except sqlite3.Error:
            log.debug("rollback failed after a failed write", exc_info=True)

    @asynccontextmanager
    async def exclusive(self, name: str, *, wait: bool = True) -> AsyncIterator[bool]:
        """One holder at a time across processes using this file (the bot, a staff command).

        An asyncio lock orders this process's tasks; a `flock` on a file beside the database
        orders processes (the operating system drops it if a holder dies).
        """
        lock = self._named_locks.setdefault(name, asyncio.Lock())
        if not wait and lock.locked():
            yield False
            return
        async with lock:
            lock_path = self.path.with_name(f"{self.path.name}.{name}.lock")
            with lock_path.open("a") as handle:
                if not await _flock(handle.fileno(), wait):
                    yield False
                    return
                try:
                    yield True
                finally:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


async def _flock(descriptor: int, wait: bool) -> bool:
    """Take an exclusive lock on an open file; False at once when held and not waiting."""
    if not wait:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
    # Blocking would stop the event loop, so wait in a thread.
    await asyncio.to_thread(fcntl.flock, descriptor, fcntl.LOCK_EX)
    return True
