"""Opening the resources a running bot needs: the database and the user-id hasher."""

from __future__ import annotations

from bot.config import Settings
from bot.privacy import ChatTokens, UserHasher, load_or_create_secret
from bot.storage import Storage


async def open_storage(settings: Settings) -> Storage:
    """Open the configured question log."""
    return await Storage.open(settings.db_path)


def secret_of(settings: Settings) -> bytes:
    """The configured secret, or one generated once and kept beside the database."""
    if settings.hash_secret:
        return settings.hash_secret.encode()
    return load_or_create_secret(settings.secret_path)


def make_hasher(settings: Settings) -> UserHasher:
    """The keyed hasher for user ids."""
    return UserHasher(secret_of(settings))


def make_chat_tokens(settings: Settings) -> ChatTokens:
    """The sealer for chat ids of users who asked for a follow-up."""
    return ChatTokens(secret_of(settings))
