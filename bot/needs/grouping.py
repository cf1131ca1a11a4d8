"""Emerging needs: group unanswered questions into needs staff can count, trend and act on.

Pure Python and deterministic. A question becomes a *signature*: its content words after
normalisation, synonyms, a light plural stem and typo folding. Questions whose signatures
overlap strongly join the same need. Needs already stored keep their id and members, so a
need's triage status sticks while new questions join it.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.text import normalise

# Words that say nothing about the need itself ("how can I find ... please").
STOPWORDS = frozenset(
    """
    a about an and any anyone are as at be been can could do does for from get getting go
    going have help hello hi how i im in is it its know like looking me my near need needs
    of on or our please there thanks thank the their them this to want we what when where
    which who why will with would you your find some someone something get got tell us
    buy good best place nearby
    le la les un une des du de d l j je est et ou pour comment quel quelle quels quelles
    mon ma mes votre vos il elle on nous vous y a au aux en dans avec sur svp merci bonjour
    trouver besoin puis peux cherche est-ce qu que qui
    """.split()
)

_TAG = re.compile(r"\[(phone|email|number|postal code)\]")

# Two signatures belong together when they share this share of the smaller one's words...
MIN_OVERLAP = 0.6
# ...and this share of all their words (stops "club" alone joining every club question).
MIN_JACCARD = 0.34
# Typo folding: a rare word one edit (or swapped pair) from a word at least this many times
# more common is read as that word; two edits for words of 8 letters or more.
TYPO_RATIO = 2


@dataclass(frozen=True)
class Asked:
    """One logged question as the clustering sees it (text already redacted)."""

    question_id: int
    text: str
    asked_at: datetime
    user_hash: str | None = None
    language: str = "en"


@dataclass
class Need:
    """A group of questions about the same thing; `terms` is the leader's signature."""

    id: int
    terms: frozenset[str]
    representative: str
    status: str = "new"
    note: str = ""
    assignee: str = ""
    entry_id: str | None = None
    members: list[Asked] = field(default_factory=list)


def _stem(word: str) -> str:
    # "clubs" -> "club", "classes" -> "class"; short words and "ss" endings are left alone.
    if len(word) > 4 and word.endswith("es") and word[-3] in "sxz":
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


class Signatures:
    """Turns question text into comparable word sets; fold typos once over a whole batch."""

    def __init__(
        self,
        prepare: Callable[[str], str] = normalise,
        place_words: frozenset[str] = frozenset(),
    ) -> None:
        self._prepare = prepare
        # Town names (the region profile's) say where, not what: "halal butcher in <one town>"
        # and "halal butcher <another town>" are one need.
        self._place_words = place_words
        self._aliases: dict[str, str] = {}

    def words(self, text: str) -> list[str]:
        """Content words of a text, before typo folding."""
        prepared = self._prepare(_TAG.sub(" ", text))
        return [
            _stem(w)
            for w in prepared.split()
            if w not in STOPWORDS and w not in self._place_words and not w.isdigit() and len(w) > 1
        ]

    def learn(self, texts: Iterable[str]) -> None:
        """Map rare misspellings to common words seen in the same batch ("crikcet" -> "cricket")."""
        counts = Counter(w for text in texts for w in set(self.words(text)))
        by_first: dict[str, list[str]] = defaultdict(list)
        for word, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            if len(word) < 4:
                continue
            common = by_first[word[0]]
            if common:
                edits = 2 if len(word) >= 8 else 1
                best = process.extractOne(word, common, scorer=OSA.distance, score_cutoff=edits)
                if best is not None and counts[best[0]] >= TYPO_RATIO * counts[word]:
                    self._aliases[word] = self._aliases.get(best[0], best[0])
                    continue
            common.append(word)

    def of(self, text: str) -> frozenset[str]:
        """The signature of a text."""
        return frozenset(self._aliases.get(w, w) for w in self.words(text))


def similar(a: frozenset[str], b: frozenset[str]) -> float:
    """How strongly two signatures overlap (0 when they should not be grouped)."""
    if not a or not b:
        return 0.0
    shared = len(a & b)
    overlap = shared / min(len(a), len(b))
    jaccard = shared / len(a | b)
    if overlap < MIN_OVERLAP or jaccard < MIN_JACCARD:
        return 0.0
    return overlap + jaccard


