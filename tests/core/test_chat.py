"""Chat: answers from memory, turns stored as episodes, cancellation leaves no damage."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from reverie.core.chat.prompt import build_chat_prompt, trim_answer
from reverie.core.chat.session import DONT_REMEMBER
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
    assert "nothing about this message" in plan.messages[-1]["content"]


def test_answer_uses_retrieved_memories_and_stores_both_turns(
    open_store: Callable[..., Reverie], sample_chat: Path
) -> None:
    llm = ScriptedLLM(lambda messages: "You booked the Thai place on Elm Street.")
    reverie = open_store(llm=llm)
    reverie.import_file(sample_chat, extract=False)
    conversation = reverie.new_conversation()
    tokens: list[str] = []
    answer = reverie.chat(conversation, "Where is Friday's dinner?", on_token=tokens.append)
    assert "".join(tokens) == answer.text
    asked = llm.calls[0][-1]["content"]
    assert "Thai place on Elm Street" in asked
    assert answer.cited
    assert "Thai place" in answer.cited[0].text
    assert answer.grounded
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
    assert answer.text in "".join(tokens)  # what was streamed, less any copied heading
    assert answer.used


def test_memories_given_to_an_answer_count_as_recalled(
    open_store: Callable[..., Reverie],
) -> None:
    llm = ScriptedLLM(lambda messages: "Your kitten is called Pepper.")
    reverie = open_store(llm=llm)
    memory_id, _ = reverie.memories.add("I adopted a grey kitten called Pepper.")
    reverie.chat(reverie.new_conversation(), "What is my kitten called?")
    row = reverie.store.ledger.query(
        "SELECT recalls, last_recalled FROM memories WHERE id = ?", (memory_id,))[0]
    assert row["recalls"] == 1
    assert row["last_recalled"] is not None


def test_a_question_memory_cannot_answer_is_not_put_to_the_model(
    open_store: Callable[..., Reverie], sample_chat: Path
) -> None:
    llm = ScriptedLLM(lambda messages: "Your dog is called Rex.")
    reverie = open_store(llm=llm)
    reverie.import_file(sample_chat, extract=False)
    conversation = reverie.new_conversation()
    tokens: list[str] = []
    answer = reverie.chat(conversation, "What is the name of my dog?", on_token=tokens.append)
    assert answer.text == DONT_REMEMBER == "".join(tokens)
    assert answer.abstained
    assert not answer.used
    assert not answer.cited
    assert llm.calls == []
    # Both turns are still part of the conversation, in memory and on the timeline.
    assert [m["role"] for m in conversation.history] == ["user", "assistant"]
    # A message that is not a question is answered even with nothing to go on.
    assert reverie.chat(conversation, "Thanks, good night").text == "Your dog is called Rex."


def test_an_answer_that_goes_on_to_invent_turns_is_cut(
    open_store: Callable[..., Reverie], sample_chat: Path
) -> None:
    llm = ScriptedLLM(
        lambda messages: "Dairy upset your stomach.\nSam said: Let's run.\nZed said: Hi.")
    reverie = open_store(llm=llm)
    reverie.import_file(sample_chat, extract=False)
    answer = reverie.chat(reverie.new_conversation(), "Why did I switch to oat milk?")
    assert answer.text == "Dairy upset your stomach."
    assert [s.ref for s in answer.cited[0].sources] == ["s2-1"]
    assert trim_answer("Quote.\nZed Smith said: made up") == "Quote."


def test_an_answer_in_none_of_the_memories_is_marked_not_grounded(
    open_store: Callable[..., Reverie], sample_chat: Path
) -> None:
    llm = ScriptedLLM(lambda messages: "You bought a red bicycle in Vienna.")
    reverie = open_store(llm=llm)
    reverie.import_file(sample_chat, extract=False)
    answer = reverie.chat(reverie.new_conversation(), "Why did I switch to oat milk?")
    assert answer.used
    assert not answer.cited
    assert not answer.grounded


@pytest.mark.slow
@pytest.mark.parametrize(("question", "words", "ref"), [
    ("Why did I switch to oat milk?", {"dairy", "stomach"}, "s2-1"),
    ("What race is Sam training for?", {"lisbon", "marathon"}, "s1-4"),
])
def test_real_model_answers_from_memory_and_cites_the_turn(
    open_store: Callable[..., Reverie], sample_chat: Path,
    question: str, words: set[str], ref: str,
) -> None:
    reverie = open_store()
    reverie.import_file(sample_chat, extract=False)
    answer = reverie.chat(reverie.new_conversation(), question)
    assert words & set(answer.text.lower().replace(".", " ").split()), answer.text
    assert answer.cited, answer.text
    assert ref in [source.ref for source in answer.cited[0].sources]
    assert answer.grounded


@pytest.mark.slow
def test_real_model_says_it_does_not_remember_what_memory_lacks(
    open_store: Callable[..., Reverie], sample_chat: Path
) -> None:
    reverie = open_store()
    reverie.import_file(sample_chat, extract=False)
    answer = reverie.chat(reverie.new_conversation(), "Where did I go skiing last winter?")
    assert answer.abstained
    assert "don't remember" in answer.text


def test_a_copied_memory_list_is_cut_to_its_first_line() -> None:
    copied = "You remember:\n- On 5 March 2026, Sam said: dairy.\n- On 8 March 2026, Alex said: x"
    assert trim_answer(copied) == "On 5 March 2026, Sam said: dairy."
    assert trim_answer("The user's past:\n- dairy.\n- x") == "dairy."
    assert trim_answer("Alex said: the Riverside studio.") == "Alex said: the Riverside studio."


def test_ask_answers_as_the_chat_would_and_stores_nothing(
    open_store: Callable[..., Reverie], sample_chat: Path
) -> None:
    reverie = open_store(llm=ScriptedLLM(lambda messages: "Dairy upsets your stomach."))
    reverie.import_file(sample_chat, extract=False)
    before = reverie.counts()
    reply = reverie.ask("Why did I switch to oat milk?")
    assert [source.ref for source in reply.cited[0].sources] == ["s2-1"]
    assert reverie.ask("Where did I go skiing?").abstained
    hits, supported = reverie.memories_for("Where did I go skiing?")
    assert hits
    assert not supported
    assert reverie.counts() == before
    with pytest.raises(BadInput):
        reverie.ask("  ")
