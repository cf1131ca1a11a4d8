"""The `ask` command: answer one question, or JSON lines, without a conversation."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import TYPE_CHECKING, Any, TextIO

from bot.assistant import Assistant
from bot.cli.parser import UsageError
from bot.config import Settings
from bot.replies.messages import Catalogue
from bot.text import normalise
from bot.wiring import encoder_for, load_brain, open_storage

if TYPE_CHECKING:
    from bot.assistant import Brain
    from bot.matching.matcher import Match


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
    catalogue = Catalogue.load()
    with encoder_for(settings) as encoder:
        brain = load_brain(settings, catalogue, encoder)
        return asyncio.run(_ask(args, settings, brain, catalogue, sys.stdin, sys.stdout))


async def _ask(
    args: argparse.Namespace,
    settings: Settings,
    brain: Brain,
    catalogue: Catalogue,
    stdin: TextIO,
    stdout: TextIO,
) -> int:
    storage = await open_storage(settings) if args.log else None
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
