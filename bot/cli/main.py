"""The command line: `python run_bot.py COMMAND`. A thin adapter over the core modules."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from bot.cli.parser import build_parser, command
from bot.config import Settings, limit_blas_threads, load_settings, validate
from bot.errors import UserError

log = logging.getLogger(__name__)


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings from the config file and environment, with command-line overrides on top."""
    settings = load_settings(getattr(args, "config", None))
    settings = settings.with_overrides(
        kb_dir=getattr(args, "kb", None),
        data_dir=getattr(args, "data_dir", None),
        db_path=getattr(args, "db", None),
        answer_threshold=getattr(args, "threshold", None),
        ambiguity_margin=getattr(args, "margin", None),
        webhook_url=getattr(args, "webhook_url", None),
        webhook_listen=getattr(args, "listen", None),
        webhook_port=getattr(args, "port", None),
        health_port=getattr(args, "health_port", None),
    )
    validate(settings)
    return settings


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run a command; errors become one clear line and an exit code."""
    limit_blas_threads()  # before any command imports numpy
    # force: a library imported earlier (wordllama calls basicConfig at import) may already
    # have set a handler without timestamps; every line gets the time and level.
    logging.basicConfig(level=logging.WARNING, format=LOG_FORMAT, force=True)
    # httpx logs every request URL, and Telegram URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_from(args)
        name = args.command or ("run" if settings.telegram_token else "chat")
        level = settings.log_level or ("INFO" if name == "run" else "WARNING")
        logging.getLogger().setLevel(level.upper())
        if args.command is None:
            # Parse again as the chosen command, so its own options get their defaults.
            args = parser.parse_args([*(sys.argv[1:] if argv is None else argv), name])
        return command(name)(args, settings)
    except UserError as exc:
        print(exc.report(parser.prog), file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        # The reader went away (`ask --json | head`): stop quietly, like other Unix tools.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
