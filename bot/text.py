"""Text normalisation and synonym rewriting, applied alike to questions and the knowledge base."""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping

# Not part of a word. Vowel signs of Indic scripts and Arabic vowel marks are not \w to
# Python, yet they belong to their words ("मरना"); the Indic full stops (danda) do not.
_NON_WORD = re.compile(r"[^\w\u0900-\u0963\u0966-\u0DFF\u064B-\u065F\u0670]+", re.UNICODE)
_SPACES = re.compile(r"\s+")
# French elision ("l'hôpital", "d'emploi") separates words; English contractions join them.
_ELISION = re.compile(r"(?<!\w)(l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu)['\u2019](?=\w)")


# The Unicode blocks that hold Latin letters outside ASCII (Latin-1 Supplement to IPA
# Extensions, Phonetic Extensions, Latin Extended Additional, super- and subscripts, Letterlike
# Symbols and Number Forms, Latin Extended-C, -D and -E, and the Latin ligatures). Scanning these
# ~2,400 code points instead of all 65,536 names takes 2 ms instead of 12 ms at every start; a
# test checks that a full scan finds no Latin letter elsewhere.
LATIN_BLOCKS = (
    (0x0080, 0x02AF),
    (0x1D00, 0x1DBF),
    (0x1E00, 0x1EFF),
    (0x2070, 0x218F),
    (0x2C60, 0x2C7F),
    (0xA720, 0xA7FF),
    (0xAB30, 0xAB6F),
    (0xFB00, 0xFB06),
)


def latin_letters(blocks: Iterable[tuple[int, int]] = LATIN_BLOCKS) -> list[str]:
    """Every letter whose Unicode name starts with LATIN, in `blocks`."""
    return [
        chr(code)
        for first, last in blocks
        for code in range(first, last + 1)
        if unicodedata.name(chr(code), "").startswith("LATIN")
    ]


@functools.cache
def _latin_marks() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """A run of combining marks right after an ASCII or Latin letter; and what shows that a
    text may hold one once decomposed: a Latin letter beyond ASCII, or a mark after an ASCII
    character (built once, on first use: a per-character loop over every question took
    0.12 s of a 0.5 s `validate`)."""
    marks = "".join(
        re.escape(chr(code)) for code in range(0x10000) if unicodedata.combining(chr(code))
    )
    latin = "".join(re.escape(letter) for letter in latin_letters())
    return (
        re.compile(f"([\x00-\x7f{latin}])[{marks}]+"),
        re.compile(f"[{latin}]|[\x00-\x7f][{marks}]"),
    )


def _strip_latin_accents(decomposed: str) -> str:
    """Drop accents from Latin letters only ("santé" -> "sante"); in other scripts the marks
    are vowels or letters ("मैं", "أ") and must stay."""
    if decomposed.isascii():  # most questions: nothing to strip (3x faster validate)
        return decomposed
    return _latin_marks()[0].sub(r"\1", decomposed)


def _compatible(text: str) -> str:
    """NFKC, with accents dropped from Latin letters (NFKD, strip, then NFC)."""
    if unicodedata.is_normalized("NFKC", text) and not _latin_marks()[1].search(text):
        # Already composed, and no Latin letter to strip: NFC(NFKD(text)) is text itself.
        # Most wordings in other scripts (7,000 of 8,800) take this path, 3x faster.
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", _strip_latin_accents(decomposed))


def normalise(text: str) -> str:
    """Lower-case, strip accents, turn punctuation into spaces and collapse whitespace."""
    stripped = text.casefold()
    if not stripped.isascii():  # ASCII is already decomposed and has no accents to strip
        stripped = _compatible(stripped)
    if "'" in stripped or "\u2019" in stripped:  # the elision pattern costs 3 us a text
        stripped = _ELISION.sub(r"\1 ", stripped)
        # Remaining apostrophes join words ("don't" -> "dont") rather than splitting them.
        stripped = stripped.replace("'", "").replace("\u2019", "")
    return " ".join(_NON_WORD.sub(" ", stripped).replace("_", " ").split())


