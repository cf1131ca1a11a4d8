"""What differs between SQLite and PostgreSQL, in one small place.

Repositories write one SQL text for both backends: `?` placeholders, `ON CONFLICT ... DO UPDATE`
for upserts, `CASE WHEN` instead of summing booleans, timestamps as ISO text. What cannot be
written once lives here: placeholder style, getting a new row's id, row locks that skip rows
another replica holds, and the column types of the schema.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol, overload


class Row(Protocol):
    """A result row: by position or by column name (sqlite3.Row and asyncpg.Record both are)."""

    @overload
    def __getitem__(self, key: int | str) -> Any: ...
    @overload
    def __getitem__(self, key: slice) -> Any: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Any]: ...
    def keys(self) -> Any:
        """The column names."""


class Connection(Protocol):
    """The connection a `transaction(work)` callback gets; both backends provide it.

    SQL uses `?` placeholders whatever the backend.
    """

    @property
    def dialect(self) -> Dialect: ...

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; the number of rows it changed."""

    async def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one INSERT into a table with an `id` column; the new row's id."""

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each row of parameters."""

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Every row of a query."""

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """The first row of a query, or None."""


@dataclass(frozen=True)
class Dialect:
    """One backend's spelling of the few things that differ."""

    name: str  # "sqlite" or "postgresql"

    def sql(self, text: str) -> str:
        """Placeholders in the backend's style (`?` stays `?` on SQLite, becomes `$n`)."""
        return text if self.name == "sqlite" else _numbered(text)

    def returning_id(self, insert: str) -> str:
        """An INSERT that gives back the new row's id (SQLite reads it from the cursor)."""
        return insert if self.name == "sqlite" else insert + " RETURNING id"

    def skip_locked(self, table_alias: str) -> str:
        """A SELECT suffix: lock the rows read, skipping rows another replica has locked.

        SQLite has one writer at a time and no row locks, so nothing is added there.
        """
        return "" if self.name == "sqlite" else f" FOR UPDATE OF {table_alias} SKIP LOCKED"

    def reset_id_sequence(self, table: str) -> str | None:
        """After rows were copied in with their ids, the query that makes new ids follow them
        (for a table with an `id` column).

        SQLite numbers from the largest id already; a PostgreSQL BIGSERIAL has a sequence
        that must be moved past the copied ids.
        """
        if self.name == "sqlite":
            return None
        return f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), MAX(id)) FROM {table}"

    def schema(self, script: str) -> str:
        """A migration written for SQLite, in this backend's column types."""
        if self.name == "sqlite":
            return script
        # SQLite's `INTEGER PRIMARY KEY` is an auto-numbered row id; in PostgreSQL that is
        # a BIGSERIAL. Other integers become BIGINT so keys and references have one type,
        # and REAL (4 bytes in PostgreSQL) becomes DOUBLE PRECISION like SQLite's 8 bytes.
        script = re.sub(r"\bid(\s+)INTEGER PRIMARY KEY\b", r"id\1BIGSERIAL PRIMARY KEY", script)
        script = re.sub(r"\bINTEGER\b", "BIGINT", script)
        script = re.sub(r"\bBLOB\b", "BYTEA", script)
        return re.sub(r"\bREAL\b", "DOUBLE PRECISION", script)


SQLITE = Dialect("sqlite")
POSTGRESQL = Dialect("postgresql")


@lru_cache(maxsize=512)
def _numbered(text: str) -> str:
    """`?` placeholders as `$1, $2, ...`, leaving quoted text and identifiers alone."""
    out: list[str] = []
    number = 0
    quote: str | None = None
    for char in text:
        if quote is not None:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "?":
            number += 1
            out.append(f"${number}")
            continue
        out.append(char)
    return "".join(out)


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for a PostgreSQL advisory lock named in words."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def is_url(target: object) -> bool:
    """Whether a database setting names a PostgreSQL server rather than a SQLite file."""
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def redact_url(url: str) -> str:
    """A database URL safe to log: the password, if any, hidden."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", url)
