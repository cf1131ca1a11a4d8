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
import subprocess
import sys
import time
import tracemalloc
import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import comb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.knowledge.loader import load_directory
from bot.matching import encoder as sentence_encoder
from bot.matching.meaning import default_embedder
from bot.needs import groups as need_groups
from bot.needs.stored import encode_sentence

sys.path.insert(0, str(ROOT / "benchmarks"))
import needs_old
from needs_log import typo

# Main's centroid grouping before the average-linkage merge and the encoder mix, read from the
# git history (bot/needs/groups.py at this commit) rather than kept as a frozen copy.
BASELINE = "84cef55"


def _baseline_groups(revision: str = BASELINE) -> types.ModuleType:
    """bot/needs/groups.py as it was at `revision`, loaded as the module `needs_main`."""
    path = f"{revision}:bot/needs/groups.py"
    shown = subprocess.run(
        ["git", "-C", str(ROOT), "show", path], capture_output=True, text=True, check=False
    )
    if shown.returncode != 0:
        raise SystemExit(f"the baseline needs the git history ({path}): {shown.stderr.strip()}")
    module = types.ModuleType("needs_main")
    sys.modules["needs_main"] = module  # dataclasses look their module up while defining
    exec(compile(shown.stdout, path, "exec"), module.__dict__)
    return module


needs_main = _baseline_groups()

LABELLED = ROOT / "tests" / "data" / "needs_labelled.jsonl"
CLINC = ROOT.parent / "shared" / "benchmarks" / "clinc150.jsonl"
# The encoder's vectors of each set are computed once (about 10 ms a question) and kept here.
ENCODER_CACHE = Path("/tmp/needs-grouping-encoder")
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


# -- the groupings ------------------------------------------------------------------------
def leader_grouping(texts: Sequence[str]) -> list[object]:
    """The leader-based grouping of before issue 12 (frozen in benchmarks/needs_old.py)."""
    result = needs_old.assign(list(enumerate(texts)), [], needs_old.Signatures(), 1)
    return [result.memberships.get(i, f"alone-{i}") for i in range(len(texts))]


def old_grouping(texts: Sequence[str]) -> list[object]:
    """The centroid grouping as it was on main (bot/needs/groups.py at BASELINE, from git)."""
    vectoriser = needs_main.Vectoriser(default_embedder(), place_words=PLACE_WORDS)
    vectoriser.learn(texts)
    groups = needs_main.NeedGroups()
    vectors = vectoriser.vectors(texts)
    placed = groups.refine(vectors, groups.add(vectors).needs)
    mapping = groups.merge()
    return [
        needs_main.resolve(mapping, n) if n is not None else f"alone-{i}"
        for i, n in enumerate(placed)
    ]


def new_grouping(
    texts: Sequence[str],
    *,
    sentences: Sequence[str | None] = (),
    join: float | None = None,
    merge: float | None = None,
    passes: int = need_groups.PASSES,
) -> list[object]:
    """bot.needs.groups from scratch, as `needs` runs it: learn words (and the stored sentence
    vectors, when given), vectorise, add, refine, one merge pass."""
    vectoriser = need_groups.Vectoriser(default_embedder(), place_words=PLACE_WORDS)
    vectoriser.learn(texts)
    vectoriser.learn_sentences(texts, sentences)
    groups = need_groups.NeedGroups(
        join=vectoriser.join if join is None else join,
        merge=vectoriser.merge if merge is None else merge,
        dim=vectoriser.dim,
    )
    vectors = vectoriser.vectors(texts, sentences)
    placed = groups.add(vectors).needs
    if passes:
        placed = groups.refine(vectors, placed, passes)
    mapping = groups.merge()
    return [
        need_groups.resolve(mapping, n) if n is not None else f"alone-{i}"
        for i, n in enumerate(placed)
    ]


@functools.cache
def _encoder() -> Any:
    return sentence_encoder.start(ENCODER_CACHE)


def sentences_of(texts: Sequence[str]) -> list[str | None] | None:
    """What the bot stores with each question when the `multilingual` extra is installed (the
    encoder's vector, as `encode_sentence` keeps it), or None without the extra. Encoded once
    and cached on disk: the bot computes it when a question is logged, not when grouping."""
    model = _encoder()
    if model is None:
        return None
    vectors = model.corpus(list(texts))
    if vectors is None:
        return None
    return [encode_sentence(v) for v in vectors]


