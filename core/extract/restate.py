"""Write-time de-duplication: a memory said again strengthens the one already stored.

The same fact told five times should be one memory citing five turns, not five copies.
A new statement whose vector lies very close to an active memory about the same person
is taken as a restatement: the stored memory gains the new turn as a citation and a
little confidence (recorded in its history), and no copy is written. Looser
near-duplicates are left for consolidation, which can afford to look harder.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reverie.core.store.edits import change_memory
from reverie.core.store.store import Store
from reverie.core.types import Actor
from reverie.models.base import Embedder

RESTATE_SIMILARITY = 0.9  # cosine; MiniLM puts paraphrases of one fact above this
NEIGHBOURS = 8
CONFIDENCE_GAIN = 0.25  # of the distance left to 1, per restatement


def find_restated(store: Store, about: str, vector: np.ndarray, model: str) -> str | None:
    """The active memory about `about` that a statement with `vector` (made by `model`)
    restates, if any."""
    near = store.nearest(vector, NEIGHBOURS, kind="memory", model=model)
    close = [item_id for item_id, distance in near if 1.0 - distance >= RESTATE_SIMILARITY]
    if not close:
        return None
    marks = ",".join("?" * len(close))
    rows = store.ledger.query(
        f"SELECT id FROM memories WHERE id IN ({marks}) AND status = 'active'"
        " AND about = ? COLLATE NOCASE",
        [*close, about],
    )
    found = {row["id"] for row in rows}
    return next((item_id for item_id in close if item_id in found), None)


def cite_again(
    conn: Any, memory_id: str, episode_id: str, batch: str, embedder: Embedder
) -> bool:
    """Add `episode_id` to the memory's citations and strengthen it (in `conn`'s
    transaction); return False when the memory already cited that turn.

    A memory the user pinned or edited gains the citation but keeps its confidence:
    what the user set is not changed behind their back.
    """
    added = conn.execute(
        "INSERT OR IGNORE INTO memory_sources (memory_id, episode_id) VALUES (?, ?)",
        (memory_id, episode_id),
    ).rowcount
    if not added:
        return False
    row = conn.execute(
        "SELECT confidence, pinned, user_edited FROM memories WHERE id = ?", (memory_id,)
    ).fetchone()
    if not (row["pinned"] or row["user_edited"]):
        confidence = round(row["confidence"] + CONFIDENCE_GAIN * (1 - row["confidence"]), 3)
        change_memory(
            conn, batch, Actor.EXTRACTOR, "restated", memory_id,
            changes={"confidence": confidence}, embed=embedder,
        )
    return True
