"""Money figures carry the period they are valid for, so nobody reads an expired amount as current.

An entry with an amount, income limit or fee says when its figures took effect
(`figures_from`) and, where the source says so, when they stop (`figures_until`). Cards show
the period ("Amounts for July 2025 to June 2026"); `validate` and `freshness` warn owners once
it has passed, and the card then says the figures may be out of date. A period with no end is
treated as valid for a year from its start (the sources change fares, wages and benefits yearly).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from bot.knowledge.model import Provenance

# A period with no stated end is checked again this long after it starts.
OPEN_PERIOD = timedelta(days=365)

# A money figure in a text: "$7,997", "$3.60", "7 997 $", "17,60 $".
MONEY = re.compile(r"\$\s?\d[\d,.]*\d|\$\s?\d|\d[\d\s\u00a0\u202f,.]*\d\s?\$|\d\s?\$")

MONTHS = {
    "en": (
        "January February March April May June July August September October November December"
    ).split(),
    "fr": (
        "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
    ).split(),
}


def has_money(text: str) -> bool:
    """True when a text states a money figure."""
    return bool(MONEY.search(text))


def month(day: date, language: str) -> str:
    """ "July 2025" or "juillet 2025"."""
    names = MONTHS.get(language, MONTHS["en"])
    return f"{names[day.month - 1]} {day.year}"


def ends(entry: Provenance) -> date | None:
    """The last day the entry's figures are known to be valid, if it has figures."""
    if entry.figures_until is not None:
        return entry.figures_until
    if entry.figures_from is not None:
        return entry.figures_from + OPEN_PERIOD
    return None


def expired(entry: Provenance, today: date) -> bool:
    """True when the entry's figures are past their period (and may be out of date)."""
    last = ends(entry)
    return last is not None and today > last


def expiry_reason(entry: Provenance, today: date) -> str | None:
    """Why an owner should re-check the entry's figures, or None while they are current."""
    if not expired(entry, today):
        return None
    if entry.figures_until is not None:
        return f"its figures were valid until {entry.figures_until.isoformat()}"
    return f"its figures date from {entry.figures_from}, over a year ago, with no end given"


def period_key(entry: Provenance) -> tuple[str, dict[str, date]] | None:
    """The message key and dates that describe the figures' period, if the entry has one."""
    if entry.figures_from and entry.figures_until:
        return "figures.period", {"start": entry.figures_from, "end": entry.figures_until}
    if entry.figures_from:
        return "figures.since", {"start": entry.figures_from}
    if entry.figures_until:
        return "figures.until", {"end": entry.figures_until}
    return None
