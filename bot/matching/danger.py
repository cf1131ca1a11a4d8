"""A learned second opinion on danger: logistic regression over character and word n-grams.

The lexicons (bot.matching.safety) know the words someone listed; this model learns from
labelled messages (knowledge/safety/examples.jsonl: crisis messages by category, and ordinary
questions that share their words) what a message in danger looks like, so it also reacts to
wordings no one listed. Its features work the same in every script: character n-grams of 2 to
5 across the whole normalised message (typos and inflections share most of them; Chinese needs
no word splitting) and words and word pairs.

One multinomial logistic regression (the "none" class and one per category), fitted with
L-BFGS on an L2 penalty. It learns from the examples file alone, never from the knowledge
base being served (a snapshot of the shipped region's questions is in the file, as plain
examples): one model per examples file. The model learned from the shipped file ships beside it
(examples.model.npz: learning takes 30 to 90 s on two cores); a partner's own file is learned
once and cached by its content (bot.matching.cache), so a reload or a test's small knowledge
base never refits it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import optimize, sparse

from bot.knowledge.model import KnowledgeBase, all_texts
from bot.matching.cache import ModelCache
from bot.text import normalise

log = logging.getLogger(__name__)

Floats = npt.NDArray[np.float64]
# A sentence vector from the encoder (float32 there).
Vector = npt.NDArray[np.floating[Any]]

# Part of the cache key: change it whenever what is learned changes.
DANGER_VERSION = "danger-lr-2"
NONE = "none"
CHAR_SIZES = (2, 3, 4, 5)
# L2 penalty on the weights, per example. Chosen by 5-fold cross-validation on the training
# sets (benchmarks/crisis_learn.py).
PENALTY = 1e-5
# Extra ordinary texts (benchmarks' --kb-negatives only: the knowledge base's questions) weigh
# this much each against a labelled one: they are many (about 1,600) and easy, and would
# otherwise drown the hard ordinary examples.
KB_WEIGHT = 0.3
MAX_ITERATIONS = 300
# A feature must occur in at least this many training messages to be learned. Measured with
# 6,200 examples: features seen once were 55% of all (mostly a single message's own
# n-grams); dropping them halves the fitting time (2 min -> 1 min on 2 busy cores) and
# changes out-of-fold detection by less than a point (benchmarks/crisis_learn.py).
MIN_COUNT = 2
# A message is a crisis when the model's probability of danger is at least SURE, or when a
# lexicon found danger in it and the model's probability is at least CONFIRM (or the message
# is SHORT, or urgent). Both chosen by benchmarks/crisis_learn.py on 5-fold out-of-fold
# probabilities over the 23,079 examples the lexicons were not written from: CONFIRM keeps 99%
# of the lexicons' true alarms (the model takes an alarm away only where it is very sure; see
# LEXICON_LOSS there for why not 98%, as with the meaning model), SURE is the lowest
# probability with at most 1% false alarms on plain messages (chat, replies to the bot,
# off-topic questions, everyday newcomer questions and stories). There: 79.9% of crises
# found, 0.7% false alarms on hard ordinary messages (courses, the past, idioms, news,
# prevention, paperwork...), 0.93% on plain ones; the lexicons alone find 37.4% with 1.0% and
# 0.1%. (Chosen again when the calm words and idioms of 13 languages grew, sixteenth session:
# SURE 0.71 -> 0.68, WORRY 0.279 -> 0.281; the lexicons' false alarms there are now partly
# in-sample, as their calm words were checked on these examples. On the report sets, words:
# held-out 93.2% -> 93.9% found, false alarms 0.3% either way; blind check 89.5% -> 90.1%,
# 3.5% -> 3.9%, one idiom: benchmarks/RESULTS.md.)
# History: learned from 1,155 examples, the model could not overrule the lexicons (at
# CONFIRM 0.5, held-out detection fell from 88.7% to 70.0%), so lexicon hits stood and false
# alarms stayed at 10%. It now learns from 23,705: 13,911 danger and ordinary messages written
# fresh in 14 languages in nine rounds (half the ordinary ones sharing danger words; the
# third and fourth rounds on the weakest categories: child abuse, harm to others, crime,
# trafficking, elder abuse, sexual assault, violence with immigration threats, medical and
# self-harm described without naming them, and jobs and studies that use danger words; the
# fifth in English and French as people write them in a second language; the sixth on child
# abuse, crime, sexual assault and overdose with ordinary messages beside them; the seventh
# romanised and mixed with English, danger described without naming it, and everyday
# questions near danger words in every language; the eighth danger stated plainly, "my
# friend is in danger"; the ninth the past, idioms and news beside present danger), 3,759
# plain chat and story messages, 660 short replies to a chat bot in 14 languages ("no", "я не
# понимаю", "काम नहीं कर रहा": the model had read such negations as danger), 390 hard
# ordinary messages in 14 languages (the past, prevention, paperwork, courses, idioms: "my
# daughter had a febrile seizure when she was 1, she is 6 now"), 736 written in the twelfth
# round: emergencies no one had written (a child who swallowed a button battery or magnets,
# someone through the ice, frostbite, labour, an asthma attack, a dog bite: "my kid swallowed
# a battery" scored 0.11, as "battery" was only in ordinary messages) beside ordinary ones
# sharing their words, and idioms and past stories in each language; 3,096 of the
# knowledge base's own questions (2 per entry and language; not those about emergencies).
# Without the plain ones it found more (held-out
# 92.8%, blind check 91.9%, second round) but raised the alarm on everyday questions ("tell me
# a joke", "my son dont speak englis very good, the school will give him help or no?"):
# benchmarks/RESULTS.md.
SURE = 0.68
CONFIRM = 0.199
# Below an alarm, a message at least this likely to be danger still gets the 911/988 line
# under its answer (issue 11: every crisis message's reply names a right contact). Chosen by
# benchmarks/crisis_learn.py as the lowest probability that puts the line under at most 1
# plain message in 10: out of fold it reaches 85.6% of the crises the alarm missed, and 6.3% of
# hard ordinary messages carry one extra line.
WORRY = 0.281
# A lexicon hit in a message this short always stands: a few words leave no room for the
# context the model weighs, and its probability there mostly reflects how rare short
# messages are in its examples ("أريد أن أموت", I want to die, scored 0.03).
SHORT = 4
# Short of a lexicon hit, the model alone raises no alarm for a message of this many words or
# fewer: there it mostly reads the negations and fillers that crises share ("no" scored 0.80
# sexual assault, "nahi" 0.94 self-harm, "não sei", I do not know, 0.92 medical: 16 of 162
# one- and two-word replies in the 14 languages got a crisis reply). Such a message still
# gets the 911/988 line (WORRY). Out of fold this costs 1 crisis of 8,040 (words) and 2 (with
# the meaning model), each still with the 911/988 line; and no crisis of the report sets.
# One word would cost none, but two-word replies ("não sei", "nahi ji", "не знаю") would keep
# their crisis reply (benchmarks/RESULTS.md).
ALONE_MAX_SHORT = 2
# With the multilingual encoder (the `multilingual` extra), a second model reads the message's
# meaning from the encoder's sentence vector (MeaningHead), the one the matcher computes
# anyway. The message's probability of danger is then the mean of the two models', and the
# bounds below replace SURE, CONFIRM and WORRY, chosen the same way by
# benchmarks/crisis_learn.py on out-of-fold probabilities of 23,705 examples, except that
# CONFIRM keeps 98% of the lexicons' true alarms (LEXICON_LOSS there): 91.1% of crises found
# against 79.9% for the n-grams alone, with 0.8% false alarms on hard ordinary messages
# (1.00% plain; the line under 89.7% of the crises still missed). Sixteenth session, with the
# grown calm words and idioms: SURE 0.65 -> 0.63, CONFIRM 0.364 -> 0.365; report sets with
# the encoder: held-out 99.0% -> 99.3% found, blind check 93.6% -> 95.3%, false alarms 0.6%
# -> 0.6% and 2.3% -> 2.7%. The n-grams know
# the words someone wrote; the sentence vector also knows what they mean, in about 100
# languages.
MEANING_SURE = 0.63
MEANING_CONFIRM = 0.365
MEANING_WORRY = 0.217
# The meaning model: one hidden layer of 64 rectified units, L2 penalty 0.1 on the summed
# loss. Out of fold, in the mean with the n-grams: 89.1% of crises found (1.5% false alarms on
# hard ordinary messages, 0.92% on plain ones; 20,115 examples); penalty 1: 88.5%; a logistic
# regression on the vector (no hidden layer) reached 85.8% at best (penalties 0.003-0.03; 0.3
# 83.0%, 3 82.6%). One network depends on its random start: with 21,411 examples, seeds 0-4
# alone found 86.2-88.1% (hard false alarms 1.2-1.3%); the mean of the five found 89.4% at
# 1.3% (three: 88.8% at 1.2%), keeping 99% of lexicon hits. So the model is the mean of
# MEANING_SEEDS networks; weighing the n-grams 0.4 instead of half found 90.1% but with 1.4%
# false alarms, 0.6 87.4% at 1.1%.
MEANING_HIDDEN = 64
MEANING_PENALTY = 0.1
MEANING_VERSION = "meaning-mlp-2"
MEANING_SEEDS = 5
# Models already learned in this process, by key: tests and reloads build many matchers.
_LEARNED: dict[str, DangerModel] = {}


@dataclass(frozen=True)
class Example:
    """One labelled message: its text and its category ("none" for an ordinary question)."""

    text: str
    label: str


def features(text: str) -> list[str]:
    """Character n-grams across the normalised message, and its words and word pairs."""
    normalised = normalise(text)
    padded = f" {normalised} "
    grams = [padded[i : i + n] for n in CHAR_SIZES for i in range(len(padded) - n + 1)]
    words = normalised.split()
    grams += [f"w:{w}" for w in words]
    grams += [f"p:{a} {b}" for a, b in itertools.pairwise(words)]
    return grams


def ordinary_questions(knowledge: KnowledgeBase) -> list[str]:
    """The knowledge base's FAQ and service questions, in every language: not crises."""
    texts = [q for faq in knowledge.faqs.values() for q in all_texts(faq.questions)]
    return texts + [q for s in knowledge.services.values() for q in all_texts(s.questions)]


