"""Closeness in meaning: the bundled embeddings, and how the engine uses them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bot.matching import engine as scoring
from bot.matching.engine import Document, Index
from bot.matching.meaning import Vectors, default_embedder
from bot.text import prepare


def test_the_bundled_model_loads_without_internet_and_knows_paraphrases() -> None:
    embed = default_embedder()
    assert embed is not None
    vectors = embed(
        [
            "what is the minimum wage in ontario",
            "the lowest hourly pay an employer may give",
            "how much is a bus ticket",
        ]
    )
    assert vectors.shape == (3, 256)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    wage, pay, bus = vectors
    assert float(wage @ pay) > float(wage @ bus) + 0.1
    assert embed([]).shape == (0, 256)


IDEAS = ("wage", "bus", "library")
SAME = {"pay": "wage", "salary": "wage", "transit": "bus", "books": "library"}


class KeywordMeaning:
    """A stand-in embedder: texts mentioning the same idea get the same vector."""

    def __call__(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), len(IDEAS) + 1), dtype=np.float32)
        for row, text in enumerate(texts):
            words = {SAME.get(w, w) for w in text.lower().split()}
            hits = [i for i, idea in enumerate(IDEAS) if idea in words]
            out[row, hits or [len(IDEAS)]] = 1.0
        return out / np.linalg.norm(out, axis=1, keepdims=True)


DOCS = [
    Document("minimum-wage", ("what is the minimum wage", "wage per hour in ontario")),
    Document("bus-fares", ("how much is the bus", "bus ticket price")),
    Document("library", ("get a library card", "library opening hours")),
    Document("health-card", ("how do I get a health card", "apply for OHIP")),
]


def test_an_entry_close_in_meaning_is_a_candidate_and_scores_higher() -> None:
    words = Index.build(DOCS, prepare)
    meaning = Index.build(DOCS, prepare, embedder=KeywordMeaning())
    question = "what salary must my employer give me"  # no word of the wage entry
    with_meaning = {h.entry_id: h for h in meaning.search(question, limit=2)}
    assert "minimum-wage" in with_meaning
    assert with_meaning["minimum-wage"].evidence.components["meaning"] == 100.0
    plain = {h.entry_id: h.score for h in words.search(question, limit=4)}
    assert with_meaning["minimum-wage"].score > plain.get("minimum-wage", 0.0)
    assert meaning.calibration[3] == scoring.MEANING_WEIGHT
    assert "meaning" not in words.search(question)[0].evidence.components
