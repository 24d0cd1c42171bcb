"""A memory in full: fields, provenance with the supporting span, the file a turn came
from, and the supersede and merge chain (real store)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from reverie.core.extract.grounding import supporting_span
from reverie.core.service import Reverie


def test_the_supporting_span_is_the_sentence_that_holds_the_statement() -> None:
    source = ("Hi Sam! Quick one. I switched to oat milk because dairy has been upsetting"
              " my stomach. Are we still on for Friday?")
    start, end = supporting_span("Alex switched to oat milk", source) or (0, 0)
    assert source[start:end] == ("I switched to oat milk because dairy has been upsetting"
                                 " my stomach.")


def test_a_span_may_run_over_two_sentences_when_that_covers_more() -> None:
    source = "I signed up for pottery. It starts on Monday at the Riverside studio. Bye!"
    start, end = supporting_span("Pottery class at the Riverside studio", source) or (0, 0)
    assert source[start:end] == (
        "I signed up for pottery. It starts on Monday at the Riverside studio.")


def test_no_span_when_the_source_shares_nothing() -> None:
    assert supporting_span("Sam likes tea", "The weather was cold.") is None
    assert supporting_span("", "Anything.") is None


def _chat(path: Path) -> Path:
    lines = [
        {"conversation": "Sam and me", "id": "t1", "time": "2026-03-02T19:05:00",
         "speaker": "Alex", "text": "Good news. I moved to Lisbon last month for the new job."},
        {"conversation": "Sam and me", "id": "t2", "time": "2026-05-02T19:05:00",
         "speaker": "Alex", "text": "I moved back to Porto, Lisbon was too expensive."},
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    return path


def test_detail_holds_fields_sources_and_the_file(
    open_store: Callable[..., Reverie], tmp_path: Path,
) -> None:
    facade = open_store()
    chat = _chat(tmp_path / "chat.jsonl")
    facade.import_file(chat, extract=False)
    turn = facade.timeline_items("2026-03-02")[0]
    with facade.store.ledger.transaction() as conn:
        conn.execute("UPDATE episodes SET extracted = 1")
    memory_id, _ = facade.memories.add("Alex moved to Lisbon for a new job",
                                       when=datetime(2026, 3, 2, 19, 5))
    with facade.store.ledger.transaction() as conn:
        conn.execute("INSERT INTO memory_sources (memory_id, episode_id) VALUES (?, ?)",
                     (memory_id, turn.id))
    detail = facade.memory_detail(memory_id)
    assert detail is not None
    assert detail.text == "Alex moved to Lisbon for a new job"
    assert detail.trust == "user"
    assert detail.user_edited
    assert not detail.pinned
    assert detail.valid_from == datetime(2026, 3, 2, 19, 5)
    assert detail.recorded.tzinfo is not None  # when Reverie learned it: machine time
    assert len(detail.sources) == 1
    source = detail.sources[0]
    assert source.episode_id == turn.id
    assert source.path == chat
    assert source.span is not None
    assert source.excerpt.text[source.span[0]:source.span[1]].startswith("I moved to Lisbon")
    assert facade.memory_detail("mem_nothing") is None


def test_the_chain_goes_back_through_what_was_replaced_and_merged(
    open_store: Callable[..., Reverie],
) -> None:
    facade = open_store()
    when = datetime(2026, 1, 1, 9, 0)
    first, _ = facade.memories.add("Alex lives in Porto", when=when)
    second, _ = facade.memories.add("Alex lives in Lisbon", when=when + timedelta(days=60))
    third, _ = facade.memories.add("Alex lives in Porto again", when=when + timedelta(days=120))
    twin, _ = facade.memories.add("Alex is living in Porto again",
                                  when=when + timedelta(days=121))
    facade.memories.supersede(first, by=second, at=when + timedelta(days=60))
    facade.memories.supersede(second, by=third, at=when + timedelta(days=120))
    with facade.store.ledger.transaction() as conn:
        conn.execute("INSERT INTO memory_links (from_id, relation, to_id)"
                     " VALUES (?, 'merged_into', ?)", (twin, third))

    newest = facade.memory_detail(third)
    assert newest is not None
    assert [(link.relation, link.id) for link in newest.chain] == [
        ("replaced", first), ("replaced", second), ("merged in", twin)]
    oldest = facade.memory_detail(first)
    assert oldest is not None
    assert oldest.status == "superseded"
    assert oldest.valid_to is not None
    assert [(link.relation, link.id) for link in oldest.chain] == [
        ("replaced by", second), ("replaced by", third)]