def read_examples(path: Path) -> list[Example]:
    """Labelled messages from a JSON-lines file ({"text": ..., "label": ...} per line)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [Example(str(r["text"]), str(r["label"])) for r in rows]


class DangerModel:
    """Probability that a message speaks of danger, and of which kind."""

    def __init__(
        self,
        examples: Sequence[Example],
        ordinary: Sequence[str] = (),
        penalty: float = PENALTY,
        kb_weight: float = KB_WEIGHT,
    ) -> None:
        self.examples = list(examples)
        self.ordinary = list(ordinary)
        self.penalty = penalty
        self.kb_weight = kb_weight
        labels = sorted({e.label for e in self.examples} - {NONE})
        self.classes: tuple[str, ...] = (NONE, *labels)
        self.vocabulary: dict[str, int] = {}
        self.columns = 0
        self.weights: Floats = np.zeros((0, len(self.classes)))
        self.bias: Floats = np.zeros(len(self.classes))

    @property
    def key(self) -> str:
        """Identifies the exact data and settings the model is learned from."""
        digest = hashlib.sha256()
        digest.update(f"{DANGER_VERSION}|{self.penalty}|{self.kb_weight}|{MIN_COUNT}".encode())
        _digest_examples(digest, self.examples)
        for text in self.ordinary:
            digest.update(f"\x02{text}".encode())
        return "danger-" + digest.hexdigest()[:20]

    def _rows(self, texts: Iterable[str], grow: bool) -> sparse.csr_matrix:
        indptr, indices = [0], []
        texts_list = list(texts)
        if grow:
            counts = Counter(gram for text in texts_list for gram in set(features(text)))
            kept = sorted(gram for gram, count in counts.items() if count >= MIN_COUNT)
            self.vocabulary = {gram: column for column, gram in enumerate(kept)}
            self.columns = len(self.vocabulary)
        for text in texts_list:
            seen: set[int] = set()
            for gram in features(text):
                column = self.vocabulary.get(gram)
                if column is not None:
                    seen.add(column)
            indices.extend(sorted(seen))
            indptr.append(len(indices))
        values = np.ones(len(indices))
        matrix = sparse.csr_matrix(
            (values, np.array(indices, dtype=np.int64), np.array(indptr, dtype=np.int64)),
            shape=(len(indptr) - 1, self.columns),
        )
        lengths = np.sqrt(np.asarray(matrix.getnnz(axis=1), dtype=np.float64))
        matrix = sparse.diags(1 / np.maximum(lengths, 1.0)) @ matrix
        return sparse.csr_matrix(matrix)

    def fit(self) -> DangerModel:
        """Learn the weights (pure; a few seconds)."""
        texts = [e.text for e in self.examples] + self.ordinary
        target = np.array(
            [self.classes.index(e.label) for e in self.examples] + [0] * len(self.ordinary)
        )
        weight = np.array([1.0] * len(self.examples) + [self.kb_weight] * len(self.ordinary))
        self.vocabulary = {}
        self.columns = 0
        x = self._rows(texts, grow=True)
        rows, columns, k = x.shape[0], x.shape[1], len(self.classes)
        onehot = np.zeros((rows, k))
        onehot[np.arange(rows), target] = 1.0
        total = weight.sum()

        def loss(theta: Floats) -> tuple[float, Floats]:
            w = theta[: columns * k].reshape(columns, k)
            b = theta[columns * k :]
            scores = x @ w + b
            scores -= scores.max(axis=1, keepdims=True)
            log_norm = np.log(np.exp(scores).sum(axis=1, keepdims=True))
            log_p = scores - log_norm
            value = -(weight * (onehot * log_p).sum(axis=1)).sum() / total
            value += 0.5 * self.penalty * float((w * w).sum())
            residual = (np.exp(log_p) - onehot) * (weight / total)[:, None]
            grad_w = x.T @ residual + self.penalty * w
            grad_b = residual.sum(axis=0)
            return float(value), np.concatenate([np.asarray(grad_w).ravel(), grad_b])

        start = np.zeros(columns * k + k)
        result = optimize.minimize(
            loss, start, jac=True, method="L-BFGS-B", options={"maxiter": MAX_ITERATIONS}
        )
        self.weights = result.x[: columns * k].reshape(columns, k)
        self.bias = result.x[columns * k :]
        return self

    def probabilities(self, texts: Sequence[str]) -> Floats:
        """One row per text: the probability of each class (self.classes)."""
        x = self._rows(texts, grow=False)
        scores = x @ self.weights + self.bias
        scores -= scores.max(axis=1, keepdims=True)
        p = np.exp(scores)
        return np.asarray(p / p.sum(axis=1, keepdims=True))

    def danger(self, text: str) -> tuple[float, str]:
        """The probability that a message speaks of danger, and the likeliest category."""
        # One message: a sum of weight rows, without building a sparse matrix (5x faster).
        columns = {c for c in map(self.vocabulary.get, features(text)) if c is not None}
        scores = self.bias.copy()
        if columns:
            scores += self.weights[sorted(columns)].sum(axis=0) / math.sqrt(len(columns))
        scores -= scores.max()
        p = np.exp(scores)
        p /= p.sum()
        best = int(np.argmax(p[1:])) + 1
        return float(1.0 - p[0]), self.classes[best]

    # --- cache -----------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write the learned weights (sparse: most are near zero)."""
        grams = np.array(sorted(self.vocabulary, key=self.vocabulary.__getitem__))
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez_compressed(
            tmp,
            grams=grams,
            weights=self.weights.astype(np.float32),
            bias=self.bias,
            classes=np.array(self.classes),
            key=np.array(self.key),
        )
        tmp.replace(path)

    def load(self, path: Path, check_key: bool = False) -> bool:
        """Read learned weights; False when the file is missing or does not fit (or, with
        `check_key`, was learned from other examples or settings)."""
        try:
            with np.load(path, allow_pickle=False) as data:
                if check_key and ("key" not in data or str(data["key"]) != self.key):
                    return False
                classes = tuple(str(c) for c in data["classes"])
                grams = [str(g) for g in data["grams"]]
                weights: Any = data["weights"]
                bias: Any = data["bias"]
        except (OSError, KeyError, ValueError):
            return False
        if classes != self.classes or weights.shape != (len(grams), len(classes)):
            return False
        self.vocabulary = {g: i for i, g in enumerate(grams)}
        self.columns = len(grams)
        self.weights = np.asarray(weights, dtype=np.float64)
        self.bias = np.asarray(bias, dtype=np.float64)
        return True


