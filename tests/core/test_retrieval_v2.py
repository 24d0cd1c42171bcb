"""Retrieval: filters, priors, turn context and provenance grouping, on the real store
(SQLCipher ledger, Chroma, the bundled MiniLM)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reverie.core.errors import BadInput
from reverie.core.retrieve.grouping import group_by_provenance
from reverie.core.retrieve.options import RetrievalOptions, SearchFilters
from reverie.core.retrieve.query import plan_query
from reverie.core.service import Reverie
from reverie.core.store import records
from reverie.core.store.forget import ForgetTarget
from reverie.core.store.queries import ItemRecord
from reverie.core.store.records import NewMemory
from reverie.core.timeparse import Precision
from reverie.core.types import Actor, ItemKind, MemoryKind, SourceRef


@pytest.fixture
def loaded(open_store: Callable[..., Reverie], sample_chat: Path) -> Reverie:
    reverie = open_store()
    reverie.import_file(sample_chat, extract=False)
    return reverie


def episode_id(reverie: Reverie, locator: str) -> str:
    rows = reverie.store.ledger.query("SELECT id FROM episodes WHERE locator = ?", (locator,))
    return str(rows[0]["id"])


def cited_memory(reverie: Reverie, text: str, about: str, cites: tuple[str, ...]) -> str:
    memory = NewMemory(
        id=f"mem_t{abs(hash(text)) % 10**12}", kind=MemoryKind.EVENT, text=text, about=about,
        valid_from=datetime(2026, 3, 2, 19, 5, tzinfo=UTC), confidence=0.8,
        trust="extracted", episode_ids=cites,
    )
    with reverie.store.ledger.transaction() as conn:
        records.ensure_batch(conn, "b_t", Actor.EXTRACTOR, "extraction")
        records.insert_memory(conn, memory, "b_t", Actor.EXTRACTOR)
        records.store_vector(conn, memory.id, reverie.embedder.name,
                             reverie.embedder.embed([text])[0])
    reverie.store.sync_index()
    return memory.id


def test_a_time_filter_returns_only_hits_in_range(loaded: Reverie) -> None:
    start = datetime(2026, 3, 4, tzinfo=UTC)
    end = datetime(2026, 3, 6, tzinfo=UTC)
    unfiltered = loaded.search("pottery class running dinner", k=30)
    assert any(not start <= h.time.astimezone(UTC) < end for h in unfiltered)
    hits = loaded.search("pottery class running dinner", k=30,
                         filters=SearchFilters(start=start, end=end))
    assert hits
    assert all(start <= h.time.astimezone(UTC) < end for h in hits)


def test_bad_filters_are_refused() -> None:
    with pytest.raises(BadInput, match="before its end"):
        SearchFilters(start=datetime(2026, 3, 6, tzinfo=UTC), end=datetime(2026, 3, 4, tzinfo=UTC))
    with pytest.raises(BadInput, match="time zone"):
        SearchFilters(start=datetime(2026, 3, 6))
    with pytest.raises(BadInput, match="kind filter is empty"):
        SearchFilters(kinds=frozenset())


def test_people_and_source_filters_are_hard(loaded: Reverie) -> None:
    hits = loaded.search("pottery class", k=20, filters=SearchFilters(people=("Sam",)))
    assert hits
    assert all(h.speaker == "Sam" for h in hits)
    assert not loaded.search("pottery", k=5, filters=SearchFilters(sources=("elsewhere",)))


def test_a_superseded_memory_ranks_below_its_successor(open_store: Callable[..., Reverie]) -> None:
    reverie = open_store()
    old, _ = reverie.memories.add("I live in Lisbon, in an apartment near the river")
    new, _ = reverie.memories.add("I live in Porto, in an apartment near the river")
    reverie.memories.supersede(old, by=new, at=datetime(2026, 3, 1, tzinfo=UTC))
    hits = reverie.search("where do I live, which apartment near the river?", k=5)
    ranked = [h.id for h in hits]
    assert ranked.index(new) < ranked.index(old)  # still findable, but below
    assert next(h for h in hits if h.id == old).status == "superseded"
    plain = reverie.search("where do I live, which apartment near the river?", k=5,
                           options=RetrievalOptions(priors=False))
    assert {h.id for h in plain} >= {old, new}


def test_a_named_person_lifts_their_turns(loaded: Reverie) -> None:
    hits = loaded.search("What is Sam training for?", k=3)
    assert hits[0].speaker == "Sam"
    assert "Sam" in loaded.search_plan("What is Sam training for?").people


def test_query_periods_are_read_against_as_of() -> None:
    plan = plan_query("what did I do last May?", datetime(2026, 3, 8, tzinfo=UTC),
                      {"user", "Sam"}, time=True, people=True)
    assert [(p.start.date().isoformat(), p.precision) for p in plan.periods] == [
        ("2025-05-01", Precision.MONTH)]
    assert plan.people == {"user"}  # first person: the owner
    off = plan_query("what did Sam do last May?", datetime(2026, 3, 8, tzinfo=UTC), {"Sam"},
                     time=False, people=False)
    assert not off.periods
    assert not off.people
    lower = plan_query("mark my words", datetime(2026, 3, 8, tzinfo=UTC), {"Mark"},
                       time=True, people=True)
    assert "Mark" in lower.people  # an all-lower-case query may name people in lower case
    cased = plan_query("Please Mark my words", datetime(2026, 3, 8, tzinfo=UTC), {"mark"},
                       time=True, people=True)
    assert "mark" not in cased.people


def test_a_memory_and_its_turn_are_one_hit(loaded: Reverie) -> None:
    turn = episode_id(loaded, "s1-1")
    memory = cited_memory(loaded, "Alex signed up for a pottery class at Riverside", "Alex",
                          (turn,))
    hits = loaded.search("Riverside pottery class", k=10)
    assert hits[0].id == memory  # the curated statement stands for the group
    assert turn in hits[0].related
    assert turn not in {h.id for h in hits}
    without = loaded.search("Riverside pottery class", k=10,
                            options=RetrievalOptions(memories=False))
    assert memory not in {h.id for h in without}


def test_grouping_keeps_summaries_apart() -> None:
    when = datetime(2026, 3, 2, tzinfo=UTC)
    turn = SourceRef("chat", "1")

    def record(item_id: str, kind: ItemKind) -> ItemRecord:
        return ItemRecord(id=item_id, kind=kind, text=item_id, time=when, ts=when.timestamp(),
                          label="", sources=(turn,))

    groups = group_by_provenance([
        (record("ep", ItemKind.EPISODE), 0.5), (record("sum", ItemKind.SUMMARY), 0.4),
        (record("mem", ItemKind.MEMORY), 0.3),
    ])
    assert [(g.head.id, g.related) for g in groups] == [("mem", ("ep",)), ("sum", ())]
    assert groups[0].score == pytest.approx(0.8)


def test_a_reply_is_found_through_the_turn_before_it(loaded: Reverie) -> None:
    # The context column holds the previous turn of the same source.
    rows = loaded.store.ledger.query(
        "SELECT f.context, e.locator FROM fts f JOIN episodes e ON e.id = f.item_id"
        " WHERE e.locator = 's1-2'")
    assert "pottery class" in rows[0]["context"]


def test_forgetting_a_turn_rewrites_its_followers_context(loaded: Reverie) -> None:
    first = episode_id(loaded, "s1-1")
    plan = loaded.memories.plan_forget(ForgetTarget(episode_ids=(first,)))
    loaded.memories.forget(plan)
    contexts = [row[0] for row in loaded.store.ledger.query("SELECT context FROM fts")]
    assert not any("Riverside" in (text or "") for text in contexts)
    assert all("Riverside" not in h.text for h in loaded.search("Riverside", k=10))
    assert loaded.store.ledger.query(
        "SELECT COUNT(*) FROM fts WHERE fts MATCH 'riverside'")[0][0] == 0


def test_known_people_follow_new_speakers(loaded: Reverie) -> None:
    assert "Maya" not in loaded.search_plan("what did Maya say?").people
    loaded.memories.add("Maya is my sister", about="Maya")
    assert "Maya" in loaded.search_plan("what did Maya say?").people


def test_archived_memories_are_found_only_when_asked_for(
    open_store: Callable[..., Reverie],
) -> None:
    reverie = open_store()
    kept, _ = reverie.memories.add("My bike is a green Brompton kept in the hallway")
    undone, _ = reverie.memories.add("My bike is a red Brompton kept in the hallway")
    reverie.memories.undo()  # undoing a creation archives the memory
    assert {h.id for h in reverie.search("Brompton bike hallway", k=5)} == {kept}
    found = reverie.search("Brompton bike hallway", k=5,
                           filters=SearchFilters(include_archived=True))
    assert [h.id for h in found] == [kept, undone]
    assert found[1].status == "archived"
