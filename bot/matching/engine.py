"""The retrieval engine: ranks knowledge-base entries for a question, with the evidence why.

Every stored question variant is a training example for its entry. A question becomes two
unit-length TF-IDF vectors: content words and word pairs (meaning, some word order), and
character n-grams of each word (typos, plurals, "renew"/"renewal"). The engine learns, from
the knowledge base alone, how much each term says about each entry:

1. Naive Bayes term weights (a term frequent in an entry and rare in others points to it),
   scored leave-one-out: each stored question is judged as if it were not stored.
2. A few gradient steps of multinomial logistic regression from there, each with an exact
   line search on the leave-one-out loss. This down-weights terms many entries share ("card")
   and up-weights the ones that tell close entries apart.
3. Calibration: a small logistic model turns the entry's probability and the similarity of
   its closest stored question into the 0-100 score. It is fitted on the knowledge base too:
   held-out questions are the positives, and the same questions with their own entry removed
   (a realistic "we have no answer for that") are the negatives.
4. Meaning: when an embedder is given (bot.meaning), the closeness in meaning of the entry's
   nearest stored question adds to the score with a fixed weight, and the entries nearest in
   meaning are scored too, even when they share no word with the question.

The word part is sparse linear algebra: deterministic, explainable term by term, about a
second for 15,000 questions; embeddings add about half a second there, and are cached with
the learned weights. Measurements: benchmarks/RESULTS.md.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

from bot.matching.cache import ModelCache
from bot.matching.meaning import Embedder
from bot.matching.spelling import Speller
from bot.text import FUNCTION_WORDS, normalise

log = logging.getLogger(__name__)

Floats = npt.NDArray[np.floating[Any]]
Ints = npt.NDArray[np.int64]

# Part of the cache key: change it whenever what is learned changes.
ENGINE_VERSION = "nb-lr-13"
CHAR_SIZES = (2, 3, 4, 5)
# How much an n-gram the knowledge base never uses weakens a match, relative to the rarest
# known one: 1.0 rejects most out-of-scope questions on the labelled set but costs CLINC150's
# val-chosen point its recall (92.0 / 44.8); 0.75 keeps both (benchmarks/RESULTS.md).
UNKNOWN_GRAM_WEIGHT = 0.75
# Naive Bayes smoothing, in TF-IDF mass (each question vector has unit length).
SMOOTHING = 0.1
# Naive Bayes is overconfident; scaling its log-odds down gives the refinement sane odds.
TEMPERATURE = 3.0
MAX_STEPS = 4
STEP_SIZES = (0.02, 0.05, 0.1, 0.2, 0.35, 0.6, 1.0, 1.6)
# A refinement step must lower the leave-one-out loss by this fraction to be taken.
MIN_GAIN = 0.0005
# Rows used for line searches and for the calibration: plenty to fit a handful of numbers.
MAX_SEARCH_ROWS = 2000
MAX_CALIBRATION_ROWS = 3000
# The share of questions assumed to have no answer in the knowledge base: how much the
# simulated unknown questions weigh against held-out known ones in the calibration.
UNANSWERABLE_SHARE = 0.2
# How much closeness in meaning (0-1, bot.meaning) adds to the score's log-odds. Chosen on
# CLINC150's val split and the labelled question set (benchmarks/RESULTS.md).
MEANING_WEIGHT = 2.0
# Calibration (intercept, log-probability weight, similarity weight, meaning weight): the
# prior the fit is pulled towards, and all there is when a knowledge base is too small to
# learn from. The meaning weight is fixed (see _fit_calibration).
PRIOR_CALIBRATION = (-2.0, 2.5, 7.0, MEANING_WEIGHT)
Calibration = tuple[float, float, float, float]
PRIOR_STRENGTH = 20.0  # in examples' worth of evidence
MIN_CALIBRATION_ROWS = 20
SHARED_TERMS = 5
MIN_SCORE = 0.1
# Entries this many, closest in meaning, join the word-based candidates of a search.
MEANING_CANDIDATES = 3


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
    # Misspelt words read as the knowledge base's words ("helth" -> "health").
    corrections: tuple[tuple[str, str], ...] = ()


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
    """Content words, and neighbouring word pairs that hold at least one content word.

    Function words ("how do I", "le", "pour") alone say nothing about the topic: left in,
    "how do I get a library card" matches "how do I get a health card" on its template.
    """
    pairs = [
        f"{a} {b}"
        for a, b in itertools.pairwise(words)
        if a not in FUNCTION_WORDS or b not in FUNCTION_WORDS
    ]
    return [w for w in words if w not in FUNCTION_WORDS] + pairs


def _idf(document_frequency: Ints, rows: int) -> Floats:
    """Smoothed inverse document frequency."""
    return np.asarray(np.log((1.0 + rows) / (1.0 + document_frequency)) + 1.0, dtype=np.float64)


def _column_presence(matrix: sparse.csr_matrix) -> Ints:
    """How many rows of a sparse matrix have each column."""
    present = sparse.csr_matrix(matrix)
    return np.bincount(present.indices, minlength=present.shape[1]).astype(np.int64)


def _row_scale(matrix: sparse.csr_matrix) -> Floats:
    """1 / the L2 norm of each row (1 for empty rows)."""
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1), dtype=np.float64).ravel())
    norms[norms == 0] = 1.0
    return 1.0 / norms


def _count_matrix(rows: list[int], cols: list[int], shape: tuple[int, int]) -> sparse.csr_matrix:
    """A sparse float32 matrix counting the (row, column) pairs given."""
    matrix = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (np.asarray(rows, dtype=np.int64), cols)),
        shape=shape,
    )
    matrix.sum_duplicates()
    return matrix


def _unit_rows(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    """The matrix with each row scaled to unit length."""
    scale = _row_scale(matrix).astype(np.float32)
    return sparse.csr_matrix(sparse.diags(scale) @ matrix, dtype=np.float32)


def _log_softmax(scores: Floats) -> Floats:
    shifted = scores - scores.max(axis=-1, keepdims=True)
    out: Floats = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return out


def _sigmoid(value: Floats) -> Floats:
    out: Floats = 0.5 * (1.0 + np.tanh(0.5 * value))
    return out


class _Vectoriser:
    """Turns prepared text into unit-length word and character TF-IDF vectors."""

    def __init__(self, rows: Sequence[list[str]], owner: Ints) -> None:
        self.words: dict[str, int] = {}
        word_ids = [[self.words.setdefault(w, len(self.words)) for w in ws] for ws in rows]
        self.terms: dict[str, int] = {}
        term_ids = [
            [self.terms.setdefault(t, len(self.terms)) for t in word_terms(ws)] for ws in rows
        ]
        self.term_list = list(self.terms)
        # Character n-grams are counted once per distinct word: a question's n-grams are the
        # sum of its words' (a sparse product), which keeps indexing fast.
        self.grams: dict[str, int] = {}
        g_rows: list[int] = []
        g_cols: list[int] = []
        for word, index in self.words.items():
            grams = char_ngrams(word)
            g_rows.extend([index] * len(grams))
            g_cols.extend(self.grams.setdefault(g, len(self.grams)) for g in grams)
        self.word_grams = _count_matrix(g_rows, g_cols, (len(self.words), len(self.grams)))
        n = len(rows)
        row_of_word = [r for r, ids in enumerate(word_ids) for _ in ids]
        row_of_term = [r for r, ids in enumerate(term_ids) for _ in ids]
        flat_words = list(itertools.chain.from_iterable(word_ids))
        flat_terms = list(itertools.chain.from_iterable(term_ids))
        self.word_counts = _count_matrix(row_of_word, flat_words, (n, len(self.words)))
        term_counts = _count_matrix(row_of_term, flat_terms, (n, len(self.terms)))
        gram_counts = sparse.csr_matrix(self.word_counts @ self.word_grams)
        # Document frequency counts entries, not questions: a word in every variant of one
        # entry is that entry's signature, not a common word.
        entries = int(owner.max()) + 1
        membership = sparse.csr_matrix(
            (np.ones(n, dtype=np.float32), (owner, np.arange(n))), shape=(entries, n)
        )
        self.term_idf = _idf(_column_presence(membership @ term_counts), entries)
        self.gram_idf = _idf(_column_presence(membership @ gram_counts), entries)
        # Word vectors: sublinear term frequency times IDF.
        term_counts.data = (1.0 + np.log(term_counts.data)) * self.term_idf[term_counts.indices]
        self.term_rows = _unit_rows(term_counts)
        # Character vectors: counts times IDF; also kept factored, as
        # diag(gram_scale) @ word_counts @ gram_weights, for cheap products while learning.
        self.gram_weights = sparse.csr_matrix(
            self.word_grams @ sparse.diags(self.gram_idf.astype(np.float32))
        )
        grams = sparse.csr_matrix(self.word_counts @ self.gram_weights)
        self.gram_scale = _row_scale(grams)
        self.gram_rows = _unit_rows(grams)
        self.max_term_idf = float(self.term_idf.max())
        self.max_gram_idf = float(self.gram_idf.max()) if self.gram_idf.size else 1.0

    def query(self, words: list[str]) -> tuple[Ints, Floats, Ints, Floats]:
        """The query's known word terms and n-grams, with unit-length weights."""
        all_terms = word_terms(words)
        term_bag = Counter(t for t in all_terms if t in self.terms)
        t_cols = np.fromiter((self.terms[t] for t in term_bag), np.int64, len(term_bag))
        t_tf = np.fromiter(term_bag.values(), np.float64, len(term_bag))
        t_vals = (1.0 + np.log(t_tf)) * self.term_idf[t_cols]
        gram_bag: Counter[int] = Counter()
        unknown_grams = 0
        indptr, indices, data = (
            self.word_grams.indptr,
            self.word_grams.indices,
            self.word_grams.data,
        )
        for word in words:
            index = self.words.get(word)
            if index is not None:
                for k in range(indptr[index], indptr[index + 1]):
                    gram_bag[int(indices[k])] += int(data[k])
            else:
                # An unknown word (often a typo) still shares n-grams with the right word;
                # its n-grams the knowledge base never uses make the match weaker, as words do.
                grams = char_ngrams(word)
                gram_bag.update(self.grams[g] for g in grams if g in self.grams)
                unknown_grams += sum(1 for g in grams if g not in self.grams)
        g_cols = np.fromiter(gram_bag, np.int64, len(gram_bag))
        g_vals = np.fromiter(gram_bag.values(), np.float64, len(gram_bag)) * self.gram_idf[g_cols]
        # Words the knowledge base never uses count in the length at the highest weight: a
        # question made mostly of unknown words is a weak match for everything.
        unknown = sum(1 for t in all_terms if t not in self.terms)
        t_norm = math.sqrt(float(t_vals @ t_vals) + unknown * self.max_term_idf**2)
        unknown_weight = UNKNOWN_GRAM_WEIGHT * self.max_gram_idf
        g_norm = math.sqrt(float(g_vals @ g_vals) + unknown_grams * unknown_weight**2)
        return t_cols, t_vals / (t_norm or 1.0), g_cols, g_vals / (g_norm or 1.0)


