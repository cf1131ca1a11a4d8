"""Storage: all of the project's SQL. The rest of the bot uses `Storage` and these records."""

from bot.storage.records import (
    Erased,
    FollowUp,
    LoggedQuestion,
    StorageError,
    Usage,
    from_iso,
    iso,
    utc_now,
)
from bot.storage.store import Storage

__all__ = [
    "Erased",
    "FollowUp",
    "LoggedQuestion",
    "Storage",
    "StorageError",
    "Usage",
    "from_iso",
    "iso",
    "utc_now",
]
