"""Per-user flood control: a user sending too much at once is slowed, politely.

It applies to every kind of update (commands, questions, button presses), before any work is
done for it; see bot/telegram/gate.py. Memory stays bounded: a user idle for a whole window is
forgotten, and at most `max_users` are remembered at once.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum


class Verdict(Enum):
    """What to do with an update."""

    ALLOW = "allow"
    WARN = "warn"  # the first update over the limit: tell the user once
    DROP = "drop"  # later ones in the same burst: ignore quietly


@dataclass
class _Seen:
    times: deque[float] = field(default_factory=deque)
    warned: bool = False


@dataclass
class FloodGuard:
    """Allows `limit` updates per `window` seconds per user (keyed by the user's hash).

    30 per 10 s is far above what a person types or taps (a fast tapper browsing topics does
    about one a second) and well below what a script sends.
    """

    limit: int = 30
    window: float = 10.0
    # Users remembered at most (~1 KB each); beyond, the longest idle are forgotten first.
    max_users: int = 50_000
    clock: Callable[[], float] = time.monotonic
    _seen: OrderedDict[str, _Seen] = field(default_factory=OrderedDict)

    def check(self, user: str) -> Verdict:
        """Record an update and decide."""
        now = self.clock()
        self._forget_idle(now)
        seen = self._seen.pop(user, None) or _Seen()
        self._seen[user] = seen  # most recently active last
        times = seen.times
        while times and now - times[0] > self.window:
            times.popleft()
        if len(times) < self.limit:
            times.append(now)
            seen.warned = False
            return Verdict.ALLOW
        if seen.warned:
            return Verdict.DROP
        seen.warned = True
        return Verdict.WARN

    def _forget_idle(self, now: float) -> None:
        # The least recently active user is first: stop at the first one still active.
        while self._seen:
            user, seen = next(iter(self._seen.items()))
            idle = not seen.times or now - seen.times[-1] > self.window
            if not idle and len(self._seen) < self.max_users:
                break
            del self._seen[user]

    def forget(self, user: str) -> None:
        """Drop what is kept about a user (for /forget)."""
        self._seen.pop(user, None)

    def __len__(self) -> int:
        """How many users are remembered."""
        return len(self._seen)
