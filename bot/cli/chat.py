"""The terminal chat: the same matcher, cards and question log as Telegram, in a terminal."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from datetime import UTC, datetime
from typing import TextIO

from bot.assistant import Assistant, Brain
from bot.config import Settings
from bot.matching.matcher import Outcome
from bot.replies.cards import PLAIN
from bot.replies.messages import Catalogue
from bot.replies.screens import Action, Choice, Screen
from bot.wiring import encoder_for, load_brain, make_hasher, open_storage


async def run_chat(
    brain: Brain,
    catalogue: Catalogue,
    settings: Settings,
    *,
    language: str | None = None,
    log: bool = True,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> int:
    """Read questions line by line until end of input or /quit; answer each one."""
    reader = stdin or sys.stdin
    out = stdout or sys.stdout
    catalogue = catalogue.for_region(brain.knowledge.region)
    storage = await open_storage(settings) if log else None
    user_hash = make_hasher(settings)("console", getpass.getuser()) if log else None
    assistant = Assistant(brain, catalogue, storage)
    interactive = reader.isatty()
    # The numbered options on screen: an answer's choices or a browsing screen's buttons.
    choices: list[Choice] = []
    out.write(catalogue.get("chat.welcome", language) + "\n")
    try:
        while True:
            if interactive:
                out.write(f"\n{catalogue.get('chat.prompt', language)}> ")
                out.flush()
            line = await asyncio.to_thread(reader.readline)
            if not line:
                break
            text = line.strip()
            if not text:
                continue
            if text.lower() in {"/quit", "/exit", "quit", "exit"}:
                break
            lang = language or "en"
            screens = assistant.brain.screens
            now = datetime.now(UTC)
            screen: Screen | None = None
            if text.lower() == "/topics":
                screen = screens.topics(lang, PLAIN)
            elif text.lower() == "/events":
                screen = screens.events(lang, PLAIN, now)
            elif text.isdigit() and 0 < int(text) <= len(choices):
                picked = choices[int(text) - 1]
                entry_id = str(picked.args[0]) if picked.args else ""
                if picked.action is Action.TOPIC and entry_id:
                    screen = screens.topic(entry_id, lang, PLAIN, now)
                elif picked.action is Action.TOPIC:
                    screen = screens.topics(lang, PLAIN)
                elif picked.action is Action.EVENTS:
                    screen = screens.events(lang, PLAIN, now, entry_id)
                else:
                    out.write("\n" + assistant.brain.cards.entry(entry_id, lang) + "\n")
                    choices = []
                    continue
            if screen is not None:
                choices = screen.choices
                out.write("\n" + _numbered(screen.text, choices) + "\n")
                continue
            answer = await assistant.ask(
                text, language=language, channel="console", user_hash=user_hash, log=log
            )
            out.write("\n" + answer.text + "\n")
            choices = [Choice("", Action.CHOICE, (c.entry_id,)) for c in answer.match.choices]
            if choices and answer.match.outcome in (Outcome.AMBIGUOUS, Outcome.UNANSWERED):
                out.write(catalogue.get("chat.choose", answer.match.language) + "\n")
        out.write(catalogue.get("chat.bye", language) + "\n")
        return 0
    finally:
        if storage is not None:
            await storage.close()


def _numbered(text: str, choices: list[Choice]) -> str:
    """A screen for the terminal: its text, then its choices as a numbered list."""
    lines = [text, *(f"{n}. {c.label}" for n, c in enumerate(choices, 1))]
    return "\n".join(lines)


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    """A conversation in the terminal."""
    catalogue = Catalogue.load()
    with encoder_for(settings) as encoder:
        brain = load_brain(settings, catalogue, encoder)
        return asyncio.run(
            run_chat(brain, catalogue, settings, language=args.lang, log=not args.no_log)
        )
