"""Split long HTML replies into messages Telegram accepts, never inside a tag or an entity."""

from __future__ import annotations

import re

TELEGRAM_LIMIT = 4096
# Cards close every tag on the line that opens it, so a line break is always a safe place
# to cut; inside a line, only spaces outside tags are.
_SPACE_OUTSIDE_TAG = re.compile(r" (?![^<]*>)")


def _cut_line(line: str, limit: int) -> list[str]:
    pieces: list[str] = []
    while len(line) > limit:
        cut = -1
        for match in _SPACE_OUTSIDE_TAG.finditer(line, 0, limit):
            cut = match.start()
        if cut <= 0:
            # One unbroken word longer than a message: cut before any entity or tag starts.
            cut = limit
            while cut > 0 and ("&" in line[max(0, cut - 8) : cut] or "<" in line[cut - 1 : cut]):
                cut -= 1
            cut = cut or limit
        pieces.append(line[:cut])
        line = line[cut:].lstrip(" ")
    pieces.append(line)
    return pieces


def split_html(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Parts of at most `limit` characters, cut at paragraphs, then lines, then spaces."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for paragraph in text.split("\n\n"):
        for piece in _pieces(paragraph, limit):
            joiner = "\n\n" if current and piece is paragraph else "\n"
            candidate = f"{current}{joiner}{piece}" if current else piece
            if len(candidate) <= limit:
                current = candidate
            else:
                parts.append(current)
                current = piece
    if current:
        parts.append(current)
    return [p for p in parts if p.strip()]


def _pieces(paragraph: str, limit: int) -> list[str]:
    """A paragraph as it is, or its lines (cut further when one line is too long)."""
    if len(paragraph) <= limit:
        return [paragraph]
    out: list[str] = []
    for line in paragraph.split("\n"):
        out.extend(_cut_line(line, limit))
    return out
