"""Choose the learned danger model's thresholds (bot.matching.danger) on the training sets.

    python benchmarks/crisis_learn.py [--penalty 1e-5] [--folds 5] [--kb-negatives]

Only knowledge/safety/examples.jsonl (crisis.jsonl split=tune and crisis_dev2.jsonl
split=dev) is read. Each message gets an out-of-fold probability of danger (a model learned
without its fold). SURE is the probability above which at most 1.5% of ordinary messages
score... CONFIRM and SURE are chosen together for the most crises found on the dev messages (the
lexicons were not written from them) with at most 2% false alarms there. A lexicon hit is
confirmed by the whole message's score or by a clause's with a lexicon hit in it. The shipped
detector uses SURE only: it never lets the model overrule a lexicon hit (the reasons and the
sweep are in bot/matching/danger.py and benchmarks/RESULTS.md); CONFIRM is printed for that
comparison. --kb-negatives adds the knowledge base's questions as ordinary examples
(the bot does not: measured without). The report sets (crisis.jsonl heldout,
crisis_dev2.jsonl check) are never read here.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.knowledge.loader import load_knowledge
from bot.matching.danger import PENALTY, DangerModel, Example, ordinary_questions
from bot.matching.safety import SafetyDetector

EXAMPLES = ROOT / "knowledge" / "safety" / "examples.jsonl"
# Clauses: sentences and also commas ("i want to kill myself, how do I get a health card" is two
# requests in one sentence; the second dilutes the whole message's score).
_CLAUSE_END = re.compile(r"[.?!;:,\n。！？；：，、،؟।]+")
DEV = {
    r["text"]
    for r in map(json.loads, (ROOT / "tests/data/crisis_dev2.jsonl").open(encoding="utf-8"))
    if r["split"] == "dev"
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--penalty", type=float, default=PENALTY)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--kb-negatives", action="store_true")
    args = parser.parse_args(argv)
    knowledge = load_knowledge(ROOT / "knowledge")
    words = SafetyDetector.for_knowledge(knowledge)
    ordinary = ordinary_questions(knowledge) if args.kb_negatives else []
    rows = [json.loads(line) for line in EXAMPLES.read_text(encoding="utf-8").splitlines()]
    examples = [Example(r["text"], r["label"]) for r in rows]
    fold = np.random.default_rng(0).integers(0, args.folds, len(rows))
    danger = np.zeros(len(rows))
    confirm_score = np.zeros(len(rows))  # whole message or a clause with a lexicon hit
    start = time.perf_counter()
    for f in range(args.folds):
        train = [e for e, g in zip(examples, fold, strict=True) if g != f]
        model = DangerModel(train, ordinary, args.penalty).fit()
        held = np.flatnonzero(fold == f)
        danger[held] = 1 - model.probabilities([rows[i]["text"] for i in held])[:, 0]
        for i in held:
            clauses = [c for c in _CLAUSE_END.split(rows[i]["text"]) if c.strip()]
            hit = [c for c in clauses if len(clauses) > 1 and words.find_in_words(c)]
            scores = [model.danger(c)[0] for c in hit]
            confirm_score[i] = max([danger[i], *scores])
    print(f"{args.folds} folds learned in {time.perf_counter() - start:.1f} s")
    crisis = np.array([r["label"] != "none" for r in rows])
    lexicon = np.array([words.find_in_words(r["text"]) is not None for r in rows])
    # The dev messages: the lexicons were written before this set existed.
    dev = np.array([r["text"] in DEV for r in rows])
    best: tuple[float, float, float, float] | None = None
    for share in (0.97, 0.98, 0.985, 0.99, 0.995, 0.999):
        sure = float(np.quantile(danger[~crisis], share))
        for confirm in np.linspace(0.02, 0.6, 30):
            alarm = (danger >= sure) | (lexicon & (confirm_score >= confirm))
            false = alarm[~crisis & dev].mean()
            found = alarm[crisis & dev].mean()
            if false <= 0.02 and (best is None or found > best[0]):
                best = (float(found), float(false), sure, float(confirm))
    if best is None:
        print("no thresholds keep false alarms at 2% on the dev messages")
        return 1
    found, false, sure, confirm = best
    print(
        f"SURE={sure:.3f} CONFIRM={confirm:.3f}: dev messages found {found:.1%}, "
        f"false alarms {false:.1%}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
