"""Keeping a prompt family's evaluated state across calls of another family.

llama.cpp reuses whatever prefix the new prompt shares with the tokens already in its
context: consecutive extraction calls, which share a long fixed prefix (system prompt and
worked examples), only evaluate their last message. A chat answer in between replaces
that context, and the next extraction call would evaluate the whole prefix again (about
600 tokens: a second on this machine's CPU for the 135M model, many seconds for a 7B
model). So when the family of prompts changes (told apart by their system message), the
state of a family that was being reused is saved, and a family coming back gets its
state loaded; llama-cpp then evaluates only what differs. One family is kept: a saved
state holds the model's KV cache and its score buffer (tens of MB for the bundled model).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from reverie.models.base import ChatMessage

if TYPE_CHECKING:
    from llama_cpp import Llama
    from llama_cpp.llama import LlamaState

MIN_REUSES = 2  # a family is worth saving once it has been called this many times in a row


def prompt_family(messages: Sequence[ChatMessage]) -> str:
    """What a prompt shares with its kind: a digest of its system message."""
    system = messages[0]["content"] if messages and messages[0]["role"] == "system" else ""
    return hashlib.sha1(system.encode("utf-8")).hexdigest()[:16]


class PrefixStates:
    """The saved state of one prompt family; not thread-safe (the caller holds the model's
    generation lock)."""

    def __init__(self) -> None:
        self._current: str | None = None
        self._run = 0  # calls of the current family in a row
        self._saved: tuple[str, LlamaState] | None = None
        self.loads = 0
        self.saves = 0

    def before(self, llama: Llama, family: str) -> None:
        """Call before evaluating a prompt of `family`: save and restore as needed."""
        if family == self._current:
            self._run += 1
            return
        if self._current is not None and self._run >= MIN_REUSES:
            self._saved = (self._current, llama.save_state())
            self.saves += 1
        if self._saved is not None and self._saved[0] == family:
            llama.load_state(self._saved[1])
            self.loads += 1
        self._current, self._run = family, 1

    def forget(self) -> None:
        """Drop the saved state (the model is being closed)."""
        self._current, self._run, self._saved = None, 0, None
