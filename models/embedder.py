"""The sentence embedder: a BERT-style ONNX graph run by onnxruntime on the CPU.

`onnxruntime` and `tokenizers` are imported on first load, not at module import.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from reverie.core.errors import ModelError
from reverie.core.native_imports import native_import
from reverie.models import hardware
from reverie.models.bundled import BUNDLED_EMBEDDER, BUNDLED_TOKENIZER

__all__ = ["OnnxEmbedder", "default_embedder"]

log = logging.getLogger("reverie.models.embedder")

MINILM_NAME = "all-MiniLM-L6-v2-int8"
"""The bundled embedder's name; stored with every vector in the index."""
MINILM_DIM = 384
"""The bundled embedder's vector length."""
MAX_TOKENS = 256
"""Longer texts are truncated: all-MiniLM-L6-v2 was trained on at most 256 tokens."""
BATCH_SIZE = 64
"""Texts per onnxruntime call."""

_OUTPUT = "last_hidden_state"
_KNOWN_INPUTS = frozenset({"input_ids", "attention_mask", "token_type_ids"})


@dataclass(frozen=True)
class _Runtime:
    session: Any  # onnxruntime.InferenceSession: untyped
    tokenizer: Any  # tokenizers.Tokenizer
    input_names: frozenset[str]


