"""Storage faults: refused loudly at start, survived while running, nothing lost."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from bot.privacy import SecretError, load_or_create_secret
from bot.storage import LoggedQuestion, Storage, StorageError
from bot.storage.database import SQLiteDatabase


def question(
    update_id: int | None = None, text: str = "where can I buy a cricket bat"
) -> LoggedQuestion:
    return LoggedQuestion(
        channel="telegram",
        language="en",
        outcome="unanswered",
        text=text,
        user_hash="u1",
        update_id=update_id,
    )


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def _storage(tmp_path: Path) -> Storage:
    return await Storage.open(tmp_path / "bot.sqlite3")


# -- at start: one clear refusal --------------------------------------------------------------


async def test_damaged_pages_are_refused_at_start(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    storage = await Storage.open(path)
    await storage.questions.log_many([question(text=f"q{i} " + "x" * 300) for i in range(200)])
    await storage.close()
    data = bytearray(path.read_bytes())
    page = 4096
    data[3 * page : 3 * page + 600] = b"\xff" * 600  # scribble over a b-tree page
    path.write_bytes(bytes(data))
    with pytest.raises(StorageError, match=r"damaged|malformed"):
        await Storage.open(path)


async def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    path.write_bytes(b"this is a text file, not SQLite" * 100)
    with pytest.raises(StorageError, match="damaged"):
        await Storage.open(path)


async def test_an_unwritable_database_is_refused_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bot.sqlite3"
    await (await Storage.open(path)).close()
    # Tests run as root, which ignores file modes: open SQLite's read-only mode instead.
    real_connect = SQLiteDatabase._connect

    async def read_only(db_path: Path) -> object:
        import aiosqlite

        connection = await aiosqlite.connect(f"file:{db_path}?mode=ro", uri=True)
        connection.row_factory = aiosqlite.Row
        return connection

    monkeypatch.setattr(SQLiteDatabase, "_connect", staticmethod(read_only))
    with pytest.raises(StorageError, match=r"cannot write to the database .*read-only"):
        await Storage.open(path)
    monkeypatch.setattr(SQLiteDatabase, "_connect", real_connect)


async def test_database_and_spool_are_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        storage = await _storage(tmp_path)
        storage.db.spool(
            "INSERT INTO users (user_hash, first_seen, last_seen) VALUES (?, ?, ?)", ["u", "a", "b"]
        )
        await storage.close()
    finally:
        os.umask(old)
    assert _mode(tmp_path / "bot.sqlite3") == 0o600
    assert _mode(storage.db.spool_path) == 0o600


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "is empty"), (b"short\n", "too short"), (b"\xff\xfe" * 20, "not plain text")],
)
def test_a_bad_secret_file_is_one_clear_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bot.sqlite3.secret"
    path.write_bytes(content)
    with pytest.raises(SecretError, match=message) as caught:
        load_or_create_secret(path)
    assert "\n" not in str(caught.value)
    assert path.read_bytes() == content  # never replaced: stored hashes depend on it


def test_an_unreadable_secret_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "secret-dir"
    path.mkdir()  # reading a folder fails even for root
    with pytest.raises(SecretError, match="cannot read the secret file"):
        load_or_create_secret(path)


# -- while running: degraded but answering, nothing lost ----------------------------------------


async def _unwritable(storage: Storage, monkeypatch: pytest.MonkeyPatch) -> None:
    async def full(*args: object, **kwargs: object) -> object:
        raise StorageError("the disk is full")

    monkeypatch.setattr(storage.db, "transaction", full)


async def test_every_write_path_spools_when_the_disk_is_full_and_replays_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    storage = await _storage(tmp_path)
    with monkeypatch.context() as patch:
        await _unwritable(storage, patch)
        assert await storage.questions.log(question(update_id=7)) is None
        await storage.users.touch("u1", source="flyer")
        await storage.users.set_language("u1", "fr")
        await storage.feedback.record("u1", "health-card", helpful=True)
        await storage.usage.add_referrals(None, "health-card", [("serviceontario", "Ontario")])
    assert "the disk is full" in caplog.text  # the real cause, not "busy"
    await storage.close()
    assert len(storage.db.spool_path.read_text().splitlines()) == 5

    storage = await _storage(tmp_path)  # replayed at start
    try:
        assert not storage.db.spool_path.exists()
        assert await storage.questions.count() == 1
        assert await storage.users.language("u1") == "fr"
        assert await storage.users.source("u1") == "flyer"
        assert await storage.feedback.counts() == {"health-card": (1, 0)}
        assert len(await storage.db.fetch_all("SELECT * FROM referrals")) == 1
    finally:
        await storage.close()


async def test_a_spooled_question_is_replayed_once_even_if_replayed_twice(tmp_path: Path) -> None:
    storage = await _storage(tmp_path)
    await storage.questions.log(question(update_id=11))
    storage.db.spool(*_insert_of(question(update_id=11)))
    await storage.questions.replay_spool()
    assert await storage.questions.count() == 1
    await storage.close()


def _insert_of(item: LoggedQuestion) -> tuple[str, list[object]]:
    from bot.storage.questions import _INSERT, _params

    return _INSERT, list(_params(item))


async def test_a_deleted_database_is_noticed_and_reopened(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    storage = await _storage(tmp_path)
    try:
        await storage.questions.log(question())
        for suffix in ("", "-wal", "-shm"):
            Path(f"{storage.location}{suffix}").unlink(missing_ok=True)
        with caplog.at_level(logging.ERROR):
            await storage.questions.log(question(text="asked after the delete"))
        assert "was deleted or replaced" in caplog.text
        path = Path(storage.location)
        assert path.exists() and _mode(path) == 0o600
    finally:
        await storage.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT text FROM questions").fetchall() == [("asked after the delete",)]


# -- idempotence -------------------------------------------------------------------------------


async def test_one_question_row_per_update(tmp_path: Path) -> None:
    storage = await _storage(tmp_path)
    try:
        first = await storage.questions.log(question(update_id=5))
        again = await storage.questions.log(question(update_id=5))
        assert first == again and await storage.questions.count() == 1
        await storage.questions.log(question())
        await storage.questions.log(question())  # without an update id: no deduplication
        assert await storage.questions.count() == 3
    finally:
        await storage.close()


async def test_one_vote_per_user_and_question_the_last_one_counts(tmp_path: Path) -> None:
    storage = await _storage(tmp_path)
    try:
        qid = await storage.questions.log(question())
        for helpful in (True, True, False):
            await storage.feedback.record("u1", "health-card", helpful, qid)
        await storage.feedback.record("u2", "health-card", True, qid)
        await storage.feedback.record("u1", "health-card", True)  # browsing: no question
        assert await storage.feedback.counts() == {"health-card": (2, 1)}
    finally:
        await storage.close()


async def test_the_vote_migration_keeps_the_last_vote(tmp_path: Path) -> None:
    from bot.storage.schema import MIGRATIONS

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as raw:
        raw.executescript(MIGRATIONS[0] + MIGRATIONS[1] + "PRAGMA user_version = 2;")
        raw.executemany(
            "INSERT INTO feedback (given_at, user_hash, entry_id, helpful) VALUES (?, ?, ?, ?)",
            [
                ("t1", "u1", "a", 1),
                ("t2", "u1", "a", 0),
                ("t3", None, "a", 1),
                ("t4", None, "a", 1),
            ],
        )
    storage = await Storage.open(path)
    try:
        assert await storage.feedback.counts() == {"a": (2, 1)}
    finally:
        await storage.close()


async def test_inbox_keeps_updates_until_done(tmp_path: Path) -> None:
    storage = await _storage(tmp_path)
    try:
        assert await storage.inbox.add(1, "sealed-1")
        assert not await storage.inbox.add(1, "sealed-1")
        assert await storage.inbox.add_many([(1, "x"), (2, "sealed-2"), (3, "sealed-3")]) == {2, 3}
        await storage.inbox.done(2)
        pending = await storage.inbox.pending()
        assert [(p.update_id, p.payload, p.attempts) for p in pending] == [
            (1, "sealed-1", 1),
            (3, "sealed-3", 1),
        ]
        assert [p.attempts for p in await storage.inbox.pending()] == [2, 2]
        rows = await storage.db.fetch_all("SELECT payload FROM inbox WHERE update_id = 2")
        assert rows[0][0] is None  # a handled update's content is gone
    finally:
        await storage.close()
