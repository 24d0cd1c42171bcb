"""The chat's conversation list: list, open and continue, rename, delete with a preview."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest

from reverie.core.chat.conversations import PAGE, TITLE_CHARS, shorten
from reverie.core.chat.session import Conversation
from reverie.core.errors import BadInput
from reverie.core.service import Reverie
from reverie.models.base import ChatMessage
from tests.doubles import ScriptedLLM

FACT = "I adopted a grey cat called Miso"


class FactLLM(ScriptedLLM):
    """Answers chat with a fixed sentence; asked for facts, states `FACT` if the message
    holds it (extraction quality is the real model's concern, not this test's)."""

    def __init__(self) -> None:
        super().__init__(lambda _messages: "That sounds lovely.")

    def chat(self, messages: Sequence[ChatMessage], *, max_tokens: int,
             json_schema: Mapping[str, Any] | None = None, **kwargs: Any) -> str:
        if json_schema is None:
            return super().chat(messages, max_tokens=max_tokens, **kwargs)
        facts = ([{"kind": "fact", "text": FACT}]
                 if FACT in messages[-1]["content"] else [])
        return json.dumps({"facts": facts})


def chat_in(reverie: Reverie, *messages: str) -> Conversation:
    conversation = reverie.new_conversation()
    for text in messages:
        reverie.chat(conversation, text)
    return conversation


def test_the_list_shows_conversations_newest_first_with_title_date_and_turns(
    open_store: Callable[..., Reverie],
) -> None:
    reverie = open_store(llm=ScriptedLLM(lambda _m: "Noted."))
    long_first = "Could you help me plan the garden for spring, with roses along the fence?"
    older = chat_in(reverie, long_first, "And tulips?")
    # Begun within the same second as `older`: ties are broken by the order of turns.
    newer = chat_in(reverie, "What did I cook last Sunday?")

    rows = reverie.conversations.list()
    assert [row.source_id for row in rows] == [newer.source_id, older.source_id]
    assert rows[0].title == "What did I cook last Sunday?"
    assert [row.turns for row in rows] == [2, 4]
    assert not rows[1].named
    assert rows[1].title == shorten(long_first)
    assert rows[1].title.endswith("…")
    assert len(rows[1].title) <= TITLE_CHARS
    assert long_first.startswith(rows[1].title[:-1])
    assert rows[0].last_turn >= rows[1].last_turn

    # Paged: the second page holds the rest, a bad page is refused.
    assert [r.source_id for r in reverie.conversations.list(1, 1)] == [older.source_id]
    assert reverie.conversations.list(2, PAGE) == []
    with pytest.raises(BadInput):
        reverie.conversations.list(0, 0)


def test_an_opened_conversation_shows_its_turns_and_continues_with_its_history(
    open_store: Callable[..., Reverie],
) -> None:
    llm = ScriptedLLM(lambda _m: "Noted.")
    reverie = open_store(llm=llm)
    first = chat_in(reverie, "My sister Ana moves to Porto in May.")
    # An answer stopped before its first word is not stored: its place stays taken.
    first.history.append({"role": "user", "content": "(stopped)"})
    first.history.append({"role": "assistant", "content": ""})

    opened = reverie.conversations.open(first.source_id)
    assert [(t.speaker, t.text) for t in opened.turns] == [
        ("user", "My sister Ana moves to Porto in May."), ("Reverie", "Noted."),
    ]
    assert opened.earlier == 0
    assert opened.conversation.history == [
        {"role": "user", "content": "My sister Ana moves to Porto in May."},
        {"role": "assistant", "content": "Noted."},
    ]

    # A fresh object, as the app gets it from a job: the model sees the history, and
    # the new turns take new places after every stored one.
    calls = len(llm.calls)
    reverie.chat(opened.conversation, "I will send her a card before she moves.")
    assert len(llm.calls) == calls + 1
    asked = [m["content"] for m in llm.calls[-1]]
    assert "My sister Ana moves to Porto in May." in asked
    assert "Noted." in asked
    rows = reverie.store.ledger.query(
        "SELECT locator FROM episodes WHERE source_id = ? ORDER BY seq", (first.source_id,))
    assert [r[0] for r in rows] == ["1", "2", "3", "4"]
    assert reverie.conversations.get(first.source_id).turns == 4

    with pytest.raises(BadInput, match="no longer stored"):
        reverie.conversations.open("src_missing")


def test_a_renamed_conversation_keeps_its_turns_and_its_own_turns_stay_out_of_answers(
    open_store: Callable[..., Reverie],
) -> None:
    llm = ScriptedLLM(lambda _m: "Noted.")
    reverie = open_store(llm=llm)
    conversation = chat_in(reverie, "The plumber Jonas comes on Thursday about the leak.")
    before = reverie.store.ledger.query(
        "SELECT id FROM episodes WHERE source_id = ?", (conversation.source_id,))

    renamed = reverie.conversations.rename(conversation.source_id, "  Kitchen   leak ")
    assert renamed.title == "Kitchen leak"
    assert renamed.named
    assert renamed.source_id == conversation.source_id
    assert reverie.conversations.list()[0].title == "Kitchen leak"
    after = reverie.store.ledger.query(
        "SELECT id FROM episodes WHERE source_id = ?", (conversation.source_id,))
    assert [r[0] for r in after] == [r[0] for r in before]

    # Going on in the same (stale-named) object: its turns are still the chat itself,
    # not memories to answer from, and they land in the same source.
    answer = reverie.chat(conversation, "I still worry about the plumber Jonas and the leak.")
    assert not answer.abstained
    assert all(s.source != "Kitchen leak" for hit in answer.used for s in hit.sources)
    assert reverie.conversations.get(conversation.source_id).turns == 4

    for bad in ("   ", "x" * 500):
        with pytest.raises(BadInput):
            reverie.conversations.rename(conversation.source_id, bad)
    assert reverie.conversations.get(conversation.source_id).title == "Kitchen leak"
    with pytest.raises(BadInput, match="no longer stored"):
        reverie.conversations.rename("src_missing", "Anything")


def test_deleting_a_conversation_previews_the_memories_taken_from_it_then_forgets_all(
    open_store: Callable[..., Reverie],
) -> None:
    reverie = open_store(llm=FactLLM())
    kept = chat_in(reverie, "Just saying hello.")
    doomed = chat_in(reverie, f"{FACT} last weekend.")
    reverie.extract_pending()
    memories = reverie.store.ledger.query("SELECT id, text FROM memories")
    assert len(memories) == 1
    assert "Miso" in memories[0]["text"]

    deletion = reverie.conversations.plan_delete(doomed.source_id)
    assert len(deletion.plan.episode_ids) == 2
    assert deletion.memories == (memories[0]["text"],)
    described = deletion.describe()
    assert "2 turns and 1 memory" in described
    assert "cannot be undone" in described
    assert reverie.counts()["episodes"] == 4  # a preview changes nothing

    changes = reverie.conversations.delete(deletion)
    assert changes.episodes_removed == 2
    assert changes.memories_removed == 1
    assert [r.source_id for r in reverie.conversations.list()] == [kept.source_id]
    assert reverie.store.ledger.query("SELECT COUNT(*) FROM memories")[0][0] == 0
    assert not reverie.store.ledger.query(
        "SELECT 1 FROM sources WHERE id = ?", (doomed.source_id,))
    with pytest.raises(BadInput, match="no longer stored"):
        reverie.conversations.plan_delete(doomed.source_id)

    # The deleted conversation, still open somewhere, takes no new turn.
    with pytest.raises(BadInput, match="was deleted"):
        reverie.chat(doomed, "One more thing about Miso.")
    assert not reverie.store.ledger.query(
        "SELECT 1 FROM sources WHERE id = ?", (doomed.source_id,))
    assert reverie.new_conversation().source_id != doomed.source_id

    none_taken = reverie.conversations.plan_delete(kept.source_id)
    assert none_taken.memories == ()
    assert "no memory was taken from it" in none_taken.describe()


def test_a_deletion_that_would_now_forget_more_than_its_preview_is_refused(
    open_store: Callable[..., Reverie],
) -> None:
    reverie = open_store(llm=FactLLM())
    conversation = chat_in(reverie, "Hello there.")
    deletion = reverie.conversations.plan_delete(conversation.source_id)
    assert deletion.memories == ()
    reverie.chat(conversation, f"{FACT} yesterday.")
    reverie.extract_pending()  # a memory now comes from it: the preview did not say so
    with pytest.raises(BadInput, match="changed since the preview"):
        reverie.conversations.delete(deletion)
    assert reverie.conversations.get(conversation.source_id).turns == 4
    assert reverie.store.ledger.query("SELECT COUNT(*) FROM memories")[0][0] == 1
