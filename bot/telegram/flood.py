"""Per-user flood control: a user sending too many messages at once is slowed, politely."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum


class Verdict(Enum):
    """What to do with a message."""

    ALLOW = "allow"
    WARN = "warn"  # the first message over the limit: tell the user once
    DROP = "drop"  # later ones in the same burst: ignore quietly


@dataclass
class FloodGuard:
    """Allows `limit` messages per `window` seconds per user (keyed by the user's hash)."""

    limit: int = 30
    window: float = 10.0
    clock: Callable[[], float] = time.monotonic
    _seen: dict[str, deque[float]] = field(default_factory=dict)
    _warned: set[str] = field(default_factory=set)

    def check(self, user: str) -> Verdict:
        """Record a message and decide."""
        now = self.clock()
        times = self._seen.setdefault(user, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        if len(times) < self.limit:
            times.append(now)
            self._warned.discard(user)
            return Verdict.ALLOW
        if user in self._warned:
            return Verdict.DROP
        self._warned.add(user)
        return Verdict.WARN

    def forget(self, user: str) -> None:
        """Drop what is kept about a user (for /forget)."""
        self._seen.pop(user, None)
        self._warned.discard(user)
