"""The user's own merge of two memories: one survives with the text, kind and time the
user chose, the other is marked merged into it.

It is built on the same ledger mechanics as consolidation's merge (history rows with
each memory's state before and after, a `merged_into` link, the merged memory
archived with `superseded_by` naming the survivor), but the actor is the user: the
survivor is marked user-edited, so consolidation never overrides it. The survivor
cites the union of both memories' source turns and links the union of their people;
its text is embedded again, and the merged memory leaves the vector index. All of it is
one transaction and one batch, and the effects that are not a memory's state are kept
with the batch (`store/batch_effects.py`), so undoing the batch, or any one of its
rows, from the history brings both memories back as they were, with their index
entries and links.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reverie.core.editing import MAX_MEMORY_CHARS
from reverie.core.embedding import pinned
from reverie.core.errors import BadInput
from reverie.core.store import batch_effects, edits, records
from reverie.core.store.batch_effects import ADD, LINK, PERSON, REMOVE, SOURCE, VECTOR, Effect
from reverie.core.store.records import NewMemory, now_utc
from reverie.core.store.store import Store
from reverie.core.types import Actor, Changes, MemoryKind, MemoryStatus
from reverie.models.base import Embedder

MERGE_LABEL = "merged by you"


@dataclass(frozen=True)
class MergeRequest:
    """Merge memory `fold` into memory `keep` (or both into a new memory, `into_new`),
    which then holds `text` and, when given, `kind` and `when` (else `keep`'s)."""

    keep: str
    fold: str
    text: str
    kind: MemoryKind | None = None
    when: datetime | None = None
    into_new: bool = False


@dataclass(frozen=True)
class Merged:
    """What a merge did: the memory that holds the result, those merged into it, the
    batch to undo, and the `Changes` the views refresh from."""

    survivor: str
    merged: tuple[str, ...]
    batch: str
    changes: Changes


def merge(store: Store, embedder: Embedder, request: MergeRequest) -> Merged:
    """Merge two memories as `request` says, in one transaction; see the module."""
    text = _checked(request)
    batch = records.new_batch_id()
    with store.ledger.transaction() as conn:
        keep = _mergeable(conn, request.keep)
        fold = _mergeable(conn, request.fold)
        records.ensure_batch(conn, batch, Actor.USER, MERGE_LABEL)
        if request.into_new:
            survivor = _new_survivor(conn, batch, request, rows=(keep, fold), text=text,
                                     embedder=embedder)
            folded: tuple[Any, ...] = (keep, fold)
        else:
            survivor = keep["id"]
            folded = (fold,)
        effects = _move_effects(conn, survivor, folded)
        batch_effects.apply(conn, effects, embedder)
        if not request.into_new:
            edits.change_memory(conn, batch, Actor.USER, "merged", survivor,
                                changes=_survivor_changes(keep, text, request), embed=embedder)
        for row in folded:
            edits.change_memory(conn, batch, Actor.USER, "merged", row["id"], changes={
                "status": MemoryStatus.ARCHIVED.value, "retired": now_utc().isoformat(),
                "superseded_by": survivor,
            }, embed=embedder)
        batch_effects.record(conn, batch, effects)
        days = {keep["day"], fold["day"], *edits.days_of(conn, [survivor])}
    store.sync_index()
    changes = Changes(memories_added=int(request.into_new),
                      memories_changed=len(folded) + (0 if request.into_new else 1),
                      days=frozenset(days))
    return Merged(survivor, tuple(row["id"] for row in folded), batch, changes)


def _checked(request: MergeRequest) -> str:
    if request.keep == request.fold:
        raise BadInput("a memory cannot be merged with itself; choose another memory")
    if request.kind is MemoryKind.SUMMARY:
        raise BadInput("a merged memory cannot be a summary; choose another kind")
    text = " ".join(request.text.split())
    if not text:
        raise BadInput("the merged memory needs some text")
    if len(text) > MAX_MEMORY_CHARS:
        raise BadInput(f"a memory holds at most {MAX_MEMORY_CHARS} characters"
                       f" (the merged text has {len(text)})")
    return text


def _mergeable(conn: Any, memory_id: str) -> Any:
    row = conn.execute(
        "SELECT id, kind, text, about, valid_from, day, status, confidence FROM memories"
        " WHERE id = ?", (memory_id,)).fetchone()
    if row is None:
        raise BadInput(f"there is no memory {memory_id} (it may have been forgotten)")
    if row["kind"] == MemoryKind.SUMMARY.value:
        raise BadInput(f"memory {memory_id} is a summary; summaries are rewritten by"
                       " consolidation, not merged by hand")
    if row["status"] != MemoryStatus.ACTIVE.value:
        raise BadInput(f"memory {memory_id} is {row['status']}; only current memories can"
                       " be merged (restore it first)")
    return row


def _survivor_changes(keep: Any, text: str, request: MergeRequest) -> edits.State:
    changes: edits.State = {"user_edited": 1}
    if text != keep["text"]:
        changes["text"] = text
    if request.kind is not None:
        changes["kind"] = request.kind.value
    if request.when is not None:
        changes["valid_from"] = request.when.isoformat()
    return changes


def _new_survivor(conn: Any, batch: str, request: MergeRequest, *, rows: tuple[Any, Any],
                  text: str, embedder: Embedder) -> str:
    """Create the memory both are merged into, citing the turns they both cite."""
    keep, fold = rows
    episodes = tuple(str(row[0]) for row in conn.execute(
        "SELECT DISTINCT episode_id FROM memory_sources WHERE memory_id IN (?, ?)"
        " ORDER BY episode_id", (keep["id"], fold["id"])))
    memory = NewMemory(
        id="mem_" + uuid.uuid4().hex[:20], kind=request.kind or MemoryKind(keep["kind"]),
        text=text, about=keep["about"],
        valid_from=request.when or datetime.fromisoformat(keep["valid_from"]),
        confidence=max(float(keep["confidence"]), float(fold["confidence"])),
        trust="user", episode_ids=episodes, user_edited=True,
    )
    records.insert_memory(conn, memory, batch, Actor.USER)
    model = pinned(embedder)
    records.store_vector(conn, memory.id, model.name, model.embed([text])[0])
    conn.execute("INSERT INTO index_outbox (item_id, op) VALUES (?, 'upsert')", (memory.id,))
    return memory.id


def _move_effects(conn: Any, survivor: str, folded: tuple[Any, ...]) -> list[Effect]:
    """What moves onto `survivor`: the turns and people it lacks, a merge link from each
    folded memory; and each folded memory's vector leaves the index."""
    effects: list[Effect] = []
    for row in folded:
        for (episode,) in conn.execute(
            "SELECT episode_id FROM memory_sources WHERE memory_id = ? AND episode_id NOT IN"
            " (SELECT episode_id FROM memory_sources WHERE memory_id = ?) ORDER BY episode_id",
            (row["id"], survivor),
        ).fetchall():
            effects.append((ADD, SOURCE, (survivor, str(episode))))
        for (entity,) in conn.execute(
            "SELECT entity_id FROM memory_entities WHERE memory_id = ? AND entity_id NOT IN"
            " (SELECT entity_id FROM memory_entities WHERE memory_id = ?) ORDER BY entity_id",
            (row["id"], survivor),
        ).fetchall():
            effects.append((ADD, PERSON, (survivor, str(entity))))
        link = (row["id"], "merged_into", survivor)
        if conn.execute("SELECT 1 FROM memory_links WHERE from_id = ? AND relation = ?"
                        " AND to_id = ?", link).fetchone() is None:
            effects.append((ADD, LINK, link))  # an undo removes only a link it added
        effects.append((REMOVE, VECTOR, (row["id"],)))
    return [e for n, e in enumerate(effects) if e not in effects[:n]]
