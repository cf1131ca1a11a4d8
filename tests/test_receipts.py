"""Receipts of replies sent: written at once, read back after a crash, compacted, owner-only."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.telegram import receipts
from bot.telegram.receipts import Receipts


def test_receipts_survive_a_crash_and_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3.receipts"
    first = Receipts(path)
    assert first.open() == set()
    first.sent(7)
    first.sent(7)  # a reply in several parts: one receipt
    first.sent(9)
    # No close(): a killed process never closes; the kernel already has the lines.
    assert Receipts(path).open() == {7, 9}
    assert path.read_text() == "7\n9\n"
    assert path.stat().st_mode & 0o777 == 0o600
    first.close()


def test_settled_receipts_are_compacted_away(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(receipts, "COMPACT_AFTER", 10)
    path = tmp_path / "receipts"
    kept = Receipts(path)
    kept.open()
    for update_id in range(1, 101):
        kept.sent(update_id)
        if update_id != 50:  # the fiftieth is still in hand
            kept.settled(update_id)
    left = Receipts(path).open()
    assert 50 in left and len(left) < 10  # bounded: never the 100 lines sent
    kept.compact()
    assert Receipts(path).open() == {50}
    kept.sent(101)
    assert Receipts(path).open() == {50, 101}  # appending goes on in the new file
    kept.close()


def test_a_damaged_file_is_read_as_far_as_it_makes_sense(tmp_path: Path) -> None:
    path = tmp_path / "receipts"
    path.write_bytes(b"12\n\xff\xfe garbage\n13")  # a torn last line, stray bytes
    reader = Receipts(path)
    assert reader.open() == {12, 13}
    reader.close()


def test_a_file_that_cannot_be_opened_never_stops_the_bot(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("x")
    receipts = Receipts(blocked / "bot.sqlite3.receipts")
    assert receipts.open() == set()
    receipts.sent(5)  # nothing kept, nothing raised
    receipts.settled(5)
    receipts.compact()
    receipts.close()
    nested = Receipts(tmp_path / "new" / "folder" / "receipts")
    nested.open()  # a missing data folder is made
    nested.sent(1)
    assert Receipts(tmp_path / "new" / "folder" / "receipts").open() == {1}
    nested.close()
