"""The real python-telegram-bot Application against the fake Bot API, over real HTTP."""

from __future__ import annotations

import contextlib
import logging
import socket
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.insights import overview as insights
from bot.knowledge.loader import load_knowledge
from bot.telegram import app as telegram_app
from bot.telegram import jobs
from tests.conftest import BUS_KB, ENCODER_OFF, SMALL_KB, write_kb
from tests.fakebotapi import FakeBotApi, SentMessage

TOKEN = "123456:TEST-token-never-logged-abcdef"


def unsign(data: str) -> str:
    """Callback data without the signature the bot appends (bot/telegram/keyboards.py)."""
    return data.rpartition(":")[0] if data.count(":") >= 2 else data


def unsigned(message: SentMessage) -> list[tuple[str, str]]:
    """A message's buttons with their data unsigned, to compare with what a screen offers."""
    return [(label, unsign(data)) for label, data in message.buttons]


STAFF_ID = 900


@dataclass
class Bot:
    server: FakeBotApi
    app: telegram_app.BotApp
    db: Path

    def rows(self, sql: str) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.db) as db:
            return db.execute(sql).fetchall()

    async def ask(self, user_id: int, text: str, lang: str | None = "en") -> SentMessage:
        user = self.server.user(user_id, language_code=lang)
        before = len(self.server.messages(user_id))
        await self.server.send_text(user, text)
        return (await self.server.wait_for_messages(user_id, before + 1))[-1]

    async def press(self, user_id: int, message: SentMessage, data: str) -> None:
        """Press the button whose data is `data`, signed or not (the signature is found)."""
        answers = len(self.server.callback_answers)
        signed = next((d for _, d in message.buttons if d == data or unsign(d) == data), data)
        await self.server.press_button(self.server.user(user_id), message, signed)
        await self.server.wait_for(lambda: len(self.server.callback_answers) > answers)


EVENTS_KB = {
    "events.yaml": """
        events:
          - id: fair-soon
            title: Newcomer fair
            start: "{soon}"
            municipality: Oshawa
            location: Oshawa Centre
            questions: [newcomer fair]
            source: https://www.durhamimmigration.ca/en/index.aspx
            last_verified: 2026-11-01
          - id: picnic-later
            title: Welcome picnic
            start: "{later}"
            municipality: Ajax
            source: https://www.durhamimmigration.ca/en/index.aspx
            last_verified: 2026-11-01
          - id: party-past
            title: Old party
            start: "{past}"
            municipality: Ajax
            source: https://www.durhamimmigration.ca/en/index.aspx
            last_verified: 2026-11-01
        """,
}


def _kb(tmp_path: Path) -> Path:
    now = datetime.now(UTC)
    fmt = "%Y-%m-%d %H:%M"
    events = EVENTS_KB["events.yaml"].format(
        soon=(now + timedelta(days=2)).strftime(fmt),
        later=(now + timedelta(days=20)).strftime(fmt),
        past=(now - timedelta(days=20)).strftime(fmt),
    )
    return write_kb(tmp_path, {**SMALL_KB, "events.yaml": events, "bus.yaml": BUS_KB})


def _settings(server: FakeBotApi, tmp_path: Path, **extra: Any) -> Settings:
    """Settings for a bot talking to the fake server, with its files in tmp_path."""
    return Settings(
        telegram_token=TOKEN,
        api_base_url=server.base_url,
        kb_dir=_kb(tmp_path),
        db_path=tmp_path / "bot.sqlite3",
        hash_secret="s" * 32,
        **extra,
    )


@contextlib.asynccontextmanager
async def polling(server: FakeBotApi, settings: Settings) -> AsyncIterator[Bot]:
    """The real bot polling a fake Bot API with these settings; no unknown API call allowed."""
    application = telegram_app.build_application(settings)
    await telegram_app.start_polling(application, timeout=1)
    try:
        yield Bot(server, application, settings.db_path)
    finally:
        await telegram_app.stop(application)
    assert server.unknown == []


