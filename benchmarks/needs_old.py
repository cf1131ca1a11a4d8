"""The leader-based grouping `needs` used before bot.needs.groups, frozen here only so
benchmarks/needs_grouping.py can measure old and new side by side in one run. Not used by the bot.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.knowledge.loader import load_directory
from bot.text import normalise


@dataclass
class Need:
    """A group of questions; `terms` is the leader's signature."""

    id: int
    terms: frozenset[str]
    members: list[int] = field(default_factory=list)


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

_REGION = load_directory(Path(__file__).resolve().parent.parent / "knowledge" / "region.yaml")
_PLACE_WORDS = _REGION.knowledge.region.place_words if _REGION.knowledge else frozenset()
_TAG = re.compile(r"\[(phone|email|number|postal code)\]")

# Two signatures belong together when they share this share of the smaller one's words...
MIN_OVERLAP = 0.6
# ...and this share of all their words (stops "club" alone joining every club question).
MIN_JACCARD = 0.34
# Typo folding: a rare word one edit (or swapped pair) from a word at least this many times
# more common is read as that word; two edits for words of 8 letters or more.
TYPO_RATIO = 2


def _stem(word: str) -> str:
    # "clubs" -> "club", "classes" -> "class"; short words and "ss" endings are left alone.
    if len(word) > 4 and word.endswith("es") and word[-3] in "sxz":
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


class Signatures:
    """Turns question text into comparable word sets; fold typos once over a whole batch."""

    def __init__(self, prepare: Callable[[str], str] = normalise) -> None:
        self._prepare = prepare
        self._aliases: dict[str, str] = {}

    def words(self, text: str) -> list[str]:
        """Content words of a text, before typo folding."""
        prepared = self._prepare(_TAG.sub(" ", text))
        return [
            _stem(w)
            for w in prepared.split()
            if w not in STOPWORDS and w not in _PLACE_WORDS and not w.isdigit() and len(w) > 1
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
    questions: Sequence[tuple[int, str]],
    existing: Iterable[Need],
    signatures: Signatures,
    next_id: int,
) -> Assignment:
    """Put new questions into existing needs or new ones, most frequent wordings first."""
    signatures.learn(text for _, text in questions)
    index = NeedIndex(existing)
    grouped: dict[frozenset[str], list[tuple[int, str]]] = defaultdict(list)
    for question in questions:
        grouped[signatures.of(question[1])].append(question)
    # Frequent signatures lead their needs; ties broken by words so runs are repeatable.
    order = sorted(grouped.items(), key=lambda kv: (-len(kv[1]), sorted(kv[0])))
    memberships: dict[int, int] = {}
    created: list[Need] = []
    for signature, members in order:
        if not signature:
            continue  # nothing but filler words ("hello?"): not a need
        need = index.best(signature)
        if need is None:
            need = Need(next_id, signature)
            next_id += 1
            index.add(need)
            created.append(need)
        for question_id, _ in members:
            memberships[question_id] = need.id
    return Assignment(memberships, created)
