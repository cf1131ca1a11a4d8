"""Results kept by the content they came from, so `validate` does not redo unchanged work.

Parsing a YAML file and comparing a language's wordings for near-duplicates are pure
functions of their input; over the shipped knowledge base (47 files, 8,800 wordings in twelve
languages) they took about 0.08 s and 0.11 s of `validate`'s 0.45 s. A partner edits one
file and runs `validate` again: the other files and languages come from here, and everything
else (the model's checks, links, freshness) is done again every time.

Entries are files named by a SHA-256 of the kind, this cache's version and the input, written
with `marshal` (plain data only: dicts, lists, tuples, text, numbers), owner-only, replaced
atomically. A damaged, unreadable or missing entry is simply computed again; a folder that
cannot be written only means nothing is kept. At most MAX_ENTRIES files are kept (the oldest
go first).
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import sys
from pathlib import Path
from typing import Any

# Part of every key: marshal's format depends on the Python version, and the kept data on
# this code. Change the number whenever what is kept changes.
VERSION = f"memo-1-py{sys.version_info[0]}.{sys.version_info[1]}"
# About 60 entries for the shipped knowledge base (47 files, 13 language groups): room for
# several knowledge bases and many edits, at most a few tens of megabytes.
MAX_ENTRIES = 400


class Memo:
    """A folder of results, each found again by the kind of work and its exact input."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._written = 0

    def _path(self, kind: str, source: str) -> Path | None:
        if self.folder is None:
            return None
        digest = hashlib.sha256(f"{kind}\x1f{VERSION}\x1f".encode() + source.encode("utf-8"))
        return self.folder / f"{kind}-{digest.hexdigest()[:40]}"

    def get(self, kind: str, source: str) -> Any:
        """The result kept for this input, or None."""
        path = self._path(kind, source)
        if path is None:
            return None
        try:
            # Our own owner-only files, plain data: nothing loaded is ever run.
            value = marshal.loads(path.read_bytes())  # noqa: S302
        except (OSError, ValueError, EOFError, TypeError):
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # in use: the last to be pruned
        return value

    def put(self, kind: str, source: str, value: Any) -> None:
        """Keep a result (plain data); never fails the caller."""
        path = self._path(kind, source)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "wb") as out:
                out.write(marshal.dumps(value))
            os.replace(temporary, path)
        except (OSError, ValueError):
            return
        self._written += 1

    def prune(self) -> None:
        """Keep the newest MAX_ENTRIES entries (call once after a run that wrote some)."""
        if self.folder is None or not self._written:
            return
        with contextlib.suppress(OSError):
            entries = sorted(
                (p for p in self.folder.iterdir() if p.is_file()),
                key=lambda p: p.stat().st_mtime,
                reverse=True,
            )
            for old in entries[MAX_ENTRIES:]:
                old.unlink(missing_ok=True)
