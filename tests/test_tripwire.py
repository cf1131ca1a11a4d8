"""The safety detector on a small knowledge base: crisis-line triggers still work alone, and
the most urgent category wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.knowledge.loader import load_knowledge
from bot.matching.safety import SafetyDetector


@pytest.fixture
def detector(small_kb: Path) -> SafetyDetector:
    kb = load_knowledge(small_kb)
    return SafetyDetector(kb.crisis, kb.safety)


@pytest.mark.parametrize(
    "text",
    [
        "I want to kill myself",
        "i want to kill myslef",  # one typo in a long word
        "thinking about SUICIDE tonight",
        "je veux me suicider",
        "J'ai envie de mourir",
    ],
)
def test_fires(detector: SafetyDetector, text: str) -> None:
    line = detector.check(text)
    assert line is not None
    assert line.category == "self_harm"


@pytest.mark.parametrize(
    "text",
    [
        "how do I get a health card",
        "I want to kill time before my appointment, any library?",
        "where to buy a suite for my interview",
        # Arabic "waiting list for a doctor": انتظار is one letter from انتحار (suicide).
        "تسجيل على قائمة انتظار طبيب",
        "",
    ],
)
def test_does_not_fire(detector: SafetyDetector, text: str) -> None:
    assert detector.check(text) is None


def test_most_urgent_category_wins(make_kb) -> None:  # type: ignore[no-untyped-def]
    kb = load_knowledge(
        make_kb(
            {
                "c.yaml": """
crisis:
  - {id: shelter, category: homeless, priority: 50, triggers: [nowhere to sleep], reply: r1}
  - {id: selfharm, category: self_harm, priority: 1, triggers: [want to die], reply: r2}
"""
            }
        )
    )
    line = SafetyDetector(kb.crisis, kb.safety).check("I have nowhere to sleep and I want to die")
    assert line is not None
    assert line.category == "self_harm"
