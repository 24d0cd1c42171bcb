"""The store's guarantees: schema versioning, one owner per data directory, the outbox."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlcipher3 import dbapi2 as sqlite

from reverie.core.errors import DataDirLocked, StoreError
from reverie.core.service import Reverie
from reverie.core.store.schema import SCHEMA_VERSION
from reverie.core.store.store import LEDGER_FILE, Store


def test_schema_is_versioned(open_store: Callable[..., Reverie]) -> None:
    reverie = open_store()
    version = reverie.store.ledger.query("PRAGMA user_version")[0][0]
    assert version == SCHEMA_VERSION >= 1


def test_a_ledger_from_a_newer_reverie_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    conn = sqlite.connect(str(data / LEDGER_FILE))
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer Reverie"):
        Store(data, "test-model")
    # The refused open released its lock: the directory can be opened again.
    with pytest.raises(StoreError):
        Store(data, "test-model")


def test_one_process_owns_a_data_directory(tmp_path: Path) -> None:
    first = Store(tmp_path, "test-model")
    try:
        with pytest.raises(DataDirLocked, match="in use by Reverie"):
            Store(tmp_path, "test-model")
    finally:
        first.close()
    Store(tmp_path, "test-model").close()


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
