"""Backups of the question log, safe while the bot runs, and a restore that checks first.

`backup` uses SQLite's online backup API: it copies a consistent snapshot page by page while the
bot keeps writing (WAL mode lets readers and the writer go on together), so every question
committed before the backup started is in the copy. The secret (`<db>.secret`) goes beside
the copy on request: without it, every stored user code is orphaned and the sealed chat ids of
people waiting for a follow-up cannot be opened. Both files are owner-only (0600).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from bot.storage.records import StorageError

OWNER_ONLY = 0o600
# Pages copied per step; between steps the bot's writer can go on. 1024 pages of 4 KiB is
# 4 MiB a step: a 50 MB log is copied in a dozen short steps.
PAGES_PER_STEP = 1024


def secret_of(database: Path) -> Path:
    """The secret file that belongs to a database (or to a backup of it)."""
    return database.with_name(database.name + ".secret")


@dataclass(frozen=True)
class BackupResult:
    """What a backup wrote."""

    path: Path
    questions: int
    secret: Path | None


def integrity(path: Path) -> str:
    """SQLite's `PRAGMA integrity_check` of a file: "ok", or what is wrong."""
    if not path.is_file():
        return f"{path} does not exist"
    try:
        db = sqlite3.connect(path)
        try:
            rows = db.execute("PRAGMA integrity_check").fetchall()
            if not db.execute("PRAGMA user_version").fetchone()[0]:
                return "this is not a welcome-bot database (no schema version)"
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    return "; ".join(str(r[0]) for r in rows)


def _owner_only(path: Path) -> None:
    os.chmod(path, OWNER_ONLY)


def _copy_secret(source: Path, target: Path) -> None:
    """Copy a secret file, owner-only from the first byte (never world-readable, even briefly)."""
    data = source.read_bytes()
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, OWNER_ONLY)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    _owner_only(target)


def backup(database: Path, out: Path, *, with_secret: bool = False) -> BackupResult:
    """Write a consistent snapshot of `database` to `out` (and its secret beside it)."""
    if not database.is_file():
        raise StorageError(f"there is no database at {database}")
    if out.resolve() == database.resolve():
        raise StorageError("the backup file must not be the database itself")
    secret = secret_of(database)
    if with_secret and not secret.is_file():
        raise StorageError(
            f"there is no secret file at {secret} (the secret may come from BOT_HASH_SECRET: "
            "keep that value safe instead)"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY)
    os.close(descriptor)
    try:
        # The bot's own connection holds the write lock only for a moment; wait that long.
        source = sqlite3.connect(database, timeout=30)
        target = sqlite3.connect(partial)
        try:
            source.backup(target, pages=PAGES_PER_STEP)
            # One self-contained file: no write-ahead log to carry around with it.
            target.execute("PRAGMA journal_mode = DELETE")
            questions = int(target.execute("SELECT count(*) FROM questions").fetchone()[0])
        finally:
            target.close()
            source.close()
        problem = integrity(partial)
        if problem != "ok":
            raise StorageError(f"the backup failed its integrity check: {problem}")
        _owner_only(partial)
        os.replace(partial, out)
    except sqlite3.Error as exc:
        raise StorageError(f"the backup failed: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    copied = None
    if with_secret:
        copied = secret_of(out)
        _copy_secret(secret, copied)
    return BackupResult(out, questions, copied)


def restore(backup_file: Path, database: Path, *, with_secret: bool = False) -> int:
    """Replace `database` with a backup after checking it; return its number of questions.

    Stop the bot first: a running bot keeps the old file open.
    """
    problem = integrity(backup_file)
    if problem != "ok":
        raise StorageError(f"{backup_file} is not a usable backup, nothing was changed: {problem}")
    secret = secret_of(backup_file)
    if with_secret and not secret.is_file():
        raise StorageError(f"there is no {secret} beside the backup, nothing was changed")
    db = sqlite3.connect(backup_file)
    try:
        questions = int(db.execute("SELECT count(*) FROM questions").fetchone()[0])
    finally:
        db.close()
    database.parent.mkdir(parents=True, exist_ok=True)
    staged = database.with_name(database.name + ".restoring")
    shutil.copyfile(backup_file, staged)
    _owner_only(staged)
    # The old write-ahead log belongs to the old file: left beside the new one, SQLite would
    # replay it into the restored database.
    for suffix in ("-wal", "-shm"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    os.replace(staged, database)
    if with_secret:
        _copy_secret(secret, secret_of(database))
    return questions
