"""The question log: every question asked, with its outcome, and a spool for locked moments."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.storage.database import Connection, Database, Row
from bot.storage.needs import forget_learnt
from bot.storage.records import LoggedQuestion, StorageError, from_iso, iso

log = logging.getLogger(__name__)

_COLUMNS = (
    "INSERT INTO questions (asked_at, user_hash, channel, language, text, outcome,"
    " entry_id, score, crisis_category, candidates, update_id, vector)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT = _COLUMNS
# A question from a Telegram update is logged once, however often the update is handled.
_INSERT_ONCE = _COLUMNS + " ON CONFLICT (update_id) DO NOTHING"


class QuestionLog:
    """Logged questions. The text is already redacted (and absent for a crisis)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @property
    def spool_path(self) -> Path:
        """Where questions wait when the database cannot be written, until the next start."""
        return self._db.spool_path

    async def log(self, question: LoggedQuestion) -> int | None:
        """Store a question and commit it; if the database cannot be written, spool it.

        Returns the row id (the existing one when this update's question was already logged),
        or None when the question was spooled.
        """
        if question.update_id is None:
            try:
                return await self._db.insert(_INSERT, _params(question))
            except StorageError as exc:
                log.warning("%s: question kept in %s", exc, self.spool_path)
                self._db.spool(_INSERT, _params(question))
                return None
        if await self._db.write_or_spool(_INSERT_ONCE, _params(question)) is None:
            return None
        return await self.logged_for(question.update_id)

    async def logged_for(self, update_id: int) -> int | None:
        """The question already logged for a Telegram update, if any."""
        row = await self._db.fetch_one("SELECT id FROM questions WHERE update_id = ?", (update_id,))
        return int(row[0]) if row else None

    async def log_many(self, questions: Sequence[LoggedQuestion]) -> None:
        """Store many questions in one transaction (imports and benchmarks)."""
        await self._db.write_many(_INSERT, [_params(q) for q in questions])

    async def replay_spool(self) -> None:
        """Write what was spooled while the database could not be written."""
        await self._db.replay_spool(_legacy_line)

    async def find(
        self,
        *,
        outcome: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> list[LoggedQuestion]:
        """Logged questions, oldest first, optionally filtered."""
        where: list[str] = []
        params: list[Any] = []
        if outcome is not None:
            where.append("outcome = ?")
            params.append(outcome)
        if since is not None:
            where.append("asked_at >= ?")
            params.append(iso(since))
        if until is not None:
            where.append("asked_at < ?")
            params.append(iso(until))
        sql = "SELECT * FROM questions"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY asked_at, id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [_from_row(row) for row in await self._db.fetch_all(sql, params)]

    async def choose_entry(self, question_id: int, entry_id: str) -> None:
        """Record which "did you mean" choice answered an ambiguous question."""
        await self._db.write(
            "UPDATE questions SET entry_id = ? WHERE id = ? AND outcome = 'ambiguous'",
            (entry_id, question_id),
        )

    async def mark_unanswered(self, question_id: int) -> None:
        """None of the choices fitted: the question joins the unanswered (emerging needs)."""
        await self._db.write(
            "UPDATE questions SET outcome = 'unanswered', entry_id = NULL"
            " WHERE id = ? AND outcome = 'ambiguous'",
            (question_id,),
        )

    async def mark_not_emergency(self, question_id: int) -> str | None:
        """Someone said a crisis reply was not an emergency: count it (a false alarm of its
        category). Returns the category, or None when the question is no crisis."""
        row = await self._db.fetch_one(
            "SELECT crisis_category FROM questions WHERE id = ? AND outcome = 'crisis'",
            (question_id,),
        )
        if row is None:
            return None
        await self._db.write(
            "UPDATE questions SET not_emergency = 1 WHERE id = ? AND outcome = 'crisis'",
            (question_id,),
        )
        return str(row[0]) if row[0] is not None else None

    async def count(self, user_hash: str | None = None) -> int:
        """How many questions are stored (for one user, if given)."""
        if user_hash is None:
            row = await self._db.fetch_one("SELECT COUNT(*) FROM questions")
        else:
            row = await self._db.fetch_one(
                "SELECT COUNT(*) FROM questions WHERE user_hash = ?", (user_hash,)
            )
        return int(row[0]) if row else 0

    async def purge_text(self, before: datetime) -> int:
        """Blank the text (and its sentence vector) of questions asked before a date, keeping
        the counts."""

        async def run(connection: Connection) -> int:
            blanked = await connection.execute(
                "UPDATE questions SET text = NULL, vector = NULL"
                " WHERE asked_at < ? AND (text IS NOT NULL OR vector IS NOT NULL)",
                (iso(before),),
            )
            if blanked:
                await forget_learnt(connection)  # word counts learnt from that text too
            return blanked

        return await self._db.transaction(run)


def _params(question: LoggedQuestion) -> tuple[Any, ...]:
    return (
        iso(question.asked_at),
        question.user_hash,
        question.channel,
        question.language,
        question.text,
        question.outcome,
        question.entry_id,
        question.score,
        question.crisis_category,
        json.dumps([[e, s] for e, s in question.candidates]),
        question.update_id,
        question.vector,
    )


def _legacy_line(record: dict[str, Any]) -> tuple[str, Sequence[Any]]:
    """A question spooled in the first spool format (a LoggedQuestion as JSON)."""
    record["asked_at"] = from_iso(record["asked_at"])
    record["candidates"] = tuple(tuple(c) for c in record.get("candidates", ()))
    question = LoggedQuestion(**{**record, "id": None})
    return (_INSERT if question.update_id is None else _INSERT_ONCE), _params(question)


def _from_row(row: Row) -> LoggedQuestion:
    candidates = tuple((str(e), float(s)) for e, s in json.loads(row["candidates"] or "[]"))
    return LoggedQuestion(
        id=int(row["id"]),
        asked_at=from_iso(row["asked_at"]),
        user_hash=row["user_hash"],
        channel=row["channel"],
        language=row["language"],
        text=row["text"],
        outcome=row["outcome"],
        entry_id=row["entry_id"],
        score=float(row["score"]),
        crisis_category=row["crisis_category"],
        candidates=candidates,
        update_id=row["update_id"],
        vector=row["vector"],
    )
