"""Partners: invitations, the people who opened them, their "still right" confirmations, and
which scheduled messages (the weekly digest) were already sent."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from bot.storage.database import Connection, Database, Row
from bot.storage.records import from_iso, iso, utc_now


def code_hash(code: str) -> str:
    """Invitation codes are stored hashed: a copy of the database cannot be used to join."""
    return hashlib.sha256(code.encode()).hexdigest()


@dataclass(frozen=True)
class Invite:
    """An invitation link's code, for one owner, until it expires."""

    owner: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True)
class Partner:
    """Someone at a partner organisation who opened an invitation link."""

    id: int
    owner: str
    user_hash: str
    chat_token: str  # the sealed chat id: the bot writes to partners, so it must be able to
    language: str
    joined_at: datetime
    nudged_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        """Still receives nudges."""
        return self.revoked_at is None


@dataclass(frozen=True)
class Confirmation:
    """A partner said an entry is still right (nothing in the YAML changes)."""

    entry_id: str
    owner: str
    confirmed_at: datetime


class Redeemed(Exception):
    """An invitation that cannot be used: unknown, already used or expired (the message says)."""


class Partners:
    """Invitations, partners, confirmations and sent digests."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def invite(self, code: str, owner: str, expires_at: datetime) -> None:
        """Store a new invitation code (hashed) for an owner."""
        await self._db.write(
            "INSERT INTO partner_invites (code_hash, owner, created_at, expires_at)"
            " VALUES (?, ?, ?, ?)",
            (code_hash(code), owner, iso(utc_now()), iso(expires_at)),
        )

    async def redeem(
        self, code: str, user_hash: str, chat_token: str, language: str, now: datetime
    ) -> Partner:
        """Use an invitation once: the person becomes a partner for its owner."""

        async def run(connection: Connection) -> int | str:
            row = await connection.fetch_one(
                "SELECT owner, expires_at, used_at FROM partner_invites WHERE code_hash = ?",
                (code_hash(code),),
            )
            if row is None:
                return "unknown"
            if row[2] is not None:
                return "used"
            if from_iso(row[1]) <= now:
                return "expired"
            await connection.execute(
                "UPDATE partner_invites SET used_at = ? WHERE code_hash = ?",
                (iso(now), code_hash(code)),
            )
            # One active link per person and owner: opening a second invite replaces the first.
            await connection.execute(
                "UPDATE partners SET revoked_at = ? WHERE user_hash = ? AND owner = ?"
                " AND revoked_at IS NULL",
                (iso(now), user_hash, row[0]),
            )
            return await connection.insert(
                "INSERT INTO partners (owner, user_hash, chat_token, language, joined_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (row[0], user_hash, chat_token, language, iso(now)),
            )

        outcome = await self._db.transaction(run)
        if isinstance(outcome, str):
            raise Redeemed(outcome)
        found = await self.get(outcome)
        assert found is not None  # just inserted
        return found

    async def invites(self, now: datetime) -> list[Invite]:
        """Invitations not yet used and not expired, newest first."""
        rows = await self._db.fetch_all(
            "SELECT owner, created_at, expires_at FROM partner_invites"
            " WHERE used_at IS NULL AND expires_at > ? ORDER BY created_at DESC",
            (iso(now),),
        )
        return [Invite(str(r[0]), from_iso(r[1]), from_iso(r[2]), None) for r in rows]

    async def get(self, partner_id: int) -> Partner | None:
        """One partner link, active or revoked."""
        row = await self._db.fetch_one("SELECT * FROM partners WHERE id = ?", (partner_id,))
        return _partner(row) if row is not None else None

    async def all(self, active_only: bool = True) -> list[Partner]:
        """Partner links, by owner then date."""
        where = " WHERE revoked_at IS NULL" if active_only else ""
        rows = await self._db.fetch_all(f"SELECT * FROM partners{where} ORDER BY owner, id")
        return [_partner(r) for r in rows]

    async def owners_of(self, user_hash: str) -> list[str]:
        """The owners a person is an active partner for (usually one)."""
        rows = await self._db.fetch_all(
            "SELECT DISTINCT owner FROM partners WHERE user_hash = ? AND revoked_at IS NULL"
            " ORDER BY owner",
            (user_hash,),
        )
        return [str(r[0]) for r in rows]

    async def revoke(self, partner_id: int) -> bool:
        """Stop a partner link; False when there is no active link with this id."""
        changed = await self._db.write(
            "UPDATE partners SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (iso(utc_now()), partner_id),
        )
        return changed > 0

    async def mark_nudged(self, partner_id: int, when: datetime) -> None:
        """Remember when a partner was last sent their list."""
        await self._db.write(
            "UPDATE partners SET nudged_at = ? WHERE id = ?", (iso(when), partner_id)
        )

    async def confirm(self, entry_id: str, owner: str, user_hash: str, when: datetime) -> None:
        """Record that a partner checked an entry and it is still right."""
        await self._db.write(
            "INSERT INTO confirmations (entry_id, owner, user_hash, confirmed_at)"
            " VALUES (?, ?, ?, ?)",
            (entry_id, owner, user_hash, iso(when)),
        )

    async def confirmations(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> dict[str, Confirmation]:
        """The latest confirmation of each entry (within a period when one is given)."""
        rows = await self._db.fetch_all(
            "SELECT entry_id, owner, confirmed_at FROM confirmations"
            " WHERE confirmed_at >= ? AND confirmed_at < ? ORDER BY confirmed_at, id",
            (iso(since) if since else "", iso(until) if until else "9999"),
        )
        return {str(r[0]): Confirmation(str(r[0]), str(r[1]), from_iso(r[2])) for r in rows}

    async def claim_digest(self, slot: str) -> bool:
        """Claim a scheduled digest; True only the first time, so it is sent once."""
        changed = await self._db.write(
            "INSERT INTO digests (slot, sent_at) VALUES (?, ?) ON CONFLICT (slot) DO NOTHING",
            (slot, iso(utc_now())),
        )
        return changed > 0


def _partner(row: Row) -> Partner:
    return Partner(
        id=int(row["id"]),
        owner=str(row["owner"]),
        user_hash=str(row["user_hash"]),
        chat_token=str(row["chat_token"]),
        language=str(row["language"]),
        joined_at=from_iso(row["joined_at"]),
        nudged_at=from_iso(row["nudged_at"]) if row["nudged_at"] else None,
        revoked_at=from_iso(row["revoked_at"]) if row["revoked_at"] else None,
    )
