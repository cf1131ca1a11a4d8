"""The model cache keeps the current model and the one before it, whatever the edits."""

from __future__ import annotations

from pathlib import Path

from bot.matching.cache import KEEP, ModelCache
from bot.matching.engine import Document, Index
from bot.text import prepare

BASE = [
    Document("health-card", ("how do I get a health card", "apply for OHIP")),
    Document("bus-fares", ("how much is the bus", "bus fare for children")),
    Document("food-bank", ("where is the food bank", "free food near me")),
]


def edited(version: int) -> list[Document]:
    """The base documents after `version` accepted edits (one more wording each time)."""
    extra = tuple(f"bus question number {n}" for n in range(version))
    return [BASE[0], Document("bus-fares", BASE[1].questions + extra), BASE[2]]


def test_twenty_edits_leave_at_most_two_models(tmp_path: Path) -> None:
    for version in range(20):
        Index.build(edited(version), prepare, tmp_path)
        assert len(ModelCache(tmp_path).models()) <= KEEP
    kept = ModelCache(tmp_path).models()
    assert len(kept) == KEEP
    newest = Index(prepare).read(edited(19))
    before = Index(prepare).read(edited(18))
    assert [p.name for p in kept] == [f"model-{newest.key}.npz", f"model-{before.key}.npz"]


def test_the_previous_model_loads_without_learning(tmp_path: Path) -> None:
    Index.build(edited(0), prepare, tmp_path)
    Index.build(edited(1), prepare, tmp_path)
    rollback = Index(prepare).read(edited(0))
    assert rollback.load(ModelCache(tmp_path).path(rollback.key))
    assert rollback.search("health card")[0].entry_id == "health-card"


def test_learn_is_pure_and_save_load_round_trips(tmp_path: Path) -> None:
    learned = Index(prepare).learn(BASE)
    assert list(tmp_path.iterdir()) == []  # learning touched no file
    path = tmp_path / "model.npz"
    learned.save(path)
    loaded = Index(prepare).read(BASE)
    assert loaded.load(path)
    question = "how much does the bus cost"
    assert [h.entry_id for h in loaded.search(question)] == [
        h.entry_id for h in learned.search(question)
    ]
    assert loaded.calibration == learned.calibration
    other = Index(prepare).read(edited(3))
    assert not other.load(path)  # a model for other documents is refused
