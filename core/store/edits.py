"""Changes to memories, each recorded in the history with its state before and after,
and the undo of any change or whole batch of them.

A memory's state is the set of columns a change may touch (`STATE_FIELDS`); history rows
hold it as JSON. Undo writes the state back (as a new, itself undoable change) and
marks the rows it reverted. An undo is refused when a later change to the same memory
still stands, so nothing is overwritten behind the user's back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reverie.core.embedding import pinned
from reverie.core.errors import BadInput
from reverie.core.store import batch_effects, records
from reverie.core.store.records import fts_rowid, now_utc
from reverie.core.timeutil import day_of, to_ts
from reverie.core.types import Actor, ItemKind, MemoryStatus
from reverie.models.base import Embedder

STATE_FIELDS = (
    "kind", "text", "about", "valid_from", "valid_to", "status", "pinned", "user_edited",
    "confidence", "retired", "superseded_by", "review", "time_note",
)
State = dict[str, Any]
Embed = Embedder  # re-embeds a memory whose text a change or an undo replaces


@dataclass(frozen=True)
class Edited:
    """What one call changed: the batch it made and the memories and days it touched."""

    batch: str
    memory_ids: tuple[str, ...]
    days: frozenset[str]


def memory_state(conn: Any, memory_id: str) -> State | None:
    """The memory's current state, or None if there is no such memory."""
    row = conn.execute(
        f"SELECT {', '.join(STATE_FIELDS)} FROM memories WHERE id = ?", (memory_id,)
    ).fetchone()
    return None if row is None else {name: row[name] for name in STATE_FIELDS}


def change_memory(
    conn: Any, batch: str, actor: Actor, action: str, memory_id: str, *, changes: State,
    embed: Embed,
) -> tuple[State, State]:
    """Apply `changes` to one memory and record them; return (before, after).

    A change of text is re-embedded with `embed` and re-indexed (FTS and vectors).
    """
    before = memory_state(conn, memory_id)
    if before is None:
        raise BadInput(f"there is no memory {memory_id}")
    unknown = set(changes) - set(STATE_FIELDS)
    if unknown:
        raise BadInput(f"cannot change {', '.join(sorted(unknown))} of a memory")
    after = {**before, **changes}
    _write_state(conn, memory_id, before, after, embed)
    record_history(conn, batch, memory_id, actor, action, before=before, after=after)
    return before, after


def record_history(
    conn: Any, batch: str, memory_id: str, actor: Actor, action: str, *,
    before: State | None, after: State | None,
) -> None:
    """Append one row to the history."""
    conn.execute(
        "INSERT INTO history (batch, memory_id, actor, action, before, after, at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (batch, memory_id, actor.value, action, _dump(before), _dump(after),
         now_utc().isoformat()),
    )


def undo(conn: Any, *, batch: str | None = None, change: int | None = None,
         embed: Embed) -> Edited:
    """Revert one history row (`change`) or every row of `batch`, newest first."""
    if batch is None and change is not None:
        # A row of a batch with effects (a merge by hand) stands for its whole batch.
        whole = batch_effects.whole_batch_of(conn, change)
        if whole is not None:
            batch, change = whole, None
    rows = _rows_to_undo(conn, batch, change)
    undo_batch = records.new_batch_id()
    label = f"undo of {batch}" if batch else f"undo of change {change}"
    records.ensure_batch(conn, undo_batch, Actor.USER, label)
    days: set[str] = set()
    for row in rows:
        _check_undoable(conn, row)
        current = memory_state(conn, row["memory_id"])
        assert current is not None  # _check_undoable refused forgotten memories
        target = _state_before(row, current)
        _write_state(conn, row["memory_id"], current, target, embed)
        record_history(
            conn, undo_batch, row["memory_id"], Actor.USER, "undo", before=current, after=target
        )
        conn.execute("UPDATE history SET undone_by = ? WHERE seq = ?", (undo_batch, row["seq"]))
        days.update({day_of(_time(current["valid_from"])), day_of(_time(target["valid_from"]))})
    if batch is not None:
        conn.execute("UPDATE batches SET undone_by = ? WHERE id = ?", (undo_batch, batch))
        batch_effects.revert(conn, batch, undo_batch, embed)
    ids = tuple(dict.fromkeys(row["memory_id"] for row in rows))
    return Edited(undo_batch, ids, frozenset(days))


