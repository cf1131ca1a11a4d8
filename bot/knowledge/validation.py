"""Warnings that help partners keep the knowledge base healthy (they never block loading).

- two entries with near-duplicate questions (they would fight in matching);
- services that no FAQ links to, and topics with no entries;
- entries not verified for over a year, summarised per owner;
- entries whose money figures are past the period they were valid for.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from rapidfuzz import fuzz

from bot.knowledge.figures import expiry_reason
from bot.knowledge.freshness import STALE_AFTER_DAYS, is_stale, stale_period
from bot.knowledge.loader import Problem
from bot.knowledge.memo import Memo
from bot.knowledge.model import DEFAULT_LANGUAGE, KnowledgeBase, Service
from bot.text import FUNCTION_WORDS, normalise

# token_sort_ratio at or above this: the same question in other words' order or with a typo.
DUPLICATE_SCORE = 92.0
# Candidate pairs share at least this share of the smaller question's content words.
MIN_SHARED_WORDS = 0.6


@dataclass(frozen=True)
class _Question:
    entry_id: str
    text: str


def _where(knowledge: KnowledgeBase, entry_id: str, message: str) -> Problem:
    location = knowledge.locations.get(entry_id)
    return Problem(
        location.file if location else knowledge.root,
        location.line if location else 1,
        location.column if location else 1,
        message,
        entry_id,
        severity="warning",
    )


def _candidate_pairs(texts: list[str]) -> list[tuple[int, int]]:
    """Pairs sharing most of their content words: the only ones worth a fuzzy comparison.

    Comparing every pair costs minutes at 10,000 questions. A pair qualifies when it shares
    at least 60% of the smaller question's words; then the smaller one's rarest
    `size - needed + 1` words must include a shared one (prefix filtering), so only those
    words are looked up in the index, and rare words have short lists.
    """
    word_sets = [
        frozenset(w for w in text.split() if w not in FUNCTION_WORDS) or frozenset(text.split())
        for text in texts
    ]
    postings: dict[str, list[int]] = defaultdict(list)
    for row, words in enumerate(word_sets):
        for word in words:
            postings[word].append(row)
    sizes = [len(words) for words in word_sets]
    rarity = {word: (len(rows), word) for word, rows in postings.items()}
    pairs: set[tuple[int, int]] = set()
    for row, words in enumerate(word_sets):
        size = sizes[row]
        needed = max(1, math.ceil(MIN_SHARED_WORDS * size - 1e-9))
        rarest = sorted(words, key=rarity.__getitem__)[: size - needed + 1]
        for other in {other for word in rarest for other in postings[word]}:
            # The smaller question of a pair does the probing; each candidate is checked once.
            if other != row and sizes[other] >= size and len(words & word_sets[other]) >= needed:
                pairs.add((min(row, other), max(row, other)))
    return sorted(pairs)


def _numbers(text: str) -> set[str]:
    return {word for word in text.split() if word.isdigit()}


def _similar(texts: list[str], owners: list[str], score: float) -> list[tuple[int, int, float]]:
    """Pairs of wordings of different entries, in one language, at least `score` alike."""
    normalised = [normalise(text) for text in texts]
    kept = [i for i, text in enumerate(normalised) if text]
    found = []
    for a, b in _candidate_pairs([normalised[i] for i in kept]):
        i, j = kept[a], kept[b]
        if owners[i] == owners[j]:
            continue
        if _numbers(normalised[i]) != _numbers(normalised[j]):
            continue  # "what is 811" and "what is 311" ask about different lines
        similarity = fuzz.token_sort_ratio(normalised[i], normalised[j])
        if similarity >= score:
            found.append((i, j, similarity))
    return found


def near_duplicates(
    knowledge: KnowledgeBase, score: float = DUPLICATE_SCORE, memo: Memo | None = None
) -> list[Problem]:
    """Pairs of questions in different entries that are (almost) the same. With a `memo`, a
    language whose wordings did not change since the last run is not compared again."""
    # Wordings compete within their language's index: compared language by language (all
    # languages at once, the other languages' common little words, "ang", "ke", "کے", made
    # 15,200 candidate pairs and half of `validate`'s time).
    groups: dict[str, list[_Question]] = defaultdict(list)
    for entry in knowledge.entries():
        wordings = entry.questions
        by_language = wordings if isinstance(wordings, dict) else {DEFAULT_LANGUAGE: wordings}
        for language, texts in by_language.items():
            groups[language] += [_Question(entry.id, text) for text in texts]
    warned: set[tuple[str, str]] = set()
    problems = []
    for group in groups.values():
        texts, owners = [q.text for q in group], [q.entry_id for q in group]
        source = f"{score}\x1d" + "\x1e".join(
            f"{o}\x1f{t}" for o, t in zip(owners, texts, strict=True)
        )
        found = memo.get("duplicates", source) if memo is not None else None
        if found is None:
            found = _similar(texts, owners, score)
            if memo is not None:
                memo.put("duplicates", source, found)
        for i, j, similarity in found:
            first, second = group[i], group[j]
            pair = tuple(sorted((first.entry_id, second.entry_id)))
            if pair in warned:
                continue
            warned.add((pair[0], pair[1]))
            problems.append(
                _where(
                    knowledge,
                    first.entry_id,
                    f'the question "{first.text}" is almost the same as "{second.text}" in '
                    f"{second.entry_id} (similarity {similarity:.0f}/100); they will compete "
                    "in matching: reword one, or merge the entries",
                )
            )
    return problems


def unlinked_services(knowledge: KnowledgeBase) -> list[Problem]:
    """Services no FAQ or crisis line links to (only reachable by name)."""
    linked = {s for faq in knowledge.faqs.values() for s in faq.services}
    linked |= {s for line in knowledge.crisis for s in line.services}
    linked |= {e.organiser for e in knowledge.events.values() if e.organiser}
    return [
        _where(knowledge, service.id, "no FAQ links to this service; add it to an FAQ's `services`")
        for service in knowledge.services.values()
        if service.id not in linked
    ]


def empty_topics(knowledge: KnowledgeBase) -> list[Problem]:
    """Topics with nothing filed under them."""
    used: set[str] = set()
    for entry in knowledge.entries():
        if isinstance(entry, Service):
            used.update(entry.topics)
        elif entry.topic:
            used.add(entry.topic)
    return [
        _where(knowledge, topic.id, "this topic has no entries yet")
        for topic in knowledge.topics.values()
        if topic.id not in used
    ]


def stale_by_owner(
    knowledge: KnowledgeBase, today: date, after_days: int = STALE_AFTER_DAYS
) -> dict[str, list[str]]:
    """Per owner, the entries not verified for `after_days` (or never)."""
    owners: dict[str, list[str]] = defaultdict(list)
    for entry in [*knowledge.entries(), *knowledge.crisis]:
        if entry.last_verified is None or is_stale(entry, today, after_days):
            owners[entry.owner or "(no owner)"].append(entry.id)
    return dict(sorted(owners.items()))


def unreviewed_by_owner(knowledge: KnowledgeBase) -> dict[str, dict[str, int]]:
    """Per owner, how many entries have a translation in each language no native speaker
    has checked yet (the entry's `reviewed:` list)."""
    owners: dict[str, dict[str, int]] = defaultdict(dict)
    for entry in [*knowledge.entries(), *knowledge.crisis]:
        for language in entry.unreviewed():
            counts = owners[entry.owner or "(no owner)"]
            counts[language] = counts.get(language, 0) + 1
    return dict(sorted(owners.items()))


def expired_figures(knowledge: KnowledgeBase, today: date) -> list[Problem]:
    """Entries whose amounts, income limits or fees are past their period."""
    problems = []
    for entry in [*knowledge.entries(), *knowledge.crisis]:
        reason = expiry_reason(entry, today)
        if reason:
            problems.append(
                _where(
                    knowledge,
                    entry.id,
                    f"{reason}: check the current amounts, then update the text and the "
                    "figures_from / figures_until dates (cards say they may be out of date)",
                )
            )
    return problems


def check(
    knowledge: KnowledgeBase,
    today: date,
    stale_after_days: int = STALE_AFTER_DAYS,
    memo: Memo | None = None,
) -> list[Problem]:
    """Every extra warning, sorted by file and line."""
    problems = near_duplicates(knowledge, memo=memo) + unlinked_services(knowledge)
    problems += empty_topics(knowledge)
    problems += expired_figures(knowledge, today)
    for owner, ids in stale_by_owner(knowledge, today, stale_after_days).items():
        problems.append(
            Problem(
                knowledge.root,
                1,
                1,
                f"{owner}: {len(ids)} entr{'y' if len(ids) == 1 else 'ies'} to re-verify "
                f"(not verified for over {stale_period(stale_after_days)}, or never): "
                f"{', '.join(ids[:10])}" + (" ..." if len(ids) > 10 else ""),
                severity="warning",
            )
        )
    for owner, languages in unreviewed_by_owner(knowledge).items():
        problems.append(
            Problem(
                knowledge.root,
                1,
                1,
                f"{owner}: translations not yet checked by a native speaker (add the language "
                "to the entry's `reviewed:` list once checked): "
                + ", ".join(f"{lang} ({count})" for lang, count in sorted(languages.items())),
                severity="warning",
            )
        )
    return sorted(problems, key=lambda p: (p.file, p.line, p.column))