@contextlib.asynccontextmanager
async def running_bot(tmp_path: Path) -> AsyncIterator[Bot]:
    """The real bot polling the fake Bot API, with its files in tmp_path."""
    async with FakeBotApi(TOKEN) as server:
        settings = _settings(server, tmp_path, staff_ids=frozenset({STAFF_ID}))
        async with polling(server, settings) as bot:
            yield bot


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Bot]:
    async with running_bot(tmp_path) as running:
        yield running


async def test_welcome_in_english_and_french(bot: Bot) -> None:
    reply = await bot.ask(1, "/start", lang="en")
    assert "welcome to Durham Region" in reply.text
    assert "/forget" in reply.text  # the privacy line
    assert any(data == "t:health" for _, data in unsigned(reply))
    reply = await bot.ask(2, "/start", lang="fr-CA")
    assert "bienvenue dans la région de Durham" in reply.text
    assert ("🩺 Santé", "t:health") in unsigned(reply)


async def test_command_menu_is_registered_per_language(bot: Bot) -> None:
    commands = bot.server.commands
    assert {c["command"] for c in commands[("default", "")]} >= {"start", "topics", "forget"}
    french = {c["command"]: c["description"] for c in commands[("default", "fr")]}
    assert french["forget"] == "Tout effacer sur vous"


async def test_deep_link_opens_topic_and_records_source(bot: Bot) -> None:
    user = bot.server.user(3)
    await bot.server.send_text(user, "/start health")
    messages = await bot.server.wait_for_messages(3, 2)
    assert "Health" in messages[1].text
    assert ("how do I get a health card", "e:health-card") in unsigned(messages[1])
    assert bot.rows("SELECT source FROM users") == [("health",)]


async def test_answer_card_with_contacts_and_feedback(bot: Bot) -> None:
    reply = await bot.ask(4, "how do i get a helth card")
    assert reply.parse_mode == "HTML"
    assert "Apply for OHIP at a ServiceOntario centre" in reply.text
    assert "<b>ServiceOntario</b>" in reply.text
    assert "1-800-267-8097" in reply.text
    assert '<a href="https://www.ontario.ca/page/serviceontario">' in reply.text
    assert reply.data_for("helpful").startswith("f:1:")
    assert ("⬅️ Health", "t:health") in unsigned(reply)
    await bot.press(4, reply, reply.data_for("👎"))
    assert bot.rows("SELECT entry_id, helpful FROM feedback") == [("health-card", 0)]
    assert not any(d.startswith("f:") for _, d in unsigned(reply))  # feedback buttons removed
    assert bot.server.callback_answers[-1]["text"].startswith("Thank you")


async def test_address_has_a_map_link(bot: Bot) -> None:
    reply = await bot.ask(5, "free english classes LINC")
    assert "1400 Bayly Street" in reply.text
    assert "https://www.google.com/maps/search/?api=1&amp;query=1400+Bayly+Street" in reply.text


async def test_did_you_mean_then_button(bot: Bot) -> None:
    reply = await bot.ask(6, "bus")
    assert "Did you mean" in reply.text
    choice = next(d for _, d in unsigned(reply) if d.startswith("a:"))
    entry_id = choice.split(":")[1]
    await bot.press(6, reply, choice)
    assert reply.edits == 1
    assert "Was this helpful" not in reply.text
    assert any(d.startswith("f:1:") for _, d in unsigned(reply))
    assert bot.rows("SELECT outcome, entry_id FROM questions") == [("ambiguous", entry_id)]


