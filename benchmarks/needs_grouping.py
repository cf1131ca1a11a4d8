"""Emerging-needs grouping: today's word-overlap grouping (bot.needs) against the centroid one
(bot.needs.groups), side by side, on labelled questions.

    python benchmarks/needs_grouping.py [--quick] [--scale 100000] [--tune]

Sets: tests/data/needs_labelled.jsonl (the "tune" and "heldout" halves reported apart; whole
needs sit on one side), CLINC150 40-intent samples (40 random intents with their test
questions plus 200 out-of-scope one-offs, seeds 1-3) and all 150 intents' test questions.
`--tune` instead scans thresholds on the tune half and CLINC150's *validation* questions.
Metrics are implemented here (no scikit-learn): adjusted Rand index (ARI), normalised mutual
information (NMI, arithmetic mean, as scikit-learn's default), B-cubed F1, needs found vs true,
and how many groups the largest true need's wordings landed in.
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from scipy.special import comb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.knowledge.loader import load_directory
from bot.matching.meaning import default_embedder
from bot.needs import groups as need_groups

sys.path.insert(0, str(ROOT / "benchmarks"))
import needs_old
from needs_log import typo

LABELLED = ROOT / "tests" / "data" / "needs_labelled.jsonl"
CLINC = ROOT.parent / "shared" / "benchmarks" / "clinc150.jsonl"
# The towns (dropped from questions before comparing) come from the region profile.
_REGION = load_directory(ROOT / "knowledge" / "region.yaml").knowledge
PLACE_WORDS = _REGION.region.place_words if _REGION is not None else frozenset()

Labelled = list[tuple[str, str]]  # (text, true need)
Grouper = Callable[[Sequence[str]], list[object]]


# -- metrics -------------------------------------------------------------------------------
def contingency(truth: Sequence[object], pred: Sequence[object]) -> np.ndarray:
    """Counts of items per (true need, predicted need)."""
    _, t = np.unique(np.array([str(x) for x in truth]), return_inverse=True)
    _, p = np.unique(np.array([str(x) for x in pred]), return_inverse=True)
    table = np.zeros((t.max() + 1, p.max() + 1))
    np.add.at(table, (t, p), 1)
    return table


def ari(truth: Sequence[object], pred: Sequence[object]) -> float:
    """Adjusted Rand index (Hubert and Arabie)."""
    table = contingency(truth, pred)
    pairs = comb(table, 2).sum()
    rows, cols = comb(table.sum(1), 2).sum(), comb(table.sum(0), 2).sum()
    expected = rows * cols / comb(table.sum(), 2)
    top = (rows + cols) / 2
    return 1.0 if top == expected else float((pairs - expected) / (top - expected))


def nmi(truth: Sequence[object], pred: Sequence[object]) -> float:
    """Normalised mutual information, arithmetic-mean normalisation."""
    p = contingency(truth, pred)
    p /= p.sum()
    pt, pp = p.sum(1), p.sum(0)
    nz = p > 0
    mi = (p[nz] * np.log(p[nz] / np.outer(pt, pp)[nz])).sum()
    ht, hp = -(pt * np.log(pt)).sum(), -(pp * np.log(pp)).sum()
    return 1.0 if ht + hp == 0 else float(2 * mi / (ht + hp))


def bcubed_f1(truth: Sequence[object], pred: Sequence[object]) -> float:
    """B-cubed F1: per-item precision and recall of its group, averaged."""
    table = contingency(truth, pred)
    n = table.sum()
    precision = ((table**2).sum(0) / table.sum(0)).sum() / n
    recall = ((table**2).sum(1) / table.sum(1)).sum() / n
    return float(2 * precision * recall / (precision + recall))


def fragmentation(truth: Sequence[str], pred: Sequence[object]) -> tuple[int, int]:
    """(size of the largest true need, the most groups one need of that size landed in)."""
    sizes: dict[str, int] = {}
    for t in truth:
        sizes[t] = sizes.get(t, 0) + 1
    top = max(sizes.values())
    worst = max(
        len({p for t, p in zip(truth, pred, strict=True) if t == need})
        for need, size in sizes.items()
        if size == top
    )
    return top, worst


# -- data ----------------------------------------------------------------------------------
def labelled(split: str) -> Labelled:
    """One half of the project's labelled set."""
    rows = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()]
    return [(r["text"], r["need"]) for r in rows if r["split"] == split]


