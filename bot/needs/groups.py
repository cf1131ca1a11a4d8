"""Group unanswered questions into needs by meaning: online, stable, linear in time and memory.

Pure module (no storage, no Telegram, no SQL). A question becomes a unit vector built from its
content words: place names, filler words and numbers are dropped, a few common French words are
read in English, and a word outside the vocabulary is repaired to a close, commoner word seen
before ("crikcet" -> "cricket"). Each word contributes its rarity (IDF) times a word vector that
mixes WordLlama's meaning (so "soccer" sits near "football") with a fixed random identity (so two
different rare words never look alike by accident).

When the multilingual encoder's vector was stored with a question (the `multilingual` extra;
the matcher computes it anyway), the question's vector is that sentence vector, less the log's
mean, beside its word vector (`Vectoriser.learn_sentences`); questions without one keep their
word vector in the same space.

Each need keeps a running centroid, the sum of its members' vectors and their count
(`Centroid`), which storage can save and restore. A new question joins the nearest need whose
centroid is at least `join` similar, otherwise it starts a new need; ids never change as
questions arrive. `NeedGroups.merge` joins needs whose members are, on average, close (average
linkage, closest pair first, computed from the sums) and keeps the older (lower) id, returning
the mapping so storage can move members, status, note and assignee. Nearest needs are found
with one matrix product against the centroid matrix; no question-pair matrix is ever built.
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from rapidfuzz import process
from rapidfuzz.distance import OSA
from scipy import sparse
from scipy.special import gammainc

from bot.needs.stored import decode_sentences
from bot.text import normalise

Vectors = npt.NDArray[np.float32]
WordEmbedder = Callable[[Sequence[str]], Vectors]

DIM = 256

# Thresholds, chosen on the "tune" half of tests/data/needs_labelled.jsonl and CLINC150's
# validation questions (benchmarks/needs_grouping.py --tune: the labelled tune half, two
# 40-intent validation samples with 100 out-of-scope one-offs, all 150 intents' validation
# questions); never on the reported sets.
# Word vectors alone: a question joins a need at centroid similarity 0.3, and needs merge
# while their members are 0.2 similar on average (average linkage, `NeedGroups.merge`):
# mean ARI 0.626 over the four sets (0.731 / 0.601 / 0.688 / 0.484), the best of join
# 0.2-0.35 x merge 0.15-0.35; main's 0.25 join with its chained merge at 0.5 gave 0.605.
JOIN = 0.3
MERGE = 0.2
# With the sentence encoder's vectors stored with the questions (the `multilingual` extra):
# a question's vector is 0.6 sentence vector and 0.4 word vector (0.4 / 0.5 / 0.6 / 0.7
# measured: 0.714 / 0.714 / 0.724 / 0.716 mean ARI at their best thresholds, with the plain
# log mean removed), joining at 0.35 and merging at 0.25 with the needs' mean removed
# (`learn_sentences`): mean ARI 0.704 (0.735 / 0.739 / 0.757 / 0.586), the best of the same
# grid, and 0.425 on val-1 with one need surging to 40% of it (words alone: 0.233).
SENTENCE = 0.6
SENTENCE_JOIN = 0.35
SENTENCE_MERGE = 0.25
# Questions read to find the sentence vectors' common part (`Vectoriser.learn_sentences`).
SAMPLE = 5000
# Share of a word's vector that is meaning (WordLlama); the rest is the word's own identity.
MEANING = 0.6
# Share of a word's identity that comes from its letters (character 3-grams), so variants
# and misspellings of one word ("swim", "swiming") start close even before typo repair.
LETTERS = 0.0
# Filler words ("thanks", "please", "help") count this much of a content word; a question of
# nothing but filler ("thank you so much") is vectorised from its filler words at full weight.
FILLER = 0.3
# How far thresholds rise with a need's size (0: fixed; 1: the full expected rise of a
# centroid's similarity as members average out their noise), see `bar`.
ADAPT = 0.0
# Refinement passes: every question moves to the need whose final centroid suits it best.
PASSES = 2
# A regrouping (bot.needs.grouping.assign) refines and merges this many times: the second
# round refines against the merged needs. Tune sets in 3 shuffled orders, grouped at once:
# mean ARI 0.612 -> 0.617 on words (11 of 12 runs as good or better), 0.685 -> 0.690 with the
# encoder; refreshed in 10 or 30 batches with a daily regrouping, +0.002 to +0.009.
REGROUP_ROUNDS = 2
# Questions scored against all needs at once in a refinement pass (a block x needs matrix:
# 4,096 x 2,000 needs is 33 MB); bigger blocks keep the matrix product fast.
REFINE_BLOCK = 4096
# A need is near an FAQ when its centroid is this similar to one of the FAQ's questions.
NEAR_FAQ = 0.6

# Words that say nothing about the need itself ("how can I find ... please"), in English and
# French (accents removed, as `normalise` leaves them).
STOPWORDS = frozenset(
    """
    a about an and any anyone are as at be been can could do does for from get getting go
    going have help hello hi how i im in is it its know like looking me my near need needs
    of on or our please there thanks thank the their them this to want we what when where
    which who whom why will with would you your find some someone something got tell us
    buy good best place places nearby around area close closest nearest local available
    does did doing am was were being if so that these those here then than into by also
    just really very much many more most should shall may might must other out up over
    anybody anywhere somewhere ok okay hey dear sir madam thx pls plz u ur r im ive id
    town city region ontario canada township lake north south east west
    le la les un une des du de d l j je est et ou pour comment quel quelle quels quelles
    mon ma mes votre vos il elle on nous vous y a au aux en dans avec sur svp merci bonjour
    trouver besoin puis peux cherche est-ce qu que qui ce cet cette ces se sa son ses leur
    leurs ils elles moi toi lui suis es sommes etes sont ai as avons avez ont faire fait
    faut peut peuvent veux voudrais aimerais savoir ici pres chez acheter quelqu quelque
    ya t s n ne pas plus tres bien bon bonne meilleur meilleure endroit quoi ou-est salut
    aller vais va ville region proche autour
    """.split()
)


# Common French words read in English, so the French and English wordings of one need meet.
# General newcomer vocabulary (days, people, places, activities, shops), not a list of needs.
FRENCH = {
    "cours": "class",
    "classe": "class",
    "classes": "class",
    "lecon": "lesson",
    "lecons": "lesson",
    "ecoles": "school",
    "enfant": "kid",
    "enfants": "kid",
    "fille": "girl",
    "garcon": "boy",
    "garcons": "boy",
    "femme": "woman",
    "homme": "man",
    "hommes": "man",
    "adulte": "adult",
    "adultes": "adult",
    "aine": "senior",
    "aines": "senior",
    "famille": "family",
    "dimanche": "sunday",
    "vendredi": "friday",
    "semaine": "week",
    "soir": "evening",
    "ete": "summer",
    "jeu": "game",
    "ligue": "league",
    "salle": "hall",
    "magasin": "store",
    "boutique": "shop",
    "boucher": "butcher",
    "poulet": "chicken",
    "nourriture": "food",
    "manger": "eat",
    "restaurant": "restaurant",
    "eglise": "church",
    "priere": "prayer",
    "prieres": "prayer",
    "mosquee": "mosque",
    "temple": "temple",
    "langue": "language",
    "anglais": "english",
    "francais": "french",
    "arabe": "arabic",
    "professeur": "teacher",
    "prof": "teacher",
    "enseignant": "teacher",
    "moniteur": "instructor",
    "natation": "swimming",
    "nager": "swim",
    "piscine": "pool",
    "patinage": "skating",
    "patin": "skate",
    "patins": "skate",
    "velos": "bike",
    "voiture": "car",
    "pneu": "tire",
    "conduite": "driving",
    "conduire": "drive",
    "examen": "test",
    "meuble": "furniture",
    "meubles": "furniture",
    "usage": "used",
    "usages": "used",
    "gratuit": "free",
    "gratuits": "free",
    "gratuite": "free",
    "cher": "expensive",
    "louer": "rent",
    "location": "rental",
    "jardin": "garden",
    "potager": "vegetable",
    "legumes": "vegetable",
    "traduction": "translation",
    "traduire": "translate",
    "traducteur": "translator",
    "certifiee": "certified",
    "notaire": "notary",
    "transfert": "transfer",
    "forfait": "plan",
    "cellulaire": "cell",
    "telephone": "phone",
    "carte": "card",
    "films": "movie",
    "musique": "music",
    "coiffure": "hair",
    "coiffeur": "hairdresser",
    "cheveux": "hair",
    "tresses": "braid",
    "couturiere": "tailor",
    "couturier": "tailor",
    "retouches": "alteration",
    "vetements": "clothes",
    "chien": "dog",
    "chat": "cat",
    "demenagement": "moving",
    "photo": "photo",
    "passeport": "passport",
    "identite": "id",
    "communautaire": "community",
    "echecs": "chess",
    "travail": "work",
    "emploi": "job",
    "logement": "housing",
    "medecin": "doctor",
    "dentiste": "dentist",
    "reparer": "repair",
    "reparation": "repair",
    "reception": "party",
    "mariage": "wedding",
    "africain": "african",
    "indienne": "indian",
    "tamoul": "tamil",
    "pendjabi": "punjabi",
    "sikh": "sikh",
    "coran": "quran",
    "debutant": "beginner",
    "debutants": "beginner",
    "glace": "ice",
    "obligatoire": "mandatory",
}

# Words that carry no meaning even in a question of only filler words.
FUNCTION_WORDS = frozenset(
    """
    a an and are as at be been by do does for from i im in is it its me my of on or our so
    that the their them these this those to us was we were with you your u ur r
    le la les un une des du de d l j je est et ou pour il elle on nous vous y a au aux en
    dans avec sur qu que qui ce cet cette ces se sa son ses leur leurs ils elles moi toi lui
    suis es sommes etes sont ai as avons avez ont t s n ne pas
    """.split()
)

_TAG = re.compile(r"\[(phone|email|number|postal code)\]")
# How `Vectoriser` reads a token: a content word, a filler word, or nothing.
_CONTENT, _FILLER, _DROPPED = object(), object(), object()
_DIGITS = re.compile(r"^\d+$")


def stem(word: str) -> str:
    """A light plural stem: "clubs" -> "club", "classes" -> "class", "tennis" stays."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "xes", "zes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@functools.lru_cache(maxsize=65536)