def groupers(texts: Sequence[str]) -> list[tuple[str, Grouper]]:
    """The groupings measured side by side on these texts."""
    out: list[tuple[str, Grouper]] = [("old", old_grouping), ("new, words", new_grouping)]
    sentences = sentences_of(texts)
    if sentences is not None:
        out.append(("new, words + encoder", functools.partial(new_grouping, sentences=sentences)))
    return out


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
    texts: Sequence[str], sentences: Sequence[str | None] = ()
) -> tuple[need_groups.Vectoriser, need_groups.NeedGroups, float]:
    """Group texts from scratch as `needs` does; returns the seconds spent on words+vectors."""
    start = time.perf_counter()
    vectoriser = need_groups.Vectoriser(default_embedder(), place_words=PLACE_WORDS)
    vectoriser.learn(texts)
    vectoriser.learn_sentences(texts, sentences)
    vectors = vectoriser.vectors(texts, sentences)
    words = time.perf_counter() - start
    groups = need_groups.NeedGroups(
        join=vectoriser.join, merge=vectoriser.merge, dim=vectoriser.dim
    )
    placed = groups.add(vectors).needs
    groups.refine(vectors, placed)
    groups.merge()
    return vectoriser, groups, words


def _scale_old(texts: Sequence[str], extra: Sequence[str]) -> None:
    """The same timings for main's grouping (groups.py at BASELINE, from git), in one run."""
    start = time.perf_counter()
    vectoriser = needs_main.Vectoriser(default_embedder(), place_words=PLACE_WORDS)
    vectoriser.learn(texts)
    vectors = vectoriser.vectors(texts)
    words = time.perf_counter() - start
    groups = needs_main.NeedGroups()
    groups.refine(vectors, groups.add(vectors).needs)
    groups.merge()
    total = time.perf_counter() - start
    start = time.perf_counter()
    vectoriser.learn(extra)
    groups.add(vectoriser.vectors(extra))
    groups.merge()
    added = time.perf_counter() - start
    print(
        f"\nScale (old, main's grouping): {len(texts):,} questions grouped in {total:.2f} s "
        f"(words and vectors {words:.2f} s of it), {len(groups):,} needs; 1,000 more added in "
        f"{added:.3f} s."
    )


def scale_questions(
    count: int, rows: list[dict[str, str | None]], encoder: bool, rng: random.Random
) -> tuple[list[str], list[str | None], list[str], list[int]] | None:
    """`count` questions built from CLINC150's lines, then typo'd copies: the lines, their
    stored encoder vectors (with `encoder`: validation and test lines only), the questions and
    the line each came from; None when the encoder is wanted and missing."""
    if encoder:
        base = [str(r["text"]) for r in rows if r["split"] in ("val", "test")]
        found = sentences_of(base)
        if found is None:
            return None
        stored: list[str | None] = list(found)
    else:
        base = [str(r["text"]) for r in rows]
        stored = [None] * len(base)
    picks = list(range(min(count, len(base))))
    while len(picks) < count:
        picks.append(rng.randrange(len(base)))
    texts = [
        base[i] if n < len(base) else typo(base[i], rng, longer_than=4) for n, i in enumerate(picks)
    ]
    return base, stored, texts, picks


def scale(count: int, rows: list[dict[str, str | None]], encoder: bool = False) -> None:
    """Time grouping `count` questions (CLINC150 lines, then typo'd copies), then adding 1,000
    new ones to the existing needs; memory traced at half and full size. With `encoder`, the
    lines are CLINC150's validation and test questions with their stored encoder vectors (a
    typo'd copy keeps its line's vector: this measures time and memory, not quality)."""
    rng = random.Random(5)
    built = scale_questions(count, rows, encoder, rng)
    if built is None:
        return
    base, stored, texts, picks = built
    sentences = [stored[i] for i in picks]
    more = [rng.randrange(len(base)) for _ in range(1000)]
    extra = [typo(base[i], rng, longer_than=4) for i in more]
    extra_sentences = [stored[i] for i in more]
    if not encoder:
        sentences, extra_sentences = [], []
    start = time.perf_counter()
    vectoriser, groups, words = _group_all(texts, sentences)
    total = time.perf_counter() - start
    start = time.perf_counter()
    vectoriser.learn(extra)
    groups.add(vectoriser.vectors(extra, extra_sentences))
    groups.merge()
    added = time.perf_counter() - start
    kind = "words + encoder" if encoder else "words"
    if not encoder:
        _scale_old(texts, extra)
    print(
        f"\nScale ({kind}): {count:,} questions grouped in {total:.2f} s (words and vectors "
        f"{words:.2f} s of it, {need_groups.PASSES} refinement passes), {len(groups):,} needs; "
        f"1,000 more added in {added:.3f} s."
    )
    for size in (count // 2, count):
        tracemalloc.start()
        _group_all(texts[:size], sentences[:size])
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"Memory: {size:,} questions, peak {peak / 1e6:.0f} MB allocated while grouping.")


