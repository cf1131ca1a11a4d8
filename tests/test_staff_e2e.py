"""Staff and partners through the real bot and the fake Bot API: triage, the weekly digest on
a controllable clock, partner links and their monthly list."""

from __future__ import annotations

import html
import re
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.insights.schedule import last_slot
from bot.telegram import digest, partners
from bot.telegram.context import BotContext
from tests.fakebotapi import FakeBotApi, SentMessage
from tests.test_telegram_e2e import STAFF_ID, TOKEN, Bot, _settings, polling, unsigned

PARTNER_KB = """
faqs:
  - id: swim-old
    questions: [where can I go swimming]
    answer: Ask the club.
    owner: Ajax Swim Club
    last_verified: 2020-01-01
  - id: swim-doubt
    questions: [swim lesson fees]
    answer: About fifty dollars.
    owner: Ajax Swim Club
    unverified: true
    last_verified: {today}
  - id: swim-fresh
    questions: [pool opening hours]
    answer: May to September.
    owner: Ajax Swim Club
    last_verified: {today}
  - id: soccer-old
    questions: [where can I play soccer]
    answer: Ask the league.
    owner: Oshawa Soccer League
    last_verified: 2020-01-01
"""

TORONTO = ZoneInfo("America/Toronto")  # the shipped region.yaml's time zone


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Bot]:
    async with FakeBotApi(TOKEN) as server:
        settings = _settings(server, tmp_path, staff_ids=frozenset({STAFF_ID}))
        # Today where the partner is (the region's zone, as the loader reads it): in UTC it is
        # already tomorrow in Toronto's evening, a date "in the future" there.
        today = datetime.now(ZoneInfo("America/Toronto")).date().isoformat()
        (settings.kb_dir / "partner.yaml").write_text(
            PARTNER_KB.format(today=today), encoding="utf-8"
        )
        async with polling(server, settings) as running:
            yield running


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql).fetchall()


async def press_and_read(bot: Bot, user_id: int, message: SentMessage, data: str) -> str:
    """Press a button; return the notice the bot answered with ("" for none)."""
    await bot.press(user_id, message, data)
    return str(bot.server.callback_answers[-1].get("text", ""))


def context_of(bot: Bot) -> BotContext:
    """A context for running a job by hand, to the second, instead of waiting for its timer."""
    return BotContext(bot.app)  # type: ignore[arg-type]


