"""The retrieval engine: ranks knowledge-base entries for a question, with the evidence why.

Every stored question variant becomes a sparse TF-IDF vector of character n-grams (robust to
typos and word endings) and of words and word pairs (robust to word order). Three kinds of
evidence are combined for each entry:

- *best variant*: cosine similarity with the entry's closest stored question;
- *all variants*: cosine similarity with the entry's centroid;
- *learned term weights*: a linear model (multinomial logistic regression) trained on the
  knowledge base itself, which learns which words tell this entry apart from the others.

The final score (0-100) is a weighted sum, so staff can see each part (`Evidence.components`).
The model is plain numpy on sparse matrices: no GPU, no download, deterministic. Training is
cached on disk by content, so a knowledge base is trained once per change.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse

from bot.text import FUNCTION_WORDS

log = logging.getLogger(__name__)

# Decision defaults, chosen on data (benchmarks/RESULTS.md): CLINC150's val split picks a
# threshold of 19 for in-scope accuracy >= 91%; the Durham question set's sweep puts the best
# balance of accuracy and out-of-scope recall at 20, and offers choices best when the top
# entry leads by less than 20% of its score.
DEFAULT_ANSWER_THRESHOLD = 20.0
DEFAULT_AMBIGUITY_MARGIN = 20.0
# Confidence = top score + MARGIN_WEIGHT x (top score - runner-up): a clear winner is surer.
MARGIN_WEIGHT = 0.5

CHAR_NGRAMS = (2, 3, 4, 5)
# How the evidence is weighted in the final score (tuned on CLINC150 val, see RESULTS.md).
WEIGHT_CHAR = 0.5
WEIGHT_WORD = 0.5
WEIGHT_BEST = 0.25
WEIGHT_CENTROID = 0.25
WEIGHT_MODEL = 0.5
MODEL_VERSION = "3"
SMOOTHING = 0.1

Vector = tuple[np.ndarray, np.ndarray]  # (column indexes, weights) of a sparse query


@dataclass(frozen=True)
class Document:
    """An entry as the engine sees it: its id, question variants and keywords (raw text)."""

    entry_id: str
    questions: tuple[str, ...]
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Evidence:
    """Why an entry scored as it did."""

    matched_question: str
    shared_terms: tuple[str, ...]
    components: dict[str, float]


@dataclass(frozen=True)
class Hit:
    """One ranked entry."""

    entry_id: str
    score: float
    evidence: Evidence


def char_ngrams(text: str) -> list[str]:
    """Character n-grams of each word, padded with spaces so word starts and ends count."""
    grams: list[str] = []
    for word in text.split():
        padded = f" {word} "
        for size in CHAR_NGRAMS:
            grams.extend(padded[i : i + size] for i in range(len(padded) - size + 1))
    return grams


def word_terms(text: str) -> list[str]:
    """Content words, and neighbouring word pairs that hold at least one content word."""
    words = text.split()
    pairs = [
        f"{a} {b}"
        for a, b in itertools.pairwise(words)
        if a not in FUNCTION_WORDS or b not in FUNCTION_WORDS
    ]
    return [w for w in words if w not in FUNCTION_WORDS] + pairs


def _normalise_rows(matrix: sparse.spmatrix) -> sparse.csr_matrix:
    matrix = sparse.csr_matrix(matrix, dtype=np.float32)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix, dtype=np.float32)


class _Space:
    """A TF-IDF vector space learned from the stored questions."""

    def __init__(
        self, analyse: Callable[[str], list[str]], texts: Sequence[str], groups: Sequence[int]
    ) -> None:
        self.analyse = analyse
        counts = [Counter(analyse(t)) for t in texts]
        vocabulary: dict[str, int] = {}
        # Document frequency counts entries, not variants: a word in every variant of one
        # entry is that entry's signature, not a common word.
        seen: dict[str, set[int]] = {}
        for bag, group in zip(counts, groups, strict=True):
            for term in bag:
                if term not in vocabulary:
                    vocabulary[term] = len(vocabulary)
                    seen[term] = set()
                seen[term].add(group)
        self.vocabulary = vocabulary
        self.terms = list(vocabulary)  # index -> term, for explanations
        entries = len(set(groups))
        self.idf = np.zeros(len(vocabulary), dtype=np.float32)
        for term, index in vocabulary.items():
            self.idf[index] = math.log((1 + entries) / (1 + len(seen[term]))) + 1.0
        self.unknown_idf = math.log(1 + entries) + 1.0
        rows: list[int] = []
        cols: list[int] = []
        values: list[float] = []
        for row, bag in enumerate(counts):
            for term, count in bag.items():
                index = vocabulary[term]
                rows.append(row)
                cols.append(index)
                values.append((1.0 + math.log(count)) * float(self.idf[index]))
        matrix = sparse.csr_matrix(
            (np.asarray(values, dtype=np.float32), (rows, cols)),
            shape=(len(counts), len(vocabulary)),
        )
        self.matrix = _normalise_rows(matrix)
        # Column slices of CSC are cheap: a query touches only the columns of its own terms.
        self.by_column = self.matrix.tocsc()

    @property
    def size(self) -> int:
        """Number of distinct terms."""
        return len(self.vocabulary)

    def vector(self, text: str) -> Vector:
        """The query's known terms and normalised weights.

        Terms the knowledge base never uses still count in the norm, at the highest weight:
        a question made mostly of unknown words is a weak match for everything.
        """
        bag = Counter(self.analyse(text))
        known = [t for t in bag if t in self.vocabulary]
        index = np.asarray([self.vocabulary[t] for t in known], dtype=np.int64)
        weights = np.asarray(
            [(1.0 + math.log(bag[t])) * float(self.idf[self.vocabulary[t]]) for t in known],
            dtype=np.float32,
        )
        unknown = [
            (1.0 + math.log(c)) * self.unknown_idf
            for t, c in bag.items()
            if t not in self.vocabulary
        ]
        norm = math.sqrt(float(weights @ weights) + sum(u * u for u in unknown))
        return index, weights / (norm or 1.0)


def _dot(by_column: sparse.csc_matrix, vector: Vector) -> np.ndarray:
    """Rows of a matrix times a sparse query."""
    cols, weights = vector
    if cols.size == 0:
        return np.zeros(by_column.shape[0], dtype=np.float32)
    return np.asarray(by_column[:, cols] @ weights, dtype=np.float32).ravel()


class _LinearModel:
    """Multinomial logistic regression on the TF-IDF features: learned term weights per entry.

    Trained with mini-batch Adam that only touches the rows of the terms in each batch,
    so a 15,000-question knowledge base trains in seconds on one core.
    """

    def __init__(self, weights: np.ndarray, bias: np.ndarray) -> None:
        self.weights = weights
        self.bias = bias

    @classmethod
    def train(
        cls, features: sparse.csr_matrix, labels: np.ndarray, classes: int, seed: int = 0
    ) -> _LinearModel:
        """Fit on (question features, entry index) pairs."""
        rows, dims = features.shape
        weights = np.zeros((dims, classes), dtype=np.float32)
        bias = np.zeros(classes, dtype=np.float32)
        if classes < 2 or rows == 0:
            return cls(weights, bias)
        batch = 128
        # Small knowledge bases need more passes to learn; large ones converge in two.
        epochs = max(2, min(80, math.ceil(240 / math.ceil(rows / batch))))
        rate, beta1, beta2 = 0.02, 0.9, 0.999
        first = np.zeros_like(weights)
        second = np.zeros_like(weights)
        rng = np.random.default_rng(seed)
        step = 0
        for _ in range(epochs):
            order = rng.permutation(rows)
            for start in range(0, rows, batch):
                chosen = order[start : start + batch]
                block = features[chosen]
                cols = np.unique(block.indices)
                local = block[:, cols]
                logits = np.asarray(local @ weights[cols]) + bias
                logits -= logits.max(axis=1, keepdims=True)
                probs = np.exp(logits)
                probs /= probs.sum(axis=1, keepdims=True)
                # Label smoothing: the model never learns total certainty from a few examples,
                # so a vague question spreads its probability instead of picking a favourite.
                probs -= SMOOTHING / classes
                probs[np.arange(len(chosen)), labels[chosen]] -= 1.0 - SMOOTHING
                grad = np.asarray(local.T @ probs) / len(chosen)
                step += 1
                first[cols] = beta1 * first[cols] + (1 - beta1) * grad
                second[cols] = beta2 * second[cols] + (1 - beta2) * grad * grad
                fix1, fix2 = 1 - beta1**step, 1 - beta2**step
                weights[cols] -= rate * (first[cols] / fix1) / (np.sqrt(second[cols] / fix2) + 1e-8)
                bias -= rate * probs.mean(axis=0)
        return cls(weights, bias)

    def probabilities(self, vectors: Sequence[tuple[Vector, int]]) -> np.ndarray:
        """Entry probabilities for a query given as vectors with their column offsets."""
        logits = self.bias.copy()
        for (cols, values), offset in vectors:
            if cols.size:
                logits += values @ self.weights[cols + offset]
        logits -= logits.max()
        probs = np.exp(logits)
        return np.asarray(probs / probs.sum(), dtype=np.float32)


class Index:
    """All entries' question variants, vectorised and learned once; `search` ranks entries."""

    def __init__(
        self,
        documents: Sequence[Document],
        prepare: Callable[[str], str],
        cache_dir: Path | None = None,
    ) -> None:
        self.prepare = prepare
        self.entry_ids = [d.entry_id for d in documents]
        self.raw_questions: list[str] = []
        self.prepared: list[str] = []
        owner: list[int] = []
        for position, document in enumerate(documents):
            texts = [*document.questions]
            if document.keywords:
                texts.append(" ".join(document.keywords))
            for text in texts:
                cleaned = prepare(text)
                if cleaned:
                    self.raw_questions.append(text)
                    self.prepared.append(cleaned)
                    owner.append(position)
        self.owner = np.asarray(owner, dtype=np.int64)
        self._empty = not self.prepared
        if self._empty:
            return
        self.chars = _Space(char_ngrams, self.prepared, owner)
        self.words = _Space(word_terms, self.prepared, owner)
        membership = sparse.csr_matrix(
            (np.ones(len(owner), dtype=np.float32), (owner, np.arange(len(owner)))),
            shape=(len(documents), len(owner)),
        )
        self.char_centroids = _normalise_rows(membership @ self.chars.matrix).tocsc()
        self.word_centroids = _normalise_rows(membership @ self.words.matrix).tocsc()
        bounds = np.searchsorted(self.owner, np.arange(len(documents) + 1))
        self.spans = [(int(bounds[i]), int(bounds[i + 1])) for i in range(len(documents))]
        self.has_questions = np.asarray([b > a for a, b in self.spans], dtype=bool)
        self.starts = np.asarray([a for a, b in self.spans if b > a], dtype=np.int64)
        self.model = self._model(cache_dir)

    @classmethod
    def build(
        cls,
        documents: Sequence[Document],
        prepare: Callable[[str], str],
        cache_dir: Path | None = None,
    ) -> Index:
        """Vectorise every document's questions and learn the term weights."""
        return cls(documents, prepare, cache_dir)

    def __len__(self) -> int:
        return len(self.entry_ids)

    def _fingerprint(self) -> str:
        digest = hashlib.sha256(MODEL_VERSION.encode())
        for entry_id, text in zip(
            (self.entry_ids[i] for i in self.owner), self.prepared, strict=True
        ):
            digest.update(f"{entry_id}\x1f{text}\x1e".encode())
        return digest.hexdigest()[:32]

    def _model(self, cache_dir: Path | None) -> _LinearModel:
        """Train the linear model, or load it when this exact knowledge base was seen before."""
        path = cache_dir / f"model-{self._fingerprint()}.npz" if cache_dir else None
        if path is not None and path.exists():
            try:
                with np.load(path) as saved:
                    return _LinearModel(saved["weights"], saved["bias"])
            except (OSError, ValueError, KeyError):
                log.warning("the cached model %s is damaged; training again", path)
        features = sparse.hstack([self.chars.matrix, self.words.matrix], format="csr")
        model = _LinearModel.train(
            sparse.csr_matrix(features, dtype=np.float32), self.owner, len(self.entry_ids)
        )
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                temporary = path.with_name(path.stem + ".tmp.npz")
                np.savez(temporary, weights=model.weights, bias=model.bias)
                temporary.replace(path)  # atomic: a crash never leaves half a file
            except OSError:
                log.warning("could not cache the model in %s", cache_dir, exc_info=True)
        return model

    def _vectors(self, query: str) -> tuple[Vector, Vector]:
        return self.chars.vector(query), self.words.vector(query)

    def search(self, text: str, limit: int = 5) -> list[Hit]:
        """The best entries for a question, best first, one hit per entry."""
        query = self.prepare(text)
        if self._empty or not query:
            return []
        chars, words = self._vectors(query)
        if chars[0].size == 0 and words[0].size == 0:
            return []
        per_question = WEIGHT_CHAR * _dot(self.chars.by_column, chars)
        per_question += WEIGHT_WORD * _dot(self.words.by_column, words)
        best = np.zeros(len(self.entry_ids), dtype=np.float32)
        # Questions are stored entry by entry, so each entry's best is a max over one slice.
        best[self.has_questions] = np.maximum.reduceat(per_question, self.starts)
        centroid = WEIGHT_CHAR * _dot(self.char_centroids, chars)
        centroid += WEIGHT_WORD * _dot(self.word_centroids, words)
        offsets = [(chars, 0), (words, self.chars.size)]
        # Only probability above chance is evidence: with few entries, even a question about
        # nothing gets 1/K of the probability from the model.
        chance = 1.0 / len(self.entry_ids)
        model = np.clip((self.model.probabilities(offsets) - chance) / (1.0 - chance + 1e-9), 0, 1)
        total = WEIGHT_BEST * best + WEIGHT_CENTROID * centroid + WEIGHT_MODEL * model
        count = min(limit, len(self.entry_ids))
        top = np.argpartition(-total, count - 1)[:count]
        top = top[np.lexsort((top, -total[top]))]
        return [
            self._hit(int(p), float(total[p]), per_question, best, centroid, model, query, offsets)
            for p in top
            if total[p] > 0
        ]

    def _hit(
        self,
        position: int,
        total: float,
        per_question: np.ndarray,
        best: np.ndarray,
        centroid: np.ndarray,
        model: np.ndarray,
        query: str,
        offsets: Sequence[tuple[Vector, int]],
    ) -> Hit:
        first, last = self.spans[position]
        row = first + int(np.argmax(per_question[first:last])) if last > first else 0
        stored = set(self.prepared[row].split()) if last > first else set()
        # The words whose learned weights pushed this entry up the most.
        word_cols, word_values = offsets[1][0]
        pushes = word_values * self.model.weights[word_cols + offsets[1][1], position]
        learned = [
            self.words.terms[int(c)]
            for c, v in sorted(zip(word_cols, pushes, strict=True), key=lambda cv: -float(cv[1]))
            if v > 0 and " " not in self.words.terms[int(c)]
        ]
        shared = tuple(dict.fromkeys([*(w for w in query.split() if w in stored), *learned[:3]]))
        return Hit(
            self.entry_ids[position],
            round(min(100.0, 100.0 * total), 2),
            Evidence(
                self.raw_questions[row] if last > first else "",
                shared,
                {
                    "best_question": round(100.0 * float(best[position]), 1),
                    "all_questions": round(100.0 * float(centroid[position]), 1),
                    "learned_weights": round(100.0 * float(model[position]), 1),
                },
            ),
        )