def surge(data: Labelled, share: float = 0.4, seed: int = 3) -> Labelled:
    """`data` with its largest need asked again (typo'd copies) until it holds `share`."""
    rng = random.Random(seed)
    sizes: dict[str, int] = {}
    for _, need in data:
        sizes[need] = sizes.get(need, 0) + 1
    big = max(sizes, key=lambda n: (sizes[n], n))
    wordings = [text for text, need in data if need == big]
    extra = int((share * len(data) - sizes[big]) / (1 - share))
    return data + [(typo(rng.choice(wordings), rng, longer_than=4), big) for _ in range(extra)]


def tune_sets(rows: list[dict[str, str | None]]) -> dict[str, Labelled]:
    """The sets thresholds are chosen on: the Durham tune half and CLINC150 validation."""
    return {
        "tune": labelled("tune"),
        "val-1": clinc_sample(rows, "val", 1, 100),
        "val-2": clinc_sample(rows, "val", 2, 100),
        "val-all": [
            (str(r["text"]), str(r["label"])) for r in rows if r["split"] == "val" and r["label"]
        ],
    }


def tune(rows: list[dict[str, str | None]]) -> None:
    """Scan thresholds on the tune half and CLINC150 validation samples (never test)."""
    sets = tune_sets(rows)
    # Not in the mean: val-1 with one need surging (typo'd copies of its largest intent until
    # it holds 40% of the questions), to see that a surge does not split what it groups.
    sets["surge"] = surge(sets["val-1"])
    for kind in ("words", "words + encoder"):
        stored = {name: sentences_of([t for t, _ in data]) for name, data in sets.items()}
        if kind != "words" and None in stored.values():
            return
        for join in (0.2, 0.25, 0.3, 0.35):
            for merge in (0.15, 0.2, 0.25, 0.3, 0.35):
                scores = [
                    measure(
                        data,
                        functools.partial(
                            new_grouping,
                            join=join,
                            merge=merge,
                            sentences=(stored[name] or []) if kind != "words" else (),
                        ),
                    )
                    for name, data in sets.items()
                ]
                mean_ari = np.mean([s["ari"] for s in scores[:4]])
                worst = max(s["found"] / s["true"] for s in scores)
                print(
                    f"{kind}: join {join} merge {merge}: mean ARI {mean_ari:.3f}, "
                    f"worst needs ratio {worst:.2f} | "
                    + " ".join(f"{s['ari']:.3f}" for s in scores),
                    flush=True,
                )


# -- a candidate tried in the fourth session and not shipped: absorbing small needs ----------
def absorb_small(
    groups: need_groups.NeedGroups,
    small: int,
    floor: float,
    changed: set[int],
    eligible: set[int] | None = None,
) -> dict[int, int]:
    """After the merge, each need of at most `small` questions joins the larger need whose
    centroid its questions are on average at least `floor` similar to (T_s . u_l / n_s, from
    the sums); the older id is kept. Only pairs with a need in `changed` (ids) are scored,
    and only needs in `eligible` (when given) may be absorbed. Works on `groups`' internals:
    the candidate, kept here to reproduce RESULTS' numbers."""
    g: Any = groups
    n = len(g._ids)
    counts = g._counts[:n]
    smalls = np.flatnonzero((counts > 0) & (counts <= small))
    if eligible is not None:
        smalls = np.array([r for r in smalls if g._ids[r] in eligible], dtype=np.int64)
    large = np.flatnonzero(counts > small)
    if not smalls.size or not large.size:
        return {}
    fresh = {g._row[nid] for nid in changed if nid in g._row}
    scores = (g._totals[smalls] @ g._units[large].T) / counts[smalls, None]
    stale = np.array([r not in fresh for r in smalls])
    scores[np.ix_(stale, np.array([r not in fresh for r in large]))] = -np.inf
    best = np.argmax(scores, axis=1)
    into: dict[int, list[int]] = {}
    for i in np.flatnonzero(scores[np.arange(len(best)), best] >= floor):
        into.setdefault(int(large[best[i]]), []).append(int(smalls[i]))
    if not into:
        return {}
    mapping: dict[int, int] = {}
    rows: list[tuple[int, Any, int]] = []
    gone = {r for members in into.values() for r in members}
    for r in range(n):
        if r in gone:
            continue
        members = [r, *into.get(r, [])]
        keep = min(g._ids[m] for m in members)
        mapping.update({g._ids[m]: keep for m in members if g._ids[m] != keep})
        rows.append((keep, g._totals[members].sum(axis=0), int(counts[members].sum())))
    g._reset(rows)
    return mapping


