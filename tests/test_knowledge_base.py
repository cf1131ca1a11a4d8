"""The shipped Durham knowledge base: valid, sourced, dated, and inventing nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.knowledge import KnowledgeBase, all_texts, languages_of, phone_digits
from bot.loader import load_directory

PROJECT = Path(__file__).resolve().parent.parent
KNOWLEDGE = PROJECT / "knowledge"
FACTS = PROJECT.parent / "shared" / "durham-facts.md"


@pytest.fixture(scope="module")
def knowledge() -> KnowledgeBase:
    result = load_directory(KNOWLEDGE)
    assert result.errors == [], [str(p) for p in result.errors]
    assert result.knowledge is not None
    return result.knowledge


def test_every_entry_is_sourced_and_dated(knowledge: KnowledgeBase) -> None:
    for entry in [*knowledge.entries(), *knowledge.crisis]:
        assert entry.source or entry.citation, f"{entry.id} has no source"
        assert entry.last_verified is not None, f"{entry.id} has no last_verified"
        assert entry.owner, f"{entry.id} has no owner"


def _facts() -> str:
    if not FACTS.exists():
        pytest.skip(f"{FACTS} is not here (a user's clone): cannot check facts against sources")
    return FACTS.read_text(encoding="utf-8")


def _digits(text: str) -> set[str]:
    # Every run of digits with separators, as bare digits (1 prefix dropped): 9056687711.
    runs = re.findall(r"\d[\d\s().-]{1,}\d|\d{3}", text)
    out = set()
    for run in runs:
        digits = re.sub(r"\D", "", run)
        out.add(digits[1:] if len(digits) == 11 and digits.startswith("1") else digits)
    return out


def test_no_phone_number_is_invented(knowledge: KnowledgeBase) -> None:
    facts = _facts()
    known = _digits(facts)
    # Vanity numbers like 1-800-222-TIPS, compared without the leading 1 like the others.
    vanity = {re.sub(r"\W", "", m).upper()[1:] for m in re.findall(r"1-800-[\dA-Z-]+", facts)}
    for service in knowledge.services.values():
        for phone in service.phones:
            digits = phone_digits(phone.number)
            digits = digits[1:] if len(digits) == 11 and digits.startswith("1") else digits
            assert digits in known or digits in vanity, (
                f"{service.id}: {phone.number} is not in durham-facts.md"
            )


def test_no_web_address_is_invented(knowledge: KnowledgeBase) -> None:
    facts = _facts().lower()
    for entry in [*knowledge.entries(), *knowledge.crisis]:
        urls = [entry.source, *entry.sources]
        urls += [getattr(entry, "website", None), getattr(entry, "registration_url", None)]
        for url in filter(None, urls):
            bare = re.sub(r"^https?://(www\.)?", "", url.lower()).rstrip("/")
            assert bare in facts, f"{entry.id}: {url} is not in durham-facts.md"


def test_french_for_topics_and_crisis_replies(knowledge: KnowledgeBase) -> None:
    for topic in knowledge.topics.values():
        assert "fr" in languages_of(topic.title), f"topic {topic.id} has no French title"
    for line in knowledge.crisis:
        assert "fr" in languages_of(line.reply), f"crisis line {line.id} has no French reply"
        assert "fr" in languages_of(line.triggers)


def test_faqs_have_many_wordings(knowledge: KnowledgeBase) -> None:
    for faq in knowledge.faqs.values():
        assert len(all_texts(faq.questions)) >= 6, f"{faq.id} needs at least 6 questions"


def test_every_topic_has_entries(knowledge: KnowledgeBase) -> None:
    for topic in knowledge.topics:
        assert knowledge.entries_in_topic(topic), f"topic {topic} has no entries"


def test_someone_to_point_to_when_the_bot_does_not_know(knowledge: KnowledgeBase) -> None:
    helpers = [s for s in knowledge.services.values() if s.offer_when_unanswered]
    assert 1 <= len(helpers) <= 3
