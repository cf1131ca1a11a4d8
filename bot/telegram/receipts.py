"""Receipts: which updates already got their reply, kept the instant the Bot API confirmed it.

An update is marked done in the inbox after its handler returns: a database write that, under
load, waits behind other writes for tens of milliseconds. A kill -9 inside that wait left the
update pending although its reply was sent, and the next start answered it again (0-16
duplicates per 1,600 replies in `benchmarks/faults.py`). A receipt is one `write()` to an
append-only file right after Telegram confirms the first message sent for an update: the
kernel keeps it even if the process is killed a microsecond later, so at start a pending update
with a receipt is marked done instead of answered twice.

Telegram offers no idempotent send, so a kill between Telegram's confirmation and the receipt
(microseconds) can still repeat a reply; and with PostgreSQL replicas each replica keeps its own
file, so a replica taking over a dead one's updates cannot see its receipts.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

# Rewrite the file with only the updates still in hand once it holds this many lines
# (~10 bytes each: 100 KB), so it never grows with the bot's age.
COMPACT_AFTER = 10_000


class Receipts:
    """An append-only, owner-only file of update ids whose reply reached Telegram."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._lines = 0
        self._in_hand: set[int] = set()

    def open(self) -> set[int]:
        """Open the file for appending; return the ids it holds (replies sent before a crash).
        A file that cannot be opened never stops the bot: it runs without receipts."""
        found: set[int] = set()
        with contextlib.suppress(OSError):  # none yet, or unreadable: nothing to skip
            for line in self.path.read_text(encoding="ascii", errors="replace").split():
                if line.isdigit():
                    found.add(int(line))
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            log.warning("no receipts file (%s): a crash may repeat a reply", exc)
            return found
        self._lines = len(found)
        return found

    def sent(self, update_id: int) -> None:
        """The first reply for this update was confirmed: keep that now, synchronously."""
        if self._fd is None or update_id in self._in_hand:
            return
        self._in_hand.add(update_id)
        try:
            os.write(self._fd, b"%d\n" % update_id)
        except OSError as exc:  # a full disk: the inbox still protects the question itself
            log.warning("cannot keep a receipt (%s): a crash now may repeat a reply", exc)
            return
        self._lines += 1

    def settled(self, update_id: int) -> None:
        """The update is done in the inbox: its receipt is no longer needed."""
        self._in_hand.discard(update_id)
        # Only when rewriting at least halves the file: never a rewrite per update.
        if self._lines >= COMPACT_AFTER and self._lines >= 2 * len(self._in_hand):
            self.compact()

    def compact(self) -> None:
        """Rewrite the file with only the receipts of updates still in hand (atomic rename)."""
        if self._fd is None:
            return
        temporary = self.path.with_name(self.path.name + ".new")
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(b"".join(b"%d\n" % u for u in sorted(self._in_hand)))
            os.replace(temporary, self.path)
        except OSError as exc:
            log.warning("cannot compact the receipts file (%s); it keeps growing", exc)
            return
        os.close(self._fd)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._lines = len(self._in_hand)

    def close(self) -> None:
        """Close the file (its content stays for the next start)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
