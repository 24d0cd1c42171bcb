"""Reads of the ledger that several parts share: items by id, days, counts, export."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from reverie.core.store.ledger import Ledger
from reverie.core.types import (
    OWNER_SPEAKER,
    DayCount,
    Excerpt,
    ItemKind,
    ItemSource,
    SourceRef,
    TimelineItem,
)

_EPISODES = (
    "SELECT e.id, e.text, e.time, e.ts, e.speaker, e.locator, s.name AS source_name"
    " FROM episodes e JOIN sources s ON s.id = e.source_id"
)
_MEMORIES = (
    "SELECT id, kind, text, valid_from AS time, valid_from_ts AS ts, about, status, confidence,"
    " pinned FROM memories"
)


@dataclass(frozen=True)
class ItemRecord:
    """An episode or memory as search, timeline and export need it."""

    id: str
    kind: ItemKind
    text: str
    time: datetime
    ts: float
    label: str
    sources: tuple[SourceRef, ...]
    status: str | None = None  # a memory's status; None for episodes
    about: str = ""  # whom a memory is about; an episode's speaker
    confidence: float = 1.0
    pinned: bool = False


def items_by_id(ledger: Ledger, item_ids: Sequence[str]) -> dict[str, ItemRecord]:
    """Load episodes and memories by id; unknown ids are left out."""
    found: dict[str, ItemRecord] = {}
    for start in range(0, len(item_ids), 500):
        chunk = list(item_ids[start : start + 500])
        marks = ",".join("?" * len(chunk))
        for row in ledger.query(f"{_EPISODES} WHERE e.id IN ({marks})", chunk):
            found[row["id"]] = _episode_record(row)
        memory_rows = ledger.query(f"{_MEMORIES} WHERE id IN ({marks})", chunk)
        cited = _memory_sources(ledger, [row["id"] for row in memory_rows])
        for row in memory_rows:
            found[row["id"]] = _memory_record(row, cited.get(row["id"], ()))
    return found


def _episode_record(row: Any) -> ItemRecord:
    return ItemRecord(
        id=row["id"], kind=ItemKind.EPISODE, text=row["text"],
        time=datetime.fromisoformat(row["time"]), ts=float(row["ts"]), label=row["speaker"],
        sources=(SourceRef(row["source_name"], row["locator"]),), about=row["speaker"],
    )


def _memory_record(row: Any, sources: tuple[SourceRef, ...]) -> ItemRecord:
    kind = ItemKind.SUMMARY if row["kind"] == "summary" else ItemKind.MEMORY
    return ItemRecord(
        id=row["id"], kind=kind, text=row["text"], time=datetime.fromisoformat(row["time"]),
        ts=float(row["ts"]), label=row["kind"], sources=sources, status=row["status"],
        about=row["about"], confidence=float(row["confidence"]), pinned=bool(row["pinned"]),
    )


def _memory_sources(ledger: Ledger, memory_ids: list[str]) -> dict[str, tuple[SourceRef, ...]]:
    if not memory_ids:
        return {}
    marks = ",".join("?" * len(memory_ids))
    rows = ledger.query(
        "SELECT ms.memory_id, s.name, e.locator FROM memory_sources ms"
        " JOIN episodes e ON e.id = ms.episode_id JOIN sources s ON s.id = e.source_id"
        f" WHERE ms.memory_id IN ({marks}) ORDER BY e.ts, e.seq",
        memory_ids,
    )
    cited: dict[str, list[SourceRef]] = {}
    for row in rows:
        cited.setdefault(row["memory_id"], []).append(SourceRef(row["name"], row["locator"]))
    return {key: tuple(value) for key, value in cited.items()}


VISIBLE = ("active", "superseded")  # what the timeline shows; archived is hidden


def timeline_days(ledger: Ledger, offset: int, limit: int) -> list[DayCount]:
    """Days that hold anything, newest first, with how many items each holds and the
    summaries written for them.

    Read from `day_counts`, which triggers keep exact, so this costs the same at a
    million memories as at ten; the summaries are one more indexed read for the page.
    """
    rows = ledger.query(
        "SELECT day, episodes + memories AS n FROM day_counts WHERE episodes + memories > 0"
        " ORDER BY day DESC LIMIT ? OFFSET ?",
        (limit, offset),
    )
    return with_summaries(ledger, [DayCount(row["day"], int(row["n"])) for row in rows])


SUMMARY_ABOUT = "summary"  # what consolidation writes as `about` of a day or week summary
_WEEK_LABEL = "the week of "  # how consolidation's week summaries begin (summarise.py)


def with_summaries(ledger: Ledger, days: list[DayCount]) -> list[DayCount]:
    """`days` (newest first) with the text of each one's day summary, and on a week's
    Monday the week's summary: active summary memories dated on that day.

    A week summary is dated on its Monday like that day's own summary; it is told apart
    by the memories it summarises lying on other days too, or by its label. Found by
    the subject index (`about` is "summary"), so only day and week summaries are read.
    """
    if not days:
        return days
    rows = ledger.query(
        # Only a Monday's summary may be its week's; by the subject index: the kind or
        # status indexes would read every summary of any subject or every active memory
        # of the range (200-700 ms at a million).
        "SELECT s.day, s.text, strftime('%w', s.day) = '1' AND EXISTS (SELECT 1"
        " FROM memory_links l JOIN memories m ON m.id = l.to_id WHERE l.from_id = s.id"
        " AND l.relation = 'summarises' AND m.day != s.day) AS spans"
        " FROM memories s INDEXED BY memories_by_about"
        " WHERE s.about = ? COLLATE NOCASE AND s.day BETWEEN ? AND ?"
        " AND s.kind = 'summary' AND s.status = 'active' ORDER BY s.valid_from_ts, s.seq",
        (SUMMARY_ABOUT, days[-1].day, days[0].day),
    )
    daily: dict[str, str] = {}
    weekly: dict[str, str] = {}
    for row in rows:  # oldest first: the newest summary of a day wins
        week = bool(row["spans"]) or str(row["text"]).lower().startswith(_WEEK_LABEL)
        (weekly if week else daily)[row["day"]] = str(row["text"])
    if not rows:
        return days
    return [replace(day, summary=daily.get(day.day, ""), week_summary=weekly.get(day.day, ""))
            for day in days]


# Read with every timeline row, in the same query as its day (no read per row): the
# people a memory names (its linked person entities) and whom it is about, and the kind
# of source of a turn it cites (an episode: its own source; a memory's turns nearly
# always share one source, and sorting them to find the first doubled the day's read).
MEMORY_ROW_EXTRAS = (
    "(SELECT group_concat(n.name, char(31)) FROM memory_entities me JOIN entities n"
    " ON n.id = me.entity_id WHERE me.memory_id = memories.id AND n.kind = 'person')"
    " AS people, about, (SELECT s.kind FROM memory_sources ms JOIN episodes e"
    " ON e.id = ms.episode_id JOIN sources s ON s.id = e.source_id"
    " WHERE ms.memory_id = memories.id LIMIT 1) AS source_kind"
)
EPISODE_ROW_EXTRAS = (
    "NULL AS people, '' AS about,"
    " (SELECT s.kind FROM sources s WHERE s.id = episodes.source_id) AS source_kind"
)
# Never shown as a person: the owner as speaker or subject, and a summary's marker (as
# store/people.py counts people, so a chip and the People tab agree).
_NOT_PEOPLE = frozenset({OWNER_SPEAKER, "me", SUMMARY_ABOUT, ""})
_OWN_CHAT = "reverie-chat"  # chat/session.py's source kind
_WATCHED_FILE = "file"  # capture's documents (parsed.SourceKind.FILE)


def item_source(source_kind: str | None) -> ItemSource:
    """The glyph a row gets from its source's kind (None: it cites no turn)."""
    if source_kind is None:
        return ItemSource.NONE
    if source_kind == _OWN_CHAT:
        return ItemSource.CHAT
    return ItemSource.FILE if source_kind == _WATCHED_FILE else ItemSource.IMPORT


