"""The store's guarantees: schema versioning, one owner per data directory, the outbox."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from reverie.core.errors import DataDirLocked, StoreError
from reverie.core.service import Reverie
from reverie.core.store.keys import default_unlocker
from reverie.core.store.schema import SCHEMA_VERSION
from reverie.core.store.store import Store


def test_schema_is_versioned(open_store: Callable[..., Reverie]) -> None:
    reverie = open_store()
    version = reverie.store.ledger.query("PRAGMA user_version")[0][0]
    assert version == SCHEMA_VERSION >= 1


def store_at(data: Path) -> Store:
    """A store on `data` keyed through the tests' in-memory keyring."""
    return Store(data, "test-model", default_unlocker())


def test_a_ledger_from_a_newer_reverie_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = store_at(data)
    with store.ledger.transaction() as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    store.close()
    with pytest.raises(StoreError, match="newer Reverie"):
        store_at(data)
    # The refused open released its lock: the directory can be opened again.
    with pytest.raises(StoreError):
        store_at(data)


def test_one_process_owns_a_data_directory(tmp_path: Path) -> None:
    first = store_at(tmp_path)
    try:
        with pytest.raises(DataDirLocked, match="in use by Reverie"):
            store_at(tmp_path)
    finally:
        first.close()
    store_at(tmp_path).close()


def test_pending_index_changes_are_replayed(
    open_store: Callable[..., Reverie], sample_chat: Path
) -> None:
    reverie = open_store()
    reverie.import_file(sample_chat, extract=False)
    store = reverie.store
    ids = sorted(store.index.ids())
    # Simulate a crash between the ledger commit and the index update.
    store.index.delete(ids)
    with store.ledger.transaction() as conn:
        conn.executemany(
            "INSERT INTO index_outbox (item_id, op) VALUES (?, 'upsert')", [(i,) for i in ids]
        )
    assert store.sync_index() == len(ids)
    assert sorted(store.index.ids()) == ids
    assert store.ledger.query("SELECT COUNT(*) FROM index_outbox")[0][0] == 0


def test_reconcile_adds_what_the_index_lost_and_removes_orphans(
    open_store: Callable[..., Reverie], sample_chat: Path
) -> None:
    reverie = open_store()
    reverie.import_file(sample_chat, extract=False)
    store = reverie.store
    ids = sorted(store.index.ids())
    store.index.delete(ids[:2])
    assert store.reconcile() == (2, 0)  # the counts differ: found and repaired
    # Same count, different ids: only the full comparison (reverie reindex's kin) sees it.
    store.index.delete(ids[:1])
    vector = store.index._collection.get(ids=[ids[1]], include=["embeddings"])["embeddings"]
    store.index._collection.add(ids=["orphan"], embeddings=vector, metadatas=[{"kind": "x"}])
    assert store.reconcile() == (0, 0)
    assert store.reconcile(full=True) == (1, 1)
    assert sorted(store.index.ids()) == ids
