"""What a query asks about besides its words: the periods and the people it names.

"What did Gina find for her store in February 2023?" names Gina and a month. Both become
soft priors in ranking (search.py), never hard filters: a question may misplace a date by
a few days, and a turn by Jon may still be the answer about Gina.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from reverie.core.store.ledger import Ledger
from reverie.core.timeparse import TimeMention, find_times
from reverie.core.types import OWNER_SPEAKER

# The owner appears as the speaker "user" and as the subject of memories about them
# ("me" for those the user wrote).
_OWNER_NAMES = frozenset({OWNER_SPEAKER, "me"})

_FIRST_PERSON = re.compile(r"\b(?:I|I'm|I've|I'd|me|my|mine|myself)\b")
# Not people, though they sit where a name would: summaries are "about" this.
_NOT_PEOPLE = frozenset({"summary"})


@dataclass(frozen=True)
class QueryPlan:
    """A query as retrieval uses it."""

    text: str
    periods: tuple[TimeMention, ...] = ()
    people: frozenset[str] = frozenset()


def plan_query(
    text: str, as_of: datetime, known_people: Iterable[str], *, time: bool, people: bool
) -> QueryPlan:
    """Find the periods (resolved against `as_of`, past preferred) and the known people
    a query names. Names match whole words; a lower-case name only in an all-lower-case
    query, so "mark my words" does not mean Mark."""
    periods = tuple(find_times(text, as_of, prefer="past")) if time else ()
    named = frozenset(_named_people(text, known_people)) if people else frozenset()
    return QueryPlan(text=text, periods=periods, people=named)


def _named_people(text: str, known: Iterable[str]) -> list[str]:
    casual = text == text.lower()
    found = []
    for name in known:
        if name in _NOT_PEOPLE or name in _OWNER_NAMES or len(name) < 2:
            continue
        flags = re.IGNORECASE if casual else 0
        if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, flags):
            found.append(name)
    if not found and _FIRST_PERSON.search(text):
        found += [name for name in _OWNER_NAMES if name in known]
    return found


class KnownPeople:
    """The speakers and memory subjects in the store, read again only after it changed.

    Read by index skip-scans (one probe per distinct name), and cached against the
    newest episode, memory and history rows, so a query costs a few microseconds.
    """

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self._marker: tuple[int, int, int] | None = None
        self._names: frozenset[str] = frozenset()

    def names(self) -> frozenset[str]:
        """All distinct speakers and memory subjects."""
        marker = self._current_marker()
        if marker != self._marker:
            self._names = frozenset(self._distinct("episodes", "speaker", "")) | frozenset(
                self._distinct("memories", "about", " COLLATE NOCASE"))
            self._marker = marker
        return self._names

    def _current_marker(self) -> tuple[int, int, int]:
        row = self._ledger.query(
            "SELECT (SELECT COALESCE(MAX(seq), 0) FROM episodes),"
            " (SELECT COALESCE(MAX(seq), 0) FROM memories),"
            " (SELECT COALESCE(MAX(seq), 0) FROM history)"
        )[0]
        return int(row[0]), int(row[1]), int(row[2])

    def _distinct(self, table: str, column: str, collate: str) -> list[str]:
        rows = self._ledger.query(
            f"WITH RECURSIVE walk(name) AS ("
            f" SELECT MIN({column}{collate}) FROM {table}"
            f" UNION ALL SELECT (SELECT MIN({column}{collate}) FROM {table}"
            f"  WHERE {column} > walk.name{collate}) FROM walk WHERE walk.name IS NOT NULL)"
            f" SELECT name FROM walk WHERE name IS NOT NULL"
        )
        return [str(row[0]) for row in rows]
