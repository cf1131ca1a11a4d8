"""Spelling repair: an unknown word becomes the knowledge base's closest word, when one is near.

Newcomers type on phones in a second language: "helth card aplication", "famly docter". The
engine's character n-grams already give such words partial credit, but the word itself (and
its pairs, "health card") would carry much more. A word the knowledge base never uses is
replaced by a known word one edit away (two for long words; a swap of neighbouring letters
counts as one edit), keeping the first letter: typos rarely change it, and requiring it keeps
"osap" from becoming "soap". Short words are left alone, since at four letters nearly every
word is one edit from another ("vote", "note").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from rapidfuzz import process
from rapidfuzz.distance import OSA

# Shortest word repaired, and the shortest allowed two edits.
MIN_LENGTH = 5
TWO_EDITS_LENGTH = 9


def _shared_start(one: str, other: str) -> int:
    """How many letters two words share at the start."""
    return next(
        (n for n, (a, b) in enumerate(zip(one, other, strict=False)) if a != b),
        min(len(one), len(other)),
    )


class Speller:
    """Repairs words against a vocabulary, preferring the commoner word on a tie."""

    def __init__(self, words: Iterable[str]) -> None:
        counts = Counter(w for w in words if w.isalpha())
        self._known = frozenset(counts)
        # Candidates by first letter, commonest first, so the first of equals wins.
        self._by_letter: dict[str, list[str]] = {}
        for word, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            self._by_letter.setdefault(word[0], []).append(word)

    def correct(self, word: str) -> str | None:
        """The known word this one is most likely a misspelling of; None when there is none."""
        if word in self._known or len(word) < MIN_LENGTH or not word.isalpha():
            return None
        allowed = 2 if len(word) >= TWO_EDITS_LENGTH else 1
        found = process.extract(
            word,
            self._by_letter.get(word[0], ()),
            scorer=OSA.distance,
            score_cutoff=allowed,
            limit=None,
        )
        if not found:
            return None
        # Fewest edits first, then the longest shared start ("meals" is "meal", not
        # "means"), then the commoner word (the lower position).
        candidate, _, _ = min(
            found, key=lambda hit: (hit[1], -_shared_start(word, str(hit[0])), hit[2])
        )
        return str(candidate)

    def repair(self, words: Iterable[str]) -> tuple[list[str], dict[str, str]]:
        """The words with misspellings replaced, and what was replaced by what."""
        out: list[str] = []
        changes: dict[str, str] = {}
        for word in words:
            fixed = self.correct(word)
            if fixed is not None:
                changes[word] = fixed
            out.append(fixed or word)
        return out, changes
