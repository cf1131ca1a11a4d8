"""The retrieval engine: ranks knowledge-base entries for a question, with the evidence why.

Each stored question variant becomes two sparse TF-IDF vectors: character n-grams (robust to
typos and word endings) and words (robust to word order and filler). An entry scores by its
best-matching variant and by its centroid (all its variants together), so an entry with many
phrasings is not penalised for a query that mixes them. Everything is plain linear algebra on
sparse matrices: fast, deterministic and explainable.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

# Decision defaults on the 0-100 score scale, chosen on data (see benchmarks/RESULTS.md).
DEFAULT_ANSWER_THRESHOLD = 45.0
DEFAULT_AMBIGUITY_MARGIN = 5.0

CHAR_NGRAMS = (2, 3, 4, 5)
# How much each kind of evidence counts in the final score.
WEIGHT_CHAR = 0.5
WEIGHT_WORD = 0.5
WEIGHT_BEST = 0.65
WEIGHT_CENTROID = 0.35


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
    """Words and neighbouring word pairs."""
    words = text.split()
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


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
        n = len(set(groups))
        self.idf = np.zeros(len(vocabulary), dtype=np.float32)
        for term, index in vocabulary.items():
            self.idf[index] = math.log((1 + n) / (1 + len(seen[term]))) + 1.0
        self.matrix = self._matrix(counts)
        # Column slices of CSC are cheap: a query touches only the columns of its own terms.
        self.by_column = self.matrix.tocsc()

    def _matrix(self, counts: Sequence[Counter[str]]) -> sparse.csr_matrix:
        rows: list[int] = []
        cols: list[int] = []
        values: list[float] = []
        for row, bag in enumerate(counts):
            for term, count in bag.items():
                index = self.vocabulary.get(term)
                if index is not None:
                    rows.append(row)
                    cols.append(index)
                    values.append((1.0 + math.log(count)) * float(self.idf[index]))
        shape = (len(counts), len(self.vocabulary))
        matrix = sparse.csr_matrix(
            (np.asarray(values, dtype=np.float32), (rows, cols)), shape=shape
        )
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix)

    def vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The query's known terms (column indexes) and their normalised weights."""
        bag = Counter(self.analyse(text))
        cols = [self.vocabulary[t] for t in bag if t in self.vocabulary]
        if not cols:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        index = np.asarray(cols, dtype=np.int64)
        tf = np.asarray([1.0 + math.log(bag[t]) for t in bag if t in self.vocabulary])
        weights = (tf * self.idf[index]).astype(np.float32)
        # Unknown terms still count in the norm: a query of mostly unknown words is a weak match.
        unknown = sum(1.0 + math.log(c) for t, c in bag.items() if t not in self.vocabulary)
        norm = math.sqrt(float(weights @ weights) + (unknown * float(self.idf.max())) ** 2 * 0)
        return index, weights / (norm or 1.0)

    def similarities(self, text: str) -> np.ndarray:
        """Cosine similarity of the query with every stored question."""
        cols, weights = self.vector(text)
        if cols.size == 0:
            return np.zeros(self.matrix.shape[0], dtype=np.float32)
        return np.asarray(self.by_column[:, cols] @ weights).ravel()


