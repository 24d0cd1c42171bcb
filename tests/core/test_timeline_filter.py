"""The filtered timeline: kinds, status, whose words, person, source, pinned, review,
words as typed, and "as of" a moment (bi-temporal), on a real store."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reverie.core.errors import BadInput
from reverie.core.service import Reverie
from reverie.core.store.timeline_filter import (
    CURRENT,
    EPISODES,
    OTHERS,
    WITH_ARCHIVED,
    YOURS,
    TimelineFilter,
    filtered_days,
    match_expression,
)
from reverie.core.types import MemoryKind


def _write_chat(path: Path) -> Path:
    turns = [
        ("t1", "2026-03-02T19:05:00", "Alex", "I signed up for the pottery class at Riverside."),
        ("t2", "2026-03-02T19:07:00", "Sam", "Pottery sounds lovely, enjoy it."),
        ("t3", "2026-03-05T08:15:00", "Alex", "I switched to oat milk last week."),
    ]
    lines = [{"conversation": "Sam and me", "id": i, "time": t, "speaker": who, "text": text}
             for i, t, who, text in turns]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def facade(open_store: Callable[..., Reverie], tmp_path: Path) -> Reverie:
    reverie = open_store()
    reverie.import_file(_write_chat(tmp_path / "chat.jsonl"), extract=False)
    add = reverie.memories.add
    add("Alex takes a pottery class at Riverside", kind=MemoryKind.PLAN,
        when=datetime(2026, 3, 2, 19, 5))
    oat, _ = add("Alex drinks oat milk", kind=MemoryKind.PREFERENCE,
                 when=datetime(2026, 3, 5, 8, 15))
    add("Sam runs the Lisbon half marathon", about="Sam", when=datetime(2026, 3, 9, 7, 0))
    reverie.memories.pin(oat)
    return reverie


def days(facade: Reverie, **wanted: object) -> list[tuple[str, int]]:
    found = facade.timeline_filtered_days(TimelineFilter(**wanted))  # type: ignore[arg-type]
    return [(d.day, d.count) for d in found]


def texts(facade: Reverie, day: str, **wanted: object) -> list[str]:
    flt = TimelineFilter(**wanted)  # type: ignore[arg-type]
    return [item.text for item in facade.timeline_items(day, flt)]


def test_the_default_filter_matches_the_unfiltered_timeline(facade: Reverie) -> None:
    everything = [(d.day, d.count) for d in facade.timeline_days(0, 100)]
    assert days(facade) == everything
    assert filtered_days(facade.store.ledger, TimelineFilter()) == facade.timeline_days(0, 100)


def test_kinds_keep_memories_of_those_kinds_or_only_the_turns(facade: Reverie) -> None:
    assert days(facade, kinds=frozenset({"plan"})) == [("2026-03-02", 1)]
    assert days(facade, kinds=frozenset({EPISODES})) == [("2026-03-05", 1), ("2026-03-02", 2)]
    assert texts(facade, "2026-03-02", kinds=frozenset({EPISODES})) == [
        "Pottery sounds lovely, enjoy it.", "I signed up for the pottery class at Riverside."]
    with pytest.raises(BadInput, match="no kind 'poem'"):
        TimelineFilter(kinds=frozenset({"poem"}))


def test_pinned_person_and_source(facade: Reverie) -> None:
    assert days(facade, pinned_only=True) == [("2026-03-05", 1)]
    assert days(facade, about="sam") == [("2026-03-09", 1), ("2026-03-02", 1)]
    assert texts(facade, "2026-03-02", about="Sam") == ["Pottery sounds lovely, enjoy it."]
    source_id = facade.source_names()[0][0]
    assert days(facade, source_id=source_id) == [("2026-03-05", 1), ("2026-03-02", 2)]


def test_words_are_all_required_and_the_last_is_a_prefix(facade: Reverie) -> None:
    assert days(facade, text="pott") == [("2026-03-02", 3)]
    assert days(facade, text="pottery river") == [("2026-03-02", 2)]
    assert days(facade, text="oat milk") == [("2026-03-05", 2)]
    assert days(facade, text="oat pottery") == []
    assert days(facade, text='"); DROP TABLE memories; --') == []
    assert days(facade, text="?!") == []
    assert facade.counts()["memories"] == 3  # nothing typed is read as SQL or FTS syntax
    assert match_expression("Oat mi") == 'text : ("oat" AND "mi"*)'


def test_as_of_shows_what_was_believed_then(facade: Reverie) -> None:
    learned = datetime(2026, 3, 10, tzinfo=UTC)
    with facade.store.ledger.transaction() as conn:
        conn.execute("UPDATE memories SET recorded = ?, recorded_ts = ?",
                     (learned.isoformat(), learned.timestamp()))
        conn.execute("UPDATE episodes SET recorded = ?", (learned.isoformat(),))
    oat = facade.timeline_items("2026-03-05", TimelineFilter(kinds=frozenset({"preference"})))
    facade.memories.archive(oat[0].id)
    assert days(facade, kinds=frozenset({"preference"})) == []
    # After it was learned and before it was archived (now), Reverie believed it.
    believed = days(facade, kinds=frozenset({"preference"}), as_of=learned + timedelta(days=1))
    assert believed == [("2026-03-05", 1)]
    assert len(days(facade, as_of=learned + timedelta(days=1))) == 3
    assert days(facade, as_of=learned - timedelta(days=1)) == []


def test_status_shows_current_only_or_the_archived_too(facade: Reverie) -> None:
    oat = facade.timeline_items("2026-03-05", TimelineFilter(kinds=frozenset({"preference"})))
    facade.memories.archive(oat[0].id)
    memories_only = frozenset(k.value for k in MemoryKind)
    assert days(facade, kinds=memories_only) == [("2026-03-09", 1), ("2026-03-02", 1)]
    assert days(facade, kinds=memories_only, statuses=WITH_ARCHIVED) == [
        ("2026-03-09", 1), ("2026-03-05", 1), ("2026-03-02", 1)]
    assert days(facade, kinds=memories_only, statuses=CURRENT) == [
        ("2026-03-09", 1), ("2026-03-02", 1)]
    for wrong in ((), ("forgotten",), ("active", "deleted")):
        with pytest.raises(BadInput, match="the timeline shows memories"):
            TimelineFilter(statuses=wrong)


def test_trust_keeps_the_users_own_words_or_others(facade: Reverie) -> None:
    with facade.store.ledger.transaction() as conn:  # as if the chat were someone's e-mail
        conn.execute("UPDATE sources SET trust = 'external'")
        conn.execute("UPDATE memories SET trust = 'external' WHERE about = 'Sam'")
    assert days(facade, trust=OTHERS) == [("2026-03-09", 1), ("2026-03-05", 1),
                                          ("2026-03-02", 2)]
    assert texts(facade, "2026-03-02", trust=YOURS) == [
        "Alex takes a pottery class at Riverside"]
    assert days(facade, trust=YOURS, kinds=frozenset({EPISODES})) == []
    with pytest.raises(BadInput, match="trust is 'yours' or 'others'"):
        TimelineFilter(trust="mine")
