"""Chat prompts: the conversation so far plus the memories retrieved for it.

A pure function of its inputs. The memories come first in priority, then as much of the
conversation as fits, newest first, all counted in the model's own tokens. The memories
go into the last user message, right above the question: the bundled 135M model uses
them more often there than in the system message (bench/qa.py, docs/retrieval.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reverie.core.types import Hit
from reverie.models.base import ChatMessage

SYSTEM = (
    "You are Reverie, a private memory assistant running on the user's own computer. "
    "Answer in one or two short sentences, using only what you remember. If that does "
    "not hold the answer to a question about the user's past, say that you don't "
    "remember it. Never invent facts."
)
NO_MEMORIES = "What you remember: nothing about this message."
PROMPT_HEADINGS = ("\nWhat you remember:", "\nMessage:")


@dataclass(frozen=True)
class PromptPlan:
    """The messages to send, which hits made it into them, and where an answer ends."""

    messages: list[ChatMessage]
    hits: tuple[Hit, ...]
    # A small model that has said its piece goes on to write the next turn of the
    # memories ("\nSam said: …") or a new prompt: those texts end the answer.
    stops: tuple[str, ...] = ()


def memory_line(hit: Hit) -> str:
    """How one retrieved item is shown to the model: a dated line, unnumbered.

    Numbered lines ("[3] (2023-05-08) …") were copied into answers by the bundled model;
    which items an answer used is worked out from its words instead (`support.py`).
    """
    who = f"{hit.speaker} said: " if hit.speaker else ""
    day = f"{hit.time.day} {hit.time:%B %Y}"  # as people write dates, and so answer them
    return f"- On {day}, {who}{' '.join(hit.text.split())}"


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
        line = memory_line(hit)
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
    memories = "What you remember:\n" + "\n".join(lines) if lines else NO_MEMORIES
    system: ChatMessage = {"role": "system", "content": SYSTEM}
    user: ChatMessage = {"role": "user", "content": f"{memories}\n\nMessage: {user_text}"}
    speakers = dict.fromkeys(hit.speaker for hit in kept if hit.speaker)
    stops = (*PROMPT_HEADINGS, *(f"\n{speaker} said:" for speaker in speakers))
    return PromptPlan([system, *turns, user], tuple(kept), stops)


_HEADING = re.compile(r"^[^\n:]{0,60}:[ \t]*\n")  # "You remember:", "The user's past:"
_LATER_TURN = re.compile(r"\n\s*(?:- |[A-Z][\w .'-]{0,40} (?:said|says):)")


def trim_answer(answer: str) -> str:
    """The answer without the memory list it went on to copy or turns it invented.

    A small model sometimes answers by copying the prompt: a heading line ("You
    remember:"), then the memory lines. The first line is the answer (a quote of the memory it
    found); the lines after it, and any turn written for someone else, are cut.
    Known speakers already stop generation (`PromptPlan.stops`); this also catches
    names the model made up.
    """
    answer = _HEADING.sub("", answer).lstrip("- ")
    later = _LATER_TURN.search(answer)
    return (answer[: later.start()] if later else answer).strip()
