"""Are the cards the same? Renders every entry's card (English and French) and a set of
questions' replies in this checkout and another, and lists what differs.

    python benchmarks/compare_cards.py --baseline ../old-checkout [--kb knowledge-folder]

Use it around a refactor: behaviour is unchanged when it prints "0 differ".
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from checkouts import HERE, probe

PROBE = r"""
import json, sys
from pathlib import Path
try:
    from bot.knowledge.loader import load_knowledge
    from bot.replies.messages import Catalogue
    from bot.assistant import Brain
except ImportError:
    from bot.loader import load_knowledge
    from bot.messages import Catalogue
    from bot.assistant import Brain
from datetime import date
kb, questions = Path(sys.argv[1]), Path(sys.argv[2])
catalogue = Catalogue.load()
brain = Brain.build(load_knowledge(kb), catalogue, today=date(2026, 12, 1))
out = {}
for entry in brain.knowledge.entries():
    for lang in ("en", "fr"):
        out[f"card {entry.id} {lang}"] = brain.cards.entry(entry.id, lang)
for line in questions.read_text(encoding="utf-8").splitlines():
    text = json.loads(line)["text"]
    match = brain.matcher.match(text)
    out[f"reply {text}"] = brain.cards.for_match(match)
print(json.dumps(out))
"""


def cards(checkout: Path, kb: Path, questions: Path) -> dict[str, str]:
    """Every card and reply rendered by one checkout."""
    result: dict[str, str] = probe(checkout, PROBE, str(kb), str(questions))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", type=Path, required=True)
    parser.add_argument("--kb", type=Path, help="knowledge base for both (default: baseline's)")
    parser.add_argument("--questions", type=Path, help="questions (default: baseline's set)")
    args = parser.parse_args()
    baseline = args.baseline.resolve()
    kb = (args.kb or baseline / "knowledge").resolve()
    questions = (args.questions or baseline / "tests" / "data" / "questions.jsonl").resolve()
    old, new = cards(baseline, kb, questions), cards(HERE, kb, questions)
    differ = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    for key in differ[:20]:
        print(f"--- {key}\n  before: {old.get(key)!r}\n  after:  {new.get(key)!r}")
    print(f"{len(old.keys() | new.keys())} cards and replies compared, {len(differ)} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