# Chinese and Japanese characters: written without spaces between words.
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def _bigrams(run: re.Match[str]) -> str:
    text = run.group(0)
    if len(text) == 1:
        return f" {text} "
    return " " + " ".join(text[i : i + 2] for i in range(len(text) - 1)) + " "


def cjk_words(text: str) -> str:
    """Chinese and Japanese runs as overlapping character pairs ("学英语" -> "学英 英语"), the
    usual words for search in a script without spaces: a whole sentence read as one word
    matched nothing, and Chinese questions were answered right 1 time in 12 (multilingual
    held-out set)."""
    if text.isascii():
        return text
    return _SPACES.sub(" ", _CJK_RUN.sub(_bigrams, text)).strip()


# Arabic proclitics, longest first: and, with, as, so, for, the (and their combinations).
_ARABIC_CLITICS = ("وبال", "وال", "بال", "كال", "فال", "ولل", "لل", "ال", "و", "ب", "ل", "ف", "ك")


class Synonyms:
    """Tags every term of a synonym group with the group's first (canonical) term.

    Terms are matched on whole words after normalisation, longest term first, so
    "social insurance number" becomes "sin" before "number" could match anything. Groups may
    hold terms in any language, which is how a question in Tamil meets the English wordings
    ("மருத்துவர்" is tagged "doctor"). Two kinds of term serve languages that words alone do not:
    a term ending in `*` matches a word that starts with it (languages that add endings:
    "டாக்டர*" matches "டாக்டரிடம்"), and a Chinese or Japanese term matches anywhere in a run
    of characters (no spaces between words).
    """

    def __init__(self, groups: Iterable[Iterable[str]]) -> None:
        mapping: dict[str, str] = {}
        stems: dict[str, str] = {}
        anywhere: dict[str, str] = {}
        for group in groups:
            canonical = ""
            for raw in group:
                term = normalise(raw)
                if not term:
                    continue
                if not canonical:
                    canonical = term.replace(" ", "_")
                if _CJK_RUN.fullmatch(term.replace(" ", "")):
                    anywhere.setdefault(term.replace(" ", ""), canonical)
                elif raw.rstrip().endswith("*"):
                    stems.setdefault(term, canonical)
                else:
                    mapping.setdefault(term, canonical)
        self._mapping: Mapping[str, str] = mapping
        self._stems: Mapping[str, str] = stems
        self._anywhere: Mapping[str, str] = anywhere
        # Longest first, in words: at each word the longest term that starts there wins. Most
        # words start no term of two words or more: only those that do try the longer sizes
        # (2.5x faster than trying every size at every word).
        self._longest = max((t.count(" ") + 1 for t in (*mapping, *stems)), default=0)
        self._sizes: dict[str, int] = {}
        for term in (*mapping, *stems):
            first, size = term.split()[0], term.count(" ") + 1
            self._sizes[first] = max(self._sizes.get(first, 1), size)
        # Stems by their first two letters, so a word is compared with a handful of stems;
        # each kept split as (words, the words before the last, the last word's stem,
        # canonical), since every word of every question and wording is compared.
        by_start: dict[str, list[tuple[int, list[str], str, str]]] = {}
        for stem in sorted(stems, key=len, reverse=True):
            *head, last = stem.split()
            by_start.setdefault(last[:2], []).append((len(head) + 1, head, last, stems[stem]))
        self._stems_by_start = by_start

    def __len__(self) -> int:
        return len(self._mapping) + len(self._stems) + len(self._anywhere)

    def _at(self, words: list[str], i: int, clitics: bool = False) -> tuple[str, int] | None:
        """(canonical, words used) for the longest term starting at words[i], or None.

        With `clitics` (a message in Arabic: Persian and Urdu words often start with the same
        letters), "and", "with", "for" and "the", which Arabic joins to the word after them
        ("وبالمستشفى", and at the hospital), are taken off a word that starts no term."""
        found = self._exactly_at(words, i)
        if found is not None or not clitics:
            return found
        for clitic in _ARABIC_CLITICS:
            rest = words[i][len(clitic) :]
            if words[i].startswith(clitic) and len(rest) >= 3:
                found = self._exactly_at([rest, *words[i + 1 :]], 0)
                if found is not None:
                    return found
        return None

    def _exactly_at(self, words: list[str], i: int) -> tuple[str, int] | None:
        longest = self._sizes.get(words[i], 1)
        for size in range(min(longest, len(words) - i), 0, -1):
            span = words[i : i + size]
            canonical = self._mapping.get(" ".join(span) if size > 1 else span[0])
            if canonical is not None:
                return canonical, size
            for words_in_stem, head, last, stem_canonical in self._stems_by_start.get(
                span[-1][:2], ()
            ):
                if words_in_stem == size and head == span[:-1] and span[-1].startswith(last):
                    return stem_canonical, size
        return None

    def _spans(self, normalised: str) -> Iterator[tuple[list[str], str | None]]:
        """The text's words in order, each term's words together with its canonical token
        (None for a word in no term); then each Chinese term found, as ([term], canonical)."""
        words = cjk_words(normalised).split()
        clitics = not normalised.isascii() and script_language(normalised) == "ar"
        i = 0
        while i < len(words):
            hit = self._at(words, i, clitics) if self._longest else None
            size = hit[1] if hit else 1
            yield words[i : i + size], hit[0] if hit else None
            i += size
        if self._anywhere and _CJK_RUN.search(normalised):
            joined = normalised.replace(" ", "")
            for term, canonical in sorted(self._anywhere.items(), key=lambda item: item[1]):
                if term in joined:
                    yield [term], canonical

    def _found(self, normalised: str) -> list[tuple[str, str]]:
        """(term as written, canonical) for every term in already-normalised text."""
        return [(" ".join(span), c) for span, c in self._spans(normalised) if c is not None]

    def rewrite(self, normalised: str) -> str:
        """Add each synonym term's canonical token after it, in already-normalised text
        (Chinese runs come out as character pairs, see `cjk_words`; the canonical tokens of
        the Chinese terms in it follow at the end, each once).

        The original words stay, so a misspelt neighbour ("helth card") still shares "card"
        with "health card", while "OHIP" and "health card" now share the token "ohip".
        """
        out: list[str] = []
        chinese: dict[str, None] = {}
        for span, canonical in self._spans(normalised):
            if canonical is not None and _CJK_RUN.fullmatch(span[0]):
                chinese.setdefault(canonical, None)
                continue
            out += span
            if canonical is not None and " ".join(span) != canonical:
                out.append(canonical)
        return " ".join([*out, *chinese])

    def canonical(self, term: str) -> str:
        """The canonical token of a synonym term (the term itself if it is in no group)."""
        normalised = normalise(term)
        found = self._found(normalised)
        if len(found) == 1 and found[0][0].replace(" ", "") == normalised.replace(" ", ""):
            return found[0][1]
        return normalised

    def terms_in(self, normalised: str) -> list[str]:
        """The synonym terms found in already-normalised text (for explanations)."""
        return [term for term, _ in self._found(normalised)]


