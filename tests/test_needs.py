"""Grouping unanswered questions into needs: pure, deterministic, not fooled by repeats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.knowledge.loader import load_directory
from bot.needs.grouping import Asked, Need, Signatures, assign, similar, summarise
from tests.test_knowledge_base import KNOWLEDGE

_REGION = load_directory(KNOWLEDGE / "region.yaml").knowledge
assert _REGION is not None
REGION = _REGION.region
places_in = REGION.places_in


def _signatures() -> Signatures:
    return Signatures(place_words=REGION.place_words)


NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def asked(
    i: int, text: str, user: str | None = "u", days_ago: float = 1, lang: str = "en"
) -> Asked:
    return Asked(i, text, NOW - timedelta(days=days_ago), user, lang)


def grouped(questions: list[Asked], existing: list[Need] | None = None) -> dict[int, list[str]]:
    result = assign(
        questions,
        existing or [],
        _signatures(),
        next_id=1 + len(existing or []),
    )
    groups: dict[int, list[str]] = {}
    for q in questions:
        if q.question_id in result.memberships:
            groups.setdefault(result.memberships[q.question_id], []).append(q.text)
    return groups


def test_similar_wordings_and_typos_group_together() -> None:
    questions = [
        asked(1, "is there a cricket club in Ajax", "a"),
        asked(2, "cricket clubs near Whitby?", "b"),
        asked(3, "crikcet club for my son", "c"),
        asked(4, "cricket club", "d"),
        asked(5, "halal butcher in Brock", "e"),
        asked(6, "halal butchers Beaverton", "f"),
        asked(7, "driving test in Punjabi", "g"),
        asked(8, "can I take the driving test in punjabi language", "h"),
    ]
    groups = sorted(grouped(questions).values())
    assert groups == [
        ["driving test in Punjabi", "can I take the driving test in punjabi language"],
        ["halal butcher in Brock", "halal butchers Beaverton"],
        [
            "is there a cricket club in Ajax",
            "cricket clubs near Whitby?",
            "crikcet club for my son",
            "cricket club",
        ],
    ]


def test_unrelated_questions_stay_apart() -> None:
    questions = [asked(1, "cricket club"), asked(2, "chess club"), asked(3, "cricket bat shop")]
    assert len(grouped(questions)) == 3


def test_filler_only_questions_are_not_needs() -> None:
    assert grouped([asked(1, "hello?"), asked(2, "can you help me please")]) == {}


def test_grouping_is_deterministic_whatever_the_order() -> None:
    texts = ["cricket club", "cricket club ajax", "halal meat", "halal meat shop", "yoga class"]
    forward = grouped([asked(i, t) for i, t in enumerate(texts)])
    backward = grouped([asked(i, t) for i, t in reversed(list(enumerate(texts)))])
    assert sorted(map(sorted, forward.values())) == sorted(map(sorted, backward.values()))


def test_new_questions_join_existing_needs_and_keep_their_id() -> None:
    existing = Need(7, frozenset({"cricket", "club"}), "cricket club", status="assigned")
    result = assign(
        [asked(1, "any cricket clubs in oshawa?")],
        [existing],
        _signatures(),
        8,
    )
    assert result.memberships == {1: 7}
    assert result.created == []


def test_repeats_by_one_person_count_once() -> None:
    need = Need(1, frozenset({"cricket", "club"}), "cricket club")
    need.members = [
        asked(1, "cricket club", "same", 1),
        asked(2, "cricket club!!", "same", 1),
        asked(3, "cricket club", "same", 2),
        asked(4, "cricket club in Ajax", "other", 1, lang="fr"),
    ]
    summary = summarise(need, NOW - timedelta(days=7), NOW, places_in)
    assert summary.questions == 4
    assert summary.askers == 2
    assert summary.languages == {"en": 3, "fr": 1}
    assert summary.municipalities == {"Ajax": 1}
    assert summary.representative == "cricket club"


def test_trend_compares_with_the_period_before() -> None:
    need = Need(1, frozenset({"yoga"}), "yoga")
    need.members = [asked(i, "yoga", f"u{i}", days_ago=1) for i in range(5)]
    need.members += [asked(10, "yoga", "old", days_ago=10)]
    summary = summarise(need, NOW - timedelta(days=7), NOW, places_in)
    assert (summary.in_period, summary.previous, summary.trend) == (5, 1, "up")
    assert summary.first_seen == NOW - timedelta(days=10)


def test_places() -> None:
    assert places_in("halal butcher in Port Perry or Bowmanville") == ["Clarington", "Scugog"]
    assert places_in("cricket") == []


def test_similarity_needs_real_overlap() -> None:
    assert similar(frozenset({"cricket", "club"}), frozenset({"chess", "club"})) == 0
    assert similar(frozenset({"cricket", "club"}), frozenset({"cricket", "club", "kid"})) > 0
