"""The retrieval engine: ranks knowledge-base entries for a question, with the evidence why.

Every stored question variant is a training example for its entry. A question becomes two
TF-IDF vectors: words and word pairs (meaning, word order) and character n-grams of each word
(typos, plurals, "renew"/"renewal"). The engine then learns, from the knowledge base alone,
how much each term says about each entry:

1. Start from naive Bayes term weights (a term frequent in an entry and rare elsewhere points
   to that entry), scored leave-one-out: each question is judged as if it were not stored.
2. Take a few gradient steps of multinomial logistic regression on those leave-one-out
   scores, with an exact line search. This is what down-weights words shared by many entries
   ("card", "how") and up-weights the ones that tell close entries apart.
3. Calibrate: a small logistic model turns the entry's probability and its best-matching
   stored question's similarity into the 0-100 score. It is fitted on the knowledge base
   itself: held-out questions are the positives, and the same questions with their own entry
   removed (a realistic "we have no answer for that") are the negatives.

Everything is sparse linear algebra: deterministic, explainable term by term, no model files.
Benchmarks and how the defaults were chosen: benchmarks/RESULTS.md ("CLINC150").
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

# Decision defaults on the 0-100 score scale. The score estimates the chance the top entry is
# the right answer (calibrated on the knowledge base itself). Chosen on CLINC150's validation
# split (benchmarks/clinc150.py); see benchmarks/RESULTS.md.
DEFAULT_ANSWER_THRESHOLD = 50.0
DEFAULT_AMBIGUITY_MARGIN = 10.0

CHAR_SIZES = (2, 3, 4, 5)
# Naive Bayes smoothing, on TF-IDF mass (a question vector has unit length).
SMOOTHING = 0.1
# Naive Bayes is overconfident; dividing its log-odds before refining starts from sane odds.
TEMPERATURE = 2.0
MAX_STEPS = 3
STEP_SIZES = (0.02, 0.05, 0.1, 0.2, 0.35, 0.6, 1.0)
# A step must lower the leave-one-out loss by this fraction to count.
MIN_GAIN = 0.002
# Rows used for the line search and the calibration: enough to fit a few numbers.
MAX_SEARCH_ROWS = 4000
MAX_CALIBRATION_ROWS = 3000
# Calibration weights (intercept, log-probability, similarity) used as a prior, and alone when
# the knowledge base is too small to learn from (fitted on CLINC150's training questions).
PRIOR_CALIBRATION = (-1.0, 1.2, 6.0)
# How strongly the prior holds, in examples' worth of evidence.
PRIOR_STRENGTH = 20.0
SHARED_TERMS = 5


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


def char_ngrams(word: str) -> list[str]:
    """Character n-grams of one word, padded so its start and end count."""
    padded = f" {word} "
    return [padded[i : i + n] for n in CHAR_SIZES for i in range(len(padded) - n + 1)]


def word_terms(words: Sequence[str]) -> list[str]:
    """Words and neighbouring word pairs."""
    return [*words, *(f"{a} {b}" for a, b in itertools.pairwise(words))]


def _idf(document_frequency: Floats, rows: int) -> Floats:
    return np.log((1.0 + rows) / (1.0 + document_frequency)) + 1.0


def _row_scale(matrix: sparse.csr_matrix) -> Floats:
    """1 / the L2 norm of each row (1 for empty rows)."""
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1), dtype=np.float64).ravel())
    norms[norms == 0] = 1.0
    return 1.0 / norms


def _log_softmax(scores: Floats) -> Floats:
    shifted = scores - scores.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _sigmoid(value: Floats) -> Floats:
    return 0.5 * (1.0 + np.tanh(0.5 * value))


class _Vectoriser:
    """Turns prepared text into unit-length word and character TF-IDF vectors."""

    def __init__(self, rows: Sequence[list[str]]) -> None:
        self.words: dict[str, int] = {}
        for words in rows:
            for word in words:
                self.words.setdefault(word, len(self.words))
        self.terms: dict[str, int] = dict(self.words)
        for words in rows:
            for pair in itertools.pairwise(words):
                self.terms.setdefault(f"{pair[0]} {pair[1]}", len(self.terms))
        # Character n-grams are counted once per distinct word: a question's n-grams are the
        # sum of its words' (a sparse product), which keeps indexing fast.
        self.grams: dict[str, int] = {}
        g_rows: list[int] = []
        g_cols: list[int] = []
        g_vals: list[float] = []
        for word, index in self.words.items():
            for gram, count in Counter(char_ngrams(word)).items():
                g_rows.append(index)
                g_cols.append(self.grams.setdefault(gram, len(self.grams)))
                g_vals.append(float(count))
        self.word_grams = sparse.csr_matrix(
            (g_vals, (g_rows, g_cols)), shape=(len(self.words), len(self.grams))
        )
        n = len(rows)
        self.term_counts = self._counts(rows, self.terms, word_terms)
        self.word_counts = self._counts(rows, self.words, list)
        gram_counts = sparse.csr_matrix(self.word_counts @ self.word_grams)
        self.term_idf = _idf(np.bincount(self.term_counts.indices, minlength=len(self.terms)), n)
        self.gram_idf = _idf(np.bincount(gram_counts.indices, minlength=len(self.grams)), n)
        # Word vectors: sublinear term frequency times IDF, unit length.
        terms = self.term_counts.copy()
        terms.data = 1.0 + np.log(terms.data)
        terms = sparse.csr_matrix(terms @ sparse.diags(self.term_idf))
        self.term_rows = sparse.csr_matrix(sparse.diags(_row_scale(terms)) @ terms)
        # Character vectors: counts times IDF, unit length; kept factored as
        # diag(gram_scale) @ word_counts @ gram_weights for cheap products during training.
        self.gram_weights = sparse.csr_matrix(self.word_grams @ sparse.diags(self.gram_idf))
        grams = sparse.csr_matrix(self.word_counts @ self.gram_weights)
        self.gram_scale = _row_scale(grams)
        self.gram_rows = sparse.csr_matrix(sparse.diags(self.gram_scale) @ grams)

    @staticmethod
    def _counts(
        rows: Sequence[list[str]], vocabulary: dict[str, int], analyse: Callable[[list[str]], list[str]]
    ) -> sparse.csr_matrix:
        indptr = [0]
        indices: list[int] = []
        values: list[float] = []
        for words in rows:
            for term, count in Counter(analyse(words)).items():
                indices.append(vocabulary[term])
                values.append(float(count))
            indptr.append(len(indices))
        return sparse.csr_matrix(
            (np.asarray(values), np.asarray(indices, dtype=np.int64), np.asarray(indptr)),
            shape=(len(rows), len(vocabulary)),
        )

    def query(self, words: list[str]) -> tuple[Ints, Floats, Ints, Floats]:
        """The query's known word terms and n-grams with their unit-length weights."""
        term_bag = Counter(t for t in word_terms(words) if t in self.terms)
        t_cols = np.fromiter((self.terms[t] for t in term_bag), dtype=np.int64, count=len(term_bag))
        t_vals = (1.0 + np.log(np.fromiter(term_bag.values(), dtype=np.float64))) * self.term_idf[
            t_cols
        ]
        gram_bag: Counter[int] = Counter()
        for word in words:
            index = self.words.get(word)
            if index is not None:
                start, end = self.word_grams.indptr[index], self.word_grams.indptr[index + 1]
                for col, count in zip(
                    self.word_grams.indices[start:end], self.word_grams.data[start:end], strict=True
                ):
                    gram_bag[int(col)] += int(count)
            else:
                # An unknown word (often a typo) still shares n-grams with the right word.
                gram_bag.update(self.grams[g] for g in char_ngrams(word) if g in self.grams)
        g_cols = np.fromiter(gram_bag, dtype=np.int64, count=len(gram_bag))
        g_vals = np.fromiter(gram_bag.values(), dtype=np.float64) * self.gram_idf[g_cols]
        # Unknown words still count in the length: a query of mostly unknown words is weak.
        unknown = sum(1 for w in words if w not in self.words)
        t_norm = math.sqrt(float(t_vals @ t_vals) + unknown * float(self.term_idf.max()) ** 2)
        g_norm = math.sqrt(float(g_vals @ g_vals))
        return t_cols, t_vals / (t_norm or 1.0), g_cols, g_vals / (g_norm or 1.0)