def _random_unit(key: str) -> npt.NDArray[np.float64]:
    """A fixed random unit vector for a key (the same on every machine and run)."""
    seed = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")
    vector = np.random.default_rng(seed).standard_normal(DIM)
    return vector / np.linalg.norm(vector)


def _identity(word: str, letters: float = LETTERS) -> npt.NDArray[np.float64]:
    """A word's own unit vector: its random identity mixed with its letters' 3-grams."""
    if letters <= 0:
        return _random_unit(word)  # already a unit vector
    padded = f"<{word}>"
    grams = [padded[i : i + 3] for i in range(len(padded) - 2)]
    spelled = np.sum([_random_unit("#" + g) for g in grams], axis=0)
    vector: npt.NDArray[np.float64] = math.sqrt(1.0 - letters) * _random_unit(word)
    vector = vector + math.sqrt(letters) * spelled / np.linalg.norm(spelled)
    return vector / np.linalg.norm(vector)


@dataclass(frozen=True)
class LearntWords:
    """What a vectoriser learnt from the questions in needs (`Vectoriser.learnt`), as storage
    keeps it between refreshes: how many questions, how many of them use each word, and the
    sentence vectors' common part (None without them)."""

    documents: int
    counts: Mapping[str, int]
    sentence_mean: npt.NDArray[np.float64] | None = None


