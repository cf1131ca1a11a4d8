"""Every command's arguments, and which module runs it: cheap to import on purpose.

The parser is built from this module alone, and a command's module is imported only when that
command runs, so `validate`, `schema` or `--help` never load storage, Telegram or the matching
engine (loading every command module first cost `validate` ~0.1 s of its 0.45 s).
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from bot.config import Settings
from bot.errors import UserError
from bot.needs.status import STATUSES

Command = Callable[[argparse.Namespace, Settings], int]

# Command name -> the module and function that run it.
COMMANDS: dict[str, tuple[str, str]] = {
    "chat": ("bot.cli.chat", "cmd_chat"),
    "ask": ("bot.cli.ask", "cmd_ask"),
    "validate": ("bot.cli.knowledge", "cmd_validate"),
    "schema": ("bot.cli.knowledge", "cmd_schema"),
    "freshness": ("bot.cli.freshness", "cmd_freshness"),
    "run": ("bot.cli.serve", "cmd_run"),
    "export": ("bot.cli.spreadsheet", "cmd_export"),
    "import": ("bot.cli.spreadsheet", "cmd_import"),
    "needs": ("bot.cli.staff", "cmd_needs"),
    "stats": ("bot.cli.staff", "cmd_stats"),
    "report": ("bot.cli.staff", "cmd_report"),
    "purge": ("bot.cli.staff", "cmd_purge"),
    "digest": ("bot.cli.staff", "cmd_digest"),
    "partners": ("bot.cli.staff", "cmd_partners"),
    "backup": ("bot.cli.operations", "cmd_backup"),
    "restore": ("bot.cli.operations", "cmd_restore"),
    "migrate": ("bot.cli.migrate", "cmd_migrate"),
}


def command(name: str) -> Command:
    """The function that runs a command, importing its module now."""
    module, function = COMMANDS[name]
    found: Command = getattr(importlib.import_module(module), function)
    return found


class UsageError(UserError):
    """Bad command-line input: shown as one line, exit code 2."""

    exit_code = 2


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, never a usage dump or a traceback."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _common_options() -> _Parser:
    """Options every command takes; SUPPRESS keeps a sub-command from hiding a global value."""
    common = _Parser(add_help=False)
    common.add_argument(
        "--kb", type=Path, default=argparse.SUPPRESS, help="knowledge-base folder (or one file)"
    )
    common.add_argument(
        "--data-dir",
        type=Path,
        default=argparse.SUPPRESS,
        help="folder for the database, secret and model cache (BOT_DATA_DIR)",
    )
    common.add_argument(
        "--db",
        default=argparse.SUPPRESS,
        help="SQLite database file (default: in --data-dir), or a postgresql://user@host/db URL",
    )
    common.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="TOML settings file")
    return common


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command."""
    common = _common_options()
    parser = _Parser(
        prog="run_bot.py",
        description=(
            "The newcomer welcome bot for a region's newcomers. With no command: the Telegram bot "
            "when TELEGRAM_BOT_TOKEN is set, otherwise a chat in this terminal."
        ),
        parents=[common],
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    chat = sub.add_parser(
        "chat", parents=[common], help="talk to the bot in this terminal (questions are logged)"
    )
    chat.add_argument("--lang", help="reply language, like en or fr")
    chat.add_argument("--no-log", action="store_true", help="do not log questions")

    ask = sub.add_parser(
        "ask", parents=[common], help="answer one question (or JSON lines) without chatting"
    )
    ask.add_argument("question", nargs="?", help="the question (omit with --jsonl)")
    ask.add_argument("--lang", help="reply language, like en or fr")
    form = ask.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="print one JSON object")
    form.add_argument(
        "--jsonl", action="store_true", help='read {"text": ..., "lang": ...} lines from stdin'
    )
    form.add_argument("--explain", action="store_true", help="show why each candidate scored")
    ask.add_argument("--threshold", type=_score, help="answer threshold, 0-100")
    ask.add_argument("--margin", type=_score, help="ambiguity margin, 0-100")
    ask.add_argument("--log", action="store_true", help="also log the question")

    validate_cmd = sub.add_parser(
        "validate", parents=[common], help="check a knowledge base; exit 1 on errors"
    )
    validate_cmd.add_argument("directory", nargs="?", type=Path, help="folder to check")
    validate_cmd.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format"
    )

    run = sub.add_parser(
        "run", parents=[common], help="start the Telegram bot (needs TELEGRAM_BOT_TOKEN)"
    )
    run.add_argument("--webhook-url", help="public HTTPS address Telegram posts updates to")
    run.add_argument("--listen", help="webhook listen address (default 127.0.0.1)")
    run.add_argument("--port", type=int, help="webhook listen port (default 8443)")
    run.add_argument("--health-port", type=int, help="serve GET /healthz and /metrics on this port")
    schema = sub.add_parser(
        "schema", parents=[common], help="write the JSON Schema of the knowledge-base format"
    )
    schema.add_argument("--out", type=Path, help="file to write (default: print it)")
    fresh = sub.add_parser(
        "freshness", parents=[common], help="per owner, the entries due for re-verification"
    )
    fresh.add_argument(
        "--older-than", type=int, metavar="DAYS", help="default: the stale_after_days setting"
    )
    fresh.add_argument("--format", choices=("table", "csv"), default="table")
    _spreadsheet_commands(sub, common)
    _staff_commands(sub, common)
    _operator_commands(sub, common)
    _migrate_command(sub, common)
    return parser


