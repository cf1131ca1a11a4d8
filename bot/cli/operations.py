"""Operator commands: `backup` and `restore` of the question log (an adapter over storage)."""

from __future__ import annotations

import argparse

from bot.config import ConfigError, Settings
from bot.storage import backup as backups


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
