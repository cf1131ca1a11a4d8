"""The command line: `python run_bot.py COMMAND`. A thin adapter over the core modules."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from bot.cli import migrate, operations, spreadsheet, staff
from bot.config import ConfigError, Settings, load_settings, validate
from bot.knowledge import freshness, validation
from bot.knowledge.loader import KnowledgeError, LoadResult, load_directory, load_knowledge
from bot.knowledge.spreadsheet import SpreadsheetError
from bot.privacy import SecretError
from bot.replies.messages import Catalogue
from bot.storage import StorageError
from bot.text import normalise

if TYPE_CHECKING:  # the engine loads numpy, scipy and embeddings: only for commands that match
    from bot.assistant import Brain
    from bot.matching.matcher import Match

log = logging.getLogger(__name__)

Command = Callable[[argparse.Namespace, Settings], int]


class UsageError(Exception):
    """Bad command-line input: shown as one line, exit code 2."""


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


def build_parser(commands: dict[str, Command] | None = None) -> argparse.ArgumentParser:
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
    spreadsheet.configure(sub, common)
    staff.configure(sub, common)
    operations.configure(sub, common)
    migrate.configure(sub, common)
    return parser


def _score(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0 <= number <= 100:
        raise argparse.ArgumentTypeError(f"{value} is not between 0 and 100")
    return number


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


def match_json(match: Match, text: str) -> dict[str, Any]:
    """The `ask --json` object for one answered question."""
    return {
        "outcome": match.outcome.value,
        "entry_id": match.entry_id,
        "score": match.score,
        "language": match.language,
        "candidates": [{"entry_id": c.entry_id, "score": c.score} for c in match.candidates],
        "choices": [c.entry_id for c in match.choices],
        "crisis_category": match.crisis.category if match.crisis else None,
        "text": text,
    }


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    """Answer one question, or JSON lines from stdin."""
    if args.jsonl and args.question:
        raise UsageError("give either a question or --jsonl, not both")
    if not args.jsonl and not args.question:
        raise UsageError('give a question, like: ask "how do I get a health card"')
    from bot.wiring import load_brain  # noqa: PLC0415 - the matching engine only when needed

    catalogue = Catalogue.load()
    brain = load_brain(settings, catalogue)
    return asyncio.run(_ask(args, settings, brain, catalogue, sys.stdin, sys.stdout))


async def _ask(
    args: argparse.Namespace,
    settings: Settings,
    brain: Brain,
    catalogue: Catalogue,
    stdin: TextIO,
    stdout: TextIO,
) -> int:
    from bot.wiring import open_storage  # noqa: PLC0415 - storage only when --log

    storage = await open_storage(settings) if args.log else None
    from bot.assistant import Assistant  # noqa: PLC0415 - the engine only when needed

    assistant = Assistant(brain, catalogue, storage)
    try:
        if not args.jsonl:
            answer = await assistant.ask(args.question, language=args.lang, log=args.log)
            if args.json:
                stdout.write(json.dumps(match_json(answer.match, answer.text), ensure_ascii=False))
                stdout.write("\n")
            elif args.explain:
                stdout.write(explain(brain, answer.match, args.question) + "\n")
            else:
                stdout.write(answer.text + "\n")
            return 0
        for number, line in enumerate(stdin, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                text = item["text"] if isinstance(item, dict) else None
                if not isinstance(text, str):
                    raise ValueError('each line needs a "text" string')
                lang = item.get("lang")
                answer = await assistant.ask(text, language=lang, log=args.log)
                out = match_json(answer.match, answer.text)
            except (ValueError, KeyError, TypeError) as exc:
                out = {"error": f"line {number}: {exc}", "outcome": None}
            stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
            stdout.flush()
        return 0
    finally:
        if storage is not None:
            await storage.close()


def explain(brain: Brain, match: Match, question: str) -> str:
    """Why each candidate scored as it did, for staff and partners."""
    lines = [
        f"outcome: {match.outcome.value}   language: {match.language}   "
        f"score {match.score:g}, lead over the runner-up {match.margin:g}"
    ]
    found = brain.matcher.synonyms.terms_in(normalise(question))
    if found:
        lines.append(
            "synonyms used: "
            + ", ".join(f"{term} -> {brain.matcher.synonyms.canonical(term)}" for term in found)
        )
    if match.crisis is not None:
        lines.append(f"safety tripwire: {match.crisis.category} ({match.crisis.id})")
    settings = brain.matcher.settings
    lines.append(
        f"answer threshold {settings.answer_threshold:g}, ambiguity margin "
        f"{settings.ambiguity_margin:g}, suggestions from {settings.suggest_floor:g}"
    )
    for rank, candidate in enumerate(match.candidates, 1):
        evidence = candidate.evidence
        where = brain.knowledge.locations.get(candidate.entry_id)
        lines.append(
            f"{rank}. {candidate.entry_id}  score {candidate.score:.1f}"
            + (f"  ({where})" if where else "")
        )
        lines.append(f"     best matching question: {evidence.matched_question!r}")
        if evidence.corrections:
            read = ", ".join(f"{typed!r} as {known!r}" for typed, known in evidence.corrections)
            lines.append(f"     spelling: read {read}")
        if evidence.shared_terms:
            lines.append(f"     words that counted: {', '.join(evidence.shared_terms)}")
        if evidence.components:
            parts = ", ".join(f"{k} {v:.1f}" for k, v in evidence.components.items())
            lines.append(f"     sub-scores: {parts}")
    return "\n".join(lines)


def cmd_validate(args: argparse.Namespace, settings: Settings) -> int:
    """Check a knowledge base and print every problem as file:line:column: message."""
    directory = args.directory or settings.kb_dir
    days = settings.stale_after_days
    result = load_directory(directory, stale_after_days=days)
    if result.knowledge is not None:
        result.warnings.extend(validation.check(result.knowledge, date.today(), days))
    if args.format == "json":
        print(json.dumps(validation_json(result), indent=2, ensure_ascii=False))
        return 0 if result.ok else 1
    for problem in result.errors + result.warnings:
        print(problem)
        if problem.snippet:
            print(f"    {problem.line} | {problem.snippet}")
    knowledge = result.knowledge
    if knowledge is not None:
        print(
            f"OK: {len(result.files)} file(s), {len(knowledge.topics)} topics, "
            f"{len(knowledge.services)} services, {len(knowledge.faqs)} FAQs, "
            f"{len(knowledge.events)} events, {len(knowledge.crisis)} crisis lines, "
            f"{len(knowledge.synonyms)} synonym groups, {len(knowledge.glossary)} glossary terms; "
            f"{len(result.warnings)} warning(s)"
        )
        return 0
    print(f"{len(result.errors)} error(s), {len(result.warnings)} warning(s): fix the errors above")
    return 1


def validation_json(result: LoadResult) -> dict[str, Any]:
    """The `validate --format json` document."""
    return {
        "ok": result.ok,
        "files": result.files,
        "errors": [p.as_dict() for p in result.errors],
        "warnings": [p.as_dict() for p in result.warnings],
    }


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    """A conversation in the terminal."""
    from bot.cli.chat import run_chat  # noqa: PLC0415 - keeps `validate` fast to start
    from bot.wiring import load_brain  # noqa: PLC0415 - the matching engine only when needed

    catalogue = Catalogue.load()
    brain = load_brain(settings, catalogue)
    return asyncio.run(
        run_chat(brain, catalogue, settings, language=args.lang, log=not args.no_log)
    )


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Start the Telegram bot; files it creates (database, spool, secret) are owner-only."""
    if not settings.telegram_token:
        raise UsageError("set TELEGRAM_BOT_TOKEN first (see README: Running on Telegram)")
    from bot.telegram.app import StartError, run  # noqa: PLC0415 - Telegram only when needed

    os.umask(0o077)
    try:
        return run(settings)
    except StartError as exc:
        print(f"run_bot.py: cannot start: {exc}", file=sys.stderr)
        return 1


