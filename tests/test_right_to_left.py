"""Right-to-left marks, dates in the reader's language, and the untranslated-answer line."""

from __future__ import annotations

from datetime import datetime

from bot.replies.bidi import LRM, RLM, for_language, right_to_left
from bot.replies.cards import Cards, has_language
from bot.replies.messages import Catalogue
from tests.conftest import SMALL_KB, write_kb


def test_every_line_starts_right_to_left_and_latin_runs_are_kept_left_to_right() -> None:
    text = '📞 فون: <a href="tel:+18002673101">1-800-267-3101</a> (ServiceOntario)\n\nکال کریں 911'
    marked = right_to_left(text)
    lines = marked.split("\n")
    assert lines[0].startswith(RLM) and lines[2].startswith(RLM) and lines[1] == ""
    assert f"{LRM}1-800-267-3101{LRM}" in marked and f"{LRM}ServiceOntario{LRM}" in marked
    assert 'href="tel:+18002673101"' in marked  # tags untouched
    assert right_to_left(marked) == marked  # marking twice changes nothing


def test_html_entities_are_not_broken() -> None:
    assert "&amp;" in right_to_left("Tom &amp; Jerry سلام")


def test_left_to_right_languages_are_unchanged() -> None:
    for language in ("en", "fr", "hi", "zh", "es"):
        assert for_language("Hello 911", language) == "Hello 911"
    assert for_language("Hello 911", "ur") != "Hello 911"


def test_dates_in_the_readers_language(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bot.knowledge.loader import load_knowledge

    knowledge = load_knowledge(write_kb(tmp_path, SMALL_KB))
    cards = Cards(knowledge, Catalogue.load())
    saturday = datetime(2026, 3, 14, 10, 0)
    assert cards.day(saturday, "en") == "Sat 14 Mar 2026"
    assert cards.day(saturday, "es") == "sáb 14 de marzo de 2026"
    assert cards.day(saturday, "zh") == "2026年3月14日 周六"
    assert cards.day(saturday, "ur") == "ہفتہ 14 مارچ 2026"
    assert cards.month(saturday.date(), "fr") == "mars 2026"
    assert cards.month(saturday.date(), "uk") == "березня 2026"


def test_a_text_is_in_a_language_only_when_written_in_it() -> None:
    assert has_language({"en": "x", "ur": "y"}, "ur")
    assert not has_language({"en": "x"}, "ur")
    assert has_language("plain English", "en") and not has_language("plain English", "es")
