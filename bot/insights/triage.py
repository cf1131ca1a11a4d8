"""What staff need to triage a need: the entries nearest to it, entries found by title, owners.

Pure functions over the knowledge base and the matcher; the Telegram staff screens use them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from bot.knowledge.model import KnowledgeBase
from bot.text import normalise

if TYPE_CHECKING:  # the matching engine loads numpy: partner tools must start without it
    from bot.matching.matcher import Match

# Staff read nearest entries as buttons on a phone: five fit one screen without scrolling.
NEAREST = 5
# Wordings matched to find the nearest entries: the most common three cover most of a need
# (a need's wordings are sorted most common first) and keep the press under a second.
WORDINGS_MATCHED = 3
OWNER_KEY_LENGTH = 8


def nearest_entries(
    match: Callable[[str], Match], wordings: Sequence[str], limit: int = NEAREST
) -> list[str]:
    """Entry ids nearest to a need's wordings, best first (each entry's best score counts)."""
    best: dict[str, float] = {}
    for wording in wordings[:WORDINGS_MATCHED]:
        for candidate in match(wording).candidates:
            best[candidate.entry_id] = max(best.get(candidate.entry_id, 0.0), candidate.score)
    return [e for e, _ in sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))][:limit]


def find_entries(knowledge: KnowledgeBase, typed: str, limit: int = 8) -> list[str]:
    """Entries whose title (in any language) or id contains what staff typed, titles first."""
    wanted = normalise(typed)
    if not wanted:
        return []
    in_title: list[str] = []
    in_id: list[str] = []
    for entry in knowledge.entries():
        titles = {knowledge.title_of(entry, lang) for lang in ("en", "fr")}
        if any(wanted in normalise(t) for t in titles):
            in_title.append(entry.id)
        elif wanted.replace(" ", "-") in entry.id:
            in_id.append(entry.id)
    return (in_title + in_id)[:limit]


def owners(knowledge: KnowledgeBase) -> list[str]:
    """Every owner named in the knowledge base, alphabetically."""
    named = {e.owner for e in [*knowledge.entries(), *knowledge.crisis] if e.owner}
    return sorted(named, key=str.casefold)


def owner_key(owner: str) -> str:
    """A short stable key for an owner, to fit Telegram's 64-byte button data."""
    return hashlib.sha256(owner.encode()).hexdigest()[:OWNER_KEY_LENGTH]


def owner_by_key(knowledge: KnowledgeBase, key: str) -> str | None:
    """The owner a button's key stands for, if the knowledge base still names them."""
    return next((o for o in owners(knowledge) if owner_key(o) == key), None)


def match_owner(knowledge: KnowledgeBase, typed: str) -> str | None:
    """The owner exactly as the knowledge base spells it, ignoring case and spaces."""
    wanted = " ".join(typed.split()).casefold()
    return next((o for o in owners(knowledge) if " ".join(o.split()).casefold() == wanted), None)


def suggested_owners(knowledge: KnowledgeBase, entry_ids: Sequence[str]) -> list[str]:
    """Owners of the nearest entries first (likely the right partner), then everyone else."""
    first: list[str] = []
    for entry_id in entry_ids:
        entry = knowledge.entry(entry_id)
        if entry is not None and entry.owner and entry.owner not in first:
            first.append(entry.owner)
    return first + [o for o in owners(knowledge) if o not in first]
