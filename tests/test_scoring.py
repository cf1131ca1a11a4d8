"""The retrieval engine on its own: ranking, evidence, calibration, odd knowledge bases."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import pytest

from bot.matching import engine as scoring
from bot.matching import thresholds
from bot.matching.engine import Document, Index
from bot.text import Synonyms, prepare

DOCS = [
    Document(
        "health-card",
        (
            "how do I get a health card",
            "how to apply for OHIP",
            "where do i apply for an ontario health card",
            "health card for my kids",
        ),
        ("ohip", "health card"),
    ),
    Document(
        "sin",
        (
            "how do I get a social insurance number",
            "where to apply for a SIN",
            "I need a SIN to work",
        ),
    ),
    Document(
        "bus-fares",
        ("how much is the bus fare", "bus ticket price", "monthly bus pass cost"),
    ),
    Document(
        "library",
        ("how do I get a library card", "join the public library", "library opening hours"),
    ),
    Document(
        "english-classes",
        ("free english classes", "where can I learn english", "LINC classes near me"),
    ),
]
SYNONYMS = Synonyms([["ohip", "health card", "carte sante"], ["sin", "social insurance number"]])


@pytest.fixture(scope="module")
def index() -> Index:
    return Index.build(DOCS, partial(prepare, synonyms=SYNONYMS))


def test_paraphrase_ranks_the_right_entry_first(index: Index) -> None:
    hits = index.search("what does a monthly pass for the bus cost")
    assert hits[0].entry_id == "bus-fares"
    assert hits[0].score > hits[1].score


def test_typos_still_find_the_entry(index: Index) -> None:
    assert index.search("libary oppening hours")[0].entry_id == "library"
    assert index.search("englsh clases")[0].entry_id == "english-classes"


def test_synonyms_count_as_the_same_term(index: Index) -> None:
    # "carte santé" shares no word with any stored question; only the synonym links it.
    hits = index.search("carte santé")
    assert hits[0].entry_id == "health-card"
    plain = Index.build(DOCS, prepare).search("carte santé")
    assert not plain or plain[0].entry_id != "health-card" or plain[0].score < hits[0].score


def test_scores_are_ordered_bounded_and_one_hit_per_entry(index: Index) -> None:
    hits = index.search("how do I apply", limit=10)
    assert len(hits) == len(DOCS)
    assert len({h.entry_id for h in hits}) == len(hits)
    assert all(0 < h.score < 100 for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert len(index.search("how do I apply", limit=2)) == 2
    assert index.search("how do I apply", limit=0) == []


def test_clear_match_scores_above_an_unrelated_question(index: Index) -> None:
    clear = index.search("how much is the bus fare")[0]
    unrelated = index.search("what is the capital of australia")
    assert clear.entry_id == "bus-fares"
    assert clear.score >= thresholds.DEFAULT_ANSWER_THRESHOLD
    assert not unrelated or unrelated[0].score < thresholds.DEFAULT_ANSWER_THRESHOLD


def test_the_topic_word_counts_more_than_the_template(index: Index) -> None:
    # "how do I get a ... card" is shared with two entries; the topic word is what matters.
    right = index.search("how can I get a card for the library")[0]
    template = index.search("how can I get a card for the gym")[0]
    assert right.entry_id == "library"
    assert right.score > template.score + 10


def test_evidence_explains_the_hit(index: Index) -> None:
    hit = index.search("ticket price for the bus")[0]
    assert hit.entry_id == "bus-fares"
    assert hit.evidence.matched_question == "bus ticket price"
    assert {"bus", "ticket"} <= set(hit.evidence.shared_terms)
    assert "the" not in hit.evidence.shared_terms  # function words never "count"
    assert set(hit.evidence.components) == {"model", "question"}
    assert all(0 <= v <= 100 for v in hit.evidence.components.values())


def test_keywords_are_searched_but_not_shown_as_the_question(index: Index) -> None:
    hit = index.search("ohip")[0]
    assert hit.entry_id == "health-card"
    assert hit.evidence.matched_question in DOCS[0].questions


def test_empty_and_odd_queries() -> None:
    index = Index.build(DOCS, prepare)
    for text in ("", "   ", "???", "😀", "!!! ..."):
        assert index.search(text) == []
    gibberish = index.search("zzzzqqqq xxyyzz")
    assert not gibberish or gibberish[0].score < thresholds.DEFAULT_ANSWER_THRESHOLD
    long = index.search("bus " * 2000)
    assert long[0].entry_id == "bus-fares"


def test_one_entry_with_one_question() -> None:
    index = Index.build([Document("only", ("where is the welcome centre",))], prepare)
    assert len(index) == 1
    (hit,) = index.search("welcome centre location")
    assert hit.entry_id == "only"
    assert hit.evidence.matched_question == "where is the welcome centre"
    # With nothing to compare against, the similarity alone must still separate.
    unrelated = index.search("price of bananas")
    assert not unrelated or unrelated[0].score < hit.score
    assert index.search("where is the welcome centre")[0].score > 90


def test_small_and_degenerate_knowledge_bases() -> None:
    assert len(Index.build([], prepare)) == 0
    assert Index.build([], prepare).search("hello") == []
    assert Index.build([Document("x", ("???",))], prepare).search("hello") == []
    # An entry with no usable text sits beside working ones without breaking them.
    mixed = Index.build([Document("empty", ()), *DOCS[:2]], prepare)
    assert len(mixed) == 3
    assert mixed.search("social insurance number")[0].entry_id == "sin"
    assert "empty" not in {h.entry_id for h in mixed.search("how do I get", limit=10)}
    # Two entries with the same question: both are offered, neither wins by much.
    twins = Index.build([Document("a", ("bus fare",)), Document("b", ("bus fare",))], prepare)
    first, second = twins.search("bus fare")
    assert abs(first.score - second.score) < 1


def test_deterministic() -> None:
    first = Index.build(DOCS, prepare)
    second = Index.build(list(DOCS), prepare)
    for text in ("how do I get a health card", "bus", "english"):
        assert first.search(text) == second.search(text)


def test_cache_round_trip(tmp_path: Path) -> None:
    fresh = Index.build(DOCS, prepare, tmp_path)
    (saved,) = tmp_path.glob("model-*.npz")
    cached = Index.build(DOCS, prepare, tmp_path)
    assert cached.search("library card") == fresh.search("library card")
    # A changed knowledge base is learned again, not served from the old file.
    Index.build([*DOCS, Document("new", ("new question",))], prepare, tmp_path)
    assert len(list(tmp_path.glob("model-*.npz"))) == 2
    # A damaged cache file is ignored.
    saved.write_bytes(b"not a model")
    assert Index.build(DOCS, prepare, tmp_path).search("library card") == fresh.search(
        "library card"
    )


def test_calibration_is_learned_on_a_larger_knowledge_base() -> None:
    docs = [
        Document(f"topic-{i}", tuple(f"question {w} number {k}" for k in range(5)))
        for i, w in enumerate("alpha beta gamma delta epsilon zeta eta theta".split())
    ]
    index = Index.build(docs, prepare)
    assert index.calibration != scoring.PRIOR_CALIBRATION
    bias, w_prob, w_sim, w_meaning = index.calibration
    assert w_meaning == scoring.MEANING_WEIGHT  # fixed, not learned (see _fit_calibration)
    assert w_prob > 0 and w_sim > 0 and abs(bias) < 20  # a sane fit, not a runaway one
    exact = index.search("question gamma number 3")[0]
    assert exact.entry_id == "topic-2" and exact.score > 50
    assert index.search("gamma question")[0].entry_id == "topic-2"


def test_calibration_fit_does_not_run_away() -> None:
    # Overlapping classes with few confident positives: plain Newton steps from the prior
    # overshoot here; the fit must still land on finite, positive weights.
    rng = np.random.default_rng(0)
    n = 600
    log_prob = np.concatenate([rng.uniform(-3.5, 0, n), rng.uniform(-4.3, 0, n)])
    similarity = np.concatenate([rng.uniform(0.3, 1, n), rng.uniform(0, 0.9, n)])
    target = np.concatenate([(rng.uniform(size=n) < 0.5).astype(float), np.zeros(n)])
    weight = np.concatenate([np.ones(n), np.full(n, 0.25)])
    meaning = np.zeros(2 * n)
    bias, w_prob, w_sim, _ = scoring._fit_calibration(
        np.column_stack([log_prob, similarity]), meaning, target, weight
    )
    assert all(np.isfinite([bias, w_prob, w_sim]))
    assert abs(bias) < 10 and abs(w_prob) < 10 and 0 < w_sim < 20