class NeedIndex:
    """Existing needs, looked up by the words of their leader signature."""

    def __init__(self, needs: Iterable[Need]) -> None:
        self.needs: dict[int, Need] = {}
        self._by_word: dict[str, list[int]] = defaultdict(list)
        for need in needs:
            self.add(need)

    def add(self, need: Need) -> None:
        """Index a need under each of its words."""
        self.needs[need.id] = need
        for word in need.terms:
            self._by_word[word].append(need.id)

    def best(self, signature: frozenset[str]) -> Need | None:
        """The most similar need, ties going to the oldest (lowest id) for determinism."""
        candidates = {nid for word in signature for nid in self._by_word.get(word, ())}
        best_id, best_score = None, 0.0
        for nid in sorted(candidates):
            score = similar(signature, self.needs[nid].terms)
            if score > best_score:
                best_id, best_score = nid, score
        return self.needs[best_id] if best_id is not None else None


@dataclass(frozen=True)
class Assignment:
    """Which need each new question joined, and which needs are new."""

    memberships: dict[int, int]  # question id -> need id
    created: list[Need]


def assign(
    questions: Sequence[Asked],
    existing: Iterable[Need],
    signatures: Signatures,
    next_id: int,
) -> Assignment:
    """Put new questions into existing needs or new ones, most frequent wordings first."""
    signatures.learn(q.text for q in questions)
    index = NeedIndex(existing)
    grouped: dict[frozenset[str], list[Asked]] = defaultdict(list)
    for question in questions:
        grouped[signatures.of(question.text)].append(question)
    # Frequent signatures lead their needs; ties broken by words so runs are repeatable.
    order = sorted(grouped.items(), key=lambda kv: (-len(kv[1]), sorted(kv[0])))
    memberships: dict[int, int] = {}
    created: list[Need] = []
    for signature, members in order:
        if not signature:
            continue  # nothing but filler words ("hello?"): not a need
        need = index.best(signature)
        if need is None:
            need = Need(next_id, signature, representative_of(members))
            next_id += 1
            index.add(need)
            created.append(need)
        for question in members:
            memberships[question.question_id] = need.id
    return Assignment(memberships, created)


def representative_of(members: Sequence[Asked]) -> str:
    """The most common wording (ties: the shortest, then alphabetical)."""
    counts = Counter(" ".join(m.text.split()) for m in members)
    return min(counts, key=lambda text: (-counts[text], len(text), text))


@dataclass(frozen=True)
class NeedSummary:
    """What staff see for one need over a period."""

    id: int
    representative: str
    status: str
    assignee: str
    note: str
    entry_id: str | None
    questions: int  # all questions in the need
    askers: int  # distinct people; each counts once however often they asked
    in_period: int  # distinct askers in the period
    previous: int  # distinct askers in the period before
    languages: dict[str, int]
    municipalities: dict[str, int]
    first_seen: datetime
    last_seen: datetime
    terms: tuple[str, ...]
    wordings: tuple[str, ...]

    @property
    def trend(self) -> str:
        """ "new", "up", "down" or "steady", comparing this period with the one before."""
        if self.previous == 0:
            return "new" if self.in_period else "steady"
        if self.in_period > self.previous * 1.2:
            return "up"
        if self.in_period < self.previous * 0.8:
            return "down"
        return "steady"

    @property
    def change(self) -> int:
        """Askers this period minus askers in the previous one."""
        return self.in_period - self.previous


def _askers(members: Iterable[Asked]) -> int:
    # Questions asked without a user (the console) each count as their own asker.
    return len({m.user_hash or f"q{m.question_id}" for m in members})


def _no_places(_text: str) -> list[str]:
    return []


def summarise(
    need: Need,
    since: datetime,
    until: datetime,
    places_in: Callable[[str], list[str]] = _no_places,
) -> NeedSummary:
    """Counts, languages, places, dates and trend for one need with its members loaded.

    `places_in` names the municipalities a question mentions (the region profile's).
    """
    members = sorted(need.members, key=lambda m: (m.asked_at, m.question_id))
    length = until - since
    current = [m for m in members if since <= m.asked_at < until]
    before = [m for m in members if since - length <= m.asked_at < since]
    places: Counter[str] = Counter()
    for asker_places in {
        (m.user_hash or f"q{m.question_id}", p) for m in members for p in places_in(m.text)
    }:
        places[asker_places[1]] += 1
    wording_counts = Counter(" ".join(m.text.split()) for m in members)
    return NeedSummary(
        id=need.id,
        representative=representative_of(members) if members else need.representative,
        status=need.status,
        assignee=need.assignee,
        note=need.note,
        entry_id=need.entry_id,
        questions=len(members),
        askers=_askers(members),
        in_period=_askers(current),
        previous=_askers(before),
        languages=dict(Counter(m.language for m in members).most_common()),
        municipalities=dict(places.most_common()),
        first_seen=members[0].asked_at if members else since,
        last_seen=members[-1].asked_at if members else since,
        terms=tuple(sorted(need.terms)),
        wordings=tuple(text for text, _ in wording_counts.most_common()),
    )
