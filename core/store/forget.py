"""Forgetting that forgets: memories, turns, whole sources or a span of time.

`plan_forget` says what will go before anything is touched, including memories derived
only from the forgotten turns (they go too) and memories that also cite other turns
(they stay, without the forgotten citations). `apply_forget` deletes the rows, their
full-text entries (FTS5 secure-delete) and their vectors, scrubs the text out of their
history, and leaves tombstones so that a re-import never brings a turn back. The store
then empties the WAL, compacts the vector index and deletes Reverie's own backups.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from reverie.core.errors import BadInput
from reverie.core.store.edits import record_history
from reverie.core.store.ledger import BACKUP_DIR, Ledger
from reverie.core.store.records import fts_rowid, now_utc, remove_episode
from reverie.core.timeutil import to_ts
from reverie.core.types import Actor, ItemKind

CHUNK = 500
CONTENT_TOMBSTONE = "sha256:"  # prefix of a tombstone that names content, not a place


@dataclass(frozen=True)
class ForgetTarget:
    """What the user asked to forget; any mix of the four."""

    memory_ids: tuple[str, ...] = ()
    episode_ids: tuple[str, ...] = ()
    source_ids: tuple[str, ...] = ()
    start: datetime | None = None  # a span [start, end) of time
    end: datetime | None = None


@dataclass(frozen=True)
class ForgetPlan:
    """Everything a forget will remove, to show the user before they confirm."""

    episode_ids: tuple[str, ...]
    memory_ids: tuple[str, ...]  # asked for, or derived only from forgotten turns
    derived_memory_ids: tuple[str, ...]  # the second kind, included in memory_ids
    memories_losing_citations: tuple[str, ...]  # kept: they cite other turns too
    source_ids: tuple[str, ...]
    backups: tuple[Path, ...]
    days: frozenset[str]
    summary_ids: tuple[str, ...] = ()  # summaries of what goes, included in memory_ids

    @property
    def empty(self) -> bool:
        """True when there is nothing to forget."""
        return not (self.episode_ids or self.memory_ids or self.source_ids)

    def describe(self) -> str:
        """One paragraph for the confirmation prompt."""
        parts = [
            _count(len(self.episode_ids), "turn or passage", "turns and passages"),
            _count(len(self.memory_ids), "memory", "memories"),
        ]
        named = [part for part, n in zip(parts, (self.episode_ids, self.memory_ids),
                                         strict=True) if n] or parts
        text = f"{' and '.join(named)} will be removed for good"
        if self.source_ids:
            text += f", with {_count(len(self.source_ids), 'whole source')}"
        text += "."
        if self.derived_memory_ids:
            text += (f" {_count(len(self.derived_memory_ids), 'memory', 'memories')} of "
                     "those came only from the forgotten turns.")
        if self.summary_ids:
            text += (f" {_count(len(self.summary_ids), 'summary', 'summaries')} condensing"
                     " them will be removed too.")
        if self.memories_losing_citations:
            text += (f" {_count(len(self.memories_losing_citations), 'memory', 'memories')}"
                     " also cite other turns: they stay, without these citations.")
        if self.backups:
            text += (f" Reverie's {_count(len(self.backups), 'automatic backup')} from before"
                     " upgrades will be deleted too, since they hold the same text.")
        return text + " This cannot be undone."


def plan_forget(ledger: Ledger, target: ForgetTarget) -> ForgetPlan:
    """Work out what forgetting `target` removes; changes nothing."""
    _check_target(ledger, target)
    episodes = set(target.episode_ids)
    for source_id in target.source_ids:
        episodes.update(_ids(ledger, "SELECT id FROM episodes WHERE source_id = ?", [source_id]))
    memories = set(target.memory_ids)
    if target.start is not None and target.end is not None:
        span = [to_ts(target.start), to_ts(target.end)]
        episodes.update(_ids(ledger, "SELECT id FROM episodes WHERE ts >= ? AND ts < ?", span))
        memories.update(_ids(
            ledger, "SELECT id FROM memories WHERE valid_from_ts >= ? AND valid_from_ts < ?", span
        ))
    derived, losing = _memories_citing(ledger, sorted(episodes))
    derived -= memories
    losing -= memories | derived
    summaries = _summaries_of(ledger, memories | derived, losing)
    derived |= summaries
    losing -= summaries
    all_memories = sorted(memories | derived)
    return ForgetPlan(
        episode_ids=tuple(sorted(episodes)), memory_ids=tuple(all_memories),
        derived_memory_ids=tuple(sorted(derived)),
        memories_losing_citations=tuple(sorted(losing)),
        source_ids=tuple(sorted(set(target.source_ids))),
        backups=tuple(sorted((ledger.path.parent / BACKUP_DIR).glob("*.db"))),
        days=_days(ledger, sorted(episodes), all_memories),
        summary_ids=tuple(sorted(summaries)),
    )


def _summaries_of(ledger: Ledger, forgotten: set[str], losing: set[str]) -> set[str]:
    """Summaries that condensed a forgotten memory or cite a forgotten turn: their text
    may repeat what is being forgotten, so they go too (consolidation writes new ones)."""
    found = set(_ids(ledger, "SELECT id FROM memories WHERE kind = 'summary' AND id IN",
                     sorted(losing)))
    for chunk in _chunks(sorted(forgotten)):
        marks = ",".join("?" * len(chunk))
        found.update(row[0] for row in ledger.query(
            "SELECT DISTINCT from_id FROM memory_links WHERE relation = 'summarises'"
            f" AND to_id IN ({marks})", list(chunk)))
    return found - forgotten


def apply_forget(conn: Any, plan: ForgetPlan, batch: str) -> None:
    """Delete everything in `plan` inside the caller's transaction."""
    for memory_id in plan.memory_ids:
        _forget_memory(conn, memory_id, batch)
    for episode_id in plan.episode_ids:
        _forget_episode(conn, episode_id)
    # A person or place no memory mentions any more is a name nothing needs to keep.
    conn.execute(
        "DELETE FROM entities WHERE NOT EXISTS"
        " (SELECT 1 FROM memory_entities me WHERE me.entity_id = entities.id)"
    )
    at = now_utc().isoformat()
    for source_id in plan.source_ids:
        conn.execute("DELETE FROM imports WHERE source_id = ?", (source_id,))
        conn.execute("DELETE FROM sources WHERE id = ?", (source_id,))
        conn.execute(
            "INSERT OR REPLACE INTO forgotten (source_id, locator, at) VALUES (?, '', ?)",
            (source_id, at),
        )


