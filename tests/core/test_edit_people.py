"""Editing a memory's people (`MemoryEditor.edit(people=...)`) and undoing it, on a real
store with the real embedder: links replaced in the edit's own batch, people matched
whatever their case, the People tab's per-day counts kept right, and refused input
changing nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from reverie.core.errors import BadInput
from reverie.core.extract.entities import Entity, EntityKind, link_entities
from reverie.core.service import Reverie
from tests.core.consolidate.seeding import Seed, seed
from tests.core.test_people import person_days, recounted

SEEDS = [
    Seed("Maya goes to a pottery class on Mondays with Jordan.",
         datetime(2026, 3, 9, 20, 0, tzinfo=UTC), about="Maya"),
    Seed("Jordan fixed the bike's brakes.", datetime(2026, 3, 12, 8, 0, tzinfo=UTC),
         about="Jordan"),
    Seed("I baked bread on Sunday.", datetime(2026, 3, 15, 10, 0, tzinfo=UTC), about="me"),
]
POTTERY, BIKE, BREAD = range(3)


@pytest.fixture
def facade(open_store: Callable[..., Reverie]) -> Reverie:
    return open_store()


@pytest.fixture
def ids(facade: Reverie) -> list[str]:
    """`SEEDS` stored; the pottery memory names Maya and Jordan, the bike one Jordan."""
    found = seed(facade, SEEDS)
    maya, jordan = Entity(EntityKind.PERSON, "Maya"), Entity(EntityKind.PERSON, "Jordan")
    with facade.store.ledger.transaction() as conn:
        link_entities(conn, found[POTTERY], [maya, jordan])
        link_entities(conn, found[BIKE], [jordan])
    return found


def people_of(facade: Reverie, memory_id: str) -> tuple[str, ...]:
    detail = facade.memory_detail(memory_id)
    assert detail is not None
    return detail.people


def snapshot(facade: Reverie) -> dict[str, Any]:
    """What an edit of people may touch (besides the history it appends to)."""
    ledger = facade.store.ledger

    def rows(sql: str) -> list[tuple[Any, ...]]:
        return sorted(tuple(row) for row in ledger.query(sql))

    return {
        "memories": rows("SELECT id, text, about, kind, valid_from, user_edited FROM memories"),
        "people": rows("SELECT * FROM memory_entities"),
        "person_days": rows("SELECT key, day, n FROM person_days WHERE n != 0"),
        "history": rows("SELECT seq FROM history"),
        "meta": rows("SELECT key FROM meta WHERE key LIKE 'batch_effects:%'"),
    }


def mentions(facade: Reverie, name: str) -> int:
    rows = facade.person_rows([name])
    return rows[0].memories if rows else 0


def test_people_are_replaced_in_the_edits_batch_and_matched_whatever_their_case(
    facade: Reverie, ids: list[str],
) -> None:
    memory = ids[POTTERY]
    entities_before = facade.store.ledger.query("SELECT COUNT(*) FROM entities")[0][0]
    facade.memories.edit(memory, text="Maya goes to pottery on Mondays with Priya.",
                         people=["maya", " ", "Priya  Shah", "", "MAYA"])

    # The existing Maya (as she was named), a new Priya Shah; Jordan unlinked.
    assert people_of(facade, memory) == ("Maya", "Priya Shah")
    assert facade.store.ledger.query("SELECT COUNT(*) FROM entities")[0][0] == (
        entities_before + 1)
    detail = facade.memory_detail(memory)
    assert detail is not None
    assert detail.user_edited
    assert detail.text == "Maya goes to pottery on Mondays with Priya."
    # One history row, in a batch that keeps the link changes for its undo.
    rows = [h for h in facade.memories.history(memory) if h.action == "edited"]
    assert len(rows) == 1
    assert facade.store.ledger.query(
        "SELECT 1 FROM meta WHERE key = ?", ("batch_effects:" + rows[0].batch,))
    assert (rows[0].people_added, rows[0].people_removed) == (("Priya Shah",), ("Jordan",))
    # The People tab's counts follow: Jordan keeps only the bike, Priya Shah appears.
    assert person_days(facade) == recounted(facade)
    assert mentions(facade, "Jordan") == 1
    assert mentions(facade, "Priya Shah") == 1
    assert "Priya Shah" in facade.person_list("priya")
    # The timeline's row for the memory shows the new people as chips.
    item = next(i for i in facade.timeline_items("2026-03-09") if i.id == memory)
    assert item.people == ("Maya", "Priya Shah")


def test_undo_restores_the_links_exactly_and_undoing_the_undo_applies_them_again(
    facade: Reverie, ids: list[str],
) -> None:
    memory = ids[POTTERY]
    before = snapshot(facade)
    facade.memories.edit(memory, about="Priya", people=["Priya", "Sam"])
    after = snapshot(facade)
    assert people_of(facade, memory) == ("Priya", "Sam")
    assert person_days(facade) == recounted(facade)

    facade.memories.undo()
    undone = snapshot(facade)
    assert people_of(facade, memory) == ("Jordan", "Maya")
    for part in ("memories", "people", "person_days"):
        assert undone[part] == before[part], part
    assert mentions(facade, "Sam") == 0
    assert mentions(facade, "Jordan") == 2

    undo_row = next(h for h in facade.memories.history(memory) if h.action == "undo")
    assert (undo_row.people_added, undo_row.people_removed) == (
        ("Jordan", "Maya"), ("Priya", "Sam"))
    facade.memories.undo(batch=undo_row.batch)
    redone = snapshot(facade)
    assert people_of(facade, memory) == ("Priya", "Sam")
    for part in ("people", "person_days"):
        assert redone[part] == after[part], part
    assert person_days(facade) == recounted(facade)


def test_people_left_out_are_untouched_and_an_empty_list_unlinks_everyone(
    facade: Reverie, ids: list[str],
) -> None:
    facade.memories.edit(ids[BIKE], text="Jordan fixed my bike's brakes.")
    assert people_of(facade, ids[BIKE]) == ("Jordan",)
    facade.memories.edit(ids[BIKE], people=[])
    assert people_of(facade, ids[BIKE]) == ()
    # Still counted once through About, as the backfill counts it.
    assert mentions(facade, "Jordan") == 2
    assert person_days(facade) == recounted(facade)
    facade.memories.undo()
    assert people_of(facade, ids[BIKE]) == ("Jordan",)
    assert person_days(facade) == recounted(facade)


@pytest.mark.parametrize(("people", "message"), [
    (["Maya", "x" * 81], "at most 80 characters"),
    (["me"], '"me" is you'),
    (["Maya", " You "], '"You" is you'),
])
def test_refused_people_change_nothing(
    facade: Reverie, ids: list[str], people: list[str], message: str,
) -> None:
    before = snapshot(facade)
    with pytest.raises(BadInput, match=message):
        facade.memories.edit(ids[BREAD], text="I baked rye bread.", people=people)
    assert snapshot(facade) == before


def test_a_name_of_eighty_characters_is_kept(facade: Reverie, ids: list[str]) -> None:
    name = "A" + "b" * 79
    facade.memories.edit(ids[BREAD], people=[name])
    assert people_of(facade, ids[BREAD]) == (name,)
    assert person_days(facade) == recounted(facade)
