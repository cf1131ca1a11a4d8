"""Partner tools on the knowledge base: `validate` and `schema`.

These must start fast (a partner runs `validate` after every edit): nothing here imports the
matching engine, Telegram, storage or asyncio.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

from bot.config import Settings
from bot.knowledge import validation
from bot.knowledge.loader import LoadResult, load_directory
from bot.knowledge.memo import Memo
from bot.knowledge.schema import render


def cmd_validate(args: argparse.Namespace, settings: Settings) -> int:
    """Check a knowledge base and print every problem as file:line:column: message."""
    directory = args.directory or settings.kb_dir
    days = settings.stale_after_days
    memo = Memo(settings.validate_cache)
    result = load_directory(directory, stale_after_days=days, memo=memo)
    if result.knowledge is not None:
        result.warnings.extend(validation.check(result.knowledge, date.today(), days, memo))
    memo.prune()
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


def cmd_schema(args: argparse.Namespace, settings: Settings) -> int:
    """Print or write the JSON Schema, for editors."""
    if args.out is None:
        sys.stdout.write(render())
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(render(), encoding="utf-8")
        print(f"wrote {args.out}")
    return 0
