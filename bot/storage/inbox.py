"""The inbox: every update fetched from Telegram, kept until it has been handled.

Telegram forgets an update once the bot asks for the next batch, so an update is written here
before that, and marked done once handled; a crash between the two leaves it pending, and the
next start handles it. The payload is sealed by the caller (it holds ids and names) and erased
once the update is done; only the update id stays, for a day or two, to recognise a batch
Telegram sends again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.storage.database import Connection, Database
from bot.storage.records import iso, utc_now


@dataclass(frozen=True)
class Pending:
    """An update received but not yet handled."""

    update_id: int
    payload: str
    attempts: int


class Inbox:
    """Received updates: pending until `done`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, update_id: int, payload: str) -> bool:
        """Keep an update; False when it was already here (pending or done)."""
        changed = await self._db.write(
            "INSERT INTO inbox (update_id, received_at, claimed_at, payload) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (update_id) DO NOTHING",
            (update_id, iso(utc_now()), iso(utc_now()), payload),
        )
        return changed > 0

    async def add_many(self, items: list[tuple[int, str]]) -> set[int]:
        """Keep a batch of updates in one transaction; returns the ids that were new."""
        if not items:
            return set()
        now = iso(utc_now())
        ids = [update_id for update_id, _ in items]

        async def run(connection: Connection) -> set[int]:
            # Three round trips for the whole batch, whatever its size.
            marks = ", ".join("?" * len(ids))
            rows = await connection.fetch_all(
                f"SELECT update_id FROM inbox WHERE update_id IN ({marks})", ids
            )
            known = {int(row[0]) for row in rows}
            await connection.executemany(
                "INSERT INTO inbox (update_id, received_at, claimed_at, payload)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (update_id) DO NOTHING",
                [(i, now, now, payload) for i, payload in items if i not in known],
            )
            return set(ids) - known

        return await self._db.transaction(run)

    async def done(self, update_id: int) -> None:
        """The update was handled: forget its content, keep its id.

        Committed at once when the file is free (see Database.write_now): the time between
        the reply being sent and this commit is when a crash makes an update answered twice.
        """
        sql = "UPDATE inbox SET done_at = ?, payload = NULL WHERE update_id = ?"
        params = (iso(utc_now()), update_id)
        if not self._db.write_now(sql, params):
            await self._db.write(sql, params)

    async def pending(self, lease: timedelta = timedelta(0)) -> list[Pending]:
        """Claim the updates not yet handled whose holder's claim is older than `lease`, oldest
        first, each counted as one more attempt.

        One statement claims them, so two replicas never take the same update. With one
        process (SQLite) the lease is 0: everything pending is from an earlier run. With
        replicas, an update another replica received a moment ago is still in its hands.
        """
        now = utc_now()

        async def run(connection: Connection) -> list[Pending]:
            rows = await connection.fetch_all(
                "UPDATE inbox SET attempts = attempts + 1, claimed_at = ?"
                " WHERE done_at IS NULL AND (claimed_at IS NULL OR claimed_at <= ?)"
                " RETURNING update_id, payload, attempts",
                (iso(now), iso(now - lease)),
            )
            return [Pending(int(r[0]), str(r[1] or ""), int(r[2])) for r in rows]

        return sorted(await self._db.transaction(run), key=lambda p: p.update_id)

    async def count_pending(self) -> int:
        """How many updates wait to be handled."""
        row = await self._db.fetch_one("SELECT COUNT(*) FROM inbox WHERE done_at IS NULL")
        return int(row[0]) if row else 0

    async def purge(self, before: datetime) -> int:
        """Forget the ids of updates handled before a moment (Telegram resends for 24 hours)."""
        return await self._db.write(
            "DELETE FROM inbox WHERE done_at IS NOT NULL AND done_at < ?", (iso(before),)
        )