@dataclass(frozen=True)
class _Model:
    """Learned term-entry weights and the calibration of their output."""

    term_weights: Floats  # terms x entries
    gram_weights: Floats  # n-grams x entries
    calibration: tuple[float, float, float]


def _naive_bayes(rows: sparse.csr_matrix, owner: Ints, classes: int) -> tuple[Floats, Floats]:
    """Log term probabilities per class, and each row's own-class score with itself left out."""
    membership = sparse.csr_matrix(
        (np.ones(len(owner)), (owner, np.arange(len(owner)))), shape=(classes, len(owner))
    )
    mass = np.asarray((membership @ rows).toarray(), dtype=np.float64)
    total = mass.sum(axis=1)
    width = rows.shape[1]
    log_prob = np.log(mass + SMOOTHING) - np.log(total + SMOOTHING * width)[:, None]
    coo = rows.tocoo()
    own = mass[owner[coo.row], coo.col]
    held_out = np.log(np.maximum(own - coo.data, 0.0) + SMOOTHING)
    loo = np.bincount(coo.row, weights=coo.data * held_out, minlength=rows.shape[0])
    length = np.asarray(rows.sum(axis=1), dtype=np.float64).ravel()
    loo -= length * np.log(np.maximum(total[owner] - length, 0.0) + SMOOTHING * width)
    return log_prob.T.copy(), loo