class Index:
    """All entries' question variants, vectorised once; `search` ranks entries for a question."""

    def __init__(
        self,
        documents: Sequence[Document],
        prepare: Callable[[str], str],
    ) -> None:
        self.prepare = prepare
        self.entry_ids = [d.entry_id for d in documents]
        self.raw_questions: list[str] = []
        prepared: list[str] = []
        owner: list[int] = []
        for position, document in enumerate(documents):
            texts = [*document.questions]
            if document.keywords:
                texts.append(" ".join(document.keywords))
            for text in texts:
                cleaned = prepare(text)
                if cleaned:
                    self.raw_questions.append(text)
                    prepared.append(cleaned)
                    owner.append(position)
        self.prepared = prepared
        self.owner = np.asarray(owner, dtype=np.int64)
        self._empty = not prepared
        if self._empty:
            return
        self.chars = _Space(char_ngrams, prepared, owner)
        self.words = _Space(word_terms, prepared, owner)
        # Entry centroids: the sum of an entry's normalised question vectors, normalised.
        membership = sparse.csr_matrix(
            (np.ones(len(owner), dtype=np.float32), (owner, np.arange(len(owner)))),
            shape=(len(documents), len(owner)),
        )
        self.char_centroids = _normalise_rows(membership @ self.chars.matrix).tocsc()
        self.word_centroids = _normalise_rows(membership @ self.words.matrix).tocsc()
        # Where each entry's questions start and end in the stored order.
        bounds = np.searchsorted(self.owner, np.arange(len(documents) + 1))
        self.spans = [(int(bounds[i]), int(bounds[i + 1])) for i in range(len(documents))]
        self.has_questions = np.asarray([b > a for a, b in self.spans], dtype=bool)
        self.starts = np.asarray([a for a, b in self.spans if b > a], dtype=np.int64)

    @classmethod
    def build(cls, documents: Sequence[Document], prepare: Callable[[str], str]) -> Index:
        """Vectorise every document's questions."""
        return cls(documents, prepare)

    def __len__(self) -> int:
        return len(self.entry_ids)

    def search(self, text: str, limit: int = 5) -> list[Hit]:
        """The best entries for a question, best first, one hit per entry."""
        query = self.prepare(text)
        if self._empty or not query:
            return []
        c_cols, c_weights = self.chars.vector(query)
        w_cols, w_weights = self.words.vector(query)
        if c_cols.size == 0 and w_cols.size == 0:
            return []
        per_question = WEIGHT_CHAR * _dot(self.chars.by_column, c_cols, c_weights)
        per_question += WEIGHT_WORD * _dot(self.words.by_column, w_cols, w_weights)
        # Questions are stored entry by entry, so each entry's best is a max over one slice.
        best = np.maximum.reduceat(per_question, self.starts)
        centroid = WEIGHT_CHAR * _dot(self.char_centroids, c_cols, c_weights)
        centroid += WEIGHT_WORD * _dot(self.word_centroids, w_cols, w_weights)
        total = np.zeros(len(self.entry_ids), dtype=np.float32)
        total[self.has_questions] = (
            WEIGHT_BEST * best + WEIGHT_CENTROID * centroid[self.has_questions]
        )
        count = min(limit, len(self.entry_ids))
        top = np.argpartition(-total, count - 1)[:count]
        top = top[np.lexsort((top, -total[top]))]
        full_best = np.zeros(len(self.entry_ids), dtype=np.float32)
        full_best[self.has_questions] = best
        return [
            self._hit(int(p), float(total[p]), per_question, full_best, centroid, query)
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
        query: str,
    ) -> Hit:
        first, last = self.spans[position]
        row = first + int(np.argmax(per_question[first:last]))
        shared = _shared_terms(query, self.prepared[row])
        return Hit(
            self.entry_ids[position],
            round(min(100.0, 100.0 * total), 2),
            Evidence(
                self.raw_questions[row],
                shared,
                {
                    "best_question": round(100.0 * float(best[position]), 1),
                    "all_questions": round(100.0 * float(centroid[position]), 1),
                },
            ),
        )


def _dot(by_column: sparse.csc_matrix, cols: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Rows of a matrix times a sparse query given as (columns, weights)."""
    if cols.size == 0:
        return np.zeros(by_column.shape[0], dtype=np.float32)
    return np.asarray(by_column[:, cols] @ weights, dtype=np.float32).ravel()


def _normalise_rows(matrix: sparse.spmatrix) -> sparse.csr_matrix:
    matrix = sparse.csr_matrix(matrix)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix)


def _shared_terms(query: str, stored: Iterable[str] | str) -> tuple[str, ...]:
    stored_words = set(stored.split()) if isinstance(stored, str) else set(stored)
    return tuple(sorted({w for w in query.split() if w in stored_words}))
