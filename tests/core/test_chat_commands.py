""""Remember that …" and "forget …" in chat: proposed, then done only on confirmation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from reverie.core.chat.commands import ForgetProposal, RememberProposal, parse_command
from reverie.core.service import Reverie
from tests.doubles import ScriptedLLM


@pytest.mark.parametrize(("text", "expected"), [
    ("Remember that my locker code is 4711", ("remember", "my locker code is 4711")),
    ("please remember: Maya's birthday is 3 May.", ("remember", "Maya's birthday is 3 May")),
    ("remember to call Mum on Sunday", ("remember", "to call Mum on Sunday")),
    ("Forget my locker code", ("forget", "my locker code")),
    ("forget about the pottery class!", ("forget", "the pottery class")),
    ("Do you remember where I parked?", None),
    ("I always forget my keys", None),
    ("What should I remember for the trip", None),
])
def test_commands_are_told_from_ordinary_messages(
    text: str, expected: tuple[str, str] | None
) -> None:
    assert parse_command(text) == expected


def episodes(reverie: Reverie) -> int:
    return int(reverie.store.ledger.query("SELECT COUNT(*) FROM episodes")[0][0])


def test_remember_waits_for_confirmation_and_is_never_a_turn(
    open_store: Callable[..., Reverie],
) -> None:
    llm = ScriptedLLM(lambda messages: "unused")
    reverie = open_store(llm=llm)
    conversation = reverie.new_conversation()
    answer = reverie.chat(conversation, "Remember that my locker code is 4711")
    assert isinstance(answer.proposal, RememberProposal)
    assert answer.text == "Shall I remember this? “My locker code is 4711.”"
    assert reverie.counts()["memories"] == 0  # nothing until the user says yes
    assert episodes(reverie) == 0
    assert not llm.calls
    reply, changes = reverie.confirm_chat(answer.proposal)
    assert changes.memories_added == 1
    assert "Remembered" in reply
    hits = reverie.search("locker code", k=3)
    assert hits[0].text == "My locker code is 4711."
    assert episodes(reverie) == 0


def test_forget_in_chat_removes_the_memory_and_its_turn_after_confirmation(
    open_store: Callable[..., Reverie], sample_chat: Path,
) -> None:
    reverie = open_store(llm=ScriptedLLM(lambda messages: "unused"))
    reverie.import_file(sample_chat, extract=False)
    memory_id, _ = reverie.memories.add("My gym locker code is 4711")
    before = episodes(reverie)
    conversation = reverie.new_conversation()
    answer = reverie.chat(conversation, "Forget my gym locker code")
    proposal = answer.proposal
    assert isinstance(proposal, ForgetProposal)
    assert proposal.match is not None
    assert proposal.match.id == memory_id
    assert answer.text.startswith("Shall I forget “My gym locker code is 4711”?")
    assert "cannot be undone" in answer.text
    assert reverie.search("gym locker code", k=1)[0].id == memory_id  # not yet
    reply, changes = reverie.confirm_chat(proposal)
    assert reply == "Forgotten."
    assert changes.memories_removed == 1
    assert all(h.id != memory_id for h in reverie.search("gym locker code", k=10))
    assert reverie.store.ledger.query(
        "SELECT COUNT(*) FROM fts WHERE fts MATCH '4711'")[0][0] == 0
    assert episodes(reverie) == before  # the command itself was never stored


def test_forget_with_nothing_matching_changes_nothing(
    open_store: Callable[..., Reverie], sample_chat: Path,
) -> None:
    reverie = open_store(llm=ScriptedLLM(lambda messages: "unused"))
    reverie.import_file(sample_chat, extract=False)
    reverie.memories.add("I like green tea")
    counts = reverie.counts()
    answer = reverie.chat(reverie.new_conversation(), "forget my passport number")
    assert isinstance(answer.proposal, ForgetProposal)
    assert answer.proposal.match is None
    assert "nothing to forget" in answer.text
    reply, changes = reverie.confirm_chat(answer.proposal)
    assert reply == "There was nothing to forget."
    assert changes.memories_removed == 0
    assert reverie.counts() == counts
