"""'Tell me when you know': requests to be told when a question gets an answer."""

from __future__ import annotations

from bot.storage.database import Database
from bot.storage.records import FollowUp, iso, utc_now


class FollowUps:
    """Follow-up requests. The chat id is sealed (encrypted), and forgotten once sent."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, question_id: int, user_hash: str, chat_token: str, language: str) -> None:
        """Remember that a user wants to hear when their question is answered."""
        await self._db.write(
            "INSERT OR REPLACE INTO follow_ups"
            " (question_id, user_hash, chat_token, language, requested_at) VALUES (?, ?, ?, ?, ?)",
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
