"""Inline keyboards and their callback data.

Callback data carries everything a button needs (ids are short, see EntryId), so buttons keep
working after a restart: there is no table in memory to lose. Format: `kind:arg:arg`, where the
kind is a `bot.replies.screens.Action` value and each kind has its own handler, routed by
`CallbackQueryHandler(pattern=pattern(kind))`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.replies.screens import Action, Screen

MAX_CALLBACK_BYTES = 64


@dataclass(frozen=True)
class Callback:
    """A decoded button press."""

    kind: str
    args: tuple[str, ...]

    def arg(self, index: int, default: str = "") -> str:
        """One argument, or a default when missing."""
        return self.args[index] if index < len(self.args) else default

    def number(self, index: int) -> int:
        """A whole-number argument (a question id); 0 when missing or not a plain number."""
        value = self.arg(index)
        return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else 0


def encode(kind: str, *args: object) -> str:
    """Callback data for a button; ValueError if it would not fit Telegram's 64 bytes."""
    data = ":".join([kind, *(str(a) for a in args)])
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data too long: {data!r}")
    return data


def decode(data: str | None) -> Callback:
    """Split callback data back into its kind and arguments."""
    parts = (data or "").split(":")
    return Callback(parts[0], tuple(parts[1:]))


def pattern(kind: Action) -> re.Pattern[str]:
    """The callback-data pattern one handler is registered for ("e" never matches "ev:...")."""
    return re.compile(rf"^{re.escape(kind.value)}(:|$)")


def button(label: str, kind: str, *args: object) -> InlineKeyboardButton:
    """A button that calls back with `kind:args`."""
    return InlineKeyboardButton(label, callback_data=encode(kind, *args))


def rows(buttons: list[InlineKeyboardButton], per_row: int = 1) -> list[list[InlineKeyboardButton]]:
    """Lay buttons out in rows."""
    return [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]


def markup(*button_rows: list[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    """An inline keyboard from rows, skipping empty ones."""
    return InlineKeyboardMarkup([list(r) for r in button_rows if r])


def for_screen(screen: Screen) -> InlineKeyboardMarkup:
    """A screen's choices as inline buttons, row for row."""
    return markup(*([button(c.label, c.action, *c.args) for c in row] for row in screen.rows))