def _score(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0 <= number <= 100:
        raise argparse.ArgumentTypeError(f"{value} is not between 0 and 100")
    return number


def _date(value: str) -> datetime:
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-11-24") from None


def _period_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", type=_date, help="start date YYYY-MM-DD (default: 7 days ago)")
    parser.add_argument("--until", type=_date, help="end date YYYY-MM-DD (default: now)")


def _staff_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the staff commands to the main parser."""
    needs = sub.add_parser(
        "needs", parents=[common], help="emerging needs: unanswered questions, grouped"
    )
    _period_options(needs)
    needs.add_argument("--status", choices=STATUSES, help="only needs with this status")
    needs.add_argument("--format", choices=("table", "csv", "json"), default="table")
    actions = needs.add_subparsers(dest="needs_action", metavar="ACTION")
    show = actions.add_parser("show", parents=[common], help="one need in detail")
    show.add_argument("id", type=int)
    _period_options(show)
    change = actions.add_parser("set", parents=[common], help="change status, note or assignee")
    change.add_argument("id", type=int)
    change.add_argument("--status", choices=[s for s in STATUSES if s != "answered"])
    change.add_argument("--note")
    change.add_argument("--assign", help="the partner organisation now handling it")
    answer = actions.add_parser(
        "answer", parents=[common], help="link a need to the entry that now answers it"
    )
    answer.add_argument("id", type=int)
    answer.add_argument(
        "--entry",
        help="the knowledge-base entry id (without it: suggest an existing FAQ close to the need)",
    )

    stats = sub.add_parser("stats", parents=[common], help="usage overview")
    _period_options(stats)
    stats.add_argument("--format", choices=("table", "json"), default="table")

    report_cmd = sub.add_parser(
        "report", parents=[common], help="write the HTML report for staff and managers"
    )
    _period_options(report_cmd)
    report_cmd.add_argument("--out", type=Path, default=Path("report.html"), help="output file")

    sub.add_parser(
        "purge", parents=[common], help="delete question text older than the retention period"
    )

    digest = sub.add_parser(
        "digest", parents=[common], help="the weekly digest for staff (print, or --send it)"
    )
    _period_options(digest)
    digest.add_argument("--lang", default="en", help="language of the printed digest (en, fr)")
    digest.add_argument(
        "--send", action="store_true", help="send it now to every staff member, with the report"
    )

    partners = sub.add_parser(
        "partners", parents=[common], help="partner links: invite, list, revoke"
    )
    partner_actions = partners.add_subparsers(dest="partners_action", metavar="ACTION")
    invite = partner_actions.add_parser(
        "invite", parents=[common], help="make a single-use invitation link for an owner"
    )
    invite.add_argument("owner", help="the owner as the knowledge base names it, in quotes")
    invite.add_argument("--days", type=int, help="days the link works (default: invite_days)")
    partner_actions.add_parser("list", parents=[common], help="partner links and open invitations")
    revoke = partner_actions.add_parser("revoke", parents=[common], help="stop a partner link")
    revoke.add_argument("id", type=int)


def _spreadsheet_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add `export` and `import` to the command line."""
    out = sub.add_parser("export", parents=[common], help="write services, FAQs and events as CSV")
    out.add_argument("folder", type=Path, help="where to write the CSV files")
    out.add_argument("--format", choices=("csv",), default="csv")
    back = sub.add_parser(
        "import", parents=[common], help="read the CSV files back into the YAML knowledge base"
    )
    back.add_argument("folder", type=Path, help="the folder with the CSV files")
    back.add_argument("--yes", action="store_true", help="write without asking")


def _operator_commands(sub: Any, common: argparse.ArgumentParser) -> None:
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


def _migrate_command(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add `migrate` to the command line."""
    move = sub.add_parser(
        "migrate",
        parents=[common],
        help="copy the SQLite database into PostgreSQL and check every table's count",
    )
    move.add_argument(
        "--from", dest="source", type=Path, help="SQLite file (default: the configured one)"
    )
    move.add_argument(
        "--to", dest="target", required=True, help="postgresql://user@host/database (empty)"
    )
