"""Inline keyboards and their callback data.

Callback data carries everything a button needs (ids are short, see EntryId), so buttons keep
working after a restart: there is no table in memory to lose. Format: `kind:arg:arg:sig`, where
the kind is a `bot.replies.screens.Action` value and each kind has its own handler, routed by
`CallbackQueryHandler(pattern=pattern(kind))`.

Telegram sends back whatever data a client claims, so the data is signed: `sig` is an HMAC over
the kind, the arguments and the id of the user the button was made for, keyed by the bot's
secret. A press by anyone else, or with data the bot never made, fails the check.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from base64 import urlsafe_b64encode
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.replies.screens import Action, Screen

MAX_CALLBACK_BYTES = 64
# 8 base64 characters = 48 bits: guessing one takes ~1.4e14 presses through Telegram on average,
# and leaves room for a 40-character entry id and a 9-digit question id in 64 bytes.
SIGNATURE_CHARS = 8
MAX_UNSIGNED_BYTES = MAX_CALLBACK_BYTES - 1 - SIGNATURE_CHARS


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
    """Callback data for a button; ValueError if, once signed, it would not fit in 64 bytes."""
    data = ":".join([kind, *(str(a) for a in args)])
    if len(data.encode()) > MAX_UNSIGNED_BYTES:
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


class ButtonSigner:
    """Signs callback data for one user and checks it when a button is pressed."""

    def __init__(self, secret: bytes) -> None:
        # A key of its own, so a signature never equals a user hash made with the same secret.
        self._key = hashlib.sha256(b"welcome-bot buttons:" + secret).digest()

    def _signature(self, data: str, user_id: int) -> str:
        message = f"{user_id}\n{data}".encode("utf-8", "surrogatepass")
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return urlsafe_b64encode(digest).decode("ascii")[:SIGNATURE_CHARS]

    def sign(self, data: str, user_id: int) -> str:
        """The data with the signature for this user appended."""
        return f"{data}:{self._signature(data, user_id)}"

    def verify(self, data: str | None, user_id: int) -> Callback | None:
        """The decoded press, or None when the data was not made for this user by this bot."""
        if not data or len(data.encode("utf-8", "surrogatepass")) > MAX_CALLBACK_BYTES:
            return None
        body, _, signature = data.rpartition(":")
        if not body or not hmac.compare_digest(
            signature.encode("utf-8", "surrogatepass"),
            self._signature(body, user_id).encode("ascii"),
        ):
            return None
        return decode(body)

    def keyboard(self, keyboard: InlineKeyboardMarkup, user_id: int) -> InlineKeyboardMarkup:
        """A copy of a keyboard with every callback button signed for this user.

        Buttons already signed for them (a keyboard taken from a message and sent again)
        are kept as they are.
        """
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(b.text, callback_data=self.sign(b.callback_data, user_id))
                    if isinstance(b.callback_data, str)
                    and self.verify(b.callback_data, user_id) is None
                    else b
                    for b in row
                ]
                for row in keyboard.inline_keyboard
            ]
        )
