"""The values that travel between the store, the engine and the UI.

All are frozen dataclasses: a view may keep them without fearing that a worker thread
changes them underneath.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

OWNER_SPEAKER = "user"  # how the person who owns this Reverie is named as a speaker


class ItemKind(enum.StrEnum):
    """What a search hit or timeline row is."""

    EPISODE = "episode"
    MEMORY = "memory"
    SUMMARY = "summary"


class MemoryKind(enum.StrEnum):
    """What a memory states."""

    EVENT = "event"
    FACT = "fact"
    PREFERENCE = "preference"
    PERSON = "person"
    PLAN = "plan"
    SUMMARY = "summary"


class MemoryStatus(enum.StrEnum):
    """Lifecycle of a memory; only the user's forget removes text."""

    ACTIVE = "active"
    SUPERSEDED = "superseded"
    ARCHIVED = "archived"
    FORGOTTEN = "forgotten"


class Actor(enum.StrEnum):
    """Who made a change recorded in the history."""

    USER = "user"
    EXTRACTOR = "extractor"
    CONSOLIDATOR = "consolidator"
    IMPORT = "import"


@dataclass(frozen=True)
class SourceRef:
    """Where a piece of evidence came from: a source and a locator inside it."""

    source: str
    ref: str


@dataclass(frozen=True)
class Excerpt:
    """A turn or passage as its source holds it: where it is, who said it, its text."""

    source: str
    ref: str
    speaker: str
    text: str
    time: datetime


@dataclass(frozen=True)
class Hit:
    """One search result: an episode, memory or summary, with its cited sources."""

    id: str
    kind: ItemKind
    text: str
    score: float
    time: datetime
    sources: tuple[SourceRef, ...]
    speaker: str | None = None
    status: str | None = None  # a memory's status (active, superseded, archived)
    related: tuple[str, ...] = ()  # items folded into this hit: they cite the same turn

    def to_json(self) -> dict[str, object]:
        """The CLI contract shape (docs/cli.md)."""
        return {
            "id": self.id,
            "kind": self.kind.value,
            "text": self.text,
            "score": round(self.score, 6),
            "time": self.time.isoformat(),
            "sources": [{"source": s.source, "ref": s.ref} for s in self.sources],
            "status": self.status,
            "related": list(self.related),
        }


class ItemSource(enum.StrEnum):
    """Where a timeline row came from, as its source glyph shows it."""

    CHAT = "chat"  # Reverie's own chat
    IMPORT = "import"  # an imported conversation export (a chat file, WhatsApp, ...)
    FILE = "file"  # a document or note (a watched folder's, or one imported)
    NONE = ""  # written by the user or by consolidation: no source turn


@dataclass(frozen=True)
class TimelineItem:
    """A row of the timeline: an episode or a memory in its day."""

    id: str
    kind: ItemKind
    text: str
    time: datetime
    label: str  # speaker for episodes, memory kind for memories
    status: str | None = None  # a memory's status; None for episodes
    pinned: bool = False
    people: tuple[str, ...] = ()  # whom a memory is about or names (never the owner)
    source: ItemSource = ItemSource.NONE  # where it came from (a memory: a turn it cites)


@dataclass(frozen=True)
class DayCount:
    """How many timeline items a day holds."""

    day: str  # ISO date, local to the stored time
    count: int
    summary: str = ""  # the day's summary (consolidation), if it has one
    week_summary: str = ""  # on a week's Monday: the week's summary, if any


@dataclass(frozen=True)
class Changes:
    """What a change to the store touched; views refresh from it."""

    episodes_added: int = 0
    memories_added: int = 0
    memories_changed: int = 0
    days: frozenset[str] = field(default_factory=frozenset)
    episodes_removed: int = 0
    memories_removed: int = 0

    @property
    def empty(self) -> bool:
        """True when nothing was changed."""
        return not (
            self.episodes_added or self.memories_added or self.memories_changed
            or self.episodes_removed or self.memories_removed
        )

    def __add__(self, other: Changes) -> Changes:
        return Changes(
            self.episodes_added + other.episodes_added,
            self.memories_added + other.memories_added,
            self.memories_changed + other.memories_changed,
            self.days | other.days,
            self.episodes_removed + other.episodes_removed,
            self.memories_removed + other.memories_removed,
        )


@dataclass(frozen=True)
class HistoryEntry:
    """One recorded change to a memory (its text, if any, is in `before`/`after`)."""

    seq: int
    batch: str
    memory_id: str
    actor: Actor
    action: str
    before: dict[str, object] | None
    after: dict[str, object] | None
    at: datetime
    undone_by: str | None
    people_added: tuple[str, ...] = ()  # names the change linked to the memory
    people_removed: tuple[str, ...] = ()  # names it unlinked (only names still known)


@dataclass(frozen=True)
class ImportReport:
    """The outcome of importing one file."""

    path: str
    sources: tuple[str, ...]  # names of the conversations the file held
    episodes_added: int
    episodes_skipped: int
    memories_added: int
    memories_dropped: int
    changes: Changes
    episodes_withheld: int = 0  # new turns or passages a never-remember rule kept out
