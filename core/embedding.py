"""Embedding many texts as a long job: in batches, reporting progress, cancellable."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from reverie.core.jobs import Progress, check_cancel
from reverie.models.base import Embedder

EMBED_BATCH = 64


def embed_in_batches(
    embedder: Embedder, texts: list[str], progress: Progress, cancel: threading.Event | None,
    what: str,
) -> np.ndarray:
    """One vector per text (rows in order); cancel is checked between batches.

    Texts go to the embedder shortest first: a batch is padded to its longest text, so
    mixed lengths waste most of the work (measured: 1.7x slower, docs/benchmarks.md).
    """
    result = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for start in range(0, len(texts), EMBED_BATCH):
        check_cancel(cancel)
        batch = order[start : start + EMBED_BATCH]
        result[batch] = embedder.embed([texts[i] for i in batch])
        progress(min(start + EMBED_BATCH, len(texts)), len(texts), what)
    return result


class SwitchableEmbedder:
    """The store's current embedder, replaced in one step when a re-embedding
    completes: every part of the facade holds this, never the model itself.

    Implements `reverie.models.base.Embedder`.
    """

    def __init__(self, embedder: Embedder) -> None:
        """Start with `embedder`."""
        self._current = embedder

    @property
    def current(self) -> Embedder:
        """The model behind it now."""
        return self._current

    @property
    def name(self) -> str:
        """The current model's name."""
        return self._current.name

    @property
    def dim(self) -> int:
        """The current model's vector length."""
        return self._current.dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors from the current model."""
        return self._current.embed(texts)

    def switch(self, embedder: Embedder) -> Embedder:
        """Use `embedder` from now on; returns the one it replaces."""
        previous, self._current = self._current, embedder
        return previous


def pinned(embedder: Embedder) -> Embedder:
    """The model behind `embedder` now, for a write that embeds and then stores.

    The vectors and the model name stored with them must come from one model, even
    when a re-embedding switches the facade's embedder in between: a writer pins the
    model first and uses only that.
    """
    return embedder.current if isinstance(embedder, SwitchableEmbedder) else embedder
