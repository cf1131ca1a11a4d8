"""Operator commands: `backup` and `restore` of the question log (an adapter over storage)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.config import ConfigError, Settings
from bot.storage import backup as backups


def configure(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the operator commands to the main parser."""
    save = sub.add_parser(
        "backup",
        parents=[common],
        help="write a consistent copy of the database (safe while the bot runs)",
    )
    save.add_argument("--out", type=Path, required=True, help="the backup file to write")
    save.add_argument(
        "--with-secret",
        action="store_true",
        help="also copy the secret (<db>.secret) beside the backup, owner-only",
    )
    load = sub.add_parser(
        "restore",
        parents=[common],
        help="replace the database with a checked backup (stop the bot first)",
    )
    load.add_argument("backup", type=Path, help="a file written by `backup`")
    load.add_argument(
        "--with-secret", action="store_true", help="also restore the secret saved beside it"
    )


def _sqlite_only(settings: Settings) -> None:
    if settings.db_url:
        raise ConfigError(
            "backup and restore work on the SQLite file; for PostgreSQL use pg_dump and pg_restore"
        )


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    """Back the database up."""
    _sqlite_only(settings)
    result = backups.backup(settings.sqlite_file, args.out, with_secret=args.with_secret)
    secret = f", secret in {result.secret}" if result.secret else ""
    print(f"wrote {result.path}: {result.questions} question(s), integrity ok{secret}")
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    """Restore the database from a backup."""
    _sqlite_only(settings)
    questions = backups.restore(args.backup, settings.sqlite_file, with_secret=args.with_secret)
    secret = " and its secret" if args.with_secret else ""
    print(f"restored {settings.sqlite_file}{secret} from {args.backup}: {questions} question(s)")
    return 0


COMMANDS = {"backup": cmd_backup, "restore": cmd_restore}
