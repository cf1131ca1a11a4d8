"""What every database backend offers: the repositories only use this (and `Connection`).

Backends: bot.storage.database.SQLiteDatabase (the default) and
bot.storage.postgres.PostgresDatabase; `bot.storage.database.open_database` picks one.
"""

from __future__ import annotations

import json
import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from bot.storage.dialect import Connection, Dialect, Row
from bot.storage.records import StorageError

log = logging.getLogger(__name__)
# The spool holds personal data (question text): readable by its owner only.
SPOOL_MODE = 0o600

T = TypeVar("T")
Work = Callable[[Connection], Awaitable[T]]


class Database(ABC):
    """An open database on either backend. Create with `await open_database(target)`."""

    dialect: Dialect
    # Where questions wait while the database cannot be written, until the next start.
    spool_path: Path

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the data is, safe to log (a file path, or a URL without its password)."""

    @abstractmethod
    async def close(self) -> None:
        """Close the connection(s); every transaction was already committed."""

    @abstractmethod
    async def schema_version(self) -> int:
        """The number of migrations applied."""

    @abstractmethod
    async def transaction(self, work: Work[T], *, retry: bool = True) -> T:
        """Run `work` in one committed transaction.

        With `retry`, the whole of `work` runs again while another writer holds the database,
        so it must only execute SQL on the connection it gets. A transaction that does
        something outside the database (sends a message) passes `retry=False`.
        """

    @abstractmethod
    def exclusive(self, name: str, *, wait: bool = True) -> Any:
        """`async with db.exclusive(name) as held:` one holder at a time across every process
        using this database (PostgreSQL) or in this process (SQLite, which has one bot
        process). With `wait=False`, `held` is False at once when someone else holds it."""

    @abstractmethod
    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Every row of a query."""

    @abstractmethod
    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """The first row of a query, or None."""

    async def write(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One statement in its own transaction: the number of rows changed."""

        async def run(connection: Connection) -> int:
            return await connection.execute(sql, params)

        return await self.transaction(run)

    async def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One INSERT in its own transaction: the new row's id."""

        async def run(connection: Connection) -> int:
            return await connection.insert(sql, params)

        return await self.transaction(run)

    async def write_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """One statement for many rows, in one transaction."""
        batch = list(rows)

        async def run(connection: Connection) -> None:
            await connection.executemany(sql, batch)

        if batch:
            await self.transaction(run)

    def write_now(self, sql: str, params: Sequence[Any] = ()) -> bool:
        """Commit one tiny statement at once without waiting; False when the backend cannot
        (the caller then uses `write`). Only SQLite can."""
        return False

    # -- the spool: writes kept while the database cannot be written ------------------------

    def spool(self, sql: str, params: Sequence[Any]) -> None:
        """Keep one write (a statement and its values) in the spool file, owner-only."""
        line = json.dumps({"sql": sql, "params": list(params)}, ensure_ascii=False) + "\n"
        try:
            self.spool_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.spool_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, SPOOL_MODE)
            with os.fdopen(fd, "a", encoding="utf-8") as handle:
                handle.write(line)
        except OSError as exc:
            log.error("could not spool a write either (%s): it is lost", exc.strerror)

    async def write_or_spool(self, sql: str, params: Sequence[Any] = ()) -> int | None:
        """Write (rows changed), or spool the write when the database stays unwritable (None).

        For records that must never cost a newcomer their reply (questions, votes, settings,
        contacts given out): the reply goes out and the record follows when the disk is back.
        """
        try:
            return await self.write(sql, params)
        except StorageError as exc:
            log.warning("%s: the write is kept in %s and will be replayed", exc, self.spool_path)
            self.spool(sql, params)
            return None

    async def replay_spool(
        self, legacy: Callable[[dict[str, Any]], tuple[str, Sequence[Any]]]
    ) -> int:
        """Replay spooled writes; those that fail again go back to the spool. Returns replayed.

        The file is renamed first, so writes spooled while replaying are never lost.
        `legacy` turns a line of the old question-only format into a statement.
        """
        if not self.spool_path.exists():
            return 0
        replaying = self.spool_path.with_name(self.spool_path.name + ".replaying")
        if not replaying.exists():
            self.spool_path.rename(replaying)
        replayed = 0
        for line in replaying.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a crash: nothing more can be recovered from it
            sql, params = (record["sql"], record["params"]) if "sql" in record else legacy(record)
            if await self.write_or_spool(sql, params) is not None:
                replayed += 1
        replaying.unlink()
        if replayed:
            log.info("replayed %d spooled write(s)", replayed)
        return replayed
