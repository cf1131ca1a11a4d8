"""How long partner and operator commands take to start, side by side with an older checkout.

    python benchmarks/startup.py                      # this checkout only
    python benchmarks/startup.py --baseline ../old    # alternate runs with another checkout
    python benchmarks/startup.py --baseline ../old --kb knowledge   # both on one knowledge base

Each command runs `--runs` times per checkout, alternating, so a busy machine slows both alike;
the table shows the median and the fastest wall time, and the ratio of medians.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from checkouts import checkouts

COMMANDS: dict[str, list[str]] = {
    "--help": ["--help"],
    "validate": ["validate"],
    "schema": ["schema"],
    "freshness": ["freshness"],
}


def timed(checkout: Path, args: list[str]) -> float:
    """Wall seconds of one `run_bot.py` command in a checkout."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "run_bot.py", *args],
        cwd=checkout,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", type=Path, help="another checkout to compare with")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--kb", type=Path, help="one knowledge base for both checkouts (default: each its own)"
    )
    args = parser.parse_args()
    found = checkouts(args.baseline)
    kb = ["--kb", str(args.kb.resolve())] if args.kb else []
    print(f"| command | {' | '.join(f'{n} median (min)' for n in found)} | ratio |")
    print("|---|" + "---|" * len(found) + "---|")
    commands = {
        **COMMANDS,
        # A fresh data folder each run: nothing kept from an earlier `validate`.
        "validate, first run": ["validate", "--data-dir", "{fresh}"],
    }
    for name, command in commands.items():
        times: dict[str, list[float]] = {n: [] for n in found}
        for _ in range(args.runs):
            for label, path in found.items():
                with tempfile.TemporaryDirectory() as fresh:
                    arguments = [a.replace("{fresh}", fresh) for a in command]
                    times[label].append(timed(path, [*arguments, *kb]))
        medians = {n: statistics.median(t) for n, t in times.items()}
        cells = " | ".join(f"{medians[n]:.2f} s ({min(times[n]):.2f})" for n in found)
        ratio = f"{medians['this'] / medians['baseline']:.2f}" if "baseline" in medians else "-"
        print(f"| {name} | {cells} | {ratio} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
