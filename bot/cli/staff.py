"""Staff commands on the command line: needs, stats, report and purge (an adapter over insights)."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import secrets
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from bot.config import Settings
from bot.insights import overview as insights
from bot.insights import report, triage
from bot.insights.digest import weekly
from bot.insights.overview import InsightError, Overview
from bot.knowledge.loader import load_directory, load_knowledge
from bot.knowledge.model import KnowledgeBase
from bot.needs.grouping import NeedSummary
from bot.replies.messages import Catalogue
from bot.storage import Invite, NeedAction, Partner, Storage, utc_now
from bot.text import Synonyms, prepare
from bot.wiring import make_hasher, open_storage

if TYPE_CHECKING:
    from telegram import Bot

T = TypeVar("T")
# 12 random bytes make a 16-character code: unguessable, and short enough for a deep link
# (Telegram allows 64 characters after ?start=).
INVITE_BYTES = 12


def _knowledge(settings: Settings) -> KnowledgeBase | None:
    """The knowledge base, when it loads (needs still list without it, without FAQ hints)."""
    return load_directory(settings.kb_dir).knowledge


def _prepare_for(settings: Settings) -> Callable[[str], str]:
    """Normalisation with the knowledge base's synonyms, when it loads."""
    result = load_directory(settings.kb_dir)
    if result.knowledge is None:
        return prepare
    return partial(prepare, synonyms=Synonyms(result.knowledge.synonyms))


async def _with_storage(settings: Settings, work: Callable[[Storage], Awaitable[T]]) -> T:
    storage = await open_storage(settings)
    try:
        return await work(storage)
    finally:
        await storage.close()


def cmd_needs(args: argparse.Namespace, settings: Settings) -> int:
    """List, show, triage or answer needs."""
    action = getattr(args, "needs_action", None)
    since, until = insights.period(
        args.since if action in (None, "show") else None,
        args.until if action in (None, "show") else None,
    )
    if action == "show":
        knowledge = _knowledge(settings)
        prep = _prepare_for(settings)

        async def show(storage: Storage) -> tuple[NeedSummary, list[NeedAction]]:
            found = await insights.show_need(storage, args.id, since, until, prep, knowledge)
            return found, await storage.triage.history(args.id)

        summary, history = asyncio.run(_with_storage(settings, show))
        print(describe(summary, history))
        return 0
    if action == "set":
        asyncio.run(
            _with_storage(
                settings,
                lambda s: insights.set_need(
                    s, args.id, status=args.status, note=args.note, assignee=args.assign
                ),
            )
        )
        print(f"need {args.id} updated")
        return 0
    if action == "answer":
        kb = load_knowledge(settings.kb_dir)
        if args.entry is None:
            prep = _prepare_for(settings)
            near = asyncio.run(
                _with_storage(settings, lambda s: insights.suggest_entry(s, args.id, kb, prep))
            )
            if near is None:
                print(
                    f"No existing FAQ is close to need {args.id}: write a new entry, then run "
                    f"`needs answer {args.id} --entry ENTRY_ID`."
                )
                return 1
            print(
                f"Need {args.id} is close to the existing FAQ {near}: its questions were "
                "probably unanswered only because of their wording. To add them to it, run:\n"
                f"  needs answer {args.id} --entry {near}"
            )
            return 0
        answered = asyncio.run(
            _with_storage(settings, lambda s: insights.answer_need(s, args.id, args.entry, kb))
        )
        print(f"need {args.id} is now answered by {answered.entry_id}.")
        if answered.waiting:
            print(
                f"{answered.waiting} person(s) asked to be told; the running bot will message "
                "them within a minute."
            )
        print(answered.variants_yaml)
        return 0
    prep = _prepare_for(settings)
    knowledge = _knowledge(settings)
    summaries = asyncio.run(
        _with_storage(
            settings,
            lambda s: insights.list_needs(
                s, since, until, status=args.status, prepare=prep, knowledge=knowledge
            ),
        )
    )
    print(format_needs(summaries, args.format), end="")
    return 0


