"""`validate` keeps parsed files and near-duplicate results by content: same answers, faster."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.knowledge import memo as memo_module
from bot.knowledge.memo import Memo

MakeKb = Callable[[dict[str, str]], Path]

KB = {
    "a.yaml": """
topics:
  - {id: health, title: Health}
faqs:
  - id: card
    topic: health
    questions: [how do I get a health card, ohip application]
    answer: Apply at ServiceOntario.
  - id: card-again
    topic: health
    questions: {en: [how do i get a health-card?], fr: [carte santé]}
    answer: Same thing.
""",
}


def test_memo_round_trip_and_damage(tmp_path: Path) -> None:
    memo = Memo(tmp_path / "cache")
    assert memo.get("yaml", "text") is None
    value = ({"faqs": [{"id": "a"}]}, {("faqs", 0): (1, 2)}, ["3:id"])
    memo.put("yaml", "text", value)
    assert memo.get("yaml", "text") == value
    assert memo.get("yaml", "other text") is None  # keyed by the exact input
    assert memo.get("duplicates", "text") is None  # and by the kind of work
    (entry,) = (tmp_path / "cache").iterdir()
    assert entry.stat().st_mode & 0o777 == 0o600
    entry.write_bytes(b"\x00garbage")
    assert memo.get("yaml", "text") is None  # damaged: computed again, never an error


def test_a_folder_that_cannot_be_written_keeps_nothing(tmp_path: Path) -> None:
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    memo = Memo(blocked / "cache")
    memo.put("yaml", "text", [1, 2])  # no exception
    assert memo.get("yaml", "text") is None
    Memo(None).put("yaml", "text", [1])


def test_prune_keeps_the_newest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memo_module, "MAX_ENTRIES", 3)
    memo = Memo(tmp_path)
    for number in range(6):
        memo.put("yaml", str(number), number)
        os.utime(next(p for p in tmp_path.iterdir() if p.stat().st_mtime_ns > 0), None)
    memo.prune()
    assert len(list(tmp_path.iterdir())) == 3


def test_validate_says_the_same_from_the_memo_and_sees_every_edit(
    make_kb: MakeKb, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kb = make_kb(KB)
    data = ["--data-dir", str(tmp_path / "data")]
    assert main(["validate", str(kb), *data]) == 0
    first = capsys.readouterr().out
    assert "almost the same" in first
    assert any((tmp_path / "data" / "validate-cache").iterdir())
    assert main(["validate", str(kb), *data]) == 0
    assert capsys.readouterr().out == first  # from the memo: word for word the same
    # An edit is always seen: a broken file, then a wording no longer duplicated.
    (kb / "a.yaml").write_text(
        KB["a.yaml"].replace(
            "topic: health\n    questions: [how", "topic: nope\n    questions: [how"
        )
    )
    assert main(["validate", str(kb), *data]) == 1
    assert "nope" in capsys.readouterr().out
    (kb / "a.yaml").write_text(KB["a.yaml"].replace("how do i get a health-card?", "my card"))
    assert main(["validate", str(kb), *data]) == 0
    assert "almost the same" not in capsys.readouterr().out
