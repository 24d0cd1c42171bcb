"""What a batch changed besides memories' own fields, kept so that its undo puts it back.

History rows hold each memory's state before and after a change. A merge by hand also
moves citations and people onto the survivor, links the merged memory to it and takes
the merged memory's vector out of the index; none of that is a memory's state. Those
effects are kept with their batch (in the ledger's meta table: ids only, never text)
and `edits.undo` reverts them with the batch's states. The undo records the inverse
effects for its own batch, so undoing the undo applies them again.

A batch with effects is undone whole, even when the user undoes one of its rows: half
a merge (one memory back, its citations still on the other) would be a state nobody made.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from reverie.core.embedding import pinned
from reverie.core.store import records
from reverie.models.base import Embedder

KEY_PREFIX = "batch_effects:"

ADD = "add"
REMOVE = "remove"
SOURCE = "source"  # a memory_sources row: (memory id, episode id)
PERSON = "person"  # a memory_entities row: (memory id, entity id)
LINK = "link"  # a memory_links row: (from id, relation, to id)
VECTOR = "vector"  # a memory's vector in the ledger and the index: (memory id,)

Effect = tuple[str, str, tuple[str, ...]]  # (ADD or REMOVE, what, row)


def apply(conn: Any, effects: Sequence[Effect], embed: Embedder) -> None:
    """Carry out `effects` in order in `conn`'s transaction."""
    for verb, what, row in effects:
        if verb not in (ADD, REMOVE) or what not in _APPLY:
            raise ValueError(f"unknown batch effect {verb} {what}")
        _APPLY[what](conn, verb == ADD, row, embed)


def record(conn: Any, batch: str, effects: Sequence[Effect]) -> None:
    """Keep `effects` with `batch`, for its undo (nothing is kept when there are none)."""
    if effects:
        value = json.dumps([[verb, what, list(row)] for verb, what, row in effects])
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                     (KEY_PREFIX + batch, value))


def effects_of(conn: Any, batch: str) -> list[Effect]:
    """The effects kept with `batch` (empty for an ordinary batch)."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (KEY_PREFIX + batch,)).fetchone()
    if row is None:
        return []
    return [(verb, what, tuple(items)) for verb, what, items in json.loads(row[0])]


def people_changed(conn: Any, batch: str, memory_id: str) -> tuple[list[str], list[str]]:
    """The names `batch` linked to and unlinked from `memory_id` (people edited by hand,
    or taken over in a merge); a person no memory names any more has no name left."""
    added: list[str] = []
    removed: list[str] = []
    for verb, what, row in effects_of(conn, batch):
        if what != PERSON or row[0] != memory_id:
            continue
        found = conn.execute("SELECT name FROM entities WHERE id = ?", (row[1],)).fetchone()
        if found is not None:
            (added if verb == ADD else removed).append(str(found[0]))
    return sorted(added, key=str.casefold), sorted(removed, key=str.casefold)


def whole_batch_of(conn: Any, change: int) -> str | None:
    """The batch history row `change` belongs to, when that batch must be undone whole."""
    row = conn.execute("SELECT batch FROM history WHERE seq = ?", (change,)).fetchone()
    if row is None:
        return None
    batch = str(row[0])
    return batch if effects_of(conn, batch) else None


def revert(conn: Any, batch: str, undo_batch: str, embed: Embedder) -> None:
    """Undo `batch`'s effects (newest first) and keep their inverse with `undo_batch`."""
    inverse = [(REMOVE if verb == ADD else ADD, what, row)
               for verb, what, row in reversed(effects_of(conn, batch))]
    apply(conn, inverse, embed)
    record(conn, undo_batch, inverse)


def _source(conn: Any, add: bool, row: tuple[str, ...], _embed: Embedder) -> None:
    memory_id, episode_id = row
    if add:  # a turn forgotten meanwhile is not cited again
        conn.execute("INSERT OR IGNORE INTO memory_sources (memory_id, episode_id)"
                     " SELECT ?, id FROM episodes WHERE id = ?", (memory_id, episode_id))
    else:
        conn.execute("DELETE FROM memory_sources WHERE memory_id = ? AND episode_id = ?",
                     (memory_id, episode_id))


def _person(conn: Any, add: bool, row: tuple[str, ...], _embed: Embedder) -> None:
    memory_id, entity_id = row
    if add:
        conn.execute("INSERT OR IGNORE INTO memory_entities (memory_id, entity_id)"
                     " SELECT ?, id FROM entities WHERE id = ?", (memory_id, entity_id))
    else:
        conn.execute("DELETE FROM memory_entities WHERE memory_id = ? AND entity_id = ?",
                     (memory_id, entity_id))


def _link(conn: Any, add: bool, row: tuple[str, ...], _embed: Embedder) -> None:
    if add:
        conn.execute("INSERT OR IGNORE INTO memory_links (from_id, relation, to_id)"
                     " VALUES (?, ?, ?)", row)
    else:
        conn.execute("DELETE FROM memory_links WHERE from_id = ? AND relation = ?"
                     " AND to_id = ?", row)


def _vector(conn: Any, add: bool, row: tuple[str, ...], embed: Embedder) -> None:
    (memory_id,) = row
    if not add:
        conn.execute("DELETE FROM vectors WHERE item_id = ?", (memory_id,))
        conn.execute("INSERT INTO index_outbox (item_id, op) VALUES (?, 'delete')",
                     (memory_id,))
        return
    found = conn.execute("SELECT text FROM memories WHERE id = ?", (memory_id,)).fetchone()
    if found is None:
        return  # forgotten meanwhile: nothing to index
    # Embedded again rather than kept: a kept vector would hold the memory's meaning
    # outside the ledger's rows that forgetting knows to remove.
    model = pinned(embed)
    records.store_vector(conn, memory_id, model.name, model.embed([found[0]])[0])
    conn.execute("INSERT INTO index_outbox (item_id, op) VALUES (?, 'upsert')", (memory_id,))


_APPLY = {SOURCE: _source, PERSON: _person, LINK: _link, VECTOR: _vector}
