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

Names are one person when SQLite's NOCASE calls them equal (ASCII case ignored), as the
timeline's person filter compares them. A person "is mentioned" by a memory the timeline
shows (active or superseded) that is about them or links them: exactly what
`TimelineFilter(about=name)` keeps, so a page's counts and its timeline agree. People
with no such memory (all archived, say) are not listed.

The figures come from `person_days` (schema 7): mentions per person and day, kept by
triggers, so a person's count, first and last day cost a few hundred rows at any size.
The page's "often with" reads the newest `COMPANION_WINDOW` memories that mention them
(by the subject index and the entity links), so it is bounded too. Measured on a
million synthetic memories (bench/_big_store.py's store plus 900,000 person links; 32
people; 2 shared cores; SQLCipher): every person's figures 19 ms (13 s when counted from
the memories), one person with 130,000 mentions 0.6 ms, the whole list 0.6 ms; that
person's page header 1.2 s (the timeline's own filtered read of their days: 1.3 s);
migrating the store to schema 7: 40 s, its backup included.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from reverie.core.store.ledger import Ledger
from reverie.core.store.queries import VISIBLE
from reverie.core.types import OWNER_SPEAKER

OWNER_NAMES = frozenset({OWNER_SPEAKER, "me"})  # how the owner appears: never a person
NOT_PEOPLE = frozenset({"summary"})  # subjects that sit where a name would
COMPANIONS = 5  # how many of the people seen with someone their page names
COMPANION_WINDOW = 2000  # their newest memories the companions are counted in

_STATUS_MARKS = ",".join("?" * len(VISIBLE))
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
# The memories mentioning one person (params: name, name, *VISIBLE): about them (by the
# subject index) or linking an entity of that name (entities are few: one pass over
# them, then their links). CROSS JOIN keeps SQLite driving from those rows: left to
# itself it walks every memory of a status and probes the list.
_MENTIONS = (
    "SELECT m.seq, m.id, m.day FROM ("
    " SELECT seq FROM memories WHERE about = ? COLLATE NOCASE"
    " UNION SELECT m2.seq FROM entities e"
    "  JOIN memory_entities me ON me.entity_id = e.id"
    "  JOIN memories m2 ON m2.id = me.memory_id"
    "  WHERE e.kind = 'person' AND e.name = ? COLLATE NOCASE) AS x"
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
    """`name` as entities' keys fold it: case and spacing ignored."""
    return " ".join(name.lower().split())


def key_of(name: str) -> str:
    """`name` as `person_days` keys it: SQLite's `lower()`, which folds ASCII letters
    only, as its NOCASE does."""
    return name.translate(_ASCII_LOWER)


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
        if is_person_name(name) and wanted in fold(name):
            names.setdefault(key_of(name), name)  # the entity's spelling first
    shown = [name for key, name in names.items() if _mentioned(ledger, key)]
    return sorted(shown, key=lambda name: (fold(name), name))


def person_stats(ledger: Ledger, names: Iterable[str]) -> list[Person]:
    """How many memories mention each of `names`, and the first and last day they do."""
    found = []
    for name in names:
        row = ledger.query(
            "SELECT SUM(n) AS n, MIN(day) AS first, MAX(day) AS last FROM person_days"
            " WHERE key = ? AND n > 0", (key_of(name),))[0]
        found.append(Person(name, int(row["n"] or 0), _day(row["first"]), _day(row["last"])))
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
    """The people most often seen in the memories that mention `name` (their newest
    `COMPANION_WINDOW`): linked to them, or named in their text as written (entity
    linking is narrow on purpose, so "Maya and I planned Mum's party" links Maya only)."""
    key = key_of(name)
    rows = ledger.query(
        f"SELECT x.id, m.text FROM ({_MENTIONS}) AS x CROSS JOIN memories m ON m.seq = x.seq"
        " ORDER BY x.seq DESC LIMIT ?", (name, name, *VISIBLE, COMPANION_WINDOW))
    texts = {str(row["id"]): str(row["text"]) for row in rows}
    seen: dict[str, set[str]] = {memory_id: set() for memory_id in texts}
    ids = list(texts)
    for start in range(0, len(ids), 500):  # SQLite's limit on bound parameters
        chunk = ids[start:start + 500]
        linked = ledger.query(
            "SELECT me.memory_id, e.name FROM memory_entities me JOIN entities e"
            f" ON e.id = me.entity_id WHERE me.memory_id IN ({','.join('?' * len(chunk))})"
            " AND e.kind = 'person'", chunk)
        for row in linked:
            seen[str(row["memory_id"])].add(str(row["name"]))
    others = [other for other in people(ledger) if key_of(other) != key]
    if others:
        named = re.compile(r"(?<!\w)(" + "|".join(
            re.escape(other) for other in sorted(others, key=len, reverse=True)) + r")(?!\w)")
        for memory_id, text in texts.items():
            seen[memory_id].update(named.findall(text))
    counts = Counter(key_of(other) for found in seen.values() for other in found)
    spelling = {key_of(other): other for other in others}
    ranked = sorted(((spelling[k], n) for k, n in counts.items() if k in spelling),
                    key=lambda pair: (-pair[1], fold(pair[0])))
    return tuple(ranked[:COMPANIONS])


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


def _mentioned(ledger: Ledger, key: str) -> bool:
    """True when a memory the timeline shows mentions the person keyed `key`."""
    rows = ledger.query("SELECT 1 FROM person_days WHERE key = ? AND n > 0 LIMIT 1", (key,))
    return bool(rows)


def _day(value: object) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def plan_lines(ledger: Ledger, sql: str, params: Sequence[object]) -> list[str]:
    """EXPLAIN QUERY PLAN of `sql`, one line per step (for the benchmark and tests)."""
    rows = ledger.query(f"EXPLAIN QUERY PLAN {sql}", list(params))
    return [str(row["detail"]) for row in rows]