def online_vectors(
    texts: Sequence[str], sentences: Sequence[str | None] = ()
) -> tuple[float, float, int, Any]:
    """(join, merge, dim, vectors) of these texts, as `needs` computes them."""
    vectoriser = need_groups.Vectoriser(default_embedder(), place_words=PLACE_WORDS)
    vectoriser.learn(texts)
    vectoriser.learn_sentences(texts, sentences)
    return vectoriser.join, vectoriser.merge, vectoriser.dim, vectoriser.vectors(texts, sentences)


def online_grouping(
    texts: Sequence[str],
    *,
    sentences: Sequence[str | None] = (),
    batches: int = 1,
    small: int = 0,
    floor: float = 1.0,
    quiet: int | None = None,
    every: int = 0,
    passes_all: int = 1,
    instead: bool = False,
    prepared: tuple[float, float, int, Any] | None = None,
) -> list[object]:
    """bot.needs.groups fed in `batches` as `needs` refreshes (add, refine the batch, merge),
    with the small-need pass after each merge when `small` > 0; with `quiet`, only a need
    whose last question came at least `quiet` batches ago may be absorbed (batches stand for
    time: a need that stayed small, not a young one).

    With `every` = k > 0 (the candidate of the fifth session), every k-th batch (and the last)
    also refines ALL questions stored so far, `passes_all` k-means passes (`NeedGroups.refine`
    over every question, in blocks against the centroid matrix), then merges again; with
    `instead`, that refine of everything replaces the batch's own refine before the merge.
    `prepared` (join, merge, dim, vectors) skips re-learning the words of the same texts."""
    if prepared is None:
        prepared = online_vectors(texts, sentences)
    join, merge_at, dim, vectors = prepared
    groups = need_groups.NeedGroups(join=join, merge=merge_at, dim=dim)
    where: list[int | None] = []
    step = -(-len(texts) // batches)
    for start in range(0, len(texts), step):
        batch = vectors[start : start + step]
        number = start // step + 1
        refine_all = every > 0 and (number % every == 0 or start + step >= len(texts))
        placed = groups.add(batch).needs
        if refine_all and instead:
            where = groups.refine(vectors[: start + len(batch)], where + placed, passes_all)
        else:
            where += groups.refine(batch, placed)
        g: Any = groups
        changed = {g._ids[r] for r in g._dirty if r < len(g._ids)}
        mapping = groups.merge()
        where = [need_groups.resolve(mapping, n) if n is not None else None for n in where]
        if refine_all and not instead:
            where = groups.refine(vectors[: start + len(batch)], where, passes_all)
            changed |= {g._ids[r] for r in g._dirty if r < len(g._ids)}
            more = groups.merge()
            mapping = {**mapping, **more}
            where = [need_groups.resolve(more, n) if n is not None else None for n in where]
        if small:
            eligible = None
            if quiet is not None:
                last: dict[int, int] = {}
                for i, n in enumerate(where):
                    if n is not None:
                        last[n] = i // step
                eligible = {n for n, seen in last.items() if start // step - seen >= quiet}
                changed = set(g._ids)  # a need may become eligible without changing
            later = absorb_small(
                groups,
                small,
                floor,
                {need_groups.resolve(mapping, i) for i in changed},
                eligible,
            )
            where = [need_groups.resolve(later, n) if n is not None else None for n in where]
    return [n if n is not None else f"alone-{i}" for i, n in enumerate(where)]


def outside_main(truth: Sequence[str], pred: Sequence[object]) -> dict[str, int]:
    """Where the wordings of each need (8 wordings or more, not out of scope) sit outside its
    main group: alone, in groups of 2-5, in larger groups mostly its own, or mostly another's."""
    size: dict[object, int] = {}
    for p in pred:
        size[p] = size.get(p, 0) + 1
    per: dict[str, dict[object, int]] = {}
    for t, p in zip(truth, pred, strict=True):
        per.setdefault(t, {})
        per[t][p] = per[t].get(p, 0) + 1
    out = {"alone": 0, "2-5": 0, "own 6+": 0, "another's": 0}
    for need, groups in per.items():
        if need.startswith("oos") or sum(groups.values()) < 8:
            continue
        top = max(groups, key=lambda g: groups[g])
        for g, k in groups.items():
            if g == top:
                continue
            key = "alone" if size[g] == 1 else "2-5" if size[g] <= 5 else "own 6+"
            out["another's" if key == "own 6+" and 2 * k <= size[g] else key] += k
    return out


def tune_absorb(rows: list[dict[str, str | None]]) -> None:
    """The small-need pass on the tune sets: SMALL x ABSORB, grouped at once and in 10
    batches, and how many out-of-scope one-offs left alone without it stay alone with it."""
    sets = tune_sets(rows)
    for kind in ("words", "words + encoder"):
        stored = {
            name: (sentences_of([t for t, _ in data]) or []) if kind != "words" else []
            for name, data in sets.items()
        }
        alone: dict[str, set[int]] = {}
        settings = [(0, 1.0)] + [(k, a) for k in (2, 3, 5, 8) for a in (0.175, 0.2, 0.225, 0.25)]
        for small, floor in settings:
            line = f"{kind}: small {small} absorb {floor}:"
            for batches in (1, 10):
                aris, kept = [], []
                for name, data in sets.items():
                    truth = [n for _, n in data]
                    pred = online_grouping(
                        [t for t, _ in data],
                        sentences=stored[name],
                        batches=batches,
                        small=small,
                        floor=floor,
                    )
                    aris.append(ari(truth, pred))
                    if batches > 1:
                        continue
                    counts: dict[object, int] = {}
                    for p in pred:
                        counts[p] = counts.get(p, 0) + 1
                    lone = {
                        i
                        for i, (t, p) in enumerate(zip(truth, pred, strict=True))
                        if t.startswith("oos") and counts[p] == 1
                    }
                    if small == 0:
                        alone[name] = lone
                        if name != "tune":
                            print(
                                f"{kind}, {name}, off the main group: {outside_main(truth, pred)}"
                            )
                    elif alone[name]:
                        kept.append(len(lone & alone[name]) / len(alone[name]))
                line += f" {batches} batch(es) mean ARI {np.mean(aris):.3f} ("
                line += " ".join(f"{a:.3f}" for a in aris) + ")"
                if kept:
                    line += f", one-offs still alone {min(kept):.0%}-{max(kept):.0%};"
            print(line, flush=True)


# The refine-all variants measured by `--tune-refine-all`: (name, every, passes_all, instead).
REFINE_ALL = [
    ("main", 0, 1, False),
    ("after merge, every batch, 1 pass", 1, 1, False),
    ("after merge, every batch, 2 passes", 1, 2, False),
    ("after merge, every 5, 1 pass", 5, 1, False),
    ("after merge, every 5, 2 passes", 5, 2, False),
    ("instead of batch refine, every batch, 1 pass", 1, 1, True),
    ("instead of batch refine, every batch, 2 passes", 1, 2, True),
    ("instead of batch refine, every 5, 1 pass", 5, 1, True),
    ("instead of batch refine, every 5, 2 passes", 5, 2, True),
]


def tune_refine_all(rows: list[dict[str, str | None]]) -> None:
    """Refining every stored question periodically (not only the new batch), on the tune sets
    only: mean ARI over the four, at once and in 10 and 30 batches, and how many groups the
    largest intent of val-all landed in."""
    sets = tune_sets(rows)
    for kind in ("words", "words + encoder"):
        stored = {
            name: (sentences_of([t for t, _ in data]) or []) if kind != "words" else []
            for name, data in sets.items()
        }
        if kind != "words" and not all(stored.values()):
            return
        prepared = {
            name: online_vectors([t for t, _ in data], stored[name]) for name, data in sets.items()
        }
        for name, every, passes_all, instead in REFINE_ALL:
            line = f"{kind} | {name} |"
            for batches in (1, 10, 30):
                aris, split = [], ""
                for set_name, data in sets.items():
                    truth = [n for _, n in data]
                    pred = online_grouping(
                        [t for t, _ in data],
                        batches=batches,
                        every=every,
                        passes_all=passes_all,
                        instead=instead,
                        prepared=prepared[set_name],
                    )
                    aris.append(ari(truth, pred))
                    if set_name == "val-all":
                        top, worst = fragmentation(truth, pred)
                        split = f"{worst}/{top}, {len(set(pred))} needs"
                line += f" {np.mean(aris):.3f} (" + " ".join(f"{a:.3f}" for a in aris)
                line += f"; val-all split {split}) |"
            print(line, flush=True)


def scale_refine_all(count: int, rows: list[dict[str, str | None]], encoder: bool = False) -> None:
    """Time one refine of every question (1 and 2 passes, then the merge) once `count`
    questions are grouped, built as `scale` builds them."""
    rng = random.Random(5)
    built = scale_questions(count, rows, encoder, rng)
    if built is None:
        return
    _, stored, texts, picks = built
    sentences = [stored[i] for i in picks] if encoder else []
    join, merge_at, dim, vectors = online_vectors(texts, sentences)
    groups = need_groups.NeedGroups(join=join, merge=merge_at, dim=dim)
    placed = groups.add(vectors).needs
    placed = groups.refine(vectors, placed)
    mapping = groups.merge()
    placed = [need_groups.resolve(mapping, n) if n is not None else None for n in placed]
    kind = "words + encoder" if encoder else "words"
    for passes in (1, 2):
        copy = need_groups.NeedGroups(
            groups.centroids(), join=join, merge=merge_at, dim=dim, next_id=groups.next_id
        )
        start = time.perf_counter()
        moved = copy.refine(vectors, placed, passes)
        refined = time.perf_counter() - start
        copy.merge()
        total = time.perf_counter() - start
        changed = sum(a != b for a, b in zip(placed, moved, strict=True))
        print(
            f"Refine all ({kind}): {count:,} questions, {len(groups):,} needs, {passes} pass(es) "
            f"{refined:.2f} s, with the merge {total:.2f} s; {changed:,} questions moved.",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip the 150-intent set and scale")
    parser.add_argument("--scale", type=int, default=100_000, help="questions for the scale line")
    parser.add_argument("--tune", action="store_true", help="scan thresholds on tune data")
    parser.add_argument(
        "--tune-absorb", action="store_true", help="scan the small-need pass on tune data"
    )
    parser.add_argument("--only-scale", action="store_true", help="only the scale lines")
    parser.add_argument(
        "--tune-refine-all", action="store_true", help="refine every question, on tune data"
    )
    parser.add_argument(
        "--scale-refine-all", action="store_true", help="time one refine of every question"
    )
    args = parser.parse_args()
    rows = clinc_rows()
    if args.tune:
        tune(rows)
        return
    if args.tune_absorb:
        tune_absorb(rows)
        return
    if args.tune_refine_all:
        tune_refine_all(rows)
        return
    if args.scale_refine_all:
        default_embedder()
        scale_refine_all(args.scale, rows)
        scale_refine_all(args.scale, rows, encoder=True)
        return
    if args.only_scale:
        default_embedder()
        scale(args.scale, rows)
        scale(args.scale, rows, encoder=True)
        return
    default_embedder()  # load once, outside the timings
    print(
        f"New grouping: words join {need_groups.JOIN}, merge {need_groups.MERGE}; with the "
        f"encoder ({need_groups.SENTENCE} of the vector) join {need_groups.SENTENCE_JOIN}, "
        f"merge {need_groups.SENTENCE_MERGE}\n"
    )
    print(
        "| set | grouping | ARI | NMI | B-cubed F1 | needs found / true | largest need split "
        "into | time |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for split in ("tune", "heldout"):
        data = labelled(split)
        for which, grouper in groupers([t for t, _ in data]):
            print(row(f"Durham {split} ({len(data)})", which, measure(data, grouper)))
    samples = [clinc_sample(rows, "test", seed, 200) for seed in (1, 2, 3)]
    per_sample = [groupers([t for t, _ in s]) for s in samples]
    for k, (which, _) in enumerate(per_sample[0]):
        results = [measure(s, g[k][1]) for s, g in zip(samples, per_sample, strict=True)]
        print(row("CLINC150 40 intents + 200 OOS (mean of 3)", which, average(results)))
    if args.quick:
        return
    everything = clinc_all(rows)
    for which, grouper in groupers([t for t, _ in everything]):
        print(row("CLINC150 all 150 intents (4,500)", which, measure(everything, grouper)))
    scale(args.scale, rows)
    scale(args.scale, rows, encoder=True)


if __name__ == "__main__":
    main()
