"""When the weekly digest and the partner nudges are due, in the region's time zone. Pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config import WEEKDAYS

# A digest missed while the bot was down is still sent if it comes back within this long;
# later than that, the next week's digest is the useful one.
DIGEST_GRACE = timedelta(hours=12)
# Partners are written to on weekdays in office hours only (9:00 to 17:00 local time).
OFFICE_HOURS = range(9, 17)


def weekday_number(name: str) -> int:
    """0 for Monday ... 6 for Sunday; ValueError for anything else."""
    try:
        return WEEKDAYS.index(name.strip().lower())
    except ValueError:
        raise ValueError(f"{name!r} is not a day of the week") from None


def last_slot(now: datetime, weekday: int, hour: int, zone: ZoneInfo) -> datetime:
    """The latest weekly moment (day and hour, local time) at or before `now`, in UTC."""
    local = now.astimezone(zone)
    day = local.date() - timedelta(days=(local.weekday() - weekday) % 7)
    slot = datetime(day.year, day.month, day.day, hour, tzinfo=zone)
    if slot > local:
        day -= timedelta(days=7)
        slot = datetime(day.year, day.month, day.day, hour, tzinfo=zone)
    return slot.astimezone(UTC)


def digest_due(now: datetime, weekday: int, hour: int, zone: ZoneInfo) -> datetime | None:
    """The slot whose digest should go out now, or None when the last one is too old."""
    slot = last_slot(now, weekday, hour, zone)
    return slot if now - slot <= DIGEST_GRACE else None


def slot_name(slot: datetime) -> str:
    """How a slot is recorded once sent (the UTC moment, to the minute)."""
    return slot.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def office_hours(now: datetime, zone: ZoneInfo) -> bool:
    """True on a weekday between 9:00 and 17:00 local time."""
    local = now.astimezone(zone)
    return local.weekday() < 5 and local.hour in OFFICE_HOURS


def nudge_due(
    now: datetime, last: datetime | None, joined: datetime, every: timedelta, zone: ZoneInfo
) -> bool:
    """A partner's list is due every `every` since the last one (or since joining)."""
    return office_hours(now, zone) and now - (last or joined) >= every
