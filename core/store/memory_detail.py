"""Everything the app shows about one memory: its fields, where it came from (each
source turn with the span that supports it and the file it was read from), the people
it links to, and the chain of memories it replaced or was replaced by.

Reads only; a few indexed queries, fast enough to run as the user selects a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from reverie.core.extract.grounding import supporting_span
from reverie.core.store.ledger import Ledger
from reverie.core.types import Excerpt

MAX_CHAIN = 20  # a supersede chain longer than this is cut (it would be a bug)


@dataclass(frozen=True)
class Provenance:
    """One source turn a memory was taken from, and where its support lies in it."""

    episode_id: str
    excerpt: Excerpt
    span: tuple[int, int] | None  # character range of `excerpt.text` that supports it
    path: Path | None  # the file it was read from, when Reverie knows one that exists


@dataclass(frozen=True)
class ChainLink:
    """A memory in a supersede or merge chain, as the detail lists it."""

    id: str
    text: str
    status: str
    valid_from: datetime
    valid_to: datetime | None
    relation: str  # "replaced" (older, superseded by this), "replaced by", "merged in"


@dataclass(frozen=True)
class MemoryDetail:
    """One memory in full (bi-temporal: when it held, and when Reverie knew it)."""

    id: str
    kind: str
    text: str
    about: str
    valid_from: datetime  # when it happened or began to hold
    valid_to: datetime | None  # when it stopped holding (superseded)
    recorded: datetime  # when Reverie learned it
    retired: datetime | None  # when Reverie stopped believing it
    status: str
    pinned: bool
    user_edited: bool
    in_review: bool
    confidence: float
    trust: str
    time_note: str | None
    people: tuple[str, ...]
    sources: tuple[Provenance, ...]
    chain: tuple[ChainLink, ...]


def memory_detail(ledger: Ledger, memory_id: str) -> MemoryDetail | None:
    """The memory `memory_id` in full, or None if there is no such memory."""
    rows = ledger.query("SELECT * FROM memories WHERE id = ?", (memory_id,))
    if not rows:
        return None
    row = rows[0]
    people = tuple(str(r["name"]) for r in ledger.query(
        "SELECT e.name FROM memory_entities me JOIN entities e ON e.id = me.entity_id"
        " WHERE me.memory_id = ? AND e.kind = 'person' ORDER BY e.name", (memory_id,)))
    return MemoryDetail(
        id=row["id"], kind=row["kind"], text=row["text"], about=row["about"],
        valid_from=datetime.fromisoformat(row["valid_from"]),
        valid_to=_time(row["valid_to"]), recorded=datetime.fromisoformat(row["recorded"]),
        retired=_time(row["retired"]), status=row["status"], pinned=bool(row["pinned"]),
        user_edited=bool(row["user_edited"]), in_review=bool(row["review"]),
        confidence=float(row["confidence"]), trust=row["trust"], time_note=row["time_note"],
        people=people, sources=_provenance(ledger, memory_id, row["text"]),
        chain=_chain(ledger, memory_id, row["superseded_by"]),
    )


def _provenance(ledger: Ledger, memory_id: str, text: str) -> tuple[Provenance, ...]:
    rows = ledger.query(
        "SELECT e.id, e.source_id, s.name, e.locator, e.speaker, e.text, e.time"
        " FROM memory_sources ms JOIN episodes e ON e.id = ms.episode_id"
        " JOIN sources s ON s.id = e.source_id WHERE ms.memory_id = ? ORDER BY e.ts, e.seq",
        (memory_id,),
    )
    found = []
    for r in rows:
        excerpt = Excerpt(r["name"], r["locator"], r["speaker"], r["text"],
                          datetime.fromisoformat(r["time"]))
        found.append(Provenance(r["id"], excerpt, supporting_span(text, r["text"]),
                                _source_path(ledger, r["source_id"])))
    return tuple(found)


def _source_path(ledger: Ledger, source_id: str) -> Path | None:
    """The file a source was read from: a watched file, else the newest import."""
    rows = ledger.query(
        "SELECT path FROM file_sources WHERE source_id = ? UNION ALL"
        " SELECT path FROM (SELECT path FROM imports WHERE source_id = ? ORDER BY id DESC)",
        (source_id, source_id),
    )
    for row in rows:
        path = Path(row["path"])
        if path.is_file():
            return path
    return None


def _chain(ledger: Ledger, memory_id: str, successor: str | None) -> tuple[ChainLink, ...]:
    """Older memories this one replaced (recursively), those merged into it, and the
    memories that replaced it, oldest first."""
    links: list[ChainLink] = []
    seen = {memory_id}
    older = _replaced_by(ledger, memory_id, seen)
    links.extend(reversed(older))
    for r in ledger.query(
        "SELECT m.* FROM memory_links l JOIN memories m ON m.id = l.from_id"
        " WHERE l.to_id = ? AND l.relation = 'merged_into' ORDER BY m.valid_from_ts",
        (memory_id,),
    ):
        if r["id"] not in seen:
            seen.add(r["id"])
            links.append(_link(r, "merged in"))
    while successor and successor not in seen and len(links) < MAX_CHAIN:
        seen.add(successor)
        rows = ledger.query("SELECT * FROM memories WHERE id = ?", (successor,))
        if not rows:
            break
        links.append(_link(rows[0], "replaced by"))
        successor = rows[0]["superseded_by"]
    return tuple(links)


def _replaced_by(ledger: Ledger, memory_id: str, seen: set[str]) -> list[ChainLink]:
    """Memories superseded by `memory_id`, then those they superseded, newest first."""
    found: list[ChainLink] = []
    frontier = [memory_id]
    while frontier and len(found) < MAX_CHAIN:
        current = frontier.pop()
        for r in ledger.query(
            "SELECT * FROM memories WHERE superseded_by = ? AND status = 'superseded'"
            " ORDER BY valid_from_ts DESC", (current,),
        ):
            if r["id"] not in seen:
                seen.add(r["id"])
                found.append(_link(r, "replaced"))
                frontier.append(r["id"])
    return found


def _link(row: Any, relation: str) -> ChainLink:
    return ChainLink(row["id"], row["text"], row["status"],
                     datetime.fromisoformat(row["valid_from"]), _time(row["valid_to"]), relation)


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)
