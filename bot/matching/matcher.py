"""The matcher: turns a question into an outcome (answered, ambiguous, unanswered or crisis)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import partial
from pathlib import Path

from bot.knowledge.model import (
    DEFAULT_LANGUAGE,
    CrisisLine,
    Event,
    Faq,
    KnowledgeBase,
    Service,
    all_texts,
    localise,
)
from bot.knowledge.places import places_of
from bot.matching import thresholds
from bot.matching.danger import learn_danger
from bot.matching.engine import Document, Evidence, Hit, Index
from bot.matching.meaning import default_embedder
from bot.matching.safety import SafetyDetector
from bot.text import Synonyms, guess_language, prepare, sentences

# Matching looks at the start of very long messages only: a question is in the first lines.
MAX_QUESTION_CHARS = 1000
# A message this long is also read sentence by sentence (sentences this long or longer):
# on a blind set of 164 newcomer questions this lifts in-scope accuracy from 51.6% to 59.7%,
# and the right answer given or offered from 72.6% to 82.3%, out-of-scope recall unchanged.
LONG_MESSAGE_WORDS = 12
MIN_SENTENCE_WORDS = 5


class Outcome(StrEnum):
    """What the bot decided to do with a question."""

    ANSWERED = "answered"
    AMBIGUOUS = "ambiguous"
    UNANSWERED = "unanswered"
    CRISIS = "crisis"


@dataclass(frozen=True)
class MatchSettings:
    """Decision thresholds (see README: how they were chosen).

    answer_threshold: the confidence (0-100) needed to answer.
    ambiguity_margin: the lead over the runner-up, in % of the top score, needed to answer
    without offering "did you mean" choices.
    """

    answer_threshold: float = thresholds.DEFAULT_ANSWER_THRESHOLD
    ambiguity_margin: float = thresholds.DEFAULT_AMBIGUITY_MARGIN
    # Below the answer threshold but above this, the bot offers "did you mean" choices.
    suggest_threshold: float | None = None
    # Below the suggestion floor but at or above this, the bot says it does not know (the
    # question becomes an emerging need) and lists the closest entries as "might help".
    related_threshold: float = thresholds.DEFAULT_RELATED_THRESHOLD
    max_choices: int = 3

    @property
    def suggest_floor(self) -> float:
        """The lowest top score still offered as a choice (default: the answer threshold)."""
        if self.suggest_threshold is not None:
            return self.suggest_threshold
        return self.answer_threshold


@dataclass(frozen=True)
class Candidate:
    """One ranked entry with its score and the evidence for it."""

    entry_id: str
    score: float
    evidence: Evidence


@dataclass(frozen=True)
class Match:
    """The matcher's decision for one question."""

    outcome: Outcome
    language: str
    candidates: tuple[Candidate, ...]
    crisis: CrisisLine | None = None
    # Ambiguous: the candidates worth offering as "did you mean" buttons. Unanswered: the
    # entries that might be related, offered beside the honest "I don't know yet".
    choices: tuple[Candidate, ...] = ()
    # The region's municipalities the question names: cards prefer services serving them.
    places: tuple[str, ...] = ()

    @property
    def best(self) -> Candidate | None:
        """The entry the bot answers with (or its top guess when ambiguous)."""
        if self.outcome in (Outcome.ANSWERED, Outcome.AMBIGUOUS) and self.candidates:
            return self.candidates[0]
        return None

    @property
    def entry_id(self) -> str | None:
        """The best entry's id, or None."""
        return self.best.entry_id if self.best else None

    @property
    def score(self) -> float:
        """The top candidate's score (0 when there is none)."""
        return self.candidates[0].score if self.candidates else 0.0

    @property
    def margin(self) -> float:
        """How far the top candidate is ahead of the runner-up."""
        if not self.candidates:
            return 0.0
        runner_up = self.candidates[1].score if len(self.candidates) > 1 else 0.0
        return self.candidates[0].score - runner_up


def documents(knowledge: KnowledgeBase) -> list[Document]:
    """What the index searches: FAQ questions, service names and descriptions, event titles."""
    docs: list[Document] = []
    for entry in knowledge.entries():
        texts: list[str]
        if isinstance(entry, Faq):
            texts = all_texts(entry.questions)
        elif isinstance(entry, Service):
            texts = [*all_texts(entry.name), *all_texts(entry.questions)]
            texts += all_texts(entry.description)
        else:
            texts = [*all_texts(entry.title), *all_texts(entry.questions)]
            texts += all_texts(entry.description)
        docs.append(Document(entry.id, tuple(t for t in texts if t.strip()), tuple(entry.keywords)))
    return docs