class OnnxEmbedder:
    """Mean-pooled, L2-normalised sentence vectors from a transformer ONNX graph.

    Implements `reverie.models.base.Embedder`. The graph must output
    `last_hidden_state` (batch, tokens, dim); the tokenizer is a Hugging Face
    `tokenizer.json`. Texts are sorted by length and padded only to the longest
    of their batch, which keeps short texts cheap; results come back in input order.
    Loaded on first use; `embed` may be called from several threads.
    """

    def __init__(
        self,
        model_path: Path | str,
        tokenizer_path: Path | str,
        *,
        name: str = MINILM_NAME,
        dim: int = MINILM_DIM,
        max_tokens: int = MAX_TOKENS,
        batch_size: int = BATCH_SIZE,
        threads: int | None = None,
    ) -> None:
        """Describe the embedder; nothing is read until the first use.

        `threads` (intra-op threads) defaults to the processors this process may use.
        """
        if max_tokens < 2 or batch_size < 1:
            raise ValueError("max_tokens must be at least 2 and batch_size at least 1")
        self._model_path = Path(model_path)
        self._tokenizer_path = Path(tokenizer_path)
        self._name = name
        self._dim = dim
        self._max_tokens = max_tokens
        self._batch_size = batch_size
        self._threads = threads or hardware.cpu_count()
        self._runtime: _Runtime | None = None
        self._load_seconds: float | None = None
        self._load_lock = threading.Lock()

    @property
    def name(self) -> str:
        """A short, stable identifier; vectors of two names never mix."""
        return self._name

    @property
    def dim(self) -> int:
        """The length of each vector."""
        return self._dim

    @property
    def model_path(self) -> Path:
        """The ONNX graph."""
        return self._model_path

    @property
    def tokenizer_path(self) -> Path:
        """The tokenizer.json file."""
        return self._tokenizer_path

    @property
    def is_loaded(self) -> bool:
        """Whether the graph and tokenizer are in memory."""
        return self._runtime is not None

    @property
    def load_seconds(self) -> float | None:
        """How long loading took, or None before it is loaded."""
        return self._load_seconds

    def load(self) -> None:
        """Load now rather than on first use; raises `ModelError`."""
        self._loaded()

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Vectors for `texts`: float32, shape (len(texts), dim), each of unit length."""
        if isinstance(texts, str):
            # A str is a Sequence[str] too: it would be embedded character by character.
            raise TypeError("embed() takes a sequence of texts, not a single str")
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        runtime = self._loaded()
        encodings = runtime.tokenizer.encode_batch(list(texts))
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(texts))
        # A stable sort keeps equal-length texts in input order; batches of similar
        # lengths waste little work on padding.
        order = np.argsort(lengths, kind="stable")
        result = np.empty((len(texts), self._dim), dtype=np.float32)
        for start in range(0, len(order), self._batch_size):
            indices = order[start : start + self._batch_size]
            result[indices] = self._embed_batch(runtime, [encodings[i] for i in indices])
        return result

    def _embed_batch(self, runtime: _Runtime, encodings: Sequence[Any]) -> npt.NDArray[np.float32]:
        width = max(len(e.ids) for e in encodings)
        input_ids = np.zeros((len(encodings), width), dtype=np.int64)
        attention_mask = np.zeros_like(input_ids)
        for row, encoding in enumerate(encodings):
            input_ids[row, : len(encoding.ids)] = encoding.ids
            attention_mask[row, : len(encoding.ids)] = 1
        feed = {"input_ids": input_ids, "attention_mask": attention_mask}
        if "token_type_ids" in runtime.input_names:
            # One segment per text: all zeros, as BERT expects for single sentences.
            feed["token_type_ids"] = np.zeros_like(input_ids)
        feed = {name: value for name, value in feed.items() if name in runtime.input_names}
        (hidden,) = runtime.session.run([_OUTPUT], feed)
        hidden = np.asarray(hidden, dtype=np.float32)
        mask = attention_mask[:, :, np.newaxis].astype(np.float32)
        summed = (hidden * mask).sum(axis=1)
        pooled = summed / np.maximum(mask.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        normalised: npt.NDArray[np.float32] = (pooled / np.maximum(norms, 1e-12)).astype(
            np.float32
        )
        return normalised

    def _loaded(self) -> _Runtime:
        runtime = self._runtime
        if runtime is not None:
            return runtime
        with self._load_lock:
            if self._runtime is None:
                started = time.perf_counter()
                self._runtime = self._load()
                self._load_seconds = time.perf_counter() - started
                log.info("loaded %s in %.2f s", self._model_path, self._load_seconds)
            return self._runtime

    def import_runtime(self) -> None:
        """Import ONNX Runtime and tokenizers now (`NativeRuntime`); the model itself
        still loads on first use."""
        try:
            # Native libraries, loaded on demand (see the module docstring).
            with native_import():
                import onnxruntime  # noqa: F401
                import tokenizers  # noqa: F401
        except (ImportError, OSError) as error:
            raise ModelError(f"The embedding runtime cannot be loaded: {error}") from error

    def _load(self) -> _Runtime:
        self.import_runtime()
        import onnxruntime  # imported just now: these cost nothing
        from tokenizers import Tokenizer

        try:
            tokenizer = Tokenizer.from_file(str(self._tokenizer_path))
        except Exception as error:  # tokenizers raises plain Exception for bad files
            raise ModelError(
                f"Cannot load the embedder's tokenizer {self._tokenizer_path}: {error}"
            ) from error
        # The shipped tokenizer.json pads every text to 128 tokens and truncates there:
        # we pad per batch ourselves and allow the model's full 256.
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=self._max_tokens)

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self._threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle worker threads would otherwise spin after each call, burning a desktop's
        # CPU and slowing a concurrent LLM generation; the cost here is a little latency.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            session = onnxruntime.InferenceSession(
                str(self._model_path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # onnxruntime's pybind errors share no useful base
            raise ModelError(
                f"Cannot load the embedding model {self._model_path}: {error}"
            ) from error
        return _Runtime(session, tokenizer, self._check_graph(session))

    def _check_graph(self, session: Any) -> frozenset[str]:
        inputs = frozenset(str(i.name) for i in session.get_inputs())
        unknown = inputs - _KNOWN_INPUTS
        if "input_ids" not in inputs or unknown:
            raise ModelError(
                f"{self._model_path} is not a supported embedding model: its inputs are "
                f"{sorted(inputs)}, expected input_ids, attention_mask, token_type_ids"
            )
        outputs = {str(o.name): o.shape for o in session.get_outputs()}
        shape = outputs.get(_OUTPUT)
        if shape is None or shape[-1] != self._dim:
            raise ModelError(
                f"{self._model_path} is not a supported embedding model: expected an output "
                f"{_OUTPUT} of width {self._dim}, found {outputs}"
            )
        return inputs


def default_embedder() -> OnnxEmbedder:
    """The bundled all-MiniLM-L6-v2 (int8), located and verified but not yet loaded.

    Raises `ModelError` when the bundled model or its tokenizer is missing or damaged.
    """
    return OnnxEmbedder(BUNDLED_EMBEDDER.verify(), BUNDLED_TOKENIZER.verify())


if TYPE_CHECKING:
    from reverie.models.base import Embedder

    def _implements_protocol(model: OnnxEmbedder) -> Embedder:
        # mypy checks here that OnnxEmbedder conforms to the Embedder protocol.
        return model
