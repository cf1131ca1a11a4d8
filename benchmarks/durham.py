"""The project's own question set against the shipped Durham knowledge base.

    python benchmarks/durham.py [--kb knowledge] [--questions tests/data/questions.jsonl]
                                [--threshold N] [--margin N] [--sweep]

Prints in-scope accuracy, out-of-scope recall, crisis detection, results per topic and kind,
and every question that missed, so staff can see which phrasings need a new question variant.
`--sweep` shows the trade-off over thresholds (how the shipped default was chosen).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.knowledge.loader import load_directory
from bot.matching import thresholds
from bot.matching.matcher import Match, Matcher, MatchSettings, Outcome

QUESTIONS = ROOT / "tests" / "data" / "questions.jsonl"


@dataclass(frozen=True)
class Question:
    """One labelled question."""

    text: str
    expected: str | None
    also: tuple[str, ...]
    lang: str
    topic: str | None
    kind: str

    @property
    def accepted(self) -> set[str]:
        """Every entry that counts as a right answer."""
        return {self.expected, *self.also} if self.expected else set()


@dataclass(frozen=True)
class Scores:
    """The headline numbers."""

    accuracy: float  # in-scope questions answered with a right entry
    helped: float  # ... or offered the right entry among "did you mean" choices
    recall: float  # out-of-scope questions not answered
    crisis: float  # crisis messages caught by the tripwire
    by_kind: dict[str, tuple[int, int]]  # kind of question -> (right, asked)
    failures: list[tuple[Question, Match]]


def read(path: Path) -> list[Question]:
    """The labelled question set."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            data = json.loads(line)
            out.append(
                Question(
                    data["text"],
                    data["expected"],
                    tuple(data.get("also", ())),
                    data.get("lang", "en"),
                    data.get("topic"),
                    data.get("kind", ""),
                )
            )
    return out


def right(question: Question, match: Match) -> bool:
    """Did the bot do the right thing with this question?"""
    if question.kind == "crisis" or match.outcome is Outcome.CRISIS:
        # A crisis reply is right when the question is labelled with that crisis line (a
        # "no place to sleep tonight" question gets the shelter contacts either way).
        return (
            match.outcome is Outcome.CRISIS
            and match.crisis is not None
            and (match.crisis.id in question.accepted)
        )
    if question.expected is None:
        return match.outcome is not Outcome.ANSWERED and match.outcome is not Outcome.CRISIS
    return match.outcome is Outcome.ANSWERED and match.entry_id in question.accepted


def evaluate(matcher: Matcher, questions: list[Question]) -> Scores:
    """Match every question and score the outcomes."""
    inscope = [q for q in questions if q.expected and q.kind != "crisis"]
    oos = [q for q in questions if q.expected is None]
    crisis = [q for q in questions if q.kind == "crisis"]
    failures = []
    good = helped = 0
    by_kind: dict[str, list[bool]] = defaultdict(list)
    for question in questions:
        match = matcher.match(question.text, question.lang)
        ok = right(question, match)
        by_kind[question.kind].append(ok)
        if not ok:
            failures.append((question, match))
        if question in inscope:
            good += ok
            offered = {c.entry_id for c in match.choices}
            helped += ok or bool(question.accepted & offered)
    return Scores(
        accuracy=good / len(inscope),
        helped=helped / len(inscope),
        recall=sum(right(q, matcher.match(q.text, q.lang)) for q in oos) / len(oos),
        crisis=sum(right(q, matcher.match(q.text, q.lang)) for q in crisis) / max(1, len(crisis)),
        by_kind={kind: (sum(oks), len(oks)) for kind, oks in sorted(by_kind.items())},
        failures=failures,
    )


def main() -> None:
    """Print the question set's results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kb", type=Path, default=ROOT / "knowledge")
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--threshold", type=float, default=thresholds.DEFAULT_ANSWER_THRESHOLD)
    parser.add_argument("--margin", type=float, default=thresholds.DEFAULT_AMBIGUITY_MARGIN)
    parser.add_argument("--sweep", action="store_true", help="show thresholds 10 to 60")
    args = parser.parse_args()
    result = load_directory(args.kb)
    if result.knowledge is None:
        raise SystemExit("the knowledge base has errors: run `python run_bot.py validate`")
    questions = read(args.questions)
    settings = MatchSettings(answer_threshold=args.threshold, ambiguity_margin=args.margin)
    # The shipped configuration: the safety layer's learned model as the bot builds it.
    examples = args.kb / "safety" / "examples.jsonl"
    safety = examples if examples.exists() else None
    matcher = Matcher(result.knowledge, settings, safety_examples=safety)
    scores = evaluate(matcher, questions)
    inscope = sum(1 for q in questions if q.expected and q.kind != "crisis")
    oos = sum(1 for q in questions if q.expected is None)
    print(
        f"{len(questions)} questions ({inscope} in scope, {oos} out of scope) on "
        f"{len(result.knowledge)} entries; threshold {args.threshold:g}, margin {args.margin:g}"
    )
    print(f"in-scope accuracy {scores.accuracy:.1%} (right answer given straight away)")
    print(f"in-scope helped   {scores.helped:.1%} (right answer given or offered as a choice)")
    print(f"out-of-scope recall {scores.recall:.1%} (not answered: 'I don't know' or choices)")
    if any(q.kind == "crisis" for q in questions):
        print(f"crisis messages caught {scores.crisis:.1%}")
    unknown = [matcher.match(q.text, q.lang) for q in questions if q.expected is None]
    listed = sum(m.outcome is Outcome.UNANSWERED and bool(m.choices) for m in unknown)
    print(
        f"out-of-scope questions whose 'I don't know' lists answers that might help: "
        f"{listed / len(unknown):.1%}"
    )
    print(
        "by kind: "
        + ", ".join(f"{kind} {ok / n:.0%} of {n}" for kind, (ok, n) in scores.by_kind.items())
    )
    plain = evaluate(
        Matcher(result.knowledge, settings, spelling=False, safety_examples=safety), questions
    )
    typo_ok, typo_n = plain.by_kind.get("typo", (0, 1))
    print(
        f"without spelling repair: accuracy {plain.accuracy:.1%}, OOS recall "
        f"{plain.recall:.1%}, typos {typo_ok / typo_n:.0%}"
    )
    words = evaluate(
        Matcher(result.knowledge, settings, meaning=False, safety_examples=safety), questions
    )
    print(
        f"without closeness in meaning: accuracy {words.accuracy:.1%}, helped "
        f"{words.helped:.1%}, OOS recall {words.recall:.1%}"
    )
    if args.sweep:
        print("\nthreshold: accuracy / helped / OOS recall")
        for threshold in range(10, 65, 5):
            swept = Matcher(result.knowledge, MatchSettings(threshold, args.margin))
            s = evaluate(swept, questions)
            print(f"  {threshold:>3}: {s.accuracy:.1%} / {s.helped:.1%} / {s.recall:.1%}")
    print(f"\n{len(scores.failures)} questions missed:")
    for question, match in scores.failures:
        wanted = question.expected or "(should not be answered)"
        got = match.entry_id or match.outcome.value
        print(
            f"  [{question.kind}] {question.text!r}: wanted {wanted}, got {got} "
            f"({match.outcome.value}, confidence {match.score:g})"
        )


if __name__ == "__main__":
    main()