async def test_unanswered_is_logged_and_follow_up_reaches_the_asker(
    bot: Bot, tmp_path: Path
) -> None:
    reply = await bot.ask(7, "where can I buy a cricket bat? call me 905-555-1234")
    assert "I do not know the answer to that yet" in reply.text
    assert "211" in reply.text and "Pickering Welcome Centre" in reply.text
    rows = bot.rows("SELECT outcome, text, user_hash FROM questions")
    assert rows[0][:2] == ("unanswered", "where can I buy a cricket bat? call me [phone]")
    assert rows[0][2] != "7" and len(str(rows[0][2])) == 32  # a keyed hash, not the id
    await bot.press(7, reply, reply.data_for("Tell me"))
    assert bot.rows("SELECT COUNT(*) FROM follow_ups") == [(1,)]

    svc = bot.app.bot_data.services
    since, until = insights.period(None, None)
    (need,) = await insights.list_needs(svc.storage, since, until)
    knowledge = load_knowledge(tmp_path / "kb")
    await insights.answer_need(svc.storage, need.id, "english-classes", knowledge)
    bot.app.job_queue.run_once(jobs.deliver_follow_ups, 0)
    messages = await bot.server.wait_for_messages(7, 2)
    assert "Good news" in messages[-1].text
    assert "Free English classes" in messages[-1].text
    done = [("", 1)]
    await bot.server.wait_for(
        lambda: bot.rows("SELECT chat_token, sent_at IS NOT NULL FROM follow_ups") == done
    )


async def test_unanswered_offers_answers_that_might_help(tmp_path: Path) -> None:
    async with FakeBotApi(TOKEN) as server:
        settings = _settings(server, tmp_path, answer_threshold=100.0, related_threshold=5.0)
        application = telegram_app.build_application(settings)
        await telegram_app.start_polling(application, timeout=1)
        try:
            helper = Bot(server, application, settings.db_path)
            reply = await helper.ask(30, "how do I get a health card")
            assert "I do not know the answer to that yet" in reply.text
            assert "These answers might help:" in reply.text
            choice = reply.data_for("how do I get a health card")
            assert choice.startswith("a:health-card:")
            assert reply.data_for("Tell me").startswith("n:")
            await helper.press(30, reply, choice)
            assert "Apply for OHIP at a ServiceOntario centre" in reply.text
        finally:
            await telegram_app.stop(application)
    # Still an emerging need: staff see the question even though a related answer was read.
    rows = helper.rows("SELECT outcome, entry_id FROM questions")
    assert rows == [("unanswered", None)]
    assert helper.rows("SELECT entry_id FROM referrals")[:1] == [("health-card",)]


async def test_other_languages_are_pointed_to_211_in_their_own_words(bot: Bot) -> None:
    portuguese = "Para ajuda gratuita no seu idioma"
    # The ten languages added in issue 15 are answered; the sentence says so.
    reply = await bot.ask(31, "/start", lang="pt")
    assert "welcome to Durham Region" in reply.text and portuguese in reply.text
    reply = await bot.ask(31, "where can I buy a cricket bat", lang="pt")
    assert reply.text.startswith("Respondo em inglês, francês e mais dez idiomas")
    assert "I do not know the answer to that yet" in reply.text
    # A shipped language is answered in itself, with no 211 sentence.
    reply = await bot.ask(32, "/start", lang="es")
    assert "bienvenido a Durham Region" in reply.text and portuguese not in reply.text
    # A known answer needs no extra sentence, and French speakers are answered in French.
    reply = await bot.ask(33, "how do I get a health card", lang="pt")
    assert "Respondo em" not in reply.text
    reply = await bot.ask(34, "/start", lang="fr")
    assert portuguese not in reply.text and "211" not in reply.text


async def test_crisis_reply_comes_first_and_only_the_category_is_logged(bot: Bot) -> None:
    reply = await bot.ask(8, "i want to kill myself, how do I get a health card")
    assert reply.text.startswith("<b>You are not alone")
    assert "988" in reply.text
    assert "ServiceOntario" not in reply.text
    assert bot.rows("SELECT outcome, text, crisis_category FROM questions") == [
        ("crisis", None, "self_harm")
    ]


async def test_not_an_emergency_shows_the_answer_and_staff_see_the_count(bot: Bot) -> None:
    reply = await bot.ask(40, "i want to kill myself, how do I get a health card")
    assert "988" in reply.text
    (data,) = [d for label, d in reply.buttons if "not an emergency" in label]
    before = len(bot.server.messages(40))
    await bot.press(40, reply, data)
    answer = (await bot.server.wait_for_messages(40, before + 1))[-1]
    assert "Apply for OHIP" in answer.text  # the ordinary answer, after all
    assert reply.buttons == []  # the button is gone; the crisis numbers stay above
    # The log still holds no text: only the category, and the press.
    assert bot.rows("SELECT text, crisis_category, not_emergency FROM questions") == [
        (None, "self_harm", 1)
    ]
    stats = await bot.ask(STAFF_ID, "/stats")
    assert "Said not an emergency: self_harm 1" in stats.text


