"""Chat prompts: the conversation so far plus the memories retrieved for it.

A pure function of its inputs. The memories come first in priority, then as much of the
conversation as fits, newest first, all counted in the model's own tokens.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reverie.core.types import Hit
from reverie.models.base import ChatMessage

SYSTEM = (
    "You are Reverie, a private memory assistant running on the user's own computer. "
    "Answer the user's message briefly. Use the numbered memories below when they help, "
    "and cite each one you use as [n]. If the memories do not hold the answer to a "
    "question about the user's past, say that you don't remember it. Never invent facts."
)
NO_MEMORIES = "Memories: none found for this message."


@dataclass(frozen=True)
class PromptPlan:
    """The messages to send and which hits made it into them, numbered from 1."""

    messages: list[ChatMessage]
    hits: tuple[Hit, ...]


def memory_line(number: int, hit: Hit) -> str:
    """How one retrieved item is shown to the model."""
    who = f"{hit.speaker} said: " if hit.speaker else ""
    return f"[{number}] ({hit.time.date().isoformat()}) {who}{' '.join(hit.text.split())}"


def build_chat_prompt(
    history: Sequence[ChatMessage],
    user_text: str,
    hits: Sequence[Hit],
    *,
    budget_tokens: int,
    count_tokens: Callable[[str], int],
) -> PromptPlan:
    """Fit system text, memories, history and the new message into `budget_tokens`."""
    used = count_tokens(SYSTEM) + count_tokens(user_text) + 16
    lines: list[str] = []
    kept: list[Hit] = []
    for hit in hits:
        line = memory_line(len(kept) + 1, hit)
        cost = count_tokens(line) + 2
        if used + cost > budget_tokens * 2 // 3:
            break
        lines.append(line)
        kept.append(hit)
        used += cost
    turns: list[ChatMessage] = []
    for message in reversed(history):
        cost = count_tokens(message["content"]) + 4
        if used + cost > budget_tokens:
            break
        turns.insert(0, message)
        used += cost
    memories = "Memories:\n" + "\n".join(lines) if lines else NO_MEMORIES
    system: ChatMessage = {"role": "system", "content": f"{SYSTEM}\n\n{memories}"}
    user: ChatMessage = {"role": "user", "content": user_text}
    return PromptPlan([system, *turns, user], tuple(kept))


_CITATION = re.compile(r"\[(\d{1,3})\]")


def cited_numbers(answer: str, available: int) -> list[int]:
    """The memory numbers an answer cites as [n], in order of first mention."""
    found = (int(m.group(1)) for m in _CITATION.finditer(answer))
    return list(dict.fromkeys(n for n in found if 1 <= n <= available))
