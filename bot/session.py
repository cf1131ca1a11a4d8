"""Opening the resources a running bot needs: the database and the user-id hasher."""

from __future__ import annotations

from bot.config import Settings
from bot.privacy import UserHasher, load_or_create_secret
from bot.storage import Storage


async def open_storage(settings: Settings) -> Storage:
    """Open the configured question log."""
    return await Storage.open(settings.db_path)


def make_hasher(settings: Settings) -> UserHasher:
    """The keyed hasher: the configured secret, or one generated and kept beside the database."""
    if settings.hash_secret:
        return UserHasher(settings.hash_secret.encode())
    return UserHasher(load_or_create_secret(settings.secret_path))
