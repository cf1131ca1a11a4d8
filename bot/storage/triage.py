"""Staff triage: the history of what was done to each need, and prompts waiting for a text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.storage.database import Database
from bot.storage.records import from_iso, iso, utc_now

PROMPT_KINDS = ("note", "search")


@dataclass(frozen=True)
class NeedAction:
    """One thing a staff member did to a need: who (a keyed hash or "command line"), when, what."""

    need_id: int
    acted_at: datetime
    actor: str
    action: str  # assigned, not_in_scope, note, answered, status
    detail: str


@dataclass(frozen=True)
class Prompt:
    """A staff member's next text message is a note for a need, or a search for an entry."""

    kind: str
    need_id: int
    asked_at: datetime


class Triage:
    """The triage history and the pending prompts."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def history(self, need_id: int) -> list[NeedAction]:
        """Every action on one need, oldest first."""
        rows = await self._db.fetch_all(
            "SELECT need_id, acted_at, actor, action, detail FROM need_actions"
            " WHERE need_id = ? ORDER BY id",
            (need_id,),
        )
        return [
            NeedAction(int(r[0]), from_iso(r[1]), str(r[2]), str(r[3]), str(r[4])) for r in rows
        ]

    async def ask(self, user_hash: str, kind: str, need_id: int) -> None:
        """Wait for this staff member's next text (one prompt per person: the newest wins)."""
        if kind not in PROMPT_KINDS:
            raise ValueError(f"a prompt is one of {PROMPT_KINDS}, not {kind!r}")
        await self._db.write(
            "INSERT INTO staff_prompts (user_hash, kind, need_id, asked_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (user_hash) DO UPDATE SET kind = excluded.kind,"
            " need_id = excluded.need_id, asked_at = excluded.asked_at",
            (user_hash, kind, need_id, iso(utc_now())),
        )

    async def take(self, user_hash: str, max_age: timedelta, now: datetime) -> Prompt | None:
        """The pending prompt, removed so it is used once; None when there is none or it is old."""
        row = await self._db.fetch_one(
            "SELECT kind, need_id, asked_at FROM staff_prompts WHERE user_hash = ?", (user_hash,)
        )
        if row is None:
            return None
        await self.clear(user_hash)
        prompt = Prompt(str(row[0]), int(row[1]), from_iso(row[2]))
        return prompt if now - prompt.asked_at <= max_age else None

    async def clear(self, user_hash: str) -> None:
        """Forget a pending prompt (another button was pressed)."""
        await self._db.write("DELETE FROM staff_prompts WHERE user_hash = ?", (user_hash,))