async def test_staff_triage_a_need_from_needs_to_answered(bot: Bot) -> None:
    asker = 40
    reply = await bot.ask(asker, "where can I buy a cricket bat")
    await bot.press(asker, reply, reply.data_for("Tell me"))
    await bot.ask(41, "cricket bat shop in Ajax")

    listing = await bot.ask(STAFF_ID, "/needs")
    assert "Open needs" in listing.text and "cricket bat" in listing.text
    await bot.press(STAFF_ID, listing, listing.data_for("cricket bat"))
    card = listing  # the list turns into the card in place
    assert "Need #1" in card.text and "Typical wordings" in card.text
    assert "Places: Ajax" in card.text and "Status: new" in card.text
    assert "First seen" in card.text and "Languages: en 2" in card.text

    await bot.press(STAFF_ID, card, card.data_for("Assign"))
    assert "Who should handle need #1" in card.text
    # Owners of the nearest entries come first; any owner of the knowledge base can be chosen.
    owner_button = card.data_for("Ajax Swim Club")
    notice = await press_and_read(bot, STAFF_ID, card, owner_button)
    assert notice == "Need #1 is assigned to Ajax Swim Club."
    assert "Assigned to: Ajax Swim Club" in card.text and "Status: assigned" in card.text

    await bot.press(STAFF_ID, card, card.data_for("Add a note"))
    (prompt,) = [m for m in bot.server.messages(STAFF_ID) if "Send me the note" in m.text]
    before = len(bot.server.messages(STAFF_ID))
    await bot.server.send_text(bot.server.user(STAFF_ID), "Ask the club about a shop list")
    noted = (await bot.server.wait_for_messages(STAFF_ID, before + 1))[-1]
    assert "Note added to need #1" in noted.text
    assert "Ask the club about a shop list" in noted.text and "you: note:" in noted.text

    await bot.press(STAFF_ID, noted, noted.data_for("Answer with an entry"))
    assert "Which entry answers need #1" in noted.text
    assert any(d.startswith("sp:1:") for _, d in noted.buttons)  # the nearest entries
    before = len(bot.server.messages(STAFF_ID))
    await bot.server.send_text(bot.server.user(STAFF_ID), "english")  # part of a title
    found = (await bot.server.wait_for_messages(STAFF_ID, before + 1))[-1]
    assert 'Entries with "english" in their title' in html.unescape(found.text)
    await bot.press(STAFF_ID, found, found.data_for("free English classes"))
    assert "The 1 people waiting will get it once" in found.text
    assert "Free English classes (LINC)" in found.text  # the entry as users will read it
    await bot.press(STAFF_ID, found, found.data_for("Yes, answer"))
    assert "Need #1 is answered by english-classes" in found.text
    assert "Add these questions to english-classes in kb/faqs.yaml:" in found.text
    assert "- where can I buy a cricket bat" in found.text

    told = await bot.server.wait_for_messages(asker, 2)
    assert "Good news" in told[-1].text and "Free English classes" in told[-1].text
    assert len(bot.server.messages(41)) == 1  # did not ask to be told: no message
    actions = rows(bot.db, "SELECT action, detail FROM need_actions ORDER BY id")
    assert actions == [
        ("assigned", "Ajax Swim Club"),
        ("note", "Ask the club about a shop list"),
        ("answered", "english-classes"),
    ]
    actor = rows(bot.db, "SELECT DISTINCT actor FROM need_actions")
    assert len(actor) == 1 and str(actor[0][0]) != str(STAFF_ID) and len(str(actor[0][0])) == 32
    assert rows(bot.db, "SELECT status, entry_id FROM needs") == [("answered", "english-classes")]
    assert prompt.text  # the prompt was its own message, the card stayed

    # Closed needs are listed with `/needs all`, and can be reopened (`needs set --status new`).
    assert "No open needs" in (await bot.ask(STAFF_ID, "/needs")).text
    everything = await bot.ask(STAFF_ID, "/needs all")
    assert "All needs" in everything.text and "answered" in everything.text
    await bot.press(STAFF_ID, everything, everything.data_for("cricket bat"))
    found = everything
    assert "Status: answered" in found.text and "Answer with an entry" not in found.text
    notice = await press_and_read(bot, STAFF_ID, found, found.data_for("Reopen"))
    assert notice == "Need #1 is open again (new)." and "Status: new" in found.text
    assert rows(bot.db, "SELECT action, detail FROM need_actions ORDER BY id")[-1] == (
        "status",
        "new",
    )

    # With nothing asked for, a staff member's text is an ordinary question again.
    reply = await bot.ask(STAFF_ID, "how do I get a health card")
    assert "ServiceOntario" in reply.text


async def test_staff_screens_follow_the_staff_members_language(bot: Bot) -> None:
    await bot.ask(42, "where can I buy a cricket bat")
    listing = await bot.ask(STAFF_ID, "/needs", lang="fr")
    assert "Besoins ouverts" in listing.text
    french = bot.server.user(STAFF_ID, language_code="fr")
    await bot.server.press_button(french, listing, listing.data_for("cricket"))
    await bot.server.wait_for_edit(listing, 1)
    assert "Formulations typiques" in listing.text and "État : nouveau" in listing.text
    assert listing.data_for("Confier").startswith("so:1")


async def test_needs_pages_scroll_ten_at_a_time(bot: Bot) -> None:
    # Twelve needs with nothing in common (grouping by meaning keeps them apart).
    topics = [
        "cricket bat",
        "halal butcher",
        "piano teacher",
        "dog groomer",
        "bicycle repair shop",
        "wedding hall",
        "kabaddi team",
        "car wash",
        "chess tournament",
        "aquarium fish store",
        "pottery class",
        "drone flying rules",
    ]
    for number, topic in enumerate(topics):
        await bot.ask(100 + number, f"where do I find a {topic}")
    listing = await bot.ask(STAFF_ID, "/needs")
    needs = [d for _, d in listing.buttons if d.startswith("sd:")]
    assert len(needs) == 10 and "Page 1 of 2" in listing.text
    await bot.press(STAFF_ID, listing, listing.data_for("Next"))
    assert len([d for _, d in listing.buttons if d.startswith("sd:")]) == 2
    assert "Page 2 of 2" in listing.text
    await bot.press(STAFF_ID, listing, listing.data_for("Previous"))
    assert "Page 1 of 2" in listing.text