def clinc_rows() -> list[dict[str, str | None]]:
    """CLINC150, one dict per question."""
    lines = CLINC.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def clinc_sample(rows: list[dict[str, str | None]], split: str, seed: int, oos: int) -> Labelled:
    """40 random intents with their questions in `split`, plus `oos` out-of-scope one-offs."""
    rng = random.Random(seed)
    intents = sorted({str(r["label"]) for r in rows if r["label"]})
    chosen = set(rng.sample(intents, 40))
    out = [
        (str(r["text"]), str(r["label"]))
        for r in rows
        if r["split"] == split and r["label"] in chosen
    ]
    pool = [str(r["text"]) for r in rows if r["split"] == split and r["label"] is None]
    out += [(t, f"oos-{i}") for i, t in enumerate(rng.sample(pool, oos))]
    rng.shuffle(out)
    return out


def clinc_all(rows: list[dict[str, str | None]]) -> Labelled:
    """All 150 intents' test questions (4,500), no out-of-scope."""
    return [(str(r["text"]), str(r["label"])) for r in rows if r["split"] == "test" and r["label"]]


# -- the two groupings ---------------------------------------------------------------------
def old_grouping(texts: Sequence[str]) -> list[object]:
    """The old leader-based grouping (frozen in benchmarks/needs_old.py), from scratch."""
    result = needs_old.assign(list(enumerate(texts)), [], needs_old.Signatures(), 1)
    return [result.memberships.get(i, f"alone-{i}") for i in range(len(texts))]


def new_grouping(
    texts: Sequence[str],
    *,
    join: float = need_groups.JOIN,
    merge: float = need_groups.MERGE,
    meaning: float = need_groups.MEANING,
    letters: float = need_groups.LETTERS,
    filler: float = need_groups.FILLER,
    adapt: float = need_groups.ADAPT,
    passes: int = need_groups.PASSES,
) -> list[object]:
    """bot.needs.groups from scratch: learn words, vectorise, add, refine, one merge pass."""
    vectoriser = need_groups.Vectoriser(
        default_embedder(),
        meaning=meaning,
        letters=letters,
        filler=filler,
        place_words=PLACE_WORDS,
    )
    vectoriser.learn(texts)
    groups = need_groups.NeedGroups(join=join, merge=merge, adapt=adapt)
    vectors = vectoriser.vectors(texts)
    placed = groups.add(vectors).needs
    if passes:
        placed = groups.refine(vectors, placed, passes)
    mapping = groups.merge()
    return [
        need_groups.resolve(mapping, n) if n is not None else f"alone-{i}"
        for i, n in enumerate(placed)
    ]


def measure(data: Labelled, grouper: Grouper) -> dict[str, float]:
    """Every metric of one grouping on one set."""
    texts = [t for t, _ in data]
    truth = [n for _, n in data]
    start = time.perf_counter()
    pred = grouper(texts)
    seconds = time.perf_counter() - start
    size, groups = fragmentation(truth, pred)
    return {
        "ari": ari(truth, pred),
        "nmi": nmi(truth, pred),
        "b3": bcubed_f1(truth, pred),
        "found": len(set(pred)),
        "true": len(set(truth)),
        "largest": size,
        "split_into": groups,
        "seconds": seconds,
    }


def row(name: str, which: str, m: dict[str, float]) -> str:
    """One line of the table."""
    ratio = m["found"] / m["true"]
    return (
        f"| {name} | {which} | {m['ari']:.3f} | {m['nmi']:.3f} | {m['b3']:.3f} | "
        f"{m['found']:.0f} / {m['true']:.0f} ({ratio:.2f}x) | "
        f"{m['split_into']:.0f} of {m['largest']:.0f} | {m['seconds']:.2f} s |"
    )


def average(results: list[dict[str, float]]) -> dict[str, float]:
    """Mean of each metric over samples."""
    return {k: float(np.mean([r[k] for r in results])) for k in results[0]}


