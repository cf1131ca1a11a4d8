"""Backups: a consistent, owner-only snapshot even while the bot answers; restore checks first."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.config import Settings
from bot.storage import LoggedQuestion, Storage, StorageError
from bot.storage.backup import backup, integrity, restore, secret_of
from bot.telegram import app as telegram_app
from tests.conftest import SMALL_KB, write_kb
from tests.fakebotapi import FakeBotApi

TOKEN = "123456:TEST-token-never-logged-abcdef"


def _question(text: str) -> LoggedQuestion:
    return LoggedQuestion(
        channel="console",
        language="en",
        outcome="unanswered",
        text=text,
        user_hash=None,
        entry_id=None,
        score=0.0,
        crisis_category=None,
        candidates=(),
    )


def _texts(path: Path) -> list[str]:
    db = sqlite3.connect(path)
    try:
        return [r[0] for r in db.execute("SELECT text FROM questions ORDER BY id")]
    finally:
        db.close()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def _database(path: Path, texts: list[str]) -> None:
    storage = await Storage.open(path)
    try:
        for text in texts:
            await storage.questions.log(_question(text))
    finally:
        await storage.close()


async def test_backup_and_restore_with_the_secret(tmp_path: Path) -> None:
    db = tmp_path / "data" / "bot.sqlite3"
    await _database(db, ["cricket club", "yoga mat"])
    secret_of(db).write_bytes(b"k" * 32)
    result = backup(db, tmp_path / "backups" / "bot.bak", with_secret=True)
    assert result.questions == 2
    assert integrity(result.path) == "ok"
    assert result.secret is not None and result.secret.read_bytes() == b"k" * 32
    assert _mode(result.path) == 0o600 and _mode(result.secret) == 0o600
    assert not list((tmp_path / "backups").glob("*.partial"))

    # Lose everything, then restore: the questions and the secret come back.
    db.unlink()
    secret_of(db).unlink()
    assert restore(result.path, db, with_secret=True) == 2
    assert _texts(db) == ["cricket club", "yoga mat"]
    assert secret_of(db).read_bytes() == b"k" * 32
    assert _mode(db) == 0o600 and _mode(secret_of(db)) == 0o600


async def test_a_damaged_backup_is_refused_and_nothing_changes(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    await _database(db, ["keep me"])
    damaged = tmp_path / "damaged.bak"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\x07" * 5000)
    with pytest.raises(StorageError, match="not a usable backup, nothing was changed"):
        restore(damaged, db)
    other = tmp_path / "other.sqlite3"
    sqlite3.connect(other).close()  # a valid SQLite file, but not ours
    with pytest.raises(StorageError, match="not a welcome-bot database"):
        restore(other, db)
    assert _texts(db) == ["keep me"]


def test_backup_needs_a_database_and_a_secret_to_copy(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="there is no database"):
        backup(tmp_path / "none.sqlite3", tmp_path / "out.bak")
    db = tmp_path / "bot.sqlite3"
    asyncio.run(_database(db, []))
    with pytest.raises(StorageError, match="there is no secret file"):
        backup(db, tmp_path / "out.bak", with_secret=True)


def test_the_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("BOT_DB", "BOT_DATA_DIR", "BOT_HASH_SECRET", "BOT_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    data = tmp_path / "data"
    asyncio.run(_database(data / "welcome-bot.sqlite3", ["one question"]))
    secret_of(data / "welcome-bot.sqlite3").write_bytes(b"s" * 32)
    out = tmp_path / "nightly.bak"
    assert main(["backup", "--data-dir", str(data), "--out", str(out), "--with-secret"]) == 0
    assert "1 question(s), integrity ok, secret in" in capsys.readouterr().out
    fresh = tmp_path / "fresh"
    assert main(["restore", str(out), "--data-dir", str(fresh), "--with-secret"]) == 0
    assert _texts(fresh / "welcome-bot.sqlite3") == ["one question"]
    assert (fresh / "welcome-bot.sqlite3.secret").read_bytes() == b"s" * 32
    assert main(["restore", str(tmp_path / "missing.bak"), "--data-dir", str(fresh)]) == 1
    assert "does not exist" in capsys.readouterr().err


async def test_a_backup_while_the_bot_answers_holds_every_earlier_question(
    tmp_path: Path,
) -> None:
    kb = write_kb(tmp_path, SMALL_KB)
    async with FakeBotApi(TOKEN) as server:
        settings = Settings(
            telegram_token=TOKEN,
            api_base_url=server.base_url,
            kb_dir=kb,
            data_dir=tmp_path / "data",
            hash_secret="s" * 32,
        )
        application = telegram_app.build_application(settings)
        await telegram_app.start_polling(application, timeout=1)
        answered: list[str] = []
        stop = asyncio.Event()

        async def keep_asking(user_id: int) -> None:
            user = server.user(user_id, language_code="en")
            number = 0
            while not stop.is_set():
                text = f"question {user_id}-{number} about a cricket club"
                before = len(server.messages(user_id))
                await server.send_text(user, text)
                await server.wait_for_messages(user_id, before + 1)
                answered.append(text)
                number += 1

        askers = [asyncio.create_task(keep_asking(u)) for u in (1, 2, 3, 4, 5)]
        try:
            while len(answered) < 15:
                await asyncio.sleep(0.05)
            before_backup = list(answered)
            # The backup runs in another thread while the bot goes on answering.
            result = await asyncio.to_thread(
                backup, settings.database, tmp_path / "live.bak", with_secret=False
            )
            while len(answered) < len(before_backup) + 5:
                await asyncio.sleep(0.05)
        finally:
            stop.set()
            await asyncio.gather(*askers)
            await telegram_app.stop(application)
    assert integrity(result.path) == "ok"
    saved = set(_texts(result.path))
    assert set(before_backup) <= saved
    assert result.questions == len(saved) >= len(before_backup)
    assert len(_texts(settings.database)) > len(saved)  # the bot went on after the snapshot
