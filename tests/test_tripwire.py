"""The safety tripwire fires on danger phrases (with typos), not on ordinary questions."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.knowledge.loader import load_knowledge
from bot.matching.safety import Tripwire


@pytest.fixture
def tripwire(small_kb: Path) -> Tripwire:
    return Tripwire(load_knowledge(small_kb).crisis)


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
def test_fires(tripwire: Tripwire, text: str) -> None:
    line = tripwire.check(text)
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
def test_does_not_fire(tripwire: Tripwire, text: str) -> None:
    assert tripwire.check(text) is None


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
    line = Tripwire(kb.crisis).check("I have nowhere to sleep and I want to die")
    assert line is not None
    assert line.id == "selfharm"