@dataclass(frozen=True)
class Bounds:
    """When a probability of danger raises the alarm (see SURE, CONFIRM, WORRY)."""

    sure: float
    confirm: float
    worry: float


WORDS_BOUNDS = Bounds(SURE, CONFIRM, WORRY)
MEANING_BOUNDS = Bounds(MEANING_SURE, MEANING_CONFIRM, MEANING_WORRY)


@dataclass(frozen=True)
class MeaningHead:
    """Probability of danger from the encoder's sentence vector: the mean of MEANING_SEEDS
    small neural networks (one hidden layer of MEANING_HIDDEN rectified units, then a
    logistic output), each learned from the examples' vectors from its own random start.
    benchmarks/crisis_learn.py --ship writes it beside them; the bot never learns it, as
    encoding 20,000 examples takes minutes."""

    hidden: Floats  # members x vector size x MEANING_HIDDEN
    hidden_bias: Floats  # members x MEANING_HIDDEN
    weights: Floats  # members x MEANING_HIDDEN
    bias: Floats  # members
    encoder: str  # the encoder the vectors came from (bot.matching.encoder.MODEL)
    key: str  # the examples and settings it was learned from (examples_key)

    def __post_init__(self) -> None:
        # One network given on its own (vector size x units) is an ensemble of one.
        if np.ndim(self.hidden) == 2:
            object.__setattr__(self, "hidden", np.asarray(self.hidden)[None])
            object.__setattr__(self, "hidden_bias", np.reshape(self.hidden_bias, (1, -1)))
            object.__setattr__(self, "weights", np.reshape(self.weights, (1, -1)))
        object.__setattr__(self, "bias", np.reshape(np.asarray(self.bias, dtype=np.float64), -1))

    @classmethod
    def fit(
        cls,
        vectors: Vector,
        danger: Sequence[bool],
        encoder: str,
        key: str,
        penalty: float = MEANING_PENALTY,
        units: int = MEANING_HIDDEN,
        seeds: int = MEANING_SEEDS,
    ) -> MeaningHead:
        """Learn `seeds` networks from one vector per example and whether it speaks of
        danger (each by L-BFGS on the summed log loss plus an L2 penalty, from the random
        start of seed 0, 1, ...: the same examples give the same model)."""
        x = np.asarray(vectors, dtype=np.float64)
        y = np.asarray(danger, dtype=np.float64)
        members = [_fit_network(x, y, penalty, units, seed) for seed in range(seeds)]
        return cls(
            np.stack([m[0] for m in members]),
            np.stack([m[1] for m in members]),
            np.stack([m[2] for m in members]),
            np.array([m[3] for m in members]),
            encoder,
            key,
        )

    def probability(self, vector: Vector) -> float:
        """The probability that the message whose vector this is speaks of danger: the
        members' mean."""
        v = np.asarray(vector, dtype=np.float64)
        hidden = np.maximum(np.einsum("d,mdu->mu", v, self.hidden) + self.hidden_bias, 0)
        scores = np.clip((hidden * self.weights).sum(axis=1) + self.bias, -50.0, 50.0)
        return float(np.mean(1.0 / (1.0 + np.exp(-scores))))

    def save(self, path: Path) -> None:
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(
            tmp,
            hidden=self.hidden.astype(np.float32),
            hidden_bias=self.hidden_bias,
            weights=self.weights,
            bias=self.bias,
            encoder=np.array(self.encoder),
            key=np.array(self.key),
        )
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path, encoder: str) -> MeaningHead | None:
        """The head kept at `path` if it reads this encoder's vectors; None otherwise."""
        try:
            with np.load(path, allow_pickle=False) as data:
                head = cls(
                    np.asarray(data["hidden"], dtype=np.float64),
                    np.asarray(data["hidden_bias"], dtype=np.float64),
                    np.asarray(data["weights"], dtype=np.float64),
                    np.asarray(data["bias"], dtype=np.float64),
                    str(data["encoder"]),
                    str(data["key"]),
                )
        except (OSError, KeyError, ValueError):
            return None
        return head if head.encoder == encoder else None


