"""Test doubles for the model interfaces: fast, scripted, honest about what they fake.

Use them only for the logic around a model (prompt assembly, grounding, threading);
tests of behaviour that depends on the model use the real bundled one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from reverie.core.errors import Cancelled
from reverie.models.base import ChatMessage, TokenCallback


class ScriptedLLM:
    """An `LLM` that answers with `reply(messages)`, streamed word by word."""

    def __init__(self, reply: Callable[[Sequence[ChatMessage]], str]) -> None:
        self._reply = reply
        self.calls: list[list[ChatMessage]] = []
        self.schemas: list[Mapping[str, Any] | None] = []

    @property
    def name(self) -> str:
        return "scripted"

    @property
    def context_size(self) -> int:
        return 2048

    def count_tokens(self, text: str) -> int:
        return max(1, len(text) // 4)

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
        self.calls.append(list(messages))
        self.schemas.append(json_schema)
        text = self._reply(messages)
        for marker in stop:  # as a real model: the text ends before a stop text
            text = text.split(marker, 1)[0]
        pieces = text.split(" ")
        for i, piece in enumerate(pieces):
            if cancel is not None and cancel.is_set():
                raise Cancelled("cancelled")
            if on_token is not None:
                on_token(piece if i == 0 else " " + piece)
        return text
