"""What the storage layer stores and returns, and its one timestamp format."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar

from bot.errors import UserError

# Every timestamp is stored as UTC text in this format: it sorts as text and reads plainly.
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """A moment as stored text, in UTC."""
    return moment.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def from_iso(text: str) -> datetime:
    """Stored text back into an aware UTC moment."""
    if len(text) == 20 and text[10] == "T" and text[19] == "Z":
        # 50 times faster than strptime (0.16 against 8 us): a refresh of the needs reads
        # every grouped question's time, 100,000 of them in 0.8 s with strptime.
        return datetime.fromisoformat(text)
    return datetime.strptime(text, TIMESTAMP_FORMAT).replace(tzinfo=UTC)  # raises as it did


class StorageError(UserError):
    """The database could not be used; the message names the cause in plain words."""

    label: ClassVar[str] = "database error"


@dataclass(frozen=True)
class LoggedQuestion:
    """One question as stored: never a raw user id, and no text for crisis messages."""

    channel: str
    language: str
    outcome: str
    text: str | None
    user_hash: str | None = None
    entry_id: str | None = None
    score: float = 0.0
    crisis_category: str | None = None
    candidates: tuple[tuple[str, float], ...] = ()
    asked_at: datetime = field(default_factory=utc_now)
    id: int | None = None
    # The Telegram update it came from: a replayed update never logs its question twice.
    update_id: int | None = None
    # Unanswered and ambiguous questions: the sentence encoder's vector, when it ran
    # (bot.needs.stored), so emerging needs group by it without running the encoder again.
    vector: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Erased:
    """How many rows /forget removed, per kind."""

    questions: int
    feedback: int
    settings: int
    follow_ups: int = 0

    @property
    def total(self) -> int:
        """Everything removed."""
        return self.questions + self.feedback + self.settings + self.follow_ups


@dataclass(frozen=True)
class FollowUp:
    """A user's request to be told when their unanswered question gets an answer."""

    question_id: int
    user_hash: str
    chat_token: str
    language: str


@dataclass(frozen=True)
class Usage:
    """Counts behind the usage overview, for one period."""

    by_day: list[tuple[str, int, int]]  # day, questions, answered
    outcomes: dict[str, int]
    languages: dict[str, int]
    channels: dict[str, int]
    top_entries: list[tuple[str, int]]
    feedback: dict[str, tuple[int, int]]  # entry -> (helpful, not helpful)
    sources: dict[str, int]  # deep-link source -> users
    referrals: dict[str, int]  # partner organisation -> times its contacts were given
    crisis: dict[str, int]
    users: int
    # Crisis replies someone said were not an emergency, per category (never the text).
    false_alarms: dict[str, int] = field(default_factory=dict)