def _fit_network(
    x: Floats, y: Floats, penalty: float, units: int, seed: int
) -> tuple[Floats, Floats, Floats, float]:
    """One hidden-layer network's weights, learned from the random start of `seed`."""
    d = x.shape[1]
    rng = np.random.default_rng(seed)
    start = np.concatenate(
        [
            rng.normal(0, 1 / math.sqrt(d), d * units),
            np.zeros(units),
            rng.normal(0, 1 / math.sqrt(units), units),
            np.zeros(1),
        ]
    )

    def unpack(w: Floats) -> tuple[Floats, Floats, Floats, float]:
        first = w[: d * units].reshape(d, units)
        return first, w[d * units : d * units + units], w[d * units + units : -1], float(w[-1])

    def loss(w: Floats) -> tuple[float, Floats]:
        first, first_bias, second, second_bias = unpack(w)
        active = x @ first + first_bias
        hidden = np.maximum(active, 0.0)
        z = hidden @ second + second_bias
        value = float(np.sum(np.logaddexp(0.0, z) - y * z))
        value += penalty * float(np.sum(first * first) + second @ second)
        with np.errstate(over="ignore"):  # exp(-z) of a very sure "none" is inf: 1/inf = 0
            error = 1.0 / (1.0 + np.exp(-z)) - y
        back = np.outer(error, second) * (active > 0)
        grad = [
            (x.T @ back + 2 * penalty * first).ravel(),
            back.sum(axis=0),
            hidden.T @ error + 2 * penalty * second,
            np.array([error.sum()]),
        ]
        return value, np.concatenate(grad)

    found = optimize.minimize(
        loss, start, jac=True, method="L-BFGS-B", options={"maxiter": MAX_ITERATIONS}
    )
    return unpack(found.x)