class Vectoriser:
    """Turns question text into unit vectors; remembers words and how often they are used.

    `embed_words` gives one meaning vector per word (WordLlama; None for words alone).
    `vocabulary` holds known-good spellings (the knowledge base's words, for example): a word
    in it, or seen at least `trusted` times, is never "repaired". `place_words` (the region
    profile's `Region.place_words`) are dropped: where a question names a place, the place
    says where, not what (otherwise two town names would dominate short questions).
    """

    def __init__(
        self,
        embed_words: WordEmbedder | None,
        prepare: Callable[[str], str] = normalise,
        *,
        vocabulary: Iterable[str] = (),
        meaning: float = MEANING,
        letters: float = LETTERS,
        filler: float = FILLER,
        trusted: int = 3,
        place_words: Iterable[str] = (),
    ) -> None:
        self._embed = embed_words
        self._places = frozenset(place_words)
        self._prepare = prepare
        self._vocabulary = {stem(w) for w in vocabulary}
        self._meaning = meaning if embed_words is not None else 0.0
        self._trusted = trusted
        self._letters = letters
        self._filler = filler
        # The thresholds that suit these vectors (`learn_sentences` switches them).
        self.join, self.merge = JOIN, MERGE
        self.sentence_mean: npt.NDArray[np.float64] | None = None
        self._word_vectors: dict[str, npt.NDArray[np.float64]] = {}
        self._repairs: dict[str, str] = {}
        self._splits: dict[str, tuple[list[str], list[str]]] = {}
        self._tokens: dict[str, tuple[object, str]] = {}
        self._weights: dict[str, float] = {}
        self.documents = 0
        self.document_counts: Counter[str] = Counter()

    # -- words ---------------------------------------------------------------------------
    def raw_words(self, text: str) -> list[str]:
        """Content words of a text before typo repair."""
        return self._split(text)[0]

    def _split(self, text: str) -> tuple[list[str], list[str]]:
        # Split once: `learn` and `vectors` read every logged question (the cache grows with
        # the log, like the word counts, and lives as long as this vectoriser).
        cached = self._splits.get(text)
        if cached is None:
            cached = self._splits[text] = self._split_words(text)
        return cached

    def _split_words(self, text: str) -> tuple[list[str], list[str]]:
        # (content words, filler words): filler is what the stop list removes, less the
        # function words that mean nothing even alone.
        out: list[str] = []
        filler: list[str] = []
        for token in self._prepare(_TAG.sub(" ", text)).split():
            read = self._tokens.get(token)
            if read is None:
                read = self._tokens[token] = self._read_token(token)
            if read[0] is _CONTENT:
                out.append(read[1])
            elif read[0] is _FILLER:
                filler.append(read[1])
        return out, filler

    def _read_token(self, token: str) -> tuple[object, str]:
        # What one token is, decided once per vectoriser: 100,000 questions hold about
        # 20,000 distinct tokens (with the rarities kept, learning and vectorising them went
        # from 5.8 s to 4.4 s: benchmarks/RESULTS.md, issue 12).
        word = FRENCH.get(token, token)
        if word in STOPWORDS and len(word) >= 2 and word not in FUNCTION_WORDS:
            return _FILLER, stem(word)
        if (
            len(word) < 2
            or word in STOPWORDS
            or word in self._places
            or _DIGITS.match(word)
            or ("_" in word and all(part in self._places for part in word.split("_")))
        ):
            return _DROPPED, ""
        return _CONTENT, stem(word)

    def words(self, text: str) -> list[str]:
        """Content words of a text, with typos repaired, each once, in order."""
        seen: dict[str, None] = {}
        for word in self.raw_words(text):
            seen.setdefault(self._repairs.get(word, word), None)
        return list(seen)

    def _known(self, word: str) -> bool:
        return word in self._vocabulary or self.document_counts[word] >= self._trusted

    def word_counts(self, texts: Iterable[str]) -> Counter[str]:
        """How many of `texts` use each word (stemmed, before typo repair; filler words too)."""
        counts: Counter[str] = Counter()
        for text, times in Counter(texts).items():  # a log repeats its common wordings
            content, filler = self._split(text)
            for word in {*content, *filler}:
                counts[word] += times
        return counts

    def learn(self, texts: Iterable[str]) -> None:
        """Count the words of new questions (for rarity) and learn repairs for misspellings."""
        texts = list(texts)
        counts = self.word_counts(texts)
        self.documents += len(texts)
        self.document_counts.update(counts)
        self._weights.clear()
        self._learn_repairs(counts)

    def read(self, texts: Iterable[str]) -> None:
        """Learn typo repairs for the words of questions already counted (restored with
        `restore`), without counting them again: to read a few stored questions as a
        vectoriser that learnt the whole log would."""
        self._learn_repairs(self.word_counts(texts))

    def learnt(self, leaving_out: Iterable[str] = ()) -> LearntWords:
        """What this vectoriser has learnt from the log, less the questions `leaving_out`
        (learnt, but kept in no need), for `restore` to take up in a later refresh."""
        left = list(leaving_out)
        counts = self.document_counts - self.word_counts(left)  # drops words now at 0
        return LearntWords(self.documents - len(left), dict(counts), self.sentence_mean)

    def restore(self, learnt: LearntWords) -> None:
        """Take up what an earlier vectoriser learnt (`learnt`), as if it had read those
        questions again: word rarity, the sentence vectors' common part and the thresholds
        that go with it. Typo repairs are learnt by the next `learn`, for the words it
        reads: a refresh vectorises only its new questions, so no other word needs one."""
        self.documents = learnt.documents
        self.document_counts = Counter(learnt.counts)
        self._weights.clear()
        self._repairs.clear()
        self.sentence_mean = learnt.sentence_mean
        if learnt.sentence_mean is not None:
            self.join, self.merge = SENTENCE_JOIN, SENTENCE_MERGE

    def _learn_repairs(self, candidates: Iterable[str]) -> None:
        # A word outside the vocabulary, used rarely, one edit (two for 8+ letters) from a
        # known word used at least twice as often, is read as that word; of two such words,
        # the commoner (then the first in alphabetical order), so the choice never depends
        # on the order the log was read in.
        by_first: dict[str, list[str]] = defaultdict(list)
        for word, count in sorted(self.document_counts.items(), key=lambda wc: (-wc[1], wc[0])):
            if len(word) >= 4 and (self._known(word) or count >= 2):
                by_first[word[0]].append(word)
        for word in sorted(candidates):
            if len(word) < 4 or self._known(word):
                self._repairs.pop(word, None)
                continue
            edits = 2 if len(word) >= 8 else 1
            pool = [w for w in by_first.get(word[0], ()) if w != word]
            count = self.document_counts[word]
            best = process.extractOne(word, pool, scorer=OSA.distance, score_cutoff=edits)
            if best is not None:
                target = str(best[0])
                if self.document_counts[target] >= 2 * count or target in self._vocabulary:
                    self._repairs[word] = self._repairs.get(target, target)

    def weight(self, word: str) -> float:
        """Rarity (smoothed IDF): a word in every question weighs little, a rare word a lot."""
        found = self._weights.get(word)
        if found is None:  # kept until the next `learn`: 500,000 look-ups at 100,000 questions
            found = self._weights[word] = (
                math.log((1 + self.documents) / (1 + self.document_counts[word])) + 1.0
            )
        return found

    # -- vectors -------------------------------------------------------------------------
    def _vectors_of(self, words: Iterable[str]) -> None:
        missing = sorted({w for w in words if w not in self._word_vectors})
        if not missing:
            return
        if self._embed is not None and self._meaning > 0:
            dense = np.asarray(self._embed(missing), dtype=np.float64)
            dense /= np.maximum(np.linalg.norm(dense, axis=1, keepdims=True), 1e-9)
        else:
            dense = np.zeros((len(missing), DIM))
        identities = np.stack([_identity(word, self._letters) for word in missing])
        vectors = (
            math.sqrt(self._meaning) * dense[:, :DIM] + math.sqrt(1.0 - self._meaning) * identities
        )
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        self._word_vectors.update(zip(missing, vectors, strict=True))

    def weighted_words(self, text: str) -> list[tuple[str, float]]:
        """The words a text's vector is made of, each with its weight."""
        content, filler = self._split(text)
        repaired = list(dict.fromkeys(self._repairs.get(w, w) for w in content))
        fill = [w for w in dict.fromkeys(filler) if w not in repaired]
        if not repaired:
            return [(w, self.weight(w)) for w in fill]
        out = [(w, self.weight(w)) for w in repaired]
        if self._filler > 0:
            out += [(w, self._filler * self.weight(w)) for w in fill]
        return out

    # -- sentence vectors ----------------------------------------------------------------
    def learn_sentences(self, texts: Sequence[str], stored: Sequence[str | None]) -> None:
        """Mix in the sentence encoder's vectors stored with the questions (`stored[i]` is
        `texts[i]`'s, from `encode_sentence`, or None). Without one, questions stay word
        vectors alone.

        multilingual-e5's vectors all sit in one narrow cone: their common part is removed
        before comparing. It is the mean of the log's needs, each counted once (the questions,
        at most SAMPLE of them spread over the log, grouped by their words first): a plain
        mean over questions leans toward whatever most people ask, and a need that surges
        then loses what its questions share and splits (benchmarks/RESULTS.md, issue 12).
        Recomputed from the log at each regrouping.
        """
        given = [i for i, s in enumerate(stored) if s]
        if len(given) > SAMPLE:
            given = [given[int(k)] for k in np.linspace(0, len(given) - 1, SAMPLE)]
        found, vectors = decode_sentences([stored[i] for i in given])
        if not found.size:
            return
        word_vectors = self.vectors([texts[given[int(k)]] for k in found])
        groups = NeedGroups(join=JOIN).add(word_vectors).needs
        members: dict[int | None, list[int]] = defaultdict(list)
        for k, need in enumerate(groups):
            members[need].append(k)
        self.sentence_mean = np.mean([vectors[m].mean(axis=0) for m in members.values()], axis=0)
        self.join, self.merge = SENTENCE_JOIN, SENTENCE_MERGE

    @property
    def dim(self) -> int:
        """How many numbers a question's vector has."""
        return DIM + (0 if self.sentence_mean is None else self.sentence_mean.shape[0])

    def vectors(self, texts: Sequence[str], sentences: Sequence[str | None] = ()) -> Vectors:
        """One unit row per text (all zeros for a text with no words that mean anything).

        With sentence vectors learnt (`learn_sentences`), row i is its word vector (a share
        1 - SENTENCE) beside `sentences[i]` less the log's mean (a share SENTENCE); a text with
        no stored sentence vector keeps its word vector alone, so its similarity to any
        question is their words' similarity scaled by sqrt(1 - SENTENCE)."""
        # A log repeats its common wordings: each distinct one is read once (at 100,000
        # questions with 51,810 distinct wordings and their sentence vectors, 4.76 s -> 4.08 s
        # with the faster decoding below; benchmarks/RESULTS.md, issue 12).
        position: dict[str, int] = {}
        inverse = np.fromiter(
            (position.setdefault(t, len(position)) for t in texts), np.intp, len(texts)
        )
        word_lists = [self.weighted_words(t) for t in position]
        self._vectors_of(w for words in word_lists for w, _ in words)
        # Each row is its words' weighted sum: one sparse (texts x words) product.
        column: dict[str, int] = {}
        rows = np.repeat(np.arange(len(word_lists)), [len(words) for words in word_lists])
        columns = [column.setdefault(w, len(column)) for words in word_lists for w, _ in words]
        weights = [weight for words in word_lists for _, weight in words]
        distinct = np.zeros((len(position), DIM), dtype=np.float32)
        if column:
            table = np.stack([self._word_vectors[w] for w in column])
            shape = (len(position), len(column))
            distinct[:] = sparse.csr_matrix((weights, (rows, columns)), shape=shape) @ table
        norms = np.linalg.norm(distinct, axis=1, keepdims=True)[inverse]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        out[:, :DIM] = distinct[inverse] / np.maximum(norms, 1e-9)
        if self.sentence_mean is not None and len(sentences):
            out[:, :DIM] *= math.sqrt(1.0 - SENTENCE)
            worded = np.flatnonzero(norms[:, 0] > 0)  # no words that mean anything: no vector
            picked = [sentences[int(i)] for i in worded]
            found, stored = decode_sentences(picked, self.sentence_mean)
            if found.size:
                stored -= self.sentence_mean.astype(np.float32)  # in place: 100,000 x 384
                stored *= math.sqrt(SENTENCE) / np.maximum(
                    np.linalg.norm(stored, axis=1, keepdims=True), 1e-9
                )
                out[worded[found], DIM:] = stored
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)
        return out


