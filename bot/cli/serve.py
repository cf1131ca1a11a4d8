"""The `run` command: the Telegram bot, by long polling or a webhook."""

from __future__ import annotations

import argparse
import os

from bot.cli.parser import UsageError
from bot.config import Settings
from bot.telegram.app import run


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Start the Telegram bot; files it creates (database, spool, secret) are owner-only."""
    if not settings.telegram_token:
        raise UsageError("set TELEGRAM_BOT_TOKEN first (see README: Running on Telegram)")
    os.umask(0o077)
    return run(settings)
