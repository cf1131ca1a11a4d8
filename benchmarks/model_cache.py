"""The model cache across 20 accepted knowledge-base edits, side by side with an older checkout.

    python benchmarks/model_cache.py --baseline ../old-checkout

Each edit adds one question wording to an FAQ (as a partner's accepted change would), then the
matching engine is built with the model cache, as the bot does on a live reload. Printed: model
files left in the cache and their total size, and the mean build time.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from checkouts import checkouts, probe

# Runs inside each checkout: the old layout had flat modules, the new one packages.
PROBE = r"""
import json, sys, time
from pathlib import Path
try:
    from bot.knowledge.loader import load_knowledge
    from bot.matching.matcher import Matcher
except ImportError:
    from bot.loader import load_knowledge
    from bot.matcher import Matcher
kb, cache, edits = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
faq = kb / "faqs" / "health.yaml"
original = faq.read_text(encoding="utf-8")
seconds = []
for n in range(edits):
    marker = "        - how do I get a health card\n"
    faq.write_text(original.replace(marker, marker + f"        - health card question {n}\n", 1))
    start = time.perf_counter()
    Matcher(load_knowledge(kb), cache_dir=cache)
    seconds.append(time.perf_counter() - start)
files = sorted(cache.glob("model-*.npz"))
print(json.dumps({"files": len(files), "mb": sum(f.stat().st_size for f in files) / 1e6,
                  "seconds": sum(seconds) / len(seconds)}))
"""


def run(checkout: Path, edits: int) -> dict[str, float]:
    """Build `edits` times in a checkout with a fresh cache; the probe's figures."""
    with tempfile.TemporaryDirectory() as tmp:
        kb = Path(tmp) / "knowledge"
        shutil.copytree(checkout / "knowledge", kb)
        result: dict[str, float] = probe(
            checkout, PROBE, str(kb), str(Path(tmp) / "cache"), str(edits)
        )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", type=Path, help="an older checkout to compare with")
    parser.add_argument("--edits", type=int, default=20)
    args = parser.parse_args()
    print(f"{args.edits} accepted edits, each followed by a rebuild with the model cache:")
    print("| checkout | model files left | cache size | mean build |")
    print("|---|---|---|---|")
    for name, path in checkouts(args.baseline).items():
        figures = run(path, args.edits)
        print(
            f"| {name} | {figures['files']:.0f} | {figures['mb']:.0f} MB | "
            f"{figures['seconds']:.2f} s |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