async def test_forged_staff_buttons_change_nothing(bot: Bot) -> None:
    await bot.ask(43, "where can I buy a cricket bat")
    await bot.ask(STAFF_ID, "/needs")  # staff looked: the need exists
    before = rows(bot.db, "SELECT * FROM needs")
    forged = [
        "sn:1",
        "sd:1",
        "so:1:1",
        "sa:1:00000000",
        "ss:1",
        "sm:1",
        "se:1",
        "sp:1:english-classes",
        "sw:1:english-classes",
        "sr:1",
        "pr:1",
    ]
    # A message in the intruder's own chat carrying the forged buttons.
    message = SentMessage(
        43,
        99999,
        "x",
        None,
        {"inline_keyboard": [[{"text": d, "callback_data": d}] for d in forged]},
        0,
    )
    for data in forged:
        notice = await press_and_read(bot, 43, message, data)
        assert notice == "This button has expired. Please ask your question again."
    assert rows(bot.db, "SELECT * FROM needs") == before
    assert rows(bot.db, "SELECT COUNT(*) FROM need_actions") == [(0,)]
    assert rows(bot.db, "SELECT COUNT(*) FROM staff_prompts") == [(0,)]
    assert message.edits == 0
    # ...and their next text is an ordinary question, not a note.
    reply = await bot.ask(43, "how do I get a health card")
    assert "ServiceOntario" in reply.text
    assert rows(bot.db, "SELECT note FROM needs") == [("",)]


async def test_weekly_digest_is_sent_once_at_the_configured_time(bot: Bot) -> None:
    await bot.ask(44, "where can I buy a cricket bat")
    await bot.ask(44, "how do I get a health card")
    svc = bot.app.bot_data.services
    assert svc is not None
    real_now = datetime.now(UTC)
    # The first Monday 9:00 in Toronto after now: the questions above fall in its week.
    slot = last_slot(real_now + timedelta(days=7), 0, 9, TORONTO)
    assert slot.astimezone(TORONTO).strftime("%A %H:%M") == "Monday 09:00"

    svc.clock = lambda: slot - timedelta(hours=1)  # Monday 8:00: not yet
    await digest.weekly_digest(context_of(bot))
    assert bot.server.messages(STAFF_ID) == [] and bot.server.documents == []

    svc.clock = lambda: slot + timedelta(seconds=40)
    await digest.weekly_digest(context_of(bot))
    (message,) = bot.server.messages(STAFF_ID)
    local_start = (slot - timedelta(days=7)).strftime("%Y-%m-%d")
    assert f"Weekly digest: {local_start}" in message.text
    assert "Questions: 2 (the week before: 0)" in message.text
    assert "Answered straight away: 50%" in message.text
    assert "cricket bat" in message.text
    assert "Entries due for re-checking" in message.text and "The full report is attached" in (
        message.text
    )
    (document,) = bot.server.documents
    assert document["chat_id"] == STAFF_ID
    assert document["filename"].startswith("report-") and document["filename"].endswith(".html")
    assert b"<html" in document["content"] and b"cricket bat" in document["content"]
    assert document["caption"].startswith("Report from")

    # Later the same day, and after a restart (a new check): never twice.
    for later in (timedelta(minutes=1), timedelta(hours=3)):
        svc.clock = lambda later=later: slot + later  # type: ignore[misc]
        await digest.weekly_digest(context_of(bot))
    assert len(bot.server.messages(STAFF_ID)) == 1 and len(bot.server.documents) == 1


