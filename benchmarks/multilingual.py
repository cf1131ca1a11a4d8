"""Newcomer questions in ten languages: answered right, offered, out-of-scope kept out, crises.

Reads tests/data/multilingual.jsonl (written independently of the knowledge base: in-scope
questions incl. romanised and code-switched ones, out-of-scope questions and crises). Splits:
`tune` (17 per language) and `heldout` (17) from the first session; `check` (28 per language:
20 in scope, 5 out of scope, 3 crises), written later by a helper who saw only the FAQ ids and
their first English wording, never tuned on; `dev` (30 in scope and 7-8 out of scope per
language, 376 in all), written in December 2026 by a helper who saw only the FAQ list (id,
title, one English wording), to tune on. Thresholds are chosen on `tune` and `dev`; `report`
(the default) is `heldout` and `check` together: 32 in-scope questions per language. Both
matchers (words only, and words plus the multilingual encoder of the `multilingual` extra, when
installed) run side by side in one run.

    python benchmarks/multilingual.py [--split report|heldout|check|tune|dev|all] [--no-extra]
                                      [--kb FOLDER] [--calibrate]

Columns per language: right = in-scope answered with the expected entry; offered = the
expected entry answered or among the buttons offered; oos = out-of-scope not answered;
crisis = crisis messages that got the crisis reply (which always starts with 911);
911/988 = crisis messages whose reply names 911 or 988 at all: the crisis reply, or the safety
line (under every reply that is not a sure answer, and under a sure answer to a message the
safety model worries about).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import limit_blas_threads

limit_blas_threads()  # as the bot does, before numpy loads

from bot.knowledge.loader import load_directory
from bot.matching import encoder as multilingual
from bot.matching.matcher import EncoderSettings, Match, Matcher, Outcome

DATA = ROOT / "tests" / "data" / "multilingual.jsonl"
PROBES = ROOT / "tests" / "data" / "multilingual_oos_probes.jsonl"
# The safety layer as the bot runs it: lexicons and the learned danger model.
EXAMPLES = ROOT / "knowledge" / "safety" / "examples.jsonl"
CACHE = ROOT / ".cache" / "benchmarks"
IN_SCOPE = {"question", "romanised", "code_switched"}


def rows(split: str) -> list[dict[str, Any]]:
    """The labelled messages of one split (or all)."""
    out = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line]
    wanted = {"report": {"heldout", "check"}}.get(split, {split})
    return [r for r in out if split == "all" or r["split"] in wanted]


def probes() -> list[dict[str, Any]]:
    """Out-of-scope questions in the ten languages, written to calibrate with (3 per language
    in the tune split were too few to see answers leak: tests/data/multilingual_oos_probes)."""
    text = PROBES.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line]


def judge(row: dict[str, Any], match: Match) -> dict[str, bool]:
    """What happened to one message, as counters."""
    right = {row["expected"], *row.get("also", [])}
    if row["kind"] == "crisis":
        # The crisis reply, or the safety line under choices, "I don't know" and a sure
        # answer the safety model worries about (bot/replies/cards.py).
        return {
            "crisis": match.outcome is Outcome.CRISIS,
            "911/988": match.carries_net,
        }
    if row["kind"] == "out_of_scope":
        return {
            "oos": match.outcome not in (Outcome.ANSWERED, Outcome.CRISIS),
            "oos_offered": match.outcome is Outcome.AMBIGUOUS,
        }
    answered = match.outcome is Outcome.ANSWERED and match.entry_id in right
    offered = answered or any(c.entry_id in right for c in match.choices)
    sure = match.outcome is Outcome.ANSWERED
    return {
        "right": answered,
        "offered": offered,
        "answered": sure,
        "lined": sure and match.worried,
    }


def run(
    matcher: Matcher, data: list[dict[str, Any]]
) -> tuple[dict[str, dict[str, list[bool]]], list[float]]:
    """Every message through the matcher: results per language, and latencies in ms."""
    results: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    latencies: list[float] = []
    for row in data:
        start = time.perf_counter()
        match = matcher.match(row["text"])
        latencies.append(1000 * (time.perf_counter() - start))
        for key, value in judge(row, match).items():
            results[row["lang"]][key].append(value)
    return results, latencies


def percent(values: list[bool]) -> str:
    """'83% (10/12)'."""
    if not values:
        return "-"
    return f"{100 * sum(values) / len(values):3.0f}% ({sum(values)}/{len(values)})"


def report(name: str, results: dict[str, dict[str, list[bool]]], latencies: list[float]) -> None:
    """One table: a line per language and a total."""
    print(f"\n== {name}")
    columns = ("right", "offered", "oos", "crisis", "911/988")
    print(
        f"{'lang':5} {'right':>13} {'offered':>13} {'oos kept out':>13} {'crisis':>13} "
        f"{'911/988':>13}"
    )
    total: dict[str, list[bool]] = defaultdict(list)
    for lang in sorted(results):
        line = results[lang]
        for key, values in line.items():
            total[key] += values
        cells = [percent(line.get(k, [])) for k in columns]
        print(f"{lang:5} " + " ".join(f"{c:>13}" for c in cells))
    cells = [percent(total.get(k, [])) for k in columns]
    print(f"{'all':5} " + " ".join(f"{c:>13}" for c in cells))
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    print(f"latency ms: median {statistics.median(ordered):.1f}, p99 {p99:.1f}")
    # The cost of the safety line under worrying answers: ordinary questions that carry it.
    lined = [w for a, w in zip(total["answered"], total["lined"], strict=True) if a]
    print(f"answered questions with the 911/988 line under the answer: {percent(lined)}")


class _Remembered:
    """The encoder with its answers kept: a sweep asks the same messages many times."""

    def __init__(self, encoder: Any) -> None:
        self.encoder = encoder
        self.seen: dict[str, Any] = {}

    def query(self, text: str) -> Any:
        if text not in self.seen:
            self.seen[text] = self.encoder.query(text)
        return self.seen[text]


def objective(results: dict[str, dict[str, list[bool]]], data: list[dict[str, Any]]) -> float:
    """What the sweep maximises: right answers, less wrong answers, less twice the
    out-of-scope questions answered (a wrong answer with a phone number misleads); None-like
    (minus infinity) when fewer than 85% of out-of-scope questions are kept out."""
    right = sum(sum(r.get("right", [])) for r in results.values())
    oos = [v for r in results.values() for v in r.get("oos", [])]
    answered_wrong = (
        sum(sum(1 for a in r.get("answered", []) if a) for r in results.values()) - right
    )
    if oos and sum(oos) / len(oos) < 0.85:
        return float("-inf")
    return right - answered_wrong - 2 * (len(oos) - sum(oos))


def calibrate(knowledge: Any) -> None:
    """Sweep the thresholds on the tune and dev splits and the out-of-scope probes, and print
    the best (never on the report splits)."""
    data = rows("tune") + rows("dev") + probes()
    words = Matcher(knowledge, cache_dir=CACHE, safety_examples=EXAMPLES)
    base = words.settings
    best: tuple[float, float, float] = (float("-inf"), 0.0, 0.0)
    print("foreign_answer_threshold, foreign_lead (0: never below the bar): objective")
    for value in range(50, 85, 5):
        for lead in (0.0, 0.2, 0.25, 0.3, 0.35, 0.4):
            words.settings = replace(base, foreign_answer_threshold=float(value), foreign_lead=lead)
            score = objective(run(words, data)[0], data)
            print(f"  {value}, {lead}: {score}")
            best = max(best, (score, float(value), lead))
    print(f"best foreign_answer_threshold {best[1]}, foreign_lead {best[2]} (objective {best[0]})")
    words.settings = replace(base, foreign_answer_threshold=best[1], foreign_lead=best[2])
    encoder = multilingual.start(CACHE)
    if encoder is None:
        print("the multilingual extra is not installed: encoder thresholds not swept")
        return
    try:
        matcher = Matcher(knowledge, cache_dir=CACHE, encoder=encoder, safety_examples=EXAMPLES)
        matcher.settings = words.settings
        matcher.encoder = _Remembered(encoder)  # type: ignore[assignment]
        # Agreement (both kinds) is swept after the rest.
        base_encoder = EncoderSettings(agree=1.01, agree_first=1.01)
        found: tuple[float, EncoderSettings] = (float("-inf"), base_encoder)
        for answer in [x / 100 for x in range(84, 95)]:
            for lead in (0.0, 0.01, 0.02, 0.03, 0.05):
                for override in (0.90, 0.92, 0.94, 0.96, 1.01):
                    settings = replace(
                        base_encoder,
                        answer=answer,
                        lead=lead,
                        offer=answer - 0.03,
                        override=override,
                    )
                    matcher.encoder_settings = settings
                    score = objective(run(matcher, data)[0], data)
                    if score > found[0]:
                        found = (score, settings)
        print(f"best encoder answer/lead/override {found[1]} (objective {found[0]})")
        # Then agreement: a word answer held back by the other languages' bar, answered when
        # the encoder's closest entry is the same one (1.01: never).
        agreed: list[tuple[float, float]] = []
        for agree in [x / 100 for x in range(84, 96)] + [1.01]:
            matcher.encoder_settings = replace(found[1], agree=agree)
            score = objective(run(matcher, data)[0], data)
            print(f"  agree {agree}: {score}")
            agreed.append((score, agree))  # ties: the higher bar
        best_agree = max(agreed)[1]
        print(f"best encoder agree {best_agree} (objective {max(agreed)[0]})")
        # Then how high the encoder must rank a word answer for another language (99: never
        # questioned).
        ranks: list[tuple[float, int]] = []
        for rank in (1, 2, 3, 4, 5, 99):
            matcher.encoder_settings = replace(found[1], agree=best_agree, rank=rank)
            score = objective(run(matcher, data)[0], data)
            print(f"  rank {rank}: {score}")
            ranks.append((score, rank))  # ties: the higher rank (fewer answers questioned)
        best_rank = max(ranks)[1]
        print(f"best encoder rank {best_rank} (objective {max(ranks)[0]})")
        # Then both readers' first entry, for another language (1.01: never).
        firsts: list[tuple[float, float]] = []
        for first in [x / 100 for x in range(90, 97)] + [1.01]:
            matcher.encoder_settings = replace(
                found[1], agree=best_agree, rank=best_rank, agree_first=first
            )
            score = objective(run(matcher, data)[0], data)
            print(f"  agree_first {first}: {score}")
            firsts.append((score, first))  # ties: the higher bar
        best_first = max(firsts)[1]
        print(f"best encoder agree_first {best_first} (objective {max(firsts)[0]})")
        # Then the button floor: most expected entries offered, fewest out-of-scope offered.
        chosen = replace(found[1], agree=best_agree, rank=best_rank, agree_first=best_first)
        offers: list[tuple[float, float]] = []
        for offer in [x / 100 for x in range(78, 93)]:
            matcher.encoder_settings = replace(chosen, offer=min(offer, chosen.answer))
            results = run(matcher, data)[0]
            offered = sum(sum(r.get("offered", [])) for r in results.values())
            buttons_oos = sum(sum(r.get("oos_offered", [])) for r in results.values())
            offers.append((offered - buttons_oos, min(offer, chosen.answer)))
        print(f"best encoder offer {max(offers)[1]} (objective {max(offers)[0]})")
    finally:
        encoder.close()


def main() -> int:
    """Run the matchers side by side on one split."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--kb", type=Path, default=ROOT / "knowledge", help="the knowledge base (a folder)"
    )
    parser.add_argument(
        "--split", default="report", choices=["report", "heldout", "check", "tune", "all"]
    )
    parser.add_argument("--no-extra", action="store_true", help="skip the multilingual encoder")
    parser.add_argument("--calibrate", action="store_true", help="sweep thresholds on tune")
    args = parser.parse_args()
    knowledge = load_directory(args.kb).knowledge
    assert knowledge is not None, "the knowledge base has errors: run `validate`"
    if args.calibrate:
        calibrate(knowledge)
        return 0
    data = rows(args.split)
    print(f"{len(data)} messages ({args.split})")
    words = Matcher(knowledge, cache_dir=CACHE, safety_examples=EXAMPLES)
    words.match("warm up")
    report("words only (no extra)", *run(words, data))
    if args.no_extra:
        return 0
    encoder = multilingual.start(CACHE)
    if encoder is None:
        print("\nthe multilingual extra is not installed (or this CPU lacks AVX2/FMA)")
        return 0
    try:
        with_extra = Matcher(knowledge, cache_dir=CACHE, encoder=encoder, safety_examples=EXAMPLES)
        with_extra.match("warm up")
        report("words + multilingual encoder (extra)", *run(with_extra, data))
    finally:
        encoder.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