def bar(
    threshold: float, sizes: npt.NDArray[np.int64] | int, other: int = 1, adapt: float = ADAPT
) -> npt.NDArray[np.float64]:
    """The similarity a need of `sizes` members and one of `other` must reach to belong together.

    If members of one need are `threshold` similar to each other on average, the mean of n of
    them is similar to one more member by threshold / sqrt(threshold + (1 - threshold) / n):
    averaging cancels each wording's own noise, so a big need's centroid sits closer to its
    true members than one wording does. `adapt` scales how much of that rise is asked for.
    """
    t = threshold
    a = np.asarray(sizes, dtype=np.float64)
    full = t / np.sqrt((t + (1 - t) / np.maximum(a, 1)) * (t + (1 - t) / max(other, 1)))
    out: npt.NDArray[np.float64] = t * (full / t) ** adapt
    return out


@dataclass
class Centroid:
    """What storage keeps per need to place new questions: sum of member vectors and count."""

    need_id: int
    total: Vectors
    count: int

    @property
    def direction(self) -> Vectors:
        """The unit vector of the need's mean."""
        norm = float(np.linalg.norm(self.total))
        return (self.total / norm if norm > 0 else self.total).astype(np.float32)


@dataclass
class Grouping:
    """The need each question joined (None: no content words) and the needs it created."""

    needs: list[int | None]
    created: list[int] = field(default_factory=list)