async def test_greetings_thanks_and_no_get_a_word_back_and_are_not_logged(bot: Bot) -> None:
    reply = await bot.ask(43, "hi!")
    assert reply.text.startswith("Hello! 👋 Ask me a question in your own words")
    assert "911" not in reply.text and "do not know" not in reply.text
    reply = await bot.ask(43, "شکریہ", lang="ur")
    assert "کوئی بات نہیں" in reply.text  # right to left, in Urdu
    reply = await bot.ask(43, "bye!")
    assert "Goodbye" in reply.text and "911" in reply.text
    # "no", "?" and "that did not help" answer the bot: an apology, 911/988 and who can help.
    for said in ("no", "?", "that didn't help", "نہیں"):
        reply = await bot.ask(43, said)
        assert "911" in reply.text and "211" in reply.text, said
        assert "do not know" not in reply.text and "passed your question" not in reply.text
    assert "Sorry, that did not help" in (await bot.ask(43, "wrong answer")).text
    # A request to erase data gets the privacy notice: how /forget erases everything.
    for asked in ("how do I delete my data?", "اطلاعات من را حذف کنید"):
        reply = await bot.ask(43, asked)
        assert "forget" in reply.text and "365" in reply.text, asked  # RTL marks in Persian
        assert "passed your question" not in reply.text
    assert bot.rows("SELECT COUNT(*) FROM questions") == [(0,)]  # not an emerging need
    reply = await bot.ask(43, "hi, where can I buy a cricket bat")
    assert "I do not know the answer to that yet" in reply.text
    assert bot.rows("SELECT COUNT(*) FROM questions") == [(1,)]


async def test_unsure_replies_carry_the_safety_net(bot: Bot) -> None:
    reply = await bot.ask(41, "where can I buy a cricket bat")
    assert "call 911" in reply.text and "988" in reply.text
    reply = await bot.ask(42, "Де знайти безкоштовний одяг для дітей")
    assert "911" in reply.text and "Якщо ви або хтось інший" in reply.text


async def test_topics_navigation_edits_one_message(bot: Bot) -> None:
    menu = await bot.ask(9, "/topics")
    await bot.press(9, menu, "t:health")
    assert "Health" in menu.text
    await bot.press(9, menu, "e:health-card")
    assert "Apply for OHIP" in menu.text
    await bot.press(9, menu, "t:health")
    await bot.press(9, menu, "t:")
    assert menu.edits == 4
    assert len(bot.server.messages(9)) == 1  # no flood of new messages


async def test_events_soonest_first_past_never_and_filter(bot: Bot) -> None:
    reply = await bot.ask(10, "/events")
    assert reply.text.index("Newcomer fair") < reply.text.index("Welcome picnic")
    assert "Old party" not in reply.text
    await bot.press(10, reply, "ev:Ajax")
    assert "Welcome picnic" in reply.text and "Newcomer fair" not in reply.text


async def test_language_switch_is_remembered(bot: Bot) -> None:
    menu = await bot.ask(11, "/language")
    await bot.press(11, menu, "l:fr")
    assert "en français" in menu.text
    reply = await bot.ask(11, "/help", lang="en")
    assert "Posez votre question" in reply.text
    reply = await bot.ask(11, "how do I get a health card")
    assert "Demandez la carte Santé" in reply.text


async def test_forget_erases_everything(bot: Bot) -> None:
    await bot.ask(12, "where can I buy a cricket bat")
    await bot.ask(12, "/start poster")
    assert bot.rows("SELECT COUNT(*) FROM questions") == [(1,)]
    confirm = await bot.ask(12, "/forget")
    await bot.press(12, confirm, "fg:y")
    assert "I erased everything" in confirm.text
    assert bot.rows("SELECT COUNT(*) FROM questions") == [(0,)]
    assert bot.rows("SELECT COUNT(*) FROM users") == [(0,)]


