"""The safety tripwire: spots messages about danger before any matching happens."""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz.distance import OSA

from bot.knowledge.model import CrisisLine, all_texts
from bot.text import normalise


@dataclass(frozen=True)
class _Trigger:
    words: tuple[str, ...]
    line: CrisisLine


def _same_word(typed: str, trigger: str) -> bool:
    # One typo (or swapped pair of letters) is forgiven in longer words ("suicde", "myslef");
    # short words must match exactly so "die" does not fire on "did" or "dye".
    # Only in Latin and Cyrillic words: in Arabic script one letter apart is often another
    # word ("انتظار", waiting, is one letter from "انتحار", suicide).
    if typed == trigger:
        return True
    if not all(ch.isascii() or "\u00c0" <= ch <= "\u04ff" for ch in trigger):
        return False
    return len(trigger) >= 5 and OSA.distance(typed, trigger, score_cutoff=1) <= 1


def _unspaced(words: tuple[str, ...]) -> bool:
    """True for a phrase in a script written without spaces (Chinese)."""
    return any("\u4e00" <= ch <= "\u9fff" for word in words for ch in word)


class Tripwire:
    """Finds the most urgent crisis category whose trigger phrase appears in a message."""

    def __init__(self, lines: tuple[CrisisLine, ...]) -> None:
        triggers: list[_Trigger] = []
        for line in lines:  # already sorted by priority
            for phrase in all_texts(line.triggers):
                words = tuple(normalise(phrase).split())
                if words:
                    triggers.append(_Trigger(words, line))
        self._triggers = tuple(triggers)

    def __len__(self) -> int:
        return len(self._triggers)

    def check(self, text: str) -> CrisisLine | None:
        """The crisis line for this message, or None when no trigger phrase is present."""
        words = normalise(text).split()
        # Chinese has no spaces between words: its phrases are found inside the text.
        unspaced = "".join(words)
        for trigger in self._triggers:
            if _unspaced(trigger.words):
                if "".join(trigger.words) in unspaced:
                    return trigger.line
                continue
            size = len(trigger.words)
            for start in range(len(words) - size + 1):
                if all(_same_word(words[start + i], trigger.words[i]) for i in range(size)):
                    return trigger.line
        return None
