"""Extraction: grounded memories with provenance, resumable, never from the assistant."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from reverie.core.config import Settings
from reverie.core.errors import Cancelled
from reverie.core.extract.grounding import is_grounded, support
from reverie.core.service import Reverie
from reverie.models.base import ChatMessage
from tests.doubles import ScriptedLLM


def test_grounding_accepts_inflections_and_rejects_inventions() -> None:
    source = "I finally signed up for the pottery class at the Riverside studio."
    names = frozenset({"Alex", "Sam"})
    assert is_grounded("Alex signed up for a pottery class at Riverside studio", source, names)
    assert not is_grounded("Alex is a professional surfer in Hawaii", source, names)
    assert not is_grounded("Alex and Sam", source, names)
    assert support("pottery classes", source) == 1.0


# These tests are about what happens to the model's facts: the rule proposals are off.
MODEL_ONLY = Settings(extraction_rules=False)


def facts_for(text_by_trigger: dict[str, list[dict[str, str]]]) -> ScriptedLLM:
    def reply(messages: Sequence[ChatMessage]) -> str:
        message = messages[-1]["content"].splitlines()[-1]  # the message, not its context
        for trigger, facts in text_by_trigger.items():
            if trigger in message:
                return json.dumps({"facts": facts})
        return json.dumps({"facts": []})

    return ScriptedLLM(reply)


def test_grounded_facts_are_kept_with_provenance_and_inventions_dropped(
    open_store: Callable[..., Reverie], sample_chat: Path
) -> None:
    llm = facts_for({
        "oat milk": [
            {"kind": "preference", "text": "Alex switched to oat milk because of dairy"},
            {"kind": "fact", "text": "Alex owns three horses in Kentucky"},
        ],
        "Thai place": [
            {"kind": "plan", "text": "Alex booked a table at the Thai place for Friday"},
            {"kind": "plan", "text": "Alex booked a table at the Thai place for Friday"},
        ],
    })
    reverie = open_store(llm=llm, settings=MODEL_ONLY)
    report = reverie.import_file(sample_chat)
    assert report.memories_added == 2
    assert report.memories_dropped == 1
    rows = reverie.store.ledger.query(
        "SELECT m.text, m.about, m.kind, m.valid_from, e.locator FROM memories m"
        " JOIN memory_sources ms ON ms.memory_id = m.id JOIN episodes e ON e.id = ms.episode_id"
        " ORDER BY e.locator"
    )
    assert [(r["locator"], r["about"], r["kind"]) for r in rows] == [
        ("s2-1", "Alex", "preference"), ("s2-3", "Alex", "plan"),
    ]
    assert rows[0]["valid_from"] == "2026-03-05T08:15:00"
    history = reverie.store.ledger.query("SELECT actor, action FROM history")
    assert {(h["actor"], h["action"]) for h in history} == {("extractor", "created")}
    hit = reverie.search("oat milk", k=1)[0]
    assert hit.kind.value == "memory"
    assert [(s.source, s.ref) for s in hit.sources] == [("Sam and me", "s2-1")]
    # Every prompt was constrained by the schema.
    assert llm.schemas
    assert all(schema is not None for schema in llm.schemas)


def test_a_restated_memory_is_not_stored_twice(
    open_store: Callable[..., Reverie], tmp_path: Path
) -> None:
    llm = facts_for({"oat": [{"kind": "preference", "text": "Alex drinks oat milk every day"}]})
    reverie = open_store(llm=llm, settings=MODEL_ONLY)
    turns = [
        {"conversation": "c", "time": f"2024-01-0{i}T09:00:00", "speaker": "Alex",
         "text": "I drink oat milk every day, honestly it is great"}
        for i in (1, 2)
    ]
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(json.dumps(t) for t in turns), encoding="utf-8")
    report = reverie.import_file(path)
    assert report.memories_added == 1


def test_cancelled_extraction_resumes_where_it_stopped(
    open_store: Callable[..., Reverie], sample_chat: Path
) -> None:
    llm = facts_for({})
    reverie = open_store(llm=llm, settings=MODEL_ONLY)
    cancel = threading.Event()

    def stop_after_three(done: int, total: int, what: str) -> None:
        if what == "extracting memories" and done == 3:
            cancel.set()

    with pytest.raises(Cancelled):
        reverie.import_file(sample_chat, progress=stop_after_three, cancel=cancel)
    pending = reverie.store.ledger.query("SELECT COUNT(*) FROM episodes WHERE extracted = 0")
    assert pending[0][0] == 9 - 3
    result = reverie.extract_pending()
    assert result.episodes_seen == 6


@pytest.mark.slow
def test_real_model_extracts_grounded_memories(
    open_store: Callable[..., Reverie], sample_chat: Path
) -> None:
    reverie = open_store()
    report = reverie.import_file(sample_chat)
    rows = reverie.store.ledger.query(
        "SELECT m.text, e.text AS source, e.speaker FROM memories m"
        " JOIN memory_sources ms ON ms.memory_id = m.id JOIN episodes e ON e.id = ms.episode_id"
    )
    assert report.memories_added == len(rows) >= 1
    for row in rows:
        assert is_grounded(row["text"], row["source"], frozenset({"Alex", "Sam"}))


def test_third_person_names_the_author_once_then_uses_pronouns() -> None:
    from reverie.core.extract.rewrite import third_person

    assert third_person("I'm starting my own dance studio.", "Jon") == (
        "Jon is starting their own dance studio."
    )
    assert third_person("Jon is living my true self.", "Jon") == "Jon is living their true self."
    assert third_person("Timeline is fine", "Jon") == "Timeline is fine"  # no "I" inside words


def test_statements_must_be_about_their_author() -> None:
    from reverie.core.extract.rewrite import is_about_author, tidy
    from reverie.core.extract.statements import judge
    from reverie.core.types import MemoryKind

    names = frozenset({"Jon", "Gina"})
    assert is_about_author("Jon is opening a studio.", "Jon")
    assert not is_about_author("Your store looks great.", "Jon")
    assert not is_about_author("Sounds great!", "Jon")
    source = "Cool, Gina! I love contemporary dance."
    # The addressee is not the subject: "Gina loves ..." from Jon's message is dropped.
    assert judge(MemoryKind.PREFERENCE, "Gina loves contemporary dance.", speaker="Jon",
                 source=source, participants=names, document=False) is None
    kept = judge(MemoryKind.PREFERENCE, "Jon loves contemporary dance.", speaker="Jon",
                 source=source, participants=names, document=False)
    assert kept is not None
    assert kept.about == "Jon"
    assert tidy('  "Jon  likes\njazz"  ') == "Jon likes jazz."


def test_a_question_never_becomes_a_memory(
    open_store: Callable[..., Reverie], tmp_path: Path
) -> None:
    llm = facts_for({"nervous": [{"kind": "fact", "text": "Sam is nervous about trying it"}]})
    reverie = open_store(llm=llm, settings=MODEL_ONLY)
    path = tmp_path / "q.jsonl"
    turn = {"conversation": "c", "time": "2024-01-01T09:00:00", "speaker": "Sam",
            "text": "That's great, I love it so much! Weren't you nervous about trying it?"}
    path.write_text(json.dumps(turn) + "\n", encoding="utf-8")
    report = reverie.import_file(path)
    assert len(llm.calls) == 1  # the model was asked and answered with the question
    assert (report.memories_added, report.memories_dropped) == (0, 1)


def test_memories_are_announced_as_each_turn_is_committed(
    open_store: Callable[..., Reverie], sample_chat: Path
) -> None:
    llm = facts_for({
        "oat milk": [{"kind": "preference", "text": "Alex switched to oat milk"}],
        "Thai place": [{"kind": "plan", "text": "Alex booked a table at the Thai place"}],
    })
    reverie = open_store(llm=llm, settings=MODEL_ONLY)
    reverie.import_file(sample_chat, extract=False)
    heard: list[int] = []

    def count_then_check(changes: object) -> None:
        # Each announcement is already visible in the store when it arrives.
        heard.append(reverie.counts()["memories"])

    result = reverie.extract_pending(on_changes=count_then_check)
    assert heard == [1, 2]
    assert result.changes.memories_added == 2


def test_deadline_event_waits_on_both_events() -> None:
    from reverie.core.extract.deadline import EitherEvent as _EitherEvent

    deadline, cancel = threading.Event(), threading.Event()
    either = _EitherEvent(deadline, cancel)
    assert not either.wait(0.05)
    threading.Timer(0.05, cancel.set).start()
    assert either.wait(5)
    assert either.is_set()
