"""Money figures carry their period: cards show it, and say so once it has passed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from bot.knowledge import figures, freshness, validation
from bot.knowledge.loader import load_directory, load_knowledge
from bot.knowledge.model import all_texts
from bot.replies.cards import Cards
from bot.replies.messages import Catalogue
from tests.test_knowledge_base import KNOWLEDGE

MakeKb = Callable[[dict[str, str]], Path]
KB = {
    "a.yaml": """
services:
  - {id: cra, name: Canada Revenue Agency, last_verified: 2026-11-01}
faqs:
  - id: ccb
    questions: [how much is the child benefit]
    answer:
      en: You can get up to $7,997 a year for each child under 6.
      fr: Vous pouvez recevoir jusqu'à 7 997 $ par année pour chaque enfant de moins de 6 ans.
    services: [cra]
    figures_from: 2025-07-01
    figures_until: 2026-06-30
    last_verified: 2026-11-01
  - id: fares
    questions: [how much is the bus]
    answer: An adult fare is $3.60 with PRESTO.
    services: [cra]
    figures_from: 2024-07-01
    last_verified: 2026-11-01
"""
}


@pytest.fixture
def cards_on(make_kb: MakeKb) -> Callable[[date], Cards]:
    knowledge = load_knowledge(make_kb(KB))
    return lambda today: Cards(knowledge, Catalogue.load(), today=today)


def test_cards_show_the_period_in_both_languages(cards_on: Callable[[date], Cards]) -> None:
    cards = cards_on(date(2026, 1, 15))
    english = cards.entry("ccb", "en")
    assert "Amounts for July 2025 to June 2026." in english
    assert "may be out of date" not in english
    assert "Montants pour la période de juillet 2025 à juin 2026." in cards.entry("ccb", "fr")
    assert "Amounts as of July 2024." in cards_on(date(2025, 1, 1)).entry("fares", "en")


def test_cards_say_expired_figures_may_be_out_of_date(cards_on: Callable[[date], Cards]) -> None:
    cards = cards_on(date(2026, 7, 1))
    assert "These amounts may be out of date" in cards.entry("ccb", "en")
    assert "ne sont peut-être plus à jour" in cards.entry("ccb", "fr")
    # A period with no end is good for a year from its start.
    assert "may be out of date" in cards.entry("fares", "en")
    assert "may be out of date" not in cards_on(date(2025, 6, 30)).entry("fares", "en")


def test_validate_and_freshness_warn_once_the_period_has_passed(make_kb: MakeKb) -> None:
    knowledge = load_knowledge(make_kb(KB))
    during = [str(p) for p in validation.check(knowledge, date(2026, 6, 30))]
    assert not any("ccb" in w and "figures" in w for w in during), during
    after = [str(p) for p in validation.check(knowledge, date(2026, 7, 1))]
    assert any("ccb" in w and "valid until 2026-06-30" in w for w in after), after
    due = {d.entry_id: d.reason for d in freshness.due(knowledge, date(2026, 7, 1))}
    assert "valid until 2026-06-30" in due["ccb"]
    assert "over a year ago" in due["fares"]


def test_the_period_must_be_in_order(make_kb: MakeKb) -> None:
    bad = KB["a.yaml"].replace("figures_until: 2026-06-30", "figures_until: 2024-06-30")
    result = load_directory(make_kb({"a.yaml": bad}))
    assert any("is before figures_from" in str(p) for p in result.errors), result.errors


def test_money_is_found_in_both_languages() -> None:
    for text in ("up to $7,997", "jusqu'à 7 997 $", "$3.60", "3,60 $", "a $6 card"):
        assert figures.has_money(text), text
    for text in ("call 905-666-6238", "Grade 9", "ages 4-5", "24 hours"):
        assert not figures.has_money(text), text


def test_every_answer_with_an_amount_carries_its_period() -> None:
    knowledge = load_directory(KNOWLEDGE).knowledge
    assert knowledge is not None
    undated = [
        faq.id
        for faq in knowledge.faqs.values()
        if any(figures.has_money(text) for text in all_texts(faq.answer))
        and faq.figures_from is None
        and faq.figures_until is None
    ]
    assert not undated, f"answers with an amount but no figures_from/figures_until: {undated}"
