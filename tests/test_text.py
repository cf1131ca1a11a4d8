"""Normalisation, synonyms and the language guess."""

from __future__ import annotations

import functools
import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.replies.messages import Catalogue
from bot.text import (
    Synonyms,
    guess_language,
    latin_letters,
    normalise,
    prepare,
    script_language,
    without_markup,
)


def test_normalise_case_accents_punctuation_spaces() -> None:
    assert normalise("  Où   est l'Hôpital?!  ") == "ou est l hopital"
    assert normalise("I don't KNOW…") == "i dont know"
    assert normalise("e-mail/phone") == "e mail phone"


def test_synonyms_rewrite_whole_terms_longest_first() -> None:
    synonyms = Synonyms([["sin", "social insurance number"], ["ohip", "health card"]])
    assert synonyms.rewrite("my social insurance number") == "my social insurance number sin"
    assert synonyms.rewrite("a health card and a sin") == "a health card ohip and a sin"
    # Whole words only: "basin" keeps its "sin".
    assert synonyms.rewrite("basin") == "basin"


def test_prepare_applies_both_steps_to_either_side() -> None:
    synonyms = Synonyms([["ohip", "health card", "carte santé"]])
    assert prepare("Carte Santé?", synonyms) == "carte sante ohip"
    assert prepare("OHIP", synonyms) == "ohip"


def test_guess_language() -> None:
    assert guess_language("comment obtenir une carte santé pour mon enfant") == "fr"
    assert guess_language("how do I get a health card") == "en"
    assert guess_language("ohip") is None


def test_script_language_names_what_a_message_is_written_in() -> None:
    assert script_language("أين بنك الطعام") == "ar"
    assert script_language("بانک غذا کجاست") == "fa"  # Persian letters
    assert script_language("فوڈ بینک کہاں ہے") == "ur"  # Urdu letters
    assert script_language("食物银行在哪里") == "zh"
    assert script_language("Где продуктовый банк") == "ru"
    assert script_language("Де знайти їжу") == "uk"  # Ukrainian letters
    assert script_language("खाद्य बैंक कहाँ है") == "hi"
    assert script_language("ਫੂਡ ਬੈਂਕ ਕਿੱਥੇ ਹੈ") == "pa"
    assert script_language("உணவு வங்கி எங்கே") == "ta"
    # Latin script, mostly Latin, or no letters: nothing to say.
    assert script_language("where is the food bank") is None
    assert script_language("food bank Oshawa 食物") is None
    assert script_language("911 !!!") is None


def test_every_other_language_points_to_211() -> None:
    catalogue = Catalogue.load()
    for code in ("pt", "ru"):
        note = catalogue.elsewhere(code)
        assert note is not None and "211" in note and "150" in note, code
    assert catalogue.elsewhere("pt-BR") == catalogue.elsewhere("pt")
    # The shipped languages get answers in their own language instead.
    for code in ("ar", "es", "fa", "hi", "pa", "ta", "tl", "uk", "ur", "zh"):
        assert catalogue.elsewhere(code) is None, code
    # Languages the bot answers in, or knows nothing about, get no extra sentence.
    assert catalogue.elsewhere("fr-CA") is None
    assert catalogue.elsewhere("en") is None
    assert catalogue.elsewhere("xx") is None
    assert catalogue.elsewhere(None) is None


def test_normalise_keeps_the_marks_other_scripts_need() -> None:
    assert normalise("Santé à l'hôpital") == "sante a l hopital"  # Latin accents go
    assert normalise("मैं मरना चाहता हूँ।") == "मैं मरना चाहता हूँ"  # vowel signs stay, danda goes
    assert normalise("أريد أن أموت") == "أريد أن أموت"
    assert normalise("ਫੂਡ ਬੈਂਕ ਕਿੱਥੇ ਹੈ") == "ਫੂਡ ਬੈਂਕ ਕਿੱਥੇ ਹੈ"


def test_the_latin_blocks_hold_every_latin_letter_of_the_basic_plane() -> None:
    # The accent stripper scans only LATIN_BLOCKS at start; a letter outside them would keep
    # its accents. A full scan of the plane (12 ms) proves none is missed.
    everywhere = {
        chr(code)
        for code in range(0x80, 0x10000)
        if unicodedata.category(chr(code)).startswith("L")
        and unicodedata.name(chr(code), "").startswith("LATIN")
    }
    assert everywhere <= set(latin_letters())
    assert normalise("Ḱṓṝȅ ǖber ǿ café") == "kore uber ø cafe"


@functools.cache
def _accents() -> re.Pattern[str]:
    marks = "".join(chr(c) for c in range(0x10000) if unicodedata.combining(chr(c)))
    latin = "".join(latin_letters())
    return re.compile(f"([\\x00-\\x7f{re.escape(latin)}])[{re.escape(marks)}]+")


