"""A sentence embedder from a GGUF file, run by llama-cpp in embedding mode.

Embedding models are widely published as GGUF (nomic-embed-text, bge, all-MiniLM, e5),
so this is how a user brings a better embedder than the bundled MiniLM. The pooling is
the file's own (`{arch}.pooling_type`) when it names one, and the mean over tokens
otherwise (a decoder has none). Vectors are L2-normalised.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from reverie.core.errors import ModelError
from reverie.models import _llama_log, hardware
from reverie.models.gguf import read_gguf

if TYPE_CHECKING:
    from llama_cpp import Llama

__all__ = ["GgufEmbedder"]

CONTEXT = 512
"""Tokens per text at most (and per batch): longer texts are truncated."""
_POOLING_UNSPECIFIED, _POOLING_MEAN = -1, 1  # llama.h's enum llama_pooling_type


class GgufEmbedder:
    """Implements `reverie.models.base.Embedder` over a GGUF model; loaded on first use."""

    def __init__(self, path: Path | str, *, name: str | None = None) -> None:
        """Read the header now (`ModelError` for a file that is not a usable GGUF);
        the weights load on the first `embed`. `name` defaults to the file's stem."""
        self._path = Path(path)
        info = read_gguf(self._path)
        if not info.embedding_length:
            raise ModelError(f"{self._path}: the header does not give the vector length")
        self._name = name or self._path.stem
        self._dim = info.embedding_length
        # The file's own pooling when it names one (-1 lets llama.cpp read it); without
        # one llama.cpp would give a vector per token, so the mean is asked for.
        self._pooling = _POOLING_UNSPECIFIED if info.pooling_type is not None else _POOLING_MEAN
        self._llama: Llama | None = None
        self._lock = threading.Lock()
        self._load_seconds: float | None = None

    @property
    def name(self) -> str:
        """A short, stable identifier; vectors of two names never mix."""
        return self._name

    @property
    def dim(self) -> int:
        """The length of each vector (the model's embedding length)."""
        return self._dim

    @property
    def path(self) -> Path:
        """The GGUF file."""
        return self._path

    @property
    def load_seconds(self) -> float | None:
        """How long loading took, or None before it is loaded."""
        return self._load_seconds

    def load(self) -> None:
        """Load now rather than on first use; raises `ModelError`."""
        with self._lock:
            self._loaded()

    def close(self) -> None:
        """Free the model; the next `embed` loads it again."""
        with self._lock:
            if self._llama is not None:
                self._llama.close()
                self._llama = None

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Vectors for `texts`: float32, shape (len(texts), dim), each of unit length."""
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        with self._lock:
            llama = self._loaded()
            # One text per call: a long text cannot crowd the others out of the
            # context, and batching was measured no faster (16 texts: 1.77 s one by
            # one, 1.87 s together, on 2 threads).
            rows = [llama.embed(text or " ", normalize=True, truncate=True) for text in texts]
        return np.asarray(rows, dtype=np.float32).reshape(len(texts), self._dim)

    def _loaded(self) -> Llama:
        if self._llama is not None:
            return self._llama
        started = time.perf_counter()
        self._llama = _llama_log.open_llama(
            f"Cannot load the embedding model {self._path}",
            model_path=str(self._path), embedding=True, n_ctx=CONTEXT, n_batch=CONTEXT,
            n_ubatch=CONTEXT, n_threads=hardware.cpu_count(),
            n_threads_batch=hardware.cpu_count(), pooling_type=self._pooling, n_gpu_layers=0,
            verbose=False,
        )
        self._load_seconds = time.perf_counter() - started
        return self._llama

