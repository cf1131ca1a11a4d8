"""Live reload: notice changed knowledge-base files and swap in the new version only if it is valid.

A broken edit never takes the bot down: the last good knowledge base keeps serving, and the
problems are reported (to the log and, in the Telegram bot, to staff).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from bot.assistant import Brain
from bot.knowledge.loader import Problem, load_directory, yaml_files
from bot.knowledge.model import KnowledgeBase

log = logging.getLogger(__name__)

Fingerprint = frozenset[tuple[str, int, int]]


def fingerprint(root: Path) -> Fingerprint:
    """Every YAML file's path, modification time and size: cheap to take every few seconds."""
    out = set()
    for path in yaml_files(root):
        try:
            stat = path.stat()
        except OSError:
            continue  # deleted between listing and reading: the next poll sees it gone
        out.add((str(path), stat.st_mtime_ns, stat.st_size))
    return frozenset(out)


class Change(Enum):
    """What a poll found."""

    UNCHANGED = "unchanged"
    RELOADED = "reloaded"
    REFUSED = "refused"


@dataclass(frozen=True)
class Reload:
    """The result of one poll."""

    change: Change
    brain: Brain | None = None
    problems: list[Problem] = field(default_factory=list)

    def report(self) -> str:
        """The file:line list staff need to fix a refused change."""
        lines = [str(p) for p in self.problems[:20]]
        if len(self.problems) > 20:
            lines.append(f"... and {len(self.problems) - 20} more")
        return "\n".join(lines)


class KnowledgeWatcher:
    """Polls a knowledge-base folder; builds a new Brain when the files change and validate."""

    def __init__(self, root: Path, build: Callable[[KnowledgeBase], Brain]) -> None:
        self.root = root
        self._build = build
        self._seen = fingerprint(root)

    def check(self) -> Reload:
        """Look once, synchronously: load, validate and index if anything changed."""
        now = fingerprint(self.root)
        if now == self._seen:
            return Reload(Change.UNCHANGED)
        # Remember this version either way, so a broken file is reported once, not every poll.
        self._seen = now
        result = load_directory(self.root)
        if result.knowledge is None:
            log.error(
                "knowledge base change refused (%d error(s)); still serving the last good one:\n%s",
                len(result.errors),
                "\n".join(str(p) for p in result.errors),
            )
            return Reload(Change.REFUSED, problems=result.errors)
        brain = self._build(result.knowledge)
        log.info("knowledge base reloaded: %d entries", len(result.knowledge))
        return Reload(Change.RELOADED, brain=brain)

    async def poll(self) -> Reload:
        """`check` in a worker thread, so indexing never blocks the bot's replies."""
        return await asyncio.to_thread(self.check)
