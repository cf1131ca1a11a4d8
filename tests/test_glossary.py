"""Short forms are explained once per answer, in the answer's language."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.knowledge.loader import load_directory, load_knowledge
from bot.knowledge.model import Term
from bot.replies.cards import Cards
from bot.replies.glossary import Glossary
from bot.replies.messages import Catalogue

GLOSSARY = Glossary(
    [
        Term(term="OHIP", meaning={"en": "Ontario Health Insurance Plan", "fr": "Régime"}),
        Term(term={"en": "SIN", "fr": "NAS"}, meaning={"en": "Social Insurance Number"}),
        Term(term="LGBTQ+", meaning="lesbian, gay, bisexual, trans, queer and more"),
    ]
)


def test_the_first_use_is_explained_once() -> None:
    text = "Apply for OHIP. OHIP pays for doctors."
    assert GLOSSARY.explain(text, "en") == (
        "Apply for OHIP (Ontario Health Insurance Plan). OHIP pays for doctors."
    )


def test_each_language_has_its_own_form() -> None:
    assert GLOSSARY.explain("Votre NAS et l'OHIP", "fr") == (
        "Votre NAS (Social Insurance Number) et l'OHIP (Régime)"
    )
    assert GLOSSARY.explain("Your SIN", "en") == "Your SIN (Social Insurance Number)"
    assert GLOSSARY.explain("Support for LGBTQ+ people", "en") == (
        "Support for LGBTQ+ (lesbian, gay, bisexual, trans, queer and more) people"
    )


def test_already_explained_or_not_a_word_is_left_alone() -> None:
    for text in [
        "The Ontario Health Insurance Plan (OHIP) pays.",  # the meaning is written out
        "OHIP (the provincial plan) pays.",  # explained in the answer's own words
        "See ontario.ca/OHIP-info for details.",  # part of a web address
        "OHIPS and SINGLE are other words.",  # not whole words
        "ohip in lower case is a typo, not the short form",
    ]:
        assert GLOSSARY.explain(text, "en") == text


def test_the_glossary_section_is_loaded_and_checked(
    make_kb: Callable[[dict[str, str]], Path],
) -> None:
    kb = make_kb(
        {
            "g.yaml": """
                glossary:
                  - term: {en: SIN, fr: NAS}
                    meaning: {en: Social Insurance Number, fr: numéro d'assurance sociale}
                faqs:
                  - id: sin
                    questions: [how do I get a SIN]
                    answer: {en: Apply for a SIN online., fr: Demandez un NAS en ligne.}
                """
        }
    )
    knowledge = load_knowledge(kb)
    assert len(knowledge.glossary) == 1
    cards = Cards(knowledge, Catalogue.load())
    assert cards.entry("sin", "fr").startswith("Demandez un NAS (numéro d'assurance sociale)")
    assert cards.entry("sin", "en").startswith("Apply for a SIN (Social Insurance Number)")
    broken = make_kb({"g.yaml": "glossary:\n  - term: SIN\n    meening: Social Insurance\n"})
    errors = [str(p) for p in load_directory(broken).errors]
    assert any(e.startswith("kb/g.yaml:3:5:") and '"meening"' in e for e in errors), errors
    assert any(e.startswith("kb/g.yaml:2:5:") and "meaning" in e for e in errors), errors
