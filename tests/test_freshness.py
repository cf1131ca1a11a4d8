"""Freshness: per owner, what to re-verify; and answers that ask users to confirm."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.knowledge import freshness
from bot.knowledge.loader import load_knowledge
from bot.replies.cards import CardOptions, Cards
from bot.replies.messages import Catalogue

MakeKb = Callable[[dict[str, str]], Path]
KB = {
    "a.yaml": """
services:
  - {id: old, name: Old clinic, owner: Clinic Inc, source: "https://example.org/a",
     last_verified: 2024-05-01}
  - {id: fresh, name: New clinic, owner: Clinic Inc, last_verified: 2026-11-01}
  - {id: doubtful, name: Maybe clinic, owner: Region, unverified: true, last_verified: 2026-11-01}
faqs:
  - {id: never, questions: [q], answer: a, services: [old, fresh, doubtful]}
"""
}


def test_due_lists_by_owner(make_kb: MakeKb) -> None:
    knowledge = load_knowledge(make_kb(KB))
    due = freshness.due(knowledge, date(2026, 11, 24))
    assert [(d.owner, d.entry_id) for d in due] == [
        ("(no owner)", "never"),
        ("Clinic Inc", "old"),
        ("Region", "doubtful"),
    ]
    assert due[1].reason == "last verified 937 days ago"
    assert due[1].source == "https://example.org/a"
    assert due[2].reason == "flagged unverified"
    csv_text = freshness.as_csv(due)
    assert csv_text.splitlines()[0] == (
        "owner,entry_id,kind,file,last_verified,reason,source,confirmed_by,confirmed_on"
    )
    assert "Clinic Inc,old,service,kb/a.yaml:2:5,2024-05-01" in csv_text
    assert len(freshness.due(knowledge, date(2026, 11, 24), older_than_days=10_000)) == 2


def test_freshness_command(make_kb: MakeKb, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["freshness", "--kb", str(make_kb(KB))]) == 0
    out = capsys.readouterr().out
    assert "Clinic Inc (1 to re-verify)" in out
    assert main(["freshness", "--kb", str(make_kb(KB)), "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("owner,entry_id")


def test_answers_ask_to_confirm_stale_or_unverified(make_kb: MakeKb) -> None:
    knowledge = load_knowledge(make_kb(KB))
    cards = Cards(
        knowledge, Catalogue.load(), CardOptions(stale_after_days=365), today=date(2026, 11, 24)
    )
    confirm = "Please confirm these details with the provider"
    assert confirm in cards.entry("old", "en")
    assert confirm in cards.entry("doubtful", "en")
    assert confirm not in cards.entry("fresh", "en")
    lenient = Cards(
        knowledge, Catalogue.load(), CardOptions(stale_after_days=5000), today=date(2026, 11, 24)
    )
    assert confirm not in lenient.entry("old", "en")
