"""Plain undo walks back through the user's changes, one batch at a time."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from reverie.core.errors import BadInput
from reverie.core.service import Reverie
from reverie.core.store.forget import ForgetTarget


def status_and_text(reverie: Reverie, memory_id: str) -> tuple[str, str]:
    row = reverie.store.ledger.query("SELECT status, text FROM memories WHERE id = ?",
                                     (memory_id,))[0]
    return row["status"], row["text"]


def test_undo_twice_reverts_the_edit_then_the_creation(
    open_store: Callable[..., Reverie],
) -> None:
    reverie = open_store()
    memory, _ = reverie.memories.add("Sam's birthday is in June")
    reverie.memories.edit(memory, text="Sam's birthday is in July")
    reverie.memories.undo()
    assert status_and_text(reverie, memory) == ("active", "Sam's birthday is in June")
    assert [h.id for h in reverie.search("birthday in June", k=1)] == [memory]
    reverie.memories.undo()
    assert status_and_text(reverie, memory) == ("archived", "Sam's birthday is in June")
    assert all(h.id != memory for h in reverie.search("birthday in June", k=5))
    with pytest.raises(BadInput, match="nothing to undo"):
        reverie.memories.undo()


def test_a_forget_does_not_block_undoing_what_came_before(
    open_store: Callable[..., Reverie],
) -> None:
    reverie = open_store()
    kept, _ = reverie.memories.add("The spare key is under the blue pot")
    gone, _ = reverie.memories.add("A secret to forget")
    reverie.memories.forget(reverie.memories.plan_forget(ForgetTarget(memory_ids=(gone,))))
    reverie.memories.undo()
    assert status_and_text(reverie, kept)[0] == "archived"


def test_an_edit_still_standing_blocks_undoing_an_earlier_change(
    open_store: Callable[..., Reverie],
) -> None:
    reverie = open_store()
    memory, _ = reverie.memories.add("Dinner with Sam on Friday")
    reverie.memories.pin(memory)
    reverie.memories.edit(memory, text="Dinner with Sam on Saturday")
    pinned = next(h for h in reverie.memories.history(memory) if h.action == "pinned")
    with pytest.raises(BadInput, match="changed again later"):
        reverie.memories.undo(change=pinned.seq)
    assert status_and_text(reverie, memory)[1] == "Dinner with Sam on Saturday"
