"""Staff insights: refresh and list emerging needs, triage them, close the loop, usage overview.

Async glue between the pure needs clustering (bot.needs) and the database (bot.storage);
the command line, the HTML report and the staff Telegram commands all use these functions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import yaml

from bot.knowledge.model import DEFAULT_REGION, KnowledgeBase, Region
from bot.needs.grouping import NeedSummary, Signatures, assign, summarise
from bot.storage import Storage, Usage

STATUSES = ("new", "assigned", "answered", "not_in_scope")
# Who changed a need, when it was not a staff member in Telegram (whose id is stored hashed).
COMMAND_LINE = "command line"


class InsightError(Exception):
    """A staff request that cannot be done (no such need, no such entry...)."""


async def refresh_needs(
    storage: Storage,
    prepare: Callable[[str], str] | None = None,
    region: Region = DEFAULT_REGION,
) -> int:
    """Put every unanswered question not yet grouped into a need; return how many were added."""
    store = storage.needs
    new = await store.unassigned()
    if not new:
        return 0
    existing = await store.all(with_members=False)
    signatures = (
        Signatures(prepare, region.place_words)
        if prepare
        else Signatures(place_words=region.place_words)
    )
    result = assign(new, existing, signatures, await store.next_id())
    await store.save(result.memberships, result.created)
    return len(result.memberships)


def period(
    since: datetime | None, until: datetime | None, default_days: int = 7
) -> tuple[datetime, datetime]:
    """The reporting window: by default the last week up to now."""
    # Timestamps are stored to the second; a second of slack keeps "just now" inside.
    end = until or datetime.now(UTC) + timedelta(seconds=1)
    start = since or end - timedelta(days=default_days)
    if start >= end:
        raise InsightError("--since must be before --until")
    return start, end


async def list_needs(
    storage: Storage,
    since: datetime,
    until: datetime,
    *,
    status: str | None = None,
    prepare: Callable[[str], str] | None = None,
    region: Region = DEFAULT_REGION,
) -> list[NeedSummary]:
    """Needs with activity up to `until`, biggest in the period first (towns: `region`'s)."""
    await refresh_needs(storage, prepare, region)
    summaries = []
    for need in await storage.needs.all():
        if status is not None and need.status != status:
            continue
        need.members = [m for m in need.members if m.asked_at < until]
        if not need.members:
            continue
        summaries.append(summarise(need, since, until, region.places_in))
    summaries.sort(key=lambda s: (-s.in_period, -s.askers, -s.change, s.id))
    return summaries


async def show_need(
    storage: Storage,
    need_id: int,
    since: datetime,
    until: datetime,
    region: Region = DEFAULT_REGION,
) -> NeedSummary:
    """One need in detail."""
    need = await storage.needs.need(need_id)
    if need is None:
        raise InsightError(f"there is no need number {need_id}")
    return summarise(need, since, until, region.places_in)


async def set_need(
    storage: Storage,
    need_id: int,
    *,
    status: str | None = None,
    note: str | None = None,
    assignee: str | None = None,
    actor: str = COMMAND_LINE,
) -> None:
    """Change a need's status, note or assignee; the change goes into the need's history."""
    if status is not None and status not in STATUSES:
        raise InsightError(f"status must be one of {', '.join(STATUSES)}")
    if status == "answered":
        raise InsightError("to mark a need answered, use `needs answer ID --entry ENTRY_ID`")
    if assignee:
        action, detail = "assigned", assignee
    elif note is not None:
        action, detail = "note", note
    else:
        action, detail = "status", status or ""
    if not await storage.needs.update(
        need_id,
        status=status,
        note=note,
        assignee=assignee,
        actor=actor,
        action=action,
        detail=detail,
    ):
        raise InsightError(f"there is no need number {need_id}")


async def add_note(storage: Storage, need_id: int, text: str, actor: str) -> None:
    """Add a note below the need's earlier notes (the command line's --note replaces them)."""
    need = await storage.needs.need(need_id)
    if need is None:
        raise InsightError(f"there is no need number {need_id}")
    note = f"{need.note}\n{text}" if need.note else text
    if not await storage.needs.update(need_id, note=note, actor=actor, action="note", detail=text):
        raise InsightError(f"there is no need number {need_id}")


@dataclass(frozen=True)
class Answered:
    """A need linked to the entry that now answers it."""

    need: NeedSummary
    entry_id: str
    variants_yaml: str
    waiting: int  # people who asked to be told, to be messaged by the running bot
    variants: tuple[str, ...] = ()  # wordings the entry does not have yet
    where: str = ""  # the file (and line) of the entry, to add them to


async def answer_need(
    storage: Storage,
    need_id: int,
    entry_id: str,
    knowledge: KnowledgeBase,
    actor: str = COMMAND_LINE,
) -> Answered:
    """Mark a need answered by an entry; give the question variants to paste into its YAML."""
    entry = knowledge.entry(entry_id)
    if entry is None:
        raise InsightError(f"there is no entry with the id {entry_id!r} in the knowledge base")
    need = await storage.needs.need(need_id)
    if need is None:
        raise InsightError(f"there is no need number {need_id}")
    await storage.needs.update(
        need_id,
        status="answered",
        entry_id=entry_id,
        actor=actor,
        action="answered",
        detail=entry_id,
    )
    need.status, need.entry_id = "answered", entry_id
    now = datetime.now(UTC)
    summary = summarise(need, now - timedelta(days=7), now, knowledge.region.places_in)
    known = {q.casefold() for q in _questions_of(entry)}
    variants = [w for w in summary.wordings if w.casefold() not in known and "[" not in w]
    where = knowledge.locations.get(entry_id)
    header = f"# Add these to the questions of {entry_id}" + (f" ({where})" if where else "")
    body = yaml.safe_dump(variants, allow_unicode=True, default_flow_style=False, width=1000)
    waiting = len(await storage.follow_ups.pending(need_id))
    return Answered(
        summary, entry_id, f"{header}\n{body}", waiting, tuple(variants), str(where or "")
    )


def _questions_of(entry: object) -> list[str]:
    questions = getattr(entry, "questions", [])
    if isinstance(questions, dict):
        return [q for qs in questions.values() for q in qs]
    return list(questions)


Send = Callable[[int, str, str], Awaitable[bool]]  # chat id, entry id, language -> delivered


async def deliver_follow_ups(
    storage: Storage, open_token: Callable[[str], int | None], send: Send
) -> int:
    """Message everyone waiting on a need that is now answered; each person gets one message."""
    delivered = 0
    for need in await storage.needs.all(with_members=False):
        if need.status != "answered" or not need.entry_id:
            continue
        for follow_up in await storage.follow_ups.pending(need.id):
            chat_id = open_token(follow_up.chat_token)
            if chat_id is not None and await send(chat_id, need.entry_id, follow_up.language):
                delivered += 1
            # Sent or undeliverable (blocked the bot, token from an old secret): never retry
            # forever, and drop the sealed chat id either way.
            await storage.follow_ups.mark_sent(follow_up.user_hash, need.id)
    return delivered


@dataclass(frozen=True)
class Overview:
    """The usage overview for a period, with the top needs."""

    since: datetime
    until: datetime
    usage: Usage
    needs: list[NeedSummary]
    topics: dict[str, int]
    unhelpful: list[tuple[str, int, int]]  # entry, helpful, not helpful; most unhelpful first
    # Whose report it is: the partnership's name heads the page.
    region: Region = DEFAULT_REGION

    @property
    def total(self) -> int:
        """Questions in the period."""
        return sum(n for _, n, _ in self.usage.by_day)

    @property
    def answered(self) -> int:
        """Questions answered straight away."""
        return self.usage.outcomes.get("answered", 0)

    @property
    def answer_rate(self) -> float:
        """Share of questions answered (0-1)."""
        return self.answered / self.total if self.total else 0.0

    def weeks(self) -> list[tuple[str, int, int]]:
        """Questions and answered per ISO week."""
        weeks: dict[str, list[int]] = {}
        for day, count, answered in self.usage.by_day:
            year, week, _ = datetime.strptime(day, "%Y-%m-%d").isocalendar()
            bucket = weeks.setdefault(f"{year}-W{week:02d}", [0, 0])
            bucket[0] += count
            bucket[1] += answered
        return [(w, c, a) for w, (c, a) in weeks.items()]


async def overview(
    storage: Storage,
    since: datetime,
    until: datetime,
    knowledge: KnowledgeBase | None = None,
    prepare: Callable[[str], str] | None = None,
) -> Overview:
    """Everything the stats command, the report and /stats show."""
    usage = await storage.usage.between(since, until)
    region = knowledge.region if knowledge is not None else DEFAULT_REGION
    needs = await list_needs(storage, since, until, prepare=prepare, region=region)
    topics: dict[str, int] = {}
    if knowledge is not None:
        for entry_id, count in usage.top_entries:
            entry = knowledge.entry(entry_id)
            topic = knowledge.topic_of(entry) if entry else None
            name = topic or "(no topic)"
            topics[name] = topics.get(name, 0) + count
    unhelpful = sorted(
        ((e, h, n) for e, (h, n) in usage.feedback.items() if n),
        key=lambda t: (-t[2], t[1], t[0]),
    )
    return Overview(
        since,
        until,
        usage,
        needs,
        dict(sorted(topics.items(), key=lambda kv: -kv[1])),
        unhelpful,
        region,
    )


async def purge(storage: Storage, retention_days: int, now: datetime | None = None) -> int:
    """Remove question text older than the retention period; counts stay."""
    if retention_days < 1:
        raise InsightError("retention must be at least one day")
    moment = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    return await storage.questions.purge_text(moment)
