"""Redaction of personal numbers and keyed hashing of user ids."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from bot.privacy import UserHasher, load_or_create_secret, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call me 905-555-1234 please", "call me [phone] please"),
        ("(905) 555 1234", "[phone]"),
        ("+1 416.555.1234", "[phone]"),
        ("write to amina.k+news@gmail.com", "write to [email]"),
        ("my health card 1234-567-890-AB expired", "my health card [number] expired"),
        ("SIN 123 456 789", "SIN [number]"),
        ("UCI 1234-5678", "UCI [number]"),
        ("I live at L1N 0B2", "I live at [postal code]"),
        ("bus 915 at 9:30 in 2026", "bus 915 at 9:30 in 2026"),
        ("how do I get a health card", "how do I get a health card"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_hash_is_keyed_stable_and_not_the_id() -> None:
    one = UserHasher(b"0" * 32)
    other = UserHasher(b"1" * 32)
    assert one("telegram", 42) == one("telegram", 42)
    assert one("telegram", 42) != other("telegram", 42)
    assert one("telegram", 42) != one("console", 42)
    assert "42" not in one("telegram", 42)
    assert len(one("telegram", 42)) == 32


def test_short_secret_refused() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        UserHasher(b"short")


def test_secret_created_once_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "data" / "db.secret"
    first = load_or_create_secret(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secret(path) == first
    assert len(first) == 64
