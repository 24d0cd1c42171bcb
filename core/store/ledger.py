"""The ledger: the one source of truth for sources, episodes, memories and history.

SQLCipher (AES-256 pages with an HMAC each, so a wrong key or a tampered page is
detected) in WAL mode. Writes go through one connection behind a lock, in explicit
transactions; reads use one connection per thread.

Settings chosen on purpose:
- `synchronous = FULL`: a write Reverie has acknowledged survives power loss, not only
  a killed process (NORMAL in WAL mode may lose the last commits on power loss).
- `secure_delete = ON`: deleted rows are overwritten with zeros, so a forgotten memory
  leaves no text behind in free pages, even under the encryption.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlcipher3 import dbapi2 as sqlite

from reverie.core.errors import StoreError, WrongKey
from reverie.core.store.schema import SCHEMA_VERSION, migrate, schema_version

log = logging.getLogger("reverie.store")

CACHE_KIB = 64 * 1024  # per connection, filled only as pages are read
BACKUP_DIR = "backups"  # Reverie's own backups (before migrations); forgetting clears them
NO_KEY_PRAGMA = "''"  # the key literal that opens an unencrypted file through SQLCipher
Row = Any  # sqlite Row: indexable by name


class Ledger:
    """Owns the SQLite file; hand out transactions for writes and connections for reads."""

    def __init__(self, path: Path, key: bytes) -> None:
        self.path = path
        self._key = key
        self._key_pragma = key_pragma(key)
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._all_readers: list[Any] = []
        self._readers_lock = threading.Lock()
        self._writer = self._connect()
        found = schema_version(self._writer)
        if 0 < found < SCHEMA_VERSION:
            self._backup_before_migration(found)
        migrate(self._writer)
        log.info("ledger opened (schema was %d)", found)

    @property
    def key(self) -> bytes:
        """The raw key this ledger is open with (for copies under the same key)."""
        return self._key

    def _backup_before_migration(self, found: int) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = self.path.parent / BACKUP_DIR / f"before-schema-{SCHEMA_VERSION}-{stamp}.db"
        target.parent.mkdir(exist_ok=True)
        self.export_to(target, self._key)
        log.warning("schema %d -> %d: backup written first to %s", found, SCHEMA_VERSION, target)

    def _connect(self) -> Any:
        conn = open_keyed(self.path, self._key_pragma)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA secure_delete = ON")
            # Every page read from disk is decrypted and its HMAC checked; a larger page
            # cache keeps hot FTS and index pages decrypted (SQLCipher disables mmap).
            conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA busy_timeout = 5000")
        except sqlite.DatabaseError as exc:
            conn.close()
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

    def checkpoint(self) -> None:
        """Move the WAL into the main file and empty it, so no old page lingers there."""
        with self._write_lock:
            self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def export_to(self, target: Path, key: bytes) -> None:
        """Write a consistent copy of the whole ledger to `target`, encrypted with `key`."""
        target.unlink(missing_ok=True)
        with self._write_lock:
            conn = self._writer
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            conn.execute(f"ATTACH DATABASE ? AS copy KEY {key_pragma(key)}", (str(target),))
            try:
                conn.execute("SELECT sqlcipher_export('copy')")
                conn.execute(f"PRAGMA copy.user_version = {version}")
            finally:
                conn.execute("DETACH DATABASE copy")

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


def key_pragma(key: bytes) -> str:
    """The SQL literal that hands SQLCipher a raw 256-bit key (no KDF on every open)."""
    if len(key) != 32:
        raise StoreError("a ledger key is 32 bytes")
    return f"\"x'{key.hex()}'\""


def open_keyed(path: Path, pragma: str) -> Any:
    """Connect and key a ledger file; a wrong key raises `WrongKey` and writes nothing."""
    try:
        conn = sqlite.connect(str(path), isolation_level=None, check_same_thread=False)
    except sqlite.DatabaseError as exc:
        raise StoreError(f"cannot open the ledger at {path}: {exc}") from exc
    conn.row_factory = sqlite.Row
    try:
        # SQLCipher prints page errors to stderr by default; the caller reports them.
        conn.execute("PRAGMA cipher_log_level = NONE")
        if pragma != NO_KEY_PRAGMA:
            conn.execute(f"PRAGMA key = {pragma}")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite.DatabaseError:
        conn.close()
        raise WrongKey(
            f"{path} does not open with this key: wrong passphrase or key (or a damaged file)"
        ) from None
    return conn


def is_plaintext_sqlite(path: Path) -> bool:
    """True when `path` is an unencrypted SQLite file (a ledger from before encryption)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False