def _reference_normalise(text: str) -> str:
    """normalise() without its shortcuts: every step on every text, as first written."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = _accents().sub(r"\1", decomposed)
    stripped = unicodedata.normalize("NFC", stripped)
    stripped = re.sub(
        r"(?<!\w)(l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu)['\u2019](?=\w)", r"\1 ", stripped
    )
    stripped = stripped.replace("'", "").replace("\u2019", "")
    words = re.sub(r"[^\w\u0900-\u0963\u0966-\u0DFF\u064B-\u065F\u0670]+", " ", stripped)
    return re.sub(r"\s+", " ", words.replace("_", " ")).strip()


_SAMPLES = st.text(
    alphabet=st.one_of(
        st.characters(max_codepoint=0x24F),
        st.characters(min_codepoint=0x300, max_codepoint=0x36F),
        st.characters(min_codepoint=0x900, max_codepoint=0xDFF),
        st.characters(min_codepoint=0x600, max_codepoint=0x6FF),
        st.characters(min_codepoint=0x1E00, max_codepoint=0x1EFF),
        st.characters(min_codepoint=0xFB00, max_codepoint=0xFF60),
        st.sampled_from("'\u2019 \u00a0\u2028\u3000\u0085Ǻ한 ﬁ"),
    ),
    max_size=12,
)


@settings(max_examples=3000, deadline=None)
@given(_SAMPLES)
def test_normalise_shortcuts_change_nothing(text: str) -> None:
    # ASCII, already-composed text without Latin accents, and text without apostrophes skip
    # steps (2x faster over the knowledge base): the result must be the same.
    assert normalise(text) == _reference_normalise(text)


def test_terms_in_other_languages_meet_the_english_wording() -> None:
    synonyms = Synonyms(
        [
            ["doctor", "ڈاکٹر", "daktar", "டாக்டர*", "лікар*"],
            ["health card", "健康卡", "医保卡"],
            ["family doctor", "家庭医生", "फैमिली डॉक्टर"],
        ]
    )
    assert prepare("mujhe ڈاکٹر chahiye", synonyms) == "mujhe ڈاکٹر doctor chahiye"
    assert "doctor" in prepare("mujhe ڈاکٹر chahiye", synonyms).split()
    # A stem with * matches the word with its endings, and only words that start with it.
    assert "doctor" in prepare("டாக்டரிடம் போக வேண்டும்", synonyms).split()
    assert "doctor" in prepare("Потрібен лікаря", synonyms).split()
    assert "doctor" not in prepare("мій лік", synonyms).split()
    # Chinese terms match inside a run of characters (no spaces between words).
    tokens = prepare("我没有医保卡怎么办", synonyms).split()
    assert "health_card" in tokens
    assert "医保" in tokens  # the character pairs stay
    assert "family_doctor" in prepare("怎么找家庭医生", synonyms).split()
    assert "family_doctor" in prepare("फैमिली डॉक्टर कैसे मिलेगा", synonyms).split()
    assert synonyms.terms_in(normalise("我没有医保卡, лікарем")) == ["лікарем", "医保卡"]
    assert synonyms.canonical("лікарем") == "doctor"
    assert synonyms.canonical("健康卡") == "health_card"
    # Whole words for terms without *: "daktari" is not "daktar".
    assert "doctor" not in prepare("daktari", synonyms).split()


def _regex_rewrite(groups: list[list[str]], normalised: str) -> str:
    """The earlier rewrite (one regex of every term, longest first), kept as the reference for
    whole-word terms."""
    mapping: dict[str, str] = {}
    for group in groups:
        terms = [normalise(t) for t in group if normalise(t)]
        for term in terms:
            mapping.setdefault(term, terms[0].replace(" ", "_"))
    if not mapping:
        return normalised
    alternatives = sorted(mapping, key=len, reverse=True)
    pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(t) for t in alternatives) + r")(?!\w)")

    def tag(match: re.Match[str]) -> str:
        term = match.group(1)
        return term if term == mapping[term] else f"{term} {mapping[term]}"

    return pattern.sub(tag, normalised)


_WORDS = st.sampled_from(["sin", "card", "health", "social", "number", "bus", "pass", "a", "my"])


@settings(max_examples=300, deadline=None)
@given(
    groups=st.lists(
        st.lists(st.lists(_WORDS, min_size=1, max_size=3).map(" ".join), min_size=2, max_size=3),
        max_size=4,
    ),
    text=st.lists(_WORDS, max_size=8).map(" ".join),
)
def test_whole_word_terms_rewrite_as_the_regex(groups: list[list[str]], text: str) -> None:
    assert Synonyms(groups).rewrite(text) == _regex_rewrite(groups, text)


def test_arabic_words_meet_their_terms_without_the_joined_and_the_for() -> None:
    synonyms = Synonyms([["hospital", "مستشفى"], ["pr card", "بطاقة الإقامة"]])
    assert "hospital" in prepare("أخذوا أبي للمستشفى", synonyms).split()  # "to the hospital"
    assert "hospital" in prepare("وبالمستشفى قالوا", synonyms).split()  # "and at the hospital"
    assert "pr_card" in prepare("وبطاقة الإقامة ضاعت", synonyms).split()
    # Only in Arabic: Urdu and Persian words start with the same letters and mean other things.
    assert "hospital" not in prepare("بمستشفى کے پاس ہے", synonyms).split()


def test_pasted_html_is_dropped_and_plain_angle_brackets_kept() -> None:
    assert without_markup("<b>hi</b> <script>alert(1)</script> where").split() == ["hi", "where"]
    assert without_markup("food &amp; clothes") == "food & clothes"
    assert without_markup("i have <5 dollars <3") == "i have <5 dollars <3"
    assert without_markup("<script>unclosed where is it").split() == [
        "unclosed",
        "where",
        "is",
        "it",
    ]


@given(st.text(max_size=300))
@settings(max_examples=300)
def test_markup_removal_never_raises_and_leaves_no_tag(text: str) -> None:
    out = without_markup(text)
    if "<" not in text and "&" not in text:
        assert out == text
    # A tag that survives would have to come from an entity ("&lt;b&gt;" is text, shown as is).
    assert not re.search(r"(?i)</?(b|div|script|style)\b[^<>]*>", out) or "&" in text
