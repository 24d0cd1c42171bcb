"""Who Reverie counts as a person, and their figures (`core/store/people.py`), on a real
store: memories seeded as extraction writes them, people linked as extraction links them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import pytest

from reverie.core.extract.entities import Entity, EntityKind, link_entities
from reverie.core.service import Reverie
from reverie.core.store import people
from reverie.core.store.forget import ForgetTarget
from reverie.core.store.queries import VISIBLE
from reverie.core.store.schema import PERSON_DAYS_BACKFILL
from reverie.core.store.timeline_filter import ALL_KINDS, EPISODES, TimelineFilter
from tests.core.consolidate.seeding import Seed, seed

SEEDS = [
    Seed("Jordan is allergic to peanuts.", datetime(2026, 1, 14, 19), about="Jordan"),
    Seed("Jordan and Maya went climbing.", datetime(2026, 2, 2, 10), about="Jordan"),
    Seed("I had lunch with Maya.", datetime(2026, 2, 20, 12), about="user"),
    Seed("Maya moved to Porto.", datetime(2026, 3, 5, 9), about="maya"),  # case differs
    Seed("I like running.", datetime(2026, 3, 9, 7), about="me"),
    Seed("A quiet month.", datetime(2026, 3, 31, 23), about="summary"),
    Seed("Tom fed the cat.", datetime(2026, 4, 1, 8), about="Tom"),
    Seed("Maya visited Jordan in hospital.", datetime(2026, 3, 7, 15), about="Maya"),
]
JORDAN_PEANUTS, CLIMBING, LUNCH, PORTO, RUNNING, SUMMARY, TOM, VISIT = range(8)


@pytest.fixture
def reverie(open_store: Callable[..., Reverie]) -> Reverie:
    """A store holding `SEEDS`, linked as extraction links (each memory's subject, and
    the people it names after a cue), with Tom's only memory archived."""
    facade = open_store()
    ids = seed(facade, SEEDS)
    jordan, maya = Entity(EntityKind.PERSON, "Jordan"), Entity(EntityKind.PERSON, "Maya")
    with facade.store.ledger.transaction() as conn:
        link_entities(conn, ids[JORDAN_PEANUTS], [jordan])
        link_entities(conn, ids[CLIMBING], [jordan, maya])
        link_entities(conn, ids[LUNCH], [maya])  # about the owner, names Maya
        link_entities(conn, ids[TOM], [Entity(EntityKind.PERSON, "Tom")])
    facade.memories.archive(ids[TOM])
    return facade


def test_people_are_entities_and_subjects_but_never_the_owner(reverie: Reverie) -> None:
    # Maya is one person though written "Maya" and "maya"; Tom's memory is archived;
    # the owner ("user", "me") and summaries' subject are nobody's page.
    assert reverie.person_list() == ["Jordan", "Maya"]
    assert reverie.person_list("AY") == ["Maya"]
    assert reverie.person_list("nobody") == []
    assert not people.is_person_name("  User ")
    assert not people.is_person_name("summary")


def test_figures_count_each_memory_once_and_match_the_person_timeline(
    reverie: Reverie,
) -> None:
    jordan, maya = reverie.person_rows(["Jordan", "Maya"])
    # Climbing is about Jordan and links Jordan: one mention, not two.
    assert jordan == people.Person("Jordan", 2, date(2026, 1, 14), date(2026, 2, 2))
    # Maya: linked by climbing and lunch, subject of Porto (in another case) and the
    # visit (which names Jordan in its text only: not a mention of Jordan).
    assert maya == people.Person("Maya", 4, date(2026, 2, 2), date(2026, 3, 7))
    for person in (jordan, maya):
        flt = TimelineFilter(kinds=ALL_KINDS - {EPISODES}, about=person.name)
        days = reverie.timeline_filtered_days(flt)
        assert sum(day.count for day in days) == person.memories
        assert min(day.day for day in days) == person.first.isoformat()  # type: ignore[union-attr]