def _digest_examples(digest: Any, examples: Iterable[Example]) -> None:
    """Feed labelled examples to a hash (both models' keys read them the same way)."""
    for e in examples:
        digest.update(f"\x00{e.label}\x01{e.text}".encode())


def examples_key(examples: Sequence[Example]) -> str:
    """Identifies a file of examples and the meaning model's settings."""
    settings = f"{MEANING_VERSION}|{MEANING_PENALTY}|{MEANING_HIDDEN}|{MEANING_SEEDS}"
    digest = hashlib.sha256(settings.encode())
    _digest_examples(digest, examples)
    return "meaning-" + digest.hexdigest()[:20]


def shipped_meaning(examples_path: Path) -> Path:
    """Where the meaning model learned from an examples file is kept beside it:
    `examples.jsonl` -> `examples.meaning.npz`."""
    return examples_path.with_name(examples_path.stem + ".meaning.npz")


def load_meaning(
    examples_path: Path, encoder: str, examples: Sequence[Example]
) -> MeaningHead | None:
    """The meaning model shipped beside the examples file, for this encoder; None when there
    is none. `examples`: the file's examples, as the danger model already read them. One
    learned from other examples is still used (it reads meaning, not the file), with a
    warning to learn it again."""
    head = MeaningHead.load(shipped_meaning(examples_path), encoder)
    if head is None:
        return None
    if head.key != examples_key(examples):
        log.warning(
            "%s was learned from other examples: run benchmarks/crisis_learn.py --ship",
            shipped_meaning(examples_path).name,
        )
    return head


