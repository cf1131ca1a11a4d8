"""CLINC150 benchmark: the bot's own loader and matcher against a public intent data set.

    python benchmarks/clinc150.py [--data ../shared/benchmarks/clinc150.jsonl] [--quick]

Each intent becomes one FAQ in the minimal knowledge-base form (its `train` lines are the
questions), written as YAML and loaded through `bot.loader`; questions are answered by
`bot.matcher`, the code path behind `ask`. The answer threshold is chosen on `val` only;
`test` is reported. "Not answered" (unanswered or ambiguous) counts as rejecting the question.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.knowledge.loader import load_directory
from bot.matching import thresholds
from bot.matching.matcher import Matcher, MatchSettings

PUBLISHED = [  # Larson et al. 2019, "Full" setting: in-scope accuracy / out-of-scope recall
    ("FastText", "89.0 / 9.7", "88.6 / 28.3"),
    ("SVM", "91.0 / 14.5", "88.2 / 18.0"),
    ("CNN", "91.2 / 18.9", "90.9 / 30.9"),
    ("DialogFlow", "91.7 / 14.0", "90.8 / 26.7"),
    ("Rasa", "91.5 / 45.3", "90.9 / 31.2"),
    ("MLP", "93.5 / 47.4", "93.4 / 49.1"),
    ("BERT", "96.9 / 40.3", "96.2 / 52.3"),
]
# The val-chosen operating point keeps in-scope accuracy at least this high on val: the goal
# (91% on test) plus one standard error of a 3,000-question accuracy near 91% (0.5 points),
# so that val's luck does not decide whether test meets the goal.
TARGET_ACCURACY = 0.915
MARGINS = (0.0, 5.0, 10.0, 15.0, 20.0)


@dataclass(frozen=True)
class Result:
    """One question's outcome under the matcher, before a threshold is applied."""

    label: str | None
    entry_id: str | None
    confidence: float
    margin: float
    score: float


def read(path: Path) -> list[dict[str, str | None]]:
    """The data set's lines."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def write_knowledge(rows: list[dict[str, str | None]], folder: Path, copies: int = 1) -> Path:
    """The minimal FAQ form: one entry per intent, its train lines as questions."""
    questions: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if row["split"] == "train" and row["label"]:
            questions[str(row["label"])].append(str(row["text"]))
    faqs = []
    for copy in range(copies):
        # Synthetic copies for scaling: same questions with one extra word, new ids.
        suffix = "" if copy == 0 else f"-copy{copy}"
        extra = "" if copy == 0 else f" variant{copy}"
        faqs += [
            {
                "id": f"{intent.replace('_', '-')}{suffix}",
                "questions": [q + extra for q in qs],
                "answer": f"Answer for {intent}.",
            }
            for intent, qs in sorted(questions.items())
        ]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "clinc150.yaml"
    path.write_text(yaml.safe_dump({"faqs": faqs}, allow_unicode=True), encoding="utf-8")
    return folder


def build(folder: Path, cache: Path | None, spelling: bool = True) -> tuple[Matcher, float]:
    """Load and index through the project's loader; returns the matcher and seconds taken."""
    started = time.perf_counter()
    result = load_directory(folder)
    assert result.knowledge is not None, result.errors[:3]
    matcher = Matcher(result.knowledge, MatchSettings(), cache_dir=cache, spelling=spelling)
    return matcher, time.perf_counter() - started


def run(matcher: Matcher, rows: list[dict[str, str | None]], split: str) -> list[Result]:
    """Match every line of a split."""
    out = []
    for row in rows:
        if row["split"] != split:
            continue
        match = matcher.match(str(row["text"]), "en")
        top = match.candidates[0].entry_id if match.candidates else None
        label = str(row["label"]).replace("_", "-") if row["label"] else None
        out.append(Result(label, top, match.score, match.margin, match.score))
    return out


def metrics(results: list[Result], threshold: float, margin: float) -> tuple[float, float, float]:
    """In-scope accuracy, out-of-scope recall and precision at an operating point."""
    # The matcher's rule: confident enough, and a lead of `margin` % of the top score.
    answered = [r.confidence >= threshold and r.margin > r.score * margin / 100 for r in results]
    inscope = [(r, a) for r, a in zip(results, answered, strict=True) if r.label]
    oos = [(r, a) for r, a in zip(results, answered, strict=True) if not r.label]
    accuracy = sum(a and r.entry_id == r.label for r, a in inscope) / len(inscope)
    recall = sum(not a for _, a in oos) / len(oos)
    rejected = sum(not a for a in answered)
    precision = sum(not a for _, a in oos) / rejected if rejected else 0.0
    return accuracy, recall, precision


def choose(val: list[Result]) -> tuple[float, float]:
    """The threshold and margin with the best OOS recall that keep val accuracy on target."""
    best, best_key = (0.0, 0.0), (-1.0, -1.0)
    for margin in MARGINS:
        for step in range(0, 1001, 5):
            threshold = step / 10
            accuracy, recall, _ = metrics(val, threshold, margin)
            if accuracy >= TARGET_ACCURACY and (recall, accuracy) > best_key:
                best, best_key = (threshold, margin), (recall, accuracy)
    return best


def latency(matcher: Matcher, texts: list[str]) -> tuple[float, float]:
    """Median and p99 milliseconds per question."""
    times = []
    for text in texts:
        started = time.perf_counter()
        matcher.match(text, "en")
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1]


