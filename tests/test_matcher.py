"""The matcher: thresholds, ambiguity, crisis first, events, languages, odd input."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.knowledge.loader import load_knowledge
from bot.matching import matcher as matcher_module
from bot.matching.engine import Document, Evidence, Index
from bot.matching.matcher import Candidate, Matcher, MatchSettings, Outcome
from bot.matching.smalltalk import Talk
from bot.text import prepare, sentences
from tests.conftest import BUS_KB

MakeKb = Callable[[dict[str, str]], Path]

BUS = (
    BUS_KB
    + """  - id: library-card
    questions: [how do I get a library card, join the public library]
    answer: Visit any branch.
"""
)


@pytest.fixture
def matcher(make_kb: MakeKb) -> Matcher:
    return Matcher(load_knowledge(make_kb({"bus.yaml": BUS})))


def test_clear_question_is_answered(matcher: Matcher) -> None:
    match = matcher.match("how much does a bus ticket cost")
    assert match.outcome is Outcome.ANSWERED
    assert match.entry_id == "bus-fares"
    assert match.candidates[0].evidence.matched_question == "bus ticket price"
    assert 0 <= match.score <= 100


def test_too_close_to_call_is_ambiguous_with_choices(make_kb: MakeKb) -> None:
    # A lower threshold than the shipped one: a one-word question scores low on three entries.
    knowledge = load_knowledge(make_kb({"bus.yaml": BUS}))
    match = Matcher(knowledge, MatchSettings(answer_threshold=20)).match("bus")
    assert match.outcome is Outcome.AMBIGUOUS
    assert {c.entry_id for c in match.choices} == {"bus-routes", "bus-fares"}


def test_unrelated_question_is_unanswered(matcher: Matcher) -> None:
    match = matcher.match("where can I buy a cricket bat")
    assert match.outcome is Outcome.UNANSWERED
    assert match.entry_id is None
    assert match.choices == ()


def test_thresholds_are_configuration(make_kb: MakeKb) -> None:
    knowledge = load_knowledge(make_kb({"bus.yaml": BUS}))
    strict = Matcher(knowledge, MatchSettings(answer_threshold=100, ambiguity_margin=0))
    assert strict.match("bus timetable please").outcome is not Outcome.ANSWERED
    lenient = Matcher(knowledge, MatchSettings(answer_threshold=1, ambiguity_margin=0))
    assert lenient.match("bus").outcome is Outcome.ANSWERED
    wide = Matcher(knowledge, MatchSettings(ambiguity_margin=100))
    assert wide.match("how much is the bus fare").outcome is Outcome.AMBIGUOUS


def test_typos_and_word_order(matcher: Matcher) -> None:
    assert matcher.match("libary card how get").entry_id == "library-card"
    assert matcher.match("bus timtable").entry_id == "bus-routes"


def test_crisis_comes_before_matching(small_kb: Path) -> None:
    match = Matcher(load_knowledge(small_kb)).match("I want to kill myself, and my health card?")
    assert match.outcome is Outcome.CRISIS
    assert match.crisis is not None and match.crisis.category == "self_harm"
    assert match.candidates == ()


def test_odd_input_never_raises(matcher: Matcher) -> None:
    for text in ("", "   ", "???", "😀😀", "<b>bus</b>", "x" * 10_000, "bus " * 3000):
        match = matcher.match(text)
        assert match.outcome in set(Outcome)


def test_pasted_html_is_not_read_as_words(matcher: Matcher) -> None:
    plain = matcher.match("how much does a bus ticket cost")
    pasted = matcher.match(
        "<p><b>how much</b> does a <i>bus</i> ticket cost</p><script>alert('x')</script>&nbsp;"
    )
    assert pasted.outcome is Outcome.ANSWERED and pasted.entry_id == plain.entry_id
    assert pasted.score == plain.score


def test_small_talk_is_answered_in_kind_and_danger_still_comes_first(small_kb: Path) -> None:
    matcher = Matcher(load_knowledge(small_kb))
    hello = matcher.match("hi!")
    assert hello.outcome is Outcome.SMALL_TALK and hello.talk is Talk.HELLO
    assert not hello.carries_net and hello.candidates == ()
    assert matcher.match("thank you so much").talk is Talk.THANKS
    # Read before the safety check: a short message's typo'd lexicon hit always stands, and
    # "assalamu" is one letter from "assault".
    assert matcher.match("Assalamu alaikum").outcome is Outcome.SMALL_TALK
    assert matcher.match("bye everyone").carries_net  # a farewell can be a sign of danger
    no = matcher.match("no")  # the last reply did not help: it carries the 911/988 line
    assert no.outcome is Outcome.SMALL_TALK and no.talk is Talk.NOT_HELPFUL and no.carries_net
    assert matcher.match("hi, I want to kill myself").outcome is Outcome.CRISIS
    assert matcher.match("hi, how do I get a health card").outcome is Outcome.ANSWERED


def test_language(small_kb: Path) -> None:
    matcher = Matcher(load_knowledge(small_kb))
    assert matcher.match("comment obtenir une carte santé").language == "fr"
    assert matcher.match("how do I get a health card").language == "en"
    assert matcher.match("ohip", "fr-CA").language == "fr"


def test_past_events_are_never_offered(make_kb: MakeKb) -> None:
    now = datetime.now(UTC)
    events = f"""