def prepare(text: str, synonyms: Synonyms | None = None) -> str:
    """Normalise and apply synonyms: the one transformation both sides of a match go through."""
    normalised = normalise(text)
    return synonyms.rewrite(normalised) if synonyms is not None else cjk_words(normalised)


# HTML someone pasted into a question: a script or style element with what it holds, and any
# other tag of a known element (a plain "<" in "i have <5 dollars" or "<3" is not a tag).
_SCRIPT = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_MARKUP = re.compile(
    r"</?(?:a|abbr|b|blockquote|body|br|button|code|del|div|em|font|form|h[1-6]|head|hr|html|"
    r"i|iframe|img|input|ins|li|link|meta|ol|p|pre|s|script|small|span|strike|strong|style|"
    r"sub|sup|svg|"
    r"table|td|tg-spoiler|th|title|tr|u|ul)\b[^<>]*>",
    re.IGNORECASE,
)
_BLANKS = re.compile(r"[^\S\n]+")


def without_markup(text: str) -> str:
    """A question as its writer meant it: pasted HTML tags, scripts and entities are not words
    ("<b>hello</b> <script>...</script> where is the library" scored 13.7 for the library
    card against 72.9 without them, and was not answered)."""
    if "<" not in text and "&" not in text:
        return text
    plain = html.unescape(_MARKUP.sub(" ", _SCRIPT.sub(" ", text)))
    return _BLANKS.sub(" ", plain).strip()  # line breaks stay: they end sentences


