"""'Tell me when you know': requests to be told when a question gets an answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.storage.database import Connection, Database
from bot.storage.records import FollowUp, iso, utc_now

# Deliver one follow-up; the answer says whether it reached the person.
Deliver = Callable[[FollowUp], Awaitable[bool]]


class FollowUps:
    """Follow-up requests. The chat id is sealed (encrypted), and forgotten once sent."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, question_id: int, user_hash: str, chat_token: str, language: str) -> None:
        """Remember that a user wants to hear when their question is answered."""
        await self._db.write(
            "INSERT INTO follow_ups"
            " (question_id, user_hash, chat_token, language, requested_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (question_id) DO UPDATE SET user_hash = excluded.user_hash,"
            " chat_token = excluded.chat_token, language = excluded.language,"
            " requested_at = excluded.requested_at, sent_at = NULL",
            (question_id, user_hash, chat_token, language, iso(utc_now())),
        )

    async def pending(self, need_id: int) -> list[FollowUp]:
        """Unsent follow-ups of a need's questions, one per user."""
        rows = await self._db.fetch_all(
            "SELECT f.question_id, f.user_hash, f.chat_token, f.language FROM follow_ups f"
            " JOIN need_questions n ON n.question_id = f.question_id"
            " WHERE n.need_id = ? AND f.sent_at IS NULL ORDER BY f.question_id",
            (need_id,),
        )
        seen: set[str] = set()
        out: list[FollowUp] = []
        for row in rows:
            if row[1] not in seen:
                seen.add(row[1])
                out.append(FollowUp(int(row[0]), str(row[1]), str(row[2]), str(row[3])))
        return out

    async def mark_sent(self, user_hash: str, need_id: int) -> None:
        """Mark all of a user's follow-ups in a need as sent, and forget the chat token."""
        await self._db.write(
            "UPDATE follow_ups SET sent_at = ?, chat_token = '' WHERE user_hash = ?"
            " AND question_id IN (SELECT question_id FROM need_questions WHERE need_id = ?)",
            (iso(utc_now()), user_hash, need_id),
        )

    async def deliver(self, need_id: int, deliver: Deliver) -> int:
        """Send each waiting user of a need one message; how many were delivered.

        Each user's follow-ups are claimed by one UPDATE that marks them sent, in a
        transaction that stays open while the message goes out. On PostgreSQL the rows are
        picked `FOR UPDATE SKIP LOCKED`, so another replica running the same job skips them
        instead of waiting or sending twice; on SQLite the UPDATE takes the file's write lock,
        so a second process finds them marked. If this process dies before committing, the
        claim is rolled back and the next run sends them. Sent or not (the user blocked the
        bot), the rows stay marked and the sealed chat id is forgotten.
        """
        users = await self._db.fetch_all(
            "SELECT DISTINCT f.user_hash FROM follow_ups f"
            " JOIN need_questions n ON n.question_id = f.question_id"
            " WHERE n.need_id = ? AND f.sent_at IS NULL ORDER BY 1",
            (need_id,),
        )
        delivered = 0
        for (user_hash,) in users:

            async def claim(connection: Connection, user_hash: str = str(user_hash)) -> bool:
                rows = await connection.fetch_all(
                    "UPDATE follow_ups SET sent_at = ? WHERE question_id IN ("
                    " SELECT f.question_id FROM follow_ups f"
                    " JOIN need_questions n ON n.question_id = f.question_id"
                    " WHERE n.need_id = ? AND f.user_hash = ? AND f.sent_at IS NULL"
                    + connection.dialect.skip_locked("f")
                    + ") RETURNING question_id, chat_token, language",
                    (iso(utc_now()), need_id, user_hash),
                )
                if not rows:
                    return False  # another replica has them, or already sent them
                rows = sorted(rows, key=lambda row: int(row[0]))
                first = FollowUp(int(rows[0][0]), user_hash, str(rows[0][1]), str(rows[0][2]))
                sent = await deliver(first)
                await connection.executemany(
                    "UPDATE follow_ups SET chat_token = '' WHERE question_id = ?",
                    [(int(row[0]),) for row in rows],
                )
                return sent

            # Not retried: retrying would send the message again.
            if await self._db.transaction(claim, retry=False):
                delivered += 1
        return delivered