def _naive_bayes(rows: sparse.csr_matrix, owner: Ints, classes: int) -> tuple[Floats, Floats]:
    """Log term probabilities (terms x classes), and each row's own-class score held out."""
    membership = sparse.csr_matrix(
        (np.ones(len(owner), dtype=np.float32), (owner, np.arange(len(owner)))),
        shape=(classes, len(owner)),
    )
    mass = np.asarray((membership @ rows).toarray(), dtype=np.float32)
    total = mass.sum(axis=1, dtype=np.float64)
    width = rows.shape[1]
    log_prob = np.log(mass + np.float32(SMOOTHING))
    log_prob -= np.log(total + SMOOTHING * width).astype(np.float32)[:, None]
    coo = rows.tocoo()
    own = mass[owner[coo.row], coo.col]
    held_out = np.log(np.maximum(own - coo.data, 0.0) + SMOOTHING)
    loo = np.asarray(
        np.bincount(coo.row, weights=coo.data * held_out, minlength=rows.shape[0]), np.float64
    )
    length = np.asarray(rows.sum(axis=1), dtype=np.float64).ravel()
    loo -= length * np.log(np.maximum(total[owner] - length, 0.0) + SMOOTHING * width)
    return np.ascontiguousarray(log_prob.T), loo


def _mean_loss(scores: Floats, owner: Ints) -> float:
    return -float(_log_softmax(scores)[np.arange(len(owner)), owner].mean())