def _mean_loss(scores: Floats, owner: Ints) -> float:
    return -float(_log_softmax(scores)[np.arange(len(owner)), owner].mean())


def _fit(vec: _Vectoriser, owner: Ints, classes: int) -> tuple[Floats, Floats, Floats]:
    """Learn term weights; returns them and every row's leave-one-out class scores."""
    rows = np.arange(len(owner))
    term_w, term_loo = _naive_bayes(vec.term_rows, owner, classes)
    gram_w, gram_loo = _naive_bayes(vec.gram_rows, owner, classes)
    term_w /= TEMPERATURE
    gram_w /= TEMPERATURE

    def forward(t_w: Floats, g_w: Floats) -> Floats:
        grams = vec.word_counts @ np.asarray(vec.gram_weights @ g_w)
        return np.asarray(vec.term_rows @ t_w) + vec.gram_scale[:, None] * grams

    scores = forward(term_w, gram_w)
    # Leave-one-out: a question must not vote for its own entry.
    scores[rows, owner] = (term_loo + gram_loo) / TEMPERATURE
    if classes < 2:
        return term_w, gram_w, scores
    # Each row's own weight in the gradient, to keep the line search leave-one-out too.
    self_weight = (
        np.asarray(vec.term_rows.multiply(vec.term_rows).sum(axis=1)).ravel()
        + np.asarray(vec.gram_rows.multiply(vec.gram_rows).sum(axis=1)).ravel()
    )
    search = rows[:: max(1, len(rows) // MAX_SEARCH_ROWS)]
    loss = _mean_loss(scores[search], owner[search])
    for _ in range(MAX_STEPS):
        residual = np.exp(_log_softmax(scores))
        residual[rows, owner] -= 1.0
        t_grad = np.asarray(vec.term_rows.T @ residual)
        g_grad = np.asarray(
            vec.gram_weights.T @ (vec.word_counts.T @ (vec.gram_scale[:, None] * residual))
        )
        direction = forward(t_grad, g_grad) - self_weight[:, None] * residual
        trials = [
            (_mean_loss(scores[search] - eta * direction[search], owner[search]), eta)
            for eta in STEP_SIZES
        ]
        best_loss, eta = min(trials)
        if best_loss > loss * (1.0 - MIN_GAIN):
            break
        loss = best_loss
        term_w -= eta * t_grad
        gram_w -= eta * g_grad
        scores -= eta * direction
    return term_w, gram_w, scores


def _fit_calibration(features: Floats, target: Floats) -> tuple[float, float, float]:
    """Logistic regression of `target` on `features`, pulled towards the prior weights."""
    design = np.column_stack([np.ones(len(target)), features])
    prior = np.asarray(PRIOR_CALIBRATION)
    weights = prior.copy()
    penalty = np.full(3, PRIOR_STRENGTH / max(len(target), 1))
    for _ in range(25):
        p = _sigmoid(design @ weights)
        gradient = design.T @ (p - target) / len(target) + penalty * (weights - prior)
        hessian = (design.T * (p * (1 - p))) @ design / len(target) + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if float(np.abs(step).max()) < 1e-6:
            break
    return float(weights[0]), float(weights[1]), float(weights[2])


class Index:
    """All entries' question variants, learned once; `search` ranks entries for a question."""

    def __init__(self, documents: Sequence[Document], prepare: Callable[[str], str]) -> None:
        self.prepare = prepare
        self.entry_ids = [d.entry_id for d in documents]
        self.raw: list[str] = []
        self.is_question: list[bool] = []
        token_rows: list[list[str]] = []
        owner: list[int] = []
        entry_words: list[set[str]] = []
        for position, document in enumerate(documents):
            words_here: set[str] = set()
            texts = [(q, True) for q in document.questions]
            if document.keywords:
                texts.append((", ".join(document.keywords), False))
            for text, is_question in texts:
                words = prepare(text).split()
                if words:
                    self.raw.append(text)
                    self.is_question.append(is_question)
                    token_rows.append(words)
                    owner.append(position)
                    words_here.update(words)
            entry_words.append(words_here)
        self.entry_words = [frozenset(w) for w in entry_words]
        self.owner = np.asarray(owner, dtype=np.int64)
        bounds = np.searchsorted(self.owner, np.arange(len(documents) + 1))
        self.spans = [(int(bounds[i]), int(bounds[i + 1])) for i in range(len(documents))]
        self.searchable = np.asarray([b > a for a, b in self.spans], dtype=bool)
        self.vec: _Vectoriser | None = None
        if not token_rows:
            return
        # Entries without any usable text take no part in learning.
        dense_ids = np.cumsum(self.searchable) - 1
        classes = int(self.searchable.sum())
        self.class_entry = np.flatnonzero(self.searchable)
        self.vec = vec = _Vectoriser(token_rows)
        # Both halves have unit length; halving makes a row's dot product a cosine in [0, 1].
        self.rows = sparse.csr_matrix(sparse.hstack([vec.term_rows, vec.gram_rows]) * math.sqrt(0.5))
        row_class = dense_ids[self.owner]
        term_w, gram_w, loo_scores = _fit(vec, row_class, classes)
        calibration = self._calibrate(loo_scores, row_class)
        self.model = _Model(term_w, gram_w, calibration)

    @classmethod
    def build(cls, documents: Sequence[Document], prepare: Callable[[str], str]) -> Index:
        """Learn an index from the documents' questions."""
        return cls(documents, prepare)

    def __len__(self) -> int:
        return len(self.entry_ids)

    def _best_rows(self, query: sparse.csr_matrix, entries: Ints) -> tuple[Ints, Floats]:
        """For each entry, its stored row most similar to the query and that similarity."""
        spans = [self.spans[int(e)] for e in entries]
        members = np.concatenate([np.arange(a, b) for a, b in spans])
        sims = np.asarray((self.rows[members] @ query.T).toarray()).ravel()
        best_rows = np.empty(len(entries), dtype=np.int64)
        best_sims = np.empty(len(entries), dtype=np.float64)
        offset = 0
        for k, (a, b) in enumerate(spans):
            chunk = sims[offset : offset + b - a]
            j = int(np.argmax(chunk))
            best_rows[k], best_sims[k] = a + j, float(chunk[j])
            offset += b - a
        return best_rows, best_sims

    def _calibrate(self, scores: Floats, row_class: Ints) -> tuple[float, float, float]:
        """Fit the score's calibration on held-out questions and simulated unknown questions."""
        classes = scores.shape[1]
        if classes < 2 or len(row_class) < 20:
            return PRIOR_CALIBRATION
        sample = np.arange(0, len(row_class), max(1, len(row_class) // MAX_CALIBRATION_ROWS))
        log_prob = _log_softmax(scores[sample])
        top = log_prob.argmax(axis=1)
        # The same question with its own entry gone: what the engine says to a question it has
        # no answer for.
        without_own = scores[sample].copy()
        without_own[np.arange(len(sample)), row_class[sample]] = -np.inf
        other_log_prob = _log_softmax(without_own)
        other_top = other_log_prob.argmax(axis=1)
        similarity = np.concatenate(
            [
                self._held_out_similarity(sample, top),
                self._held_out_similarity(sample, other_top),
            ]
        )
        features = np.column_stack(
            [
                np.concatenate(
                    [
                        log_prob[np.arange(len(sample)), top],
                        other_log_prob[np.arange(len(sample)), other_top],
                    ]
                ),
                similarity,
            ]
        )
        target = np.concatenate(
            [(top == row_class[sample]).astype(np.float64), np.zeros(len(sample))]
        )
        return _fit_calibration(features, target)

    def _held_out_similarity(self, sample: Ints, classes: Ints) -> Floats:
        """Each sampled row's best similarity to another row of the given class."""
        out = np.zeros(len(sample), dtype=np.float64)
        for cls in np.unique(classes):
            picked = np.flatnonzero(classes == cls)
            a, b = self.spans[int(self.class_entry[cls])]
            sims = np.asarray((self.rows[sample[picked]] @ self.rows[a:b].T).toarray())
            own = (sample[picked] >= a) & (sample[picked] < b)
            sims[np.flatnonzero(own), sample[picked][own] - a] = -1.0
            out[picked] = np.maximum(sims.max(axis=1), 0.0)
        return out

    def search(self, text: str, limit: int = 5) -> list[Hit]:
        """The best entries for a question, best first, one hit per entry."""
        vec = self.vec
        words = self.prepare(text).split()
        if vec is None or not words or limit <= 0:
            return []
        t_cols, t_vals, g_cols, g_vals = vec.query(words)
        if t_cols.size == 0 and g_cols.size == 0:
            return []
        model = self.model
        scores = t_vals @ model.term_weights[t_cols] + g_vals @ model.gram_weights[g_cols]
        log_prob = _log_softmax(scores)
        count = min(limit, len(scores))
        candidates = np.argpartition(-scores, count - 1)[:count] if count < len(scores) else None
        order = np.arange(len(scores)) if candidates is None else candidates
        query = sparse.csr_matrix(
            (
                np.concatenate([t_vals, g_vals]) * math.sqrt(0.5),
                (np.zeros(len(t_cols) + len(g_cols), dtype=np.int64),
                 np.concatenate([t_cols, g_cols + len(vec.terms)])),
            ),
            shape=(1, self.rows.shape[1]),
        )
        entries = self.class_entry[order]
        best_rows, best_sims = self._best_rows(query, entries)
        bias, w_prob, w_sim = model.calibration
        calibrated = 100.0 * _sigmoid(bias + w_prob * log_prob[order] + w_sim * best_sims)
        ranked = sorted(range(len(order)), key=lambda k: (-calibrated[k], int(entries[k])))
        hits = [
            self._hit(
                int(order[k]),
                int(entries[k]),
                float(calibrated[k]),
                float(np.exp(log_prob[order[k]])),
                int(best_rows[k]),
                float(best_sims[k]),
                words,
                t_cols,
                t_vals,
            )
            for k in ranked[:limit]
        ]
        return hits

    def _hit(
        self,
        cls: int,
        entry: int,
        score: float,
        probability: float,
        row: int,
        similarity: float,
        words: list[str],
        t_cols: Ints,
        t_vals: Floats,
    ) -> Hit:
        a, b = self.spans[entry]
        if not self.is_question[row]:
            # Prefer showing a real question over the keyword list when one is close.
            questions = [r for r in range(a, b) if self.is_question[r]]
            if questions:
                row = questions[0]
        return Hit(
            self.entry_ids[entry],
            round(score, 2),
            Evidence(
                self.raw[row],
                self._shared_terms(cls, entry, words, t_cols, t_vals),
                {
                    "model": round(100.0 * probability, 1),
                    "question": round(100.0 * similarity, 1),
                },
            ),
        )

    def _shared_terms(
        self, cls: int, entry: int, words: list[str], t_cols: Ints, t_vals: Floats
    ) -> tuple[str, ...]:
        """Query words stored in the entry, the ones that pointed to it most first."""
        assert self.vec is not None
        weights = self.model.term_weights
        pull: dict[str, float] = {}
        for col, val in zip(t_cols.tolist(), t_vals.tolist(), strict=True):
            if col >= len(self.vec.words):
                continue
            row = weights[col]
            pull[self._word_of(col)] = val * float(row[cls] - row.mean())
        shared = [w for w in dict.fromkeys(words) if w in self.entry_words[entry]]
        shared.sort(key=lambda w: -pull.get(w, 0.0))
        return tuple(shared[:SHARED_TERMS])

    def _word_of(self, col: int) -> str:
        assert self.vec is not None
        if not hasattr(self, "_words_by_id"):
            self._words_by_id = list(self.vec.words)
        return self._words_by_id[col]
