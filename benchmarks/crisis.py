"""Crisis detection: the safety detector against the old phrase-list tripwire, side by side.

    python benchmarks/crisis.py [--split heldout|tune|all] [--misses] [--multilingual]
                                [--embeddings] [--no-extra]

Over tests/data/crisis.jsonl (crisis messages in 11 categories and 14 languages, and ordinary
questions that share their words), it prints detection per category and per language, false
alarms per kind of ordinary question, whether each crisis reply names a contact meant for
that danger, the misses (with --misses), and the time to check one message, old and new, in
one run. Tune the lexicons on split=tune only; the held-out part is for reporting.

The other sets, each with --data and --split: tests/data/crisis_dev2.jsonl (dev: tune; check:
report), benchmarks/data/crisis_calm_probe.jsonl (probe), benchmarks/data/crisis_blind3.jsonl
(blind3), benchmarks/data/crisis_blind4.jsonl (blind4, written blind in the eighteenth
session before its changes), benchmarks/data/crisis_blind5.jsonl (blind5, nineteenth
session, its misses never read) and benchmarks/data/crisis_blind6.jsonl (blind6, twentieth
session, the same), report only, never tuned on; tests/data/crisis_sentences.jsonl
(tune: urgency told in another sentence than the danger).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from rapidfuzz.distance import OSA

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.knowledge.loader import load_knowledge
from bot.knowledge.model import CrisisLine, KnowledgeBase, all_texts, localise
from bot.matching import encoder
from bot.matching.danger import Vector, learn_danger, load_meaning, ordinary_questions
from bot.matching.encoder import MODEL, Encoder
from bot.matching.matcher import Matcher, Outcome
from bot.matching.safety import Finding, SafetyDetector
from bot.text import normalise

DATA = ROOT / "tests" / "data" / "crisis.jsonl"
MULTILINGUAL = ROOT / "tests" / "data" / "multilingual.jsonl"
OLD_PHRASES = ROOT / "benchmarks" / "data" / "old_crisis.yaml"
MAJOR = ("en", "fr")
# What the learned model reads (crisis.jsonl split=tune and crisis_dev2.jsonl split=dev only),
# and where its weights are kept between runs.
EXAMPLES = ROOT / "knowledge" / "safety" / "examples.jsonl"
CACHE = ROOT / "data" / "models"

# A contact meant for each kind of danger: the reply must name one of these numbers.
RIGHT_CONTACTS: dict[str, tuple[str, ...]] = {
    "self_harm": ("988",),
    "overdose": ("1-844-764-7669", "911"),
    "medical": ("911",),
    "fire_gas": ("911",),
    "harm_others": ("911", "988"),
    "child_abuse": ("905-433-1551", "911"),
    "elder_abuse": ("1-866-299-1011", "905-721-4226"),
    "trafficking": ("1-833-900-1010",),
    "sexual_assault": ("905-721-4226",),
    "domestic_violence": ("905-721-4226", "1-866-437-4066", "1-800-263-3725"),
    "crime": ("911",),
}


@dataclass(frozen=True)
class _OldLine:
    category: str
    priority: int
    phrases: tuple[tuple[str, ...], ...]


class OldTripwire:
    """The tripwire before issue 11 (bot/matching/safety.py at git 2a8cd44), verbatim logic:
    whole phrases, words in order, one typo forgiven in words of 5 letters or more."""

    def __init__(self, path: Path) -> None:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        lines = sorted(data["crisis"], key=lambda item: (item["priority"], item["id"]))
        self._triggers: list[tuple[tuple[str, ...], str]] = []
        for line in lines:
            for phrase in all_texts(line["triggers"]):
                words = tuple(normalise(phrase).split())
                if words:
                    self._triggers.append((words, line["category"]))

    @staticmethod
    def _same(typed: str, trigger: str) -> bool:
        if typed == trigger:
            return True
        return len(trigger) >= 5 and OSA.distance(typed, trigger, score_cutoff=1) <= 1

    def check(self, text: str) -> str | None:
        words = normalise(text).split()
        for trigger, category in self._triggers:
            size = len(trigger)
            for start in range(len(words) - size + 1):
                if all(self._same(words[start + i], trigger[i]) for i in range(size)):
                    return category
        return None


def load_rows(path: Path, split: str) -> list[dict[str, str]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [r for r in rows if split == "all" or r.get("split") == split]


def reply_text(
    knowledge: KnowledgeBase, line: CrisisLine, lang: str, also: CrisisLine | None = None
) -> str:
    """The crisis reply's words and its services' phone numbers (what the card shows), with
    the services of `also`, the other kind of danger the reply names."""
    phones = [
        p.number
        for service_id in line.services_with(also)
        if service_id in knowledge.services
        for p in knowledge.services[service_id].phones
    ]
    return " ".join([localise(line.reply, lang), *phones])


def timed(check: Callable[[str], object], texts: list[str], rounds: int = 3) -> float:
    """The median over `rounds` of the mean time to check one message, in milliseconds."""
    runs = []
    for _ in range(rounds):
        start = time.perf_counter()
        for text in texts:
            check(text)
        runs.append((time.perf_counter() - start) / len(texts) * 1000)
    return statistics.median(runs)


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}% ({part}/{whole})" if whole else "   n/a"


def encoded(rows: list[dict[str, str]]) -> dict[str, Vector] | None:
    """The multilingual encoder's vector of each message (kept in .cache/benchmarks between
    runs), as the matcher computes it; None without the extra."""
    texts = [r["text"] for r in rows]
    with encoder.running(ROOT / ".cache" / "benchmarks" / "crisis-encoder") as found:
        vectors = None if found is None else found.corpus(texts)
    return None if vectors is None else dict(zip(texts, vectors, strict=True))


def report(
    rows: list[dict[str, str]],
    knowledge: KnowledgeBase,
    detector: SafetyDetector,
    old: OldTripwire,
    show_misses: bool,
    vectors: dict[str, Vector] | None = None,
) -> dict[str, float]:
    """Prints the tables; with the encoder's vectors of the messages, a last column for the
    detector that also reads them (the bot with the `multilingual` extra)."""
    crisis = [r for r in rows if r["label"] != "none"]
    ordinary = [r for r in rows if r["label"] == "none"]
    words_hits = {id(r): detector.find_in_words(r["text"]) for r in rows}
    new_hits = {id(r): detector.find(r["text"]) for r in rows}
    columns: list[tuple[str, dict[int, Any]]] = [
        ("old tripwire", {id(r): old.check(r["text"]) for r in rows})
    ]
    if detector.model is not None:
        columns.append(("lexicons alone", words_hits))
    columns.append(("new detector", new_hits))
    if vectors is not None:
        meaning_hits = {id(r): detector.assess(r["text"], vectors[r["text"]]).finding for r in rows}
        columns.append(("+ encoder", meaning_hits))

    def cells(group: list[dict[str, str]]) -> str:
        return " ".join(
            f"{percent(sum(hits[id(r)] is not None for r in group), len(group)):>20}"
            for _, hits in columns
        )

    def right_of(hits: dict[int, Finding | None]) -> int:
        """Crisis messages whose reply names a contact meant for their danger."""
        right = 0
        for r in crisis:
            finding = hits[id(r)]
            if finding is not None:
                lang = "fr" if r["lang"] == "fr" else "en"
                text = reply_text(knowledge, finding.line, lang, finding.also)
                right += any(number in text for number in RIGHT_CONTACTS[r["label"]])
        return right

    def table(title: str, key: str, items: list[dict[str, str]]) -> None:
        print(f"\n{title:<20} " + " ".join(f"{name:>20}" for name, _ in columns))
        for value in sorted({r[key] for r in items}):
            print(f"{value:<20} {cells([r for r in items if r[key] == value])}")

    table("detected, category", "label", crisis)
    table("detected, language", "lang", crisis)
    table("false alarm, kind", "kind", ordinary)

    major = [r for r in crisis if r["lang"] in MAJOR]
    other = [r for r in crisis if r["lang"] not in MAJOR]
    print()
    for name, group in (
        ("crisis detected", crisis),
        ("  English and French", major),
        ("  twelve other languages", other),
        ("false alarms on ordinary", ordinary),
    ):
        print(f"{name:<34} {cells(group)}")
    for name, hits in columns[-2 if vectors is not None else -1 :]:
        right = right_of(hits)
        same = sum((f := hits[id(r)]) is not None and f.line.category == r["label"] for r in crisis)
        print(f"{name}: same category as labelled {percent(same, len(crisis))}")
        print(f"{name}: reply names a right contact {percent(right, len(crisis))}")
    print("  (every unsure reply also carries the safety net: 911, and 988 for suicide)")

    texts = [r["text"] for r in rows]
    old_ms = timed(old.check, texts)
    new_ms = timed(detector.check, texts)
    if detector.model is not None:
        words_ms = timed(detector.find_in_words, texts)
        print(f"\nms per message, lexicons alone: {words_ms:.3f}")
    if vectors is not None:
        meaning_ms = timed(lambda text: detector.assess(text, vectors[text]), texts)
        print(
            f"ms per message, + encoder (its vector given: the matcher computes it anyway): "
            f"{meaning_ms:.3f}"
        )
    for name, hits in columns[1:]:
        found = [r for r in crisis if hits[id(r)] is not None]
        false = [r for r in ordinary if hits[id(r)] is not None]
        print(
            f"{name}: detected {percent(len(found), len(crisis))}, "
            f"false alarms {percent(len(false), len(ordinary))}"
        )
    print(
        f"\nms per message (mean, median of 3 runs): old {old_ms:.3f}, new {new_ms:.3f}, "
        f"new/old {new_ms / old_ms:.2f}x"
    )

    if show_misses:
        print("\nmisses:")
        for r in crisis:
            if new_hits[id(r)] is None:
                print(f"  [{r['lang']} {r['label']} {r['kind']}] {r['text']}")
        print("false alarms:")
        for r in ordinary:
            finding = new_hits[id(r)]
            if finding is not None:
                print(
                    f"  [{r['lang']} {r['kind']}] {r['text']} -> {finding.line.category} "
                    f"{finding.evidence}"
                )
    found_new = sum(new_hits[id(r)] is not None for r in crisis)
    false_new = sum(new_hits[id(r)] is not None for r in ordinary)
    right_new = right_of(new_hits)
    by_lang = Counter(r["lang"] for r in crisis)
    hit_lang = Counter(r["lang"] for r in crisis if new_hits[id(r)] is not None)
    by_cat = Counter(r["label"] for r in crisis)
    hit_cat = Counter(r["label"] for r in crisis if new_hits[id(r)] is not None)
    figures = {
        "detected": found_new / len(crisis),
        "false_alarms": false_new / len(ordinary) if ordinary else 0.0,
        "right_contact": right_new / len(crisis),
        "ms_new": new_ms,
        "ms_old": old_ms,
    }
    figures |= {f"lang_{k}": hit_lang[k] / n for k, n in by_lang.items()}
    figures |= {f"cat_{k}": hit_cat[k] / n for k, n in by_cat.items()}
    return figures


def embeddings_check(detector: SafetyDetector) -> None:
    """Would the embeddings (bot/matching/meaning.py) catch what the words miss?

    Each held-out message scores its closest tune crisis message minus its closest tune
    ordinary one; above a margin it counts as a crisis. Printed for several margins, alone
    and added to the detector: a gain is worth having only if false alarms stay low.
    """
    import numpy as np

    from bot.matching.meaning import default_embedder

    embed = default_embedder()
    if embed is None:
        print("\nembeddings: WordLlama is not available")
        return
    tune = load_rows(DATA, "tune")
    held = load_rows(DATA, "heldout")
    known = embed([r["text"] for r in tune])
    asked = embed([r["text"] for r in held])
    is_tune_crisis = np.array([r["label"] != "none" for r in tune])
    similar = asked @ known.T
    margin = similar[:, is_tune_crisis].max(1) - similar[:, ~is_tune_crisis].max(1)
    crisis = np.array([r["label"] != "none" for r in held])
    words = np.array([detector.check(r["text"]) is not None for r in held])
    print("\nembeddings (held-out; nearest tune crisis minus nearest tune ordinary message)")
    print(
        f"  detector alone:            detected {words[crisis].mean():.1%}, "
        f"false alarms {words[~crisis].mean():.1%}"
    )
    for cut in (0.0, 0.05, 0.1, 0.15, 0.2):
        near = margin > cut
        both = words | near
        print(
            f"  margin > {cut:.2f}: alone {near[crisis].mean():6.1%} / {near[~crisis].mean():5.1%}"
            f"   with the detector {both[crisis].mean():6.1%} / {both[~crisis].mean():5.1%}"
        )


def whole_reply(
    rows: list[dict[str, str]], knowledge: KnowledgeBase, with_encoder: Encoder | None = None
) -> None:
    """What the bot's whole reply does for each crisis message, as the matcher decides it: a
    crisis reply naming a right contact, or a reply carrying the 911/988 safety line (any reply
    short of a sure answer, and a sure answer the safety model worries about); with an
    encoder, as the bot runs with the `multilingual` extra."""
    matcher = Matcher(knowledge, cache_dir=CACHE, encoder=with_encoder, safety_examples=EXAMPLES)
    crisis = [r for r in rows if r["label"] != "none"]
    reached = 0
    for r in crisis:
        match = matcher.match(r["text"])
        if match.outcome is Outcome.CRISIS and match.crisis is not None:
            lang = "fr" if r["lang"] == "fr" else "en"
            text = reply_text(knowledge, match.crisis, lang, match.also)
            reached += any(number in text for number in RIGHT_CONTACTS[r["label"]])
        else:
            reached += match.carries_net
    matches = (matcher.match(r["text"]) for r in rows if r["label"] == "none")
    answered = [m for m in matches if m.outcome is Outcome.ANSWERED]
    name = "matcher + encoder" if matcher.encoder is not None else "matcher"
    print(
        f"\nwhole reply ({name}): crisis messages whose reply names a right contact or the "
        f"911/988 line {percent(reached, len(crisis))}; ordinary questions answered with the "
        f"line under the answer {percent(sum(m.worried for m in answered), len(answered))}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="a labelled set (JSON lines)")
    parser.add_argument(
        "--split", default="heldout", help="heldout, tune, all (or the set's own split names)"
    )
    parser.add_argument("--misses", action="store_true", help="list misses and false alarms")
    parser.add_argument(
        "--multilingual", action="store_true", help=f"also the crisis items of {MULTILINGUAL}"
    )
    parser.add_argument(
        "--embeddings", action="store_true", help="measure whether the embeddings would help"
    )
    parser.add_argument(
        "--words-only", action="store_true", help="the lexicons without the learned model"
    )
    parser.add_argument(
        "--no-extra", action="store_true", help="skip the multilingual encoder's column"
    )
    parser.add_argument(
        "--kb-negatives",
        action="store_true",
        help="the model also learns the knowledge base's questions as ordinary (the bot does not)",
    )
    args = parser.parse_args(argv)
    knowledge = load_knowledge(ROOT / "knowledge")
    model = None
    if not args.words_only:
        ordinary = ordinary_questions(knowledge) if args.kb_negatives else []
        model = learn_danger(EXAMPLES, CACHE, ordinary)
    rows = load_rows(args.data, args.split)
    vectors = None if args.words_only or args.no_extra else encoded(rows)
    head = None
    if vectors is not None and model is not None:
        head = load_meaning(EXAMPLES, MODEL, model.examples)
    detector = SafetyDetector.for_knowledge(knowledge, model, head)
    old = OldTripwire(OLD_PHRASES)
    print(f"{args.data.name}, split={args.split}")
    report(rows, knowledge, detector, old, args.misses, vectors if head else None)
    if model is not None:
        whole_reply(rows, knowledge)
        # The knowledge base's vectors are kept in .cache/benchmarks, as multilingual.py keeps
        # them.
        if head is not None:
            with encoder.running(ROOT / ".cache" / "benchmarks") as found:
                if found is not None:
                    whole_reply(rows, knowledge, found)
    if args.multilingual and MULTILINGUAL.exists():
        rows = [r for r in load_rows(MULTILINGUAL, "all") if r.get("kind") == "crisis"]
        caught = sum(detector.check(r["text"]) is not None for r in rows)
        caught_old = sum(old.check(r["text"]) is not None for r in rows)
        print(
            f"\nmultilingual.jsonl crisis items: old {percent(caught_old, len(rows))}, "
            f"new {percent(caught, len(rows))}"
        )
    if args.embeddings:
        embeddings_check(detector)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
