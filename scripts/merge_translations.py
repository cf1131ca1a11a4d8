"""Merge translations (one YAML file per language) into the knowledge base, once.

Each input file holds, for one language code:

    topics: {topic-id: {title: ..., description: ...}}
    faqs:   {faq-id: {questions: [...], answer: ...}}

The script edits knowledge/topics.yaml and knowledge/faqs/*.yaml as text, so the files keep
their comments and layout: each FAQ's `questions:` and `answer:` mappings get one more
language code (answers as folded block scalars, like the English ones), and each topic's
one-line `title: {en: ..., fr: ...}` becomes a block mapping with every language.

It refuses to run when a language is already in the knowledge base (run it once per
language): merging twice would duplicate keys. Translations merged this way are NOT marked
reviewed: a native speaker adds the code to the entry's `reviewed:` list after checking.

Usage: python scripts/merge_translations.py KNOWLEDGE_DIR TRANSLATION.yaml [...]
"""

from __future__ import annotations

import json
import re
import sys
import textwrap
import unicodedata
from pathlib import Path
from typing import Any

import yaml

WIDTH = 96  # the knowledge base's answers wrap at about 96 characters
_ENTRY = re.compile(r"^  - id: (\S+)\s*$")


def _quoted(text: str) -> str:
    # JSON strings are valid YAML double-quoted scalars, whatever the text holds.
    return json.dumps(text.strip(), ensure_ascii=False)


def _no_spaces(text: str) -> bool:
    """Chinese and Japanese are written without spaces: a folded line break would add one."""
    return any(unicodedata.name(ch, "").startswith("CJK") for ch in text)


def _block(text: str, indent: int) -> list[str]:
    """A folded block scalar's lines (after the `key: >-` line)."""
    pad = " " * indent
    flat = " ".join(text.split())
    if _no_spaces(flat):
        return [pad + flat]
    return [
        pad + line
        for line in textwrap.wrap(
            flat, WIDTH - indent, break_long_words=False, break_on_hyphens=False
        )
    ]


def _end_of_mapping(lines: list[str], key_line: int, indent: int) -> int:
    """The index after the last line belonging to the mapping under `key_line`."""
    end = key_line + 1
    last = key_line
    while end < len(lines):
        line = lines[end]
        if line.strip() and (len(line) - len(line.lstrip())) <= indent:
            break
        if line.strip() and not line.lstrip().startswith("#"):
            last = end
        end += 1
    return last + 1


def _next_entry(
    lines: list[str], start: int, wanted: dict[str, Any]
) -> tuple[str, int, int] | None:
    """The next entry from line `start` whose id is wanted: its id, first line after the
    `- id:` line, and end (the next `- id:` line, or the end of the file)."""
    for i in range(start, len(lines)):
        found = _ENTRY.match(lines[i])
        if found and found.group(1) in wanted:
            end = next((j for j in range(i + 1, len(lines)) if _ENTRY.match(lines[j])), len(lines))
            return found.group(1), i + 1, end
    return None


def _slot(lines: list[str], where: str, span: tuple[int, int], field: str, code: str) -> int:
    """Where language `code` goes in the entry's `field:` mapping (after its last line)."""
    start, end = span
    key = next((j for j in range(start, end) if lines[j].rstrip() == f"    {field}:"), None)
    if key is None:
        raise SystemExit(f"{where} has no `{field}:` mapping")
    at = _end_of_mapping(lines, key, 4)
    if any(lines[j].startswith(f"      {code}:") for j in range(key, at)):
        raise SystemExit(f"{where} already has {code}: merged twice?")
    return at


def merge_faqs(path: Path, code: str, faqs: dict[str, Any]) -> int:
    """Add language `code` to the FAQs of one file; returns how many were merged."""
    lines = path.read_text(encoding="utf-8").split("\n")
    merged = 0
    i = 0
    while (entry := _next_entry(lines, i, faqs)) is not None:
        entry_id, start, end = entry
        translation = faqs[entry_id]
        for field in ("answer", "questions"):  # answer is after questions: insert it first
            at = _slot(lines, f"{path}: {entry_id}", (start, end), field, code)
            if field == "answer":
                new = [f"      {code}: >-", *_block(translation["answer"], 8)]
            else:
                new = [f"      {code}:"] + [
                    f"        - {_quoted(q)}" for q in translation["questions"]
                ]
            lines[at:at] = new
            end += len(new)
        merged += 1
        i = end
    path.write_text("\n".join(lines), encoding="utf-8")
    return merged


def merge_topics(path: Path, code: str, topics: dict[str, Any]) -> int:
    """Add language `code` to the topics' titles and descriptions."""
    lines = path.read_text(encoding="utf-8").split("\n")
    merged = 0
    i = 0
    while (entry := _next_entry(lines, i, topics)) is not None:
        entry_id, start, end = entry
        translation = topics[entry_id]
        for j in range(start, end):
            if lines[j].startswith("    title: {"):
                # A one-line flow mapping becomes a block mapping, one language a line.
                titles = yaml.safe_load(lines[j].split(":", 1)[1])
                lines[j : j + 1] = ["    title:"] + [
                    f"      {lang}: {_quoted(text)}" for lang, text in titles.items()
                ]
                end += len(titles)
                break
        for field in ("description", "title"):
            at = _slot(lines, f"{path}: topic {entry_id}", (start, end), field, code)
            lines[at:at] = [f"      {code}: {_quoted(translation[field])}"]
            end += 1
        merged += 1
        i = end
    path.write_text("\n".join(lines), encoding="utf-8")
    return merged


def main(argv: list[str]) -> int:
    """Merge each translation file given into the knowledge base."""
    if len(argv) < 2:
        print(__doc__)
        return 2
    root = Path(argv[0])
    for name in argv[1:]:
        source = Path(name)
        code = source.stem
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
        faqs: dict[str, Any] = data.get("faqs", {})
        done = merge_topics(root / "topics.yaml", code, data.get("topics", {}))
        count = sum(merge_faqs(p, code, faqs) for p in sorted((root / "faqs").glob("*.yaml")))
        if count != len(faqs):
            raise SystemExit(f"{source}: merged {count} of {len(faqs)} FAQs (unknown ids?)")
        print(f"{code}: {done} topics, {count} FAQs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