def _forget_memory(conn: Any, memory_id: str, batch: str) -> None:
    row = conn.execute("SELECT seq FROM memories WHERE id = ?", (memory_id,)).fetchone()
    if row is None:
        return
    conn.execute("DELETE FROM fts WHERE rowid = ?", (fts_rowid(ItemKind.MEMORY, row["seq"]),))
    conn.execute("DELETE FROM vectors WHERE item_id = ?", (memory_id,))
    conn.execute("DELETE FROM memory_sources WHERE memory_id = ?", (memory_id,))
    conn.execute("DELETE FROM memory_entities WHERE memory_id = ?", (memory_id,))
    conn.execute("DELETE FROM memory_links WHERE from_id = ? OR to_id = ?", (memory_id, memory_id))
    conn.execute("DELETE FROM memories WHERE id = ?", (memory_id,))
    conn.execute("INSERT INTO index_outbox (item_id, op) VALUES (?, 'delete')", (memory_id,))
    # The history keeps that a memory existed and was forgotten, never what it said.
    conn.execute(
        "UPDATE history SET before = NULL, after = NULL,"
        " undone_by = COALESCE(undone_by, 'forgotten') WHERE memory_id = ?",
        (memory_id,),
    )
    record_history(conn, batch, memory_id, Actor.USER, "forgotten", before=None, after=None)


def _forget_episode(conn: Any, episode_id: str) -> None:
    row = remove_episode(conn, episode_id)
    if row is None:
        return
    conn.execute(
        "INSERT OR REPLACE INTO forgotten (source_id, locator, at) VALUES (?, ?, ?)",
        (row["source_id"], tombstone_locator(row), now_utc().isoformat()),
    )


def tombstone_locator(row: Any) -> str:
    """What marks a forgotten episode so its source never brings it back.

    A chat turn keeps its place (a message id); a chunk of a document moves when text
    above it is edited, so it is marked by its content's digest instead.
    """
    if row["source_kind"] == "file":
        return CONTENT_TOMBSTONE + str(row["text_sha256"])
    return str(row["locator"])


def _check_target(ledger: Ledger, target: ForgetTarget) -> None:
    if (target.start is None) != (target.end is None):
        raise BadInput("a span of time to forget needs both a start and an end")
    if target.start is not None and target.end is not None and target.start >= target.end:
        raise BadInput("the span of time to forget ends before it starts")
    for table, noun, wanted in (
        ("memories", "memory", target.memory_ids), ("episodes", "turn", target.episode_ids),
        ("sources", "source", target.source_ids),
    ):
        found = set(_ids(ledger, f"SELECT id FROM {table} WHERE id IN", wanted))
        missing = sorted(set(wanted) - found)
        if missing:
            raise BadInput(f"nothing to forget: no {noun} {missing[0]}")


def _memories_citing(ledger: Ledger, episode_ids: Sequence[str]) -> tuple[set[str], set[str]]:
    """Memories citing the episodes: (only them, them and others)."""
    forgotten = set(episode_ids)
    cited: dict[str, set[str]] = {}
    for chunk in _chunks(episode_ids):
        marks = ",".join("?" * len(chunk))
        for row in ledger.query(
            "SELECT ms.memory_id, ms2.episode_id FROM memory_sources ms"
            " JOIN memory_sources ms2 ON ms2.memory_id = ms.memory_id"
            f" WHERE ms.episode_id IN ({marks})",
            list(chunk),
        ):
            cited.setdefault(row["memory_id"], set()).add(row["episode_id"])
    only = {memory for memory, episodes in cited.items() if episodes <= forgotten}
    return only, set(cited) - only


def _ids(ledger: Ledger, sql: str, params: Sequence[Any]) -> list[str]:
    if sql.endswith(" IN"):
        found: list[str] = []
        for chunk in _chunks(params):
            marks = ",".join("?" * len(chunk))
            found.extend(row[0] for row in ledger.query(f"{sql} ({marks})", list(chunk)))
        return found
    return [row[0] for row in ledger.query(sql, list(params))]


def _days(ledger: Ledger, episode_ids: Sequence[str], memory_ids: Sequence[str]) -> frozenset[str]:
    days: set[str] = set()
    for table, ids in (("episodes", episode_ids), ("memories", memory_ids)):
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            days.update(_ids(ledger, f"SELECT DISTINCT day FROM {table} WHERE id IN ({marks})",
                             chunk))
    return frozenset(days)


def _chunks(items: Sequence[Any]) -> list[Sequence[Any]]:
    return [items[start : start + CHUNK] for start in range(0, len(items), CHUNK)]


def _count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else plural or singular + 's'}"