def _learn_or_cached(model: DangerModel, cache_dir: Path | None) -> None:
    """Read the model from the cache folder, else learn it (and keep it there when possible)."""
    if cache_dir is None:
        model.fit()
        return
    folder = cache_dir / "danger"  # its own folder: each cache keeps its newest two
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        model.fit()
    else:
        ModelCache(folder).learn_or_load(model)


def shipped_model(examples_path: Path) -> Path:
    """Where the model learned from an examples file is shipped beside it (learning takes
    half a minute on two cores; a replica or a fresh install should not wait for it):
    `examples.jsonl` -> `examples.model.npz`. Written by `python benchmarks/crisis_learn.py
    --ship`; used only while it was learned from exactly these examples and settings."""
    return examples_path.with_name(examples_path.stem + ".model.npz")


def learn_danger(
    examples_path: Path, cache_dir: Path | None, ordinary: Sequence[str] = ()
) -> DangerModel | None:
    """The danger model for a file of labelled messages, from this process's memory, the
    shipped file beside the examples, the cache folder, or learned now; None when the file
    is missing or holds no crisis message.
    ordinary: more "not a crisis" texts (benchmarks only; the bot passes none)."""
    try:
        examples = read_examples(examples_path)
    except (OSError, ValueError, KeyError):
        return None
    model = DangerModel(examples, ordinary)
    if len(model.classes) < 2:
        return None
    known = _LEARNED.get(model.key)
    if known is not None:
        return known
    if not model.load(shipped_model(examples_path), check_key=True):
        _learn_or_cached(model, cache_dir)
    _LEARNED[model.key] = model
    return model
