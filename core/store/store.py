"""The store: the ledger plus the vector index derived from it, kept in step.

Writes land in the ledger first, together with an outbox row per item whose vector must
reach the index. `sync_index` applies the outbox and clears it, so an index update that
did not happen (crash, error) is replayed on the next sync; `reconcile` compares the
whole index with the ledger at start-up. An index that cannot be read, or that no
longer finds an item by its own vector, is rebuilt from the vectors the ledger keeps:
no model runs for that.
"""

from __future__ import annotations

import logging
import random
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from reverie.core.errors import StoreError
from reverie.core.jobs import Progress, check_cancel, no_progress
from reverie.core.store.index import IndexEntry, VectorIndex
from reverie.core.store.keys import Unlocker
from reverie.core.store.lock import DataDirLock
from reverie.core.store.vault import change_key, open_ledger

log = logging.getLogger("reverie.store")

INDEX_DIR = "index"
NEXT_INDEX_DIR = "index-next"  # the index a re-embedding builds, until it takes over
PROBES = 3
ACTIVE_EMBEDDER = "embedding_model"  # whose vectors the index holds and queries use
# Set while the index may still hold vectors of forgotten items (until compaction).
NEEDS_COMPACTION = "index_needs_compaction"


class Store:
    """Owns a data directory: its lock, its ledger and its vector index."""

    def __init__(self, data_dir: Path, embedding_model: str, unlocker: Unlocker, *,
                 index_in_background: bool = False) -> None:
        """Open `data_dir`; a new store's vectors will be `embedding_model`'s.

        A store keeps the embedder its index was built with (`embedding_model` after
        opening may differ from the one asked for: the caller then needs that one to
        search, see `core.reembed`). The index is opened, compacted if a forget left it
        so, and reconciled with the ledger; with `index_in_background` that happens on a
        thread of its own (Chroma takes about a second to start), and whatever needs the
        index waits for it, while the ledger serves reads at once.
        """
        self.data_dir = data_dir
        self._closed = False
        self._index_lock = threading.Lock()
        self._index: VectorIndex | None = None
        self._index_problem: BaseException | None = None
        self._opener: threading.Thread | None = None
        self._lock = DataDirLock(data_dir)
        self._lock.acquire()
        try:
            self.ledger = open_ledger(data_dir, unlocker)
            self.embedding_model = self._active_model(embedding_model)
            if index_in_background:
                # Held until the index is ready: every index user takes this lock first.
                self._index_lock.acquire()
                self._opener = threading.Thread(
                    target=self._open_index_in_background, name="reverie-index-open",
                    daemon=True)
                self._opener.start()
            else:
                self._prepare_index()
        except BaseException:
            if hasattr(self, "ledger"):
                self.ledger.close()
            self._lock.release()
            raise

    @property
    def index(self) -> VectorIndex:
        """The vector index; raises StoreError when it could not be opened."""
        if self._index is None:
            if self._opener is not None:
                self._opener.join()
            if self._index is None:
                raise StoreError(
                    f"The search index could not be opened ({self._index_problem!r}); "
                    "run `reverie reindex` to rebuild it from the ledger"
                )
        return self._index

    @property
    def index_ready(self) -> bool:
        """Whether the index has been opened (and reconciled) yet."""
        opening = self._opener is not None and self._opener.is_alive()
        return self._index is not None and not opening

    def _open_index_in_background(self) -> None:
        try:
            self._prepare_index()
        except BaseException as exc:  # surfaced to whoever uses the index next
            self._index_problem = exc
            log.exception("the search index could not be opened")
        finally:
            self._index_lock.release()

    def _prepare_index(self) -> None:
        started = time.perf_counter()
        self._index = self._open_index()
        if self.meta(NEEDS_COMPACTION):
            # A forget was interrupted before Chroma's files were compacted.
            self._rebuild(no_progress, None)
        added, removed = self._reconcile(full=False)
        log.info("index open and reconciled (+%d, -%d) in %.2f s", added, removed,
                 time.perf_counter() - started)

    def _active_model(self, default: str) -> str:
        recorded = self.meta(ACTIVE_EMBEDDER)
        if recorded is None:
            # Stores from before the key existed: their vectors say whose they are.
            rows = self.ledger.query("SELECT model FROM vectors LIMIT 1")
            recorded = str(rows[0]["model"]) if rows else default
            self.set_meta(ACTIVE_EMBEDDER, recorded)
        return recorded

    def switch_index(self, model: str, next_index: VectorIndex,
                     catch_up: Callable[[], None]) -> None:
        """Make `next_index` (built in NEXT_INDEX_DIR from `model`'s vectors) the index
        and `model` the store's embedder, at once for every reader and writer.

        `catch_up` runs first under the index lock, with writers' syncs held back: it
        gives the items added meanwhile their `model` vectors and puts them into
        `next_index`. A crash at any point leaves a store that opens and searches.
        """
        with self._index_lock:
            catch_up()
            self.set_meta(ACTIVE_EMBEDDER, model)
            self.embedding_model = model
            self.index.close()
            next_index.close()
            self._remove_index_files()
            (self.data_dir / NEXT_INDEX_DIR).rename(self.data_dir / INDEX_DIR)
            # The outbox stays: its upserts now read `model`'s vectors, its deletes
            # remove what was forgotten while the next index was being built.
            self._index = VectorIndex(self.data_dir / INDEX_DIR, model)

    def nearest(
        self, vector: np.ndarray, n: int, *, max_ts: float | None = None,
        kind: str | None = None, span: tuple[float, float] | None = None,
        model: str | None = None,
    ) -> list[tuple[str, float]]:
        """`VectorIndex.nearest` on the current index, never on one being replaced.

        Held under the index lock: a rebuild or a re-embedding's switch closes the old
        index, and a search that had already picked it up would fail.
        """
        with self._index_lock:
            return self.index.nearest(vector, n, max_ts=max_ts, kind=kind, span=span,
                                      model=model)

    def sync_index(self) -> int:
        """Apply pending index changes from the outbox; return how many were applied."""
        with self._index_lock:
            return self._sync()

    def _sync(self) -> int:
        pending = self.ledger.query("SELECT seq, item_id, op FROM index_outbox ORDER BY seq")
        if not pending:
            return 0
        upserts = sorted({row["item_id"] for row in pending if row["op"] == "upsert"})
        deletes = sorted({row["item_id"] for row in pending if row["op"] == "delete"})
        self.index.delete(deletes)
        self._upsert_from_ledger(upserts)
        last = pending[-1]["seq"]
        with self.ledger.transaction() as conn:
            conn.execute("DELETE FROM index_outbox WHERE seq <= ?", (last,))
        return len(pending)

    def reconcile(self, *, full: bool = False) -> tuple[int, int]:
        """Make the index hold exactly the ledger's vectors: (added, removed).

        Unless `full`, equal counts (after the outbox is replayed) are taken as agreement:
        comparing every id costs seconds at a million items, and the outbox already
        covers an interrupted update. `reverie reindex` is the full remedy.
        """
        with self._index_lock:
            return self._reconcile(full=full)

    def _reconcile(self, *, full: bool) -> tuple[int, int]:
        self._sync()
        stored = self.ledger.query(
            "SELECT COUNT(*) FROM vectors WHERE model = ?", (self.embedding_model,)
        )[0][0]
        if not full and int(stored) == self.index.count():
            return 0, 0
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

    def rebuild_index(
        self, progress: Progress = no_progress, cancel: threading.Event | None = None
    ) -> int:
        """Throw the vector index away and build it again from the ledger; return its size.

        Also the way to compact it: Chroma keeps deleted vectors in its files until then.
        A cancelled rebuild leaves a smaller but correct index, which the next start
        completes.
        """
        with self._index_lock:
            return self._rebuild(progress, cancel)

    def _rebuild(self, progress: Progress, cancel: threading.Event | None) -> int:
        if self._index is not None:
            self._index.close()
        self._remove_index_files()
        self._index = VectorIndex(self.data_dir / INDEX_DIR, self.embedding_model)
        return self._fill_index(progress, cancel)

    def _fill_index(self, progress: Progress, cancel: threading.Event | None) -> int:
        ids = [
            row["item_id"]
            for row in self.ledger.query(
                "SELECT item_id FROM vectors WHERE model = ? ORDER BY rowid",
                (self.embedding_model,),
            )
        ]
        with self.ledger.transaction() as conn:
            conn.execute("DELETE FROM index_outbox")
        for start in range(0, len(ids), 512):
            check_cancel(cancel)
            self._upsert_from_ledger(ids[start : start + 512])
            progress(min(start + 512, len(ids)), len(ids), "rebuilding the search index")
        self.set_meta(NEEDS_COMPACTION, None)
        return self.index.count()

    def set_meta(self, key: str, value: str | None) -> None:
        """Set (or with None, clear) a value in the ledger's meta table."""
        with self.ledger.transaction() as conn:
            if value is None:
                conn.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def meta(self, key: str) -> str | None:
        """A value from the ledger's meta table, or None."""
        rows = self.ledger.query("SELECT value FROM meta WHERE key = ?", (key,))
        return str(rows[0]["value"]) if rows else None

    def change_key(self, unlocker: Unlocker, to_keyring: bool) -> None:
        """Re-encrypt the ledger under a new passphrase, or move its key to the keyring."""
        with self._index_lock:
            self.ledger = change_key(self.data_dir, self.ledger, unlocker, to_keyring)

    def _open_index(self) -> VectorIndex:
        path = self.data_dir / INDEX_DIR
        index: VectorIndex | None = None
        try:
            index = VectorIndex(path, self.embedding_model)
            self._check_index(index)
        except Exception as exc:  # Chroma raises many kinds on damaged files
            log.warning("search index unusable (%s); rebuilding it from the ledger",
                        type(exc).__name__)
            if index is not None:
                index.close()
            self._remove_index_files()
            index = VectorIndex(path, self.embedding_model)
            self._index = index
            self._fill_index(no_progress, None)
        return index

    def _check_index(self, index: VectorIndex) -> None:
        # Random rowids, not ORDER BY random(): that decrypts every vector to pick three.
        top = int(self.ledger.query("SELECT COALESCE(MAX(rowid), 0) FROM vectors")[0][0])
        picks = [random.randint(1, top) for _ in range(PROBES)] if top else []
        marks = ",".join("?" * len(picks)) or "NULL"
        rows = self.ledger.query(
            f"SELECT item_id, vector FROM vectors WHERE model = ? AND rowid IN ({marks})",
            (self.embedding_model, *picks),
        )
        for row in rows:
            vector = np.frombuffer(row["vector"], dtype=np.float32)
            if index.contains(row["item_id"]) and not index.probe(row["item_id"], vector):
                raise RuntimeError("the index does not find an item by its own vector")

    def _remove_index_files(self) -> None:
        path = self.data_dir / INDEX_DIR
        if path.exists():
            shutil.rmtree(path)

    def _upsert_from_ledger(self, item_ids: list[str]) -> None:
        self.upsert_into(self.index, item_ids, self.embedding_model)

    def upsert_into(self, index: VectorIndex, item_ids: list[str], model: str,
                    batch: int = 512) -> None:
        """Copy `model`'s vectors of `item_ids` from the ledger into `index`."""
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
                [model, *chunk],
            )
            if not rows:
                continue
            entries = [IndexEntry(r["item_id"], r["kind"], float(r["ts"])) for r in rows]
            vectors = np.stack([np.frombuffer(r["vector"], dtype=np.float32) for r in rows])
            index.upsert(entries, vectors)

    def close(self) -> None:
        """Close the index and the ledger and release the data directory; safe twice."""
        if self._closed:
            return
        self._closed = True
        if self._opener is not None:
            self._opener.join()  # Chroma must not be left half-open
        try:
            if self._index is not None:
                self._index.close()
            self.ledger.close()
        finally:
            self._lock.release()
