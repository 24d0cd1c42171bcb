"""Extraction's newer parts: clauses, verb agreement, attribution, dating, entities,
retry-then-defer, the review inbox, and what is never extracted (fast, scripted model)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

import pytest

from reverie.core.extract import clauses, statements
from reverie.core.extract.dating import date_statement
from reverie.core.extract.entities import find_entities
from reverie.core.extract.rewrite import third_person
from reverie.core.service import Reverie
from reverie.core.store.forget import ForgetTarget
from reverie.core.types import MemoryKind
from reverie.models.base import ChatMessage
from tests.doubles import ScriptedLLM


def no_facts() -> ScriptedLLM:
    return ScriptedLLM(lambda messages: json.dumps({"facts": []}))


def write_chat(path: Path, turns: list[tuple[str, str, str]]) -> Path:
    path.write_text("".join(
        json.dumps({"conversation": "c", "time": when, "speaker": who, "text": text,
                    "id": f"t{n}"}) + "\n"
        for n, (when, who, text) in enumerate(turns, start=1)), encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "expected"), [
    ("Lost my job as a banker yesterday, so I'm gonna start my own business.",
     ["I lost my job as a banker yesterday", "I'm gonna start my own business"]),
    ("Big news: we moved back to Porto last week, the rent was too much.",
     ["we moved back to Porto last week, the rent was too much"]),
    ("Biking sounds like a great way to get out in nature.", []),
    ("Still working on my portfolio. They're my biggest motivation.",
     ["I'm still working on my portfolio"]),
    ("Haha, that's great! How was your weekend?", []),
    ("I know, right? I think so too.", []),
    ("I'm so happy for you, you deserve it.", []),
])
def test_first_person_clauses_are_proposed_verbatim(text: str, expected: list[str]) -> None:
    assert clauses.first_person_clauses(text) == expected


def test_clause_kinds_and_plural_subjects() -> None:
    assert clauses.guess_kind("I'm gonna start my own business") is MemoryKind.PLAN
    assert clauses.guess_kind("I love contemporary dance") is MemoryKind.PREFERENCE
    assert clauses.guess_kind("I lost my job yesterday") is MemoryKind.EVENT
    assert clauses.guess_kind("I have two cats") is MemoryKind.FACT
    assert clauses.as_singular("we moved back to our flat") == "I moved back to my flat"
    assert third_person(clauses.as_singular("we celebrate our daughter's birthday"),
                        "Melanie") == "Melanie celebrates their daughter's birthday"


@pytest.mark.parametrize(("said", "expected"), [
    ("I love the light there", "Jon loves the light there"),
    ("I really enjoy hiking", "Jon really enjoys hiking"),
    ("I watch films and I try hard", "Jon watches films and they try hard"),
    ("I lost my job", "Jon lost their job"),
    ("I have two cats", "Jon has two cats"),
])
def test_the_third_person_agrees_with_its_verb(said: str, expected: str) -> None:
    assert third_person(said, "Jon") == expected


def test_statements_are_attributed_to_the_author_or_a_named_third_person() -> None:
    names = frozenset({"Jon", "Gina"})
    source = "My sister Ana moved to Berlin in May, and I love contemporary dance."
    judge = statements.judge
    kept = judge(MemoryKind.EVENT, "Ana moved to Berlin", speaker="Jon", source=source,
                 participants=names, document=False)
    assert kept is not None
    assert kept.about == "Ana"
    own = judge(MemoryKind.PREFERENCE, "I love contemporary dance", speaker="Jon",
                source=source, participants=names, document=False)
    assert own is not None
    assert own.about == "Jon"
    assert own.confidence > kept.confidence  # a third person is one step removed
    addressee = judge(MemoryKind.PREFERENCE, "Gina loves contemporary dance", speaker="Jon",
                      source=source, participants=names, document=False)
    assert addressee is None
    invented = judge(MemoryKind.FACT, "Jon owns three horses in Kentucky", speaker="Jon",
                     source=source, participants=names, document=False)
    assert invented is None


def test_of_two_statements_saying_the_same_the_fuller_is_kept() -> None:
    short = statements.Statement(MemoryKind.EVENT, "Jon lost his job.", "Jon", 1.0, 1.0)
    full = statements.Statement(MemoryKind.EVENT, "Jon lost his job as a banker.", "Jon",
                                1.0, 1.0)
    other = statements.Statement(MemoryKind.PLAN, "Jon is opening a dance studio.", "Jon",
                                 1.0, 1.0)
    assert statements.distinct([short, full, other]) == [full, other]


def test_dates_come_from_the_message_never_from_the_model() -> None:
    said = datetime(2023, 1, 20, 16, 4)
    dated = date_statement("Jon lost his job yesterday.", MemoryKind.EVENT,
                           "Lost my job yesterday!", said)
    assert dated.when == datetime(2023, 1, 19)
    assert dated.text == "Jon lost his job yesterday (19 January 2023)."
    assert dated.note == '"yesterday", said on 20 January 2023: 19 January 2023'
    # The model wrote a date the message does not hold: the memory keeps the turn's time.
    invented = date_statement("Jon lost his job on 3 March 2022.", MemoryKind.EVENT,
                              "Lost my job, sadly.", said)
    assert invented.when == said
    assert invented.note is None


def test_entities_need_the_source_and_a_cue() -> None:
    found = find_entities(
        "Jon moved to Lisbon with his friend Marta after leaving Groove Studio.",
        "I moved to Lisbon with my friend Marta after leaving Groove Studio.",
        "Jon", frozenset({"Jon", "Gina"}), "user",
    )
    assert {(e.kind, e.name) for e in found} == {
        ("person", "Jon"), ("place", "Lisbon"), ("person", "Marta")}


def test_an_invalid_reply_is_retried_once_then_marked_for_later(
    open_store: Callable[..., Reverie], tmp_path: Path
) -> None:
    llm = ScriptedLLM(lambda messages: '{"facts": [{"kind": "fact", "text": "cut o')
    reverie = open_store(llm=llm)
    path = write_chat(tmp_path / "c.jsonl", [
        ("2024-01-01T09:00:00", "Sam", "I signed up for a pottery class at the studio today."),
        ("2024-01-01T09:01:00", "Ana", "I adopted a grey kitten from the shelter on Sunday."),
    ])
    report = reverie.import_file(path)
    assert len(llm.calls) == 4  # each turn: one ask, one retry
    assert report.memories_added == 0
    status = reverie.extraction_status()
    assert (status.waiting, status.deferred) == (0, 2)
    assert reverie.extract_pending().episodes_seen == 0  # put off until a later run
    llm._reply = lambda messages: json.dumps({"facts": []})
    reverie.sleep("manual")
    status = reverie.extraction_status()
    assert (status.waiting, status.deferred) == (0, 0)
    # Rules proposed both clauses once the model answered validly.
    assert reverie.counts()["memories"] >= 2


def test_low_trust_and_low_confidence_memories_wait_for_review(
    open_store: Callable[..., Reverie], tmp_path: Path
) -> None:
    reverie = open_store(llm=no_facts())
    path = write_chat(tmp_path / "c.jsonl", [
        ("2024-01-01T09:00:00", "Sam", "I signed up for a pottery class at the studio today."),
    ])
    reverie.import_file(path)
    with reverie.store.ledger.transaction() as conn:
        conn.execute("UPDATE sources SET trust = 'external'")
        conn.execute("UPDATE episodes SET extracted = 0")
        conn.execute("DELETE FROM memory_sources")
        conn.execute("UPDATE memories SET status = 'archived'")
    reverie.extract_pending()
    inbox = [i for i in reverie.review_inbox() if i["type"] == "memory"]
    assert len(inbox) == 1
    assert "pottery" in str(inbox[0]["what"])
    reverie.memories.review(str(inbox[0]["id"]), accept=False)
    assert reverie.review_inbox() == []
    status = reverie.store.ledger.query("SELECT status FROM memories WHERE id = ?",
                                        (inbox[0]["id"],))
    assert status[0][0] == "archived"


def test_the_assistants_answers_and_retrieved_memories_are_never_extracted(
    open_store: Callable[..., Reverie], tmp_path: Path
) -> None:
    def reply(messages: Sequence[ChatMessage]) -> str:
        if "facts" in messages[0]["content"] or "JSON" in messages[0]["content"]:
            return json.dumps({"facts": []})
        return "I remember that you adopted a grey kitten called Pepper [1]."

    reverie = open_store(llm=ScriptedLLM(reply))
    reverie.memories.add("I adopted a grey kitten called Pepper from the shelter.")
    conversation = reverie.new_conversation()
    reverie.chat(conversation, "What was my kitten called again?")
    reverie.extract_pending()
    rows = reverie.store.ledger.query(
        "SELECT e.speaker FROM memories m JOIN memory_sources ms ON ms.memory_id = m.id"
        " JOIN episodes e ON e.id = ms.episode_id")
    assert [row[0] for row in rows] == []  # the question asserts nothing; the answer is ours
    assert reverie.counts()["memories"] == 1


def test_forgetting_a_memory_drops_its_entities(
    open_store: Callable[..., Reverie], tmp_path: Path
) -> None:
    reverie = open_store(llm=no_facts())
    path = write_chat(tmp_path / "c.jsonl", [
        ("2024-01-01T09:00:00", "Sam", "I moved to Lisbon with my friend Marta last spring."),
    ])
    reverie.import_file(path)
    assert reverie.store.ledger.query("SELECT COUNT(*) FROM entities")[0][0] >= 2
    source = reverie.store.ledger.query("SELECT id FROM sources")[0][0]
    plan = reverie.memories.plan_forget(ForgetTarget(source_ids=(source,)))
    reverie.memories.forget(plan)
    assert reverie.store.ledger.query("SELECT COUNT(*) FROM entities")[0][0] == 0
    assert reverie.store.ledger.query("SELECT COUNT(*) FROM memory_entities")[0][0] == 0


def test_a_chat_turn_goes_to_the_background_extractor(
    open_store: Callable[..., Reverie],
) -> None:
    def reply(messages: Sequence[ChatMessage]) -> str:
        if "facts" in messages[0]["content"]:
            return json.dumps({"facts": []})
        return "That sounds lovely."

    reverie = open_store(llm=ScriptedLLM(reply))
    heard: list[object] = []
    reverie.start_capture(on_status=lambda statuses: None, on_changes=heard.append)
    try:
        reverie.chat(reverie.new_conversation(),
                     "I adopted a grey kitten called Pepper from the shelter today.")
        deadline = time.monotonic() + 30
        while reverie.extraction_status().waiting and time.monotonic() < deadline:
            time.sleep(0.05)
        rows = reverie.store.ledger.query(
            "SELECT m.text FROM memories m JOIN memory_sources ms ON ms.memory_id = m.id"
            " JOIN episodes e ON e.id = ms.episode_id WHERE e.speaker = 'user'")
        assert any("kitten called Pepper" in row[0] for row in rows)
    finally:
        reverie.capture.stop()


@pytest.mark.parametrize(("said", "expected"), [
    ("The user loves jazz", "I love jazz"),
    ("user moved back to Porto", "I moved back to Porto"),
    ("User is training for a marathon", "I am training for a marathon"),
    ("I moved to Lisbon", "I moved to Lisbon"),
    ("Maya called the user", "Maya called me"),
])
def test_memories_about_the_owner_read_in_their_own_voice(said: str, expected: str) -> None:
    from reverie.core.extract.rewrite import owner_voice

    assert owner_voice(said) == expected


def test_a_statement_in_the_owners_voice_starts_with_a_capital() -> None:
    from reverie.core.extract.rewrite import owner_voice

    assert owner_voice("The user's password is hunter2.") == "My password is hunter2."


@pytest.mark.parametrize(("statement", "expected"), [
    ("Sam is training for the half marathon in May.", datetime(2026, 5, 1)),  # no tense
    ("Sam ran the half marathon in May.", datetime(2025, 5, 1)),  # past
    ("Sam will run the half marathon in May.", datetime(2026, 5, 1)),  # future
])
def test_tense_decides_which_may_a_bare_month_means(statement: str, expected: datetime) -> None:
    said = datetime(2026, 3, 2, 19)
    assert date_statement(statement, MemoryKind.FACT, statement, said).when == expected


def test_a_past_event_keeps_its_day_when_the_future_date_belongs_to_another_part() -> None:
    said = datetime(2026, 3, 2, 19)
    dated = date_statement(
        "Alex signed up for the pottery class, it starts next Monday.", MemoryKind.EVENT,
        "I signed up for the pottery class, it starts next Monday.", said)
    assert dated.when == said
    assert "next Monday (9 March 2026)" in dated.text


def test_a_note_without_subjects_is_still_about_its_author() -> None:
    note = "Went to the dentist on Tuesday. Need to book the car service next week."
    assert clauses.proposals(note) == [
        (MemoryKind.EVENT, "I went to the dentist on Tuesday"),
        (MemoryKind.PLAN, "I need to book the car service next week"),
    ]
    assert clauses.proposals("Like I said, it was fine.") == []


def test_a_period_that_holds_the_moment_it_was_said_keeps_that_moment() -> None:
    said = datetime(2026, 3, 8, 21, 42)
    dated = date_statement("Sam's long run today was 16 kilometres.", MemoryKind.EVENT,
                           "My long run today was 16 kilometres.", said)
    assert dated.when == said
    assert dated.note == '"today", said on 8 March 2026: 8 March 2026'
