"""Order robustness of the refine-all candidate (fifth session): the four validation sets of
`needs_grouping.py --tune` (never held-out or test questions), each reshuffled with a few
seeds, grouped in 10 and 30 batches by main and the refine-all variants; mean ARI per seed.

    python benchmarks/needs_refine_all_orders.py ["words" | "words + encoder"]
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import needs_grouping as ng

# The variants of needs_grouping.REFINE_ALL worth checking in other arrival orders.
VARIANTS = [
    v
    for v in ng.REFINE_ALL
    if v[0]
    in {
        "main",
        "after merge, every batch, 2 passes",
        "after merge, every 5, 1 pass",
        "instead of batch refine, every batch, 2 passes",
        "instead of batch refine, every 5, 2 passes",
    }
]
SEEDS = (11, 12, 13, 14, 15)
# Batch counts measured (NEEDS_BATCHES="1,10,30" to add grouping at once).
BATCHES = tuple(int(b) for b in os.environ.get("NEEDS_BATCHES", "10,30").split(","))


def main() -> None:
    rows = ng.clinc_rows()
    sets = ng.tune_sets(rows)
    kinds = sys.argv[1:] or ["words", "words + encoder"]
    # The encoder cache keeps only the last corpus: encode each set once, then reorder.
    encoded = {name: ng.sentences_of([t for t, _ in data]) for name, data in sets.items()}
    for kind in kinds:
        results: dict[tuple[str, int], list[float]] = {}
        for seed in SEEDS:
            for name, data in sets.items():
                order = list(range(len(data)))
                random.Random(seed).shuffle(order)
                texts = [data[i][0] for i in order]
                truth = [data[i][1] for i in order]
                stored = encoded[name] if kind != "words" else None
                sentences = [stored[i] for i in order] if stored else []
                prepared = ng.online_vectors(texts, sentences)
                for variant, every, passes_all, instead in VARIANTS:
                    for batches in BATCHES:
                        pred = ng.online_grouping(
                            texts,
                            batches=batches,
                            every=every,
                            passes_all=passes_all,
                            instead=instead,
                            prepared=prepared,
                        )
                        key = (variant, batches)
                        results.setdefault(key, []).append(ng.ari(truth, pred))
        for (variant, batches), aris in results.items():
            per_seed = np.array(aris).reshape(len(SEEDS), len(sets)).mean(axis=1)
            base = np.array(results[("main", batches)]).reshape(len(SEEDS), len(sets)).mean(1)
            gain = per_seed - base
            print(
                f"{kind} | {variant} | {batches} batches | mean {per_seed.mean():.3f} | "
                f"gain over main {gain.mean():+.3f} (per seed "
                + " ".join(f"{g:+.3f}" for g in gain)
                + ") | per set "
                + " ".join(
                    f"{a:.3f}" for a in np.array(aris).reshape(len(SEEDS), len(sets)).mean(axis=0)
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
