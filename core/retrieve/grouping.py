"""Results grouped by provenance: a memory and the turn it came from are one result.

Without grouping, "Jon lost his job as a banker" and Jon's turn saying so take two of
ten places, and the summary of that week a third, while other evidence drops out. Items
that cite the same turn join one group, but two memories stay two results: they say
different things. A group's score is the sum of its members' (agreeing evidence
counts). Its best memory stands for it, as the statement the user curates, with
the turn among its sources; a group without memories is shown by its best turn. A
summary condenses many turns, so it is always a group of its own and never absorbs one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from reverie.core.store.queries import ItemRecord
from reverie.core.types import ItemKind, SourceRef

# A memory joins the groups of its first few cited turns; more would let one memory
# that was restated many times pull unrelated turns together.
MAX_KEYS = 3


@dataclass
class Group:
    """One result: the item that stands for it and the items folded into it."""

    head: ItemRecord
    score: float
    members: list[ItemRecord] = field(default_factory=list)

    @property
    def related(self) -> tuple[str, ...]:
        """Ids of the members other than the head."""
        return tuple(m.id for m in self.members if m.id != self.head.id)


def group_by_provenance(scored: Sequence[tuple[ItemRecord, float]]) -> list[Group]:
    """Groups in descending score; `scored` in any order."""
    ordered = sorted(scored, key=lambda pair: -pair[1])
    groups: list[Group] = []
    by_turn: dict[SourceRef, Group] = {}
    for record, score in ordered:
        keys = _keys(record)
        group = next((by_turn[key] for key in keys if key in by_turn), None)
        if group is not None and record.kind is ItemKind.MEMORY and _has_memory(group):
            group = None  # two statements from one turn are two results
        if group is None:
            group = Group(head=record, score=0.0)
            groups.append(group)
        group.members.append(record)
        group.score += score
        if group.head.kind is ItemKind.EPISODE and record.kind is ItemKind.MEMORY:
            group.head = record
        for key in keys:
            by_turn.setdefault(key, group)
    return sorted(groups, key=lambda g: -g.score)


def _has_memory(group: Group) -> bool:
    return any(member.kind is ItemKind.MEMORY for member in group.members)


def _keys(record: ItemRecord) -> tuple[SourceRef, ...]:
    if record.kind is ItemKind.SUMMARY:
        return ()
    return record.sources[:MAX_KEYS]
