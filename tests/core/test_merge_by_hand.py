"""The user's own merge of two memories (`core/merging.py`) and its undo, on a real
store with the real embedder and index: what the survivor holds, what the merged memory
becomes, and that undoing any row of the merge brings back everything as it was."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from reverie.core.errors import BadInput
from reverie.core.extract.entities import Entity, EntityKind, link_entities
from reverie.core.retrieve.options import SearchFilters
from reverie.core.service import Reverie
from reverie.core.store.forget import ForgetTarget
from reverie.core.types import ItemKind, MemoryKind
from tests.core.consolidate.seeding import Seed, seed

SEEDS = [
    Seed("Maya started pottery classes at the Riverside studio.",
         datetime(2026, 3, 2, 19, 0, tzinfo=UTC), about="Maya"),
    Seed("Maya goes to a pottery class on Mondays with Jordan.",
         datetime(2026, 3, 9, 20, 0, tzinfo=UTC), about="Maya", kind=MemoryKind.EVENT),
    Seed("A quiet month.", datetime(2026, 3, 31, 23, 0, tzinfo=UTC), about="summary",
         kind=MemoryKind.SUMMARY),
    Seed("I fixed the bike's brakes.", datetime(2026, 3, 12, 8, 0, tzinfo=UTC), about="me"),
]
POTTERY, MONDAYS, SUMMARY, BIKE = range(4)
MEMORY_ONLY = SearchFilters(kinds=frozenset({ItemKind.MEMORY}))


@pytest.fixture
def facade(open_store: Callable[..., Reverie]) -> Reverie:
    return open_store()


@pytest.fixture
def ids(facade: Reverie) -> list[str]:
    """`SEEDS` stored, each citing its own turn; Maya on both pottery memories, Jordan
    only on the second."""
    found = seed(facade, SEEDS)
    maya, jordan = Entity(EntityKind.PERSON, "Maya"), Entity(EntityKind.PERSON, "Jordan")
    with facade.store.ledger.transaction() as conn:
        link_entities(conn, found[POTTERY], [maya])
        link_entities(conn, found[MONDAYS], [maya, jordan])
    return found


def snapshot(facade: Reverie) -> dict[str, Any]:
    """Everything a merge may touch, besides the history it appends to."""
    ledger = facade.store.ledger

    def rows(sql: str) -> list[tuple[Any, ...]]:
        return sorted(tuple(row) for row in ledger.query(sql))

    return {
        "memories": rows("SELECT * FROM memories"),
        "sources": rows("SELECT * FROM memory_sources"),
        "people": rows("SELECT * FROM memory_entities"),
        "links": rows("SELECT * FROM memory_links"),
        "vectors": rows("SELECT item_id, model FROM vectors"),
        "index": sorted(facade.store.index.ids()),
        "person_days": rows("SELECT key, day, n FROM person_days WHERE n != 0"),
        "fts": rows("SELECT item_id, text FROM fts"),
        "outbox": rows("SELECT item_id, op FROM index_outbox"),
    }


def people_of(facade: Reverie, memory_id: str) -> set[str]:
    detail = facade.memory_detail(memory_id)
    assert detail is not None
    return set(detail.people)


def cited(facade: Reverie, memory_id: str) -> set[str]:
    return set(facade.memories.cited_episode_ids(memory_id))


def test_merge_into_one_holds_the_chosen_fields_and_both_sources_and_people(
    facade: Reverie, ids: list[str],
) -> None:
    keep, fold = ids[POTTERY], ids[MONDAYS]
    turns = cited(facade, keep) | cited(facade, fold)
    when = datetime(2026, 3, 9, 20, 0, tzinfo=UTC)
    merged = facade.merge_memories(
        keep, fold, text="Maya takes pottery classes at the Riverside studio on Mondays.",
        kind=MemoryKind.EVENT, when=when)

    assert merged.survivor == keep
    assert merged.merged == (fold,)
    detail = facade.memory_detail(keep)
    assert detail is not None
    assert detail.text == "Maya takes pottery classes at the Riverside studio on Mondays."
    assert (detail.kind, detail.valid_from, detail.status) == ("event", when, "active")
    assert detail.user_edited  # consolidation never overrides the user's merge
    assert {s.episode_id for s in detail.sources} == turns
    assert set(detail.people) == {"Maya", "Jordan"}
    assert [(link.id, link.relation) for link in detail.chain] == [(fold, "merged in")]
    gone = facade.memory_detail(fold)
    assert gone is not None
    assert gone.status == "archived"
    assert [(link.id, link.relation) for link in gone.chain] == [(keep, "replaced by")]
    # One batch by the user, a "merged" row on each memory.
    rows = [h for m in (keep, fold) for h in facade.memories.history(m) if h.batch == merged.batch]
    assert sorted((h.memory_id, h.action, h.actor.value) for h in rows) == sorted(
        [(keep, "merged", "user"), (fold, "merged", "user")])
    # The survivor is found by its new words; the merged memory left the vector index.
    index = facade.store.index.ids()
    assert keep in index
    assert fold not in index
    hits = facade.search("pottery on Mondays at Riverside", k=5, filters=MEMORY_ONLY)
    assert hits[0].id == keep
    assert fold not in [hit.id for hit in hits]
    assert merged.changes.memories_changed == 2
    assert merged.changes.days == {"2026-03-02", "2026-03-09"}


@pytest.mark.parametrize("undo_row_of", ["survivor", "merged"])
def test_undoing_either_row_brings_both_memories_back_as_they_were(
    facade: Reverie, ids: list[str], undo_row_of: str,
) -> None:
    keep, fold = ids[POTTERY], ids[MONDAYS]
    before = snapshot(facade)
    facade.merge_memories(keep, fold, text="Maya does pottery on Mondays.",
                          kind=MemoryKind.EVENT)
    assert snapshot(facade) != before
    memory = keep if undo_row_of == "survivor" else fold
    row = next(h for h in facade.memories.history(memory) if h.action == "merged")

    changes = facade.memories.undo(change=row.seq)

    assert snapshot(facade) == before  # memories, citations, people, links, index
    assert changes.memories_changed == 2
    assert all(h.undone_by for h in facade.memories.history(keep) + facade.memories.history(fold)
               if h.action == "merged")
    hits = facade.search("pottery class on Mondays with Jordan", k=3, filters=MEMORY_ONLY)
    assert fold in [hit.id for hit in hits]
    with pytest.raises(BadInput, match="already undone"):
        facade.memories.undo(change=row.seq)


def test_undoing_the_undo_merges_again_with_its_links(facade: Reverie, ids: list[str]) -> None:
    keep, fold = ids[POTTERY], ids[MONDAYS]
    facade.merge_memories(keep, fold, text="Maya does pottery on Mondays.")
    merged = snapshot(facade)
    facade.memories.undo()  # the latest batch: the merge
    undo_row = next(h for h in facade.memories.history(fold) if h.action == "undo")
    facade.memories.undo(change=undo_row.seq)
    again = snapshot(facade)
    assert {k: v for k, v in again.items() if k != "memories"} == {
        k: v for k, v in merged.items() if k != "memories"}
    assert facade.memory_detail(keep).text == "Maya does pottery on Mondays."  # type: ignore[union-attr]
    assert facade.memory_detail(fold).status == "archived"  # type: ignore[union-attr]


def test_merging_both_into_a_new_memory_and_undoing_it(
    facade: Reverie, ids: list[str],
) -> None:
    first, second = ids[POTTERY], ids[MONDAYS]
    before = snapshot(facade)
    turns = cited(facade, first) | cited(facade, second)
    merged = facade.merge_memories(first, second, text="Maya's Monday pottery class.",
                                   into_new=True)
    new = merged.survivor
    assert new not in (first, second)
    assert merged.merged == (first, second)
    detail = facade.memory_detail(new)
    assert detail is not None
    assert (detail.text, detail.status, detail.user_edited) == (
        "Maya's Monday pottery class.", "active", True)
    assert detail.valid_from == SEEDS[POTTERY].when  # the first memory's time by default
    assert cited(facade, new) == turns
    assert people_of(facade, new) == {"Maya", "Jordan"}
    assert {link.id for link in detail.chain} == {first, second}
    index = facade.store.index.ids()
    assert new in index
    assert first not in index
    assert second not in index
    assert merged.changes.memories_added == 1

    facade.memories.undo(batch=merged.batch)
    after = snapshot(facade)
    for key in ("sources", "people", "links", "vectors", "index"):
        assert [r for r in after[key] if new not in r] == before[key], key
    assert facade.memory_detail(new).status == "archived"  # type: ignore[union-attr]
    for memory in (first, second):
        assert facade.memory_detail(memory).status == "active"  # type: ignore[union-attr]


def test_bad_input_is_refused_and_changes_nothing(
    facade: Reverie, ids: list[str],
) -> None:
    keep, fold = ids[POTTERY], ids[MONDAYS]
    facade.memories.archive(ids[BIKE])
    bike_archived = snapshot(facade)
    history = len(facade.memories.history(limit=1000))
    cases: list[tuple[dict[str, Any], str]] = [
        ({"keep": keep, "fold": keep, "text": "x"}, "cannot be merged with itself"),
        ({"keep": keep, "fold": "mem_nothing", "text": "x"}, "no memory mem_nothing"),
        ({"keep": "mem_nothing", "fold": fold, "text": "x"}, "no memory mem_nothing"),
        ({"keep": keep, "fold": ids[SUMMARY], "text": "x"}, "is a summary"),
        ({"keep": keep, "fold": ids[BIKE], "text": "x"}, "is archived"),
        ({"keep": keep, "fold": fold, "text": "  \n "}, "needs some text"),
        ({"keep": keep, "fold": fold, "text": "y" * 2001}, "at most 2000 characters"),
        ({"keep": keep, "fold": fold, "text": "x", "kind": MemoryKind.SUMMARY},
         "cannot be a summary"),
    ]
    for arguments, message in cases:
        with pytest.raises(BadInput, match=message):
            facade.merge_memories(**arguments)
        assert snapshot(facade) == bike_archived, message
    assert len(facade.memories.history(limit=1000)) == history

    facade.memories.forget(facade.memories.plan_forget(ForgetTarget(memory_ids=(fold,))))
    with pytest.raises(BadInput, match=f"no memory {fold} .it may have been forgotten"):
        facade.merge_memories(keep, fold, text="x")


def test_a_later_edit_of_the_survivor_blocks_the_undo_until_it_is_undone(
    facade: Reverie, ids: list[str],
) -> None:
    keep, fold = ids[POTTERY], ids[MONDAYS]
    merged = facade.merge_memories(keep, fold, text="Maya does pottery on Mondays.")
    facade.memories.edit(keep, text="Maya does pottery on Mondays and Thursdays.")
    row = next(h for h in facade.memories.history(fold) if h.action == "merged")
    with pytest.raises(BadInput, match="changed again later"):
        facade.memories.undo(change=row.seq)
    assert facade.memory_detail(fold).status == "archived"  # type: ignore[union-attr]
    assert cited(facade, keep) >= cited(facade, fold)  # nothing was half undone
    facade.memories.undo()  # the edit
    facade.memories.undo(batch=merged.batch)
    assert facade.memory_detail(fold).status == "active"  # type: ignore[union-attr]
    assert not cited(facade, keep) & cited(facade, fold)  # the moved citation went back


@pytest.mark.parametrize("forgotten", ["survivor", "merged"])
def test_undoing_a_merge_after_forgetting_one_side_brings_back_only_the_other(
    facade: Reverie, ids: list[str], forgotten: str,
) -> None:
    keep, fold = ids[POTTERY], ids[MONDAYS]
    merged = facade.merge_memories(keep, fold, text="Maya does pottery on Mondays.")
    gone, other = (keep, fold) if forgotten == "survivor" else (fold, keep)
    facade.memories.forget(facade.memories.plan_forget(ForgetTarget(memory_ids=(gone,))))

    facade.memories.undo(batch=merged.batch)

    assert facade.memory_detail(gone) is None  # forgetting is not undone by an undo
    assert facade.memory_detail(other).status == "active"  # type: ignore[union-attr]
    ledger = facade.store.ledger
    for sql in ("SELECT memory_id FROM memory_sources", "SELECT memory_id FROM memory_entities",
                "SELECT from_id FROM memory_links UNION SELECT to_id FROM memory_links",
                "SELECT item_id FROM vectors"):
        assert gone not in {row[0] for row in ledger.query(sql)}, sql
    assert gone not in facade.store.index.ids()
