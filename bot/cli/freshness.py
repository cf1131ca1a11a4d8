"""The `freshness` command: per owner, the entries due for re-verification."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date

from bot.cli.parser import UsageError
from bot.config import Settings
from bot.knowledge import freshness
from bot.knowledge.loader import load_knowledge
from bot.wiring import open_storage


def cmd_freshness(args: argparse.Namespace, settings: Settings) -> int:
    """List the entries each owner should re-verify."""
    older_than = settings.stale_after_days if args.older_than is None else args.older_than
    if older_than < 0:
        raise UsageError("--older-than must be 0 or more days")
    entries = freshness.due(
        load_knowledge(settings.kb_dir), date.today(), older_than, translations=True
    )
    if settings.db_url or settings.sqlite_file.exists():
        entries = freshness.with_confirmations(entries, asyncio.run(_confirmations(settings)))
    sys.stdout.write(
        freshness.as_csv(entries) if args.format == "csv" else freshness.as_table(entries)
    )
    return 0


async def _confirmations(settings: Settings) -> dict[str, tuple[str, date]]:
    """Partners' "still right" presses: entry id -> (owner, day)."""
    storage = await open_storage(settings)
    try:
        found = await storage.partners.confirmations()
    finally:
        await storage.close()
    return {e: (c.owner, c.confirmed_at.date()) for e, c in found.items()}