def last_undoable_batch(conn: Any) -> str | None:
    """The newest batch that is neither undone nor an undo itself."""
    row = conn.execute(
        "SELECT b.id FROM batches b WHERE b.undone_by IS NULL"
        " AND b.label NOT LIKE 'undo of %' AND EXISTS (SELECT 1 FROM history h"
        " WHERE h.batch = b.id AND h.undone_by IS NULL AND h.action != 'forgotten')"
        " ORDER BY (SELECT MAX(seq) FROM history h WHERE h.batch = b.id) DESC LIMIT 1"
    ).fetchone()
    return None if row is None else str(row["id"])


def _rows_to_undo(conn: Any, batch: str | None, change: int | None) -> list[Any]:
    if (batch is None) == (change is None):
        raise BadInput("undo needs either a batch or a change")
    if batch is not None:
        rows = conn.execute(
            "SELECT * FROM history WHERE batch = ? AND undone_by IS NULL ORDER BY seq DESC",
            (batch,),
        ).fetchall()
        what = f"batch {batch}"
    else:
        rows = conn.execute(
            "SELECT * FROM history WHERE seq = ? AND undone_by IS NULL", (change,)
        ).fetchall()
        what = f"change {change}"
    if not rows:
        raise BadInput(f"nothing to undo: {what} does not exist or is already undone")
    return list(rows)


def _check_undoable(conn: Any, row: Any) -> None:
    if row["action"] == "forgotten" or memory_state(conn, row["memory_id"]) is None:
        raise BadInput(
            f"memory {row['memory_id']} was forgotten; forgetting cannot be undone"
        )
    # An undo that reverted only changes newer than this row leaves the memory as this
    # row made it, so it does not stand in the way (undo, then undo again, walks back).
    later = conn.execute(
        "SELECT seq, action FROM history h WHERE memory_id = ? AND seq > ?"
        " AND undone_by IS NULL AND batch != ? AND NOT (action = 'undo' AND EXISTS ("
        "  SELECT 1 FROM history u WHERE u.memory_id = h.memory_id AND u.undone_by = h.batch"
        "  AND u.seq > ?)) ORDER BY seq LIMIT 1",
        (row["memory_id"], row["seq"], row["batch"], row["seq"]),
    ).fetchone()
    if later is not None:
        raise BadInput(
            f"memory {row['memory_id']} was changed again later (change {later['seq']}: "
            f"{later['action']}); undo that change first"
        )


def _state_before(row: Any, current: State) -> State:
    if row["before"] is None:
        # Undoing a creation archives the memory: only an explicit forget removes text.
        return {**current, "status": MemoryStatus.ARCHIVED.value,
                "retired": now_utc().isoformat()}
    before: State = json.loads(row["before"])
    return {**current, **before}


def _write_state(conn: Any, memory_id: str, before: State, after: State, embed: Embed) -> None:
    valid_from = _time(after["valid_from"])
    assignments = ", ".join(f"{name} = ?" for name in STATE_FIELDS)
    conn.execute(
        f"UPDATE memories SET {assignments}, valid_from_ts = ?, day = ? WHERE id = ?",
        (*[after[name] for name in STATE_FIELDS], to_ts(valid_from), day_of(valid_from),
         memory_id),
    )
    if after["text"] != before["text"]:
        _reindex_text(conn, memory_id, after["text"], embed)
    elif after["valid_from"] != before["valid_from"]:
        conn.execute("INSERT INTO index_outbox (item_id, op) VALUES (?, 'upsert')", (memory_id,))


def _reindex_text(conn: Any, memory_id: str, text: str, embed: Embed) -> None:
    seq = conn.execute("SELECT seq FROM memories WHERE id = ?", (memory_id,)).fetchone()[0]
    rowid = fts_rowid(ItemKind.MEMORY, int(seq))
    records.write_fts_row(conn, rowid, memory_id, ItemKind.MEMORY, text)
    # Vectors of other embedding models would now describe the old text.
    conn.execute("DELETE FROM vectors WHERE item_id = ?", (memory_id,))
    model = pinned(embed)
    records.store_vector(conn, memory_id, model.name, model.embed([text])[0])
    conn.execute("INSERT INTO index_outbox (item_id, op) VALUES (?, 'upsert')", (memory_id,))


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _dump(state: State | None) -> str | None:
    return None if state is None else json.dumps(state, sort_keys=True, ensure_ascii=False)


def days_of(conn: Any, memory_ids: Sequence[str]) -> frozenset[str]:
    """The days the given memories are on now."""
    marks = ",".join("?" * len(memory_ids))
    rows = conn.execute(f"SELECT DISTINCT day FROM memories WHERE id IN ({marks})",
                        list(memory_ids)).fetchall()
    return frozenset(row["day"] for row in rows)
