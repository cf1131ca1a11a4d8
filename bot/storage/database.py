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

from bot.needs.grouping import Asked, Need

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
    # 2: emerging needs with their triage, contacts given out, and "tell me later" requests.
    """
    CREATE TABLE needs (
        id              INTEGER PRIMARY KEY,
        terms           TEXT NOT NULL,
        representative  TEXT NOT NULL,
        status          TEXT NOT NULL DEFAULT 'new'
                        CHECK (status IN ('new', 'assigned', 'answered', 'not_in_scope')),
        note            TEXT NOT NULL DEFAULT '',
        assignee        TEXT NOT NULL DEFAULT '',
        entry_id        TEXT,
        created_at      TEXT NOT NULL,
        updated_at      TEXT NOT NULL
    );
    CREATE TABLE need_questions (
        question_id INTEGER PRIMARY KEY REFERENCES questions (id) ON DELETE CASCADE,
        need_id     INTEGER NOT NULL REFERENCES needs (id) ON DELETE CASCADE
    );
    CREATE INDEX need_questions_need ON need_questions (need_id);
    CREATE TABLE referrals (
        id          INTEGER PRIMARY KEY,
        shown_at    TEXT NOT NULL,
        question_id INTEGER REFERENCES questions (id) ON DELETE SET NULL,
        entry_id    TEXT NOT NULL,
        service_id  TEXT NOT NULL,
        owner       TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX referrals_owner ON referrals (owner, shown_at);
    CREATE TABLE follow_ups (
        question_id   INTEGER PRIMARY KEY REFERENCES questions (id) ON DELETE CASCADE,
        user_hash     TEXT NOT NULL,
        chat_token    TEXT NOT NULL,
        language      TEXT NOT NULL,
        requested_at  TEXT NOT NULL,
        sent_at       TEXT
    );
    CREATE INDEX follow_ups_user ON follow_ups (user_hash);
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
    follow_ups: int = 0

    @property
    def total(self) -> int:
        """All rows removed."""
        return self.questions + self.feedback + self.settings + self.follow_ups


class StorageError(Exception):
    """The database could not be used (locked for too long, disk full, not a database)."""


class Storage:
    """An open question-log database. Create with `await Storage.open(path)`."""

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._db = connection
        self.path = path
        self._write_lock = asyncio.Lock()
        self.needs = NeedStore(self)

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
        """Run one write in its own committed transaction; return the new row id (inserts)."""
        return (await self._write_full(sql, params))[0]

    async def _change(self, sql: str, params: Sequence[Any]) -> int:
        """Run one update or delete; return how many rows it changed."""
        return (await self._write_full(sql, params))[1]

    async def _write_full(self, sql: str, params: Sequence[Any]) -> tuple[int, int]:
        """Run one write in its own committed transaction, retrying while the file is locked."""
        async with self._write_lock:
            for attempt in range(1, WRITE_ATTEMPTS + 1):
                try:
                    cursor = await self._db.execute(sql, params)
                    await self._db.commit()
                    return int(cursor.lastrowid or 0), int(cursor.rowcount)
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
        params = _question_params(question)
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

    async def log_questions(self, questions: Sequence[LoggedQuestion]) -> None:
        """Store many questions in one transaction (imports and benchmarks)."""
        async with self._write_lock:
            await self._db.executemany(
                "INSERT INTO questions (asked_at, user_hash, channel, language, text, outcome,"
                " entry_id, score, crisis_category, candidates)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [_question_params(q) for q in questions],
            )
            await self._db.commit()

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

    async def choose_entry(self, question_id: int, entry_id: str) -> None:
        """Record which "did you mean" choice answered an ambiguous question."""
        await self._change(
            "UPDATE questions SET entry_id = ? WHERE id = ? AND outcome = 'ambiguous'",
            (entry_id, question_id),
        )

    async def mark_unanswered(self, question_id: int) -> None:
        """None of the choices fitted: the question joins the unanswered (emerging needs)."""
        await self._change(
            "UPDATE questions SET outcome = 'unanswered', entry_id = NULL"
            " WHERE id = ? AND outcome = 'ambiguous'",
            (question_id,),
        )

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

    async def _user_setting(self, user_hash: str, column: str) -> str | None:
        async with self._db.execute(
            f"SELECT {column} FROM users WHERE user_hash = ?",  # column: a fixed name below
            (user_hash,),
        ) as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row and row[0] else None

    async def get_language(self, user_hash: str) -> str | None:
        """A user's chosen language, if they chose one."""
        return await self._user_setting(user_hash, "language")

    async def user_source(self, user_hash: str) -> str | None:
        """The deep-link source that first brought a user, if any."""
        return await self._user_setting(user_hash, "source")

    async def erase_user(self, user_hash: str) -> Erased:
        """Delete everything stored about one user, in one transaction."""
        async with self._write_lock:
            try:
                counts = []
                for table in ("follow_ups", "questions", "feedback", "users"):
                    cursor = await self._db.execute(
                        f"DELETE FROM {table} WHERE user_hash = ?",
                        (user_hash,),
                    )
                    counts.append(cursor.rowcount)
                await self._db.commit()
                follow_ups, questions, feedback, settings = counts
            except sqlite3.Error as exc:
                await self._db.rollback()
                raise StorageError(f"could not erase: {exc}") from exc
        return Erased(questions, feedback, settings, follow_ups)


