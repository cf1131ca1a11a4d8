"""French answers say as much as English ones: the same numbers, amounts, phones, web
addresses, emails, organisation names and dates, in every FAQ and crisis reply with both."""

from __future__ import annotations

import re

import pytest

from bot.knowledge.loader import load_directory
from bot.knowledge.model import KnowledgeBase, all_texts
from tests.parity import facts, names_in
from tests.test_knowledge_base import KNOWLEDGE


@pytest.fixture(scope="module")
def knowledge() -> KnowledgeBase:
    result = load_directory(KNOWLEDGE)
    assert result.knowledge is not None
    return result.knowledge


# Names that are also plain words for a place: "la région de Durham" is the area, in French.
PLACE_WORDS = {"Région de Durham"}


def organisation_names(knowledge: KnowledgeBase) -> dict[str, set[str]]:
    """Each service's names in any language, with and without its short form in brackets."""
    names: dict[str, set[str]] = {}
    for service in knowledge.services.values():
        aliases: set[str] = set()
        for name in all_texts(service.name):
            aliases.add(name)
            short = re.search(r"\(([A-Z][A-Za-z]*[A-Z])\)", name)
            if short:
                aliases.add(short.group(1))
            aliases.add(re.sub(r"\s*\([^)]*\)", "", name).strip())
        names[service.id] = {a for a in aliases if len(a) >= 3 and a not in PLACE_WORDS}
    return names


def pairs(knowledge: KnowledgeBase) -> list[tuple[str, str, str]]:
    out = []
    for faq in knowledge.faqs.values():
        if isinstance(faq.answer, dict) and {"en", "fr"} <= set(faq.answer):
            out.append((faq.id, faq.answer["en"], faq.answer["fr"]))
    for line in knowledge.crisis:
        if isinstance(line.reply, dict) and {"en", "fr"} <= set(line.reply):
            out.append((line.id, line.reply["en"], line.reply["fr"]))
    return out


def test_every_answer_has_both_languages(knowledge: KnowledgeBase) -> None:
    assert len(pairs(knowledge)) == len(knowledge.faqs) + len(knowledge.crisis)


def test_french_and_english_carry_the_same_facts(knowledge: KnowledgeBase) -> None:
    names = organisation_names(knowledge)
    differences = []
    for entry_id, english, french in pairs(knowledge):
        en, fr = facts(english), facts(french)
        if en != fr:
            differences.append(
                f"{entry_id}: only in English {sorted(en - fr)}, only in French {sorted(fr - en)}"
            )
        en_names, fr_names = names_in(english, names), names_in(french, names)
        if en_names != fr_names:
            differences.append(
                f"{entry_id}: organisations only in English {sorted(en_names - fr_names)}, "
                f"only in French {sorted(fr_names - en_names)}"
            )
    assert not differences, "\n".join(differences)


@pytest.mark.parametrize(
    ("english", "french"),
    [
        ("up to $7,997 a year", "jusqu'à 7 997 $ par année"),
        ("$17.60 an hour", "17,60 $ de l'heure"),
        ("call 1-800-668-6868", "appelez le 1-800-668-6868"),
        ("Monday to Friday, 8:30 am to 4:30 pm", "du lundi au vendredi, de 8 h 30 à 16 h 30"),
        ("from July 1, 2024", "depuis le 1er juillet 2024"),
        ("Grades 1 to 8", "de la 1re à la 8e année"),
        ("1 person up to $40,000", "1 personne jusqu'à 40 000 $"),
        ("see ontario.ca/healthcareconnect", "voir ontario.ca/healthcareconnect."),
        ("November 15 to April 1", "du 15 novembre au 1er avril"),
        ("Fridays, 9:30 to 11:30 am", "le vendredi, de 9 h 30 à 11 h 30"),
    ],
)
def test_the_comparison_reads_both_ways_of_writing(english: str, french: str) -> None:
    assert facts(english) == facts(french)


def test_the_comparison_sees_a_missing_fact() -> None:
    assert facts("up to $6,496 and $5,481") != facts("jusqu'à 6 496 $")
    assert facts("open 7 am to 7 pm") != facts("ouvert de 7 h à 17 h")