async def test_non_text_messages_get_a_kind_reply(bot: Bot) -> None:
    user = bot.server.user(13)
    for send in (
        bot.server.send_sticker,
        bot.server.send_photo,
        bot.server.send_voice,
        bot.server.send_location,
    ):
        await send(user)
    messages = await bot.server.wait_for_messages(13, 4)
    assert all("I can only read text messages" in m.text for m in messages)


async def test_very_long_message_and_html_in_question(bot: Bot) -> None:
    reply = await bot.ask(14, "health card " + "x" * 10_000)
    assert len(reply.text) <= 4096
    (text,) = bot.rows("SELECT text FROM questions")[0]
    assert len(str(text)) == 500
    reply = await bot.ask(14, "<b>hi</b> & <script>alert(1)</script> cricket")
    assert "<script>" not in reply.text  # the fake would have refused bad HTML anyway


async def test_group_messages_need_a_mention_or_reply(bot: Bot) -> None:
    group = -100
    user = bot.server.user(15)
    await bot.server.send_text(user, "how do I get a health card", chat_id=group)
    await bot.server.send_text(
        user, f"@{bot.server.bot_username} how do I get a health card", chat_id=group
    )
    (answer,) = await bot.server.wait_for_messages(group, 1)
    assert "OHIP" in answer.text
    await bot.server.send_text(user, "and for my kids?", chat_id=group, reply_to=answer)
    await bot.server.wait_for_messages(group, 2)
    assert bot.rows("SELECT COUNT(*) FROM questions") == [(2,)]


async def test_flood_control_slows_a_user_politely(bot: Bot) -> None:
    user = bot.server.user(16)
    for i in range(35):
        await bot.server.send_text(user, f"cricket bat {i}")
    await bot.server.wait_for(
        lambda: any("very fast" in m.text for m in bot.server.messages(16)), timeout=10
    )
    await bot.server.wait_for(lambda: len(bot.server.messages(16)) >= 31, timeout=10)
    messages = bot.server.messages(16)
    assert sum("very fast" in m.text for m in messages) == 1
    assert bot.rows("SELECT COUNT(*) FROM questions") == [(30,)]


async def test_staff_commands_only_for_staff(bot: Bot) -> None:
    await bot.ask(17, "where can I buy a cricket bat")
    reply = await bot.ask(17, "/needs")
    assert "do not know that command" in reply.text
    reply = await bot.ask(STAFF_ID, "/needs")
    assert "cricket bat" in reply.text
    reply = await bot.ask(STAFF_ID, "/stats")
    assert "Questions: 1 · answered: 0%" in reply.text  # commands are not questions
    reply = await bot.ask(17, "/stats")
    assert "do not know that command" in reply.text


async def test_unknown_command(bot: Bot) -> None:
    reply = await bot.ask(18, "/dance")
    assert "do not know that command" in reply.text


async def test_errors_are_logged_with_traceback_and_the_user_is_told(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    svc = bot.app.bot_data.services

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database exploded at /secret/path")

    monkeypatch.setattr(svc.assistant, "ask", broken)
    reply = await bot.ask(19, "how do I get a health card")
    assert reply.text == "Sorry, something went wrong on our side. Please try again in a minute."
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors and errors[0].exc_info is not None
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_mode_with_secret(tmp_path: Path) -> None:
    async with FakeBotApi(TOKEN) as server:
        settings = _settings(server, tmp_path)
        application = telegram_app.build_application(settings)
        port = _free_port()
        await application.initialize()
        await application.post_init(application)  # type: ignore[misc]
        await application.start()
        assert application.updater is not None
        await application.updater.start_webhook(
            listen="127.0.0.1",
            port=port,
            url_path="hook",
            webhook_url=f"http://127.0.0.1:{port}/hook",
            secret_token="s3cret",
        )
        try:
            assert server.webhook_url == f"http://127.0.0.1:{port}/hook"
            user = server.user(20)
            await server.send_text(user, "how do I get a health card")
            (reply,) = await server.wait_for_messages(20, 1)
            assert "ServiceOntario" in reply.text
            status = await server.post_raw_webhook({"update_id": 999}, secret="wrong")
            assert status == 403
        finally:
            await telegram_app.stop(application)


async def test_fake_server_refuses_like_telegram(bot: Bot) -> None:
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup
    from telegram.error import BadRequest

    with pytest.raises(BadRequest, match="too long"):
        await bot.app.bot.send_message(1, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.app.bot.send_message(1, "<b>oops", parse_mode="HTML")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data="x" * 65)]])
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.app.bot.send_message(1, "hi", reply_markup=keyboard)


