"""The question log and user settings in SQLite. All of the project's SQL lives in this module."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

# Each migration runs once, in order, inside a transaction; never edit one that has shipped,
# add a new one instead.
MIGRATIONS: tuple[str, ...] = (
    # 1: the question log, feedback and per-user settings.
    """
    CREATE TABLE users (
        user_hash   TEXT PRIMARY KEY,
        language    TEXT,
        source      TEXT,
        first_seen  TEXT NOT NULL,
        last_seen   TEXT NOT NULL
    );
    CREATE TABLE questions (
        id              INTEGER PRIMARY KEY,
        asked_at        TEXT NOT NULL,
        user_hash       TEXT,
        channel         TEXT NOT NULL,
        language        TEXT NOT NULL,
        text            TEXT,
        outcome         TEXT NOT NULL,
        entry_id        TEXT,
        score           REAL NOT NULL DEFAULT 0,
        crisis_category TEXT,
        candidates      TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX questions_asked_at ON questions (asked_at);
    CREATE INDEX questions_outcome ON questions (outcome, asked_at);
    CREATE INDEX questions_user ON questions (user_hash);
    CREATE TABLE feedback (
        id          INTEGER PRIMARY KEY,
        given_at    TEXT NOT NULL,
        user_hash   TEXT,
        question_id INTEGER REFERENCES questions (id) ON DELETE SET NULL,
        entry_id    TEXT NOT NULL,
        helpful     INTEGER NOT NULL CHECK (helpful IN (0, 1))
    );
    CREATE INDEX feedback_entry ON feedback (entry_id);
    CREATE INDEX feedback_user ON feedback (user_hash);
    """,
)

# How long a write waits for another process (the bot, a staff command) to release the file.
BUSY_TIMEOUT_MS = 5000
WRITE_ATTEMPTS = 3


def utc_now() -> datetime:
    """The current time in UTC (the database stores UTC)."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """A sortable UTC timestamp, like 2026-11-24T20:11:39Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class LoggedQuestion:
    """One question as stored: redacted text, never a raw user id."""

    channel: str
    language: str
    outcome: str
    text: str | None
    user_hash: str | None = None
    entry_id: str | None = None
    score: float = 0.0
    crisis_category: str | None = None
    candidates: tuple[tuple[str, float], ...] = ()
    asked_at: datetime = field(default_factory=utc_now)
    id: int | None = None


@dataclass(frozen=True)
class Erased:
    """How many rows an erase request removed, to tell the user."""

    questions: int
    feedback: int
    settings: int

    @property
    def total(self) -> int:
        """All rows removed."""
        return self.questions + self.feedback + self.settings


class StorageError(Exception):
    """The database could not be used (locked for too long, disk full, not a database)."""


class Storage:
    """An open question-log database. Create with `await Storage.open(path)`."""

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._db = connection
        self.path = path
        self._write_lock = asyncio.Lock()

    @property
    def spool_path(self) -> Path:
        """Where questions wait when the database is locked, to be written on the next open."""
        return self.path.with_name(self.path.name + ".spool.jsonl")

    @classmethod
    async def open(cls, path: str | Path) -> Storage:
        """Open (creating if needed) and migrate the database; replay any spooled questions."""
        db_path = Path(path)
        db_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            connection = await aiosqlite.connect(db_path, timeout=BUSY_TIMEOUT_MS / 1000)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the database {db_path}: {exc}") from exc
        connection.row_factory = aiosqlite.Row
        storage = cls(connection, db_path)
        try:
            await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await connection.execute("PRAGMA journal_mode = WAL")
            await connection.execute("PRAGMA foreign_keys = ON")
            await storage._migrate()
            await storage._replay_spool()
        except sqlite3.DatabaseError as exc:
            await connection.close()
            raise StorageError(f"cannot use the database {db_path}: {exc}") from exc
        return storage

    async def close(self) -> None:
        """Close the connection (WAL content is checkpointed by SQLite)."""
        await self._db.close()

    async def schema_version(self) -> int:
        """The number of migrations applied."""
        async with self._db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def _migrate(self) -> None:
        version = await self.schema_version()
        for number, script in enumerate(MIGRATIONS, start=1):
            if number <= version:
                continue
            # executescript commits first, so wrap the migration and its version bump in one
            # explicit transaction: a crash leaves the old schema, never half of the new one.
            await self._db.executescript(
                f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
            )
            log.info("database migrated to version %d", number)

    async def _write(self, sql: str, params: Sequence[Any]) -> int:
        """Run one write in its own committed transaction, retrying while the file is locked."""
        async with self._write_lock:
            for attempt in range(1, WRITE_ATTEMPTS + 1):
                try:
                    cursor = await self._db.execute(sql, params)
                    await self._db.commit()
                    return int(cursor.lastrowid or cursor.rowcount or 0)
                except sqlite3.OperationalError as exc:
                    await self._db.rollback()
                    if "locked" not in str(exc) and "busy" not in str(exc):
                        raise StorageError(str(exc)) from exc
                    if attempt == WRITE_ATTEMPTS:
                        raise StorageError("the database stayed locked") from exc
                    await asyncio.sleep(0.05 * attempt)
        raise AssertionError("unreachable")

    # -- questions -------------------------------------------------------------------------

    async def log_question(self, question: LoggedQuestion) -> int | None:
        """Store a question and commit it; if the database is locked, spool it to a file.

        Returns the new row id, or None when the question was spooled.
        """
        params = (
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
        )
        try:
            return await self._write(
                "INSERT INTO questions (asked_at, user_hash, channel, language, text, outcome,"
                " entry_id, score, crisis_category, candidates)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                params,
            )
        except StorageError:
            log.warning("database busy: question kept in %s until the next start", self.spool_path)
            self._spool(question)
            return None

    def _spool(self, question: LoggedQuestion) -> None:
        record = asdict(question)
        record["asked_at"] = iso(question.asked_at)
        with self.spool_path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
            handle.flush()

    async def _replay_spool(self) -> None:
        if not self.spool_path.exists():
            return
        lines = self.spool_path.read_text(encoding="utf-8").splitlines()
        for line in lines:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a crash: nothing more can be recovered from it
            record["asked_at"] = datetime.strptime(
                record["asked_at"], "%Y-%m-%dT%H:%M:%SZ"
            ).replace(tzinfo=UTC)
            record["candidates"] = tuple(tuple(c) for c in record.get("candidates", ()))
            await self.log_question(LoggedQuestion(**{**record, "id": None}))
        self.spool_path.unlink()
        log.info("replayed %d spooled question(s)", len(lines))

    async def questions(
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
        async with self._db.execute(sql, params) as cursor:
            rows = await cursor.fetchall()
        return [_question_from_row(row) for row in rows]

    async def count_questions(self, user_hash: str | None = None) -> int:
        """How many questions are stored (for one user, if given)."""
        sql = "SELECT COUNT(*) FROM questions"
        params: tuple[Any, ...] = ()
        if user_hash is not None:
            sql += " WHERE user_hash = ?"
            params = (user_hash,)
        async with self._db.execute(sql, params) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    # -- feedback ----------------------------------------------------------------------------

    async def record_feedback(
        self, user_hash: str | None, entry_id: str, helpful: bool, question_id: int | None = None
    ) -> int:
        """Store a "was this helpful?" answer."""
        return await self._write(
            "INSERT INTO feedback (given_at, user_hash, question_id, entry_id, helpful)"
            " VALUES (?, ?, ?, ?, ?)",
            (iso(utc_now()), user_hash, question_id, entry_id, int(helpful)),
        )

    async def feedback_counts(self) -> dict[str, tuple[int, int]]:
        """Per entry: (helpful, not helpful)."""
        async with self._db.execute(
            "SELECT entry_id, SUM(helpful), SUM(1 - helpful) FROM feedback GROUP BY entry_id"
        ) as cursor:
            rows = await cursor.fetchall()
        return {str(r[0]): (int(r[1]), int(r[2])) for r in rows}

    # -- users -------------------------------------------------------------------------------

    async def touch_user(self, user_hash: str, source: str | None = None) -> None:
        """Note that a user was seen; keep the first deep-link source that brought them."""
        now = iso(utc_now())
        await self._write(
            "INSERT INTO users (user_hash, source, first_seen, last_seen) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (user_hash) DO UPDATE SET last_seen = excluded.last_seen,"
            " source = COALESCE(users.source, excluded.source)",
            (user_hash, source, now, now),
        )

    async def set_language(self, user_hash: str, language: str) -> None:
        """Remember a user's chosen reply language."""
        now = iso(utc_now())
        await self._write(
            "INSERT INTO users (user_hash, language, first_seen, last_seen) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (user_hash) DO UPDATE SET language = excluded.language,"
            " last_seen = excluded.last_seen",
            (user_hash, language, now, now),
        )

    async def get_language(self, user_hash: str) -> str | None:
        """A user's chosen language, if they chose one."""
        async with self._db.execute(
            "SELECT language FROM users WHERE user_hash = ?", (user_hash,)
        ) as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row and row[0] else None

    async def user_source(self, user_hash: str) -> str | None:
        """The deep-link source that first brought a user, if any."""
        async with self._db.execute(
            "SELECT source FROM users WHERE user_hash = ?", (user_hash,)
        ) as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row and row[0] else None

    async def erase_user(self, user_hash: str) -> Erased:
        """Delete everything stored about one user, in one transaction."""
        async with self._write_lock:
            try:
                counts = []
                for table in ("questions", "feedback", "users"):
                    cursor = await self._db.execute(
                        f"DELETE FROM {table} WHERE user_hash = ?",  # noqa: S608 - fixed names
                        (user_hash,),
                    )
                    counts.append(cursor.rowcount)
                await self._db.commit()
            except sqlite3.Error as exc:
                await self._db.rollback()
                raise StorageError(f"could not erase: {exc}") from exc
        return Erased(*counts)


def _question_from_row(row: aiosqlite.Row) -> LoggedQuestion:
    candidates = tuple((str(e), float(s)) for e, s in json.loads(row["candidates"] or "[]"))
    return LoggedQuestion(
        id=int(row["id"]),
        asked_at=datetime.strptime(row["asked_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC),
        user_hash=row["user_hash"],
        channel=row["channel"],
        language=row["language"],
        text=row["text"],
        outcome=row["outcome"],
        entry_id=row["entry_id"],
        score=float(row["score"]),
        crisis_category=row["crisis_category"],
        candidates=candidates,
    )