def cmd_schema(args: argparse.Namespace, settings: Settings) -> int:
    """Print or write the JSON Schema, for editors."""
    from bot.knowledge.schema import render  # noqa: PLC0415 - only this command needs it

    if args.out is None:
        sys.stdout.write(render())
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(render(), encoding="utf-8")
        print(f"wrote {args.out}")
    return 0


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
    from bot.wiring import open_storage  # noqa: PLC0415 - storage only when there is a database

    storage = await open_storage(settings)
    try:
        found = await storage.partners.confirmations()
    finally:
        await storage.close()
    return {e: (c.owner, c.confirmed_at.date()) for e, c in found.items()}


COMMANDS: dict[str, Command] = {
    "chat": cmd_chat,
    "ask": cmd_ask,
    "validate": cmd_validate,
    "run": cmd_run,
    "schema": cmd_schema,
    "freshness": cmd_freshness,
    **spreadsheet.COMMANDS,
    **staff.COMMANDS,
    **operations.COMMANDS,
    **migrate.COMMANDS,
}


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run a command; errors become one clear line and an exit code."""
    # force: a library imported earlier (wordllama calls basicConfig at import) may already
    # have set a handler without timestamps; every line gets the time and level.
    logging.basicConfig(level=logging.WARNING, format=LOG_FORMAT, force=True)
    # httpx logs every request URL, and Telegram URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_from(args)
        command = args.command or ("run" if settings.telegram_token else "chat")
        level = settings.log_level or ("INFO" if command == "run" else "WARNING")
        logging.getLogger().setLevel(level.upper())
        if args.command is None:
            # Parse again as the chosen command, so its own options get their defaults.
            args = parser.parse_args([*(sys.argv[1:] if argv is None else argv), command])
        return COMMANDS[command](args, settings)
    except (UsageError, staff.InsightError, SpreadsheetError) as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(f"{parser.prog}: configuration error: {exc}", file=sys.stderr)
        return 2
    except KnowledgeError as exc:
        missing = [p for p in exc.problems if p.message.endswith("folder does not exist")]
        if missing and len(exc.problems) == 1:
            print(
                f"{parser.prog}: error: no knowledge base at {missing[0].file}; "
                "give one with --kb FOLDER (or BOT_KB)",
                file=sys.stderr,
            )
            return 2
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(
            f"{parser.prog}: the knowledge base has {len(exc.problems)} error(s); "
            "run `validate` for details",
            file=sys.stderr,
        )
        return 1
    except StorageError as exc:
        print(f"{parser.prog}: database error: {exc}", file=sys.stderr)
        return 1
    except SecretError as exc:
        print(f"{parser.prog}: secret error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (`ask --json | head`): stop quietly, like other Unix tools.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
