"""Spelling repair on its own, and what it does for the engine's answers."""

from __future__ import annotations

from functools import partial

from bot.matching.engine import Document, Index
from bot.matching.spelling import Speller
from bot.text import Synonyms, prepare

VOCABULARY = (
    "health card application family doctor registration daughter interview emergency "
    "number immigrants search school shool note"
).split()


def test_common_typos_become_known_words() -> None:
    speller = Speller(VOCABULARY)
    typed = "helth aplication famly docter registraion daugther interveiw emergancy numbr serch"
    repaired, changes = speller.repair(typed.split())
    assert repaired == [
        "health",
        "application",
        "family",
        "doctor",
        "registration",
        "daughter",
        "interview",
        "emergency",
        "number",
        "search",
    ]
    assert changes["daugther"] == "daughter"  # a swap of two letters is one edit


def test_known_short_odd_and_far_words_are_left_alone() -> None:
    speller = Speller(VOCABULARY)
    assert speller.correct("health") is None  # already known
    assert speller.correct("vote") is None  # four letters: too short to guess ("note")
    assert speller.correct("osap") is None
    assert speller.correct("cricket") is None  # nothing near
    assert speller.correct("amily") is None  # the first letter must match
    assert speller.correct("famly2") is None  # not a word
    assert speller.correct("famlyy") is None  # two edits: only for long words
    assert speller.correct("aplicatin") == "application"  # two edits in a long word


def test_the_commoner_word_wins_a_tie() -> None:
    # "carks" is one edit from both.
    assert Speller(["cards", "cards", "carts"]).correct("carks") == "cards"
    assert Speller(["cards", "carts", "carts"]).correct("carks") == "carts"
    # Before the count, a longer shared start: a plural is its singular, not a commoner word.
    assert Speller(["means", "means", "meal"]).correct("meals") == "meal"


def test_the_engine_reads_typos_as_the_knowledge_base_words() -> None:
    docs = [
        Document("health-card", ("how do I get a health card", "apply for OHIP")),
        Document("family-doctor", ("find a family doctor", "no family doctor")),
        Document("bus-fares", ("how much is the bus fare", "bus pass cost")),
    ]
    synonyms = Synonyms([["ohip", "health card"]])
    index = Index.build(docs, partial(prepare, synonyms=synonyms))
    hits = index.search("helth card aplication")
    assert hits[0].entry_id == "health-card"
    assert ("helth", "health") in hits[0].evidence.corrections
    # Repaired before the synonyms apply: the repaired "health card" also counts as OHIP.
    assert "ohip" in hits[0].evidence.shared_terms
    doctor = index.search("famly docter")
    assert doctor[0].entry_id == "family-doctor"
    assert doctor[0].evidence.corrections == (("famly", "family"), ("docter", "doctor"))
    assert index.search("how do I get a health card")[0].evidence.corrections == ()
