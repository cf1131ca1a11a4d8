"""The `migrate` command: copy a SQLite database into PostgreSQL, then verify the counts."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from bot.config import Settings
from bot.storage import Storage, StorageError
from bot.storage.copy import Copied, copy_database
from bot.storage.dialect import is_url, redact_url


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    """Copy everything, print each table's counts, and say which secret to carry over."""
    source: Path = args.source or settings.sqlite_file
    if not is_url(args.target):
        raise StorageError("--to must be a postgresql:// URL")
    if not source.is_file():
        raise StorageError(f"there is no SQLite database at {source}")
    report = asyncio.run(_migrate(source, args.target))
    width = max(len(c.table) for c in report)
    for copied in report:
        print(f"{copied.table:<{width}}  {copied.source:>9} in SQLite  {copied.target:>9} copied")
    print(f"every count matches: {source} is copied into {redact_url(args.target)}")
    secret = source.with_name(source.name + ".secret")
    if not settings.hash_secret and secret.exists():
        print(
            f"Set BOT_HASH_SECRET on every replica to the secret in {secret}: without it, "
            "people are not recognised (settings, /forget) and follow-ups cannot be opened."
        )
    return 0


async def _migrate(source: Path, target: str) -> list[Copied]:
    old = await Storage.open(source)
    try:
        new = await Storage.open(target, spool_dir=source.parent)
        try:
            return await copy_database(old.db, new.db)
        finally:
            await new.close()
    finally:
        await old.close()
