"""Grouping unanswered questions into needs (bot.needs.grouping): joins, stable ids, merges that
keep the older id and its triage, labels, typical wordings and the rising flag."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.knowledge.loader import load_directory
from bot.matching.meaning import default_embedder
from bot.needs.grouping import Asked, Need, assign, merge_triage, summarise
from bot.needs.groups import Vectoriser
from tests.test_knowledge_base import KNOWLEDGE

_REGION = load_directory(KNOWLEDGE / "region.yaml").knowledge
assert _REGION is not None
places_in = _REGION.region.places_in

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def asked(
    i: int, text: str, user: str | None = "u", days_ago: float = 1, lang: str = "en"
) -> Asked:
    return Asked(i, text, NOW - timedelta(days=days_ago), user, lang)


def vectoriser(texts: list[str]) -> Vectoriser:
    v = Vectoriser(default_embedder())
    v.learn(texts)
    return v


def grouped(questions: list[Asked], existing: list[Need] | None = None) -> dict[int, list[str]]:
    texts = [q.text for q in questions] + [m.text for n in existing or [] for m in n.members]
    result = assign(questions, existing or [], vectoriser(texts), 1 + len(existing or []))
    groups: dict[int, list[str]] = {}
    for q in questions:
        if q.question_id in result.memberships:
            groups.setdefault(result.memberships[q.question_id], []).append(q.text)
    return groups


def test_similar_wordings_typos_and_french_group_together() -> None:
    questions = [
        asked(1, "is there a cricket club in Ajax", "a"),
        asked(2, "cricket clubs near Whitby?", "b"),
        asked(3, "crikcet club for my son", "c"),
        asked(4, "cricket club", "d"),
        asked(5, "halal butcher in Brock", "e"),
        asked(6, "halal butchers Beaverton", "f"),
        asked(7, "où trouver des meubles usagés à Whitby", "g", lang="fr"),
        asked(8, "used furniture store in Oshawa", "h"),
    ]
    groups = sorted(sorted(g) for g in grouped(questions).values())
    assert groups == [
        ["cricket club", "cricket clubs near Whitby?", "crikcet club for my son",
         "is there a cricket club in Ajax"],
        ["halal butcher in Brock", "halal butchers Beaverton"],
        ["où trouver des meubles usagés à Whitby", "used furniture store in Oshawa"],
    ]  # fmt: skip


def test_unrelated_questions_stay_apart() -> None:
    # Known limit: "cricket club" and "chess club" still join (both games, a shared "club").
    texts = ["cricket club", "halal meat", "yoga class for women", "winter tires"]
    assert len(grouped([asked(i, t) for i, t in enumerate(texts)])) == 4


def test_new_questions_join_existing_needs_and_keep_their_id() -> None:
    existing = Need(7, frozenset({"cricket", "club"}), "cricket club", status="assigned")
    existing.members = [asked(1, "cricket club in Ajax"), asked(2, "cricket team")]
    result = assign(
        [asked(3, "any cricket clubs in oshawa?")],
        [existing],
        vectoriser(["cricket club in Ajax", "cricket team", "any cricket clubs in oshawa?"]),
        8,
    )
    assert result.memberships == {3: 7}
    assert result.created == []
    assert result.centroids[7].count == 3


def test_merge_keeps_the_older_triage_and_takes_what_it_lacks() -> None:
    kept = Need(3, frozenset(), "x")
    absorbed = Need(9, frozenset(), "y", status="assigned", note="call CDCD", assignee="DLIP")
    assert merge_triage(kept, absorbed) == {
        "status": "assigned",
        "note": "call CDCD",
        "assignee": "DLIP",
    }
    kept = Need(3, frozenset(), "x", status="not_in_scope", note="no", assignee="A")
    assert merge_triage(kept, absorbed) == {"note": "no / call CDCD"}


def test_a_regrouping_reads_stored_questions_again_and_an_emptied_need_is_handed_on() -> None:
    cricket = [
        "is there a cricket club in Ajax",
        "cricket clubs near Whitby?",
        "cricket club for my son",
        "where can adults play cricket",
    ]
    halal = ["halal butcher in Brock", "halal butchers Beaverton", "where to buy halal meat",
             "halal meat shop Oshawa"]  # fmt: skip
    # A need an early refresh made of two questions asked again, one from each other need.
    mixed = ["halal butchers Beaverton", "cricket clubs near Whitby?"]
    stored = [asked(i, t) for i, t in enumerate(cricket + halal + mixed)]
    needs = [
        Need(1, frozenset(), cricket[0], members=stored[:4]),
        Need(2, frozenset(), halal[0], members=stored[4:8]),
        Need(3, frozenset(), mixed[0], status="assigned", members=stored[8:]),
    ]
    v = vectoriser([q.text for q in stored])
    quiet = assign([], needs, v, 4)
    assert (quiet.memberships, quiet.merged) == ({}, {})  # between regroupings: nothing moves
    result = assign([], needs, v, 4, regroup=True)
    assert result.memberships == {8: 2, 9: 1}  # both left need 3 in one refinement pass...
    assert result.merged == {3: 2}  # ...so it is handed on (a tie: the first question's need)
    assert {c.need_id: c.count for c in result.centroids.values()} == {1: 5, 2: 5}


def test_summary_has_a_label_typical_wordings_and_counts_people_once() -> None:
    need = Need(1, frozenset({"cricket", "club"}), "cricket club")
    need.members = [
        asked(1, "cricket club", "same", 1),
        asked(2, "cricket club!!", "same", 1),
        asked(3, "is there a cricket club for kids", "other", 2),
        asked(4, "cricket club in Ajax", "third", 1, lang="fr"),
    ]
    summary = summarise(
        need,
        NOW - timedelta(days=7),
        NOW,
        vectoriser([m.text for m in need.members]),
        places_in=places_in,
    )
    assert summary.questions == 4
    assert summary.askers == 3
    assert summary.languages == {"en": 3, "fr": 1}
    assert summary.municipalities == {"Ajax": 1}
    assert summary.label == "cricket club"
    assert len(summary.typical) == 3
    assert summary.name == "cricket club"


def test_a_need_of_nothing_but_filler_words_is_named_by_its_wording() -> None:
    need = Need(1, frozenset(), "thank you so much")
    need.members = [asked(1, "thank you so much", "a"), asked(2, "thanks, thank you!", "b")]
    texts = [m.text for m in need.members]
    summary = summarise(need, NOW - timedelta(days=7), NOW, vectoriser(texts))
    assert summary.label == ""
    assert summary.name == summary.representative == "thank you so much"


def test_a_restored_vectoriser_reads_new_questions_as_one_that_learnt_the_whole_log() -> None:
    log = [
        "is there a cricket club in Ajax",
        "cricket clubs near Whitby?",
        "cricket club",
        "halal butcher in Brock",
        "halal butchers Beaverton",
        "where can I buy a used car",
    ]
    new = ["crikcet club for my son", "halal buthcer", "cricket bats for kids", "thank you"]
    whole = vectoriser(log + new)
    earlier = vectoriser([*log, "thank you"])
    learnt = earlier.learnt(leaving_out=["thank you"])  # a question no need took
    assert learnt.documents == len(log)
    assert learnt.counts == vectoriser(log).document_counts
    restored = Vectoriser(default_embedder())
    restored.restore(learnt)
    restored.learn(new)
    assert restored.documents == whole.documents
    assert restored.document_counts == whole.document_counts
    assert [restored.words(t) for t in new] == [whole.words(t) for t in new]
    assert restored.words("crikcet club for my son") == ["cricket", "club"]
    assert (restored.vectors(new) == whole.vectors(new)).all()


def test_a_need_rising_far_above_its_usual_rate_is_flagged() -> None:
    need = Need(1, frozenset({"yoga"}), "yoga")
    need.members = [asked(i, "yoga", f"u{i}", days_ago=1) for i in range(8)]
    need.members += [asked(100 + w, "yoga", f"old{w}", days_ago=7 * w + 3) for w in (1, 2, 3, 4)]
    summary = summarise(need, NOW - timedelta(days=7), NOW)
    assert (summary.this_week, summary.usual_week) == (8, 1.0)
    assert summary.rising and summary.trend == "rising"
    need.members = need.members[:2] + need.members[8:]
    assert not summarise(need, NOW - timedelta(days=7), NOW).rising


def test_places() -> None:
    assert places_in("halal butcher in Port Perry or Bowmanville") == ["Clarington", "Scugog"]
    assert places_in("cricket") == []
