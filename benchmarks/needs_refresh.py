"""Emerging needs grouped as the bot groups them: refreshed batch after batch, with and without
the periodic regrouping (issue 12).

    python benchmarks/needs_refresh.py [--report] [--seeds 3] [--batches 1,10,30] [--words-only]

`needs` refreshes the log whenever staff look: each refresh learns the words of its new
questions (on top of what the last one learnt), places them against the stored centroids
(`bot.needs.grouping.assign`), and merges. `needs_grouping.py` groups a set at once, with one
vectoriser; this script runs the bot's own `assign` refresh after refresh, applying each
result as `refresh_needs` stores it (memberships, created needs, merges, centroids), so it
also sees the stored centroids drifting as word rarity changes. "regroup every k": every k-th
refresh is a regrouping (`assign(regroup=True)`), as the first refresh of each day is in the
bot (and the first grouping of a log: with one refresh, "regroup every refresh" is what the
bot does).

By default it measures the tune sets of `needs_grouping.py --tune` (the Durham tune half and
CLINC150 *validation* questions), each reshuffled with a few seeds (questions do not arrive
one intent after another); `--report` measures the reported sets instead (Durham held-out,
CLINC150 40-intent test samples, all 150 intents' test questions), once, after a choice.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import needs_grouping as ng

from bot.matching.meaning import default_embedder
from bot.needs.grouping import Asked, Need, assign
from bot.needs.groups import LearntWords, Vectoriser

Labelled = list[tuple[str, str]]
WHEN = datetime(2026, 12, 1, tzinfo=UTC)


def refreshes(
    texts: Sequence[str],
    sentences: Sequence[str | None] = (),
    *,
    batches: int = 1,
    regroup: int = 0,
    keep_learnt: bool = True,
) -> list[object]:
    """The need of each text after `batches` refreshes, each on the next slice of `texts`; with
    `regroup` = k > 0, every k-th refresh regroups (the first never matters: nothing is stored).

    With `keep_learnt`, as the bot does, a refresh that does not regroup takes up what the
    last one learnt (`Vectoriser.learnt`, stored in `need_words`) and learns only its new
    questions; without it, every refresh learns the whole log again (the bot before
    migration 10)."""
    needs: dict[int, Need] = {}
    where: dict[int, int] = {}
    learnt: LearntWords | None = None
    step = -(-len(texts) // batches)
    for number, start in enumerate(range(0, len(texts), step), 1):
        regrouping = regroup > 0 and number % regroup == 0
        new = [
            Asked(i, texts[i], WHEN, None, "en", sentences[i] if sentences else None)
            for i in range(start, min(start + step, len(texts)))
        ]
        for need in needs.values():
            need.members = []
        for i, nid in sorted(where.items()):
            needs[nid].members.append(
                Asked(i, texts[i], WHEN, None, "en", sentences[i] if sentences else None)
            )
        logged = [m for n in needs.values() for m in n.members] + new
        vectoriser = Vectoriser(default_embedder(), place_words=ng.PLACE_WORDS)
        if learnt is None or regrouping or not keep_learnt:
            vectoriser.learn([q.text for q in logged])
            vectoriser.learn_sentences([q.text for q in logged], [q.vector for q in logged])
        else:
            vectoriser.restore(learnt)
            vectoriser.learn([q.text for q in new])
        next_id = max(needs, default=0) + 1  # as storage numbers needs: MAX(id) + 1
        result = assign(new, list(needs.values()), vectoriser, next_id, regroup=regrouping)
        learnt = vectoriser.learnt([q.text for q in new if q.question_id not in result.memberships])
        for need in result.created:
            needs[need.id] = need
        for i, nid in where.items():  # an absorbed need's questions go to the kept one
            where[i] = result.merged.get(nid, nid)
        where.update(result.memberships)  # ...unless a regrouping moved them elsewhere
        for absorbed in result.merged:
            needs.pop(absorbed, None)
        for nid, centroid in result.centroids.items():
            if nid in needs:
                needs[nid].centroid = centroid
    return [where.get(i, f"alone-{i}") for i in range(len(texts))]


# (name, regroup every k-th refresh, keep what was learnt between regroupings)
VARIANTS = (
    ("no regrouping, the log learnt at every refresh", 0, False),
    ("regroup every refresh", 1, True),
    ("regroup every 5, the log learnt at every refresh", 5, False),
    ("regroup every 5, learnt kept between", 5, True),
)


def run(
    sets: dict[str, Labelled],
    seeds: Sequence[int],
    batch_counts: Sequence[int],
    kinds: Sequence[str],
) -> None:
    """Mean ARI per variant, batch count and kind, over sets and seeds (seed 0: file order)."""
    encoded = {
        name: ng.sentences_of([t for t, _ in data]) if kinds != ["words"] else None
        for name, data in sets.items()
    }
    for kind in kinds:
        for batches in batch_counts:
            scores: dict[str, list[list[float]]] = {v: [] for v, _, _ in VARIANTS}
            for seed in seeds:
                for name, data in sets.items():
                    order = list(range(len(data)))
                    if seed:
                        random.Random(seed).shuffle(order)
                    texts = [data[i][0] for i in order]
                    truth = [data[i][1] for i in order]
                    stored = encoded[name] if kind != "words" else None
                    sentences = [stored[i] for i in order] if stored else []
                    for variant, every, keep in VARIANTS:
                        if batches == 1 and every > 1:
                            continue  # one refresh: the same as no regrouping
                        started = time.perf_counter()
                        pred = refreshes(
                            texts, sentences, batches=batches, regroup=every, keep_learnt=keep
                        )
                        elapsed = time.perf_counter() - started
                        m = ng.measure(list(zip(texts, truth, strict=True)), lambda _t, p=pred: p)
                        scores[variant].append(
                            [m["ari"], m["found"], m["true"], m["split_into"], elapsed]
                        )
                        print(
                            f"  {kind} | {batches} refreshes | seed {seed} | {name} | {variant}: "
                            f"ARI {m['ari']:.3f}, needs {m['found']:.0f} / {m['true']:.0f}, "
                            f"largest split into {m['split_into']:.0f}, {elapsed:.1f} s",
                            flush=True,
                        )
            for variant, rows in scores.items():
                if rows:
                    a = np.array(rows)
                    print(
                        f"{kind} | {batches} refreshes | {variant}: mean ARI {a[:, 0].mean():.3f}"
                        f" | needs {a[:, 1].mean():.0f} / {a[:, 2].mean():.0f}"
                        f" | largest split {a[:, 3].mean():.1f} | {a[:, 4].mean():.1f} s",
                        flush=True,
                    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--report", action="store_true", help="the reported sets, once")
    parser.add_argument("--seeds", type=int, default=3, help="reshuffled orders (0: file order)")
    parser.add_argument("--batches", default="1,10,30", help="refresh counts")
    parser.add_argument("--words-only", action="store_true", help="skip the encoder")
    args = parser.parse_args()
    rows = ng.clinc_rows()
    if args.report:
        sets = {
            "Durham held-out": ng.labelled("heldout"),
            **{
                f"CLINC150 40 + 200 OOS, test {s}": ng.clinc_sample(rows, "test", s, 200)
                for s in (1, 2, 3)
            },
            "CLINC150 all 150, test": ng.clinc_all(rows),
        }
    else:
        sets = ng.tune_sets(rows)
    seeds = list(range(11, 11 + args.seeds)) if args.seeds else [0]
    kinds = ["words"] if args.words_only else ["words", "words + encoder"]
    run(sets, seeds, [int(b) for b in args.batches.split(",")], kinds)


if __name__ == "__main__":
    main()
