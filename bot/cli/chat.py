"""The terminal chat: the same matcher, cards and question log as Telegram, in a terminal."""

from __future__ import annotations

import asyncio
import getpass
import sys
from typing import TextIO

from bot.assistant import Assistant, Brain
from bot.config import Settings
from bot.matching.matcher import Outcome
from bot.replies.messages import Catalogue
from bot.wiring import make_hasher, open_storage


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
    storage = await open_storage(settings) if log else None
    user_hash = make_hasher(settings)("console", getpass.getuser()) if log else None
    assistant = Assistant(brain, catalogue, storage)
    interactive = reader.isatty()
    choices: tuple[str, ...] = ()
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
            if text.isdigit() and 0 < int(text) <= len(choices):
                entry_id = choices[int(text) - 1]
                lang = language or "en"
                out.write("\n" + assistant.brain.cards.entry(entry_id, lang) + "\n")
                choices = ()
                continue
            answer = await assistant.ask(
                text, language=language, channel="console", user_hash=user_hash, log=log
            )
            out.write("\n" + answer.text + "\n")
            choices = tuple(c.entry_id for c in answer.match.choices)
            if choices and answer.match.outcome in (Outcome.AMBIGUOUS, Outcome.UNANSWERED):
                out.write(catalogue.get("chat.choose", answer.match.language) + "\n")
        out.write(catalogue.get("chat.bye", language) + "\n")
        return 0
    finally:
        if storage is not None:
            await storage.close()
