"""Which entries each partner should re-verify, so the partnership can send every owner a list."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date

from bot.knowledge.figures import expiry_reason
from bot.knowledge.model import CrisisLine, Event, Faq, KnowledgeBase, Provenance, Service

# An entry not verified for this long is shown with "please confirm" and listed for its owner:
# a year, so every partner checks their entries once per funding cycle. `BOT_STALE_AFTER_DAYS`
# (settings.stale_after_days) changes it everywhere: cards, validate, freshness.
STALE_AFTER_DAYS = 365


def stale_period(days: int) -> str:
    """The staleness limit in words, for warnings: "a year", or "90 days"."""
    return "a year" if days == STALE_AFTER_DAYS else f"{days} days"


def is_stale(entry: Provenance, today: date, after_days: int = STALE_AFTER_DAYS) -> bool:
    """True when an entry was last verified more than `after_days` days before `today`."""
    verified = entry.last_verified
    return verified is not None and (today - verified).days > after_days


@dataclass(frozen=True)
class DueEntry:
    """One entry to re-verify, and why."""

    owner: str
    entry_id: str
    kind: str
    where: str
    last_verified: date | None
    reason: str
    source: str
    # A partner pressed "still right" in Telegram: the YAML is unchanged, but staff can see
    # who checked it and when.
    confirmed_by: str = ""
    confirmed_on: date | None = None
    # Why, as words a translation can key on: "never", "old", "unverified", "figures".
    flags: tuple[str, ...] = ()


def _kind(entry: Faq | Service | Event | CrisisLine) -> str:
    return {Faq: "faq", Service: "service", Event: "event", CrisisLine: "crisis"}[type(entry)]


def with_confirmations(
    entries: list[DueEntry], confirmed: Mapping[str, tuple[str, date]]
) -> list[DueEntry]:
    """Add who last confirmed each entry as still right, and when (entry id -> owner, day)."""
    out = []
    for item in entries:
        found = confirmed.get(item.entry_id)
        out.append(replace(item, confirmed_by=found[0], confirmed_on=found[1]) if found else item)
    return out


def due(
    knowledge: KnowledgeBase,
    today: date,
    older_than_days: int = STALE_AFTER_DAYS,
    translations: bool = False,
) -> list[DueEntry]:
    """Entries never verified, verified too long ago, or flagged unverified; by owner.

    `translations` also lists entries whose translations no native speaker has reviewed
    (the `freshness` command). The weekly digest and partner lists leave them out: with 44
    FAQs in ten new languages they would be 192 of 238 entries "due", and drown the facts
    that really went out of date."""
    out: list[DueEntry] = []
    for entry in [*knowledge.entries(), *knowledge.crisis]:
        reasons, flags = [], []
        if entry.last_verified is None:
            reasons.append("never verified")
            flags.append("never")
        elif is_stale(entry, today, older_than_days):
            reasons.append(f"last verified {(today - entry.last_verified).days} days ago")
            flags.append("old")
        if entry.unverified:
            reasons.append("flagged unverified")
            flags.append("unverified")
        figures = expiry_reason(entry, today)
        if figures:
            reasons.append(figures)
            flags.append("figures")
        unreviewed = entry.unreviewed() if translations else []
        if unreviewed:
            reasons.append("translations not reviewed: " + ", ".join(unreviewed))
        if not reasons:
            continue
        location = knowledge.locations.get(entry.id)
        out.append(
            DueEntry(
                owner=entry.owner or "(no owner)",
                entry_id=entry.id,
                kind=_kind(entry),
                where=str(location) if location else "",
                last_verified=entry.last_verified,
                reason="; ".join(reasons),
                source=entry.source or entry.citation or "",
                flags=tuple(flags),
            )
        )
    return sorted(out, key=lambda d: (d.owner.casefold(), d.where, d.entry_id))


def as_table(entries: list[DueEntry]) -> str:
    """Grouped by owner, for reading in a terminal."""
    if not entries:
        return "Every entry is verified and current.\n"
    lines: list[str] = []
    owner = None
    for item in entries:
        if item.owner != owner:
            owner = item.owner
            count = sum(1 for e in entries if e.owner == owner)
            lines.append(f"\n{owner} ({count} to re-verify)")
        checked = item.last_verified.isoformat() if item.last_verified else "never"
        lines.append(
            f"  {item.entry_id} [{item.kind}] {item.where}: {item.reason} (checked: {checked})"
        )
        if item.source:
            lines.append(f"      source: {item.source}")
        if item.confirmed_on:
            lines.append(
                f"      confirmed still right by {item.confirmed_by} on {item.confirmed_on}"
            )
    return "\n".join(lines).lstrip("\n") + "\n"


def as_csv(entries: list[DueEntry]) -> str:
    """One row per entry with the owner, for a mail merge."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "owner",
            "entry_id",
            "kind",
            "file",
            "last_verified",
            "reason",
            "source",
            "confirmed_by",
            "confirmed_on",
        ]
    )
    for item in entries:
        writer.writerow(
            [
                item.owner,
                item.entry_id,
                item.kind,
                item.where,
                item.last_verified.isoformat() if item.last_verified else "",
                item.reason,
                item.source,
                item.confirmed_by,
                item.confirmed_on.isoformat() if item.confirmed_on else "",
            ]
        )
    return buffer.getvalue()
