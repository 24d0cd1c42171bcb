"""What a timeline row carries besides its text: the people a memory names and where it
came from (read with the day, one query), and the day and week summaries a page of days
carries, on a real store."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from reverie.core.extract.entities import Entity, EntityKind, link_entities
from reverie.core.service import Reverie
from reverie.core.store import records
from reverie.core.store.queries import timeline_days, timeline_items
from reverie.core.store.timeline_filter import TimelineFilter, filtered_days, filtered_items
from reverie.core.types import Actor, ItemKind, ItemSource, MemoryKind, TimelineItem
from tests.doubles import ScriptedLLM

DAY = "2026-03-02"  # a Monday
LATER = "2026-03-04"


def _write_chat(path: Path) -> Path:
    turns = [
        ("t1", f"{DAY}T19:05:00", "Alex", "Maya and I booked the pottery class at Riverside."),
        ("t2", f"{DAY}T19:07:00", "Sam", "Pottery sounds lovely, enjoy it."),
        ("t3", f"{LATER}T08:15:00", "Alex", "I switched to oat milk."),
    ]
    lines = [{"conversation": "Sam and me", "id": i, "time": t, "speaker": who, "text": text}
             for i, t, who, text in turns]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    return path


def _insert(facade: Reverie, memory_id: str, text: str, *, about: str = "me",
            when: datetime, kind: MemoryKind = MemoryKind.EVENT,
            cites: tuple[str, ...] = (), people: tuple[str, ...] = (),
            summarises: tuple[str, ...] = ()) -> str:
    """A memory written as extraction or consolidation writes one."""
    memory = records.NewMemory(
        id=memory_id, kind=kind, text=text, about=about, valid_from=when, confidence=0.9,
        trust="user-import", episode_ids=cites)
    batch = records.new_batch_id()
    with facade.store.ledger.transaction() as conn:
        records.ensure_batch(conn, batch, Actor.EXTRACTOR, "test")
        records.insert_memory(conn, memory, batch, Actor.EXTRACTOR)
        link_entities(conn, memory_id, [Entity(EntityKind.PERSON, name) for name in people])
        conn.executemany(
            "INSERT INTO memory_links (from_id, relation, to_id) VALUES (?, 'summarises', ?)",
            [(memory_id, other) for other in summarises])
    return memory_id


def _turn(facade: Reverie, day: str, speaker: str) -> str:
    row = facade.store.ledger.query(
        "SELECT id FROM episodes WHERE day = ? AND speaker = ?", (day, speaker))
    return str(row[0]["id"])


@pytest.fixture
def facade(open_store: Callable[..., Reverie], tmp_path: Path) -> Reverie:
    reverie = open_store(llm=ScriptedLLM(lambda _messages: "Noted."))
    reverie.import_file(_write_chat(tmp_path / "chat.jsonl"), extract=False)
    return reverie


def _by_text(items: list[TimelineItem]) -> dict[str, TimelineItem]:
    return {item.text: item for item in items}


def test_rows_carry_people_and_source(facade: Reverie, tmp_path: Path) -> None:
    turn = _turn(facade, DAY, "Alex")
    _insert(facade, "mem_class", "Alex booked the pottery class with Maya", about="Alex",
            when=datetime(2026, 3, 2, 19, 5), cites=(turn,), people=("Maya", "alex"))
    facade.memories.add("I like Riverside", when=datetime(2026, 3, 2, 20, 0))  # about "me"
    facade.memories.add("Sam runs on Mondays", about="Sam", when=datetime(2026, 3, 2, 21, 0))
    note = tmp_path / "notes" / "plans.md"
    note.parent.mkdir()
    note.write_text("# Plans\n\nGlazing workshop on 2 March.\n", encoding="utf-8")
    facade.import_file(note, extract=False)
    rows = _by_text(facade.timeline_items(DAY))

    memory = rows["Alex booked the pottery class with Maya"]
    # Its subject first, then whom it links, each once whatever the case.
    assert memory.people == ("Alex", "Maya")
    assert memory.source is ItemSource.IMPORT  # it cites a turn of an imported chat
    assert rows["I like Riverside"].people == ()  # the owner is never a chip
    assert rows["I like Riverside"].source is ItemSource.NONE  # the user wrote it
    assert rows["Sam runs on Mondays"].people == ("Sam",)
    turns = [item for item in rows.values() if item.kind is ItemKind.EPISODE]
    imported = [item for item in turns if item.label in ("Alex", "Sam")]
    assert imported
    assert all(item.source is ItemSource.IMPORT for item in imported)
    from_note = [item for day in facade.timeline_days(0, 10)
                 for item in facade.timeline_items(day.day) if "Glazing" in item.text]
    assert from_note
    assert all(item.source is ItemSource.FILE for item in from_note)


def test_own_chat_turns_read_as_chat(facade: Reverie) -> None:
    conversation = facade.new_conversation()
    facade.chat(conversation, "What did I book at Riverside?")
    today = [item for day in facade.timeline_days(0, 1)
             for item in facade.timeline_items(day.day)]
    asked = [item for item in today if item.text == "What did I book at Riverside?"]
    assert asked
    assert asked[0].source is ItemSource.CHAT


def test_a_day_is_one_query_and_filtered_rows_carry_the_same(facade: Reverie) -> None:
    turn = _turn(facade, DAY, "Sam")
    _insert(facade, "mem_sam", "Sam thinks pottery is lovely", about="Sam",
            when=datetime(2026, 3, 2, 19, 7), cites=(turn,), people=("Maya",))
    ledger = facade.store.ledger
    calls: list[str] = []
    original = ledger.query

    def counted(sql: str, params: Any = ()) -> Any:
        calls.append(sql)
        return original(sql, params)

    ledger.query = counted  # type: ignore[method-assign]
    try:
        plain = timeline_items(ledger, DAY)
        assert len(calls) == 1  # people and sources come with the rows, not per row
        calls.clear()
        searched = filtered_items(ledger, TimelineFilter(text="lovely"), DAY)
        assert len(calls) == 1
    finally:
        ledger.query = original  # type: ignore[method-assign]
    assert {item.id for item in searched} < {item.id for item in plain}
    for item in searched:
        same = next(row for row in plain if row.id == item.id)
        assert (item.people, item.source) == (same.people, same.source)
    assert any(item.people == ("Sam", "Maya") for item in searched), searched


def test_days_carry_their_day_and_week_summaries(facade: Reverie) -> None:
    monday, wednesday = _turn(facade, DAY, "Alex"), _turn(facade, LATER, "Alex")
    early = _insert(facade, "mem_a", "Alex booked pottery", when=datetime(2026, 3, 2, 19, 5),
                    cites=(monday,))
    late = _insert(facade, "mem_b", "Alex drinks oat milk", when=datetime(2026, 3, 4, 8, 15),
                   cites=(wednesday,))
    _insert(facade, "mem_day", "2 March 2026: Alex booked pottery.", about="summary",
            kind=MemoryKind.SUMMARY, when=datetime(2026, 3, 2), summarises=(early,))
    _insert(facade, "mem_week", "Pottery booked; oat milk from Wednesday.", about="summary",
            kind=MemoryKind.SUMMARY, when=datetime(2026, 3, 2), summarises=(early, late))
    # A digest of a person is no day's card; a replaced summary is not shown.
    _insert(facade, "mem_digest", "Sam: likes pottery.", about="Sam",
            kind=MemoryKind.SUMMARY, when=datetime(2026, 3, 4), summarises=(late,))
    _insert(facade, "mem_old", "4 March 2026: an older wording.", about="summary",
            kind=MemoryKind.SUMMARY, when=datetime(2026, 3, 4), summarises=(late,))
    with facade.store.ledger.transaction() as conn:
        conn.execute("UPDATE memories SET status = 'superseded' WHERE id = 'mem_old'")

    days = {entry.day: entry for entry in facade.timeline_days(0, 10)}
    assert days[DAY].summary == "2 March 2026: Alex booked pottery."
    assert days[DAY].week_summary == "Pottery booked; oat milk from Wednesday."
    assert (days[LATER].summary, days[LATER].week_summary) == ("", "")
    # A page that holds only some days reads only their summaries, the same way.
    assert timeline_days(facade.store.ledger, 1, 1)[0].summary == days[DAY].summary
    # The filtered timeline's days carry the same cards.
    found = {e.day: e for e in filtered_days(facade.store.ledger, TimelineFilter(text="pottery"))}
    assert found[DAY].summary == days[DAY].summary
    assert found[DAY].week_summary == days[DAY].week_summary


def test_a_week_summary_is_known_by_its_label_when_its_memories_share_a_day(
    facade: Reverie,
) -> None:
    monday = _turn(facade, DAY, "Alex")
    only = _insert(facade, "mem_a", "Alex booked pottery", when=datetime(2026, 3, 2, 19, 5),
                   cites=(monday,))
    _insert(facade, "mem_week", "the week of 2 March 2026: Alex booked pottery.",
            about="summary", kind=MemoryKind.SUMMARY, when=datetime(2026, 3, 2),
            summarises=(only,))
    day = next(e for e in facade.timeline_days(0, 10) if e.day == DAY)
    assert (day.summary, day.week_summary) == (
        "", "the week of 2 March 2026: Alex booked pottery.")
