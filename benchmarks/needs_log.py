"""Generate a realistic log of unanswered questions and time the grouping of emerging needs.

    python benchmarks/needs_log.py [--count N] [--db PATH] [--log generated|clinc] [--words-only]

Writes the log through the project's own storage module, then times `refresh_needs`
(first grouping of everything, then refreshes adding 1,000 new questions each: as the bot
does it, then the old way, reading the whole log again, then the daily regrouping) and
`list_needs` (the summaries staff see).

`--log generated` (the default): 40 needs in 10 templates (few distinct wordings).
`--log clinc`: CLINC150's questions, then typo'd copies (77,000 distinct wordings in
100,000, about 1,600 needs), as `needs_grouping.py --only-scale` builds them; with the
`multilingual` extra (unless `--words-only`), only its validation and test lines, each stored
with its encoder vector as the bot stores it.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.insights import overview as insights
from bot.storage import LoggedQuestion, Storage
from bot.storage.needs import forget_learnt

# Needs newcomers really voice that a starter knowledge base will not cover.
NEEDS = [
    "cricket club",
    "halal butcher",
    "driving test in punjabi",
    "tamil speaking family doctor",
    "mosque for friday prayer",
    "free winter boots for kids",
    "sponsor my parents",
    "volunteer at a hospital",
    "night classes for nurses",
    "used car with no credit history",
    "daycare subsidy waiting list",
    "soccer league for girls",
    "notary for translation",
    "gurdwara near me",
    "hindu temple",
    "caribbean grocery store",
    "eritrean community group",
    "chess club for seniors",
    "swimming lessons for adults",
    "part time job for students",
    "bike repair cafe",
    "tax clinic in arabic",
    "wedding venue cheap",
    "barber for curly hair",
    "sign language class",
    "piano teacher",
    "dentist accepting ifhp",
    "snow tires cost",
    "credit card without history",
    "apartment that allows pets",
    "ukrainian church",
    "farsi speaking lawyer",
    "study permit extension help",
    "kids coding camp",
    "cheap internet plan",
    "womens only gym",
    "community garden plot",
    "fishing licence",
    "second hand furniture",
    "korean language school for kids",
]
FRAMES = [
    "{n}",
    "where is {n}",
    "is there {n} in {p}",
    "how can i find {n}",
    "{n} {p}",
    "any {n}??",
    "looking for {n} near {p}",
    "do you know {n}",
    "i need {n} please",
    "où trouver {n} à {p}",
]
PLACES = [
    "Ajax",
    "Pickering",
    "Whitby",
    "Oshawa",
    "Bowmanville",
    "Port Perry",
    "Uxbridge",
    "Beaverton",
]


def typo(text: str, rng: random.Random, longer_than: int = 5) -> str:
    """Swap two neighbouring letters in one longer word, as thumbs do."""
    words = text.split()
    long = [i for i, w in enumerate(words) if len(w) > longer_than]
    if not long:
        return text
    i = rng.choice(long)
    w = words[i]
    j = rng.randrange(1, len(w) - 2)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    return " ".join(words)


def generate(count: int, seed: int = 7, now: datetime | None = None) -> list[LoggedQuestion]:
    """`count` unanswered questions over 90 days from a few thousand people."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(NEEDS))]  # a few big needs
    users = [f"user{u:05d}" for u in range(max(1, count // 6))]
    out = []
    for _ in range(count):
        need = rng.choices(NEEDS, weights)[0]
        text = rng.choice(FRAMES).format(n=need, p=rng.choice(PLACES))
        if rng.random() < 0.2:
            text = typo(text, rng)
        out.append(
            LoggedQuestion(
                channel="telegram",
                language="fr" if text.startswith("où") else "en",
                outcome="unanswered",
                text=text,
                user_hash=rng.choice(users),
                asked_at=now - timedelta(seconds=rng.randrange(90 * 86400)),
            )
        )
    return out


def from_clinc(count: int, seed: int = 5, words_only: bool = False) -> list[LoggedQuestion]:
    """`count` questions built from CLINC150 (with stored encoder vectors when it is there,
    unless `words_only`), over 90 days, in a random order."""
    import needs_grouping as ng  # here: needs_grouping imports this module's `typo`

    rng = random.Random(seed)
    rows = ng.clinc_rows()
    built = None if words_only else ng.scale_questions(count, rows, True, rng)
    built = built or ng.scale_questions(count, rows, False, rng)
    assert built is not None  # without the encoder, the words-only lines are always there
    _, stored, texts, picks = built
    order = list(range(count))
    rng.shuffle(order)
    now = datetime.now(UTC)
    users = [f"user{u:05d}" for u in range(max(1, count // 6))]
    return [
        LoggedQuestion(
            channel="telegram",
            language="en",
            outcome="unanswered",
            text=texts[k],
            user_hash=rng.choice(users),
            asked_at=now - timedelta(seconds=rng.randrange(90 * 86400)),
            vector=stored[picks[k]],
        )
        for k in order
    ]


async def main(count: int, db: Path, log: str = "generated", words_only: bool = False) -> None:
    """Fill a log and time the grouping."""
    storage = await Storage.open(db)
    try:
        started = time.perf_counter()
        questions = (
            generate(count)
            if log == "generated"
            else from_clinc(count + 3000, words_only=words_only)
        )
        extra = questions[count:] or generate(2000, seed=8)
        questions = questions[:count]
        with_vectors = sum(q.vector is not None for q in questions)
        print(
            f"{log} log: {len(set(q.text for q in questions)):,} distinct wordings in {count:,}; "
            f"{with_vectors:,} with a stored encoder vector"
        )
        await storage.questions.log_many(questions[: int(count * 0.99)])
        print(f"wrote {int(count * 0.99):,} questions in {time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        grouped = await insights.refresh_needs(storage)
        first = time.perf_counter() - started
        needs = await storage.needs.all(with_members=False)
        print(
            f"grouped {grouped:,} questions into {len(needs)} needs in {first:.2f} s "
            f"({first / max(grouped, 1) * 1e6:.0f} µs per question)"
        )

        await storage.questions.log_many(questions[int(count * 0.99) :])
        started = time.perf_counter()
        added = await insights.refresh_needs(storage)
        print(
            f"incremental: {added:,} new questions grouped in {time.perf_counter() - started:.2f} s"
        )

        # The old way: with nothing learnt stored, a refresh reads and learns the whole log.
        await storage.questions.log_many(extra[:1000])
        await storage.db.transaction(forget_learnt)
        started = time.perf_counter()
        added = await insights.refresh_needs(storage, regroup=False)
        print(
            f"the old way (every stored question read and learnt again): {added:,} new "
            f"questions grouped in {time.perf_counter() - started:.2f} s"
        )

        # The first refresh of each day also regroups every stored question (REGROUP_EVERY).
        await storage.questions.log_many(extra[1000:2000])
        started = time.perf_counter()
        added = await insights.refresh_needs(storage, regroup=True)
        print(
            f"daily regrouping: {added:,} new questions grouped, every stored one read again, "
            f"in {time.perf_counter() - started:.2f} s"
        )

        started = time.perf_counter()
        since, until = insights.period(None, None)
        summaries = await insights.list_needs(storage, since, until)
        print(
            f"summarised {len(summaries)} needs (last 7 days vs 7 before) in "
            f"{time.perf_counter() - started:.2f} s"
        )
        print("top 10 needs:")
        for need in summaries[:10]:
            print(f"  #{need.id:<4} {need.askers:>6} people  {need.trend:<6} {need.representative}")
        if log != "generated":
            return  # CLINC150's needs are its intents: the quality figures are needs_grouping's
        expected = len(NEEDS)
        print(
            f"needs found: {len(needs)} for {expected} generated topics "
            f"({len(needs) / expected:.2f}x; 1.00x would be perfect grouping)"
        )
    finally:
        await storage.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--log", choices=("generated", "clinc"), default="generated")
    parser.add_argument("--words-only", action="store_true", help="clinc: no encoder vectors")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "needs.sqlite3"
        asyncio.run(main(args.count, db, args.log, args.words_only))