def test_a_page_names_turns_and_the_people_seen_with_them(reverie: Reverie) -> None:
    page = reverie.person_page("Maya")
    assert page is not None
    assert page.person.memories == 4
    assert page.turns == 2  # Porto and the visit; "maya" said one: case makes no other
    # Climbing links Jordan (and names him: one memory, counted once); the visit only
    # names him, as written.
    assert page.companions == (("Jordan", 2),)
    jordan = reverie.person_page("jordan")
    assert jordan is not None
    assert jordan.turns == 2  # seeded turns are spoken by their subject
    assert jordan.companions == (("Maya", 1),)
    assert reverie.person_page("Tom") is None  # nothing shown mentions Tom any longer
    assert reverie.person_page("me") is None


def person_days(reverie: Reverie) -> dict[tuple[str, str], int]:
    """What the triggers keep: (key, day) -> mentions, the empty rows left out."""
    rows = reverie.store.ledger.query("SELECT key, day, n FROM person_days WHERE n != 0")
    return {(row["key"], row["day"]): row["n"] for row in rows}


def recounted(reverie: Reverie) -> dict[tuple[str, str], int]:
    """The same counted afresh from the memories and links (the migration's backfill)."""
    with reverie.store.ledger.transaction() as conn:
        conn.execute("SAVEPOINT recount")
        conn.execute("DELETE FROM person_days")
        conn.execute(PERSON_DAYS_BACKFILL)
        rows = conn.execute("SELECT key, day, n FROM person_days").fetchall()
        conn.execute("ROLLBACK TO recount")
        conn.execute("RELEASE recount")
    return {(row["key"], row["day"]): row["n"] for row in rows}


def test_the_counts_kept_by_triggers_follow_every_kind_of_change(reverie: Reverie) -> None:
    ledger = reverie.store.ledger
    ids = [row["id"] for row in ledger.query("SELECT id FROM memories ORDER BY seq")]
    steps: list[Callable[[], object]] = [
        lambda: reverie.memories.edit(ids[PORTO], about="Jordan"),  # subject changes
        lambda: reverie.memories.edit(ids[CLIMBING], when=datetime(2026, 5, 1, 9)),  # day
        lambda: reverie.memories.archive(ids[CLIMBING]),  # hidden: two people lose it
        reverie.memories.undo,  # and back
        lambda: reverie.memories.restore(ids[TOM]),
        lambda: reverie.memories.add("Zoë lent me a tent.", about="Zoë"),
        lambda: reverie.memories.forget(reverie.memories.plan_forget(
            ForgetTarget(memory_ids=(ids[LUNCH],)))),  # links and memory deleted
    ]
    assert person_days(reverie) == recounted(reverie)
    for step in steps:
        step()
        assert person_days(reverie) == recounted(reverie), step
    with ledger.transaction() as conn:  # a link added and removed later
        link_entities(conn, ids[VISIT], [Entity(EntityKind.PERSON, "Jordan")])
    assert person_days(reverie) == recounted(reverie)
    assert reverie.person_rows(["Jordan"])[0].memories == 4  # peanuts, climbing, Porto, visit
    with ledger.transaction() as conn:
        conn.execute("DELETE FROM memory_entities WHERE memory_id = ?", (ids[VISIT],))
    assert person_days(reverie) == recounted(reverie)
    # Each person's figures agree with the timeline's filter, whatever happened.
    for person in reverie.person_rows(reverie.person_list()):
        flt = TimelineFilter(kinds=ALL_KINDS - {EPISODES}, about=person.name)
        assert sum(d.count for d in reverie.timeline_filtered_days(flt)) == person.memories
    assert "Zoë" in reverie.person_list()


def test_the_reads_are_indexed(reverie: Reverie) -> None:
    ledger = reverie.store.ledger
    stats = people.plan_lines(
        ledger, "SELECT SUM(n), MIN(day), MAX(day) FROM person_days WHERE key = ? AND n > 0",
        ("maya",))
    assert stats == ["SEARCH person_days USING PRIMARY KEY (key=?)"]
    sql = f"SELECT COUNT(*) FROM ({people._MENTIONS})"
    plan = people.plan_lines(ledger, sql, ("Maya", "Maya", *VISIBLE))
    assert any("memories_by_about" in line for line in plan)
    assert any("memory_entities_by_entity" in line for line in plan)
    # Memories are only ever looked up by key, never scanned (nor by status: that walks
    # every memory of a status and probes the person's list).
    assert not [line for line in plan if line.startswith("SCAN m") or "by_status" in line]
