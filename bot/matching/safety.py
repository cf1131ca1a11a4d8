"""The safety detector: spots a message about danger before any matching happens.

It reads the safety lexicons (knowledge/safety/<language>.yaml), one per language, and the
crisis lines' own `triggers`. A message is split into sentences; in each one it looks for:

- terms: phrases that mean a kind of danger on their own ("kill myself", "not breathing");
- pairs: phrases that mean danger only together, in any order ("took" + "my passport");
- idioms: phrases whose danger words are not danger ("this paperwork is killing me"): their
  words are set aside first;
- calm context (a course, an essay, statistics, the past) that lowers the alarm, unless the
  same sentence is urgent (now, tonight, help): then the learned model decides.

Words are matched as people write them: `stem*` matches any ending ("overdos*": overdosed,
overdosing), `*end` any beginning, `*part*` anything around it, `#` any number, `...` up to
three words of anything, `{group}` any word of a named group ({child}: son, daughter...), and
one typo is forgiven in danger words of 4 letters or more, never in the first letter (in
4-letter words only a swap or a doubled letter written once: "wnat", "kil"; any one edit
from 5 letters: "suicde"). Chinese and Japanese have no
spaces between words: phrases written in those characters are found inside the text.

Pure and fast: every lexicon is compiled once; a word's matches are cached.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from rapidfuzz.distance import OSA

from bot.knowledge.model import CrisisLine, KnowledgeBase, SafetyLexicon, all_texts
from bot.matching.danger import (
    ALONE_MAX_SHORT,
    MEANING_BOUNDS,
    SHORT,
    WORDS_BOUNDS,
    DangerModel,
    MeaningHead,
    Vector,
)
from bot.text import normalise

GAP = -1  # a "..." slot: up to MAX_GAP words of anything
MAX_GAP = 3
_NUMBER = re.compile(r"^#(?:(\d+)-(\d+))?$")  # "#": any number; "#60-120": one in that range
# Chinese characters between two parts of a phrase written "A...B".
MAX_CJK_GAP = 6
# Words longer than this are not checked for typos (pasted links, long numbers).
MAX_FUZZY_WORD = 24
# The word cache is cleared past this size (about 10 MB), so a flood cannot grow it for ever.
MAX_CACHED_WORDS = 100_000

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Marks that insist, whatever the language: a message with a danger word and one of these is
# never overruled by the learned model ("ਰਸੋਈ ਵਿੱਚ ਅੱਗ ਲੱਗ ਗਈ ਹੈ!!", the kitchen is on fire!!, scored
# 0.02: its examples hold calm stories about a kitchen fire last month).
_INSISTENT = ("!!", "！！")
# Laughing emoji mark a joke in any language, as "lol" does (a calm word): "that snow nearly
# gave me a stroke 😂" is no stroke.
_LAUGHING = str.maketrans(dict.fromkeys("😂🤣😆😹", " lol "))
# Sentence ends: . ? ! ; and line breaks, and their Chinese, Arabic, Hindi forms.
_SENTENCE_END = re.compile(r"[.?!;\n。！？；؟।]+")
# Clauses: sentences, and also commas and colons ("i want to kill myself, how do I get a health
# card" is two requests in one sentence; the second dilutes the whole message's score).
CLAUSE_END = re.compile(r"[.?!;:,\n。！？；：，、،؟।]+")
_SPACE = re.compile(r"\s+")
_CJK_OFFSET = 10_000  # a character's place in a span, beside the words' places
_GROUP = re.compile(r"(\{[^{}]+\})")  # a {group} inside a phrase

Slot = frozenset[int]


@dataclass(frozen=True)
class _Phrase:
    """A compiled phrase: one slot per word, each the pattern ids it accepts."""

    text: str
    slots: tuple[Slot | int | tuple[int, int], ...]  # pattern ids, GAP, or a number range


@dataclass(frozen=True)
class _Cjk:
    """A phrase in Chinese characters, found inside the text."""

    text: str
    pattern: re.Pattern[str]


_Any = _Phrase | _Cjk
# A rule: every side must be found, on different words (a term is a rule of one side).
_Rule = tuple[tuple[_Any, ...], ...]


@dataclass(frozen=True)
class Finding:
    """What the detector saw: the crisis line to reply with, and why."""

    line: CrisisLine
    evidence: tuple[str, ...]
    # True when calm context was present but the sentence was urgent.
    urgent_over_calm: bool = False
    # True when the sentence says now, tonight, help... (the lexicon's urgent words).
    urgent: bool = False
    # Another kind of danger the message may speak of (the learned model's own reading, when
    # it differs): the reply names its contacts too (see SafetyDetector.assess).
    also: CrisisLine | None = None


@dataclass(frozen=True)
class Assessment:
    """The detector's whole view of a message: a finding (an alarm), or none; and, short of
    an alarm, whether danger is likely enough that the answer should carry the 911/988 line."""

    finding: Finding | None = None
    worried: bool = False


@dataclass
class _Patterns:
    """Every distinct word pattern of every lexicon, with an id each."""

    ids: dict[tuple[str, str], int] = field(default_factory=dict)
    # A word written right satisfies every pattern of it, forgiving or not.
    literal: dict[str, list[int]] = field(default_factory=dict)
    prefix: dict[str, list[int]] = field(default_factory=dict)
    suffix: dict[str, int] = field(default_factory=dict)
    infix: dict[str, int] = field(default_factory=dict)
    # A word with a typo only satisfies the forgiving pattern: danger words, not "=stroke",
    # nor calm and urgent words, which must be written right (or "there" would be read as
    # "theme*" and calm a real alarm).
    forgiving_literal: dict[str, int] = field(default_factory=dict)
    forgiving_prefix: dict[str, int] = field(default_factory=dict)
    # Typo look-up: a word with one letter deleted -> the patterns it may be a typo of.
    near_literal: dict[str, set[str]] = field(default_factory=dict)
    near_prefix: dict[str, set[str]] = field(default_factory=dict)

    def add(self, kind: str, value: str, fuzzy: bool) -> int:
        forgiving = (
            fuzzy
            and _typos_forgiven_in(value)
            and ((kind == "=" and len(value) >= 4) or (kind == ">" and len(value) >= 5))
        )
        key = (kind + ("?" if forgiving else ""), value)
        pattern_id = self.ids.get(key)
        if pattern_id is not None:
            return pattern_id
        pattern_id = len(self.ids)
        self.ids[key] = pattern_id
        if kind in ("=", ">"):
            table = self.literal if kind == "=" else self.prefix
            table.setdefault(value, []).append(pattern_id)
        else:
            (self.suffix if kind == "<" else self.infix)[value] = pattern_id
        if forgiving:
            near = self.near_literal if kind == "=" else self.near_prefix
            (self.forgiving_literal if kind == "=" else self.forgiving_prefix)[value] = pattern_id
            for variant in (value, *_deletions(value)):
                near.setdefault(variant, set()).add(value)
        return pattern_id


def _typos_forgiven_in(word: str) -> bool:
    """Typos are forgiven only in Latin and Cyrillic words: in Arabic script one letter apart
    is often another word ("انتظار", waiting, is one letter from "انتحار", suicide, so an Urdu,
    Persian or Arabic waiting-list question got the suicide reply)."""
    return all(ch.isascii() or "\u00c0" <= ch <= "\u04ff" for ch in word)


def _deletions(word: str) -> list[str]:
    return [word[:i] + word[i + 1 :] for i in range(len(word))]


def _typo_of(typed: str, word: str) -> bool:
    """One typo in a word of 4+ letters; in 4-letter words only a swap or a doubled letter
    written once ("wnat", "kil"), so "kill" never fires on "bill" or "will" nor "rate" on
    "ate"."""
    # The first letter is kept: people rarely mistype it, and a word that differs there is
    # often another word ("eating" is not "beating", "grape" is not "rape").
    if len(word) < 4 or typed[0] != word[0] or OSA.distance(typed, word, score_cutoff=1) > 1:
        return False
    if typed == word + "s":
        # A plural or possessive is another word, not a typo ("I lost my child's card" is
        # about a card); lexicons list the plurals they mean.
        return False
    if len(word) == 4:
        # "kil" for "kill" (a doubled letter written once), "wnat" for "want" (a swap).
        if len(typed) == 3:
            return any(
                word[i] == word[i + 1] and word[:i] + word[i + 1 :] == typed for i in range(3)
            )
        return len(typed) == 4 and sorted(typed) == sorted(word)
    return True


def _ending_only(typed: str, word: str) -> bool:
    """True when two spellings differ only in their last letter (or one has one more)."""
    shared = 0
    for a, b in zip(typed, word, strict=False):
        if a != b:
            break
        shared += 1
    return shared >= min(len(typed), len(word)) - 1


def known_words(knowledge: KnowledgeBase) -> frozenset[str]:
    """The words of a knowledge base's edited prose, in every language: answers, titles,
    descriptions, glossary meanings, crisis replies. They are real words, so a message that
    uses one is not misspelling a danger word. Question wordings are left out: they are
    written with typos on purpose ("wnat", "helth"), and "i wnat to die" must still be read."""
    texts: list[str] = []
    for faq in knowledge.faqs.values():
        texts += all_texts(faq.answer)
    for topic in knowledge.topics.values():
        texts += all_texts(topic.title) + all_texts(topic.description)
    for service in knowledge.services.values():
        texts += all_texts(service.name) + all_texts(service.description)
    for event in knowledge.events.values():
        texts += all_texts(event.title) + all_texts(event.description)
    for term in knowledge.glossary:
        texts += all_texts(term.meaning)
    for line in knowledge.crisis:
        texts += all_texts(line.reply)
    return frozenset(word for text in texts for word in normalise(text).split())


class SafetyDetector:
    """Finds the most urgent kind of danger a message speaks of, from the safety lexicons."""

    def __init__(
        self,
        lines: Sequence[CrisisLine],
        lexicons: Iterable[SafetyLexicon] = (),
        model: DangerModel | None = None,
        known_words: Iterable[str] = (),
        meaning: MeaningHead | None = None,
    ) -> None:
        self.model = model
        # Reads the encoder's vector of a message, when the matcher has one (see assess).
        self.meaning = meaning
        # Real words are read as typos of danger words only at their ending (see _resolve).
        self._known = frozenset(known_words)
        self._lines: dict[str, CrisisLine] = {line.category: line for line in reversed(lines)}
        self._priority: dict[str, int] = {c: line.priority for c, line in self._lines.items()}
        self._patterns = _Patterns()
        self._cache: dict[str, frozenset[int]] = {}
        self._idioms: list[_Any] = []
        self._calm: list[_Any] = []
        self._urgent: list[_Any] = []
        self._rules: list[tuple[str, _Rule]] = []
        lexicons = list(lexicons)
        # Words skipped before matching (polite particles): a phrase holds with or without them.
        self._fillers = frozenset(
            normalise(word) for lexicon in lexicons for word in lexicon.fillers
        )
        self.languages: tuple[str, ...] = ()
        languages: list[str] = []
        for lexicon in lexicons:
            languages.append(lexicon.language)
            groups: dict[str, frozenset[int]] = {}
            for name, words in lexicon.words.items():
                ids = (self._word(w) for w in words)
                groups[name] = frozenset(i for i in ids if i is not None)
            compile_ = _Compiler(self, groups, lexicon.words)
            exact = _Compiler(self, groups, lexicon.words, fuzzy=False)
            self._idioms += exact.all(lexicon.idioms)
            self._calm += exact.all(lexicon.calm)
            self._urgent += exact.all(lexicon.urgent)
            for category, concept in lexicon.categories.items():
                if category not in self._lines:
                    continue
                for term in concept.terms:
                    self._rules.append((category, ((compile_.one(term),),)))
                for pair in concept.pairs:
                    rule = tuple(tuple(compile_.all(side)) for side in pair)
                    self._rules.append((category, rule))
        plain = _Compiler(self, {})
        for line in lines:
            for trigger in all_texts(line.triggers):
                self._rules.append((line.category, ((plain.one(trigger),),)))
        self.languages = tuple(sorted(languages))
        self._rules.sort(key=lambda item: self._priority[item[0]])
        # Only rules one of whose words is in a sentence are tried: an index from each word
        # pattern to those rules (rules in Chinese characters are tried on Chinese text).
        self._rule_index = _Index([rule for _, rule in self._rules])
        self._idiom_index = _Index([((p,),) for p in self._idioms])
        self._calm_index = _Index([((p,),) for p in self._calm])
        self._urgent_index = _Index([((p,),) for p in self._urgent])

    @classmethod
    def for_knowledge(
        cls,
        knowledge: KnowledgeBase,
        model: DangerModel | None = None,
        meaning: MeaningHead | None = None,
    ) -> SafetyDetector:
        """The detector the bot uses for a knowledge base: its crisis lines, its lexicons and
        its prose as the vocabulary of real words."""
        return cls(knowledge.crisis, knowledge.safety, model, known_words(knowledge), meaning)

    def __len__(self) -> int:
        """How many rules (terms, pairs and triggers) the detector checks."""
        return len(self._rules)

    # --- compiling -------------------------------------------------------------------------

    def _word(self, word: str, fuzzy: bool = True) -> int | None:
        """The pattern id of one written word ("overdos*"), or None if it has no letters.
        "=word" is never read as a typo ("=stroke" must not fire on "strike")."""
        if word.startswith("="):
            word, fuzzy = word[1:], False
        starts, ends = word.startswith("*"), word.endswith("*")
        core = normalise(word.strip("*"))
        if not core:
            return None
        core = core.replace(" ", "")
        if starts and ends:
            return self._patterns.add("~", core, False)
        if ends:
            return self._patterns.add(">", core, fuzzy)
        if starts:
            return self._patterns.add("<", core, False)
        return self._patterns.add("=", core, fuzzy)

    # --- matching --------------------------------------------------------------------------

    def _resolve(self, token: str) -> frozenset[int]:
        """Every pattern id a written word satisfies (cached)."""
        cached = self._cache.get(token)
        if cached is not None:
            return cached
        patterns = self._patterns
        found: set[int] = set()
        found.update(patterns.literal.get(token, ()))
        for size in range(1, len(token) + 1):
            found.update(patterns.prefix.get(token[:size], ()))
            tail = patterns.suffix.get(token[-size:])
            if tail is not None:
                found.add(tail)
        for part, pattern_id in patterns.infix.items():
            if part in token:
                found.add(pattern_id)
        if 3 <= len(token) <= MAX_FUZZY_WORD:
            # A real word differs from a danger word by its ending at most: an inflection
            # ("he take my documents") or a cognate ("alarma de monóxido"), never inside
            # ("camas", beds, is not "chamas"; "cooking" is not "choking").
            known = token in self._known
            for variant in (token, *_deletions(token)):
                for word in patterns.near_literal.get(variant, ()):
                    if _typo_of(token, word) and (not known or _ending_only(token, word)):
                        found.add(patterns.forgiving_literal[word])
            for size in range(4, len(token) + 1):
                head_text = token[:size]
                for variant in (head_text, *_deletions(head_text)):
                    for stem in patterns.near_prefix.get(variant, ()):
                        if (
                            head_text[0] == stem[0]
                            and OSA.distance(head_text, stem) <= 1
                            and (not known or _ending_only(head_text, stem))
                        ):
                            found.add(patterns.forgiving_prefix[stem])
        result = frozenset(found)
        if len(self._cache) >= MAX_CACHED_WORDS:
            self._cache.clear()
        self._cache[token] = result
        return result

    def find(self, text: str) -> Finding | None:
        """The most urgent danger in a message, with the phrases that showed it, or None."""
        return self.assess(text).finding

    def assess(self, text: str, vector: Vector | None = None) -> Assessment:
        """The finding for a message, and short of one, whether to worry.

        With a learned model (bot.matching.danger): the lexicons' finding stands when the
        model's probability of danger for the message reaches CONFIRM ("suicide prevention
        training" is a lexicon hit the model rejects), or when the sentence is urgent (now,
        tonight, help, "!!") or the message short; the model alone raises an alarm the
        lexicons missed at SURE, in a message of more than ALONE_MAX_SHORT words ("no",
        "nahi", "не знаю" are no crisis). From WORRY up, the answer carries the 911/988 line.

        A sentence with calm context and an urgent word ("my dad had a stroke in 2020, he is
        fine now") keeps its lexicon hit, but the hit is confirmed by the model like any
        other: the two signals disagree. Out of fold on the 21,919 examples (53 such
        messages, 16 of them crises): false alarms on hard ordinary messages 2.39% -> 1.95%
        (words) and 2.08% -> 1.59% (with the meaning model), crises found unchanged (75.47%)
        and 89.44% -> 89.43% (benchmarks/RESULTS.md).
        With the encoder's vector of the message and a meaning model, the probability is the
        mean of both models' and the bounds are MEANING_*."""
        found = self.find_in_words(text)
        if self.model is None:
            return Assessment(found)
        probability, category = self.model.danger(text)
        words = self._words(text)
        bounds = WORDS_BOUNDS
        if vector is not None and self.meaning is not None:
            probability = (probability + self.meaning.probability(vector)) / 2
            bounds = MEANING_BOUNDS
        if found is not None and (
            probability >= bounds.confirm
            or (found.urgent and not found.urgent_over_calm)
            or any(mark in text for mark in _INSISTENT)
            or words <= SHORT  # too short for the model to judge
            or self._alarming_clause(text)
        ):
            if probability >= bounds.confirm and category != found.line.category:
                # The words and the model read two kinds of danger ("he says if I go to the
                # shelter he will kill himself and me": self-harm words, a violence-at-home
                # message): the reply names both kinds' contacts. On the blind check, replies
                # naming a right contact 149 -> 159 of 161 alarms; 16 right replies gain one.
                found = replace(found, also=self._lines.get(category))
            return Assessment(found)
        if probability >= bounds.sure and words > ALONE_MAX_SHORT:
            line = self._lines.get(category)
            if line is not None:
                return Assessment(Finding(line, (f"learned model: {probability:.2f} {category}",)))
        return Assessment(None, worried=probability >= bounds.worry)

    @staticmethod
    def _words(text: str) -> float:
        """How many words a message has, for the SHORT and ALONE_MAX_SHORT rules.

        Chinese and Japanese are written without spaces: their characters count a third of a
        word each. Counted by spaces, a whole Chinese sentence was one word, so every Chinese
        lexicon hit stood ("我爸五年前心梗去世了..." about an inheritance). Out of fold, false
        alarms on hard ordinary messages 1.95% -> 1.66% (words) and 1.59% -> 1.30% (with the
        meaning model), no crisis lost; half a word each lost "不想活le 活着没意思" (I do not
        want to live) (benchmarks/RESULTS.md)."""
        return len(_CJK.sub(" ", text).split()) + len(_CJK.findall(text)) / 3

    def _alarming_clause(self, text: str) -> bool:
        """Whether a clause with a lexicon hit would raise the alarm on its own (SURE).

        An ordinary question beside the danger dilutes the whole message: "i want to kill
        myself, how do I get a health card" scored 0.12, the clause alone 0.96. Out of fold
        this keeps such alarms at no cost in false alarms (hard ordinary 1.91% either way;
        a clause at CONFIRM instead cost 0.9 points: benchmarks/crisis_learn.py)."""
        assert self.model is not None
        clauses = [c for c in CLAUSE_END.split(text) if c.strip()]
        return len(clauses) > 1 and any(
            self.model.danger(c)[0] >= WORDS_BOUNDS.sure for c in clauses if self.find_in_words(c)
        )

    def find_in_words(self, text: str) -> Finding | None:
        """The lexicons' finding alone."""
        best: tuple[int, Finding] | None = None
        for sentence in _SENTENCE_END.split(text):
            if not sentence.strip():
                continue
            found = self._sentence(sentence)
            if found is not None:
                rank = self._priority[found.line.category]
                if best is None or rank < best[0]:
                    best = (rank, found)
        return best[1] if best else None

    def check(self, text: str) -> CrisisLine | None:
        """The crisis line for this message, or None when it speaks of no danger."""
        found = self.find(text)
        return found.line if found else None

    def _sentence(self, sentence: str) -> Finding | None:
        normalised = normalise(sentence.translate(_LAUGHING))
        tokens = [t for t in normalised.split() if t not in self._fillers]
        resolved = [self._resolve(t) for t in tokens]
        numbers = [int(t) if t.isdecimal() and len(t) < 7 else None for t in tokens]
        cjk = _SPACE.sub("", normalised) if _CJK.search(normalised) else ""
        view = _View(resolved, numbers, cjk)
        present: set[int] = set().union(*resolved)
        view.mask([self._idioms[i] for i in self._idiom_index.candidates(present, bool(cjk))])
        present = set().union(*view.resolved)
        hit: tuple[str, tuple[str, ...]] | None = None
        for index in self._rule_index.candidates(present, bool(cjk)):
            category, rule = self._rules[index]
            evidence = view.rule(rule)
            if evidence is not None:
                hit = (category, evidence)
                break  # rules are in priority order
        if hit is None:
            return None
        urgent = any(
            view.spans(self._urgent[i]) for i in self._urgent_index.candidates(present, bool(cjk))
        )
        calm = any(
            view.spans(self._calm[i]) for i in self._calm_index.candidates(present, bool(cjk))
        )
        if calm and not urgent:
            return None
        category, evidence = hit
        return Finding(self._lines[category], evidence, urgent_over_calm=calm, urgent=urgent)


class _Index:
    """Which rules may fire, from the word patterns present in a sentence."""

    def __init__(self, rules: Sequence[_Rule]) -> None:
        self._by_pattern: dict[int, list[int]] = {}
        self._cjk: list[int] = []
        self._always: list[int] = []
        for position, rule in enumerate(rules):
            anchors = [_anchors(side) for side in rule]
            usable = [a for a in anchors if a is not None]
            if any(a == "cjk" for a in usable):
                self._cjk.append(position)
                continue
            sets = [a for a in usable if isinstance(a, frozenset)]
            if not sets:
                self._always.append(position)
                continue
            for pattern_id in min(sets, key=len):
                self._by_pattern.setdefault(pattern_id, []).append(position)

    def candidates(self, present: set[int], cjk: bool) -> list[int]:
        """The rules worth trying, in their order."""
        chosen = set(self._always)
        if cjk:
            chosen.update(self._cjk)
        for pattern_id in present:
            found = self._by_pattern.get(pattern_id)
            if found:
                chosen.update(found)
        return sorted(chosen)


def _anchors(side: tuple[_Any, ...]) -> frozenset[int] | str | None:
    """The patterns one of which must be present for a side to match ("cjk" for characters;
    None when a side cannot narrow the search, such as a phrase of numbers only)."""
    out: set[int] = set()
    for phrase in side:
        if isinstance(phrase, _Cjk):
            return "cjk"
        slots = [s for s in phrase.slots if isinstance(s, frozenset)]
        if not slots:
            return None
        out |= min(slots, key=len)
    return frozenset(out)


class _Compiler:
    """Turns written phrases into slots for one lexicon (its word groups)."""

    def __init__(
        self,
        detector: SafetyDetector,
        groups: dict[str, frozenset[int]],
        words: Mapping[str, Sequence[str]] | None = None,
        fuzzy: bool = True,
    ) -> None:
        self.detector = detector
        self.groups = groups
        # A group inside a phrase in Chinese characters is any of its words, as characters:
        # "{kin}要杀...我...{mishap}" holds 17 people x 19 mishaps in one line (the helper who
        # wrote it first had to list 576 combinations).
        self.alternatives = {
            name: "(?:" + "|".join(re.escape(_SPACE.sub("", normalise(w))) for w in listed) + ")"
            for name, listed in (words or {}).items()
            if listed
        }
        self.fuzzy = fuzzy

    def all(self, phrases: Iterable[str]) -> list[_Any]:
        return [self.one(p) for p in phrases]

    def one(self, phrase: str) -> _Any:
        if _CJK.search(phrase):
            parts = [self._characters(part) for part in phrase.split("...")]
            regex = f".{{0,{MAX_CJK_GAP}}}".join(p for p in parts if p)
            return _Cjk(phrase, re.compile(regex))
        slots: list[Slot | int | tuple[int, int]] = []
        for word in phrase.split():
            number = _NUMBER.match(word)
            if word == "...":
                slots.append(GAP)
            elif number:
                low, high = number.groups()
                slots.append((int(low), int(high)) if low else (0, 10**7))
            elif word.startswith("{") and word.endswith("}"):
                slots.append(self.groups.get(word[1:-1], frozenset()))
            else:
                # Punctuation inside a word ("mother-in-law", "m'a") makes several words.
                exact = word.startswith("=")
                bare = word.lstrip("=")
                starts, ends = bare.startswith("*"), bare.endswith("*")
                pieces = normalise(bare.strip("*")).split()
                for index, piece in enumerate(pieces):
                    marked = (
                        ("*" if starts and index == 0 else "")
                        + piece
                        + ("*" if ends and index == len(pieces) - 1 else "")
                    )
                    pattern_id = self.detector._word(marked, self.fuzzy and not exact)
                    if pattern_id is not None:
                        slots.append(frozenset({pattern_id}))
        while slots and slots[-1] == GAP:
            slots.pop()
        while slots and slots[0] == GAP:
            slots.pop(0)
        return _Phrase(phrase, tuple(slots))

    def _characters(self, part: str) -> str:
        """A regular expression for one part of a phrase in Chinese characters."""
        out = []
        for piece in _GROUP.split(part):
            name = piece[1:-1] if piece.startswith("{") and piece.endswith("}") else None
            if name is not None and name in self.alternatives:
                out.append(self.alternatives[name])
            else:
                out.append(re.escape(_SPACE.sub("", normalise(piece))))
        return "".join(out)


class _View:
    """One sentence as the detector sees it: each word's pattern ids, idiom words set aside."""

    def __init__(self, resolved: list[frozenset[int]], numbers: list[int | None], cjk: str) -> None:
        self.resolved = resolved
        self.numbers = numbers
        self.cjk = cjk
        self._where: dict[int, list[int]] | None = None  # pattern id -> its word positions

    def mask(self, idioms: Sequence[_Any]) -> None:
        """Set aside the words of every place these idioms are written.

        All are found first, then set aside together: one idiom that shares a word with
        another must not hide it ("testo" taken by English "test* ... {device}" left the
        Portuguese device idiom without its verb, and "monóxido de carbono" raised the alarm)."""
        places = {index for idiom in idioms for span in self.spans(idiom) for index in span}
        characters = {index - _CJK_OFFSET for index in places if index >= _CJK_OFFSET}
        if characters:
            self.cjk = "".join("□" if i in characters else c for i, c in enumerate(self.cjk))
        for index in places:
            if index < _CJK_OFFSET:
                self.resolved[index] = frozenset()
                self.numbers[index] = None
        self._where = None

    def _starts(self, first: Slot | int | tuple[int, int]) -> Iterable[int]:
        """The word positions where a phrase's first slot can be.

        Only the positions of the first slot's own patterns are tried: a sentence holds a few
        of the 7,000 patterns, and scanning every word for each candidate phrase was 48% of a
        message's check (benchmarks/RESULTS.md)."""
        if not isinstance(first, frozenset):
            return range(len(self.resolved))
        if self._where is None:
            self._where = {}
            for position, ids in enumerate(self.resolved):
                for pattern_id in ids:
                    self._where.setdefault(pattern_id, []).append(position)
        where = self._where
        if len(first) == 1:
            return where.get(next(iter(first)), ())
        return sorted({p for pattern_id in first for p in where.get(pattern_id, ())})

    def spans(self, phrase: _Any) -> list[frozenset[int]]:
        """Every place a phrase is written: the word positions (or characters) it covers."""
        if isinstance(phrase, _Cjk):
            if not self.cjk:
                return []
            # Characters are counted from a large offset so they never clash with words.
            return [
                frozenset(range(_CJK_OFFSET + m.start(), _CJK_OFFSET + m.end()))
                for m in phrase.pattern.finditer(self.cjk)
            ]
        slots = phrase.slots
        if not slots:
            return []
        found: list[frozenset[int]] = []
        for start in self._starts(slots[0]):
            end = self._match(slots, 0, start, ())
            if end is not None:
                found.append(frozenset(end))
        return found

    def _match(
        self,
        slots: tuple[Slot | int | tuple[int, int], ...],
        slot: int,
        at: int,
        used: tuple[int, ...],
    ) -> tuple[int, ...] | None:
        if slot == len(slots):
            return used
        wanted = slots[slot]
        if wanted == GAP:
            for skip in range(MAX_GAP + 1):
                end = self._match(slots, slot + 1, at + skip, used)
                if end is not None:
                    return end
            return None
        if at >= len(self.resolved):
            return None
        if isinstance(wanted, tuple):
            value = self.numbers[at]
            ok = value is not None and wanted[0] <= value <= wanted[1]
        else:
            assert isinstance(wanted, frozenset)
            ok = not wanted.isdisjoint(self.resolved[at])
        return self._match(slots, slot + 1, at + 1, (*used, at)) if ok else None

    def rule(self, rule: _Rule) -> tuple[str, ...] | None:
        """The phrases that satisfy a rule on different words, or None."""
        chosen: list[str] = []
        taken: frozenset[int] = frozenset()
        for side in rule:
            for phrase in side:
                free = [s for s in self.spans(phrase) if s.isdisjoint(taken)]
                if free:
                    chosen.append(phrase.text)
                    taken |= free[0]
                    break
            else:
                return None
        return tuple(chosen)