class Matcher:
    """Matches questions against one knowledge base; build once, call `match` many times."""

    def __init__(
        self,
        knowledge: KnowledgeBase,
        settings: MatchSettings | None = None,
        cache_dir: Path | None = None,
        spelling: bool = True,
        meaning: bool = True,
        safety_examples: Path | None = None,
    ) -> None:
        self.knowledge = knowledge
        self.settings = settings or MatchSettings()
        self.synonyms = Synonyms(knowledge.synonyms)
        # The learned second opinion on danger, from the labelled messages only (not from this
        # knowledge base): one fit per process, whatever the knowledge base (bot.matching.danger).
        model = None
        if safety_examples is not None:
            model = learn_danger(safety_examples, cache_dir)
        self.safety = SafetyDetector(knowledge.crisis, knowledge.safety, model)
        self.index = Index.build(
            documents(knowledge),
            partial(prepare, synonyms=self.synonyms),
            cache_dir,
            spelling,
            default_embedder() if meaning else None,
        )

    def language_of(self, text: str, language: str | None) -> str:
        """The reply language: the one asked for, else a guess from the text, else English."""
        if language:
            return language.split("-")[0].lower()
        return guess_language(text) or DEFAULT_LANGUAGE

    def match(
        self,
        text: str,
        language: str | None = None,
        now: datetime | None = None,
        safety: bool = True,
    ) -> Match:
        """Decide how to answer `text`; never raises on odd input. `safety=False` skips the
        safety detector, for someone who said a crisis reply was a false alarm."""
        lang = self.language_of(text, language)
        question = text[:MAX_QUESTION_CHARS]
        crisis = self.safety.check(question) if safety else None
        if crisis is not None:
            return Match(Outcome.CRISIS, lang, (), crisis)
        now = now or datetime.now(self.knowledge.region.zone)
        limit = self.settings.max_choices + 2
        hits = [
            Candidate(hit.entry_id, round(hit.score, 1), hit.evidence)
            for hit in self._search(question, limit + 3)
            if self._offerable(hit.entry_id, now)
        ][:limit]
        hits = self._join_linked(hits)
        outcome = self._decide(hits)
        choices: tuple[Candidate, ...] = ()
        if outcome is Outcome.AMBIGUOUS:
            choices = self._choices(hits)
        elif outcome is Outcome.UNANSWERED:
            floor = self.settings.related_threshold
            choices = tuple(c for c in hits if c.score >= floor)[: self.settings.max_choices]
        return Match(
            outcome,
            lang,
            tuple(hits),
            choices=choices,
            places=places_of(question, self.knowledge.region),
        )

    def _search(self, question: str, limit: int) -> list[Hit]:
        """Ranked entries for a question; a long message is also read sentence by sentence.

        Newcomers often tell their story before they ask ("We arrived in May with two kids...
        is there a shelter for a whole family?"). In a message of several sentences, words the
        knowledge base never uses are mostly that story (names, places, dates), so the whole
        message is scored without them; each sentence is also scored alone, with the usual
        care for unknown words, and every entry keeps its best score.
        """
        parts = [p for p in sentences(question) if len(p.split()) >= MIN_SENTENCE_WORDS]
        if len(question.split()) < LONG_MESSAGE_WORDS or len(parts) < 2:
            return self.index.search(question, limit=limit)
        best: dict[str, Hit] = {}
        for hits in [
            self.index.search(question, limit=limit, ignore_unknown=True),
            *(self.index.search(part, limit=limit) for part in parts),
        ]:
            for hit in hits:
                if hit.entry_id not in best or hit.score > best[hit.entry_id].score:
                    best[hit.entry_id] = hit
        return sorted(best.values(), key=lambda h: (-h.score, h.entry_id))[:limit]

    def _offerable(self, entry_id: str, now: datetime) -> bool:
        entry = self.knowledge.entry(entry_id)
        return not isinstance(entry, Event) or entry.is_upcoming(now)

    def _leads(self, top: float, runner_up: float) -> bool:
        """Whether the top score is far enough ahead to answer without offering choices."""
        # The lead needed grows with the score: 5 points apart means little at 90.
        # Strictly ahead: an exact tie is never answered, even with no margin set.
        return top - runner_up > top * self.settings.ambiguity_margin / 100

    def _join_linked(self, hits: list[Candidate]) -> list[Candidate]:
        """Read a close FAQ and the service it links as one answer: the FAQ, with both.

        "food bank <village> hours" fits the northern food banks FAQ and the village's food
        bank it links about equally; the FAQ's reply holds the service's
        contacts, so there is nothing to choose.
        """
        if len(hits) < 2:
            return hits
        first, second = hits[0], hits[1]
        if self._leads(first.score, second.score):
            return hits
        faq, service = (first, second) if first.entry_id in self.knowledge.faqs else (second, first)
        entry = self.knowledge.faqs.get(faq.entry_id)
        if entry is None or service.entry_id not in entry.services:
            return hits
        joined = Candidate(faq.entry_id, first.score, faq.evidence)
        return [joined, *hits[2:]]

    def _decide(self, hits: list[Candidate]) -> Outcome:
        settings = self.settings
        if not hits:
            return Outcome.UNANSWERED
        probe = Match(Outcome.UNANSWERED, "", tuple(hits))
        if probe.score >= settings.answer_threshold:
            runner_up = hits[1].score if len(hits) > 1 else 0.0
            return Outcome.ANSWERED if self._leads(hits[0].score, runner_up) else Outcome.AMBIGUOUS
        if hits[0].score >= settings.suggest_floor:
            return Outcome.AMBIGUOUS
        return Outcome.UNANSWERED

    def _choices(self, hits: list[Candidate]) -> tuple[Candidate, ...]:
        # Offer the close runners-up, not every weak hit: within the margin of the best
        # one, and never below the suggestion floor.
        best = hits[0].score
        share = min(1.0, 2 * self.settings.ambiguity_margin / 100)
        floor = min(best, max(self.settings.suggest_floor, best * (1 - share)))
        close = [c for c in hits if c.score >= floor] or hits[:1]
        return tuple(close[: self.settings.max_choices])

    def title(self, entry_id: str, language: str) -> str:
        """A short label for an entry (for buttons and lists)."""
        entry = self.knowledge.entry(entry_id)
        return self.knowledge.title_of(entry, language) if entry else entry_id

    def topic_title(self, topic_id: str, language: str) -> str:
        """A topic's title in a language."""
        topic = self.knowledge.topics.get(topic_id)
        return localise(topic.title, language) if topic else topic_id
