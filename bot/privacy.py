"""Privacy: keyed hashing of user ids and redaction of personal numbers from logged text."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from base64 import urlsafe_b64encode
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Phone numbers: optional +1, area code, then 3 + 4 digits with any common separators.
_PHONE = re.compile(r"(?<!\w)(?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}(?!\w)")
# Health card (10 digits + version letters), SIN (9), UCI (8 or 10), card and account numbers:
# any run of 6+ digits, allowing single spaces or dashes between digit groups.
_LONG_NUMBER = re.compile(r"(?<!\w)\d(?:[\s-]?\d){5,}(?:[\s-]?[A-Za-z]{2}(?!\w))?")
_POSTAL_CODE = re.compile(r"(?<!\w)[A-Za-z]\d[A-Za-z][\s-]?\d[A-Za-z]\d(?!\w)")


def redact(text: str) -> str:
    """Replace emails, phone numbers and long digit runs (health card, SIN, UCI) with tags."""
    text = _EMAIL.sub("[email]", text)
    text = _PHONE.sub("[phone]", text)
    text = _LONG_NUMBER.sub("[number]", text)
    return _POSTAL_CODE.sub("[postal code]", text)


class UserHasher:
    """Turns a platform user id into a keyed hash, so raw ids are never stored."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the hashing secret must be at least 16 bytes")
        self._secret = secret

    def __call__(self, platform: str, user_id: int | str) -> str:
        message = f"{platform}:{user_id}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:32]


def load_or_create_secret(path: Path) -> bytes:
    """Read the hashing secret kept beside the database, creating it (mode 600) the first time."""
    if path.exists():
        value = path.read_text(encoding="ascii").strip()
        if value:
            return value.encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    # O_EXCL: if two processes race, the loser reads the winner's secret instead of replacing it.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip().encode()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(value + "\n")
    return value.encode()


class ChatTokens:
    """Encrypts a chat id for a user who asked to be told later; only the bot's secret opens it.

    A keyed hash cannot be turned back into a chat to write to, so a user who opts in to a
    follow-up has their chat id stored encrypted, and only until the message is sent or the
    user sends /forget.
    """

    def __init__(self, secret: bytes) -> None:
        key = hashlib.sha256(b"welcome-bot chat token:" + secret).digest()
        self._fernet = Fernet(urlsafe_b64encode(key))

    def seal(self, chat_id: int) -> str:
        """An opaque token for a chat id."""
        return self._fernet.encrypt(str(chat_id).encode()).decode("ascii")

    def open(self, token: str) -> int | None:
        """The chat id in a token, or None if it was made with another secret or is damaged."""
        try:
            return int(self._fernet.decrypt(token.encode("ascii")).decode())
        except (InvalidToken, ValueError):
            return None
