"""Usage counts for staff and funders: outcomes, languages, feedback, contacts given out."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.storage.database import Database
from bot.storage.records import StorageError, Usage, iso, utc_now

log = logging.getLogger(__name__)

_IN_PERIOD = " WHERE asked_at >= ? AND asked_at < ?"


class UsageCounts:
    """Referrals (partner contacts given out) and the counts behind the usage overview."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add_referrals(
        self, question_id: int | None, entry_id: str, services: list[tuple[str, str]]
    ) -> None:
        """Record that these services' contacts were given out (service id, owner)."""
        now = iso(utc_now())
        sql = (
            "INSERT INTO referrals (shown_at, question_id, entry_id, service_id, owner)"
            " VALUES (?, ?, ?, ?, ?)"
        )
        rows = [(now, question_id, entry_id, sid, owner) for sid, owner in services]
        try:
            await self._db.write_many(sql, rows)
        except StorageError as exc:
            log.warning("%s: contacts given out are kept in %s", exc, self._db.spool_path)
            for row in rows:
                self._db.spool(sql, row)

    async def between(self, since: datetime, until: datetime) -> Usage:
        """The usage overview's counts between two moments."""
        window = (iso(since), iso(until))

        async def pairs(sql: str, params: Sequence[Any] = window) -> list[tuple[Any, ...]]:
            return [tuple(r) for r in await self._db.fetch_all(sql, params)]

        by_day = await pairs(
            "SELECT substr(asked_at, 1, 10), COUNT(*),"
            " SUM(CASE WHEN outcome = 'answered' THEN 1 ELSE 0 END) FROM questions"
            + _IN_PERIOD
            + " GROUP BY 1 ORDER BY 1"
        )
        outcomes = await pairs(
            "SELECT outcome, COUNT(*) FROM questions" + _IN_PERIOD + " GROUP BY 1"
        )
        languages = await pairs(
            "SELECT language, COUNT(*) FROM questions" + _IN_PERIOD + " GROUP BY 1 ORDER BY 2 DESC"
        )
        channels = await pairs(
            "SELECT channel, COUNT(*) FROM questions" + _IN_PERIOD + " GROUP BY 1"
        )
        entries = await pairs(
            "SELECT entry_id, COUNT(*) FROM questions"
            + _IN_PERIOD
            + " AND outcome = 'answered' GROUP BY 1 ORDER BY 2 DESC, 1"
        )
        crisis = await pairs(
            "SELECT crisis_category, COUNT(*) FROM questions"
            + _IN_PERIOD
            + " AND crisis_category IS NOT NULL GROUP BY 1"
        )
        false_alarms = await pairs(
            "SELECT crisis_category, COUNT(*) FROM questions"
            + _IN_PERIOD
            + " AND crisis_category IS NOT NULL AND not_emergency = 1 GROUP BY 1"
        )
        feedback = await pairs(
            "SELECT entry_id, SUM(helpful), SUM(1 - helpful) FROM feedback"
            " WHERE given_at >= ? AND given_at < ? GROUP BY 1"
        )
        sources = await pairs(
            "SELECT source, COUNT(*) FROM users WHERE source IS NOT NULL"
            " AND first_seen >= ? AND first_seen < ? GROUP BY 1 ORDER BY 2 DESC"
        )
        referrals = await pairs(
            "SELECT owner, COUNT(*) FROM referrals WHERE shown_at >= ? AND shown_at < ?"
            " GROUP BY 1 ORDER BY 2 DESC, 1"
        )
        users = await pairs("SELECT COUNT(DISTINCT user_hash) FROM questions" + _IN_PERIOD)
        return Usage(
            by_day=[(str(d), int(n), int(a or 0)) for d, n, a in by_day],
            outcomes={str(k): int(v) for k, v in outcomes},
            languages={str(k): int(v) for k, v in languages},
            channels={str(k): int(v) for k, v in channels},
            top_entries=[(str(k), int(v)) for k, v in entries],
            feedback={str(e): (int(h or 0), int(n or 0)) for e, h, n in feedback},
            sources={str(k): int(v) for k, v in sources},
            referrals={str(k or "(no owner)"): int(v) for k, v in referrals},
            crisis={str(k): int(v) for k, v in crisis},
            false_alarms={str(k): int(v) for k, v in false_alarms},
            users=int(users[0][0]) if users else 0,
        )
