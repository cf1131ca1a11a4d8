"""The whole bot against the fake Bot API under attack and faults: forged buttons, floods,
groups and channels, blocked users, crashes between fetching and handling."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.privacy import Sealer
from bot.storage import StorageError
from bot.telegram import app as telegram_app
from bot.telegram import jobs
from bot.telegram.app import webhook_path
from tests.fakebotapi import FakeBotApi
from tests.test_telegram_e2e import TOKEN, Bot, _settings, running_bot


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Bot]:
    async with running_bot(tmp_path) as running:
        yield running


EXPIRED = "This button has expired"


def _answer_text(server: FakeBotApi, query_id: str) -> str:
    (answer,) = server.answers_to(query_id)  # answered exactly once
    return str(answer.get("text") or "")


async def test_forged_and_foreign_buttons_change_nothing(bot: Bot) -> None:
    victim, attacker = bot.server.user(101), bot.server.user(102)
    unanswered = await bot.ask(101, "where can I buy a cricket bat")
    own = await bot.ask(102, "/start")
    qid = bot.rows("SELECT MAX(id) FROM questions")[0][0]
    notify = unanswered.data_for("Tell me")
    before = [bot.rows(f"SELECT * FROM {t}") for t in ("follow_ups", "feedback", "questions")]
    forged = [
        f"n:{qid}",  # unsigned
        f"x:{qid}",
        f"f:0:{qid}:health-card",
        f"a:health-card:{qid}",
        f"n:{qid}:AAAAAAAA",  # a made-up signature
        notify,  # the victim's real button, pressed by someone else
        "n:99999999999999999999999999:abcdefgh",
        "n:\ud800:abcdefgh",
        "x" * 64,
        ":",
    ]
    ids = [await bot.server.press_raw(attacker, 102, own.message_id, d) for d in forged]
    ids.append(await bot.server.press_raw(attacker, 102, 999_999, notify))  # never sent
    await bot.server.wait_for(lambda: all(bot.server.answers_to(q) for q in ids))
    assert all(EXPIRED in _answer_text(bot.server, q) for q in ids)
    after = [bot.rows(f"SELECT * FROM {t}") for t in ("follow_ups", "feedback", "questions")]
    assert after == before
    assert len(bot.server.messages(102)) == 1 and bot.server.messages(102)[0].edits == 0
    # The owner's press still works.
    query = await bot.server.press_raw(victim, 101, unanswered.message_id, notify)
    await bot.server.wait_for(lambda: bool(bot.server.answers_to(query)))
    assert EXPIRED not in _answer_text(bot.server, query)
    assert len(bot.rows("SELECT * FROM follow_ups")) == 1


async def test_fifty_taps_on_helpful_store_one_vote_and_no_error(bot: Bot) -> None:
    user = bot.server.user(103)
    reply = await bot.ask(103, "how do I get a health card")
    helpful = reply.data_for("👍")
    ids = [await bot.server.press_raw(user, 103, reply.message_id, helpful) for _ in range(50)]
    await bot.server.wait_for(lambda: all(bot.server.answers_to(q) for q in ids), timeout=20)
    assert bot.rows("SELECT helpful FROM feedback") == [(1,)]
    assert not any("went wrong" in m.text for m in bot.server.messages(103))


async def test_a_button_flood_is_cut_and_another_user_is_answered(bot: Bot) -> None:
    flooder = bot.server.user(104)
    menu = await bot.ask(104, "/start")
    data = menu.data_for("Health")
    ids = [await bot.server.press_raw(flooder, 104, menu.message_id, data) for _ in range(120)]
    reply = await bot.ask(105, "how do I get a health card")
    assert "ServiceOntario" in reply.text
    await bot.server.wait_for(lambda: all(bot.server.answers_to(q) for q in ids), timeout=20)
    slowed = [q for q in ids if "very fast" in _answer_text(bot.server, q)]
    assert len(slowed) == 1  # told once
    assert bot.server.messages(104)[0].edits <= 30  # the flood limit, not 120


async def test_flood_memory_is_bounded(bot: Bot) -> None:
    flood = bot.app.bot_data.services.flood  # type: ignore[union-attr]
    now = [0.0]
    flood.clock = lambda: now[0]
    for user in range(1000):
        flood.check(f"user{user}")
    now[0] = 100.0
    flood.check("late")
    assert len(flood) == 1


async def test_groups_and_channels(bot: Bot) -> None:
    user = bot.server.user(106)
    group = -1001
    for text in ("/start@other_bot", "/foo", "/help@other_bot"):
        await bot.server.send_raw({"message": bot.server.message_json(user, group, text)})
    await bot.server.send_raw(
        {"channel_post": bot.server.message_json(None, -1002, "how do I get a health card")}
    )
    sender_chat = {"id": -1003, "type": "channel", "title": "A channel"}
    await bot.server.send_raw(
        {
            "message": bot.server.message_json(
                user, group, "how do I get a health card", sender_chat=sender_chat
            )
        }
    )
    # A command for this bot in the group is answered: the updates before it were ignored.
    await bot.server.send_raw(
        {"message": bot.server.message_json(user, group, f"/help@{bot.server.bot_username}")}
    )
    messages = await bot.server.wait_for_messages(group, 1)
    await asyncio.sleep(0.3)
    assert len(bot.server.messages(group)) == 1 and "/topics" in messages[0].text
    assert bot.server.messages(-1002) == []
    assert bot.rows("SELECT COUNT(*) FROM questions") == [(0,)]


async def test_an_edited_question_is_not_answered_or_counted_again(bot: Bot) -> None:
    user = bot.server.user(107)
    await bot.ask(107, "how do I get a health card")
    edited = bot.server.message_json(user, 107, "how do I get a health card?", edit_date=1)
    await bot.server.send_raw({"edited_message": edited})
    reply = await bot.ask(107, "/help")  # handled after the edit
    assert "/topics" in reply.text
    assert len(bot.server.messages(107)) == 2
    assert bot.rows("SELECT COUNT(*) FROM questions") == [(1,)]


async def test_a_blocked_user_does_not_stop_the_other_follow_ups(bot: Bot) -> None:
    for user_id in (108, 109):
        reply = await bot.ask(user_id, "where can I buy a cricket bat")
        await bot.press(user_id, reply, reply.data_for("Tell me"))
    from bot.insights import overview as insights

    svc = bot.app.bot_data.services
    assert svc is not None
    since, until = insights.period(None, None)
    (need,) = await insights.list_needs(svc.storage, since, until)
    await insights.answer_need(svc.storage, need.id, "health-card", svc.assistant.brain.knowledge)
    bot.server.blocked.add(108)
    bot.app.job_queue.run_once(jobs.deliver_follow_ups, 0)  # type: ignore[union-attr]
    await bot.server.wait_for_messages(109, 2)
    assert "Good news" in bot.server.messages(109)[-1].text
    await asyncio.sleep(0.3)
    assert bot.rows("SELECT COUNT(*) FROM follow_ups WHERE sent_at IS NULL") == [(0,)]


async def test_updates_left_in_the_inbox_are_handled_at_start(tmp_path: Path) -> None:
    """A crash after fetching: the inbox holds the update; the next start answers it once."""
    async with FakeBotApi(TOKEN) as server:
        settings = _settings(server, tmp_path)
        first = telegram_app.build_application(settings)
        await telegram_app.start_polling(first, timeout=1)
        await telegram_app.stop(first)
        user = server.user(110)
        update = {
            "update_id": 424242,
            "message": server.message_json(user, 110, "how do I get a health card"),
        }
        sealed = Sealer(settings.hash_secret.encode()).seal(json.dumps(update))  # type: ignore[union-attr]
        import sqlite3

        with sqlite3.connect(settings.db_path) as raw:
            raw.execute(
                "INSERT INTO inbox (update_id, received_at, payload) VALUES (?, 'now', ?)",
                (424242, sealed),
            )
        second = telegram_app.build_application(settings)
        await telegram_app.start_polling(second, timeout=1)
        try:
            (reply,) = await server.wait_for_messages(110, 1)
            assert "ServiceOntario" in reply.text
            # Telegram sends the same update again (it was never acknowledged): not answered twice.
            await server.send_raw({**update})
            await asyncio.sleep(0.5)
        finally:
            await telegram_app.stop(second)
        assert len(server.messages(110)) == 1
        with sqlite3.connect(settings.db_path) as raw:
            assert raw.execute("SELECT COUNT(*) FROM questions").fetchone() == (1,)
            assert raw.execute(
                "SELECT payload IS NULL, done_at IS NOT NULL FROM inbox WHERE update_id = 424242"
            ).fetchone() == (1, 1)


async def test_stop_is_bounded_and_leaves_waiting_updates_in_the_inbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with FakeBotApi(TOKEN) as server:
        settings = _settings(server, tmp_path, stop_seconds=1.0)
        application = telegram_app.build_application(settings)
        await telegram_app.start_polling(application, timeout=1)
        svc = application.bot_data.services
        assert svc is not None

        async def slow(*args: object, **kwargs: object) -> object:
            await asyncio.sleep(30)
            raise AssertionError("never reached")

        monkeypatch.setattr(svc.assistant, "ask", slow)
        for i in range(20):
            await server.send_text(server.user(200 + i), "how do I get a health card")
        await server.wait_for(lambda: not server._updates, timeout=5)
        await asyncio.sleep(0.3)
        started = asyncio.get_running_loop().time()
        await telegram_app.stop(application)
        assert asyncio.get_running_loop().time() - started < 3.0
        import sqlite3

        with sqlite3.connect(settings.db_path) as raw:
            assert raw.execute("SELECT COUNT(*) FROM inbox WHERE done_at IS NULL").fetchone() == (
                20,
            )


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("https://bot.example.org", "telegram"),
        ("https://bot.example.org/", "telegram"),
        ("https://bot.example.org/a/b", "a/b"),
        ("https://bot.example.org/hook?x=1", "hook"),
    ],
)
def test_webhook_path_is_the_urls_path(url: str, path: str) -> None:
    assert webhook_path(url) == path


async def test_a_reply_sent_just_before_a_crash_is_not_sent_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kill -9 between Telegram's confirmation and the inbox's "done": the receipt, written
    the instant the reply was confirmed, stops the next start from answering again."""
    async with FakeBotApi(TOKEN) as server:
        settings = _settings(server, tmp_path)
        first = telegram_app.build_application(settings)
        await telegram_app.start_polling(first, timeout=1)
        svc = first.bot_data.services
        assert svc is not None

        async def crashed(update_id: int) -> None:  # the process dies before this commits
            raise StorageError("killed")

        monkeypatch.setattr(svc.storage.inbox, "done", crashed)
        await server.send_text(server.user(120), "how do I get a health card")
        await server.wait_for_messages(120, 1)
        await asyncio.sleep(0.2)
        await telegram_app.stop(first)
        monkeypatch.undo()
        import sqlite3

        with sqlite3.connect(settings.db_path) as raw:
            assert raw.execute("SELECT COUNT(*) FROM inbox WHERE done_at IS NULL").fetchone() == (
                1,
            )
        assert settings.receipts_file.stat().st_mode & 0o777 == 0o600

        second = telegram_app.build_application(settings)
        await telegram_app.start_polling(second, timeout=1)
        await asyncio.sleep(0.5)
        await telegram_app.stop(second)
        assert len(server.messages(120)) == 1
        with sqlite3.connect(settings.db_path) as raw:
            assert raw.execute("SELECT COUNT(*) FROM inbox WHERE done_at IS NULL").fetchone() == (
                0,
            )
            assert raw.execute("SELECT COUNT(*) FROM questions").fetchone() == (1,)
        assert settings.receipts_file.read_text() == ""  # settled receipts are dropped