def _max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    """Run the benchmark and print every number RESULTS.md records."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data", type=Path, default=ROOT.parent / "shared/benchmarks/clinc150.jsonl"
    )
    parser.add_argument("--quick", action="store_true", help="skip the 2x and 4x scaling runs")
    args = parser.parse_args()
    if not args.data.exists():
        raise SystemExit(f"no data at {args.data}: pass --data PATH")
    rows = read(args.data)
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_knowledge(rows, Path(tmp) / "kb")
        cache = Path(tmp) / "cache"
        matcher, cold = build(folder, cache)
        _, warm = build(folder, cache)
        # Measured apart: tracemalloc slows Python down several times.
        tracemalloc.start()
        build(folder, None)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        questions = sum(len(matcher.index.prepared) for _ in [0])
        print(f"knowledge base: {len(matcher.index)} entries, {questions:,} questions")
        print(
            f"load+index: {cold:.2f} s the first time (learning term weights), "
            f"{warm:.2f} s when the model is cached"
        )
        print(
            f"peak memory while loading and indexing: {peak / 2**20:.0f} MiB (tracemalloc); "
            f"process max RSS {_max_rss_mib():.0f} MiB"
        )

        val = run(matcher, rows, "val")
        test = run(matcher, rows, "test")
        threshold, margin = choose(val)
        print(
            f"\nchosen on val: threshold {threshold:g}, ambiguity margin {margin:g} "
            f"(shipped defaults: {thresholds.DEFAULT_ANSWER_THRESHOLD:g} and "
            f"{thresholds.DEFAULT_AMBIGUITY_MARGIN:g})"
        )
        for name, results in (("val", val), ("test", test)):
            accuracy, recall, precision = metrics(results, threshold, margin)
            print(
                f"{name}: in-scope accuracy {accuracy:.1%}, out-of-scope recall {recall:.1%}, "
                f"out-of-scope precision {precision:.1%}"
            )
        shipped = (thresholds.DEFAULT_ANSWER_THRESHOLD, thresholds.DEFAULT_AMBIGUITY_MARGIN)
        accuracy, recall, precision = metrics(test, *shipped)
        print(
            f"test at the shipped defaults ({shipped[0]:g}, {shipped[1]:g}%): in-scope accuracy "
            f"{accuracy:.1%}, out-of-scope recall {recall:.1%}, precision {precision:.1%}"
        )
        top1 = [r for r in test if r.label]
        top1_rate = sum(r.entry_id == r.label for r in top1) / len(top1)
        print(f"test top-1 without rejection: {top1_rate:.1%}")

        print("\ntrade-off on test (threshold: accuracy / OOS recall / OOS precision)")
        points = {1.0, 2.5, 5.0, threshold, 10.0, 15.0, thresholds.DEFAULT_ANSWER_THRESHOLD, 35.0}
        for point in sorted(points):
            accuracy, recall, precision = metrics(test, point, margin)
            print(f"  {point:5.1f}: {accuracy:.1%} / {recall:.1%} / {precision:.1%}")

        print("\npublished (in-scope accuracy / OOS recall), Full setting:")
        print(f"  {'classifier':<12} {'oos-train':<14} {'oos-threshold':<14}")
        for name, train, thresh in PUBLISHED:
            print(f"  {name:<12} {train:<14} {thresh:<14}")
        accuracy, recall, _ = metrics(test, threshold, margin)
        print(f"  {'this bot':<12} {'':<14} {accuracy * 100:.1f} / {recall * 100:.1f}")

        texts = [str(r["text"]) for r in rows if r["split"] == "test"]
        median, p99 = latency(matcher, texts)
        print(
            f"\nlatency at 1x ({questions:,} questions): median {median:.2f} ms, p99 {p99:.2f} ms"
        )
        # Spelling repair, on and off, in the same run (the learned model is the same).
        plain, _ = build(folder, cache, spelling=False)
        plain_val, plain_test = run(plain, rows, "val"), run(plain, rows, "test")
        plain_point = choose(plain_val)
        sample = texts[:2000]
        on_median, _ = latency(matcher, sample)
        off_median, _ = latency(plain, sample)
        print("\nspelling repair (test: val-chosen point; shipped defaults; median latency):")
        for name, results, point, median_ms in (
            ("on", test, (threshold, margin), on_median),
            ("off", plain_test, plain_point, off_median),
        ):
            a, r, _ = metrics(results, *point)
            a32, r32, _ = metrics(results, *shipped)
            print(
                f"  {name:<3}: {a:.1%} / {r:.1%} at {point[0]:g}; {a32:.1%} / {r32:.1%}; "
                f"{median_ms:.2f} ms"
            )
        print(f"  latency with repair: {on_median / off_median:.2f}x without")
        if not args.quick:
            # Side by side on the same 2,000 questions: this machine's speed drifts.
            base, base_p99 = latency(matcher, sample)
            print(f"scaling, same {len(sample):,} questions each (median / p99):")
            print(f"  1x ({questions:,} questions): {base:.2f} / {base_p99:.2f} ms")
            for copies in (2, 4):
                scaled = write_knowledge(rows, Path(tmp) / f"kb{copies}", copies)
                big, seconds = build(scaled, None)
                median_n, p99_n = latency(big, sample)
                print(
                    f"  {copies}x ({len(big.index.prepared):,} questions): {median_n:.2f} / "
                    f"{p99_n:.2f} ms (median {median_n / base:.2f}x the 1x one); "
                    f"load+index {seconds:.1f} s cold"
                )


if __name__ == "__main__":
    main()
