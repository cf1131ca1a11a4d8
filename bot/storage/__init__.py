"""Storage: all of the project's SQL. The rest of the bot uses `Storage` and these records."""

from bot.storage.partners import Confirmation, Invite, Partner, Redeemed
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
from bot.storage.triage import NeedAction, Prompt

__all__ = [
    "Confirmation",
    "Erased",
    "FollowUp",
    "Invite",
    "LoggedQuestion",
    "NeedAction",
    "Partner",
    "Prompt",
    "Redeemed",
    "Storage",
    "StorageError",
    "Usage",
    "from_iso",
    "iso",
    "utc_now",
]