def _learn(vec: _Vectoriser, owner: Ints, classes: int) -> tuple[Floats, Floats, Floats]:
    """Term weights per class for both blocks, and every row's leave-one-out class scores."""
    rows = np.arange(len(owner))
    term_w, term_loo = _naive_bayes(vec.term_rows, owner, classes)
    gram_w, gram_loo = _naive_bayes(vec.gram_rows, owner, classes)
    term_w /= np.float32(TEMPERATURE)
    gram_w /= np.float32(TEMPERATURE)

    def forward(t_w: Floats, g_w: Floats) -> Floats:
        grams = vec.word_counts @ np.asarray(vec.gram_weights @ g_w)
        out: Floats = np.asarray(vec.term_rows @ t_w) + vec.gram_scale[:, None] * grams
        return out

    scores = forward(term_w, gram_w)
    # Leave-one-out: a stored question must not vote for its own entry.
    scores[rows, owner] = (term_loo + gram_loo) / TEMPERATURE
    if classes < 2:
        return term_w, gram_w, scores
    # A row's own pull on the weights, removed from its scores to stay leave-one-out.
    self_weight = (
        np.asarray(vec.term_rows.multiply(vec.term_rows).sum(axis=1)).ravel()
        + np.asarray(vec.gram_rows.multiply(vec.gram_rows).sum(axis=1)).ravel()
    ).astype(np.float32)
    search = rows[:: max(1, len(rows) // MAX_SEARCH_ROWS)]
    loss = _mean_loss(scores[search], owner[search])
    for _ in range(MAX_STEPS):
        residual = np.exp(_log_softmax(scores))
        residual[rows, owner] -= 1.0
        t_grad = np.asarray(vec.term_rows.T @ residual)
        g_grad = np.asarray(
            vec.gram_weights.T @ (vec.word_counts.T @ (vec.gram_scale[:, None] * residual))
        ).astype(np.float32)
        direction = forward(t_grad, g_grad) - self_weight[:, None] * residual
        best_loss, eta = min(
            (_mean_loss(scores[search] - eta * direction[search], owner[search]), eta)
            for eta in STEP_SIZES
        )
        if best_loss > loss * (1.0 - MIN_GAIN):
            break
        loss = best_loss
        step = np.float32(eta)
        term_w -= step * t_grad
        gram_w -= step * g_grad
        scores -= step * direction
    return term_w, gram_w, scores


def _fit_calibration(
    features: Floats, meaning: Floats, target: Floats, weight: Floats
) -> Calibration:
    """Weighted logistic regression of `target` on `features`, pulled towards the prior.

    The meaning feature enters with the fixed MEANING_WEIGHT: the knowledge base's own
    questions are paraphrases of each other in words as well as in meaning, so they cannot
    teach how much meaning should count when the words differ.
    """
    design = np.column_stack([np.ones(len(target)), features])
    offset = MEANING_WEIGHT * meaning
    prior = np.asarray(PRIOR_CALIBRATION[:3], dtype=np.float64)
    coef = prior.copy()
    total = float(weight.sum())
    penalty = np.full(len(prior), PRIOR_STRENGTH / max(total, 1.0))

    def loss(c: Floats) -> float:
        z = design @ c + offset
        fit = float(weight @ (np.logaddexp(0.0, z) - target * z)) / total
        return fit + 0.5 * float(penalty @ (c - prior) ** 2)

    current = loss(coef)
    for _ in range(50):
        p = _sigmoid(design @ coef + offset)
        gradient = design.T @ (weight * (p - target)) / total + penalty * (coef - prior)
        hessian = (design.T * (weight * p * (1 - p))) @ design / total + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        # Newton steps from the prior can overshoot and diverge: halve until the loss drops.
        size = 1.0
        while size > 1e-6 and loss(coef - size * step) > current:
            size /= 2
        coef = coef - size * step
        current = loss(coef)
        if float(np.abs(size * step).max()) < 1e-7:
            break
    return float(coef[0]), float(coef[1]), float(coef[2]), MEANING_WEIGHT


def _span_rows(spans: Sequence[tuple[int, int]]) -> Ints:
    """The rows of several spans, one span after another."""
    return np.concatenate([np.arange(a, b) for a, b in spans]).astype(np.int64)


def _best_in_spans(spans: Sequence[tuple[int, int]], values: Floats) -> tuple[Ints, Floats]:
    """For values laid out span after span (see _span_rows): each span's best row and value."""
    best_rows = np.empty(len(spans), dtype=np.int64)
    best_values = np.empty(len(spans), dtype=np.float64)
    offset = 0
    for k, (a, b) in enumerate(spans):
        chunk = values[offset : offset + b - a]
        j = int(np.argmax(chunk))
        best_rows[k], best_values[k] = a + j, float(chunk[j])
        offset += b - a
    return best_rows, best_values


class Index:
    """All entries' question variants and what was learned from them.

    As in bm25s, the constructor is cheap and the steps are explicit: `read` prepares and
    vectorises the documents, `fit` learns the weights (pure: no file is touched), `save` and
    `load` keep what was learned; `learn` is `read` then `fit`, and `build` does it all with a
    `ModelCache`. `search` ranks entries for a question.
    """

    def __init__(
        self,
        prepare: Callable[[str], str],
        spelling: bool = True,
        embedder: Embedder | None = None,
    ) -> None:
        self.prepare = prepare
        self.spelling = spelling
        self.embedder = embedder
        self.entry_ids: list[str] = []
        self.raw_questions: list[str] = []
        self.prepared: list[str] = []
        self.is_question = np.zeros(0, dtype=bool)
        self.owner = np.zeros(0, dtype=np.int64)
        self.spans: list[tuple[int, int]] = []
        self.entry_words: list[frozenset[str]] = []
        self.class_entry = np.zeros(0, dtype=np.int64)
        self.calibration: Calibration = PRIOR_CALIBRATION
        self.speller: Speller | None = None
        self.vec: _Vectoriser | None = None
        self.meaning = np.zeros((0, 1), dtype=np.float32)
        self.centroids = np.zeros((0, 1), dtype=np.float32)
        self._row_class = np.zeros(0, dtype=np.int64)

    def read(self, documents: Sequence[Document]) -> Index:
        """Prepare and vectorise the documents' questions (deterministic, nothing learned)."""
        self.entry_ids = [d.entry_id for d in documents]
        self.raw_questions, self.prepared = [], []
        is_question: list[bool] = []
        owner: list[int] = []
        for position, document in enumerate(documents):
            texts = [(q, True) for q in document.questions]
            if document.keywords:
                texts.append((", ".join(document.keywords), False))
            for text, real in texts:
                cleaned = self.prepare(text)
                if cleaned:
                    self.raw_questions.append(text)
                    self.prepared.append(cleaned)
                    is_question.append(real)
                    owner.append(position)
        self.is_question = np.asarray(is_question, dtype=bool)
        self.owner = np.asarray(owner, dtype=np.int64)
        bounds = np.searchsorted(self.owner, np.arange(len(documents) + 1))
        self.spans = [(int(bounds[i]), int(bounds[i + 1])) for i in range(len(documents))]
        self.entry_words = [
            frozenset(w for row in range(a, b) for w in self.prepared[row].split())
            for a, b in self.spans
        ]
        # Entries without usable text take no part: model classes are the others, in order.
        self.class_entry = np.flatnonzero([b > a for a, b in self.spans]).astype(np.int64)
        words = (w for p in self.prepared for w in p.split())
        self.speller = Speller(words) if self.spelling else None
        self.vec = None
        if not self.prepared:
            return self
        self.vec = vec = _Vectoriser([p.split() for p in self.prepared], self.owner)
        # Both halves have unit length, so a row's dot product with a query is in [0, 1].
        self.rows = sparse.csr_matrix(
            sparse.hstack([vec.term_rows, vec.gram_rows]) * np.float32(math.sqrt(0.5)),
            dtype=np.float32,
        )
        dense_class = np.cumsum([b > a for a, b in self.spans]) - 1
        self._row_class = dense_class[self.owner]
        # Each stored question's meaning vector (without an embedder, zeros: the meaning
        # feature then says nothing).
        self.meaning = np.zeros((len(self.raw_questions), 1), dtype=np.float32)
        return self

    @property
    def key(self) -> str:
        """What identifies this exact knowledge base and engine: the cache file's name."""
        digest = hashlib.sha256(
            f"{ENGINE_VERSION}:{self.embedder is not None}:{MEANING_WEIGHT}".encode()
        )
        for position, text, real in zip(self.owner, self.prepared, self.is_question, strict=True):
            digest.update(f"{self.entry_ids[position]}\x1f{int(real)}\x1f{text}\x1e".encode())
        return digest.hexdigest()[:32]

    def fit(self) -> Index:
        """Learn the weights, the questions' meaning and the calibration from what was read."""
        vec = self.vec
        if vec is None:
            return self
        row_class = self._row_class
        with ThreadPoolExecutor(max_workers=1) as pool:
            # Embedding (the tokenizer) and learning (numpy) both release the GIL: on
            # two cores the embeddings come almost for free.
            embedder = self.embedder
            meaning = pool.submit(embedder, self.raw_questions) if embedder else None
            self.term_weights, self.gram_weights, loo_scores = _learn(
                vec, row_class, len(self.class_entry)
            )
            if meaning is not None:
                self.meaning = meaning.result()
        self.calibration = self._calibrate(loo_scores, row_class)
        self._finish()
        return self

    def learn(self, documents: Sequence[Document]) -> Index:
        """`read` the documents, then `fit`."""
        return self.read(documents).fit()

    def _finish(self) -> None:
        self.centroids = self._centroids(self._row_class)
        if self.vec is not None:  # only what queries need is kept
            del self.vec.term_rows, self.vec.gram_rows, self.vec.word_counts
            del self.vec.gram_weights

    def load(self, path: Path) -> bool:
        """Take what was learned from a file saved for the same documents; False when the
        file is missing, damaged or for other documents (then `fit` instead)."""
        vec = self.vec
        if vec is None or not path.exists():
            return False
        try:
            with np.load(path) as saved:
                term_weights, gram_weights = saved["term_weights"], saved["gram_weights"]
                calibration = tuple(float(c) for c in saved["calibration"])
                meaning = saved["meaning"]
        except (OSError, ValueError, KeyError):
            log.warning("the cached model %s is damaged; learning again", path)
            return False
        expected = (len(self.class_entry),)
        if (
            term_weights.shape != (len(vec.terms), *expected)
            or gram_weights.shape != (len(vec.grams), *expected)
            or len(calibration) != len(PRIOR_CALIBRATION)
            or len(meaning) != len(self.raw_questions)
        ):
            return False
        self.meaning = meaning
        self.term_weights, self.gram_weights = term_weights, gram_weights
        self.calibration = (calibration[0], calibration[1], calibration[2], calibration[3])
        self._finish()
        return True

    def save(self, path: Path) -> None:
        """Write what was learned to a file, atomically (a crash never leaves half a file)."""
        if self.vec is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.stem + ".tmp.npz")
        np.savez(
            temporary,
            term_weights=self.term_weights,
            gram_weights=self.gram_weights,
            calibration=np.asarray(self.calibration),
            meaning=self.meaning,
        )
        temporary.replace(path)

    @classmethod
    def build(
        cls,
        documents: Sequence[Document],
        prepare: Callable[[str], str],
        cache_dir: Path | None = None,
        spelling: bool = True,
        embedder: Embedder | None = None,
    ) -> Index:
        """Read and learn the documents, through the model cache in `cache_dir` if given.

        `spelling` repairs misspelt words of a question against the documents' words;
        `embedder` adds closeness in meaning (bot.matching.meaning) to the score.
        """
        index = cls(prepare, spelling, embedder)
        if cache_dir is None:
            return index.learn(documents)
        return ModelCache(cache_dir).learn_or_load(index.read(documents))

    def __len__(self) -> int:
        return len(self.entry_ids)

    def _calibrate(self, scores: Floats, row_class: Ints) -> Calibration:
        """Fit the calibration on held-out questions and on simulated unknown questions."""
        classes = scores.shape[1]
        if classes < 2 or len(row_class) < MIN_CALIBRATION_ROWS:
            return PRIOR_CALIBRATION
        sample = np.arange(0, len(row_class), max(1, len(row_class) // MAX_CALIBRATION_ROWS))
        picked = np.arange(len(sample))
        log_prob = _log_softmax(scores[sample])
        top = log_prob.argmax(axis=1)
        # The same question with its own entry gone: what the engine says to a question it
        # has no answer for.
        without_own = scores[sample].copy()
        without_own[picked, row_class[sample]] = -np.inf
        other_log_prob = _log_softmax(without_own)
        other_top = other_log_prob.argmax(axis=1)
        features = np.column_stack(
            [
                np.concatenate([log_prob[picked, top], other_log_prob[picked, other_top]]),
                np.concatenate(
                    [
                        self._held_out_best(self.rows, sample, top),
                        self._held_out_best(self.rows, sample, other_top),
                    ]
                ),
            ]
        )
        meaning = np.concatenate(
            [
                self._held_out_best(self.meaning, sample, top),
                self._held_out_best(self.meaning, sample, other_top),
            ]
        )
        target = np.concatenate(
            [(top == row_class[sample]).astype(np.float64), np.zeros(len(sample))]
        )
        weight = np.concatenate(
            [
                np.ones(len(sample)),
                np.full(len(sample), UNANSWERABLE_SHARE / (1 - UNANSWERABLE_SHARE)),
            ]
        )
        return _fit_calibration(features, meaning, target, weight)

    def _centroids(self, row_class: Ints) -> Floats:
        """Each class's mean meaning vector, unit length (to find classes near a question)."""
        sums = np.zeros((len(self.class_entry), self.meaning.shape[1]), dtype=np.float32)
        np.add.at(sums, row_class, self.meaning)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        centroids: Floats = sums / norms
        return centroids

    def _held_out_best(
        self, vectors: sparse.csr_matrix | Floats, sample: Ints, classes: Ints
    ) -> Floats:
        """Each sampled row's best dot product with another row of the given class."""
        out = np.zeros(len(sample), dtype=np.float64)
        for cls in np.unique(classes):
            chosen = np.flatnonzero(classes == cls)
            a, b = self.spans[int(self.class_entry[cls])]
            product: Any = vectors[sample[chosen]] @ vectors[a:b].T
            sims = np.array(product.toarray() if sparse.issparse(product) else product)
            own = (sample[chosen] >= a) & (sample[chosen] < b)
            sims[np.flatnonzero(own), sample[chosen][own] - a] = -1.0
            out[chosen] = np.maximum(sims.max(axis=1), 0.0)
        return out

    def _near_in_meaning(self, text: str, classes: Ints) -> tuple[Ints, Floats]:
        """The classes to score (those given, and the closest in meaning), and for each the
        closest meaning of one of its rows to the text."""
        if self.embedder is None:
            return classes, np.zeros(len(classes), dtype=np.float64)
        vector = self.embedder([text])[0]
        # Entries close in meaning but not in words are candidates too; class centroids keep
        # this search small however many questions the knowledge base holds.
        centroid_sims = self.centroids @ vector
        count = min(MEANING_CANDIDATES, len(centroid_sims))
        near = np.argpartition(-centroid_sims, count - 1)[:count]
        chosen = np.union1d(classes, near)
        spans = [self.spans[int(self.class_entry[c])] for c in chosen]
        _, best = _best_in_spans(spans, self.meaning[_span_rows(spans)] @ vector)
        return chosen, np.maximum(best, 0.0)

    def search(self, text: str, limit: int = 5, ignore_unknown: bool = False) -> list[Hit]:
        """The best entries for a question, best first, one hit per entry.

        `ignore_unknown` leaves out the words the knowledge base never uses (after spelling
        repair) instead of letting them weaken every match.
        """
        vec = self.vec
        words = self.prepare(text).split()
        if vec is None or not words or limit <= 0:
            return []
        # Repair before the synonyms apply, so "helth card" is also tagged as "ohip".
        changes: dict[str, str] = {}
        if self.speller is not None:
            repaired, changes = self.speller.repair(normalise(text).split())
            if changes:
                words = self.prepare(" ".join(repaired)).split()
        if ignore_unknown:
            words = [w for w in words if w in vec.words]
            if not words:
                return []
        t_cols, t_vals, g_cols, g_vals = vec.query(words)
        if t_cols.size == 0 and g_cols.size == 0:
            return []
        scores = t_vals @ self.term_weights[t_cols] + g_vals @ self.gram_weights[g_cols]
        log_prob = _log_softmax(scores)
        count = min(limit, len(scores))
        classes, meaning = self._near_in_meaning(text, np.argpartition(-scores, count - 1)[:count])
        query = sparse.csr_matrix(
            (
                np.concatenate([t_vals, g_vals]) * math.sqrt(0.5),
                np.concatenate([t_cols, g_cols + len(vec.terms)]),
                np.asarray([0, len(t_cols) + len(g_cols)]),
            ),
            shape=(1, self.rows.shape[1]),
        )
        entries = self.class_entry[classes]
        best_rows, similarity = self._closest(query, entries)
        bias, w_prob, w_sim, w_meaning = self.calibration
        calibrated = 100.0 * _sigmoid(
            bias + w_prob * log_prob[classes] + w_sim * similarity + w_meaning * meaning
        )
        ranked = sorted(range(len(classes)), key=lambda k: (-calibrated[k], int(entries[k])))
        ranked = ranked[:count]
        return [
            self._hit(
                int(classes[k]),
                int(entries[k]),
                float(calibrated[k]),
                float(np.exp(log_prob[classes[k]])),
                int(best_rows[k]),
                float(similarity[k]),
                float(meaning[k]),
                words,
                t_cols,
                t_vals,
                tuple(changes.items()),
            )
            for k in ranked
        ]

    def _closest(self, query: sparse.csr_matrix, entries: Ints) -> tuple[Ints, Floats]:
        """For each entry, its stored row most similar to the query, and that similarity."""
        spans = [self.spans[int(e)] for e in entries]
        sims = np.asarray((self.rows[_span_rows(spans)] @ query.T).toarray()).ravel()
        return _best_in_spans(spans, sims)

    def _hit(
        self,
        cls: int,
        entry: int,
        score: float,
        probability: float,
        row: int,
        similarity: float,
        meaning: float,
        words: list[str],
        t_cols: Ints,
        t_vals: Floats,
        corrections: tuple[tuple[str, str], ...],
    ) -> Hit:
        a, b = self.spans[entry]
        if not self.is_question[row]:
            # Show a real question rather than the keyword list when the entry has one.
            questions = np.flatnonzero(self.is_question[a:b])
            row = a + int(questions[0]) if questions.size else row
        return Hit(
            self.entry_ids[entry],
            # An estimate, never a certainty either way (0 or 100 would also survive rounding).
            round(min(max(score, MIN_SCORE), 100.0 - MIN_SCORE), 2),
            Evidence(
                self.raw_questions[row],
                self._shared_terms(cls, entry, words, t_cols, t_vals),
                {
                    "model": round(100.0 * probability, 1),
                    "question": round(100.0 * similarity, 1),
                    **({"meaning": round(100.0 * meaning, 1)} if self.embedder else {}),
                },
                corrections,
            ),
        )

    def _shared_terms(
        self, cls: int, entry: int, words: list[str], t_cols: Ints, t_vals: Floats
    ) -> tuple[str, ...]:
        """Query content words stored in the entry, those that pointed to it most first."""
        assert self.vec is not None
        pull: dict[str, float] = {}
        for col, val in zip(t_cols.tolist(), t_vals.tolist(), strict=True):
            row = self.term_weights[col]
            pull[self.vec.term_list[col]] = val * float(row[cls] - row.mean())
        shared = [
            w
            for w in dict.fromkeys(words)
            if w in self.entry_words[entry] and w not in FUNCTION_WORDS
        ]
        shared.sort(key=lambda w: -pull.get(w, 0.0))
        return tuple(shared[:SHARED_TERMS])
