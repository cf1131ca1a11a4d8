"""The `export` and `import` commands: the knowledge base as spreadsheets and back."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from bot.config import Settings
from bot.knowledge.loader import load_knowledge
from bot.knowledge.spreadsheet import SpreadsheetError, apply, export, plan


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    """Write the CSV files."""
    for path in export(load_knowledge(settings.kb_dir), args.folder):
        print(f"wrote {path}")
    return 0


def cmd_import(
    args: argparse.Namespace, settings: Settings, ask: Callable[[str], str] = input
) -> int:
    """Show the changes in the CSV files, then write them to YAML if confirmed."""
    knowledge = load_knowledge(settings.kb_dir)
    if not args.folder.is_dir():
        raise SpreadsheetError(f"{args.folder} is not a folder")
    change = plan(knowledge, args.folder)
    print(change.summary())
    if change.empty:
        return 0
    if not args.yes:
        if not sys.stdin.isatty():
            print("nothing written: add --yes to write the changes")
            return 1
        if ask("Write these changes? [y/N] ").strip().lower() not in ("y", "yes"):
            print("nothing written")
            return 1
    for path in apply(knowledge, change):
        print(f"wrote {path}")
    return 0
