"""The people Reverie knows: who they are, how often memories mention them, and when.

Who counts as a person:
- every person entity (`entities.kind = 'person'`): extraction links the people a memory
  is about, the speakers it names and the people it names after a word of relation
  (extract/entities.py); and
- every subject of a memory (`memories.about`) besides the owner: a memory the user wrote
  or edited about "Sam" makes Sam a person even when no entity was linked.

Not people: the owner (the speaker `user`, the subject `me`: the user has no page of
their own), summaries' subject `summary`, and a speaker alone. Assistants (ChatGPT,
Claude, Reverie itself) and a note's author are speakers too, and nothing in the ledger
tells them from a friend; a speaker becomes a person once a memory is about them or
names them, and their page then also counts the turns they wrote.

Names are one person when they fold to the same key (case and spacing ignored, as
entities' keys are). A person "is mentioned" by a memory the timeline shows (active or
superseded) that is about them or links them: exactly what
`TimelineFilter(about=name)` keeps, so a page's counts and its timeline agree. People
with no such memory (all archived, say) are not listed.

Every read is indexed (memories by subject, entity links by entity, episodes by
speaker); figures at a million memories are in docs/benchmarks.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from reverie.core.store.ledger import Ledger
from reverie.core.store.queries import VISIBLE
from reverie.core.types import OWNER_SPEAKER

OWNER_NAMES = frozenset({OWNER_SPEAKER, "me"})  # how the owner appears: never a person
NOT_PEOPLE = frozenset({"summary"})  # subjects that sit where a name would
COMPANIONS = 5  # how many of the people seen with someone their page names

_STATUS_MARKS = ",".join("?" * len(VISIBLE))
# The memories mentioning one person (params: name, key, *VISIBLE): about them (by the
# subject index) or linking their entity (by the entity's unique key, then its links).
# CROSS JOIN keeps SQLite driving from those few rows: left to itself it scans every
# memory of a status and probes the list (O(store), not O(mentions)).
_MENTIONS = (
    "SELECT m.seq, m.id, m.day FROM ("
    " SELECT seq FROM memories WHERE about = ? COLLATE NOCASE"
    " UNION SELECT m2.seq FROM entities e"
    "  JOIN memory_entities me ON me.entity_id = e.id"
    "  JOIN memories m2 ON m2.id = me.memory_id"
    "  WHERE e.kind = 'person' AND e.key = ?) AS x"
    " CROSS JOIN memories m ON m.seq = x.seq"
    f" WHERE m.status IN ({_STATUS_MARKS})"
)


@dataclass(frozen=True)
class Person:
    """One row of the people list."""

    name: str
    memories: int  # memories the timeline shows that mention them
    first: date | None  # the day of the earliest such memory
    last: date | None  # the day of the newest


@dataclass(frozen=True)
class PersonPage:
    """The header of a person's page."""

    person: Person
    turns: int  # turns and passages they wrote (as a speaker)
    companions: tuple[tuple[str, int], ...]  # people mentioned with them most, and how often


def fold(name: str) -> str:
    """`name` as a key: case and spacing do not make another person (as entities' keys)."""
    return " ".join(name.lower().split())


def is_person_name(name: str) -> bool:
    """False for the owner's names, summaries' subject and blank names."""
    key = fold(name)
    return bool(key) and key not in OWNER_NAMES and key not in NOT_PEOPLE


def people(ledger: Ledger, text: str = "") -> list[str]:
    """Every person with a memory the timeline shows, by name; `text` keeps only the
    names that contain it (case ignored)."""
    wanted = fold(text)
    names: dict[str, str] = {}
    for name in _entity_names(ledger) + _subjects(ledger):
        key = fold(name)
        if is_person_name(name) and wanted in key:
            names.setdefault(key, name)  # the entity's spelling first
    return [name for key, name in sorted(names.items()) if _mentioned(ledger, name, key)]


