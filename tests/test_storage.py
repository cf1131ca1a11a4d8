"""The question log on a real SQLite file in tmp_path."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.storage import LoggedQuestion, Storage, StorageError
from bot.storage.schema import MIGRATIONS


def question(text: str = "where can I buy a cricket bat", **kw: object) -> LoggedQuestion:
    values: dict[str, object] = {
        "channel": "telegram",
        "language": "en",
        "outcome": "unanswered",
        "text": text,
        "user_hash": "u1",
    }
    values.update(kw)
    return LoggedQuestion(**values)  # type: ignore[arg-type]


async def test_open_creates_migrates_and_uses_wal(tmp_path: Path) -> None:
    storage = await Storage.open(tmp_path / "data" / "bot.sqlite3")
    try:
        assert await storage.schema_version() == len(MIGRATIONS)
    finally:
        await storage.close()
    with sqlite3.connect(tmp_path / "data" / "bot.sqlite3") as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"questions", "feedback", "users"} <= tables


async def test_questions_survive_reopen(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    storage = await Storage.open(path)
    first = await storage.questions.log(question(candidates=(("a", 50.0), ("b", 40.0))))
    await storage.questions.log(
        question(
            "how do I get a health card", outcome="answered", entry_id="health-card", score=88.5
        )
    )
    await storage.close()

    storage = await Storage.open(path)
    try:
        rows = await storage.questions.find()
        assert [r.id for r in rows][0] == first
        assert rows[0].candidates == (("a", 50.0), ("b", 40.0))
        assert rows[1].entry_id == "health-card"
        assert rows[1].score == 88.5
        unanswered = await storage.questions.find(outcome="unanswered")
        assert [r.text for r in unanswered] == ["where can I buy a cricket bat"]
    finally:
        await storage.close()


async def test_time_filters(tmp_path: Path) -> None:
    storage = await Storage.open(tmp_path / "bot.sqlite3")
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    try:
        for days in (0, 3, 10):
            await storage.questions.log(question(f"q{days}", asked_at=now - timedelta(days=days)))
        recent = await storage.questions.find(since=now - timedelta(days=5))
        assert [q.text for q in recent] == ["q3", "q0"]
        older = await storage.questions.find(until=now - timedelta(days=5))
        assert [q.text for q in older] == ["q10"]
    finally:
        await storage.close()


async def test_erase_user_removes_everything_about_them(tmp_path: Path) -> None:
    storage = await Storage.open(tmp_path / "bot.sqlite3")
    try:
        qid = await storage.questions.log(question())
        await storage.questions.log(question(user_hash="someone-else"))
        await storage.feedback.record("u1", "health-card", helpful=True, question_id=qid)
        await storage.users.set_language("u1", "fr")
        await storage.users.touch("u1", source="poster-ajax")
        assert await storage.users.language("u1") == "fr"
        assert await storage.users.source("u1") == "poster-ajax"

        erased = await storage.users.erase("u1")
        assert (erased.questions, erased.feedback, erased.settings) == (1, 1, 1)
        assert await storage.questions.count("u1") == 0
        assert await storage.questions.count() == 1
        assert await storage.users.language("u1") is None
        assert await storage.feedback.counts() == {}
    finally:
        await storage.close()


async def test_feedback_counts(tmp_path: Path) -> None:
    storage = await Storage.open(tmp_path / "bot.sqlite3")
    try:
        await storage.feedback.record("u1", "a", helpful=True)
        await storage.feedback.record("u2", "a", helpful=False)
        await storage.feedback.record("u3", "a", helpful=True)
        assert await storage.feedback.counts() == {"a": (2, 1)}
    finally:
        await storage.close()


async def test_first_deep_link_source_is_kept(tmp_path: Path) -> None:
    storage = await Storage.open(tmp_path / "bot.sqlite3")
    try:
        await storage.users.touch("u1", source="library-poster")
        await storage.users.touch("u1", source="other")
        await storage.users.touch("u1")
        assert await storage.users.source("u1") == "library-poster"
    finally:
        await storage.close()


async def test_locked_database_spools_and_replays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bot.sqlite3"
    storage = await Storage.open(path)
    monkeypatch.setattr("bot.storage.database.BUSY_TIMEOUT_MS", 50)
    await storage.db.fetch_one("PRAGMA busy_timeout = 50")
    blocker = sqlite3.connect(path, timeout=0.05)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        assert await storage.questions.log(question("asked while locked")) is None
        assert storage.questions.spool_path.exists()
    finally:
        blocker.rollback()
        blocker.close()
        await storage.close()
    storage = await Storage.open(path)
    try:
        assert [q.text for q in await storage.questions.find()] == ["asked while locked"]
        assert not storage.questions.spool_path.exists()
    finally:
        await storage.close()


async def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    path.write_text("this is not sqlite" * 100)
    with pytest.raises(StorageError, match="cannot use the database"):
        await Storage.open(path)


async def test_migration_is_all_or_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "bot.sqlite3"
    storage = await Storage.open(path)
    await storage.close()
    broken = (*MIGRATIONS, "CREATE TABLE extra (x INTEGER); CREATE TABLE broken (;")
    monkeypatch.setattr("bot.storage.database.MIGRATIONS", broken)
    with pytest.raises(StorageError):
        await Storage.open(path)
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        names = {r[0] for r in raw.execute("SELECT name FROM sqlite_master")}
    assert "extra" not in names


async def test_not_an_emergency_is_counted_per_category_without_text(tmp_path: Path) -> None:
    storage = await Storage.open(tmp_path / "bot.sqlite3")
    try:
        crisis = await storage.questions.log(
            question(None, outcome="crisis", crisis_category="fire_gas")
        )
        ordinary = await storage.questions.log(question())
        assert await storage.questions.mark_not_emergency(crisis) == "fire_gas"
        # Only a crisis can be a false alarm; an ordinary question is left alone.
        assert await storage.questions.mark_not_emergency(ordinary) is None
        now = datetime.now(UTC)
        usage = await storage.usage.between(now - timedelta(days=1), now + timedelta(days=1))
        assert usage.false_alarms == {"fire_gas": 1}
        assert usage.crisis == {"fire_gas": 1}
    finally:
        await storage.close()
    with sqlite3.connect(tmp_path / "bot.sqlite3") as raw:
        assert raw.execute(
            "SELECT text, not_emergency FROM questions WHERE id = ?", (crisis,)
        ).fetchall() == [(None, 1)]
