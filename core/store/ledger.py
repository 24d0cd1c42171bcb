"""The ledger: the one source of truth for sources, episodes, memories and history.

SQLite through the SQLCipher build of the driver (so encryption at rest can be switched
on without changing drivers), in WAL mode. Writes go through one connection behind a
lock, in explicit transactions; reads use one connection per thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlcipher3 import dbapi2 as sqlite

from reverie.core.errors import StoreError
from reverie.core.store.schema import migrate

log = logging.getLogger("reverie.store")

Row = Any  # sqlite Row: indexable by name


class Ledger:
    """Owns the SQLite file; hand out transactions for writes and connections for reads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._all_readers: list[Any] = []
        self._readers_lock = threading.Lock()
        self._writer = self._connect()
        found = migrate(self._writer)
        log.info("ledger opened (schema was %d)", found)

    def _connect(self) -> Any:
        try:
            conn = sqlite.connect(str(self.path), isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite.Row
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA busy_timeout = 5000")
        except sqlite.DatabaseError as exc:
            raise StoreError(f"cannot open the ledger at {self.path}: {exc}") from exc
        return conn

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """Run the block as one write transaction; roll back on any error."""
        with self._write_lock:
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def reader(self) -> Any:
        """This thread's read connection (opened on first use)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._readers_lock:
                self._all_readers.append(conn)
        return conn

    def query(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[Row]:
        """Run a read and return all rows."""
        return list(self.reader().execute(sql, params).fetchall())

    def close(self) -> None:
        """Checkpoint the WAL and close every connection."""
        with self._readers_lock:
            for conn in self._all_readers:
                conn.close()
            self._all_readers.clear()
        with self._write_lock:
            try:
                self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                self._writer.close()
