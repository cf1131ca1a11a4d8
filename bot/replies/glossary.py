"""Explaining short forms: the first "OHIP" in an answer becomes "OHIP (Ontario Health ...)".

Newcomers read in a second language, and an answer may be the only one they read, so every
reply explains its acronyms once, whoever wrote it. An answer that already explains a term
(its meaning is written out, or the term is followed by brackets) is left as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.knowledge.model import Term, localise


class Glossary:
    """The knowledge base's terms, ready to explain in any language."""

    def __init__(self, terms: Iterable[Term]) -> None:
        self._terms = tuple(terms)

    def __len__(self) -> int:
        return len(self._terms)

    def explain(self, text: str, language: str) -> str:
        """The text with the first use of each term followed by its meaning in brackets."""
        for term in self._terms:
            short, meaning = localise(term.term, language), localise(term.meaning, language)
            if not short or not meaning or meaning.casefold() in text.casefold():
                continue
            # A whole word, case as written, not inside a web address ("ontario.ca/OHIP").
            found = re.search(rf"(?<![\w/.@-]){re.escape(short)}(?![\w/@-])", text)
            if (
                found is None
                or re.match(r"\s*\(", text[found.end() :])
                or (text[: found.start()].endswith("("))
            ):
                continue
            text = f"{text[: found.end()]} ({meaning}){text[found.end() :]}"
        return text