def person_stats(ledger: Ledger, names: Iterable[str]) -> list[Person]:
    """How many memories mention each of `names`, and the first and last day they do."""
    found = []
    for name in names:
        rows = ledger.query(
            f"SELECT COUNT(*) AS n, MIN(day) AS first, MAX(day) AS last FROM ({_MENTIONS})",
            (name, fold(name), *VISIBLE))
        row = rows[0]
        found.append(Person(name, int(row["n"]), _day(row["first"]), _day(row["last"])))
    return found


def person_page(ledger: Ledger, name: str) -> PersonPage | None:
    """The header of `name`'s page; None when no memory mentions them (any longer)."""
    if not is_person_name(name):
        return None
    person = person_stats(ledger, [name])[0]
    if not person.memories:
        return None
    turns = ledger.query("SELECT COUNT(*) AS n FROM episodes WHERE speaker = ? COLLATE NOCASE",
                         (name,))
    return PersonPage(person, int(turns[0]["n"]), _companions(ledger, name))


def _companions(ledger: Ledger, name: str) -> tuple[tuple[str, int], ...]:
    """The people most often linked to the memories that mention `name`."""
    rows = ledger.query(
        f"SELECT e.name, COUNT(*) AS n FROM ({_MENTIONS}) AS x"
        " CROSS JOIN memory_entities me ON me.memory_id = x.id"
        " CROSS JOIN entities e ON e.id = me.entity_id"
        " WHERE e.kind = 'person' AND e.key != ?"
        " GROUP BY e.id ORDER BY n DESC, e.key LIMIT ?",
        (name, fold(name), *VISIBLE, fold(name), COMPANIONS + len(OWNER_NAMES)))
    pairs = [(str(row["name"]), int(row["n"])) for row in rows if is_person_name(row["name"])]
    return tuple(pairs[:COMPANIONS])


def _entity_names(ledger: Ledger) -> list[str]:
    """Every person entity's name (by the entities' (kind, key) index)."""
    rows = ledger.query("SELECT name FROM entities WHERE kind = 'person' ORDER BY key")
    return [str(row["name"]) for row in rows]


def _subjects(ledger: Ledger) -> list[str]:
    """Every distinct memory subject, by an index skip-scan: one probe per subject."""
    rows = ledger.query(
        "WITH RECURSIVE walk(name) AS ("
        " SELECT MIN(about COLLATE NOCASE) FROM memories"
        " UNION ALL SELECT (SELECT MIN(about COLLATE NOCASE) FROM memories"
        "  WHERE about > walk.name COLLATE NOCASE) FROM walk WHERE walk.name IS NOT NULL)"
        " SELECT name FROM walk WHERE name IS NOT NULL")
    return [str(row[0]) for row in rows]


def _mentioned(ledger: Ledger, name: str, key: str) -> bool:
    """True when a memory the timeline shows mentions `name`: two probes, each ending at
    the first such memory (never counting them all)."""
    rows = ledger.query(
        f"SELECT EXISTS (SELECT 1 FROM memories WHERE about = ? COLLATE NOCASE"
        f"  AND status IN ({_STATUS_MARKS}))"
        " OR EXISTS (SELECT 1 FROM entities e JOIN memory_entities me ON me.entity_id = e.id"
        "  JOIN memories m ON m.id = me.memory_id"
        f"  WHERE e.kind = 'person' AND e.key = ? AND m.status IN ({_STATUS_MARKS}))",
        (name, *VISIBLE, key, *VISIBLE))
    return bool(rows[0][0])


def _day(value: object) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def plan_lines(ledger: Ledger, sql: str, params: Sequence[object]) -> list[str]:
    """EXPLAIN QUERY PLAN of `sql`, one line per step (for the benchmark and tests)."""
    rows = ledger.query(f"EXPLAIN QUERY PLAN {sql}", list(params))
    return [str(row["detail"]) for row in rows]
