"""The matcher: turns a question into an outcome (answered, ambiguous, unanswered or crisis)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import partial
from pathlib import Path

import numpy as np

from bot.knowledge.model import (
    DEFAULT_LANGUAGE,
    CrisisLine,
    Event,
    Faq,
    KnowledgeBase,
    LocalList,
    LocalText,
    Service,
    all_texts,
    localise,
)
from bot.knowledge.places import places_of
from bot.matching import thresholds
from bot.matching.danger import learn_danger, load_meaning
from bot.matching.datarequest import asks_about_own_data
from bot.matching.encoder import MODEL, Encoder, Vectors
from bot.matching.engine import Document, Evidence, Hit, Index
from bot.matching.language import SHIPPED, choose
from bot.matching.meaning import default_embedder
from bot.matching.safety import Assessment, SafetyDetector
from bot.matching.smalltalk import Talk, small_talk
from bot.text import Synonyms, prepare, sentences, without_markup

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
    # Only a greeting, thanks or goodbye (bot.matching.smalltalk): a friendly word back, not
    # an answer, and not an emerging need.
    SMALL_TALK = "small_talk"


def _rank(outcome: Outcome) -> int:
    """How good a decision is: an answer, then choices, then nothing."""
    return {Outcome.ANSWERED: 0, Outcome.AMBIGUOUS: 1}.get(outcome, 2)


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
    # The confidence the other languages' word index needs to answer (see pick_words);
    # chosen on the tune split of tests/data/multilingual.jsonl by
    # `benchmarks/multilingual.py --calibrate` (the sweep's numbers are in its comment).
    foreign_answer_threshold: float = thresholds.FOREIGN_ANSWER_THRESHOLD
    # Below that bar, the other languages' index answers when the runner-up scores at most
    # this share of the top (thresholds.FOREIGN_LEAD).
    foreign_lead: float = thresholds.FOREIGN_LEAD

    @property
    def suggest_floor(self) -> float:
        """The lowest top score still offered as a choice (default: the answer threshold)."""
        if self.suggest_threshold is not None:
            return self.suggest_threshold
        return self.answer_threshold


@dataclass(frozen=True)
class EncoderSettings:
    """Decision thresholds for the multilingual encoder (cosine similarity, 0-1).

    Swept on the tune split of tests/data/multilingual.jsonl (170 messages) by
    `benchmarks/multilingual.py --calibrate`, maximising right answers less wrong answers
    less twice the out-of-scope questions answered, with at least 85% of those kept out:
    answer 0.84-0.94, lead 0-0.05, override 0.90-1.01, then the button floor 0.78-0.92
    (most expected entries offered, less out-of-scope questions given buttons). Swept again
    once all 137 FAQs were translated into the ten languages, with 42 out-of-scope probes
    added to the tune split (tests/data/multilingual_oos_probes.jsonl): answer 0.91, lead
    0.01, offer 0.91 scored best (objective 85; buttons 104). Swept again with 5 to 10 more
    wordings per FAQ in each language and the fourth round's danger model: the values below
    scored best (objective 88; buttons 101). The sweep is flat near its best (with 5 more
    wordings and the third round's model, answer 0.84 / lead 0.05 had scored best).

    answer: the closest stored question's similarity needed to answer on the encoder's word;
    lead: how far the best entry must be ahead of the next one to answer (else buttons);
    offer: the similarity needed to offer an entry as a button;
    override: needed to overrule a confident answer on words with another entry.
    """

    answer: float = 0.92
    lead: float = 0.03
    offer: float = 0.92
    override: float = 0.90
    # The other languages' word index answered below its bar (foreign_answer_threshold), and
    # the encoder's closest entry is the same one at this similarity at least: two matchers
    # that read a message differently (character n-grams, meaning) agree, so answer. Swept
    # on the tune split and the probes (0.86-0.95, and 1.01 for never), the others fixed:
    # 0.90 scored 92 against 88 without (right answers 95 -> 101 of 170, out-of-scope
    # probes and questions answered 3 -> 4 of 72).
    agree: float = 0.90
    # For a message in another language, the word index and the encoder rank the same entry
    # first, though the words were under every bar (buttons, or "I do not know"): answer it
    # from this similarity. The word index's top entry is the evidence, not its score: a
    # word floor (0 to 20) changed nothing. Swept on the tune and dev splits and the probes
    # (0.91-0.95, the rest as shipped): 0.93 scored 321 against 315 without (right 351 ->
    # 357 of 419, wrong 4 -> 4, out of scope kept out 133 of 149 either way); 0.92 scored
    # 318 (361 right, 130 kept out), 0.91 kept fewer than 85% out.
    agree_first: float = 0.93
    # A word answer to a message in another language (not English or French) stands only when
    # the encoder ranks the same entry among its first `rank`; otherwise the two matchers
    # disagree, and the person gets both readings as buttons (the encoder's from `offer` up).
    # Chosen on the tune and dev splits and the probes (1, 2, 3 and never; 99 is never): 3
    # scored best. There, of 411 in-scope questions, right answers 333 -> 327, wrong ones
    # 7 -> 4; of 149 out-of-scope questions,
    # answered 22 -> 14 ("is parking free near the library" answered with the library card,
    # "health card in British Columbia" with Ontario's).
    rank: int = 3


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
    # A crisis: another kind of danger the message may speak of, whose contacts follow.
    also: CrisisLine | None = None
    # Ambiguous: the candidates worth offering as "did you mean" buttons. Unanswered: the
    # entries that might be related, offered beside the honest "I don't know yet".
    choices: tuple[Candidate, ...] = ()
    # The region's municipalities the question names: cards prefer services serving them.
    places: tuple[str, ...] = ()
    # The multilingual encoder's vector of the question (None without the encoder or when it
    # failed): kept with an unanswered question, emerging needs group by it (issue 12).
    vector: Vectors | None = field(default=None, compare=False, repr=False)
    # Short of an alarm, the safety model found danger likely enough (bot.matching.danger's
    # WORRY) that even a sure answer carries the 911/988 line.
    worried: bool = False
    # Small talk: what the message does (greets, thanks, says goodbye).
    talk: Talk | None = None

    @property
    def carries_net(self) -> bool:
        """Whether the reply carries the 911/988 safety line (or is the crisis reply): every
        reply but a sure answer or a word back to a greeting or thanks does, and a sure answer
        to a worrying message too. A goodbye does: a farewell can be a sign of danger; and so
        does "that did not help", which the bot could not answer."""
        if self.outcome is Outcome.SMALL_TALK:
            return self.talk in (Talk.BYE, Talk.NOT_HELPFUL)
        return self.outcome is not Outcome.ANSWERED or self.worried

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


def encoder_texts(knowledge: KnowledgeBase) -> tuple[list[str], list[str]]:
    """What the encoder compares a message with: each FAQ's question variants and each
    service's name and questions, with the entry of each."""
    texts: list[str] = []
    owners: list[str] = []

    def add(entry_id: str, value: LocalText | LocalList | None) -> None:
        if value is None:
            return
        items = {DEFAULT_LANGUAGE: value} if isinstance(value, str | list) else value
        for text in items.values():
            for one in [text] if isinstance(text, str) else text:
                if one.strip():
                    texts.append(one)
                    owners.append(entry_id)

    for faq in knowledge.faqs.values():
        add(faq.id, faq.questions)
    for service in knowledge.services.values():
        add(service.id, service.name)
        add(service.id, service.questions)
    return texts, owners


# The languages of the main word index. Wordings in the other languages have an index of
# their own: mixed into one, the ten languages' 2,000-odd wordings changed the word model's
# class weights and calibration so much that English and French out-of-scope questions kept
# unanswered fell from 92% to 82% on the question set (tests/test_question_set.py).
WORD_LANGUAGES = frozenset({"en", "fr"})
# An English or French question the main index leaves unanswered is tried on the other
# languages' index only when this many of its words are known there and not in English or
# French ("OHIP card kaise milega": "kaise", "milega"), so an out-of-scope English question
# never lands on a translated wording.
MIN_FOREIGN_WORDS = 2


def _texts(value: LocalText | LocalList | None, main: bool) -> list[str]:
    """The texts of `value` in the main index's languages (main) or in the others."""
    if value is None:
        return []
    if isinstance(value, str | list):
        return all_texts(value) if main else []
    out: list[str] = []
    for code, item in value.items():
        if (code in WORD_LANGUAGES) == main:
            out.extend([item] if isinstance(item, str) else item)
    return out


def documents(knowledge: KnowledgeBase, main: bool = True) -> list[Document]:
    """What a word index searches: FAQ questions, service names and descriptions, event
    titles; in English and French (main) or in every other language."""
    docs: list[Document] = []
    for entry in knowledge.entries():
        texts: list[str]
        if isinstance(entry, Faq):
            texts = _texts(entry.questions, main)
        elif isinstance(entry, Service):
            texts = [*_texts(entry.name, main), *_texts(entry.questions, main)]
            texts += _texts(entry.description, main)
        else:
            texts = [*_texts(entry.title, main), *_texts(entry.questions, main)]
            texts += _texts(entry.description, main)
        keywords = tuple(entry.keywords) if main else ()
        docs.append(Document(entry.id, tuple(t for t in texts if t.strip()), keywords))
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
        encoder: Encoder | None = None,
        encoder_settings: EncoderSettings | None = None,
        languages: tuple[str, ...] = SHIPPED,
        safety_examples: Path | None = None,
    ) -> None:
        self.knowledge = knowledge
        self.settings = settings or MatchSettings()
        self.languages = languages
        self.encoder = encoder
        self.encoder_settings = encoder_settings or EncoderSettings()
        self._vectors: Vectors | None = None
        if encoder is not None:
            texts, self._vector_entry = encoder_texts(knowledge)
            self._vector_text = texts
            self._vectors = encoder.corpus(texts)
        self.synonyms = Synonyms(knowledge.synonyms)
        # The learned second opinion on danger, from the labelled messages only (not from this
        # knowledge base): one fit per process, whatever the knowledge base (bot.matching.danger).
        model = head = None
        if safety_examples is not None:
            model = learn_danger(safety_examples, cache_dir)
            if encoder is not None and model is not None:
                head = load_meaning(safety_examples, MODEL, model.examples)
        self.safety = SafetyDetector.for_knowledge(knowledge, model, head)
        self.index = Index.build(
            documents(knowledge),
            partial(prepare, synonyms=self.synonyms),
            cache_dir,
            spelling,
            default_embedder() if meaning else None,
        )
        # The other languages' wordings, apart (see WORD_LANGUAGES). No meaning model: the
        # word embeddings are English. The synonyms apply here too: the cross-language terms
        # (knowledge/terms/) tag "டாக்டர்" and "医生" alike as "doctor", so a question meets the
        # wordings of every language (multilingual tune split, words only: right answers 69% ->
        # 82%, out-of-scope kept out 96% -> 93% with the probes).
        others = documents(knowledge, main=False)
        self.other_index: Index | None = None
        if any(d.questions for d in others):
            self.other_index = Index.build(
                others, partial(prepare, synonyms=self.synonyms), cache_dir, spelling, None
            )
        main_words = frozenset().union(*self.index.entry_words)
        self._foreign_words: frozenset[str] = frozenset()
        if self.other_index is not None:
            self._foreign_words = frozenset().union(*self.other_index.entry_words) - main_words

    def language_of(self, text: str, language: str | None) -> str:
        """The reply language: the one asked for, else the message's, else English."""
        if language:
            return language.split("-")[0].lower()
        return choose(text, shipped=self.languages)

    def match(
        self,
        text: str,
        language: str | None = None,
        now: datetime | None = None,
        safety: bool = True,
    ) -> Match:
        """Decide how to answer `text`; never raises on odd input. `safety=False` skips the
        safety detector, for someone who said a crisis reply was a false alarm."""
        question = without_markup(text)[:MAX_QUESTION_CHARS]
        lang = self.language_of(question, language)
        # A message made only of fixed greetings, thanks and goodbyes names no danger, so it
        # is read before the safety check, where a short message's lexicon hit always
        # stands: "Assalamu alaikum" was read as "assault" (a typo forgiven) and got the
        # crime crisis reply. A goodbye still carries the 911/988 line (see carries_net).
        talk = small_talk(question)
        if talk is not None:
            return Match(Outcome.SMALL_TALK, lang, (), talk=talk)
        # The encoder's vector serves the safety check (what the message means) and matching.
        vector = None
        if self.encoder is not None and self._vectors is not None:
            vector = self.encoder.query(question)
        assessment = self.safety.assess(question, vector) if safety else Assessment()
        if assessment.finding is not None:
            found = assessment.finding
            return Match(Outcome.CRISIS, lang, (), found.line, also=found.also)
        now = now or datetime.now(self.knowledge.region.zone)
        limit = self.settings.max_choices + 2
        outcome, hits = self._by_words(self.index, question, limit, now)
        other = self.other_index
        held_back = False
        if other is not None and outcome is not Outcome.ANSWERED and self._foreign(question, lang):
            outcome, hits, held_back = self.pick_words(
                (outcome, hits), self._by_words(other, question, limit, now)
            )
        choices: tuple[Candidate, ...] = ()
        if outcome is Outcome.AMBIGUOUS:
            choices = self._choices(hits)
        elif outcome is Outcome.UNANSWERED:
            floor = self.settings.related_threshold
            choices = tuple(c for c in hits if c.score >= floor)[: self.settings.max_choices]
        if self.encoder is not None and self._vectors is not None:
            ranked = self._by_meaning(vector, now)
            if ranked:
                foreign = lang not in WORD_LANGUAGES
                outcome, hits, choices = self._fuse(
                    outcome, hits, choices, ranked, held_back, foreign
                )
        if (
            outcome is not Outcome.ANSWERED
            and not assessment.worried
            and asks_about_own_data(question)
        ):
            # "How do I delete my data" got "I do not know" and was logged as a need: the
            # request to erase kept. It gets the privacy notice, which says how (/forget).
            return Match(Outcome.SMALL_TALK, lang, (), talk=Talk.PRIVACY)
        return Match(
            outcome,
            lang,
            tuple(hits),
            choices=choices,
            places=places_of(question, self.knowledge.region),
            vector=vector,
            worried=assessment.worried,
        )

    def _by_meaning(self, vector: Vectors | None, now: datetime) -> list[Candidate]:
        """Entries ranked by the encoder (the message's vector): each by its stored question
        closest in meaning, in any language.

        Variants in the message's own language are not preferred: every FAQ has variants in
        all twelve languages, and a penalty of 0.01 to 0.06 on the others' similarity lowered
        right answers on the multilingual tune + dev splits and probes (335 of 411 without it,
        328 at the 0.02 shipped until then, 320 at 0.06; out-of-scope kept out 134 of 149 at
        every value; benchmarks/RESULTS.md).
        """
        assert self._vectors is not None
        if vector is None:
            return []  # the encoder failed on this message: words alone decide
        sims = self._vectors @ vector
        # Only the closest rows are read: a partial sort, not a full one (18,676 stored
        # questions: 1.6 ms against 2.5 ms for the product and a full argsort).
        closest = min(len(sims), 40 * self.settings.max_choices)
        if closest == 0:
            return []
        rows = np.argpartition(-sims, closest - 1)[:closest]
        best: dict[str, tuple[float, int]] = {}
        for row in rows[np.argsort(-sims[rows])]:  # closest first: an entry's first is its best
            best.setdefault(self._vector_entry[row], (float(sims[row]), int(row)))
        ranked = sorted(best.items(), key=lambda item: (-item[1][0], item[0]))
        return [
            Candidate(
                entry_id,
                round(100 * value, 1),
                Evidence(self._vector_text[row], (), {"encoder": round(100 * value, 1)}),
            )
            for entry_id, (value, row) in ranked
            if self._offerable(entry_id, now)
        ][: self.settings.max_choices + 2]

    def _fuse(
        self,
        outcome: Outcome,
        hits: list[Candidate],
        choices: tuple[Candidate, ...],
        ranked: list[Candidate],
        held_back: bool = False,
        foreign: bool = False,
    ) -> tuple[Outcome, list[Candidate], tuple[Candidate, ...]]:
        """Words and meaning together: a confident word answer stands unless the encoder is
        surer of another entry (or, for a `foreign` message, ranks it low: then both are
        offered); a word answer held back by the other languages' bar stands when the
        encoder's closest entry is the same, and so does the word index's first entry for a
        `foreign` message when the encoder is close to sure of it (agree_first); otherwise
        the encoder answers with a clear lead, or offers its closest entries as buttons."""
        es = self.encoder_settings
        top = ranked[0]
        runner_up = ranked[1].score if len(ranked) > 1 else 0.0
        clear = top.score >= 100 * es.answer and top.score - runner_up >= 100 * es.lead
        offered = [c for c in ranked if c.score >= 100 * es.offer]
        if outcome is Outcome.ANSWERED:
            if clear and hits[0].entry_id != top.entry_id and top.score >= 100 * es.override:
                return Outcome.ANSWERED, [top, *ranked[1:]], ()
            if foreign and hits[0].entry_id not in {c.entry_id for c in ranked[: es.rank]}:
                both = [hits[0], *(c for c in offered if c.entry_id != hits[0].entry_id)]
                return Outcome.AMBIGUOUS, both, tuple(both[: self.settings.max_choices])
            return outcome, hits, choices
        if hits and hits[0].entry_id == top.entry_id:
            bar = es.agree if held_back else es.agree_first if foreign else None
            if bar is not None and top.score >= 100 * bar:
                return Outcome.ANSWERED, hits, ()
        if clear:
            return Outcome.ANSWERED, [top, *ranked[1:]], ()
        if offered:
            seen = {o.entry_id for o in offered}
            merged = [*offered, *(c for c in choices if c.entry_id not in seen)]
            picked = tuple(merged[: self.settings.max_choices])
            # Each entry once: the word engine's reading of an entry the encoder offers is
            # left out ("ask" listed regulated-profession at 94.4 and again at 21.0).
            others = [h for h in hits if h.entry_id not in seen]
            return Outcome.AMBIGUOUS, [*offered, *others], picked
        return outcome, hits, choices

    def pick_words(
        self,
        main: tuple[Outcome, list[Candidate]],
        other: tuple[Outcome, list[Candidate]],
    ) -> tuple[Outcome, list[Candidate], bool]:
        """Between the main index's decision and the other languages' index's, for a message
        in (or with words of) another language: the other index's, when it is at least as
        sure. Its answers need `foreign_answer_threshold`, or a runner-up far behind
        (`foreign_lead`): with 44 translated FAQs among 300 entries it was often sure of the
        wrong one; otherwise it offers buttons. The flag says the other index's answer was
        held back that way (see EncoderSettings.agree)."""
        outcome, hits = other
        held_back = False
        settings = self.settings
        if outcome is Outcome.ANSWERED and hits[0].score < settings.foreign_answer_threshold:
            # Far ahead of a runner-up, not alone: with a language's wordings for only one
            # or two entries, every message sharing a word with them finds nothing else
            # (on the shipped knowledge base the index always returns five).
            far_ahead = len(hits) > 1 and hits[1].score <= settings.foreign_lead * hits[0].score
            if not far_ahead:
                outcome, held_back = Outcome.AMBIGUOUS, True
        if _rank(outcome) <= _rank(main[0]):
            return outcome, hits, held_back
        return main[0], main[1], False

    def _by_words(
        self, index: Index, question: str, limit: int, now: datetime
    ) -> tuple[Outcome, list[Candidate]]:
        """The word engine's ranked entries for a question in one index, and its decision."""
        hits = [
            Candidate(hit.entry_id, round(hit.score, 1), hit.evidence)
            for hit in self._search(index, question, limit + 3)
            if self._offerable(hit.entry_id, now)
        ][:limit]
        hits = self._join_linked(hits)
        return self._decide(hits), hits

    def _foreign(self, question: str, lang: str) -> bool:
        """Whether to try the other languages' wordings: the message is in one of them, or
        it has enough words known only there (romanised Urdu, Hindi or Punjabi)."""
        if lang not in WORD_LANGUAGES:
            return True
        words = set(self.index.prepare(question).split())
        return len(words & self._foreign_words) >= MIN_FOREIGN_WORDS

    def _search(self, index: Index, question: str, limit: int) -> list[Hit]:
        """Ranked entries for a question; a long message is also read sentence by sentence.

        Newcomers often tell their story before they ask ("We arrived in May with two kids...
        is there a shelter for a whole family?"). In a message of several sentences, words the
        knowledge base never uses are mostly that story (names, places, dates), so the whole
        message is scored without them; each sentence is also scored alone, with the usual
        care for unknown words, and every entry keeps its best score.
        """
        parts = [p for p in sentences(question) if len(p.split()) >= MIN_SENTENCE_WORDS]
        if len(question.split()) < LONG_MESSAGE_WORDS or len(parts) < 2:
            return index.search(question, limit=limit)
        best: dict[str, Hit] = {}
        for hits in [
            index.search(question, limit=limit, ignore_unknown=True),
            *(index.search(part, limit=limit) for part in parts),
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
