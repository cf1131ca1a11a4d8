"""Staff and partner features below Telegram: schedules, triage helpers, storage, screens, CLI."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cli.main import main
from bot.insights import overview as insights
from bot.insights import schedule, triage
from bot.insights.digest import PartnerList
from bot.insights.screens import NEEDS_PER_PAGE, StaffScreens
from bot.knowledge.freshness import DueEntry
from bot.knowledge.loader import load_knowledge
from bot.needs.grouping import NeedSummary
from bot.replies.cards import PLAIN
from bot.replies.messages import Catalogue
from bot.replies.screens import Action
from bot.storage import NeedAction, Redeemed, Storage, StorageError
from tests.fakebotapi import FakeBotApi

# -- schedules -------------------------------------------------------------------------------

TORONTO = ZoneInfo("America/Toronto")  # the shipped region.yaml's time zone


def test_last_slot_is_monday_nine_in_toronto_across_daylight_saving() -> None:
    # Tuesday 3 November 2026, after the clocks went back (EST, UTC-5).
    slot = schedule.last_slot(datetime(2026, 11, 3, 12, tzinfo=UTC), 0, 9, TORONTO)
    assert slot == datetime(2026, 11, 2, 14, tzinfo=UTC)
    # Monday 26 October 2026, daylight time (EDT, UTC-4), a minute before nine: last week's.
    slot = schedule.last_slot(datetime(2026, 10, 26, 12, 59, tzinfo=UTC), 0, 9, TORONTO)
    assert slot == datetime(2026, 10, 19, 13, tzinfo=UTC)


def test_last_slot_is_the_latest_before_now() -> None:
    # Every 7 h 13 min for two years: every hour of every weekday, both clock changes.
    now = datetime(2026, 1, 1, tzinfo=UTC)
    while now < datetime(2028, 1, 1, tzinfo=UTC):
        slot = schedule.last_slot(now, 0, 9, TORONTO)
        local = slot.astimezone(TORONTO)
        assert slot <= now < slot + timedelta(days=7, hours=1)
        assert (local.weekday(), local.hour, local.minute) == (0, 9, 0)
        assert now - slot < timedelta(days=7) or local.dst() != (now.astimezone(TORONTO).dst())
        now += timedelta(hours=7, minutes=13)


def test_digest_due_only_within_the_grace() -> None:
    slot = datetime(2026, 11, 2, 14, tzinfo=UTC)
    assert schedule.digest_due(slot + timedelta(hours=11), 0, 9, TORONTO) == slot
    assert schedule.digest_due(slot + timedelta(hours=13), 0, 9, TORONTO) is None
    assert schedule.slot_name(slot) == "2026-11-02T14:00Z"
    assert schedule.weekday_number("Friday") == 4
    with pytest.raises(ValueError, match="not a day"):
        schedule.weekday_number("someday")


def test_partner_nudges_are_monthly_and_in_office_hours() -> None:
    joined = datetime(2026, 10, 1, 14, tzinfo=UTC)
    month = timedelta(days=30)
    tuesday_ten = datetime(2026, 11, 3, 15, tzinfo=UTC)  # 10:00 in Toronto
    assert schedule.nudge_due(tuesday_ten, None, joined, month, TORONTO)
    assert not schedule.nudge_due(
        tuesday_ten, tuesday_ten - timedelta(days=3), joined, month, TORONTO
    )
    assert not schedule.nudge_due(tuesday_ten + timedelta(hours=10), None, joined, month, TORONTO)
    saturday = datetime(2026, 11, 7, 15, tzinfo=UTC)
    assert not schedule.nudge_due(saturday, None, joined, month, TORONTO)


# -- triage helpers --------------------------------------------------------------------------


def test_owners_keys_and_search(small_kb: Path) -> None:
    knowledge = load_knowledge(small_kb)
    names = triage.owners(knowledge)
    assert names[0] == "Government of Canada" and "Region of Durham" in names
    key = triage.owner_key("Region of Durham")
    assert len(key) == 8 and triage.owner_by_key(knowledge, key) == "Region of Durham"
    assert triage.owner_by_key(knowledge, "00000000") is None
    assert triage.match_owner(knowledge, "  region OF durham ") == "Region of Durham"
    assert triage.match_owner(knowledge, "Region") is None
    assert triage.find_entries(knowledge, "English") == ["english-classes"]
    assert triage.find_entries(knowledge, "carte santé") == ["health-card"]  # French title
    assert triage.find_entries(knowledge, "sin number") == ["sin-number"]  # by id
    assert triage.find_entries(knowledge, "  ") == []
    assert triage.suggested_owners(knowledge, ["english-classes", "health-card"])[0] == (
        "Region of Durham"
    )


# -- storage ---------------------------------------------------------------------------------


async def test_invitations_work_once_and_expire(tmp_path: Path) -> None:
    storage = await Storage.open(tmp_path / "db.sqlite3")
    now = datetime(2026, 11, 2, 15, tzinfo=UTC)
    try:
        await storage.partners.invite("code-a", "Region of Durham", now + timedelta(days=1))
        await storage.partners.invite("code-b", "Region of Durham", now - timedelta(days=1))
        partner = await storage.partners.redeem("code-a", "hash1", "token", "fr", now)
        assert (partner.owner, partner.language, partner.active) == ("Region of Durham", "fr", True)
        for code, why in (("code-a", "used"), ("code-b", "expired"), ("nope", "unknown")):
            with pytest.raises(Redeemed, match=why):
                await storage.partners.redeem(code, "hash2", "token", "en", now)
        assert await storage.partners.owners_of("hash1") == ["Region of Durham"]
        assert [i.owner for i in await storage.partners.invites(now - timedelta(days=2))] == [
            "Region of Durham"
        ]
        assert await storage.partners.revoke(partner.id)
        assert not await storage.partners.revoke(partner.id)
        assert await storage.partners.owners_of("hash1") == []
        assert await storage.partners.claim_digest("slot-1")
        assert not await storage.partners.claim_digest("slot-1")
    finally:
        await storage.close()
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        stored = db.execute("SELECT code_hash FROM partner_invites").fetchall()
    assert all(len(h) == 64 and "code" not in h for (h,) in stored)  # codes kept hashed


async def test_prompts_are_used_once_and_expire(tmp_path: Path) -> None:
    storage = await Storage.open(tmp_path / "db.sqlite3")
    try:
        await storage.needs.save({}, [])
        await storage.db.write(
            "INSERT INTO needs (id, terms, representative, created_at, updated_at)"
            " VALUES (1, 'x', 'x', '', '')"
        )
        now = datetime.now(UTC)
        await storage.triage.ask("staff", "note", 1)
        prompt = await storage.triage.take("staff", timedelta(minutes=15), now)
        assert prompt is not None and (prompt.kind, prompt.need_id) == ("note", 1)
        assert await storage.triage.take("staff", timedelta(minutes=15), now) is None
        await storage.triage.ask("staff", "search", 1)
        late = now + timedelta(minutes=16)
        assert await storage.triage.take("staff", timedelta(minutes=15), late) is None
        with pytest.raises(ValueError):
            await storage.triage.ask("staff", "delete", 1)
        with pytest.raises(StorageError):  # no such need: the foreign key refuses it
            await storage.triage.ask("staff", "note", 99)
        # Changes with an actor are written to the history in the same transaction.
        await insights.set_need(storage, 1, status="assigned", assignee="Region", actor="h1")
        await insights.add_note(storage, 1, "first", "h1")
        await insights.add_note(storage, 1, "second", "h2")
        need = await storage.needs.need(1)
        assert need is not None and need.note == "first\nsecond"
        history = await storage.triage.history(1)
        assert [(a.actor, a.action, a.detail) for a in history] == [
            ("h1", "assigned", "Region"),
            ("h1", "note", "first"),
            ("h2", "note", "second"),
        ]
        with pytest.raises(insights.InsightError):
            await insights.add_note(storage, 2, "no such need", "h1")
    finally:
        await storage.close()


async def test_forget_removes_partner_links_and_keeps_anonymous_confirmations(
    tmp_path: Path,
) -> None:
    storage = await Storage.open(tmp_path / "db.sqlite3")
    now = datetime.now(UTC)
    try:
        await storage.partners.invite("c", "Region of Durham", now + timedelta(days=1))
        await storage.partners.redeem("c", "hash1", "token", "en", now)
        await storage.partners.confirm("health-card", "Region of Durham", "hash1", now)
        erased = await storage.users.erase("hash1")
        assert erased.settings == 1
        assert await storage.partners.all(active_only=False) == []
        assert list(await storage.partners.confirmations()) == ["health-card"]
        row = await storage.db.fetch_one("SELECT user_hash FROM confirmations")
        assert row is not None and row[0] == ""
    finally:
        await storage.close()


# -- screens ---------------------------------------------------------------------------------


def _need(number: int, **changes: object) -> NeedSummary:
    values: dict[str, object] = {
        "id": number,
        "representative": f"need {number}",
        "status": "new",
        "assignee": "",
        "note": "",
        "entry_id": None,
        "questions": 3,
        "askers": 2,
        "in_period": 2,
        "previous": 1,
        "languages": {"en": 2, "fr": 1},
        "municipalities": {"Ajax": 2},
        "first_seen": datetime(2026, 11, 1, tzinfo=UTC),
        "last_seen": datetime(2026, 11, 20, tzinfo=UTC),
        "terms": ("cricket",),
        "wordings": ("cricket bat", "bat for cricket"),
    }
    values.update(changes)
    return NeedSummary(**values)  # type: ignore[arg-type]


def test_need_card_has_everything_staff_need(small_kb: Path) -> None:
    words = StaffScreens(Catalogue.load(), load_knowledge(small_kb), PLAIN)
    history = [
        NeedAction(4, datetime(2026, 11, 21, 9, tzinfo=UTC), "me", "assigned", "Region"),
        NeedAction(4, datetime(2026, 11, 22, 9, tzinfo=UTC), "other-hash", "note", "call"),
        NeedAction(4, datetime(2026, 11, 23, 9, tzinfo=UTC), "command line", "status", "new"),
    ]
    need = _need(4, status="assigned", assignee="Region", note="call")
    card = words.need_card(need, history, "en", viewer="me")
    for part in (
        "Need #4: need 4",
        "Status: assigned",
        "Assigned to: Region",
        "People: 2 (3 questions). This week 2, the week before 1 (▲ rising).",
        "Languages: en 2, fr 1",
        "Places: Ajax",
        "First seen 2026-11-01, last seen 2026-11-20",
        "• cricket bat",
        "Notes:\ncall",
        "2026-11-21 09:00 UTC · you: assigned to Region",
        "staff member other-: note: call",
        "command line: status set to new",
    ):
        assert part in card.text
    kinds = [c.action for c in card.choices]
    assert kinds == [
        Action.OWNERS,
        Action.OUT_OF_SCOPE,
        Action.NOTE,
        Action.ENTRIES,
        Action.REOPEN,
        Action.NEEDS,
    ]
    closed = words.need_card(_need(4, status="answered", entry_id="health-card"), [], "fr")
    assert "Réponse : how do I get a health card" not in closed.text
    assert "comment obtenir une carte santé (health-card)" in closed.text
    assert [c.action for c in closed.choices] == [Action.NOTE, Action.REOPEN, Action.NEEDS]


def test_needs_list_pages(small_kb: Path) -> None:
    words = StaffScreens(Catalogue.load(), load_knowledge(small_kb), PLAIN)
    needs = [_need(i) for i in range(1, 24)]
    since, until = datetime(2026, 11, 17, tzinfo=UTC), datetime(2026, 11, 24, tzinfo=UTC)
    first = words.needs_list(needs, 1, "en", since, until)
    assert "Open needs from 2026-11-17 to 2026-11-24 (23):" in first.text
    opened = [c for c in first.choices if c.action is Action.NEED]
    assert len(opened) == NEEDS_PER_PAGE and "Page 1 of 3" in first.text
    assert [c.args for c in first.choices if c.action is Action.NEEDS] == [(2, "open")]
    last = words.needs_list(needs, 99, "en", since, until)  # out of range: the last page
    assert "Page 3 of 3" in last.text
    assert [c.args for c in last.choices if c.action is Action.NEED] == [(21,), (22,), (23,)]
    assert words.needs_list([], 1, "en", since, until).text == "No open needs this week."
    every = words.needs_list(needs, 2, "fr", since, until, every=True)
    assert "Tous les besoins" in every.text
    assert [c.args for c in every.choices if c.action is Action.NEEDS] == [(1, "all"), (3, "all")]


def test_partner_list_shows_only_what_it_is_given(small_kb: Path) -> None:
    words = StaffScreens(Catalogue.load(), load_knowledge(small_kb), PLAIN)
    stale = DueEntry("Region", "health-card", "faq", "", None, "never verified", "")
    screen = words.partner_list(PartnerList("Region", [stale], [("health-card", 1, 3)], []), "en")
    assert "how do I get a health card (health-card): last checked never\n" in screen.text
    doubtful = DueEntry(
        "Region", "sin-number", "faq", "", date(2026, 11, 1), "", "", flags=("unverified",)
    )
    french = words.partner_list(PartnerList("Region", [doubtful], [], []), "fr")
    assert "(sin-number) : dernière vérification : 2026-11-01; marquée comme non confirmée" in (
        french.text
    )
    assert "3 of 4 said not helpful" in screen.text
    assert [c.args for c in screen.choices] == [("health-card",)]  # one button per entry
    nothing = words.partner_list(PartnerList("Region", [], [], []), "fr")
    assert nothing.text == "Tout est à jour pour Region. Merci !" and not nothing.choices


# -- command line ----------------------------------------------------------------------------


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("TELEGRAM_BOT_TOKEN", "BOT_CONFIG", "BOT_KB", "BOT_DB", "BOT_HASH_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("BOT_USERNAME", raising=False)
    monkeypatch.delenv("BOT_STAFF_IDS", raising=False)
    monkeypatch.chdir(tmp_path)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_needs_show_lists_every_action(
    cli_env: None, capsys: pytest.CaptureFixture[str], small_kb: Path
) -> None:
    kb = ("--kb", str(small_kb), "--db", "log.db")
    cli(capsys, "ask", *kb, "--log", "where can I buy a cricket bat")
    cli(capsys, "needs", *kb)
    cli(capsys, "needs", "set", "1", *kb, "--assign", "Region of Durham")
    cli(capsys, "needs", "answer", "1", *kb, "--entry", "english-classes")
    code, out, _ = cli(capsys, "needs", "show", "1", *kb)
    assert code == 0
    assert "history (who: a staff member's hashed id, or the command line):" in out
    assert "command line  assigned: Region of Durham" in out
    assert "command line  answered: english-classes" in out


def test_partners_invite_list_revoke(
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
    small_kb: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kb = ("--kb", str(small_kb), "--db", "log.db")
    code, _, err = cli(capsys, "partners", "invite", "Nobody Inc", *kb)
    assert code == 2 and "owners are: Government of Canada;" in err
    code, out, _ = cli(capsys, "partners", "invite", "region of durham", *kb)
    assert code == 0 and "Invitation for Region of Durham, single use" in out
    assert "https://t.me/<bot username>?start=partner-" in out
    monkeypatch.setenv("BOT_USERNAME", "@durham_welcome_bot")
    code, out, _ = cli(capsys, "partners", "invite", "Region of Durham", *kb, "--days", "3")
    link = next(line for line in out.splitlines() if line.startswith("https://"))
    code_text = link.split("start=partner-", 1)[1]
    assert link.startswith("https://t.me/durham_welcome_bot?start=partner-")
    assert len(code_text) == 16 and len("partner-" + code_text) <= 64

    async def join() -> None:
        storage = await Storage.open(Path("log.db"))
        try:
            await storage.partners.redeem(code_text, "h", "t", "en", datetime.now(UTC))
            await storage.partners.confirm(
                "health-card", "Region of Durham", "h", datetime.now(UTC)
            )
        finally:
            await storage.close()

    asyncio.run(join())
    code, out, _ = cli(capsys, "partners", "list", *kb)
    assert "   1  Region of Durham  joined" in out and "invitation not used yet" in out
    code, out, _ = cli(capsys, "freshness", *kb, "--older-than", "0")
    today = date.today().isoformat()
    assert f"confirmed still right by Region of Durham on {today}" in out
    assert cli(capsys, "partners", "revoke", "1", *kb)[1] == "partner link 1 revoked\n"
    code, _, err = cli(capsys, "partners", "revoke", "1", *kb)
    assert code == 2 and "no active partner link number 1" in err


def test_digest_prints_for_any_period(
    cli_env: None, capsys: pytest.CaptureFixture[str], small_kb: Path
) -> None:
    kb = ("--kb", str(small_kb), "--db", "log.db")
    cli(capsys, "ask", *kb, "--log", "where can I buy a cricket bat")
    cli(capsys, "ask", *kb, "--log", "how do I get a health card")
    code, out, _ = cli(capsys, "digest", *kb)
    assert code == 0
    assert out.startswith("Weekly digest: ")
    assert "Questions: 2 (the week before: 0)" in out
    assert "Answered straight away: 50% (the week before: 0%)" in out
    assert "1. #1 cricket bat · 1 people, ● new · new" in out  # the need's label
    assert "<b>" not in out
    code, out, _ = cli(
        capsys, "digest", *kb, "--lang", "fr", "--since", "2020-01-01", "--until", "2020-01-08"
    )
    assert out.startswith("Résumé de la semaine : du 2020-01-01 au 2020-01-08")
    assert "Questions : 0 (la semaine d'avant : 0)" in out
    code, _, err = cli(capsys, "digest", *kb, "--send")
    assert code == 2 and "TELEGRAM_BOT_TOKEN" in err


async def test_digest_send_through_the_bot_api(
    cli_env: None, small_kb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "123456:TEST-token-digest"
    async with FakeBotApi(token) as server:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", token)
        monkeypatch.setenv("TELEGRAM_API_BASE_URL", server.base_url)
        monkeypatch.setenv("BOT_STAFF_IDS", "900,901")
        args = ["digest", "--send", "--kb", str(small_kb), "--db", "log.db"]
        # The command runs its own event loop: in a thread, while this loop serves the API.
        code = await asyncio.to_thread(main, args)
        assert code == 0
        assert [d["chat_id"] for d in server.documents] == [900, 901]
        assert all(d["content"].startswith(b"<!DOCTYPE html>") for d in server.documents)
        assert "Weekly digest" in server.messages(900)[0].text
        assert server.unknown == []
