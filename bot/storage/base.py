"""What every database backend offers: the repositories only use this (and `Connection`).

Backends: bot.storage.database.SQLiteDatabase (the default) and
bot.storage.postgres.PostgresDatabase; `bot.storage.database.open_database` picks one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from bot.storage.dialect import Connection, Dialect, Row

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
