"""Row-level writes and reads of the ledger, one small function per statement.

Every write takes the transaction's connection, so callers decide what is atomic.
Every text write also feeds the full-text index and the index outbox in the same
transaction: the ledger, its FTS and the promise to update the vector index never
disagree.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from reverie.core.timeutil import day_of, to_ts
from reverie.core.types import Actor, ItemKind, MemoryKind, MemoryStatus


@dataclass(frozen=True)
class NewEpisode:
    """An episode about to be written; its id is derived from source and locator."""

    id: str
    locator: str
    speaker: str
    text: str
    time: datetime
    text_sha256: str
    session: str | None = None


@dataclass(frozen=True)
class NewMemory:
    """A memory about to be written, with the episodes it cites."""

    id: str
    kind: MemoryKind
    text: str
    about: str
    valid_from: datetime
    confidence: float
    trust: str
    episode_ids: tuple[str, ...]
    review: bool = False  # waits in the review inbox until the user accepts it
    time_note: str | None = None  # how `valid_from` was worked out, e.g. from "last March"
    user_edited: bool = False  # the user wrote it: consolidation never changes it


def now_utc() -> datetime:
    """The current time, timezone-aware, whole seconds."""
    return datetime.now(UTC).replace(microsecond=0)


def ensure_source(conn: Any, source_id: str, kind: str, name: str, trust: str) -> None:
    """Create the source row unless it exists."""
    conn.execute(
        "INSERT OR IGNORE INTO sources (id, kind, name, trust, added) VALUES (?, ?, ?, ?, ?)",
        (source_id, kind, name, trust, now_utc().isoformat()),
    )


def record_import(conn: Any, source_id: str, path: str, sha256: str, added: int) -> None:
    """Remember that a file was imported, and what it added."""
    conn.execute(
        "INSERT INTO imports (source_id, path, file_sha256, at, episodes_added) "
        "VALUES (?, ?, ?, ?, ?)",
        (source_id, path, sha256, now_utc().isoformat(), added),
    )


def insert_episode(conn: Any, source_id: str, episode: NewEpisode) -> None:
    """Write one episode, its FTS row and its index promise."""
    cursor = conn.execute(
        "INSERT INTO episodes (id, source_id, locator, session, speaker, text, time, ts, day,"
        " text_sha256, recorded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            episode.id, source_id, episode.locator, episode.session, episode.speaker,
            episode.text, episode.time.isoformat(), to_ts(episode.time), day_of(episode.time),
            episode.text_sha256, now_utc().isoformat(),
        ),
    )
    seq = int(cursor.lastrowid)
    text = f"{episode.speaker}: {episode.text}"
    index_text(conn, seq, episode.id, ItemKind.EPISODE, text,
               context=_previous_text(conn, source_id, seq))


def insert_memory(conn: Any, memory: NewMemory, batch: str, actor: Actor) -> None:
    """Write one memory with its provenance, history, FTS row and index promise."""
    recorded = now_utc()
    cursor = conn.execute(
        "INSERT INTO memories (id, kind, text, about, valid_from, valid_from_ts, day, recorded,"
        " recorded_ts, status, confidence, trust, review, time_note, user_edited)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            memory.id, memory.kind.value, memory.text, memory.about,
            memory.valid_from.isoformat(), to_ts(memory.valid_from), day_of(memory.valid_from),
            recorded.isoformat(), to_ts(recorded), MemoryStatus.ACTIVE.value,
            memory.confidence, memory.trust, int(memory.review), memory.time_note,
            int(memory.user_edited),
        ),
    )
    conn.executemany(
        "INSERT INTO memory_sources (memory_id, episode_id) VALUES (?, ?)",
        [(memory.id, episode_id) for episode_id in memory.episode_ids],
    )
    after = {
        "kind": memory.kind.value, "text": memory.text, "about": memory.about,
        "valid_from": memory.valid_from.isoformat(), "valid_to": None,
        "status": MemoryStatus.ACTIVE.value, "pinned": 0, "user_edited": int(memory.user_edited),
        "confidence": memory.confidence, "retired": None, "superseded_by": None,
        "review": int(memory.review), "time_note": memory.time_note,
    }
    conn.execute(
        "INSERT INTO history (batch, memory_id, actor, action, before, after, at)"
        " VALUES (?, ?, ?, 'created', NULL, ?, ?)",
        (batch, memory.id, actor.value, json.dumps(after, sort_keys=True, ensure_ascii=False),
         recorded.isoformat()),
    )
    index_text(conn, -cursor.lastrowid, memory.id, ItemKind.MEMORY, memory.text)


def store_vector(conn: Any, item_id: str, model: str, vector: np.ndarray) -> None:
    """Keep an item's vector in the ledger so the index can be rebuilt without models."""
    blob = np.asarray(vector, dtype=np.float32).tobytes()
    conn.execute(
        "INSERT OR REPLACE INTO vectors (item_id, model, vector) VALUES (?, ?, ?)",
        (item_id, model, blob),
    )


