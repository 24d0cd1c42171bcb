"""Embedding many texts as a long job: in batches, reporting progress, cancellable."""

from __future__ import annotations

import threading

import numpy as np

from reverie.core.jobs import Progress, check_cancel
from reverie.models.base import Embedder

EMBED_BATCH = 64


def embed_in_batches(
    embedder: Embedder, texts: list[str], progress: Progress, cancel: threading.Event | None,
    what: str,
) -> np.ndarray:
    """One vector per text (rows in order); cancel is checked between batches."""
    parts: list[np.ndarray] = []
    for start in range(0, len(texts), EMBED_BATCH):
        check_cancel(cancel)
        parts.append(embedder.embed(texts[start : start + EMBED_BATCH]))
        progress(min(start + EMBED_BATCH, len(texts)), len(texts), what)
    if not parts:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    return np.concatenate(parts)
