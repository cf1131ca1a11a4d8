"""A fact-check anyone can rerun: every number in the knowledge base, with the facts line behind it.

    python benchmarks/facts.py [--kb knowledge] [--facts ../shared/durham-facts.md] [--all]

Lists every phone number, web address, email, street number, money amount, date, hour and other
number written in the knowledge base (answers, crisis replies, service and event texts, in every
language) with the first line of the facts file that supports it, and exits 1 on any it cannot
find. French and English are read the same way ("7 997 $" is "$7,997", "19 h" is "7 pm"; see
tests/parity.py). With --all it prints the supported claims too, not only the unsupported ones.

A few small numbers are plain general knowledge, not facts to source; they are listed in
GENERAL_KNOWLEDGE with why. Keep that list short: anything else belongs in the facts file.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bot.knowledge.loader import load_directory
from bot.knowledge.model import KnowledgeBase, localise
from bot.knowledge.model import texts_of as model_texts
from tests.parity import facts as claims_in

DEFAULT_FACTS = Path(
    os.environ.get("DURHAM_FACTS") or PROJECT.parent / "shared" / "durham-facts.md"
)

# Numbers anyone knows, written in answers without a source: (entry id or "*", claim) -> why.
GENERAL_KNOWLEDGE: dict[tuple[str, str], str] = {
    # Empty today: every number the knowledge base writes is in the facts file. Add a line only
    # for a count anyone knows, e.g. ("holidays-seasons", "31"): "Halloween is on October 31".
}


@dataclass(frozen=True)
class Claim:
    """One checkable thing an entry says, and the facts line that supports it (0: none)."""

    entry_id: str
    claim: str
    line: int
    why: str = ""


def texts_of(entry: object) -> list[str]:
    """Every English text of an entry, with its phones, website and email.

    French is not read here: tests/test_french_parity.py holds every French answer to the same
    numbers, phones, addresses and dates as its English one.
    """
    out = model_texts(entry, "en")
    out += [phone.number for phone in getattr(entry, "phones", [])]
    for site in getattr(entry, "locations", []):
        out += [site.address or "", localise(site.hours, "en"), *(p.number for p in site.phones)]
    for name in ("website", "email", "registration_url"):
        value = getattr(entry, name, None)
        if value:
            out.append(value)
    return [text for text in out if text]


# Small numbers and hours are common: the facts line must also share a word with the sentence
# (numbers of 3 digits or more, such as years, extensions and street numbers, need not).
_WORD = re.compile(r"[a-z]{3,}")
_COMMON = set(
    "about their there which every other would could first people after those with from "
    "this that have your more less than also only when".split()
)
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _words(text: str) -> set[str]:
    """Content words of 4+ letters, and day names as "mon", "tue"... ("Mon-Fri" = "Monday")."""
    out = set()
    for word in _WORD.findall(text.lower()):
        if word[:3] in _DAYS and (len(word) == 3 or word.endswith(("day", "days"))):
            out.add(word[:3])
        elif len(word) >= 4 and word not in _COMMON:
            out.add(word)
    return out


def _plain(claim: str) -> bool:
    return not claim.startswith(("phone ", "web ", "email ", "$"))


def _loose(claim: str) -> set[str]:
    """Other ways the facts may write a claim: '8:30' as '8:30' or '8.30'; '16:00' as '4'."""
    if re.fullmatch(r"\d{1,2}:\d\d", claim):
        hour, minutes = claim.split(":")
        twelve = str(int(hour) % 12 or 12)
        ways = {claim, f"{twelve}:{minutes}"}
        if minutes == "00":
            ways |= {hour, twelve}
        return ways
    if claim.startswith("web "):
        return {claim, "web " + re.sub(r"^www\.", "", claim[4:])}
    if claim.startswith("-"):
        return {claim, claim[1:]}
    return {claim}


def index_facts(text: str) -> tuple[dict[str, list[int]], list[str]]:
    """Each claim the facts file makes, with the lines that make it; and the lines."""
    lines = text.splitlines()
    where: dict[str, list[int]] = {}
    for number, line in enumerate(lines, 1):
        claims = set(claims_in(line))
        for claim in list(claims):
            if claim.startswith("web "):
                claims.add("web " + re.sub(r"^(https?://)?(www\.)?", "", claim[4:]))
        # A phone like "(905) 433-1551" or "905.668.7711" is one number in any notation.
        for run in re.findall(r"(?:1[\s.-])?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4}", line):
            digits = re.sub(r"\D", "", run)
            claims.add("phone " + (digits[1:] if len(digits) == 11 else digits))
        # Vanity numbers the facts spell out in digits: "1-800-222-TIPS (8477)".
        for area, exchange, spelled in re.findall(r"1-(\d{3})-(\d{3})-[A-Z]{4} \((\d{4})\)", line):
            claims.add(f"phone {area}{exchange}{spelled}")
        for claim in claims:
            where.setdefault(claim, []).append(number)
    return where, lines


def _key(claim: str) -> str:
    key = claim.replace("web https://", "web ").replace("web http://", "web ")
    return re.sub(r"^web www\.", "web ", key)


def check(knowledge: KnowledgeBase, facts_text: str) -> list[Claim]:
    """Every claim of the knowledge base, with its facts line (0 when unsupported)."""
    where, lines = index_facts(facts_text)
    out: list[Claim] = []
    for entry in [*knowledge.entries(), *knowledge.crisis]:
        seen: set[str] = set()
        for text in texts_of(entry):
            for sentence in re.split(r"(?<=[.;!?])\s+", text):
                words = _words(sentence)
                for claim in sorted(claims_in(sentence)):
                    if claim in seen or claim.startswith("month "):
                        continue  # a month is checked through its day and year
                    candidates = sorted(
                        n for way in _loose(_key(claim)) for n in where.get(way, [])
                    )
                    if _plain(claim) and not re.fullmatch(r"\d{3,}", claim):
                        candidates = [n for n in candidates if words & _words(lines[n - 1])]
                    why = GENERAL_KNOWLEDGE.get((entry.id, claim)) or GENERAL_KNOWLEDGE.get(
                        ("*", claim), ""
                    )
                    if not candidates and claim in {c.claim for c in out if c.entry_id == entry.id}:
                        continue
                    seen.add(claim)
                    out.append(Claim(entry.id, claim, candidates[0] if candidates else 0, why))
    return out


def main(argv: list[str] | None = None) -> int:
    """Print the fact-check; exit 1 when a claim has no supporting facts line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kb", type=Path, default=PROJECT / "knowledge")
    parser.add_argument("--facts", type=Path, default=DEFAULT_FACTS)
    parser.add_argument("--all", action="store_true", help="print supported claims too")
    args = parser.parse_args(argv)
    result = load_directory(args.kb)
    if result.knowledge is None:
        print("the knowledge base does not load:", *map(str, result.errors), sep="\n")
        return 2
    claims = check(result.knowledge, args.facts.read_text(encoding="utf-8"))
    missing = [c for c in claims if not c.line and not c.why]
    for c in claims:
        if c.line and args.all:
            print(f"ok       {c.entry_id}: {c.claim}  <- facts line {c.line}")
        elif c.why and not c.line and args.all:
            print(f"general  {c.entry_id}: {c.claim}  ({c.why})")
    for c in missing:
        print(f"MISSING  {c.entry_id}: {c.claim}  (no line of {args.facts.name} has it)")
    supported = sum(1 for c in claims if c.line)
    general = sum(1 for c in claims if c.why and not c.line)
    print(
        f"{len(claims)} claims: {supported} supported by a facts line, "
        f"{general} general knowledge, {len(missing)} unsupported"
    )
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
