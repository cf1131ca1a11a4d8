"""Meaning: small word embeddings, so "lowest hourly pay" is near "minimum wage".

The engine matches words; a newcomer often uses other words for the same thing. WordLlama's
static embeddings (256 numbers per sentence, bundled in its wheel, a few milliseconds for
thousands of sentences on a CPU) give a second opinion on how close two questions are in
meaning. The engine uses it as one more feature of its calibrated score; without it (an
embedder of None), the engine works as before on words alone.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import wordllama
from wordllama import WordLlama

log = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    """Anything that turns texts into unit-length vectors, one row per text."""

    def __call__(self, texts: Sequence[str]) -> Vectors: ...


class WordLlamaEmbedder:
    """WordLlama's bundled 256-dimension model, loaded without any download."""

    def __init__(self, model: Any) -> None:
        self._model = model

    def __call__(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, 256), dtype=np.float32)
        vectors = np.asarray(self._model.embed(list(texts), norm=True), dtype=np.float32)
        return vectors


@functools.cache
def default_embedder() -> Embedder | None:
    """The shared embedder, or None when WordLlama's model cannot load."""
    # The wheel holds its tokenizer under wordllama/tokenizers/, which the loader only finds
    # when given as the cache folder; downloads stay off (this must work with no internet).
    package = Path(wordllama.__file__).parent
    try:
        model = WordLlama.load(cache_dir=package, disable_download=True)
    except (OSError, ValueError, RuntimeError):
        log.warning("WordLlama is installed but could not load; matching on words alone")
        return None
    return WordLlamaEmbedder(model)