def note_recalled(conn: Any, memory_ids: list[str], when: datetime) -> None:
    """Count that these memories were brought back into an answer (fading weighs it)."""
    conn.executemany(
        "UPDATE memories SET recalls = recalls + 1, last_recalled = ? WHERE id = ?",
        [(when.isoformat(), memory_id) for memory_id in memory_ids],
    )


def mark_extracted(conn: Any, episode_ids: list[str]) -> None:
    """Record that extraction has seen these episodes."""
    conn.executemany("UPDATE episodes SET extracted = 1 WHERE id = ?", [(i,) for i in episode_ids])


def ensure_batch(conn: Any, batch: str, actor: Actor, label: str) -> None:
    """Create the batch row that groups changes undone together, unless it exists."""
    conn.execute(
        "INSERT OR IGNORE INTO batches (id, actor, label, at) VALUES (?, ?, ?, ?)",
        (batch, actor.value, label, now_utc().isoformat()),
    )


def new_batch_id() -> str:
    """A fresh batch id."""
    return "b_" + uuid.uuid4().hex[:16]


def fts_rowid(kind: ItemKind, seq: int) -> int:
    """The FTS row of an item: an episode's seq, a memory's -seq (never both)."""
    return seq if kind is ItemKind.EPISODE else -seq


def index_text(
    conn: Any, rowid: int, item_id: str, kind: ItemKind, text: str, *, context: str = ""
) -> None:
    """Feed an item's text (and an episode's context: the turn before it) to FTS and
    promise its vector to the index, in `conn`'s transaction."""
    write_fts_row(conn, rowid, item_id, kind, text, context=context)
    conn.execute("INSERT INTO index_outbox (item_id, op) VALUES (?, 'upsert')", (item_id,))


def write_fts_row(
    conn: Any, rowid: int, item_id: str, kind: ItemKind, text: str, *, context: str = ""
) -> None:
    """(Re)write one FTS row; secure-delete wipes the words of the row it replaces."""
    conn.execute("DELETE FROM fts WHERE rowid = ?", (rowid,))
    conn.execute(
        "INSERT INTO fts (rowid, text, context, item_id, kind) VALUES (?, ?, ?, ?, ?)",
        (rowid, text, context, item_id, kind),
    )


def _previous_text(conn: Any, source_id: str, seq: int) -> str:
    row = conn.execute(
        "SELECT text FROM episodes WHERE source_id = ? AND seq < ? ORDER BY seq DESC LIMIT 1",
        (source_id, seq),
    ).fetchone()
    return "" if row is None else str(row[0])


def _refresh_follower_context(conn: Any, source_id: str, seq: int) -> None:
    """The episode after `seq` in its source shows the text before it as context: after
    a removal that is another turn's, so its row is rewritten and no removed text stays."""
    follower = conn.execute(
        "SELECT seq, id, speaker, text FROM episodes WHERE source_id = ? AND seq > ?"
        " ORDER BY seq LIMIT 1",
        (source_id, seq),
    ).fetchone()
    if follower is None:
        return
    write_fts_row(
        conn, fts_rowid(ItemKind.EPISODE, int(follower["seq"])), follower["id"],
        ItemKind.EPISODE, f"{follower['speaker']}: {follower['text']}",
        context=_previous_text(conn, source_id, int(follower["seq"])),
    )


def remove_episode(conn: Any, episode_id: str) -> Any:
    """Delete one episode with its FTS row, vector and citations; return its row or None.

    Memories that cited it keep their other citations; the caller decides what becomes
    of a memory left with none.
    """
    row = conn.execute(
        "SELECT e.seq, e.source_id, e.locator, e.text_sha256, e.day, s.kind AS source_kind"
        " FROM episodes e JOIN sources s ON s.id = e.source_id WHERE e.id = ?",
        (episode_id,),
    ).fetchone()
    if row is None:
        return None
    conn.execute("DELETE FROM fts WHERE rowid = ?", (fts_rowid(ItemKind.EPISODE, row["seq"]),))
    conn.execute("DELETE FROM vectors WHERE item_id = ?", (episode_id,))
    conn.execute("DELETE FROM memory_sources WHERE episode_id = ?", (episode_id,))
    conn.execute("DELETE FROM episodes WHERE id = ?", (episode_id,))
    conn.execute("INSERT INTO index_outbox (item_id, op) VALUES (?, 'delete')", (episode_id,))
    _refresh_follower_context(conn, row["source_id"], int(row["seq"]))
    return row