def row_people(about: str, names: str | None) -> tuple[str, ...]:
    """Whom a memory is about, then the people it names (by name), each once; never
    the owner or a summary's marker."""
    people: dict[str, str] = {}
    for name in [about, *sorted((names or "").split("\x1f"), key=str.casefold)]:
        if name.strip() and name.casefold() not in _NOT_PEOPLE:
            people.setdefault(name.casefold(), name)
    return tuple(people.values())


def timeline_item(row: Any) -> TimelineItem:
    """A timeline row from a query selecting the timeline's columns and the extras."""
    return TimelineItem(
        id=row["id"], kind=ItemKind(row["kind"]), text=row["text"],
        time=datetime.fromisoformat(row["time"]), label=row["label"],
        status=row["status"], pinned=bool(row["pinned"]),
        people=row_people(row["about"], row["people"]),
        source=item_source(row["source_kind"]),
    )


def timeline_page(
    ledger: Ledger, day: str, offset: int = 0, limit: int = 200, kind: str | None = None
) -> list[TimelineItem]:
    """One page of a day's memories and episodes, newest first (memories before turns).

    `kind` keeps only memories of that kind (episodes are left out then).
    """
    memory_filter = " AND kind = ?" if kind else ""
    episodes = "" if kind else (
        " UNION ALL SELECT id, 'episode', text, time, ts, speaker, 0, seq, NULL, 0,"
        f" {EPISODE_ROW_EXTRAS} FROM episodes WHERE day = ?"
    )
    params: list[object] = [day, *VISIBLE, *([kind] if kind else []), *([] if kind else [day])]
    rows = ledger.query(
        "SELECT id, 'memory' AS kind, text, valid_from AS time, valid_from_ts AS ts,"
        f" kind AS label, 1 AS rank, seq, status, pinned, {MEMORY_ROW_EXTRAS} FROM memories"
        f" WHERE day = ? AND status IN (?, ?){memory_filter}{episodes}"
        " ORDER BY ts DESC, rank DESC, seq DESC LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return [timeline_item(row) for row in rows]


def timeline_items(ledger: Ledger, day: str, offset: int = 0,
                   limit: int = -1) -> list[TimelineItem]:
    """A day's memories and episodes, newest first (memories before their turns): all
    of them, or `limit` (-1: no limit) from `offset`."""
    return timeline_page(ledger, day, offset, limit)


def item_day(ledger: Ledger, item_id: str) -> str | None:
    """The timeline day an episode or memory sits in; None if there is no such item."""
    rows = ledger.query(
        "SELECT day FROM episodes WHERE id = ? UNION ALL SELECT day FROM memories WHERE id = ?",
        (item_id, item_id),
    )
    return str(rows[0]["day"]) if rows else None


def excerpts(ledger: Ledger, item_id: str) -> list[Excerpt]:
    """The source text behind an item, oldest first: an episode's own turn or passage,
    or the turns a memory was taken from (none for one the user wrote, or a summary)."""
    rows = ledger.query(
        "SELECT s.name, e.locator, e.speaker, e.text, e.time"
        " FROM episodes e JOIN sources s ON s.id = e.source_id"
        " WHERE e.id = ? OR e.id IN (SELECT episode_id FROM memory_sources WHERE memory_id = ?)"
        " ORDER BY e.ts, e.seq",
        (item_id, item_id),
    )
    return [
        Excerpt(row["name"], row["locator"], row["speaker"], row["text"],
                datetime.fromisoformat(row["time"]))
        for row in rows
    ]


def counts(ledger: Ledger) -> dict[str, int]:
    """How many sources, episodes, memories and history entries the ledger holds."""
    out: dict[str, int] = {}
    for table in ("sources", "episodes", "memories", "history"):
        out[table] = int(ledger.query(f"SELECT COUNT(*) FROM {table}")[0][0])
    return out


def all_item_ids(ledger: Ledger) -> Iterator[list[str]]:
    """Every episode id then every memory id, in the order they were stored, 500 a page."""
    for table in ("episodes", "memories"):
        last = -1
        while True:
            rows = ledger.query(
                f"SELECT seq, id FROM {table} WHERE seq > ? ORDER BY seq LIMIT 500", (last,)
            )
            if not rows:
                break
            last = rows[-1]["seq"]
            yield [row["id"] for row in rows]
