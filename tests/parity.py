"""What an English and a French text must share: numbers, amounts, phones, web addresses,
emails, organisation names and dates. Used by tests/test_french_parity.py.

Each text is reduced to a set of comparable facts, written the same way in both languages:
"$7,997" and "7 997 $" are both "$7997"; "7 pm" and "19 h" are both "19:00"; "July" and
"juillet" are both "month 7"; "1re" and "1st" are both "1".
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_PHONE = re.compile(r"(?<![\d-])(?:1-)?\d{3}-\d{3}-\d{4}(?![\d-])|\b1-\d{3}-\d{3}-[A-Z]{4}\b")
_URL = re.compile(
    r"(?<![@\w.-])(?:https?://)?(?:[a-z0-9-]+\.)+(?:ca|com|org|net)(?:/[^\s<>\"'),;]*)?",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_MONEY = re.compile(r"\$\s?(\d[\d,]*(?:\.\d+)?)|(\d[\d\s\u00a0\u202f]*(?:,\d+)?)\s?\$")
_TIME_EN = re.compile(r"\b(\d{1,2})(?::(\d\d))?\s*(a\.?m\.?|p\.?m\.?)(?![a-z])", re.IGNORECASE)
_TIME_FR = re.compile(r"\b(\d{1,2})\s?h\s?(\d\d)?(?![a-z])")
_CLOCK = re.compile(r"\b(\d{1,2}):(\d\d)\b")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
MONTHS = {
    **{
        m: i
        for i, m in enumerate(
            (
                "january february march april may june july august september october november "
                "december"
            ).split(),
            1,
        )
    },
    **{
        m: i
        for i, m in enumerate(
            (
                "janvier février mars avril mai juin juillet août septembre octobre novembre "
                "décembre"
            ).split(),
            1,
        )
    },
}
# "May" is also a verb; a month is only read next to a day or a year.
_MONTH = re.compile(
    r"(?:\b\d{1,2}(?:er|st|nd|rd|th)?\s+)?\b(" + "|".join(MONTHS) + r")\b(?=\s+\d|\s*,\s*\d)"
    r"|(?:(?<=\d\s)|(?<=\der\s))(" + "|".join(MONTHS) + r")\b",
    re.IGNORECASE,
)


def _amount(text: str) -> str:
    text = re.sub(r"[\s\u00a0\u202f]", "", text)
    if re.fullmatch(r"\d+,\d{1,2}", text):  # French decimal comma
        text = text.replace(",", ".")
    text = text.replace(",", "")
    if text.endswith(".00"):
        text = text[:-3]
    return "$" + text


def facts(text: str) -> set[str]:
    """The mechanically checkable facts of one text."""
    found: set[str] = set()
    rest = text
    for pattern, kind in ((_EMAIL, "email"), (_URL, "web")):
        for match in pattern.finditer(rest):
            found.add(f"{kind} {match.group(0).lower().rstrip('/.')}")
        rest = pattern.sub(" ", rest)
    for match in _PHONE.finditer(rest):
        digits = re.sub(r"[^0-9A-Z]", "", match.group(0))
        found.add("phone " + (digits[1:] if len(digits) == 11 else digits))
    rest = _PHONE.sub(" ", rest)
    for match in _MONEY.finditer(rest):
        found.add(_amount(match.group(1) or match.group(2)))
    rest = _MONEY.sub(" ", rest)
    for match in _TIME_EN.finditer(rest):
        hour = int(match.group(1)) % 12 + (12 if match.group(3).lower().startswith("p") else 0)
        found.add(f"{hour}:{match.group(2) or '00'}")
    rest = _TIME_EN.sub(" ", rest)
    for match in _TIME_FR.finditer(rest):
        found.add(f"{int(match.group(1))}:{match.group(2) or '00'}")
    rest = _TIME_FR.sub(" ", rest)
    for match in _CLOCK.finditer(rest):
        found.add(f"{int(match.group(1))}:{match.group(2)}")
    rest = _CLOCK.sub(" ", rest)
    for match in _MONTH.finditer(rest):
        found.add(f"month {MONTHS[(match.group(1) or match.group(2)).lower()]}")
    # Thousands written "40,000" or "40 000" are one number; decimals keep their point.
    rest = re.sub(r"(?<=\d)[,\u00a0\u202f ](?=\d{3}(?!\d))", "", rest)
    for match in _NUMBER.finditer(rest):
        found.add(match.group(0).replace(",", "."))
    return found


def names_in(text: str, names: dict[str, Iterable[str]]) -> set[str]:
    """The organisations (by id) a text names, under any of their names."""

    def named(alias: str) -> bool:
        # A short form ("CES") only counts in capitals: "ces" is a French word.
        flags = 0 if alias.isupper() else re.IGNORECASE
        return bool(re.search(rf"(?<!\w){re.escape(alias)}(?!\w)", text, flags))

    return {key for key, aliases in names.items() if any(named(a) for a in aliases)}
