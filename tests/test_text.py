"""Normalisation, synonyms and the language guess."""

from __future__ import annotations

from bot.text import Synonyms, guess_language, normalise, prepare


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