class NeedGroups:
    """Needs as running centroids; questions join the nearest one or start a new one."""

    def __init__(
        self,
        centroids: Iterable[Centroid] = (),
        *,
        join: float = JOIN,
        merge: float = MERGE,
        adapt: float = ADAPT,
        next_id: int = 1,
        chunk: int = 256,
        dim: int = DIM,
    ) -> None:
        self.dim = dim
        self.join = join
        self.adapt = adapt
        self.merge_at = merge
        self._chunk = chunk
        self._ids: list[int] = []
        self._totals = np.zeros((0, dim), dtype=np.float32)
        self._counts = np.zeros(0, dtype=np.int64)
        self._units = np.zeros((0, dim), dtype=np.float32)
        self._row: dict[int, int] = {}
        self._dirty: set[int] = set()
        self.next_id = next_id
        restored = list(centroids)
        if restored:
            self._grow(len(restored))
            for c in restored:
                row = self._new_row(c.need_id)
                self._totals[row] = c.total
                self._counts[row] = c.count
                self._units[row] = c.direction
            self.next_id = max(next_id, max(self._ids) + 1)

    # -- state ---------------------------------------------------------------------------
    def _grow(self, extra: int) -> None:
        need = len(self._ids) + extra
        if need <= self._totals.shape[0]:
            return
        size = max(need, 2 * self._totals.shape[0], 64)
        for name in ("_totals", "_units"):
            old = getattr(self, name)
            new = np.zeros((size, self.dim), dtype=np.float32)
            new[: old.shape[0]] = old
            setattr(self, name, new)
        counts = np.zeros(size, dtype=np.int64)
        counts[: self._counts.shape[0]] = self._counts
        self._counts = counts

    def _new_row(self, need_id: int) -> int:
        row = len(self._ids)
        self._ids.append(need_id)
        self._row[need_id] = row
        return row

    def centroids(self) -> list[Centroid]:
        """Every need's centroid, to store."""
        return [
            Centroid(nid, self._totals[r].copy(), int(self._counts[r]))
            for nid, r in self._row.items()
        ]

    def centroid(self, need_id: int) -> Centroid:
        """One need's centroid."""
        r = self._row[need_id]
        return Centroid(need_id, self._totals[r].copy(), int(self._counts[r]))

    def __len__(self) -> int:
        return len(self._row)

    def __contains__(self, need_id: object) -> bool:
        return need_id in self._row

    # -- grouping ------------------------------------------------------------------------
    def add(self, vectors: Vectors) -> Grouping:
        """Place each question (a unit row; zero rows join nothing) in a need, in order."""
        result = Grouping([])
        for start in range(0, vectors.shape[0], self._chunk):
            self._add_block(vectors[start : start + self._chunk], result)
        return result

    def _add_block(self, block: Vectors, result: Grouping) -> None:
        """One chunk of `add`: every question is scored against the needs known before the
        chunk in one matrix product, and against the needs the chunk itself starts as it goes.

        Only two things depend on the questions before it in the chunk: a question starting a
        need, and one joining a need started in this chunk (the new need's centroid moves).
        Questions between two such events are placed together, as they would be one by one:
        the known needs' centroids are not read again within the chunk. Placed one question at
        a time, 100,000 questions built from CLINC150 took 2.1-3.0 s, mostly Python per
        question; this way 1.5-2.1 s in the same runs, the same need for every question
        (benchmarks/RESULTS.md).
        """
        n = block.shape[0]
        known = len(self._ids)
        if known:
            scores = self._scaled(block @ self._units[:known].T, self._counts[:known])
            best_row = np.argmax(scores, axis=1)
            best = scores[np.arange(n), best_row]
        else:
            best_row = np.full(n, -1, dtype=np.int64)
            best = np.full(n, -1.0, dtype=np.float32)
        empty: npt.NDArray[np.bool_] = np.logical_not(block.any(axis=1))
        self._grow(n)
        target = np.where(empty, -1, best_row)  # the row each question joins
        i = 0
        while i < n:
            fresh = len(self._ids) - known
            if fresh:
                local = self._scaled(
                    block[i:] @ self._units[known : known + fresh].T,
                    self._counts[known : known + fresh],
                )
                local_row = np.argmax(local, axis=1)
                local_best = local[np.arange(n - i), local_row]
                to_fresh = local_best > best[i:]
                top = np.where(to_fresh, local_best, best[i:])
            else:
                to_fresh = np.zeros(n - i, dtype=bool)
                top = best[i:]
            events = np.flatnonzero(~empty[i:] & (to_fresh | (top < self.join)))
            if not len(events):
                break
            k = int(events[0])
            if top[k] >= self.join:
                row = known + int(local_row[k])
            else:
                row = self._new_row(self.next_id)
                result.created.append(self.next_id)
                self.next_id += 1
            target[i + k] = row
            self._join(row, block[i + k])
            i += k + 1
        joined = np.flatnonzero(~empty & (target < known))
        if len(joined):
            self._join_known(target[joined], block[joined])
        result.needs += [None if r < 0 else self._ids[r] for r in target.tolist()]

    def _scaled(
        self, scores: Vectors, sizes: npt.NDArray[np.int64]
    ) -> Vectors | npt.NDArray[np.float64]:
        """Similarities to needs of these sizes, as a share of each need's bar (`adapt`)."""
        if not self.adapt:
            return scores
        return scores / bar(self.join, sizes, 1, self.adapt) * self.join

    def _join_known(self, rows: npt.NDArray[np.int64], vectors: Vectors) -> None:
        """Add each vector to its row's total, in the given order within each row (so the sums
        are bit for bit those of adding one at a time), then renew those rows' unit vectors."""
        self._add_in_order(rows, vectors, np.ones(len(rows), dtype=np.int64))

    def _add_in_order(
        self, rows: npt.NDArray[np.int64], vectors: Vectors, signs: npt.NDArray[np.int64]
    ) -> None:
        """Add (sign +1) or take away (-1) each vector at its row, in the given order within
        each row, then renew the rows' unit vectors."""
        order = np.argsort(rows, kind="stable")
        ranked = rows[order]
        starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
        rank = np.arange(len(ranked)) - np.repeat(starts, np.diff(np.r_[starts, len(ranked)]))
        for level in range(int(rank.max()) + 1):
            at = order[rank == level]  # each row at most once: a plain fancy-index add
            self._totals[rows[at]] += vectors[at] * signs[at, None].astype(vectors.dtype)
            self._counts[rows[at]] += signs[at]
        self._renew(ranked[starts])

    def _join(self, row: int, vector: Vectors) -> None:
        self._totals[row] += vector
        self._counts[row] += 1
        self._renew(np.array([row]))

    def _renew(self, rows: npt.NDArray[np.int64]) -> None:
        """Recompute these rows' unit vectors from their totals, all at once (one row at a
        time, with np.linalg.norm's checks, this was 0.4 s of adding 100,000 questions)."""
        totals = self._totals[rows]
        norms = np.sqrt(np.einsum("ij,ij->i", totals, totals))
        self._units[rows] = totals / np.maximum(norms, 1e-9)[:, None]
        self._dirty.update(rows.tolist())

    def refine(
        self, vectors: Vectors, needs: Sequence[int | None], passes: int = PASSES
    ) -> list[int | None]:
        """Move each of these questions to the need whose centroid now suits it best (k-means
        steps); `needs[i]` is where row i sits now. Other members of the needs stay put.

        The online pass places a question against the needs as they were when it arrived; early
        questions started needs that later ones made redundant. Each pass costs questions x
        needs. Ids never change; a need left with no members disappears. Returns the new need
        of each row.
        """
        current = np.array([-1 if n is None else n for n in needs], dtype=np.int64)
        for _ in range(passes):
            ids = np.array(self._ids, dtype=np.int64)
            if not len(ids):
                break
            units = self._units[: len(ids)].copy()
            counts = self._counts[: len(ids)]
            bars = bar(self.join, counts, 1, self.adapt) if self.adapt else None
            targets = np.full(len(current), -1, dtype=np.int64)
            block = max(self._chunk, REFINE_BLOCK)
            for start in range(0, len(current), block):
                scores = vectors[start : start + block] @ units.T
                if bars is not None:
                    scores = scores / bars * self.join
                best = np.argmax(scores, axis=1)
                good = scores[np.arange(len(best)), best] >= self.join
                targets[start : start + len(best)] = np.where(good, ids[best], -1)
            # Every move is decided against the centroids as the pass began, so the moves are
            # made all at once, each need's sums in the same order as one move at a time (the
            # same need for every one of 98,993 questions, with the encoder's vectors).
            moving = np.flatnonzero((current >= 0) & (targets >= 0) & (targets != current))
            if not len(moving):
                break
            row_of = np.full(int(max(ids.max(), current.max())) + 1, -1, dtype=np.int64)
            row_of[ids] = np.arange(len(ids))
            rows = np.empty(2 * len(moving), dtype=np.int64)
            rows[0::2] = row_of[current[moving]]  # each move takes away, then adds
            rows[1::2] = row_of[targets[moving]]
            signs = np.tile(np.array([-1, 1], dtype=np.int64), len(moving))
            self._add_in_order(rows, np.repeat(vectors[moving], 2, axis=0), signs)
            current[moving] = targets[moving]
            self._drop_empty()
        return [None if n < 0 else int(n) for n in current.tolist()]

    def _drop_empty(self) -> None:
        rows = [r for r in range(len(self._ids)) if self._counts[r] > 0]
        if len(rows) == len(self._ids):
            return
        kept = [(self._ids[r], self._totals[r].copy(), int(self._counts[r])) for r in rows]
        dirty = {self._ids[r] for r in self._dirty}
        self._reset(kept)
        self._dirty = {r for r, nid in enumerate(self._ids) if nid in dirty}

    def _reset(self, rows: Sequence[tuple[int, Vectors, int]]) -> None:
        self._ids = []
        self._row = {}
        self._totals = np.zeros((0, self.dim), dtype=np.float32)
        self._counts = np.zeros(0, dtype=np.int64)
        self._units = np.zeros((0, self.dim), dtype=np.float32)
        self._grow(len(rows))
        for nid, total, count in rows:
            row = self._new_row(nid)
            self._totals[row] = total
            self._counts[row] = count
        if rows:
            # All rows' unit vectors at once, not a norm per row.
            self._renew(np.arange(len(rows)))
            self._dirty.clear()

    def merge(self) -> dict[int, int]:
        """Join needs that drifted close, closest pair first; returns {absorbed id: kept id}.
        The kept id is always the older (lower) one.

        Two needs are as close as their members are on average (average linkage): T_a . T_b /
        (n_a n_b) for member-vector sums T and counts n, exact for unit member vectors, so no
        two questions are ever compared. The closest pair at or above `merge` joins, then the
        next closest, until none is left. A joined need's closeness to a third is the
        size-weighted mean of its two parts', so it reaches `merge` only where one part did:
        the candidate pairs are found once, from each need that changed since the last pass
        against all needs (changed x all, in chunks; two unchanged needs were apart at the
        last pass and still are), and a join only re-scores its parts' candidates.
        """
        n = len(self._ids)
        dirty = sorted(r for r in self._dirty if r < n)
        self._dirty.clear()
        if n < 2 or not dirty:
            return {}
        totals = self._totals[:n].astype(np.float64)
        counts = np.maximum(self._counts[:n], 1).astype(np.float64)
        neighbours: dict[int, set[int]] = defaultdict(set)
        version = [0] * n
        heap: list[tuple[float, int, int, int, int]] = []

        def push(a: int, b: int, closeness: float) -> None:
            neighbours[a].add(b)
            neighbours[b].add(a)
            heapq.heappush(heap, (-closeness, a, b, version[a], version[b]))

        for start in range(0, len(dirty), self._chunk):
            rows = dirty[start : start + self._chunk]
            closeness = (totals[rows] @ totals.T) / np.outer(counts[rows], counts)
            for i, r in enumerate(rows):
                closeness[i, r] = -1.0
                for other in np.flatnonzero(closeness[i] >= self.merge_at):
                    o = int(other)
                    if o not in neighbours[r]:
                        push(r, o, float(closeness[i, o]))
        parent = list(range(n))
        alive = [True] * n
        while heap:
            _, a, b, seen_a, seen_b = heapq.heappop(heap)
            if not (alive[a] and alive[b]) or version[a] != seen_a or version[b] != seen_b:
                continue  # one side joined another need since this pair was scored
            keep, drop = (a, b) if self._ids[a] < self._ids[b] else (b, a)
            totals[keep] += totals[drop]
            counts[keep] += counts[drop]
            alive[drop] = False
            parent[drop] = keep
            version[keep] += 1
            near = sorted(c for c in neighbours.pop(drop) | neighbours[keep] if alive[c])
            near = [c for c in near if c != keep]
            for c in neighbours[keep]:
                neighbours[c].discard(keep)
            neighbours[keep] = set()
            if near:
                scores = (totals[near] @ totals[keep]) / (counts[near] * counts[keep])
                for c, score in zip(near, scores, strict=True):
                    neighbours[c].discard(drop)
                    if score >= self.merge_at:
                        push(keep, c, float(score))

        def find(r: int) -> int:
            while parent[r] != r:
                r = parent[r]
            return r

        mapping: dict[int, int] = {}
        groups: dict[int, list[int]] = defaultdict(list)
        for r in range(n):
            groups[find(r)].append(r)
        if len(groups) == n:
            return mapping
        keep_rows = sorted(groups)
        summed = np.stack([self._totals[groups[k]].sum(axis=0) for k in keep_rows])
        sizes = np.array([self._counts[groups[k]].sum() for k in keep_rows])
        for k in keep_rows:
            for r in groups[k]:
                if r != k:
                    mapping[self._ids[r]] = self._ids[k]
        ids = [self._ids[k] for k in keep_rows]
        self._reset(list(zip(ids, summed, sizes, strict=True)))
        return mapping


