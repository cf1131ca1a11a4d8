"""A question naming a town gets the services that serve that town (Clarington's own boards)."""

from __future__ import annotations

import pytest

from bot.knowledge.loader import load_directory
from bot.knowledge.model import KnowledgeBase
from bot.knowledge.places import for_places, places_of
from bot.matching.matcher import Matcher, Outcome
from bot.replies.cards import Cards
from bot.replies.messages import Catalogue
from tests.test_knowledge_base import KNOWLEDGE


@pytest.fixture(scope="module")
def knowledge() -> KnowledgeBase:
    result = load_directory(KNOWLEDGE)
    assert result.knowledge is not None
    return result.knowledge


@pytest.fixture(scope="module")
def matcher(knowledge: KnowledgeBase) -> Matcher:
    return Matcher(knowledge, meaning=False)


def test_towns_are_read_as_their_municipality(knowledge: KnowledgeBase) -> None:
    region = knowledge.region
    assert places_of("how do I register my child for school in Bowmanville", region) == (
        "Clarington",
    )
    assert places_of("school in Courtice or Orono?", region) == ("Clarington",)
    assert places_of("how do I register my child for school", region) == ()


def test_a_clarington_family_gets_clarington_boards(
    knowledge: KnowledgeBase, matcher: Matcher
) -> None:
    cards = Cards(knowledge, Catalogue.load())
    for question in (
        "how do I register my child for school in Bowmanville",
        "we live in Courtice, how do we enrol our kids in school",
    ):
        match = matcher.match(question, "en")
        assert match.outcome is Outcome.ANSWERED
        assert match.entry_id == "register-child-school", (question, match.entry_id)
        card = cards.for_match(match)
        assert "Kawartha Pine Ridge District School Board" in card
        assert "PVNC Catholic" in card
        assert "Durham District School Board (DDSB)" not in card
        assert "Durham Catholic District School Board (DCDSB)" not in card


def test_elsewhere_the_durham_boards_come_with_the_answer(
    knowledge: KnowledgeBase, matcher: Matcher
) -> None:
    cards = Cards(knowledge, Catalogue.load())
    card = cards.for_match(matcher.match("how do I register my child for school in Ajax", "en"))
    assert "Durham District School Board (DDSB)" in card
    assert "Kawartha Pine Ridge District School Board" not in card
    # No town named: every board, each with the towns it serves.
    card = cards.for_match(matcher.match("how do I register my child for school", "en"))
    assert "Durham District School Board (DDSB)" in card
    assert "Kawartha Pine Ridge District School Board" in card


def test_services_for_no_town_or_an_unserved_town_are_all_kept(knowledge: KnowledgeBase) -> None:
    boards = [knowledge.services[s] for s in ("ddsb", "kpr-school-board")]
    assert for_places(boards, ()) == boards
    assert for_places(boards, ("Clarington",)) == boards[1:]
    # A service for all of Durham serves every town.
    homeless = [knowledge.services["durham-homelessness-help"]]
    assert for_places(homeless, ("Brock",)) == homeless