def need_dict(need: NeedSummary) -> dict[str, Any]:
    """A JSON-friendly need."""
    return {
        "id": need.id,
        "label": need.label,
        "representative": need.representative,
        "typical": list(need.typical),
        "status": need.status,
        "assignee": need.assignee,
        "note": need.note,
        "entry_id": need.entry_id,
        "questions": need.questions,
        "askers": need.askers,
        "this_period": need.in_period,
        "previous_period": need.previous,
        "trend": need.trend,
        "rising": need.rising,
        "this_week": need.this_week,
        "usual_week": round(need.usual_week, 2),
        "near_entry": need.near_entry,
        "languages": need.languages,
        "municipalities": need.municipalities,
        "first_seen": need.first_seen.isoformat(),
        "last_seen": need.last_seen.isoformat(),
        "terms": list(need.terms),
    }


def format_needs(summaries: list[NeedSummary], fmt: str) -> str:
    """Needs as a terminal table, CSV or JSON."""
    if fmt == "json":
        return json.dumps([need_dict(n) for n in summaries], indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        fields = list(need_dict(summaries[0])) if summaries else ["id"]
        writer = csv.DictWriter(buffer, fieldnames=fields)
        writer.writeheader()
        for need in summaries:
            row = need_dict(need)
            for key in ("languages", "municipalities"):
                row[key] = "; ".join(f"{k}:{v}" for k, v in row[key].items())
            row["terms"] = " ".join(row["terms"])
            row["typical"] = " | ".join(row["typical"])
            writer.writerow(row)
        return buffer.getvalue()
    if not summaries:
        return "No emerging needs in this period.\n"
    lines = [f"{'ID':>4}  {'PEOPLE':>6}  {'PERIOD':>6}  {'TREND':<7}  {'STATUS':<12}  NEED"]
    for need in summaries:
        places = f" [{', '.join(need.municipalities)}]" if need.municipalities else ""
        near = f" (near FAQ {need.near_entry})" if need.near_entry else ""
        flag = "RISING" if need.rising else need.trend
        lines.append(
            f"{need.id:>4}  {need.askers:>6}  {need.in_period:>6}  {flag:<7}  "
            f"{need.status:<12}  {need.name[:60]}{places}{near}"
        )
    return "\n".join(lines) + "\n"


def describe(need: NeedSummary, history: Sequence[NeedAction] = ()) -> str:
    """One need in detail, for `needs show`, with what staff did to it."""
    lines = [
        f"Need {need.id}: {need.name}",
        f"  status: {need.status}" + (f" (assigned to {need.assignee})" if need.assignee else ""),
    ]
    if need.note:
        lines.append(f"  note: {need.note}")
    if need.entry_id:
        lines.append(f"  answered by: {need.entry_id}")
    lines += [
        f"  people: {need.askers} ({need.questions} questions); this period {need.in_period}, "
        f"the one before {need.previous} ({need.trend})",
        f"  languages: {', '.join(f'{k} {v}' for k, v in need.languages.items())}",
        f"  places: {', '.join(need.municipalities) or 'none mentioned'}",
        f"  first seen {need.first_seen:%Y-%m-%d}, last seen {need.last_seen:%Y-%m-%d}",
        f"  this week {need.this_week} people, usually {need.usual_week:.1f} a week"
        + (" - RISING fast" if need.rising else ""),
    ]
    if need.near_entry:
        lines.append(
            f"  near the existing FAQ {need.near_entry}: try `needs answer {need.id}` "
            f"--entry {need.near_entry}"
        )
    if need.typical:
        lines.append("  typical wordings:")
        lines += [f"    - {w}" for w in need.typical]
    lines += [
        "  wordings (most common first):",
    ]
    lines += [f"    - {w}" for w in need.wordings[:20]]
    if history:
        lines.append("  history (who: a staff member's hashed id, or the command line):")
        lines += [
            f"    {a.acted_at:%Y-%m-%d %H:%M} UTC  {a.actor[:12]:<12}  {a.action}"
            + (f": {a.detail}" if a.detail else "")
            for a in history
        ]
    return "\n".join(lines)


async def _overview(settings: Settings, since: datetime, until: datetime) -> Overview:
    result = load_directory(settings.kb_dir)
    knowledge = result.knowledge
    prep = partial(prepare, synonyms=Synonyms(knowledge.synonyms)) if knowledge else prepare
    return await _with_storage(
        settings, lambda s: insights.overview(s, since, until, knowledge, prep)
    )


def format_overview(view: Overview) -> str:
    """The usage overview as text (the same numbers as the report and /stats)."""
    usage = view.usage
    lines = [
        f"Usage from {view.since:%Y-%m-%d} to {view.until:%Y-%m-%d}",
        f"  questions: {view.total}, answered straight away: {view.answered} "
        f"({view.answer_rate:.0%}), people: {usage.users}",
        "  outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(usage.outcomes.items())),
        "  per week: " + ", ".join(f"{w} {c}" for w, c, _ in view.weeks()),
        "  languages: " + ", ".join(f"{k} {v}" for k, v in usage.languages.items()),
        "  top topics: " + ", ".join(f"{k} {v}" for k, v in list(view.topics.items())[:8]),
        "  top answers: " + ", ".join(f"{k} {v}" for k, v in usage.top_entries[:8]),
        "  most often not helpful: "
        + (", ".join(f"{e} ({n} of {h + n})" for e, h, n in view.unhelpful[:5]) or "none"),
        "  found the bot through: "
        + (", ".join(f"{k} {v}" for k, v in usage.sources.items()) or "no links recorded"),
        "  partner contacts given out: "
        + (", ".join(f"{k} {v}" for k, v in usage.referrals.items()) or "none"),
        f"  emerging needs: {len(view.needs)}",
    ]
    return "\n".join(lines)


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    """Print the usage overview."""
    since, until = insights.period(args.since, args.until)
    view = asyncio.run(_overview(settings, since, until))
    if args.format == "json":
        usage = view.usage
        print(
            json.dumps(
                {
                    "since": view.since.isoformat(),
                    "until": view.until.isoformat(),
                    "questions": view.total,
                    "answered": view.answered,
                    "answer_rate": round(view.answer_rate, 4),
                    "users": usage.users,
                    "by_day": usage.by_day,
                    "by_week": view.weeks(),
                    "outcomes": usage.outcomes,
                    "languages": usage.languages,
                    "topics": view.topics,
                    "top_entries": usage.top_entries,
                    "feedback": usage.feedback,
                    "sources": usage.sources,
                    "referrals": usage.referrals,
                    "needs": len(view.needs),
                },
                indent=2,
                ensure_ascii=False,
            )
        )
    else:
        print(format_overview(view))
    return 0


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    """Write the self-contained HTML report."""
    since, until = insights.period(args.since, args.until, default_days=28)
    view = asyncio.run(_overview(settings, since, until))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report.render(view), encoding="utf-8")
    print(f"wrote {args.out} ({len(view.needs)} needs, {view.total} questions)")
    return 0


