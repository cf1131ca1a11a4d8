"""The weekly digest for staff and the monthly list for each partner: the numbers behind them.

Async glue over storage, like overview.py; the words are in bot/replies/staff.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.insights.overview import Overview, list_needs, overview
from bot.knowledge.freshness import DueEntry, due
from bot.knowledge.model import KnowledgeBase
from bot.needs.grouping import NeedSummary
from bot.storage import Confirmation, Storage

# The digest names the five biggest needs (the number) and at most ten stale entries:
# more would not be read on a phone; the attached report has them all.
TOP_NEEDS = 5
MAX_LISTED = 10


@dataclass(frozen=True)
class Digest:
    """One week for staff, compared with the week before."""

    this_week: Overview
    last_week_total: int
    last_week_rate: float
    top: list[NeedSummary]
    rising: list[NeedSummary]
    unhelpful: list[tuple[str, int, int]]  # entry, helpful, not helpful
    stale: list[DueEntry]  # every entry due for re-checking
    newly_stale: list[DueEntry]  # of those, the ones that went stale this week
    confirmed: list[Confirmation]  # "still right" presses this week


def rising(needs: list[NeedSummary]) -> list[NeedSummary]:
    """Needs flagged as rising: far above their usual weekly rate (a Poisson test)."""
    return [n for n in needs if n.rising]


async def weekly(
    storage: Storage,
    knowledge: KnowledgeBase,
    since: datetime,
    until: datetime,
    stale_after_days: int,
    prepare: Callable[[str], str] | None = None,
) -> Digest:
    """Everything the digest says for the period [since, until) and the one before it."""
    view = await overview(storage, since, until, knowledge, prepare)
    before = await storage.usage.between(since - (until - since), since)
    before_total = sum(n for _, n, _ in before.by_day)
    before_rate = before.outcomes.get("answered", 0) / before_total if before_total else 0.0
    open_needs = [n for n in view.needs if n.status in ("new", "assigned") and n.in_period]
    today = until.date()
    stale = due(knowledge, today, stale_after_days)
    week_ago = today - timedelta(days=(until - since).days)
    newly = [e for e in stale if _went_stale(e, week_ago, today, stale_after_days)]
    confirmed = await storage.partners.confirmations(since, until)
    return Digest(
        this_week=view,
        last_week_total=before_total,
        last_week_rate=before_rate,
        top=open_needs[:TOP_NEEDS],
        rising=rising(open_needs),
        unhelpful=view.unhelpful,
        stale=stale,
        newly_stale=newly,
        confirmed=sorted(confirmed.values(), key=lambda c: (c.confirmed_at, c.entry_id)),
    )


def _went_stale(entry: DueEntry, start: date, end: date, days: int) -> bool:
    if entry.last_verified is None:
        return False
    crossed = entry.last_verified + timedelta(days=days)
    return start < crossed <= end


@dataclass(frozen=True)
class PartnerList:
    """What one partner is asked to look at: only their own entries and needs."""

    owner: str
    stale: list[DueEntry]  # stale, never verified or flagged unverified
    unhelpful: list[tuple[str, int, int]]  # their entries marked "not helpful"
    needs: list[NeedSummary]  # needs staff assigned to them, still open

    @property
    def empty(self) -> bool:
        """Nothing to ask the partner about."""
        return not (self.stale or self.unhelpful or self.needs)

    @property
    def entry_ids(self) -> list[str]:
        """Entries the partner can confirm as still right."""
        seen = [e.entry_id for e in self.stale] + [e for e, _, _ in self.unhelpful]
        return list(dict.fromkeys(seen))


def owns(knowledge: KnowledgeBase, owner: str, entry_id: str) -> bool:
    """True when this owner keeps this entry (a partner may confirm only their own)."""
    entry = knowledge.entry(entry_id) or next(
        (c for c in knowledge.crisis if c.id == entry_id), None
    )
    return entry is not None and (entry.owner or "").casefold() == owner.casefold()


async def partner_list(
    storage: Storage,
    knowledge: KnowledgeBase,
    owner: str,
    now: datetime,
    stale_after_days: int,
    feedback_days: int,
) -> PartnerList:
    """A partner's stale entries, entries users found unhelpful lately, and assigned needs."""
    stale = [
        e
        for e in due(knowledge, now.date(), stale_after_days)
        if e.owner.casefold() == owner.casefold()
    ]
    usage = await storage.usage.between(now - timedelta(days=feedback_days), now)
    unhelpful = sorted(
        (
            (entry_id, helpful, not_helpful)
            for entry_id, (helpful, not_helpful) in usage.feedback.items()
            if not_helpful and owns(knowledge, owner, entry_id)
        ),
        key=lambda t: (-t[2], t[0]),
    )
    needs = [
        n
        for n in await list_needs(
            storage, now - timedelta(days=feedback_days), now, knowledge=knowledge
        )
        if n.status == "assigned" and n.assignee.casefold() == owner.casefold()
    ]
    return PartnerList(owner, stale, unhelpful, needs)
