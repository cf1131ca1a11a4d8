"""Warnings that keep the knowledge base healthy, and `validate` showing them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.knowledge import validation
from bot.knowledge.loader import load_knowledge

MakeKb = Callable[[dict[str, str]], Path]

KB = {
    "a.yaml": """
topics:
  - {id: health, title: Health}
  - {id: food, title: Food}
services:
  - {id: clinic, name: Clinic, topics: [health], owner: Clinic Inc, last_verified: 2024-01-02}
  - {id: lonely, name: Lonely service, topics: [health], owner: Clinic Inc}
faqs:
  - id: card
    topic: health
    questions: [how do I get a health card, ohip application]
    answer: Apply at ServiceOntario.
    services: [clinic]
    owner: Region
    last_verified: 2026-11-01
  - id: card-again
    topic: health
    questions: [how do i get a health-card?]
    answer: Same thing.
    owner: Region
    last_verified: 2026-11-01
""",
}


def test_warnings(make_kb: MakeKb) -> None:
    knowledge = load_knowledge(make_kb(KB))
    warnings = [str(w) for w in validation.check(knowledge, date(2026, 11, 24))]
    duplicate = next(w for w in warnings if "almost the same" in w)
    assert "[card]" in duplicate and "card-again" in duplicate and "similarity 100/100" in duplicate
    assert any("[lonely]" in w and "no FAQ links to this service" in w for w in warnings)
    assert any("[food]" in w and "no entries" in w for w in warnings)
    owner = next(w for w in warnings if "warning: Clinic Inc:" in w)
    assert "2 entries to re-verify" in owner and "clinic" in owner and "lonely" in owner
    assert all(w.split(":")[0] == "kb/a.yaml" or "re-verify" in w for w in warnings)


def test_different_questions_are_not_duplicates(make_kb: MakeKb) -> None:
    knowledge = load_knowledge(
        make_kb(
            {
                "a.yaml": """
faqs:
  - {id: a, questions: [how do I get a health card, "qué es el 811"], answer: x}
  - {id: b, questions: [how do I get a library card, "que es el 311"], answer: y}
"""
            }
        )
    )
    # Questions that differ only in a number ask about different lines (811 and 311).
    assert validation.near_duplicates(knowledge) == []


def test_validate_shows_warnings_and_still_passes(
    make_kb: MakeKb, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(make_kb(KB))]) == 0
    out = capsys.readouterr().out
    assert "warning: the question" in out and "OK:" in out


def test_validate_teaches_with_the_line_and_a_suggestion(
    make_kb: MakeKb, capsys: pytest.CaptureFixture[str]
) -> None:
    kb = make_kb({"s.yaml": 'services:\n  - id: x\n    name: X\n    phones: ["905 668 77l1"]\n'})
    assert main(["validate", str(kb)]) == 1
    out = capsys.readouterr().out
    assert 'kb/s.yaml:4:14: [x] The phone number "905 668 77l1" has the letter l' in out
    assert "did you mean 1?" in out
    assert '    4 |     phones: ["905 668 77l1"]' in out


def test_validate_json_for_tools(make_kb: MakeKb, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(make_kb(KB)), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["ok"] is True and document["errors"] == []
    assert any("no entries" in w["message"] for w in document["warnings"])
