"""A question's sentence vector as stored with it in the question log (light: numpy only).

When the `multilingual` extra is installed the matcher encodes every question anyway; the
vector of an unanswered (or ambiguous) question is kept with it, so grouping needs never runs
the encoder (about 10 ms a question) when it regroups.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["decode_sentence", "encode_sentence"]


def encode_sentence(vector: npt.NDArray[np.floating[Any]]) -> str:
    """A sentence vector as stored with its question: float16, base64 (text travels through
    every backend and the write spool; 384 numbers take 1,024 characters)."""
    return base64.b64encode(np.asarray(vector, dtype="<f2").tobytes()).decode("ascii")


def decode_sentence(stored: str) -> npt.NDArray[np.float64] | None:
    """The vector `encode_sentence` stored (None when it is damaged)."""
    try:
        raw = base64.b64decode(stored, validate=True)
    except (ValueError, TypeError):
        return None
    if not raw or len(raw) % 2:
        return None
    vector = np.frombuffer(raw, dtype="<f2").astype(np.float64)
    return vector if np.isfinite(vector).all() else None
