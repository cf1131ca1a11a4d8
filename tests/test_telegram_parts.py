"""Unit tests for the Telegram adapter's pieces and for the fake server's validation."""

from __future__ import annotations

import pytest

from bot.telegram.flood import FloodGuard, Verdict
from bot.telegram.keyboards import decode, encode
from bot.telegram.split import split_html
from tests.fakebotapi import BadRequest, check_markup, utf16_length, visible_text


def test_split_keeps_short_text_whole() -> None:
    assert split_html("<b>hi</b>") == ["<b>hi</b>"]


def test_split_at_paragraphs_and_every_part_is_valid_html() -> None:
    paragraph = "<b>Service</b>\n" + "word &amp; " * 300
    text = "\n\n".join([paragraph] * 5)
    parts = split_html(text)
    assert len(parts) > 1
    assert all(len(p) <= 4096 for p in parts)
    for part in parts:
        visible_text(part, "HTML")  # raises if a tag or an entity was cut
    assert "".join(parts).count("&amp;") == text.count("&amp;")


def test_split_one_enormous_line() -> None:
    text = '<a href="https://example.org">x</a> ' + "abc " * 3000 + "&lt;" * 10
    parts = split_html(text)
    assert all(len(p) <= 4096 for p in parts)
    for part in parts:
        visible_text(part, "HTML")


def test_callback_data_round_trip_and_limit() -> None:
    data = encode("f", 1, 123, "health-card")
    assert data == "f:1:123:health-card"
    assert decode(data).args == ("1", "123", "health-card")
    assert decode(data).arg(5, "x") == "x"
    with pytest.raises(ValueError, match="too long"):
        encode("a", "x" * 70)


def test_flood_guard_warns_once_then_drops_then_recovers() -> None:
    now = [0.0]
    guard = FloodGuard(limit=3, window=10, clock=lambda: now[0])
    assert [guard.check("u") for _ in range(3)] == [Verdict.ALLOW] * 3
    assert guard.check("u") is Verdict.WARN
    assert guard.check("u") is Verdict.DROP
    assert guard.check("other") is Verdict.ALLOW
    now[0] = 11.0
    assert guard.check("u") is Verdict.ALLOW


@pytest.mark.parametrize(
    ("text", "visible"),
    [
        ("<b>bold</b> &amp; <i>it</i>", "bold & it"),
        ('<a href="https://x.ca">link</a>', "link"),
        ('<span class="tg-spoiler">s</span> &lt;3', "s <3"),
        ('<pre><code class="language-python">x</code></pre>', "x"),
    ],
)
def test_fake_accepts_telegram_html(text: str, visible: str) -> None:
    assert visible_text(text, "HTML") == visible


@pytest.mark.parametrize(
    "text",
    [
        "<b>open",
        "</b>",
        "<b><i>x</b></i>",
        "<script>x</script>",
        "a < b",
        "fish & chips",
        "&nbsp;",
        "<a>no href</a>",
        '<b class="x">y</b>',
    ],
)
def test_fake_refuses_bad_html(text: str) -> None:
    with pytest.raises(BadRequest, match="can't parse entities"):
        visible_text(text, "HTML")


def test_fake_counts_utf16_and_checks_buttons() -> None:
    assert utf16_length("😀") == 2
    check_markup({"inline_keyboard": [[{"text": "ok", "callback_data": "x" * 64}]]})
    with pytest.raises(BadRequest, match="BUTTON_DATA_INVALID"):
        check_markup({"inline_keyboard": [[{"text": "no", "callback_data": "é" * 33}]]})
    with pytest.raises(BadRequest):
        check_markup({"inline_keyboard": [[{"text": "two", "callback_data": "x", "url": "u"}]]})