def cmd_purge(args: argparse.Namespace, settings: Settings) -> int:
    """Apply the retention setting now."""
    removed = asyncio.run(
        _with_storage(settings, lambda s: insights.purge(s, settings.retention_days))
    )
    print(f"removed the text of {removed} question(s) older than {settings.retention_days} days")
    return 0


def cmd_digest(args: argparse.Namespace, settings: Settings) -> int:
    """Print the weekly digest for a period, or send it now through the Bot API."""
    since, until = insights.period(args.since, args.until)
    knowledge = load_knowledge(settings.kb_dir)
    prep = partial(prepare, synonyms=Synonyms(knowledge.synonyms))
    if args.send:
        if not settings.telegram_token:
            raise InsightError("set TELEGRAM_BOT_TOKEN to send the digest")
        if not settings.staff_ids:
            raise InsightError("set BOT_STAFF_IDS: nobody would receive the digest")
        sent = asyncio.run(_send_digest(settings, knowledge, since, until, prep))
        print(f"sent the digest to {sent} of {len(settings.staff_ids)} staff member(s)")
        return 0 if sent == len(settings.staff_ids) else 1
    digest = asyncio.run(
        _with_storage(
            settings,
            lambda s: weekly(s, knowledge, since, until, settings.stale_after_days, prep),
        )
    )
    # The screens use the reply cards, which load the matching engine: only when printing.
    from bot.insights.screens import StaffScreens  # noqa: PLC0415
    from bot.replies.cards import PLAIN  # noqa: PLC0415

    print(
        StaffScreens(Catalogue.load().for_region(knowledge.region), knowledge, PLAIN).digest(
            digest, args.lang
        )
    )
    return 0


