"""Applying and undoing one journaled change, each in one transaction with its journal row.

Every change is a batch of its own in the memory history (actor: consolidator), so the
ordinary undo reverts its state; what the history does not hold (citations a merge
moved, links a summary made) is recorded in the change's payload and removed by
`undo_change`. A change whose memories moved on since it was planned (forgotten,
archived, edited by the user) is skipped, never forced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reverie.core.consolidate.journal import ChangeState, JournalChange, mark
from reverie.core.consolidate.plan import summary_id
from reverie.core.embedding import pinned
from reverie.core.store import edits, records
from reverie.core.store.records import NewMemory, now_utc
from reverie.core.types import Actor, MemoryKind, MemoryStatus
from reverie.models.base import Embedder

SUMMARY_ABOUT = "summary"


@dataclass(frozen=True)
class SummaryText:
    """The text a summary change writes, made before its transaction (it may take a
    model call), with the day it is dated."""

    text: str
    when: datetime
    tokens: int


def apply_change(
    conn: Any, change: JournalChange, embedder: Embedder, summary: SummaryText | None = None
) -> str:
    """Apply `change` in `conn`'s transaction and mark it; return its new state."""
    batch = records.new_batch_id()
    label = f"consolidation: {change.op}"
    records.ensure_batch(conn, batch, Actor.CONSOLIDATOR, label)
    applied = _APPLY[change.op](conn, change, batch, embedder, summary)
    if applied is None:
        conn.execute("DELETE FROM batches WHERE id = ?", (batch,))
        mark(conn, change, ChangeState.SKIPPED)
        return ChangeState.SKIPPED
    mark(conn, change, ChangeState.APPLIED, batch, applied)
    return ChangeState.APPLIED


def _usable(conn: Any, memory_id: str, *, allow_protected: bool = False) -> Any:
    row = conn.execute(
        "SELECT status, pinned, user_edited, valid_from FROM memories WHERE id = ?",
        (memory_id,),
    ).fetchone()
    if row is None or row["status"] != MemoryStatus.ACTIVE.value:
        return None
    if (row["pinned"] or row["user_edited"]) and not allow_protected:
        return None
    return row


def _merge(conn: Any, change: JournalChange, batch: str, embedder: Embedder,
           _: SummaryText | None) -> dict[str, Any] | None:
    keep, fold = change.payload["keep"], change.payload["fold"]
    allow = change.state == ChangeState.PROPOSED  # the user accepted it
    if _usable(conn, keep, allow_protected=allow) is None or \
            _usable(conn, fold, allow_protected=allow) is None:
        return None
    cited = [row[0] for row in conn.execute(
        "SELECT episode_id FROM memory_sources WHERE memory_id = ? AND episode_id NOT IN"
        " (SELECT episode_id FROM memory_sources WHERE memory_id = ?) ORDER BY episode_id",
        (fold, keep),
    )]
    conn.executemany("INSERT INTO memory_sources (memory_id, episode_id) VALUES (?, ?)",
                     [(keep, episode) for episode in cited])
    conn.execute("INSERT OR IGNORE INTO memory_links (from_id, relation, to_id)"
                 " VALUES (?, 'merged_into', ?)", (fold, keep))
    edits.change_memory(conn, batch, Actor.CONSOLIDATOR, "merged", fold, changes={
        "status": MemoryStatus.ARCHIVED.value, "retired": now_utc().isoformat(),
        "superseded_by": keep,
    }, embed=embedder)
    return {**change.payload, "moved_citations": cited}


def _supersede(conn: Any, change: JournalChange, batch: str, embedder: Embedder,
               _: SummaryText | None) -> dict[str, Any] | None:
    old, new = change.payload["old"], change.payload["new"]
    allow = change.state == ChangeState.PROPOSED
    successor = _usable(conn, new, allow_protected=True)
    if _usable(conn, old, allow_protected=allow) is None or successor is None:
        return None
    edits.change_memory(conn, batch, Actor.CONSOLIDATOR, "superseded", old, changes={
        "status": MemoryStatus.SUPERSEDED.value, "valid_to": successor["valid_from"],
        "retired": now_utc().isoformat(), "superseded_by": new,
    }, embed=embedder)
    return dict(change.payload)