async def test_run_command_serves_users_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    import asyncio
    import os
    import signal
    import sys

    project = Path(__file__).resolve().parent.parent
    async with FakeBotApi(TOKEN) as server:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            **ENCODER_OFF,
            "HOME": str(tmp_path),
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": server.base_url,
            "BOT_KB": str(_kb(tmp_path)),
            "BOT_DB": str(tmp_path / "run.sqlite3"),
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(project / "run_bot.py"),
            "run",
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await server.wait_for(lambda: bool(server.calls("getUpdates")), timeout=20)
            await server.send_text(server.user(21), "how do I get a health card")
            (reply,) = await server.wait_for_messages(21, 1, timeout=20)
            assert "ServiceOntario" in reply.text
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), 20)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        assert process.returncode == 0, stderr.decode()
        assert TOKEN not in stderr.decode()
        with sqlite3.connect(tmp_path / "run.sqlite3") as db:
            assert db.execute("SELECT outcome FROM questions").fetchall() == [("answered",)]


async def test_buttons_still_work_after_a_restart(tmp_path: Path) -> None:
    async with FakeBotApi(TOKEN) as server:
        settings = _settings(server, tmp_path)
        first = telegram_app.build_application(settings)
        await telegram_app.start_polling(first, timeout=1)
        await server.send_text(server.user(22), "how do I get a health card")
        (reply,) = await server.wait_for_messages(22, 1)
        assert "Was this helpful?" in reply.text
        await telegram_app.stop(first)

        second = telegram_app.build_application(settings)
        await telegram_app.start_polling(second, timeout=1)
        try:
            await server.press_button(server.user(22), reply, reply.data_for("👍"))
            await server.wait_for(lambda: bool(server.callback_answers))
        finally:
            await telegram_app.stop(second)
        with sqlite3.connect(tmp_path / "bot.sqlite3") as db:
            rows = db.execute("SELECT entry_id, helpful, question_id FROM feedback").fetchall()
        assert rows == [("health-card", 1, 1)]


async def test_live_reload_serves_valid_edits_and_refuses_broken_ones(
    bot: Bot, tmp_path: Path
) -> None:
    kb = tmp_path / "kb"
    reply = await bot.ask(23, "where is the cricket club")
    assert "I do not know" in reply.text
    (kb / "sports.yaml").write_text(
        "faqs:\n"
        "  - id: cricket-club\n"
        "    questions: [where is the cricket club, cricket club in ajax, play cricket]\n"
        "    answer: The Ajax Cricket Club welcomes newcomers.\n",
        encoding="utf-8",
    )
    svc = bot.app.bot_data.services
    await bot.server.wait_for(
        lambda: svc.assistant.brain.knowledge.faqs.get("cricket-club") is not None, timeout=15
    )
    reply = await bot.ask(23, "where is the cricket club")
    assert "Ajax Cricket Club" in reply.text

    (kb / "broken.yaml").write_text("faqs:\n  - id: oops\n\tquestions: [x]\n", encoding="utf-8")
    (staff_alert,) = await bot.server.wait_for_messages(STAFF_ID, 1, timeout=15)
    assert "NOT reloaded" in staff_alert.text
    assert "kb/broken.yaml:3:1: this line has a tab character" in staff_alert.text
    reply = await bot.ask(23, "cricket club in ajax")  # the last good version still serves
    assert "Ajax Cricket Club" in reply.text


