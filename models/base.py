"""The two model interfaces the engine depends on, and the values they exchange.

Each has one real implementation (`LlamaCppLLM`, `OnnxEmbedder`) and test doubles in
tests/. Keep these small: the engine must not care which runtime is behind them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypedDict, runtime_checkable

import numpy as np


class ChatMessage(TypedDict):
    """One message of a chat prompt."""

    role: str  # "system", "user" or "assistant"
    content: str


TokenCallback = Callable[[str], None]


class LLM(Protocol):
    """A local chat model."""

    @property
    def name(self) -> str:
        """A short, stable identifier of the model (file name without extension)."""
        ...

    def count_tokens(self, text: str) -> int:
        """How many of this model's tokens `text` takes."""
        ...

    @property
    def context_size(self) -> int:
        """The context window, in tokens, the model was loaded with."""
        ...

    def chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float = 0.0,
        json_schema: Mapping[str, Any] | None = None,
        on_token: TokenCallback | None = None,
        cancel: threading.Event | None = None,
        stop: Sequence[str] = (),
    ) -> str:
        """Generate the assistant's reply.

        With `json_schema` the output is constrained to that schema by a grammar.
        `on_token` receives each piece of text as it is generated. When `cancel` is set
        generation stops and `reverie.core.errors.Cancelled` is raised. Generation also
        ends before any of the `stop` texts, which is neither returned nor streamed.
        Calls are serialised: one generation at a time per model.
        """
        ...


@runtime_checkable
class NativeRuntime(Protocol):
    """A model whose native library can be imported before the model is first used.

    Importing llama.cpp or ONNX Runtime holds the GIL for 100 ms and more (loading the
    shared library); the app does it while it opens, not in the middle of the user's
    first import or question.
    """

    def import_runtime(self) -> None:
        """Import the runtime library (not the model: that still loads on first use)."""
        ...


class Embedder(Protocol):
    """A sentence embedder producing L2-normalised vectors."""

    @property
    def name(self) -> str:
        """A short, stable identifier of the model; vectors of two names never mix."""
        ...

    @property
    def dim(self) -> int:
        """The length of each vector."""
        ...

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for `texts`: float32, shape (len(texts), dim), each of unit length."""
        ...


@dataclass(frozen=True)
class RoleModels:
    """The language model doing each job; one model may do several."""

    chat: LLM
    extraction: LLM
    consolidation: LLM

    @classmethod
    def same(cls, llm: LLM) -> RoleModels:
        """One model for every job."""
        return cls(llm, llm, llm)

    def distinct(self) -> list[LLM]:
        """Each model once, in role order."""
        seen: dict[int, LLM] = {}
        for llm in (self.chat, self.extraction, self.consolidation):
            seen.setdefault(id(llm), llm)
        return list(seen.values())
