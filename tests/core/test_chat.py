"""Chat: answers from memory, turns stored as episodes, cancellation leaves no damage."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from reverie.core.chat.prompt import build_chat_prompt, cited_numbers
from reverie.core.errors import BadInput, Cancelled
from reverie.core.service import Reverie
from reverie.models.base import ChatMessage
from tests.doubles import ScriptedLLM


def test_prompt_keeps_memories_within_budget_and_drops_oldest_history() -> None:
    history: list[ChatMessage] = [
        {"role": "user", "content": "old " * 200}, {"role": "assistant", "content": "recent"},
    ]
    plan = build_chat_prompt(
        history, "question?", [], budget_tokens=150, count_tokens=lambda t: len(t.split())
    )
    contents = [m["content"] for m in plan.messages]
    assert "recent" in contents
    assert all("old old" not in c for c in contents)
    assert "none found" in plan.messages[0]["content"]
    assert cited_numbers("see [2] and [9] and [2]", available=3) == [2]


def test_answer_uses_retrieved_memories_and_stores_both_turns(
    open_store: Callable[..., Reverie], sample_chat: Path
) -> None:
    llm = ScriptedLLM(lambda messages: "You booked the Thai place on Elm Street [1].")
    reverie = open_store(llm=llm)
    reverie.import_file(sample_chat, extract=False)
    conversation = reverie.new_conversation()
    tokens: list[str] = []
    answer = reverie.chat(conversation, "Where is Friday's dinner?", on_token=tokens.append)
    assert "".join(tokens) == answer.text
    system = llm.calls[0][0]["content"]
    assert "Thai place on Elm Street" in system
    assert answer.cited
    assert answer.cited[0] == answer.used[0]
    rows = reverie.store.ledger.query(
        "SELECT speaker, locator, extracted FROM episodes e JOIN sources s ON s.id = e.source_id"
        " WHERE s.name = ? ORDER BY e.seq", (conversation.name,)
    )
    assert [(r["speaker"], r["locator"], r["extracted"]) for r in rows] == [
        ("user", "1", 0), ("Reverie", "2", 1),
    ]


def test_cancelled_answer_leaves_a_usable_conversation(
    open_store: Callable[..., Reverie],
) -> None:
    cancel = threading.Event()
    calls: list[int] = []

    def reply(messages: Sequence[ChatMessage]) -> str:
        calls.append(1)
        if len(calls) == 1:
            cancel.set()  # the user presses Stop while the first answer streams
        return "hi"

    reverie = open_store(llm=ScriptedLLM(reply))
    conversation = reverie.new_conversation()
    with pytest.raises(Cancelled):
        reverie.chat(conversation, "hello there", cancel=cancel)
    cancel.clear()
    assert reverie.chat(conversation, "hello again", cancel=cancel).text == "hi"
    assert reverie.counts()["episodes"] == 3


def test_empty_message_is_refused(open_store: Callable[..., Reverie]) -> None:
    reverie = open_store(llm=ScriptedLLM(lambda m: "x"))
    with pytest.raises(BadInput):
        reverie.chat(reverie.new_conversation(), "   ")
    assert reverie.counts()["episodes"] == 0


@pytest.mark.slow
def test_real_model_streams_an_answer(
    open_store: Callable[..., Reverie], sample_chat: Path
) -> None:
    reverie = open_store()
    reverie.import_file(sample_chat, extract=False)
    tokens: list[str] = []
    answer = reverie.chat(
        reverie.new_conversation(), "What did I sign up for?", on_token=tokens.append
    )
    assert len(tokens) > 3
    assert "".join(tokens).strip() == answer.text
    assert answer.used


def test_memories_given_to_an_answer_count_as_recalled(
    open_store: Callable[..., Reverie],
) -> None:
    llm = ScriptedLLM(lambda messages: "Your kitten is called Pepper [1].")
    reverie = open_store(llm=llm)
    memory_id, _ = reverie.memories.add("I adopted a grey kitten called Pepper.")
    reverie.chat(reverie.new_conversation(), "What is my kitten called?")
    row = reverie.store.ledger.query(
        "SELECT recalls, last_recalled FROM memories WHERE id = ?", (memory_id,))[0]
    assert row["recalls"] == 1
    assert row["last_recalled"] is not None