events:
  - {{id: fair-past, title: Newcomer fair, start: "{(now - timedelta(days=3)):%Y-%m-%d %H:%M}",
     questions: [newcomer fair]}}
  - {{id: fair-next, title: Newcomer fair, start: "{(now + timedelta(days=3)):%Y-%m-%d %H:%M}",
     questions: [newcomer fair]}}
"""
    matcher = Matcher(load_knowledge(make_kb({"e.yaml": events})))
    match = matcher.match("newcomer fair")
    assert "fair-past" not in {c.entry_id for c in match.candidates}
    assert match.candidates[0].entry_id == "fair-next"


def test_services_are_matched_by_name(small_kb: Path) -> None:
    match = Matcher(load_knowledge(small_kb)).match("serviceontario")
    assert match.candidates[0].entry_id == "serviceontario"


def test_engine_handles_tiny_knowledge_bases() -> None:
    one = Index.build([Document("only", ("hello there",))], prepare)
    (hit,) = one.search("hello")
    assert hit.entry_id == "only"
    assert Index.build([], prepare).search("hello") == []
    assert Index.build([Document("x", ("???",))], prepare).search("hello") == []


def test_engine_is_deterministic_and_caches(tmp_path: Path) -> None:
    docs = [
        Document("a", ("apply for a health card", "ohip form")),
        Document("b", ("bus fare", "presto card price")),
    ]
    first = Index.build(docs, prepare, tmp_path).search("health card")
    assert list(tmp_path.glob("model-*.npz"))
    again = Index.build(docs, prepare, tmp_path).search("health card")
    assert [(h.entry_id, h.score) for h in first] == [(h.entry_id, h.score) for h in again]
    fresh = Index.build(docs, prepare).search("health card")
    assert [(h.entry_id, h.score) for h in first] == [(h.entry_id, h.score) for h in fresh]


def test_a_close_faq_and_the_service_it_links_are_one_answer(small_kb: Path) -> None:
    matcher = Matcher(load_knowledge(small_kb))
    evidence = Evidence("q", (), {})
    service, faq = (
        Candidate("serviceontario", 50.0, evidence),
        Candidate("health-card", 48.0, evidence),
    )
    other = Candidate("sin-number", 47.0, evidence)
    # Either order: the FAQ answers (its reply carries the service's contacts) at the top score.
    ranked_after = [
        Candidate("health-card", 50.0, evidence),
        Candidate("serviceontario", 48.0, evidence),
    ]
    for pair in ([service, faq, other], [*ranked_after, other]):
        joined = matcher._join_linked(pair)
        assert [(c.entry_id, c.score) for c in joined] == [
            ("health-card", 50.0),
            ("sin-number", 47.0),
        ]
    # A service the FAQ does not link, or a clear lead, leaves the ranking alone.
    unlinked = [Candidate("welcome-centre-pickering", 50.0, evidence), faq]
    assert matcher._join_linked(unlinked) == unlinked
    clear = [service, Candidate("health-card", 20.0, evidence)]
    assert matcher._join_linked(clear) == clear


def test_unanswered_lists_entries_that_might_help(small_kb: Path) -> None:
    knowledge = load_knowledge(small_kb)
    # A strict answer threshold turns a clear question into an unanswered one.
    strict = Matcher(knowledge, MatchSettings(answer_threshold=100, related_threshold=5))
    match = strict.match("how do I get a health card")
    assert match.outcome is Outcome.UNANSWERED and match.entry_id is None
    assert match.choices[0].entry_id == "health-card"
    assert all(c.score >= 5 for c in match.choices) and len(match.choices) <= 3
    # Nothing scores that high: the honest "I don't know" comes alone.
    none = Matcher(knowledge, MatchSettings(answer_threshold=100, related_threshold=100))
    assert none.match("how do I get a health card").choices == ()


STORY = (
    "We came to Canada three weeks ago from Colombia with my wife and our two daughters. "
    "Everything is new and my cousin Alejandro helps us a lot with the papers. "
    "How do I get a health card for my family?"
)


def test_a_long_message_is_read_sentence_by_sentence(
    small_kb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    matcher = Matcher(load_knowledge(small_kb))
    match = matcher.match(STORY)
    assert match.outcome is Outcome.ANSWERED and match.entry_id == "health-card"
    # Read as one block, the story's unknown words weaken the match.
    monkeypatch.setattr(matcher_module, "LONG_MESSAGE_WORDS", 10_000)
    assert matcher.match(STORY).score < match.score
    monkeypatch.undo()
    story = (
        "My brother and I were arguing last night about hockey, he likes Toronto and I like "
        "Edmonton. Who do you think will win the cup this year?"
    )
    assert matcher.match(story).outcome is not Outcome.ANSWERED


def test_sentences_split_where_people_end_them() -> None:
    text = "We moved in May. My son is 15!  Which grade?\nThanks; bye"
    assert sentences(text) == [
        "We moved in May.",
        "My son is 15!",
        "Which grade?",
        "Thanks;",
        "bye",
    ]


MULTILINGUAL = """faqs:
  - id: health-card
    questions:
      en: [how do I get a health card, apply for OHIP]
      ur: [ہیلتھ کارڈ کیسے ملے گا, OHIP card kaise milega, health card kahan se milega]
    answer: {en: Apply at ServiceOntario., ur: ServiceOntario میں اپلائی کریں۔}
  - id: bus-fares
    questions:
      en: [bus ticket price, how much is the bus]
      ur: [بس کا کرایہ کتنا ہے, bus ka kiraya kitna hai]
    answer: {en: A ride costs money.}
  - id: library-card
    questions: [how do I get a library card, join the public library]
    answer: Visit any branch.
