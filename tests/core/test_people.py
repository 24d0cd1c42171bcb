"""Who Reverie counts as a person, and their figures (`core/store/people.py`), on a real
store: memories seeded as extraction writes them, people linked as extraction links them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import pytest

from reverie.core.extract.entities import Entity, EntityKind, link_entities
from reverie.core.service import Reverie
from reverie.core.store import people
from reverie.core.store.queries import VISIBLE
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
]
JORDAN_PEANUTS, CLIMBING, LUNCH, PORTO, RUNNING, SUMMARY, TOM = range(7)


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
    # Maya: linked by climbing and lunch, subject of Porto (in another case).
    assert maya == people.Person("Maya", 3, date(2026, 2, 2), date(2026, 3, 5))
    for person in (jordan, maya):
        flt = TimelineFilter(kinds=ALL_KINDS - {EPISODES}, about=person.name)
        days = reverie.timeline_filtered_days(flt)
        assert sum(day.count for day in days) == person.memories
        assert min(day.day for day in days) == person.first.isoformat()  # type: ignore[union-attr]


def test_a_page_names_turns_and_the_people_seen_with_them(reverie: Reverie) -> None:
    page = reverie.person_page("Maya")
    assert page is not None
    assert page.person.memories == 3
    assert page.turns == 1  # the Porto turn, said by "maya": case does not make another
    assert page.companions == (("Jordan", 1),)
    jordan = reverie.person_page("jordan")
    assert jordan is not None
    assert jordan.turns == 2  # seeded turns are spoken by their subject
    assert jordan.companions == (("Maya", 1),)
    assert reverie.person_page("Tom") is None  # nothing shown mentions Tom any longer
    assert reverie.person_page("me") is None


def test_the_reads_drive_from_the_person_not_the_store(reverie: Reverie) -> None:
    ledger = reverie.store.ledger
    sql = f"SELECT COUNT(*), MIN(day), MAX(day) FROM ({people._MENTIONS})"
    plan = people.plan_lines(ledger, sql, ("Maya", "maya", *VISIBLE))
    assert any("memories_by_about" in line for line in plan)
    assert any("memory_entities_by_entity" in line for line in plan)
    # Memories are only ever looked up by key, never scanned (nor by status: that walks
    # every memory of a status and probes the person's list).
    assert not [line for line in plan if line.startswith("SCAN m") or "by_status" in line]