async def test_partner_link_works_once_and_the_monthly_list_has_exactly_their_stale_entries(
    bot: Bot,
) -> None:
    svc = bot.app.bot_data.services
    assert svc is not None
    now = datetime.now(UTC)
    await svc.storage.partners.invite("ajaxcode123", "Ajax Swim Club", now + timedelta(days=14))
    await svc.storage.partners.invite("oldcode4567", "Ajax Swim Club", now - timedelta(days=1))

    partner = bot.server.user(60)
    await bot.server.send_text(partner, "/start partner-ajaxcode123")
    welcome, first_list = await bot.server.wait_for_messages(60, 2)
    assert "linked to Ajax Swim Club" in welcome.text
    assert rows(bot.db, "SELECT source FROM users") == []  # the code is never kept as a source

    await bot.server.send_text(bot.server.user(61), "/start partner-ajaxcode123")
    (used,) = await bot.server.wait_for_messages(61, 1)
    assert "already used" in used.text
    await bot.server.send_text(bot.server.user(62), "/start partner-oldcode4567")
    (expired,) = await bot.server.wait_for_messages(62, 1)
    assert "expired" in expired.text
    await bot.server.send_text(bot.server.user(63), "/start partner-nosuchcode1")
    (unknown,) = await bot.server.wait_for_messages(63, 1)
    assert "does not work" in unknown.text
    assert rows(bot.db, "SELECT owner FROM partners") == [("Ajax Swim Club",)]

    def listed(message: SentMessage) -> set[str]:
        return set(re.findall(r"\(([a-z0-9-]+)\)", message.text))

    assert listed(first_list) == {"swim-old", "swim-doubt"}

    # A month later, on a weekday morning in Durham: the monthly list, once.
    later = (now + timedelta(days=31)).astimezone(TORONTO)
    while later.weekday() >= 5:
        later += timedelta(days=1)
    morning = later.replace(hour=10, minute=0).astimezone(UTC)
    svc.clock = lambda: morning
    await partners.nudge_partners(context_of(bot))
    await partners.nudge_partners(context_of(bot))
    messages = bot.server.messages(60)
    assert len(messages) == 3
    monthly = messages[-1]
    assert listed(monthly) == {"swim-old", "swim-doubt"}  # not soccer-old, not fresh
    assert "Entries of Ajax Swim Club to check" in monthly.text
    assert "soccer" not in monthly.text
    assert {d for _, d in unsigned(monthly)} == {"pk:swim-old", "pk:swim-doubt"}

    notice = await press_and_read(bot, 60, monthly, "pk:swim-old")
    assert notice == "Thank you! We noted that swim-old is still right."
    assert {d for _, d in unsigned(monthly)} == {"pk:swim-doubt"}
    confirmed = rows(bot.db, "SELECT entry_id, owner FROM confirmations")
    assert confirmed == [("swim-old", "Ajax Swim Club")]

    # Someone else's entry, or a non-partner: refused, nothing recorded. Data the bot did not
    # sign for the presser fails the signature check first ("this button has expired").
    forged = SentMessage(
        60,
        99998,
        "x",
        None,
        {"inline_keyboard": [[{"text": "f", "callback_data": "pk:soccer-old"}]]},
        0,
    )
    assert "expired" in await press_and_read(bot, 60, forged, "pk:soccer-old")
    stranger = SentMessage(
        64,
        99997,
        "x",
        None,
        {"inline_keyboard": [[{"text": "f", "callback_data": "pk:swim-doubt"}]]},
        0,
    )
    assert "expired" in await press_and_read(bot, 64, stranger, "pk:swim-doubt")
    assert len(rows(bot.db, "SELECT * FROM confirmations")) == 1

    # Staff see the link and can revoke it; a revoked partner gets no more lists.
    panel = await bot.ask(STAFF_ID, "/partners")
    assert "#1 Ajax Swim Club" in panel.text
    notice = await press_and_read(bot, STAFF_ID, panel, panel.data_for("Revoke #1"))
    assert notice == "Partner link #1 is revoked."
    svc.clock = lambda: morning + timedelta(days=35)
    await partners.nudge_partners(context_of(bot))
    assert len(bot.server.messages(60)) == 3