def _fade(conn: Any, change: JournalChange, batch: str, embedder: Embedder,
          _: SummaryText | None) -> dict[str, Any] | None:
    memory = change.payload["memory"]
    if _usable(conn, memory) is None:
        return None
    recalled = conn.execute("SELECT recalls FROM memories WHERE id = ?", (memory,)).fetchone()
    if recalled["recalls"]:
        return None  # recalled since it was planned: no longer stale
    edits.change_memory(conn, batch, Actor.CONSOLIDATOR, "faded", memory, changes={
        "status": MemoryStatus.ARCHIVED.value, "retired": now_utc().isoformat(),
    }, embed=embedder)
    return dict(change.payload)


def _summary(conn: Any, change: JournalChange, batch: str, embedder: Embedder,
             summary: SummaryText | None) -> dict[str, Any] | None:
    if summary is None:
        raise ValueError("a summary change needs its text")
    ids = change.payload["memories"]
    marks = ",".join("?" * len(ids))
    alive = [row[0] for row in conn.execute(
        f"SELECT id FROM memories WHERE id IN ({marks}) AND status = 'active'", ids)]
    if not alive:
        return None
    alive_marks = ",".join("?" * len(alive))
    episodes = [row[0] for row in conn.execute(
        f"SELECT DISTINCT episode_id FROM memory_sources WHERE memory_id IN ({alive_marks})"
        " ORDER BY episode_id", alive)]
    new_id = summary_id(change.key)
    about = change.payload["period"] if change.payload["scope"] == "person" else SUMMARY_ABOUT
    memory = NewMemory(
        id=new_id, kind=MemoryKind.SUMMARY, text=summary.text, about=about,
        valid_from=summary.when, confidence=0.8, trust="consolidation",
        episode_ids=tuple(episodes),
    )
    records.insert_memory(conn, memory, batch, Actor.CONSOLIDATOR)
    model = pinned(embedder)
    records.store_vector(conn, new_id, model.name, model.embed([summary.text])[0])
    conn.executemany("INSERT OR IGNORE INTO memory_links (from_id, relation, to_id)"
                     " VALUES (?, 'summarises', ?)", [(new_id, m) for m in alive])
    replaced = change.payload.get("replaces")
    if replaced and _usable(conn, replaced, allow_protected=False) is not None:
        edits.change_memory(conn, batch, Actor.CONSOLIDATOR, "superseded", replaced, changes={
            "status": MemoryStatus.SUPERSEDED.value, "retired": now_utc().isoformat(),
            "superseded_by": new_id,
        }, embed=embedder)
    return {**change.payload, "summary": new_id, "memories": alive}


_APPLY = {"merge": _merge, "supersede": _supersede, "fade": _fade, "summary": _summary}


def undo_change(conn: Any, change: JournalChange, embedder: Embedder) -> None:
    """Revert an applied change in `conn`'s transaction (its history batch, the citations
    it moved, the links it made) and mark it undone."""
    if change.state != ChangeState.APPLIED or change.batch is None:
        raise ValueError(f"change {change.seq} of {change.run_id} is not applied")
    edits.undo(conn, batch=change.batch, embed=embedder)
    moved = change.payload.get("moved_citations", [])
    conn.executemany(
        "DELETE FROM memory_sources WHERE memory_id = ? AND episode_id = ?",
        [(change.payload["keep"], episode) for episode in moved],
    )
    if change.op == "merge":
        conn.execute("DELETE FROM memory_links WHERE from_id = ? AND relation = 'merged_into'",
                     (change.payload["fold"],))
    if change.op == "summary":
        conn.execute("DELETE FROM memory_links WHERE from_id = ? AND relation = 'summarises'",
                     (change.payload["summary"],))
    mark(conn, change, ChangeState.UNDONE)
