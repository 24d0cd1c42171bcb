"""Reads of the ledger that several parts share: items by id, days, counts, export."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reverie.core.store.ledger import Ledger
from reverie.core.types import DayCount, Excerpt, ItemKind, SourceRef, TimelineItem

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
    """Days that hold anything, newest first, with how many items each holds.

    Read from `day_counts`, which triggers keep exact, so this costs the same at a
    million memories as at ten.
    """
    rows = ledger.query(
        "SELECT day, episodes + memories AS n FROM day_counts WHERE episodes + memories > 0"
        " ORDER BY day DESC LIMIT ? OFFSET ?",
        (limit, offset),
    )
    return [DayCount(row["day"], int(row["n"])) for row in rows]


def timeline_page(
    ledger: Ledger, day: str, offset: int = 0, limit: int = 200, kind: str | None = None
) -> list[TimelineItem]:
    """One page of a day's memories and episodes, newest first (memories before turns).

    `kind` keeps only memories of that kind (episodes are left out then).
    """
    memory_filter = " AND kind = ?" if kind else ""
    episodes = "" if kind else (
        " UNION ALL SELECT id, 'episode', text, time, ts, speaker, 0, seq, NULL, 0"
        " FROM episodes WHERE day = ?"
    )
    params: list[object] = [day, *VISIBLE, *([kind] if kind else []), *([] if kind else [day])]
    rows = ledger.query(
        "SELECT id, 'memory' AS kind, text, valid_from AS time, valid_from_ts AS ts,"
        " kind AS label, 1 AS rank, seq, status, pinned FROM memories"
        f" WHERE day = ? AND status IN (?, ?){memory_filter}{episodes}"
        " ORDER BY ts DESC, rank DESC, seq DESC LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return [
        TimelineItem(
            id=row["id"], kind=ItemKind(row["kind"]), text=row["text"],
            time=datetime.fromisoformat(row["time"]), label=row["label"],
            status=row["status"], pinned=bool(row["pinned"]),
        )
        for row in rows
    ]


def timeline_items(ledger: Ledger, day: str) -> list[TimelineItem]:
    """Every memory and episode of one day, newest first (memories before their turns)."""
    return timeline_page(ledger, day, 0, -1)


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
