"""Learned models on disk, so an unchanged knowledge base loads in a fraction of a second.

One file per knowledge-base version, named by its content. Each accepted edit of the
knowledge base makes a new one (about 25 MB for the shipped one), so only the current model
and the one before it are kept: the one before serves a rollback of the edit without learning
again.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Protocol, TypeVar

log = logging.getLogger(__name__)

# The current model and the one before it.
KEEP = 2
PATTERN = "model-*.npz"


class Learnable(Protocol):
    """What the cache needs of a model: a content key, and fit / save / load."""

    @property
    def key(self) -> str:
        """Identifies the exact data and engine the model is learned from."""
        ...

    def fit(self) -> object:
        """Learn (pure)."""
        ...

    def save(self, path: Path) -> None:
        """Write what was learned."""
        ...

    def load(self, path: Path) -> bool:
        """Read what was learned; False when the file does not fit."""
        ...


M = TypeVar("M", bound=Learnable)


class ModelCache:
    """A folder of learned models; the newest `keep` (by last use) are kept."""

    def __init__(self, directory: Path, keep: int = KEEP) -> None:
        self.directory = directory
        self.keep = keep

    def path(self, key: str) -> Path:
        """The file for one knowledge-base version."""
        return self.directory / f"model-{key}.npz"

    def models(self) -> list[Path]:
        """The model files, most recently used first."""
        found = [p for p in self.directory.glob(PATTERN) if ".tmp." not in p.name]
        return sorted(found, key=lambda p: p.stat().st_mtime_ns, reverse=True)

    def learn_or_load(self, index: M) -> M:
        """Load what was learned for an index that has read its documents, else fit and save;
        then drop all but the newest models."""
        path = self.path(index.key)
        if not index.load(path):
            index.fit()
            try:
                index.save(path)
            except OSError:
                log.warning("could not cache the model in %s", self.directory, exc_info=True)
                return index
        self._used(path)
        return index

    def _used(self, path: Path) -> None:
        """Mark a model as the current one and delete the older ones beyond `keep`."""
        try:
            os.utime(path)
            for old in self.models()[self.keep :]:
                old.unlink(missing_ok=True)
                log.info("model cache: removed %s", old.name)
        except OSError:
            log.warning("could not tidy the model cache %s", self.directory, exc_info=True)