"""


def test_other_languages_have_their_own_word_index(make_kb: MakeKb) -> None:
    matcher = Matcher(load_knowledge(make_kb({"faqs.yaml": MULTILINGUAL})))
    # English and French wordings only in the main index: other languages cannot change
    # its weights (they once pushed out-of-scope questions onto translated wordings).
    assert not any("کارڈ" in q or "kaise" in q for q in matcher.index.raw_questions)
    assert matcher.other_index is not None
    assert "ہیلتھ کارڈ کیسے ملے گا" in matcher.other_index.raw_questions
    urdu = matcher.match("ہیلتھ کارڈ کیسے ملے گا")
    assert (urdu.language, urdu.outcome, urdu.entry_id) == ("ur", Outcome.ANSWERED, "health-card")
    # Romanised Urdu is read as English, but its own words reach the Urdu wordings.
    romanised = matcher.match("bus ka kiraya kitna hai")
    assert romanised.entry_id == "bus-fares"
    # An English question never lands on another language's wording by itself.
    assert not matcher._foreign("how do I get a library card", "en")
    assert matcher._foreign("OHIP card kaise milega", "en")


def test_a_question_about_my_data_gets_the_privacy_notice(small_kb: Path) -> None:
    matcher = Matcher(load_knowledge(small_kb))
    asked = matcher.match("how do I delete my data?")
    assert asked.outcome is Outcome.SMALL_TALK and asked.talk is Talk.PRIVACY
    assert not asked.carries_net
    assert matcher.match("supprimer mes données").language == "fr"
    # Danger first.
    assert matcher.match("delete my data, I want to kill myself").outcome is Outcome.CRISIS


def test_the_other_languages_index_answers_under_its_bar_only_far_ahead(
    matcher: Matcher,
) -> None:
    def hits(*scores: float) -> list[Candidate]:
        return [
            Candidate(f"entry-{i}", score, Evidence("", (), {})) for i, score in enumerate(scores)
        ]

    settings = matcher.settings
    main = (Outcome.UNANSWERED, hits(10.0))
    top = settings.foreign_answer_threshold - 15
    # "I was a civil engineer in Syria...": one entry far ahead, though under the bar.
    alone = hits(top, top * settings.foreign_lead - 1)
    assert matcher.pick_words(main, (Outcome.ANSWERED, alone)) == (Outcome.ANSWERED, alone, False)
    # A runner-up close behind: buttons, and the answer is held back (the encoder may agree).
    close = hits(top, top * settings.foreign_lead + 1)
    assert matcher.pick_words(main, (Outcome.ANSWERED, close)) == (Outcome.AMBIGUOUS, close, True)
    # Alone (a language with wordings for one entry): nothing to be ahead of.
    single = hits(top)
    assert matcher.pick_words(main, (Outcome.ANSWERED, single)) == (
        Outcome.AMBIGUOUS,
        single,
        True,
    )
    # At the bar, the usual margin decided already.
    sure = hits(settings.foreign_answer_threshold, top)
    assert matcher.pick_words(main, (Outcome.ANSWERED, sure)) == (Outcome.ANSWERED, sure, False)