async def test_staff_needs_shows_labels_and_the_rising_flag(bot: Bot) -> None:
    # 4 people this week, none in the 4 weeks before: P(4 or more | 0.5 a week) = 0.2% < 1%.
    for user, text in enumerate(
        ["cricket bat shop", "where to buy a cricket bat", "cricket bats?", "cricket bat store"]
    ):
        await bot.ask(30 + user, text)
    reply = await bot.ask(STAFF_ID, "/needs")
    assert "rising fast" in reply.text
    assert "cricket bat" in reply.text


RLM = "\u200f"  # RIGHT-TO-LEFT MARK: every line of an Urdu reply starts with one


@pytest.fixture
async def shipped_bot(tmp_path: Path) -> AsyncIterator[Bot]:
    """The bot on the shipped knowledge base (the one with the translations)."""
    async with FakeBotApi(TOKEN) as server:
        settings = Settings(
            telegram_token=TOKEN,
            api_base_url=server.base_url,
            kb_dir=Path(__file__).resolve().parent.parent / "knowledge",
            db_path=tmp_path / "bot.sqlite3",
            hash_secret="s" * 32,
        )
        application = telegram_app.build_application(settings)
        await telegram_app.start_polling(application, timeout=1)
        try:
            yield Bot(server, application, settings.db_path)
        finally:
            await telegram_app.stop(application)
        assert server.unknown == []


async def test_urdu_phone_gets_urdu_right_to_left_and_language_switches_to_english(
    shipped_bot: Bot,
) -> None:
    bot = shipped_bot
    # Welcome and menus in Urdu, from the phone's language alone.
    reply = await bot.ask(51, "/start", lang="ur")
    assert "السلام علیکم" in reply.text and "welcome" not in reply.text
    assert any(label.endswith("صحت") and data == "t:health" for label, data in unsigned(reply))
    # An answer in Urdu, laid out right to left, numbers and names kept in Latin letters.
    reply = await bot.ask(51, "ہیلتھ کارڈ کیسے ملے گا", lang="ur")
    assert "ServiceOntario" in reply.text and "سینٹر" in reply.text
    lines = [line for line in reply.text.split("\n") if line.strip()]
    assert [line for line in lines if not line.startswith(RLM)] == []
    assert "\u200eServiceOntario\u200e" in reply.text
    # /language lists all twelve languages in their own names; English then always wins.
    menu = await bot.ask(51, "/language", lang="ur")
    names = [label for label, _ in menu.buttons]
    assert "اردو" in names and "English" in names and "Français" in names and len(names) == 12
    await bot.press(51, menu, dict((label, data) for label, data in menu.buttons)["English"])
    reply = await bot.ask(51, "ہیلتھ کارڈ کیسے ملے گا", lang="ur")
    assert "ServiceOntario" in reply.text and RLM not in reply.text
    assert "سینٹر" not in reply.text  # the English answer
    reply = await bot.ask(51, "/start", lang="ur")
    assert "welcome to Durham Region" in reply.text


async def test_untranslated_answer_says_so_in_the_persons_language(bot: Bot) -> None:
    # The small test knowledge base is in English only: someone who chose Spanish gets the
    # English answer with one Spanish line saying it is not translated yet.
    menu = await bot.ask(52, "/language", lang="es")
    await bot.press(52, menu, dict(menu.buttons)["Español"])
    reply = await bot.ask(52, "how do I get a health card", lang="es")
    assert "todavía no está traducida al español" in reply.text
    assert "ServiceOntario" in reply.text


async def test_a_message_read_as_two_kinds_of_danger_lists_both_kinds_contacts(
    shipped_bot: Bot,
) -> None:
    bot = shipped_bot
    # Suicide words in a threat at home: the self-harm reply, then the shelters' numbers too.
    reply = await bot.ask(9, "my husband says he will kill himself and me if I leave him")
    assert reply.text.startswith("<b>You are not alone")
    assert "988" in reply.text
    assert "Herizon House" in reply.text and "1-866-437-4066" in reply.text
    assert "Denise House" in reply.text and "1-800-263-3725" in reply.text
    # Only the first kind is logged, as for any crisis.
    assert bot.rows("SELECT text, crisis_category FROM questions") == [(None, "self_harm")]