def _group_all(
    texts: Sequence[str],
) -> tuple[need_groups.Vectoriser, need_groups.NeedGroups, float]:
    """Group texts from scratch as `needs` does; returns the seconds spent on words+vectors."""
    start = time.perf_counter()
    vectoriser = need_groups.Vectoriser(default_embedder(), place_words=PLACE_WORDS)
    vectoriser.learn(texts)
    vectors = vectoriser.vectors(texts)
    words = time.perf_counter() - start
    groups = need_groups.NeedGroups()
    placed = groups.add(vectors).needs
    groups.refine(vectors, placed)
    groups.merge()
    return vectoriser, groups, words


def scale(count: int, rows: list[dict[str, str | None]]) -> None:
    """Time grouping `count` questions (every CLINC150 line, then typo'd copies), then adding
    1,000 new ones to the existing needs; memory traced at half and full size."""
    rng = random.Random(5)
    base = [str(r["text"]) for r in rows]
    texts = list(base[:count])
    while len(texts) < count:
        texts.append(typo(rng.choice(base), rng, longer_than=4))
    extra = [typo(rng.choice(base), rng, longer_than=4) for _ in range(1000)]
    start = time.perf_counter()
    vectoriser, groups, words = _group_all(texts)
    total = time.perf_counter() - start
    start = time.perf_counter()
    vectoriser.learn(extra)
    groups.add(vectoriser.vectors(extra))
    groups.merge()
    added = time.perf_counter() - start
    print(
        f"\nScale: {count:,} questions grouped in {total:.2f} s (words and vectors "
        f"{words:.2f} s of it, {need_groups.PASSES} refinement passes), {len(groups):,} needs; "
        f"1,000 more added in {added:.3f} s."
    )
    for size in (count // 2, count):
        tracemalloc.start()
        _group_all(texts[:size])
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"Memory: {size:,} questions, peak {peak / 1e6:.0f} MB allocated while grouping.")


def tune(rows: list[dict[str, str | None]]) -> None:
    """Scan thresholds on the tune half and CLINC150 validation samples (never test)."""
    sets = {
        "tune": labelled("tune"),
        "val-1": clinc_sample(rows, "val", 1, 100),
        "val-2": clinc_sample(rows, "val", 2, 100),
    }
    for meaning in (0.5, 0.65, 0.8, 1.0):
        for join in (0.3, 0.35, 0.4):
            for merge in (0.4, 0.45, 0.5):
                grouper = functools.partial(new_grouping, join=join, merge=merge, meaning=meaning)
                scores = [measure(data, grouper) for data in sets.values()]
                mean_ari = np.mean([s["ari"] for s in scores])
                worst = max(s["found"] / s["true"] for s in scores)
                print(
                    f"meaning {meaning} join {join} merge {merge}: mean ARI {mean_ari:.3f}, "
                    f"worst needs ratio {worst:.2f} | "
                    + " ".join(f"{s['ari']:.3f}" for s in scores)
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip the 150-intent set and scale")
    parser.add_argument("--scale", type=int, default=100_000, help="questions for the scale line")
    parser.add_argument("--tune", action="store_true", help="scan thresholds on tune data")
    args = parser.parse_args()
    rows = clinc_rows()
    if args.tune:
        tune(rows)
        return
    default_embedder()  # load once, outside the timings
    print(
        f"New grouping: join {need_groups.JOIN}, merge {need_groups.MERGE}, "
        f"meaning {need_groups.MEANING}\n"
    )
    print(
        "| set | grouping | ARI | NMI | B-cubed F1 | needs found / true | largest need split "
        "into | time |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for split in ("tune", "heldout"):
        data = labelled(split)
        for which, grouper in (("old", old_grouping), ("new", new_grouping)):
            print(row(f"Durham {split} ({len(data)})", which, measure(data, grouper)))
    samples = [clinc_sample(rows, "test", seed, 200) for seed in (1, 2, 3)]
    for which, grouper in (("old", old_grouping), ("new", new_grouping)):
        print(
            row(
                "CLINC150 40 intents + 200 OOS (mean of 3)",
                which,
                average([measure(s, grouper) for s in samples]),
            )
        )
    if args.quick:
        return
    everything = clinc_all(rows)
    for which, grouper in (("old", old_grouping), ("new", new_grouping)):
        print(row("CLINC150 all 150 intents (4,500)", which, measure(everything, grouper)))
    scale(args.scale, rows)


if __name__ == "__main__":
    main()