def resolve(mapping: Mapping[int, int], need_id: int) -> int:
    """Follow merges to the need that holds a question now."""
    while need_id in mapping:
        need_id = mapping[need_id]
    return need_id


# -- names -------------------------------------------------------------------------------
def label(
    member_words: Sequence[Sequence[str]],
    weight: Callable[[str], float],
    *,
    most: int = 3,
) -> str:
    """A short name from the need's most distinctive words, in the order people use them.

    A word qualifies when at least a third of the members use it (two at least); words are
    ranked by how many members use them times their rarity.
    """
    used: Counter[str] = Counter()
    position: dict[str, list[float]] = defaultdict(list)
    for words in member_words:
        for i, w in enumerate(dict.fromkeys(words)):
            used[w] += 1
            position[w].append(i / max(len(words) - 1, 1))
    floor = max(2, math.ceil(len(member_words) / 3)) if len(member_words) > 1 else 1
    ranked = sorted(
        (w for w, c in used.items() if c >= floor), key=lambda w: (-used[w] * weight(w), w)
    )
    if not ranked:
        ranked = sorted(used, key=lambda w: (-used[w] * weight(w), w))[:1]
    if not ranked:
        return ""  # no member has a content word ("thank you so much"): staff see a wording
    chosen = ranked[:most]
    top = used[chosen[0]] * weight(chosen[0])
    chosen = [w for w in chosen if used[w] * weight(w) >= top / 3]
    chosen.sort(key=lambda w: sum(position[w]) / len(position[w]))
    return " ".join(chosen)