_SENTENCE_END = re.compile(r"(?<=[.?!;])\s+|\n+")


def sentences(text: str) -> list[str]:
    """The sentences of a message (split after . ? ! ; and at line breaks)."""
    return [part.strip() for part in _SENTENCE_END.split(text) if part.strip()]


# Words that carry grammar, not meaning. In a small knowledge base they look rare (so they
# would weigh a lot); the matcher ignores them as whole words.
FUNCTION_WORDS = frozenset(
    "a an the is are am was were be been being do does did i im me my mine you your we our us "
    "it its to of in on at for with and or but if so can could would should will shall may "
    "might must this that these those there here some any from by as about into than then "
    "buy "
    "le la les un une des du de d l j est et ou a au aux en dans pour avec je mon ma mes "
    "vous votre vos nous il elle ils elles ce cet cette ces qui que qu sur par se sa son".split()
)


_FRENCH_HINTS = frozenset(
    "je j ai est les des une un du au aux pour comment ou quand quel quelle quels avec sans "
    "mon ma mes votre vos nous vous suis trouver besoin aide carte sante emploi logement "
    "ecole francais cours bonjour merci puis peux dois faire obtenir".split()
)
_ENGLISH_HINTS = frozenset(
    "i the is a an to for how where when what can do my me need get find help with of in "
    "on and are there any you".split()
)


def guess_language(text: str) -> str | None:
    """A cheap guess between French and English from common words; None when unsure."""
    words = normalise(text).split()
    french = sum(w in _FRENCH_HINTS for w in words)
    english = sum(w in _ENGLISH_HINTS for w in words)
    if french >= 2 and french > english:
        return "fr"
    if english >= 1 and english >= french:
        return "en"
    return None


# Scripts that tell the language apart well enough to say "211 speaks yours" in it.
_SCRIPTS: tuple[tuple[str, str], ...] = (
    ("ARABIC", "ar"),
    ("CJK", "zh"),
    ("DEVANAGARI", "hi"),
    ("GURMUKHI", "pa"),
    ("TAMIL", "ta"),
    ("CYRILLIC", "ru"),
)
# Letters only Ukrainian uses among Cyrillic languages newcomers here write.
_UKRAINIAN = frozenset("іїєґ")
# Arabic script: Persian and Urdu letters Arabic does not use ("ہ", heh goal, is Urdu's "h": Persian
# writes "ه"; without it "شکریہ", thank you, read as Persian).
_PERSIAN = frozenset("پچژگکی")
_URDU = frozenset("ٹڈڑںےھہ")


def script_language(text: str) -> str | None:
    """The language a message is written in, from its script, when it is not Latin."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return None
    counts: dict[str, int] = {}
    for ch in letters:
        name = unicodedata.name(ch, "")
        for script, code in _SCRIPTS:
            if name.startswith(script):
                counts[code] = counts.get(code, 0) + 1
                break
    if not counts:
        return None
    code, count = max(counts.items(), key=lambda item: item[1])
    if count * 2 < len(letters):
        return None
    lowered = set(text.casefold())
    if code == "ru" and lowered & _UKRAINIAN:
        return "uk"
    if code == "ar" and lowered & _URDU:
        return "ur"
    if code == "ar" and lowered & _PERSIAN:
        return "fa"
    return code
