"""Regression guard: the labelled Durham question set keeps its measured quality.

The floors are the levels measured when the defaults were chosen (benchmarks/RESULTS.md);
`python benchmarks/durham.py` prints the same numbers with every miss.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from bot.knowledge.loader import load_directory
from bot.matching.matcher import Matcher

PROJECT = Path(__file__).resolve().parent.parent
# The shipped safety layer: lexicons and the learned model, as the bot builds it.
EXAMPLES = PROJECT / "knowledge" / "safety" / "examples.jsonl"
QUESTIONS = PROJECT / "tests" / "data" / "questions.jsonl"
ACCURACY_FLOOR = 0.8
# The right answer given, offered as a choice, or listed as "might help" (measured 96.8%).
HELPED_FLOOR = 0.92
RECALL_FLOOR = 0.92
# Misspelt questions (measured 78% with spelling repair, 43% without it).
TYPO_FLOOR = 0.7


def _durham() -> ModuleType:
    spec = importlib.util.spec_from_file_location("durham", PROJECT / "benchmarks" / "durham.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def durham() -> ModuleType:
    return _durham()


def test_question_set_shape() -> None:
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines()]
    knowledge = load_directory(PROJECT / "knowledge").knowledge
    assert knowledge is not None
    assert len(rows) >= 250
    assert sum(r["expected"] is None for r in rows) >= 60
    ids = {e.id for e in knowledge.entries()} | {c.id for c in knowledge.crisis}
    for row in rows:
        for entry in filter(None, [row["expected"], *row.get("also", [])]):
            assert entry in ids, f"{row['text']!r} expects unknown entry {entry}"
    assert {r["topic"] for r in rows if r["topic"]} >= set(knowledge.topics)
    assert any(r["lang"] == "fr" for r in rows)
    assert {"typo", "abbreviation", "french", "near_miss", "crisis"} <= {r["kind"] for r in rows}


def test_quality_stays_above_the_measured_levels(durham: ModuleType) -> None:
    knowledge = load_directory(PROJECT / "knowledge").knowledge
    assert knowledge is not None
    scores = durham.evaluate(Matcher(knowledge, safety_examples=EXAMPLES), durham.read(QUESTIONS))
    misses = "\n".join(
        f"  {q.text!r} -> {m.entry_id or m.outcome.value}" for q, m in scores.failures
    )
    assert scores.accuracy >= ACCURACY_FLOOR, misses
    assert scores.helped >= HELPED_FLOOR, misses
    assert scores.recall >= RECALL_FLOOR, misses
    assert scores.crisis == 1.0, misses
    right, asked = scores.by_kind["typo"]
    assert right / asked >= TYPO_FLOOR, misses


# A second set, written blind: by someone who saw each entry's title and a summary of its
# answer, never the stored wordings. It measures how the bot does on questions nobody tuned
# it for (long stories, informal phrasing), so never copy its wordings into the knowledge
# base. Measured: 59.7% answered right, 83.1% right answer given or offered, 95.0% of
# out-of-scope questions not answered.
BLIND = PROJECT / "tests" / "data" / "questions_blind.jsonl"


def test_blind_questions_stay_above_the_measured_levels(durham: ModuleType) -> None:
    knowledge = load_directory(PROJECT / "knowledge").knowledge
    assert knowledge is not None
    questions = durham.read(BLIND)
    assert len(questions) >= 150
    scores = durham.evaluate(Matcher(knowledge, safety_examples=EXAMPLES), questions)
    misses = "\n".join(
        f"  {q.text!r} -> {m.entry_id or m.outcome.value}" for q, m in scores.failures
    )
    assert scores.accuracy >= 0.54, misses
    assert scores.helped >= 0.76, misses
    # 90.0% measured with the shipped safety layer: the learned model's extra alarms count as
    # answers here (each shows the crisis contacts and a "not an emergency" button).
    assert scores.recall >= 0.89, misses


@pytest.fixture(scope="module")
def words() -> Matcher:
    """The shipped knowledge base on words, built once for the tests that ask it one thing."""
    knowledge = load_directory(PROJECT / "knowledge").knowledge
    assert knowledge is not None
    return Matcher(knowledge)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("can I talk to a real person?", "talk-to-a-person"),
        ("are you a robot", "talk-to-a-person"),
        ("est-ce que vous êtes un robot", "talk-to-a-person"),
        ("hablar con una persona por favor", "talk-to-a-person"),
        # Someone lonely or a teen who wants to talk is not asking about the bot.
        ("I need someone to talk to, I feel so alone", "counselling"),
        ("my teen daughter wants to talk to someone", "youth-support"),
    ],
)
def test_a_person_is_one_question_away(words: Matcher, text: str, expected: str) -> None:
    """ "Can I talk to a real person" got "I do not know" and became an emerging need; it gets
    211 and the Welcome Centres, and loneliness still gets its own answer."""
    match = words.match(text)
    assert match.entry_id == expected, match