def typical(vectors: Vectors, centroid: Vectors, texts: Sequence[str], count: int = 3) -> list[str]:
    """The `count` distinct wordings closest to the need's centroid."""
    order = np.argsort(-(vectors @ centroid), kind="stable")
    out: list[str] = []
    seen: set[str] = set()
    for i in order:
        key = " ".join(texts[int(i)].lower().split())
        if key not in seen:
            seen.add(key)
            out.append(texts[int(i)])
        if len(out) == count:
            break
    return out


# -- near an existing answer -------------------------------------------------------------
@dataclass(frozen=True)
class NearAnswer:
    """A need whose questions an existing FAQ probably answers."""

    need_id: int
    entry_id: str
    similarity: float


def near_answers(
    centroids: Sequence[Centroid],
    faq_vectors: Vectors,
    faq_entries: Sequence[str],
    *,
    threshold: float = NEAR_FAQ,
    allowed: Sequence[npt.NDArray[np.bool_]] | None = None,
) -> list[NearAnswer]:
    """For each need close to an FAQ question, the closest FAQ entry (one row per FAQ question;
    `faq_entries[i]` names the entry of row i). Vectors come from the same `Vectoriser`.
    `allowed[k]`, when given, says which rows need k may be matched with."""
    if not centroids or faq_vectors.shape[0] == 0:
        return []
    units = np.stack([c.direction for c in centroids])
    scores = units @ faq_vectors.T
    if allowed is not None:
        scores = np.where(np.stack(allowed), scores, -np.inf)
    out = []
    for i, c in enumerate(centroids):
        j = int(np.argmax(scores[i]))
        if float(scores[i, j]) >= threshold:
            out.append(NearAnswer(c.need_id, faq_entries[j], round(float(scores[i, j]), 3)))
    return out


