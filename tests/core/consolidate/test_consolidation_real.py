"""Extraction and consolidation with the real bundled model, end to end: dated memories
citing their turns, superseded not deleted, restated not copied, pinned untouched, and
an assistant's words never taken for the user's."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reverie.core.service import Reverie

pytestmark = pytest.mark.slow

AFTER_BOTH = datetime(2024, 11, 10, tzinfo=UTC)


def chat(path: Path, turns: list[tuple[str, str, str]]) -> Path:
    """Write (time, speaker, text) turns as one chat JSONL conversation."""
    lines = [
        {"conversation": "life", "time": when, "speaker": speaker, "text": text,
         "id": f"t{number}"}
        for number, (when, speaker, text) in enumerate(turns, start=1)
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def memories_citing(reverie: Reverie, locator: str) -> list[dict[str, object]]:
    rows = reverie.store.ledger.query(
        "SELECT m.* FROM memories m JOIN memory_sources ms ON ms.memory_id = m.id"
        " JOIN episodes e ON e.id = ms.episode_id WHERE e.locator = ?", (locator,))
    return [dict(row) for row in rows]


MOVES = [
    ("2024-06-10T19:00:00", "user", "I moved to Lisbon last March and I love the light there."),
    ("2024-06-10T19:00:20", "Reverie",
     "I love hiking in the Alps every summer, and you should try the bakery in Belem."),
    ("2024-11-02T10:00:00", "user",
     "Big news: we moved back to Porto last week, the rent in Lisbon was too much."),
]


def test_a_move_is_dated_from_the_turn_and_a_later_move_supersedes_it(
    open_store: Callable[..., Reverie], tmp_path: Path
) -> None:
    reverie = open_store()
    reverie.import_file(chat(tmp_path / "moves.jsonl", MOVES))
    lisbon = [m for m in memories_citing(reverie, "t1") if "moved to Lisbon" in str(m["text"])]
    assert len(lisbon) == 1
    assert str(lisbon[0]["valid_from"]).startswith("2024-03")
    assert "last March" in str(lisbon[0]["time_note"])
    porto = [m for m in memories_citing(reverie, "t3") if "moved back to Porto" in str(m["text"])]
    assert len(porto) == 1
    reverie.consolidation.run(now=AFTER_BOTH)
    after = reverie.store.ledger.query(
        "SELECT status, superseded_by, valid_to FROM memories WHERE id = ?", (lisbon[0]["id"],))
    assert len(after) == 1  # kept, not deleted
    assert after[0]["status"] == "superseded"
    assert after[0]["superseded_by"] == porto[0]["id"]
    assert after[0]["valid_to"] is not None
    assert reverie.search("where did I move", k=10)  # both still findable


def test_an_assistant_message_is_never_extracted_as_a_fact(
    open_store: Callable[..., Reverie], tmp_path: Path
) -> None:
    reverie = open_store()
    reverie.import_file(chat(tmp_path / "moves.jsonl", MOVES))
    assert memories_citing(reverie, "t2") == []
    about_hiking = reverie.store.ledger.query(
        "SELECT COUNT(*) FROM memories WHERE text LIKE '%Alps%' OR text LIKE '%hiking%'")
    assert about_hiking[0][0] == 0


def test_a_pinned_memory_is_untouched_by_consolidation(
    open_store: Callable[..., Reverie], tmp_path: Path
) -> None:
    reverie = open_store()
    reverie.import_file(chat(tmp_path / "moves.jsonl", MOVES))
    lisbon = next(m for m in memories_citing(reverie, "t1") if "moved to Lisbon" in str(m["text"]))
    reverie.memories.pin(str(lisbon["id"]))
    before = reverie.store.ledger.query("SELECT * FROM memories WHERE id = ?", (lisbon["id"],))
    reverie.consolidation.run(now=AFTER_BOTH)
    after = reverie.store.ledger.query("SELECT * FROM memories WHERE id = ?", (lisbon["id"],))
    assert [dict(r) for r in after] == [dict(r) for r in before]
    proposed = [i for i in reverie.review_inbox() if i["type"] == "change"]
    assert any("Lisbon" in str(item["what"]) for item in proposed)


def test_the_same_fact_said_five_times_is_one_memory_citing_five_turns(
    open_store: Callable[..., Reverie], tmp_path: Path
) -> None:
    said = [
        "I drink oat milk in my coffee every morning.",
        "Honestly, I drink oat milk in my coffee every morning.",
        "Yeah, I drink oat milk in my coffee every morning!",
        "As always, I drink oat milk in my coffee every morning.",
        "Well, I drink oat milk in my coffee every morning.",
    ]
    turns = [(f"2024-0{month}-03T08:00:00", "Sam", text)
             for month, text in enumerate(said, start=1)]
    reverie = open_store()
    reverie.import_file(chat(tmp_path / "oat.jsonl", turns))
    reverie.consolidation.run(now=AFTER_BOTH)
    rows = reverie.store.ledger.query(
        "SELECT m.id, COUNT(ms.episode_id) AS cited FROM memories m JOIN memory_sources ms"
        " ON ms.memory_id = m.id WHERE m.status = 'active' AND m.kind != 'summary'"
        " AND m.text LIKE '%oat milk%' GROUP BY m.id")
    assert [row["cited"] for row in rows] == [5]
