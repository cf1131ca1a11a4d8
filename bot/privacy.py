"""Privacy: keyed hashing of user ids and redaction of personal numbers from logged text."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from base64 import urlsafe_b64encode
from pathlib import Path
from typing import ClassVar

from cryptography.fernet import Fernet, InvalidToken

from bot.errors import UserError

# Every pattern starts only where a word starts (the look-behinds), so each character is
# looked at a bounded number of times: redaction runs in linear time (100 KB took 18 s when
# the email pattern could start inside every run of letters).
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Between digit groups: a space or two, or a dash, dot or slash with up to two spaces around
# it ("905 - 555 - 0145", "905/555/0146").
_SEP = r"(?:[ \t]{0,2}[-./][ \t]{0,2}|[ \t]{1,2})"
# Phone numbers: optional +1, area code, then 3 + 4 digits with any common separators.
_PHONE = re.compile(
    rf"(?<![\w/])(?:\+?1{_SEP}?)?\(?\d{{3}}\)?{_SEP}?\d{{3}}{_SEP}?\d{{4}}(?![\w/])"
)
# Health card (10 digits + version letters), SIN (9), UCI (8 or 10), card and account numbers:
# any run of 6+ digits, allowing separators between digit groups.
_LONG_NUMBER = re.compile(rf"(?<![\w/])\d(?:{_SEP}?\d){{5,}}(?:{_SEP}?[A-Za-z]{{2}}(?!\w))?")
# Numbers said in words, digit by digit, in English or French ("nine zero five five five ..."),
# possibly mixed with digits: six or more in a row.
_DIGIT_WORD = (
    r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine"
    r"|z[eé]ro|un|deux|trois|quatre|cinq|sept|huit|neuf)(?![^\W\d_])"
)
_WORD_NUMBER = re.compile(
    rf"(?<!\w)(?:{_DIGIT_WORD}|\d)(?:[\s,./-]{{1,3}}(?:{_DIGIT_WORD}|\d)){{5,}}(?!\w)",
    re.IGNORECASE,
)
_POSTAL_CODE = re.compile(r"(?<!\w)[A-Za-z]\d[A-Za-z][\s-]?\d[A-Za-z]\d(?!\w)")


def redact(text: str) -> str:
    """Replace emails, phone numbers, long digit runs (health card, SIN, UCI), numbers spelled
    out digit by digit, and postal codes with tags."""
    text = _EMAIL.sub("[email]", text)
    text = _PHONE.sub("[phone]", text)
    text = _LONG_NUMBER.sub("[number]", text)
    text = _WORD_NUMBER.sub("[number]", text)
    return _POSTAL_CODE.sub("[postal code]", text)


# The hashing secret's shortest usable length, in bytes (128 bits).
MIN_SECRET_BYTES = 16


class SecretError(UserError, ValueError):
    """The secret cannot be used; the message says which file and why, in one line."""

    label: ClassVar[str] = "secret error"


class UserHasher:
    """Turns a platform user id into a keyed hash, so raw ids are never stored."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise SecretError(f"the hashing secret must be at least {MIN_SECRET_BYTES} bytes")
        self._secret = secret

    def __call__(self, platform: str, user_id: int | str) -> str:
        message = f"{platform}:{user_id}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:32]


def _read_secret(path: Path) -> bytes:
    advice = "restore it from a backup (a new secret would orphan every stored hash)"
    try:
        value = path.read_text(encoding="ascii").strip()
    except UnicodeDecodeError:
        raise SecretError(f"the secret file {path} is not plain text: {advice}") from None
    except OSError as exc:
        raise SecretError(
            f"cannot read the secret file {path} ({exc.strerror}): {advice}"
        ) from None
    if not value:
        raise SecretError(f"the secret file {path} is empty: {advice}")
    if len(value) < MIN_SECRET_BYTES:
        raise SecretError(
            f"the secret file {path} is too short ({len(value)} characters, at least"
            f" {MIN_SECRET_BYTES}): {advice}"
        )
    return value.encode()


def load_or_create_secret(path: Path) -> bytes:
    """Read the hashing secret kept beside the database, creating it (mode 600) the first time.

    A file that exists but cannot be used raises SecretError: replacing it silently would make
    every stored user hash and sealed chat id unusable.
    """
    if path.exists() or path.is_symlink():
        return _read_secret(path)
    value = secrets.token_hex(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: if two processes race, the loser reads the winner's secret instead.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_secret(path)
    except OSError as exc:
        raise SecretError(f"cannot create the secret file {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(value + "\n")
    return value.encode()


class Sealer:
    """Encrypts text kept only for a while (updates waiting in the inbox) with the bot's secret."""

    def __init__(self, secret: bytes) -> None:
        key = hashlib.sha256(b"welcome-bot inbox:" + secret).digest()
        self._fernet = Fernet(urlsafe_b64encode(key))

    def seal(self, text: str) -> str:
        """Opaque text only this secret opens."""
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def open(self, token: str) -> str | None:
        """The sealed text, or None when it was sealed with another secret or is damaged."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError):
            return None


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