# -- trends ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Trend:
    """This week's count against the usual rate of the previous weeks."""

    this_week: int
    expected: float
    p_value: float
    rising: bool


def trend(
    this_week: int,
    previous_weeks: Sequence[int],
    *,
    alpha: float = 0.01,
    minimum: int = 3,
    floor_rate: float = 0.5,
) -> Trend:
    """Is a need growing fast? A Poisson upper-tail test of this week's askers against the mean
    of the previous weeks (4 by default; a rate of at least `floor_rate` a week, so a need
    that was silent does not flag on its first two askers). Rising when P(X >= this week)
    under the usual rate is below `alpha` and at least `minimum` people asked this week."""
    weeks = max(len(previous_weeks), 1)
    expected = max(sum(previous_weeks) / weeks, floor_rate)
    # P(X >= k) for a Poisson rate is the regularised lower incomplete gamma P(k, rate), the
    # same figure as scipy.stats' poisson.sf(k - 1, rate) without loading scipy.stats (0.4-0.5
    # s of a first grouping of 100,000 questions in a fresh process).
    p_value = float(gammainc(this_week, expected)) if this_week > 0 else 1.0
    return Trend(this_week, expected, p_value, this_week >= minimum and p_value < alpha)


def weekly_counts(ages_in_days: Iterable[float], weeks: int = 5) -> list[int]:
    """Counts per week, most recent week first, from how many days ago each ask was."""
    counts = [0] * weeks
    for age in ages_in_days:
        week = int(age // 7)
        if 0 <= week < weeks:
            counts[week] += 1
    return counts
