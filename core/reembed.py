"""Changing the embedder: every item is embedded again in the background, and search
keeps using the old index until the new one is complete.

The ledger keeps vectors per model (`vectors`, keyed by item and model), so the work
is resumable by construction: each batch of new vectors is committed with the items
it covers, and a run that was cancelled or killed carries on from what is stored.
The steps:

1. `embedding_target` in the ledger's meta names the model being moved to.
2. Items with a vector of the store's current model and none of the target's are
   embedded, a batch at a time, oldest id first.
3. A new index is built from the target's vectors in `index-next/`.
4. Under the store's index lock (writers' index updates wait): the items added since
   step 2 are embedded, the meta key, the store's model and the facade's embedder
   change, and the new index replaces the old (`Store.switch_index`).
5. Items that a writer stored with the old model during the switch are embedded
   again, the old model's vectors are deleted, the index is reconciled and the meta
   key is cleared.

Search reads the old index, with queries embedded by the old model, until step 4.
"""

from __future__ import annotations

import logging
import shutil
import threading
from dataclasses import dataclass
from typing import Any

from reverie.core.embedding import SwitchableEmbedder
from reverie.core.jobs import Progress, check_cancel, no_progress
from reverie.core.store import records
from reverie.core.store.index import VectorIndex
from reverie.core.store.store import NEXT_INDEX_DIR, Store
from reverie.models.base import Embedder

log = logging.getLogger("reverie.reembed")

TARGET = "embedding_target"
# Items per committed batch. Cancelling waits for the batch under way: 32 texts take
# about 3.5 s with SmolLM2 as the embedder on 2 cores, well under a second with MiniLM.
BATCH = 32


@dataclass(frozen=True)
class ReembedReport:
    """What a re-embedding run did."""

    model: str
    """The model the store uses now."""
    embedded: int
    """Items embedded by this run (earlier, interrupted runs not counted)."""
    total: int
    """Items in the store."""


def pending_target(store: Store) -> str | None:
    """The model an unfinished re-embedding was moving to, if any."""
    return store.meta(TARGET)


def reembed(
    store: Store,
    active: SwitchableEmbedder,
    target: Embedder,
    progress: Progress = no_progress,
    cancel: threading.Event | None = None,
) -> ReembedReport:
    """Move `store` (and `active`, the facade's embedder) to `target`; see the module.

    Cancelling keeps everything embedded so far; the next call carries on.
    """
    total = _count_items(store)
    if store.embedding_model == target.name and pending_target(store) is None:
        return ReembedReport(target.name, 0, total)
    store.set_meta(TARGET, target.name)
    embedded = 0
    if store.embedding_model != target.name:
        embedded += _embed_missing(store, target, store.embedding_model, progress, cancel)
        check_cancel(cancel)
        next_index = _build_next_index(store, target.name, progress, cancel)

        def catch_up() -> None:
            nonlocal embedded
            embedded += _embed_missing(store, target, store.embedding_model, index=next_index)

        store.switch_index(target.name, next_index, catch_up)
        previous = active.switch(target)
        log.info("search now uses %s (was %s)", target.name, previous.name)
    embedded += _finish(store, target)
    return ReembedReport(target.name, embedded, total)


def _count_items(store: Store) -> int:
    rows = store.ledger.query("SELECT COUNT(DISTINCT item_id) FROM vectors")
    return int(rows[0][0])


def _embed_missing(
    store: Store, target: Embedder, source_model: str, progress: Progress = no_progress,
    cancel: threading.Event | None = None, *, index: VectorIndex | None = None,
) -> int:
    """Give every item that has a `source_model` vector a `target` vector too."""
    total = _count_items(store)
    done = _count_vectors(store, target.name)
    after, embedded = "", 0
    while rows := _lacking(store, source_model, target.name, after):
        check_cancel(cancel)
        vectors = target.embed([row["text"] for row in rows])
        with store.ledger.transaction() as conn:
            for row, vector in zip(rows, vectors, strict=True):
                if _text_now(conn, row["id"]) == row["text"]:
                    records.store_vector(conn, row["id"], target.name, vector)
        if index is not None:
            store.upsert_into(index, [row["id"] for row in rows], target.name)
        after = rows[-1]["id"]
        embedded += len(rows)
        progress(min(done + embedded, total), total, f"embedding again with {target.name}")
    return embedded


