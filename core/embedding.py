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
