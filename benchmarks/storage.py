"""SQLite and PostgreSQL side by side: bulk logging, the needs refresh, and write latency.

    python benchmarks/storage.py [--count 100000] [--writes 400]

For each backend, in one run on the same machine: log `--count` questions in batches
(throughput), refresh the emerging needs over the unanswered ones, then time single-question
writes (one transaction each, as the bot logs them) with 1, 2 and 4 concurrent writers, each
writer its own connection (a replica, or a second SQLite connection): throughput and p50/p99
latency. PostgreSQL is a throwaway local server (tests/pgserver.py) with fsync on, as in
production, like SQLite's default (WAL, synchronous=FULL);
without one, only SQLite is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.insights import overview as insights
from bot.storage import LoggedQuestion, Storage
from tests import pgserver

TOPICS = ["cricket club", "halal butcher", "mosque prayer times", "winter tires", "tax clinic"]
BATCH = 1000


def questions(count: int, seed: int = 7) -> list[LoggedQuestion]:
    """A log like the bot's: 1 in 10 unanswered, spread over a year."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    out = []
    for i in range(count):
        unanswered = i % 10 == 0
        topic = rng.choice(TOPICS)
        out.append(
            LoggedQuestion(
                channel="telegram",
                language=rng.choice(["en", "en", "fr", "ar"]),
                outcome="unanswered" if unanswered else "answered",
                text=f"where is a {topic} near {rng.randint(1, 40)}",
                user_hash=f"u{rng.randint(1, count // 5)}",
                entry_id=None if unanswered else "health-card",
                score=rng.uniform(40, 99),
                asked_at=start + timedelta(seconds=i * 300),
            )
        )
    return out


async def bulk(target: str | Path, log: list[LoggedQuestion], spool: Path) -> dict[str, float]:
    storage = await Storage.open(target, spool_dir=spool)
    try:
        began = time.perf_counter()
        for i in range(0, len(log), BATCH):
            await storage.questions.log_many(log[i : i + BATCH])
        logged = time.perf_counter() - began
        began = time.perf_counter()
        grouped = await insights.refresh_needs(storage)
        refreshed = time.perf_counter() - began
        return {
            "log_s": logged,
            "rows_per_s": len(log) / logged,
            "refresh_s": refreshed,
            "grouped": grouped,
        }
    finally:
        await storage.close()


async def writers(target: str | Path, count: int, writes: int, spool: Path) -> dict[str, float]:
    stores = [await Storage.open(target, spool_dir=spool) for _ in range(count)]
    latencies: list[float] = []
    try:

        async def one(storage: Storage, number: int) -> None:
            for i in range(writes // count):
                q = LoggedQuestion(
                    channel="telegram",
                    language="en",
                    outcome="answered",
                    text=f"writer {number} question {i}",
                    user_hash=f"w{number}",
                )
                began = time.perf_counter()
                await storage.questions.log(q)
                latencies.append(time.perf_counter() - began)

        began = time.perf_counter()
        await asyncio.gather(*(one(s, n) for n, s in enumerate(stores)))
        elapsed = time.perf_counter() - began
    finally:
        for storage in stores:
            await storage.close()
    ordered = sorted(latencies)
    return {
        "per_s": len(latencies) / elapsed,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[int(len(ordered) * 0.99) - 1] * 1000,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--writes", type=int, default=400, help="single writes per writer count")
    args = parser.parse_args()
    log = questions(args.count)
    folder = Path(tempfile.mkdtemp(prefix="storage-bench-"))
    try:
        cluster: pgserver.Cluster | None = pgserver.start(fsync=True)
    except pgserver.ClusterUnavailable as exc:
        print(f"PostgreSQL not measured: {exc}")
        cluster = None
    try:
        backends: dict[str, str | Path] = {"sqlite": folder / "bulk.sqlite3"}
        if cluster is not None:
            backends["postgresql"] = cluster.create_database("bench")
        results: dict[str, dict[str, float]] = {}
        for name, target in backends.items():
            results[name] = await bulk(target, log, folder)
            for count in (1, 2, 4):
                where = (
                    folder / f"w{count}.sqlite3"
                    if name == "sqlite"
                    else (cluster.create_database("w") if cluster else "")
                )
                for key, value in (await writers(where, count, args.writes, folder)).items():
                    results[name][f"{count}w_{key}"] = value
    finally:
        if cluster is not None:
            cluster.stop()
    names = list(results)
    print(f"\n{args.count:,} questions; {args.writes} single writes per writer count\n")
    print(f"{'measure':<34}" + "".join(f"{n:>14}" for n in names))
    rows = [
        ("log (batches of 1,000), s", "log_s", "{:.2f}"),
        ("  rows per second", "rows_per_s", "{:,.0f}"),
        ("refresh needs, s", "refresh_s", "{:.2f}"),
        ("  questions grouped", "grouped", "{:,.0f}"),
    ]
    for count in (1, 2, 4):
        rows += [
            (f"{count} writer(s): writes per second", f"{count}w_per_s", "{:,.0f}"),
            (f"{count} writer(s): p50 latency, ms", f"{count}w_p50_ms", "{:.2f}"),
            (f"{count} writer(s): p99 latency, ms", f"{count}w_p99_ms", "{:.2f}"),
        ]
    for label, key, fmt in rows:
        print(f"{label:<34}" + "".join(f"{fmt.format(results[n][key]):>14}" for n in names))


if __name__ == "__main__":
    asyncio.run(main())