@dataclass(frozen=True)
class FollowUp:
    """A user's request to be told when their unanswered question gets an answer."""

    question_id: int
    user_hash: str
    chat_token: str
    language: str


@dataclass(frozen=True)
class Usage:
    """Counts behind the usage overview, for one period."""

    by_day: list[tuple[str, int, int]]  # day, questions, answered
    outcomes: dict[str, int]
    languages: dict[str, int]
    channels: dict[str, int]
    top_entries: list[tuple[str, int]]
    feedback: dict[str, tuple[int, int]]  # entry -> (helpful, not helpful)
    sources: dict[str, int]  # deep-link source -> users
    referrals: dict[str, int]  # partner organisation -> times its contacts were given
    crisis: dict[str, int]
    users: int


class NeedStore:
    """The SQL for emerging needs, follow-ups, referrals and usage counts."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._db = storage._db

    async def unassigned(self) -> list[Asked]:
        """Unanswered questions (with text) not yet in any need."""
        async with self._db.execute(
            "SELECT q.id, q.text, q.asked_at, q.user_hash, q.language FROM questions q"
            " LEFT JOIN need_questions n ON n.question_id = q.id"
            " WHERE q.outcome = 'unanswered' AND q.text IS NOT NULL AND n.need_id IS NULL"
            " ORDER BY q.id"
        ) as cursor:
            rows = await cursor.fetchall()
        return [_asked(row) for row in rows]

    async def needs(self, with_members: bool = True) -> list[Need]:
        """Every stored need, oldest first, with its member questions when asked."""
        async with self._db.execute("SELECT * FROM needs ORDER BY id") as cursor:
            rows = await cursor.fetchall()
        needs = {
            int(r["id"]): Need(
                id=int(r["id"]),
                terms=frozenset(str(r["terms"]).split()),
                representative=str(r["representative"]),
                status=str(r["status"]),
                note=str(r["note"]),
                assignee=str(r["assignee"]),
                entry_id=r["entry_id"],
            )
            for r in rows
        }
        if with_members and needs:
            async with self._db.execute(
                "SELECT n.need_id, q.id, COALESCE(q.text, ''), q.asked_at, q.user_hash,"
                " q.language FROM need_questions n JOIN questions q ON q.id = n.question_id"
                " ORDER BY q.id"
            ) as cursor:
                async for row in cursor:
                    needs[int(row[0])].members.append(_asked(row[1:]))
        return list(needs.values())

    async def need(self, need_id: int) -> Need | None:
        """One need with its members."""
        for need in await self.needs():
            if need.id == need_id:
                return need
        return None

    async def next_id(self) -> int:
        """The id the next new need gets."""
        async with self._db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM needs") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 1

    async def save(self, memberships: dict[int, int], created: list[Need]) -> None:
        """Store new needs and memberships in one transaction."""
        now = iso(utc_now())
        async with self._storage._write_lock:
            try:
                await self._db.executemany(
                    "INSERT INTO needs (id, terms, representative, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    [
                        (n.id, " ".join(sorted(n.terms)), n.representative, now, now)
                        for n in created
                    ],
                )
                await self._db.executemany(
                    "INSERT OR REPLACE INTO need_questions (question_id, need_id) VALUES (?, ?)",
                    sorted(memberships.items()),
                )
                await self._db.commit()
            except sqlite3.Error as exc:
                await self._db.rollback()
                raise StorageError(f"could not save needs: {exc}") from exc

    async def update(
        self,
        need_id: int,
        *,
        status: str | None = None,
        note: str | None = None,
        assignee: str | None = None,
        entry_id: str | None = None,
    ) -> bool:
        """Change a need's triage fields; False when there is no such need."""
        changes = {
            k: v
            for k, v in {
                "status": status,
                "note": note,
                "assignee": assignee,
                "entry_id": entry_id,
            }.items()
            if v is not None
        }
        if not changes:
            return await self.need(need_id) is not None
        sets = ", ".join(f"{k} = ?" for k in changes)
        rowcount = await self._storage._change(
            f"UPDATE needs SET {sets}, updated_at = ? WHERE id = ?",
            [*changes.values(), iso(utc_now()), need_id],
        )
        return rowcount > 0 and await self.need(need_id) is not None

    async def add_referrals(
        self, question_id: int | None, entry_id: str, services: list[tuple[str, str]]
    ) -> None:
        """Record that these services' contacts were given out (service id, owner)."""
        if not services:
            return
        now = iso(utc_now())
        async with self._storage._write_lock:
            await self._db.executemany(
                "INSERT INTO referrals (shown_at, question_id, entry_id, service_id, owner)"
                " VALUES (?, ?, ?, ?, ?)",
                [(now, question_id, entry_id, sid, owner) for sid, owner in services],
            )
            await self._db.commit()

    async def add_follow_up(
        self, question_id: int, user_hash: str, chat_token: str, language: str
    ) -> None:
        """Remember that a user wants to hear when their question is answered."""
        await self._storage._write(
            "INSERT OR REPLACE INTO follow_ups"
            " (question_id, user_hash, chat_token, language, requested_at) VALUES (?, ?, ?, ?, ?)",
            (question_id, user_hash, chat_token, language, iso(utc_now())),
        )

    async def pending_follow_ups(self, need_id: int) -> list[FollowUp]:
        """Unsent follow-ups of a need's questions, one per user."""
        async with self._db.execute(
            "SELECT f.question_id, f.user_hash, f.chat_token, f.language FROM follow_ups f"
            " JOIN need_questions n ON n.question_id = f.question_id"
            " WHERE n.need_id = ? AND f.sent_at IS NULL ORDER BY f.question_id",
            (need_id,),
        ) as cursor:
            rows = await cursor.fetchall()
        seen: set[str] = set()
        out: list[FollowUp] = []
        for row in rows:
            if row[1] not in seen:
                seen.add(row[1])
                out.append(FollowUp(int(row[0]), str(row[1]), str(row[2]), str(row[3])))
        return out

    async def follow_ups_sent(self, user_hash: str, need_id: int) -> None:
        """Mark all of a user's follow-ups in a need as sent, and forget the chat token."""
        await self._storage._write(
            "UPDATE follow_ups SET sent_at = ?, chat_token = '' WHERE user_hash = ?"
            " AND question_id IN (SELECT question_id FROM need_questions WHERE need_id = ?)",
            (iso(utc_now()), user_hash, need_id),
        )

    async def purge_text(self, before: datetime) -> int:
        """Blank the text of questions asked before a date, keeping the counts."""
        return await self._storage._change(
            "UPDATE questions SET text = NULL WHERE asked_at < ? AND text IS NOT NULL",
            (iso(before),),
        )

    async def usage(self, since: datetime, until: datetime) -> Usage:
        """The usage overview's counts between two moments."""
        window = (iso(since), iso(until))
        where = " WHERE asked_at >= ? AND asked_at < ?"

        async def pairs(sql: str, params: Sequence[Any] = window) -> list[tuple[Any, ...]]:
            async with self._db.execute(sql, params) as cursor:
                return [tuple(r) for r in await cursor.fetchall()]

        by_day = await pairs(
            "SELECT substr(asked_at, 1, 10), COUNT(*), SUM(outcome = 'answered') FROM questions"
            + where
            + " GROUP BY 1 ORDER BY 1"
        )
        outcomes = await pairs("SELECT outcome, COUNT(*) FROM questions" + where + " GROUP BY 1")
        languages = await pairs(
            "SELECT language, COUNT(*) FROM questions" + where + " GROUP BY 1 ORDER BY 2 DESC"
        )
        channels = await pairs("SELECT channel, COUNT(*) FROM questions" + where + " GROUP BY 1")
        entries = await pairs(
            "SELECT entry_id, COUNT(*) FROM questions"
            + where
            + " AND outcome = 'answered' GROUP BY 1 ORDER BY 2 DESC, 1"
        )
        crisis = await pairs(
            "SELECT crisis_category, COUNT(*) FROM questions"
            + where
            + " AND crisis_category IS NOT NULL GROUP BY 1"
        )
        feedback = await pairs(
            "SELECT entry_id, SUM(helpful), SUM(1 - helpful) FROM feedback"
            " WHERE given_at >= ? AND given_at < ? GROUP BY 1"
        )
        sources = await pairs(
            "SELECT source, COUNT(*) FROM users WHERE source IS NOT NULL"
            " AND first_seen >= ? AND first_seen < ? GROUP BY 1 ORDER BY 2 DESC"
        )
        referrals = await pairs(
            "SELECT owner, COUNT(*) FROM referrals WHERE shown_at >= ? AND shown_at < ?"
            " GROUP BY 1 ORDER BY 2 DESC, 1"
        )
        users = await pairs("SELECT COUNT(DISTINCT user_hash) FROM questions" + where)
        return Usage(
            by_day=[(str(d), int(n), int(a or 0)) for d, n, a in by_day],
            outcomes={str(k): int(v) for k, v in outcomes},
            languages={str(k): int(v) for k, v in languages},
            channels={str(k): int(v) for k, v in channels},
            top_entries=[(str(k), int(v)) for k, v in entries],
            feedback={str(e): (int(h or 0), int(n or 0)) for e, h, n in feedback},
            sources={str(k): int(v) for k, v in sources},
            referrals={str(k or "(no owner)"): int(v) for k, v in referrals},
            crisis={str(k): int(v) for k, v in crisis},
            users=int(users[0][0]) if users else 0,
        )


def _question_params(question: LoggedQuestion) -> tuple[Any, ...]:
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
    )


def _asked(row: Sequence[Any]) -> Asked:
    return Asked(
        question_id=int(row[0]),
        text=str(row[1] or ""),
        asked_at=datetime.strptime(row[2], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC),
        user_hash=row[3],
        language=str(row[4]),
    )


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
