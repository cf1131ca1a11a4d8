"""What is kept per person (a keyed hash, never a Telegram id): settings, feedback, erasure."""

from __future__ import annotations

from typing import Literal

from bot.storage.database import Connection, Database
from bot.storage.needs import forget_learnt
from bot.storage.records import Erased, iso, utc_now

# The tables holding rows about one person, erased together by /forget.
PERSONAL_TABLES = ("follow_ups", "questions", "feedback", "users")


class Users:
    """Per-user settings: chosen language, the deep link that brought them."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def touch(self, user_hash: str, source: str | None = None) -> None:
        """Note that a user was seen; keep the first deep-link source that brought them."""
        now = iso(utc_now())
        await self._db.write_or_spool(
            "INSERT INTO users (user_hash, source, first_seen, last_seen) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (user_hash) DO UPDATE SET last_seen = excluded.last_seen,"
            " source = COALESCE(users.source, excluded.source)",
            (user_hash, source, now, now),
        )

    async def set_language(self, user_hash: str, language: str) -> None:
        """Remember a user's chosen reply language."""
        now = iso(utc_now())
        await self._db.write_or_spool(
            "INSERT INTO users (user_hash, language, first_seen, last_seen) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (user_hash) DO UPDATE SET language = excluded.language,"
            " last_seen = excluded.last_seen",
            (user_hash, language, now, now),
        )

    async def language(self, user_hash: str) -> str | None:
        """A user's chosen language, if they chose one."""
        return await self._setting(user_hash, "language")

    async def source(self, user_hash: str) -> str | None:
        """The deep-link source that first brought a user, if any."""
        return await self._setting(user_hash, "source")

    async def _setting(self, user_hash: str, column: Literal["language", "source"]) -> str | None:
        row = await self._db.fetch_one(
            f"SELECT {column} FROM users WHERE user_hash = ?",  # column: one of two fixed names
            (user_hash,),
        )
        return str(row[0]) if row and row[0] else None

    async def erase(self, user_hash: str) -> Erased:
        """Delete everything stored about one user, in one transaction."""

        async def run(connection: Connection) -> list[int]:
            counts = [
                await connection.execute(f"DELETE FROM {table} WHERE user_hash = ?", (user_hash,))
                for table in PERSONAL_TABLES
            ]
            # Partner links and staff prompts are settings too; a partner's confirmations stay
            # (staff need to know an entry was checked) but no longer say by whom.
            for table in ("partners", "staff_prompts"):
                counts[-1] += await connection.execute(
                    f"DELETE FROM {table} WHERE user_hash = ?", (user_hash,)
                )
            await connection.execute(
                "UPDATE confirmations SET user_hash = '' WHERE user_hash = ?", (user_hash,)
            )
            if counts[PERSONAL_TABLES.index("questions")]:
                await forget_learnt(connection)  # word counts learnt from their questions too
            return counts

        follow_ups, questions, feedback, settings = await self._db.transaction(run)
        return Erased(questions, feedback, settings, follow_ups)


class Feedback:
    """Answers to "was this helpful?"."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self, user_hash: str | None, entry_id: str, helpful: bool, question_id: int | None = None
    ) -> None:
        """Store a "was this helpful?" answer: one per user, question and entry (a second
        press changes the vote); spooled when the database cannot be written."""
        await self._db.write_or_spool(
            "INSERT INTO feedback (given_at, user_hash, question_id, entry_id, helpful)"
            " VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (user_hash, entry_id, COALESCE(question_id, 0))"
            " DO UPDATE SET helpful = excluded.helpful, given_at = excluded.given_at",
            (iso(utc_now()), user_hash, question_id, entry_id, int(helpful)),
        )

    async def counts(self) -> dict[str, tuple[int, int]]:
        """Per entry: (helpful, not helpful)."""
        rows = await self._db.fetch_all(
            "SELECT entry_id, SUM(helpful), SUM(1 - helpful) FROM feedback GROUP BY entry_id"
        )
        return {str(r[0]): (int(r[1]), int(r[2])) for r in rows}
