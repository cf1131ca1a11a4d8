"""Copy every table from one database to another (SQLite to PostgreSQL), then verify counts."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.storage.database import Connection, Database
from bot.storage.records import StorageError
from bot.storage.schema import MIGRATIONS

# Rows read and written per round trip: 5,000 kept the copy of 100,000 questions under a few
# seconds without holding them all in memory at once (benchmarks/storage.py sizes).
PAGE = 5000


def tables() -> list[str]:
    """Every table in the order the migrations create them, so references come after targets."""
    found: list[str] = []
    for script in MIGRATIONS:
        for name in re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)", script):
            if name not in found:
                found.append(name)
    return found


@dataclass(frozen=True)
class Copied:
    """One table's rows in the source and, after the copy, in the target."""

    table: str
    source: int
    target: int


async def _count(db: Database, table: str) -> int:
    row = await db.fetch_one(f"SELECT COUNT(*) FROM {table}")
    return int(row[0]) if row else 0


async def copy_database(
    source: Database, target: Database, progress: Callable[[str, int], None] | None = None
) -> list[Copied]:
    """Copy every row into an empty target in one transaction; raise unless counts match.

    Both databases are open, so both are migrated to the same schema version.
    """
    if await source.schema_version() != await target.schema_version():
        raise StorageError("the two databases have different schema versions")
    names = tables()
    for table in names:
        if await _count(target, table):
            raise StorageError(f"the target already has data (table {table}); nothing was copied")
    expected = {table: await _count(source, table) for table in names}

    async def work(connection: Connection) -> None:
        for table in names:
            copied = 0
            columns: list[str] = []
            while True:
                rows = await source.fetch_all(
                    f"SELECT * FROM {table} ORDER BY 1 LIMIT ? OFFSET ?", (PAGE, copied)
                )
                if not rows:
                    break
                columns = list(rows[0].keys())
                marks = ", ".join("?" for _ in columns)
                await connection.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                    [tuple(row) for row in rows],
                )
                copied += len(rows)
                if progress is not None:
                    progress(table, copied)
            reset = connection.dialect.reset_id_sequence(table)
            if reset and "id" in columns:
                await connection.fetch_one(reset)

    await target.transaction(work, retry=False)
    report = [Copied(t, expected[t], await _count(target, t)) for t in names]
    wrong = [c for c in report if c.source != c.target]
    if wrong:
        detail = ", ".join(f"{c.table}: {c.source} vs {c.target}" for c in wrong)
        raise StorageError(f"the copy does not match the source ({detail})")
    return report