async def _send_digest(
    settings: Settings,
    knowledge: KnowledgeBase,
    since: datetime,
    until: datetime,
    prep: Callable[[str], str],
) -> int:
    from bot.telegram.digest import send_digest  # noqa: PLC0415 - Telegram only to send

    async with _bot(settings) as bot:
        return await _with_storage(
            settings,
            lambda s: send_digest(
                bot,
                s,
                knowledge,
                Catalogue.load().for_region(knowledge.region),
                make_hasher(settings),
                settings,
                since,
                until,
                prep,
            ),
        )


def _bot(settings: Settings) -> Bot:
    from telegram import Bot  # noqa: PLC0415 - Telegram only when it is used

    assert settings.telegram_token is not None
    if settings.api_base_url:
        base = settings.api_base_url.rstrip("/")
        return Bot(
            settings.telegram_token,
            base_url=base,
            base_file_url=base.removesuffix("/bot") + "/file/bot",
        )
    return Bot(settings.telegram_token)


async def _bot_username(settings: Settings) -> str | None:
    if settings.bot_username:
        return settings.bot_username.lstrip("@")
    if not settings.telegram_token:
        return None
    async with _bot(settings) as bot:
        me = await bot.get_me()
        return str(me.username) if me.username else None


def cmd_partners(args: argparse.Namespace, settings: Settings) -> int:
    """Invite a partner, list partner links, or revoke one."""
    action = getattr(args, "partners_action", None) or "list"
    now = utc_now()
    if action == "invite":
        knowledge = load_knowledge(settings.kb_dir)
        owner = triage.match_owner(knowledge, args.owner)
        if owner is None:
            raise InsightError(
                f"no entry has the owner {args.owner!r}; owners are: "
                + "; ".join(triage.owners(knowledge))
            )
        days = args.days if args.days is not None else settings.invite_days
        if days < 1:
            raise InsightError("--days must be at least 1")
        code = secrets.token_urlsafe(INVITE_BYTES)
        expires = now + timedelta(days=days)
        asyncio.run(_with_storage(settings, lambda s: s.partners.invite(code, owner, expires)))
        try:
            username = asyncio.run(_bot_username(settings))
        except Exception:  # the link is still useful with the name filled in by hand
            username = None
        print(f"Invitation for {owner}, single use, valid until {expires:%Y-%m-%d %H:%M} UTC:")
        print(f"https://t.me/{username or '<bot username>'}?start=partner-{code}")
        if username is None:
            print("(set BOT_USERNAME or TELEGRAM_BOT_TOKEN to fill in the bot's username)")
        return 0
    if action == "revoke":
        if not asyncio.run(_with_storage(settings, lambda s: s.partners.revoke(args.id))):
            raise InsightError(f"there is no active partner link number {args.id}")
        print(f"partner link {args.id} revoked")
        return 0

    async def listing(storage: Storage) -> tuple[list[Partner], list[Invite]]:
        return await storage.partners.all(), await storage.partners.invites(now)

    links, invites = asyncio.run(_with_storage(settings, listing))
    if not links and not invites:
        print("No partner links or open invitations.")
    for p in links:
        last = f"{p.nudged_at:%Y-%m-%d}" if p.nudged_at else "never"
        print(f"{p.id:>4}  {p.owner}  joined {p.joined_at:%Y-%m-%d}  last list {last}")
    for i in invites:
        print(f"   -  {i.owner}  invitation not used yet, valid until {i.expires_at:%Y-%m-%d}")
    return 0
