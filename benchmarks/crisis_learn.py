"""Choose the learned danger model's thresholds (bot.matching.danger) on the training file.

    python benchmarks/crisis_learn.py [--penalty 1e-5] [--folds 5] [--kb-negatives]
    python benchmarks/crisis_learn.py --ship   # learn from every example, write the model
                                               # shipped beside them (examples.model.npz),
                                               # and with the multilingual extra the meaning
                                               # model (examples.meaning.npz)

Only knowledge/safety/examples.jsonl is read: crisis.jsonl split=tune, crisis_dev2.jsonl
split=dev and 5,073 messages written fresh in December 2026 (14 languages, danger by category
and ordinary messages sharing its words). Each message gets an out-of-fold probability of
danger (a model learned without its fold). CONFIRM (a lexicon hit stands when the message
scores at least this) keeps 99% of the lexicons' true alarms, and SURE (the model alone raises
an alarm) is the lowest probability with at most 1% false alarms on plain messages (chat,
off-topic, everyday newcomer questions and stories: kind "plain"), both on the "honest"
examples: those the lexicons were not written from (all but crisis.jsonl's tune split, on
which the lexicons look perfect). --kb-negatives adds the knowledge base's questions as
ordinary examples (the bot does not: measured without). The report sets (crisis.jsonl
heldout, crisis_dev2.jsonl check) are never read here.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.knowledge.loader import load_knowledge
from bot.matching import encoder
from bot.matching.danger import (
    NONE,
    PENALTY,
    DangerModel,
    Example,
    MeaningHead,
    examples_key,
    ordinary_questions,
    read_examples,
    shipped_meaning,
    shipped_model,
)
from bot.matching.encoder import MODEL
from bot.matching.safety import CLAUSE_END, SafetyDetector

EXAMPLES = ROOT / "knowledge" / "safety" / "examples.jsonl"
CACHE = ROOT / ".cache" / "benchmarks"
# Lexicon hits the model may overrule, as a share of the lexicons' true alarms, for the
# n-grams alone and for the mean with the meaning model. Seventh round, out of fold, words and
# meaning: 1% kept 89.4% of crises found with 1.26% false alarms on hard ordinary messages,
# 2% 89.0% with 0.95% (lexicon hits on courses, news and the past were over half of those
# false alarms), 3% 88.6% with 0.84%, 5% 87.9% with 0.67%: 2% is the knee, and a crisis whose
# alarm is overruled still scores at least WORRY, so its answer carries the 911/988 line.
# Words alone, 2% also looked better out of fold (75.4% found with 1.0% false alarms, against
# 74.1% with 1.5%) but lost a crisis of the project's question set: "a child is in danger
# next door" scores 0.214 (the examples hold "in danger" only in negations, "I am not in
# danger"; the meaning model reads it at 0.955). The eighth and ninth rounds added 458
# examples, 100 of them stating danger plainly; out of fold 2% still looks better (75.8% found,
# 1.0% false alarms, against 75.3% and 1.5%), but that message still scores 0.213 and "Я хочу
# померти, мені дуже погано" (Ukrainian: I want to die, I feel very bad) 0.29, both under
# 2%'s CONFIRM (0.295): words keep 1%. A clause of at most SHORT words with a lexicon hit
# standing on its own would keep such alarms, but out of fold it cost 0.3 points of false
# alarms for 0.05 points of crises found, so it was not kept.
LEXICON_LOSS = {"words": 0.01, "meaning": 0.02}
# Clauses: sentences and also commas ("i want to kill myself, how do I get a health card" is two
# requests in one sentence; the second dilutes the whole message's score).
# The messages the lexicons were written from: out-of-fold, the lexicons look perfect on them.
LEXICON_SOURCE = {
    r["text"]
    for r in map(json.loads, (ROOT / "tests/data/crisis.jsonl").open(encoding="utf-8"))
    if r["split"] == "tune"
}


def folds(count: int, k: int) -> np.ndarray:
    """Each example's fold (0 to k-1): the same for the n-grams and the meaning model, so
    their out-of-fold probabilities can be averaged."""
    return np.random.default_rng(0).integers(0, k, count)


def out_of_fold(
    rows: list[dict[str, str]],
    examples: list[Example],
    ordinary: list[str],
    args: argparse.Namespace,
    words: SafetyDetector,
) -> tuple[np.ndarray, np.ndarray]:
    """Each message's probability of danger from a model learned without its fold: of the
    whole message, and the best of that and its clauses with a lexicon hit."""
    fold = folds(len(rows), args.folds)
    danger = np.zeros(len(rows))
    confirm_score = np.zeros(len(rows))
    for f in range(args.folds):
        train = [e for e, g in zip(examples, fold, strict=True) if g != f]
        model = DangerModel(train, ordinary, args.penalty).fit()
        held = np.flatnonzero(fold == f)
        danger[held] = 1 - model.probabilities([rows[i]["text"] for i in held])[:, 0]
        for i in held:
            clauses = [c for c in CLAUSE_END.split(rows[i]["text"]) if c.strip()]
            hit = [c for c in clauses if len(clauses) > 1 and words.find_in_words(c)]
            scores = [model.danger(c)[0] for c in hit]
            confirm_score[i] = max([danger[i], *scores])
    return danger, confirm_score


@dataclass(frozen=True)
class Masks:
    """Which examples are crises, honest (not the lexicons' source), plain, hard ordinary,
    and caught by the lexicons."""

    crisis: np.ndarray
    honest: np.ndarray
    plain: np.ndarray
    hard: np.ndarray
    lexicon: np.ndarray


def choose_bounds(
    name: str, danger: np.ndarray, m: Masks, loss: float = LEXICON_LOSS["meaning"]
) -> tuple[float, float, float]:
    """SURE, CONFIRM and WORRY for out-of-fold probabilities of danger, printed with what
    they find."""
    crisis, honest, plain, hard, lexicon = m.crisis, m.honest, m.plain, m.hard, m.lexicon
    # CONFIRM: the model may take a lexicon's alarm away only where that loses at most `loss`
    # (LEXICON_LOSS) of the lexicons' true alarms (a missed crisis costs more than a false
    # alarm, which the person clears with one tap). SURE: the model alone raises an alarm
    # from the lowest probability that keeps plain messages' false alarms at 1% at most.
    kept = lexicon & crisis & honest
    confirm = float(np.quantile(danger[kept], loss))
    sure = 1.0
    for candidate in np.linspace(0.95, 0.3, 66):
        alarm = (danger >= candidate) | (lexicon & (danger >= confirm))
        if alarm[plain].mean() > 0.01:
            break
        sure = float(candidate)
    alarm = (danger >= sure) | (lexicon & (danger >= confirm))
    print(
        f"{name}: SURE={sure:.3f} CONFIRM={confirm:.3f}: honest examples found "
        f"{alarm[crisis & honest].mean():.1%}, false alarms {alarm[hard].mean():.1%} "
        f"(plain {alarm[plain].mean():.2%}); lexicon hits kept "
        f"{(danger[kept] >= confirm).mean():.1%}"
    )
    # WORRY: below an alarm, a message this likely to be danger still gets the 911/988 line
    # under its answer. The lowest probability that puts the line under at most 1 plain
    # message in 10 (one extra line on an answer costs little; a crisis answered with a
    # bus timetable and no 911 costs a great deal).
    worry = sure
    for candidate in np.linspace(sure, 0.01, 100):
        if ((danger >= candidate) & ~alarm)[plain].mean() > 0.1:
            break
        worry = float(candidate)
    missed = crisis & honest & ~alarm
    lined = (danger >= worry) & ~alarm
    print(
        f"{name}: WORRY={worry:.3f}: crises the alarm missed that get the line "
        f"{lined[missed].mean():.1%}; ordinary messages with the line: hard "
        f"{lined[hard].mean():.1%}, plain {lined[plain].mean():.1%}"
    )
    return sure, confirm, worry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--penalty", type=float, default=PENALTY)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--kb-negatives", action="store_true")
    parser.add_argument("--ship", action="store_true", help="write examples.model.npz")
    args = parser.parse_args(argv)
    if args.ship:
        start = time.perf_counter()
        examples = read_examples(EXAMPLES)
        model = DangerModel(examples).fit()
        model.save(shipped_model(EXAMPLES))
        print(f"learned in {time.perf_counter() - start:.1f} s: {shipped_model(EXAMPLES)}")
        vectors = example_vectors([e.text for e in examples])
        if vectors is None:
            print("the multilingual extra is not installed: the meaning model is not learned")
            return 0
        danger = [e.label != NONE for e in examples]
        head = MeaningHead.fit(vectors, danger, MODEL, examples_key(examples))
        head.save(shipped_meaning(EXAMPLES))
        print(f"meaning model: {shipped_meaning(EXAMPLES)}")
        return 0
    knowledge = load_knowledge(ROOT / "knowledge")
    words = SafetyDetector.for_knowledge(knowledge)
    ordinary = ordinary_questions(knowledge) if args.kb_negatives else []
    rows = [json.loads(line) for line in EXAMPLES.read_text(encoding="utf-8").splitlines()]
    examples = read_examples(EXAMPLES)
    # Out-of-fold scores are kept by the exact examples and settings (7 minutes to learn).
    key = DangerModel(examples, ordinary, args.penalty).key + f"-{args.folds}"
    kept = CACHE / f"crisis_learn-{key}.npz"
    start = time.perf_counter()
    if kept.exists():
        with np.load(kept) as saved:
            danger, confirm_score = saved["danger"], saved["confirm"]
    else:
        danger, confirm_score = out_of_fold(rows, examples, ordinary, args, words)
        CACHE.mkdir(parents=True, exist_ok=True)
        np.savez(kept, danger=danger, confirm=confirm_score)
    print(f"{args.folds} folds learned in {time.perf_counter() - start:.1f} s")
    crisis = np.array([r["label"] != "none" for r in rows])
    lexicon = np.array([words.find_in_words(r["text"]) is not None for r in rows])
    honest = np.array([r["text"] not in LEXICON_SOURCE for r in rows])
    # Plain messages (chat, off-topic, everyday newcomer questions; kind "plain") are the
    # bulk of real traffic: an alarm there costs most, and they would dilute the hard ordinary
    # messages' false-alarm rate, so each has its own bound.
    plain = np.array([r.get("kind") == "plain" for r in rows])
    hard = ~crisis & honest & ~plain
    print(
        f"honest examples: {honest.sum()} ({(crisis & honest).sum()} crises, "
        f"{hard.sum()} hard ordinary, {plain.sum()} plain)"
    )
    lexicon_only = lexicon[crisis & honest].mean(), lexicon[hard].mean(), lexicon[plain].mean()
    print(
        f"lexicons alone: found {lexicon_only[0]:.1%}, false alarms {lexicon_only[1]:.1%} "
        f"(plain {lexicon_only[2]:.1%})"
    )
    masks = Masks(crisis, honest, plain, hard, lexicon)
    sure, confirm, _ = choose_bounds("words", danger, masks, LEXICON_LOSS["words"])
    # As shipped (bot/matching/safety.py): a lexicon hit also stands when a clause with a hit
    # reaches SURE on its own (an ordinary question beside the danger dilutes the whole).
    alarm = (danger >= sure) | (lexicon & ((danger >= confirm) | (confirm_score >= sure)))
    print(
        f"  or a clause with a lexicon hit at SURE: found {alarm[crisis & honest].mean():.1%}, "
        f"false alarms {alarm[hard].mean():.1%} (plain {alarm[plain].mean():.2%})"
    )
    for rule, score in (("whole message", danger), ("whole message or a clause", confirm_score)):
        alarm = (danger >= sure) | (lexicon & (score >= confirm))
        print(
            f"  confirmed by the {rule}: found {alarm[crisis & honest].mean():.1%}, "
            f"false alarms {alarm[hard].mean():.1%} (plain {alarm[plain].mean():.2%})"
        )
    vectors = example_vectors([r["text"] for r in rows])
    if vectors is None:
        print("the multilingual extra is not installed: the meaning model is not measured")
        return 0
    # The meaning model, out of fold on the same folds; the bot averages the two models'
    # probabilities (bot.matching.safety.assess) and uses its own bounds, chosen the same way.
    # Kept like the n-grams' (MEANING_SEEDS networks per fold: 10-15 minutes on 2 cores).
    meaning_kept = CACHE / f"crisis_learn-{examples_key(examples)}-{args.folds}.npy"
    if meaning_kept.exists():
        meaning = np.load(meaning_kept)
    else:
        fold = folds(len(rows), args.folds)
        meaning = np.zeros(len(rows))
        for f in range(args.folds):
            head = MeaningHead.fit(vectors[fold != f], crisis[fold != f], MODEL, "")
            meaning[fold == f] = [head.probability(v) for v in vectors[fold == f]]
        np.save(meaning_kept, meaning)
    choose_bounds("meaning alone", meaning, masks)
    choose_bounds("words and meaning", (danger + meaning) / 2, masks)
    return 0


def example_vectors(texts: list[str]) -> np.ndarray | None:
    """The encoder's vector of every example (about 5 minutes the first time, then kept in
    .cache/benchmarks/examples-encoder); None without the multilingual extra."""
    with encoder.running(CACHE / "examples-encoder") as found:
        return None if found is None else found.corpus(texts)


if __name__ == "__main__":
    raise SystemExit(main())
