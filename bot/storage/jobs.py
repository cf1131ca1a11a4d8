"""Periodic jobs shared by replicas: each run is claimed, so a job runs once per period."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.storage.database import Database
from bot.storage.records import iso, utc_now


class JobRuns:
    """When each periodic job last ran (retention purge, follow-up delivery...)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim(self, name: str, every: timedelta, now: datetime | None = None) -> bool:
        """True for exactly one caller per period, whichever replica asks first.

        One conditional upsert, atomic on both backends: the row is written only when the
        job never ran or last ran at least `every` ago, and the caller that wrote it runs.
        """
        moment = now or utc_now()
        changed = await self._db.write(
            "INSERT INTO job_runs (name, last_run) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET last_run = excluded.last_run"
            " WHERE job_runs.last_run <= ?",
            (name, iso(moment), iso(moment - every)),
        )
        return changed > 0

    async def last_run(self, name: str) -> str | None:
        """When a job last ran (stored text), if ever."""
        row = await self._db.fetch_one("SELECT last_run FROM job_runs WHERE name = ?", (name,))
        return str(row[0]) if row else None