# The text an item is embedded by: "speaker: text" for a turn, the text of a memory
# (what the importer, the chat and the extractor embed).
_TEXT = ("CASE WHEN e.id IS NOT NULL THEN e.speaker || ': ' || e.text ELSE m.text END AS text"
         " FROM vectors v LEFT JOIN episodes e ON e.id = v.item_id"
         " LEFT JOIN memories m ON m.id = v.item_id")


def _lacking(store: Store, source_model: str, target_model: str, after: str) -> list[Any]:
    # In id order from a cursor, on the vectors' primary key: each batch is a range
    # read, not a scan of the whole table.
    return list(store.ledger.query(
        f"SELECT v.item_id AS id, {_TEXT}"
        " WHERE v.model = ? AND v.item_id > ? AND (e.id IS NOT NULL OR m.id IS NOT NULL)"
        " AND NOT EXISTS (SELECT 1 FROM vectors w WHERE w.item_id = v.item_id"
        " AND w.model = ?) ORDER BY v.item_id LIMIT ?",
        (source_model, after, target_model, BATCH),
    ))


def _text_now(conn: Any, item_id: str) -> str | None:
    """The item's text as stored now; None when it was forgotten. An item edited or
    forgotten while its batch was being embedded is left for a later pass: its new
    vector would describe the old text, or bring a forgotten item back."""
    row = conn.execute(f"SELECT {_TEXT} WHERE v.item_id = ? LIMIT 1", (item_id,)).fetchone()
    return None if row is None else row[0]


def _count_vectors(store: Store, model: str) -> int:
    rows = store.ledger.query("SELECT COUNT(*) FROM vectors WHERE model = ?", (model,))
    return int(rows[0][0])


def _build_next_index(store: Store, model: str, progress: Progress,
                      cancel: threading.Event | None) -> VectorIndex:
    path = store.data_dir / NEXT_INDEX_DIR
    if path.exists():
        shutil.rmtree(path)  # a leftover of an interrupted run: built again whole
    index = VectorIndex(path, model)
    ids = [row["item_id"] for row in store.ledger.query(
        "SELECT item_id FROM vectors WHERE model = ? ORDER BY item_id", (model,))]
    try:
        for start in range(0, len(ids), 512):
            check_cancel(cancel)
            store.upsert_into(index, ids[start:start + 512], model)
            progress(min(start + 512, len(ids)), len(ids), "building the new search index")
    except BaseException:
        index.close()
        raise
    return index


def _finish(store: Store, target: Embedder) -> int:
    """Step 5: no item left without a current vector, no old vectors kept."""
    embedded = 0
    for other in _other_models(store, target.name):
        embedded += _embed_missing(store, target, other)
    with store.ledger.transaction() as conn:
        conn.execute("DELETE FROM vectors WHERE model != ?", (target.name,))
    leftover = store.data_dir / NEXT_INDEX_DIR
    if leftover.exists():
        shutil.rmtree(leftover)  # an interrupted run's, when the target changed since
    _, removed = store.reconcile(full=True)
    if removed:
        # Items forgotten while the new index was built: Chroma keeps deleted vectors
        # in its files until the index is built again.
        store.rebuild_index()
    store.set_meta(TARGET, None)
    return embedded


def _other_models(store: Store, model: str) -> list[str]:
    rows = store.ledger.query("SELECT DISTINCT model FROM vectors WHERE model != ?", (model,))
    return [str(row["model"]) for row in rows]
