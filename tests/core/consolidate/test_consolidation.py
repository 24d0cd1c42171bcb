"""Consolidation on seeded memories: merge, supersede, summarise, fade; journaled,
undoable, dry-runnable, and never over what the user pinned or edited.

Summaries here are extractive (no model): the model's part is tested in
test_consolidation_real.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from reverie.core.consolidate import journal
from reverie.core.errors import BadInput
from reverie.core.service import Reverie
from reverie.core.types import MemoryKind
from tests.core.consolidate.seeding import Seed, memory, seed

NOW = datetime(2024, 12, 1, tzinfo=UTC)


@pytest.fixture
def store(open_store: Callable[..., Reverie]) -> Reverie:
    reverie = open_store()
    reverie.consolidation._llm = None  # extractive summaries: fast and exact
    return reverie


def states(reverie: Reverie) -> dict[str, tuple[object, ...]]:
    rows = reverie.store.ledger.query(
        "SELECT id, status, superseded_by, valid_to FROM memories ORDER BY id")
    return {row["id"]: (row["status"], row["superseded_by"], row["valid_to"]) for row in rows}


def test_near_duplicates_merge_keeping_both_citations(store: Reverie) -> None:
    first, second, other = seed(store, [
        Seed("Sam drinks oat milk every morning.", datetime(2024, 5, 1, 9)),
        Seed("Sam drinks oat milk every single morning.", datetime(2024, 5, 3, 9)),
        Seed("Sam drinks black coffee at night.", datetime(2024, 5, 4, 9)),
    ])
    report = store.consolidation.run(now=NOW)
    assert report.applied >= 1
    kept, folded = memory(store, first), memory(store, second)
    assert kept["status"] == "active"
    assert folded["status"] == "archived"
    assert folded["superseded_by"] == first
    assert set(folded["episodes"]) <= set(kept["episodes"])  # type: ignore[arg-type]
    assert len(kept["episodes"]) == 2  # type: ignore[arg-type]
    assert memory(store, other)["status"] == "active"  # similar topic, another fact


def test_a_newer_home_supersedes_the_older_without_deleting_it(store: Reverie) -> None:
    lisbon, porto = seed(store, [
        Seed("Sam moved to Lisbon last March.", datetime(2024, 3, 1), kind=MemoryKind.EVENT),
        Seed("Sam moved back to Porto.", datetime(2024, 10, 20), kind=MemoryKind.EVENT),
    ])
    store.consolidation.run(now=NOW)
    old = memory(store, lisbon)
    assert old["status"] == "superseded"
    assert old["superseded_by"] == porto
    assert old["valid_to"] == "2024-10-20T00:00:00"
    assert memory(store, porto)["status"] == "active"


def test_pinned_memories_are_untouched_and_proposed_for_review(store: Reverie) -> None:
    lisbon, porto = seed(store, [
        Seed("Sam moved to Lisbon last March.", datetime(2024, 3, 1), kind=MemoryKind.EVENT),
        Seed("Sam moved back to Porto.", datetime(2024, 10, 20), kind=MemoryKind.EVENT),
    ])
    store.memories.pin(lisbon)
    before = memory(store, lisbon)
    store.consolidation.run(now=NOW)
    assert memory(store, lisbon) == before
    inbox = store.review_inbox()
    proposals = [item for item in inbox if item["type"] == "change"]
    assert len(proposals) == 1
    assert "supersede" in str(proposals[0]["what"])
    run_id, _, seq = str(proposals[0]["id"]).partition(":")
    store.consolidation.decide(run_id, int(seq), accept=True)
    assert memory(store, lisbon)["superseded_by"] == porto
    assert not [item for item in store.review_inbox() if item["type"] == "change"]


def test_day_summaries_cite_what_they_condense_and_are_replaced_when_it_grows(
    store: Reverie,
) -> None:
    day = datetime(2024, 6, 10, 9)
    ids = seed(store, [
        Seed("Sam started a pottery class at the studio.", day),
        Seed("Sam bought a blue bicycle from a neighbour.", day.replace(hour=11)),
        Seed("Sam cooked a lentil curry for friends.", day.replace(hour=19)),
    ])
    store.consolidation.run(now=NOW)
    summaries = store.store.ledger.query(
        "SELECT id, text, valid_from FROM memories WHERE kind = 'summary' AND status = 'active'")
    assert len(summaries) == 1
    summary = summaries[0]
    assert summary["text"].startswith("10 June 2024:")
    assert "pottery" in summary["text"]
    cited = memory(store, summary["id"])["episodes"]
    assert len(cited) == 3  # type: ignore[arg-type]
    links = store.store.ledger.query(
        "SELECT to_id FROM memory_links WHERE from_id = ? AND relation = 'summarises'",
        (summary["id"],))
    assert {row[0] for row in links} == set(ids)
    seed(store, [Seed("Sam fixed the kitchen tap on his own.", day.replace(hour=21))])
    store.consolidation.run(now=NOW)
    assert memory(store, summary["id"])["status"] == "superseded"
    current = store.store.ledger.query(
        "SELECT text FROM memories WHERE kind = 'summary' AND status = 'active'"
        " AND about = 'summary'")
    assert len(current) == 1
    assert "tap" in current[0]["text"]


def test_stale_unimportant_memories_fade_to_archived_never_deleted(store: Reverie) -> None:
    old, recalled, fresh = seed(store, [
        Seed("Sam tried a new brand of toothpaste.", datetime(2018, 2, 1),
             kind=MemoryKind.EVENT, confidence=0.5),
        Seed("Sam tried a new brand of shampoo.", datetime(2018, 2, 2),
             kind=MemoryKind.EVENT, confidence=0.5),
        Seed("Sam tried a new brand of soap.", datetime(2024, 11, 1),
             kind=MemoryKind.EVENT, confidence=0.5),
    ])
    with store.store.ledger.transaction() as conn:
        conn.execute("UPDATE memories SET recalls = 2 WHERE id = ?", (recalled,))
        # Learned long ago too: a memory learned recently is not stale, however old.
        conn.execute("UPDATE memories SET recorded_ts = valid_from_ts")
    store.consolidation.run(now=NOW)
    assert memory(store, old)["status"] == "archived"
    assert memory(store, recalled)["status"] == "active"
    assert memory(store, fresh)["status"] == "active"


def test_dry_run_changes_nothing_and_describes_the_plan(store: Reverie) -> None:
    seed(store, [
        Seed("Sam moved to Lisbon last March.", datetime(2024, 3, 1), kind=MemoryKind.EVENT),
        Seed("Sam moved back to Porto.", datetime(2024, 10, 20), kind=MemoryKind.EVENT),
    ])
    before = states(store)
    report = store.consolidation.run(dry_run=True, now=NOW)
    assert report.run_id is None
    assert any(line.startswith("supersede \"Sam moved to Lisbon") for line in report.planned)
    assert states(store) == before
    assert journal.runs(store.store.ledger) == []


def test_a_run_is_undone_per_change_or_whole_and_never_replanned(store: Reverie) -> None:
    seed(store, [
        Seed("Sam moved to Lisbon last March.", datetime(2024, 3, 1), kind=MemoryKind.EVENT),
        Seed("Sam moved back to Porto.", datetime(2024, 10, 20), kind=MemoryKind.EVENT),
        Seed("Sam drinks oat milk every morning.", datetime(2024, 5, 1, 9)),
        Seed("Sam drinks oat milk every single morning.", datetime(2024, 5, 3, 9)),
    ])
    before = states(store)
    citations = store.store.ledger.query("SELECT COUNT(*) FROM memory_sources")[0][0]
    report = store.consolidation.run(now=NOW)
    assert report.run_id is not None
    assert report.applied == 2
    applied = journal.changes(store.store.ledger, report.run_id, "applied")
    store.consolidation.undo(report.run_id, applied[0].seq)
    assert len(journal.changes(store.store.ledger, report.run_id, "applied")) == 1
    store.consolidation.undo(report.run_id)
    assert states(store) == before
    assert store.store.ledger.query("SELECT COUNT(*) FROM memory_sources")[0][0] == citations
    again = store.consolidation.run(now=NOW)
    assert again.applied == 0  # what the user undid stays undone
    with pytest.raises(BadInput):
        store.consolidation.undo(report.run_id)


def test_health_figures_are_computed(store: Reverie) -> None:
    seed(store, [
        Seed("Sam moved to Lisbon last March.", datetime(2024, 3, 1), kind=MemoryKind.EVENT),
        Seed("Sam moved back to Porto.", datetime(2024, 10, 20), kind=MemoryKind.EVENT),
    ])
    store.memories.pin(store.store.ledger.query(
        "SELECT id FROM memories WHERE text LIKE '%Lisbon%'")[0][0])
    figures = store.consolidation.run(now=NOW).figures
    assert figures["contradictions_open"] == 1  # the pinned side waits for the user
    assert figures["duplicate_rate"] == 0.0
    assert figures["share_archived"] == 0.0
    assert figures["review_waiting"] == 1


def test_forgetting_a_memory_forgets_the_summaries_that_repeat_it(store: Reverie) -> None:
    from reverie.core.store.forget import ForgetTarget

    day = datetime(2024, 6, 10, 9)
    secret, *_ = seed(store, [
        Seed("Sam saw a doctor about the zanzibarian rash.", day),
        Seed("Sam bought a blue bicycle from a neighbour.", day.replace(hour=11)),
        Seed("Sam cooked a lentil curry for friends.", day.replace(hour=19)),
    ])
    store.consolidation.run(now=NOW)
    summary = store.store.ledger.query(
        "SELECT id, text FROM memories WHERE kind = 'summary'")[0]
    assert "zanzibarian" in summary["text"]
    plan = store.memories.plan_forget(ForgetTarget(memory_ids=(secret,)))
    assert plan.summary_ids == (summary["id"],)
    assert "1 summary condensing them will be removed too" in plan.describe()
    store.memories.forget(plan)
    left = store.store.ledger.query("SELECT COUNT(*) FROM memories WHERE text LIKE '%zanzib%'")
    assert left[0][0] == 0
    assert store.store.ledger.query(
        "SELECT COUNT(*) FROM memory_links WHERE from_id = ? OR to_id = ?",
        (summary["id"], summary["id"]))[0][0] == 0


def test_a_second_run_finds_nothing_to_do(store: Reverie) -> None:
    day = datetime(2024, 6, 10, 9)
    seed(store, [
        Seed("Sam drinks oat milk every morning.", day),
        Seed("Sam drinks oat milk every single morning.", day.replace(hour=10)),
        Seed("Sam bought a blue bicycle from a neighbour.", day.replace(hour=11)),
        Seed("Sam cooked a lentil curry for friends.", day.replace(hour=19)),
        Seed("Sam fixed the kitchen tap on his own.", day.replace(hour=21)),
    ])
    first = store.consolidation.run(now=NOW)
    assert first.applied >= 2  # the merge, and the summaries of what is left
    assert store.consolidation.plan(NOW) == []
    assert store.consolidation.run(now=NOW).applied == 0


def test_a_memory_waiting_for_review_never_prevails(store: Reverie) -> None:
    same_day = datetime(2024, 10, 21)
    lisbon, porto, doubtful = seed(store, [
        Seed("Sam moved to Lisbon last March.", datetime(2024, 3, 1), kind=MemoryKind.EVENT),
        Seed("Sam moved back to Porto last week.", same_day, kind=MemoryKind.EVENT),
        Seed("Sam is moving back to Lisbon last week.", same_day, kind=MemoryKind.EVENT),
    ])
    with store.store.ledger.transaction() as conn:
        conn.execute("UPDATE memories SET review = 1, confidence = 0.55 WHERE id = ?",
                     (doubtful,))
    store.consolidation.run(now=NOW)
    assert memory(store, lisbon)["superseded_by"] == porto
    assert memory(store, porto)["status"] == "active"


def test_an_old_event_learned_today_does_not_fade(store: Reverie) -> None:
    (old,) = seed(store, [Seed("Sam tried a new brand of toothpaste.", datetime(2012, 2, 1),
                               kind=MemoryKind.EVENT, confidence=0.5)])
    store.consolidation.run()  # now: the memory was recorded moments ago
    assert memory(store, old)["status"] == "active"
