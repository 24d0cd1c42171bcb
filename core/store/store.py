"""The store: the ledger plus the vector index derived from it, kept in step.

Writes land in the ledger first, together with an outbox row per item whose vector must
reach the index. `sync_index` applies the outbox and clears it, so an index update that
did not happen (crash, error) is replayed on the next sync; `reconcile` compares the
whole index with the ledger at start-up.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from reverie.core.store.index import IndexEntry, VectorIndex
from reverie.core.store.ledger import Ledger
from reverie.core.store.lock import DataDirLock

log = logging.getLogger("reverie.store")

LEDGER_FILE = "ledger.db"
INDEX_DIR = "index"


class Store:
    """Owns a data directory: its lock, its ledger and its vector index."""

    def __init__(self, data_dir: Path, embedding_model: str) -> None:
        self.data_dir = data_dir
        self.embedding_model = embedding_model
        self._closed = False
        self._lock = DataDirLock(data_dir)
        self._lock.acquire()
        try:
            self.ledger = Ledger(data_dir / LEDGER_FILE)
            self.index = VectorIndex(data_dir / INDEX_DIR, embedding_model)
        except BaseException:
            self._lock.release()
            raise

    def sync_index(self) -> int:
        """Apply pending index changes from the outbox; return how many were applied."""
        pending = self.ledger.query("SELECT seq, item_id, op FROM index_outbox ORDER BY seq")
        if not pending:
            return 0
        upserts = sorted({row["item_id"] for row in pending if row["op"] == "upsert"})
        deletes = sorted({row["item_id"] for row in pending if row["op"] == "delete"})
        self._upsert_from_ledger(upserts)
        self.index.delete(deletes)
        last = pending[-1]["seq"]
        with self.ledger.transaction() as conn:
            conn.execute("DELETE FROM index_outbox WHERE seq <= ?", (last,))
        return len(pending)

    def reconcile(self) -> tuple[int, int]:
        """Make the index hold exactly the ledger's vectors: (added, removed)."""
        self.sync_index()
        wanted = {
            row["item_id"]
            for row in self.ledger.query(
                "SELECT item_id FROM vectors WHERE model = ?", (self.embedding_model,)
            )
        }
        present = self.index.ids()
        missing = sorted(wanted - present)
        orphaned = sorted(present - wanted)
        self._upsert_from_ledger(missing)
        self.index.delete(orphaned)
        if missing or orphaned:
            log.warning("index reconciled: %d added, %d removed", len(missing), len(orphaned))
        return len(missing), len(orphaned)

    def _upsert_from_ledger(self, item_ids: list[str], batch: int = 512) -> None:
        for start in range(0, len(item_ids), batch):
            chunk = item_ids[start : start + batch]
            marks = ",".join("?" * len(chunk))
            rows = self.ledger.query(
                f"SELECT v.item_id, v.vector, COALESCE(e.ts, m.valid_from_ts) AS ts,"
                f" CASE WHEN e.id IS NULL THEN 'memory' ELSE 'episode' END AS kind"
                f" FROM vectors v LEFT JOIN episodes e ON e.id = v.item_id"
                f" LEFT JOIN memories m ON m.id = v.item_id"
                f" WHERE v.model = ? AND v.item_id IN ({marks})"
                f" AND (e.id IS NOT NULL OR m.id IS NOT NULL)",
                [self.embedding_model, *chunk],
            )
            if not rows:
                continue
            entries = [IndexEntry(r["item_id"], r["kind"], float(r["ts"])) for r in rows]
            vectors = np.stack([np.frombuffer(r["vector"], dtype=np.float32) for r in rows])
            self.index.upsert(entries, vectors)

    def close(self) -> None:
        """Close the ledger and release the data directory; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        try:
            self.ledger.close()
        finally:
            self._lock.release()
