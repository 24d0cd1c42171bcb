"""The ledger's record of watched sources and of every file seen in them.

A `files` row is the checkpoint of capture: it is written in the same transaction as
the file's episodes, so after a crash or a quit each file is either done (its size,
mtime and hash recorded) or not started. A row in state `reading` that is still there
at the next start means Reverie died while reading that file; after `MAX_ATTEMPTS`
such deaths the file is skipped until it changes, so one bad file cannot crash-loop
the app.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from reverie.core.capture.scan import DEFAULT_EXCLUDES, PathFilter
from reverie.core.errors import BadInput
from reverie.core.store.ledger import Ledger
from reverie.core.store.records import now_utc

NEVER_REMEMBER = "never_remember"  # meta key: JSON list of patterns
# meta key: "1" while the user has paused all capture. In the store, not in the app's
# settings: it belongs with the sources it holds back (a backup or another machine
# opening the store keeps it), and the CLI and the app see the same state.
CAPTURE_PAUSED = "capture_paused"
MAX_ATTEMPTS = 2


class FileState:
    """The states a file row can be in."""

    READING = "reading"  # set before a parse; still there after a crash
    STORED = "stored"
    SKIPPED = "skipped"  # a reason the user can act on; retried when the file changes
    RETRY = "retry"  # a passing problem (permission, busy); retried at the next scan


@dataclass(frozen=True)
class WatchedSource:
    """A folder or export file the user asked Reverie to follow."""

    id: int
    path: Path
    is_folder: bool
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    paused: bool
    added: datetime
    last_scan: datetime | None
    mode: str | None  # how it was last watched: native or polling
    error: str | None

    def rules(self, never: tuple[str, ...]) -> PathFilter:
        """The filter for paths under this source."""
        return PathFilter(self.include, self.exclude, never)


@dataclass(frozen=True)
class FileRecord:
    """What the catalog knows of one file."""

    path: Path
    watch_id: int | None
    size: int
    mtime_ns: int
    sha256: str | None
    status: str
    reason: str | None
    attempts: int


def add_watch(ledger: Ledger, path: Path, include: tuple[str, ...] = (),
              exclude: tuple[str, ...] | None = None) -> WatchedSource:
    """Start following a folder or a file; refuse one that does not exist or is followed."""
    target = Path(os.path.abspath(path.expanduser()))
    if not target.exists():
        raise BadInput(f"{target}: no such folder or file")
    for other in list_watches(ledger):
        if target == other.path or other.path in target.parents:
            raise BadInput(f"{target} is already watched (as part of {other.path})")
    with ledger.transaction() as conn:
        cursor = conn.execute(
            "INSERT INTO watched (path, is_folder, include, exclude, added)"
            " VALUES (?, ?, ?, ?, ?)",
            (str(target), int(target.is_dir()), json.dumps(list(include)),
             json.dumps(list(DEFAULT_EXCLUDES if exclude is None else exclude)),
             now_utc().isoformat()),
        )
        watch_id = int(cursor.lastrowid)
    return get_watch(ledger, watch_id)


def get_watch(ledger: Ledger, watch_id: int) -> WatchedSource:
    """One watched source, or `BadInput` if there is none with that id."""
    rows = ledger.query("SELECT * FROM watched WHERE id = ?", (watch_id,))
    if not rows:
        raise BadInput(f"there is no watched source {watch_id}")
    return _watch(rows[0])


def list_watches(ledger: Ledger) -> list[WatchedSource]:
    """Every watched source, oldest first."""
    return [_watch(row) for row in ledger.query("SELECT * FROM watched ORDER BY id")]


def set_paused(ledger: Ledger, watch_id: int, paused: bool) -> None:
    """Pause or resume a watched source."""
    get_watch(ledger, watch_id)
    with ledger.transaction() as conn:
        conn.execute("UPDATE watched SET paused = ? WHERE id = ?", (int(paused), watch_id))


def note_watch(ledger: Ledger, watch_id: int, *, mode: str | None = None,
               error: str | None = None, scanned: bool = False) -> None:
    """Record how a source is watched, its last error and when it was last scanned."""
    with ledger.transaction() as conn:
        conn.execute("UPDATE watched SET mode = COALESCE(?, mode), error = ? WHERE id = ?",
                     (mode, error, watch_id))
        if scanned:
            conn.execute("UPDATE watched SET last_scan = ? WHERE id = ?",
                         (now_utc().isoformat(), watch_id))


def never_remember(ledger: Ledger) -> tuple[str, ...]:
    """The user's never-remember patterns."""
    rows = ledger.query("SELECT value FROM meta WHERE key = ?", (NEVER_REMEMBER,))
    return tuple(json.loads(rows[0]["value"])) if rows else ()


def set_never_remember(ledger: Ledger, patterns: tuple[str, ...]) -> None:
    """Replace the never-remember patterns."""
    cleaned = [p.strip() for p in patterns if p.strip()]
    with ledger.transaction() as conn:
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                     (NEVER_REMEMBER, json.dumps(cleaned)))


def capture_paused(ledger: Ledger) -> bool:
    """True while the user has paused reading every watched source."""
    rows = ledger.query("SELECT value FROM meta WHERE key = ?", (CAPTURE_PAUSED,))
    return bool(rows) and rows[0]["value"] == "1"


def set_capture_paused(ledger: Ledger, paused: bool) -> None:
    """Record that all capture is paused (or no longer is)."""
    with ledger.transaction() as conn:
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                     (CAPTURE_PAUSED, "1" if paused else "0"))


def file_record(ledger: Ledger, path: Path) -> FileRecord | None:
    """The catalog's row for a file, or None."""
    rows = ledger.query("SELECT * FROM files WHERE path = ?", (str(path),))
    return _file(rows[0]) if rows else None


def files_of(ledger: Ledger, watch_id: int) -> dict[Path, FileRecord]:
    """Every file row of a watched source."""
    rows = ledger.query("SELECT * FROM files WHERE watch_id = ?", (watch_id,))
    return {Path(row["path"]): _file(row) for row in rows}


def put_file(conn: Any, path: Path, watch_id: int | None, *, size: int, mtime_ns: int,
             status: str, sha256: str | None = None, fmt: str | None = None,
             reason: str | None = None, pieces: int = 0, attempts: int = 0) -> None:
    """Write a file's row inside the caller's transaction."""
    conn.execute(
        "INSERT OR REPLACE INTO files (path, watch_id, size, mtime_ns, sha256, format, status,"
        " reason, attempts, pieces, checked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (str(path), watch_id, size, mtime_ns, sha256, fmt, status, reason, attempts, pieces,
         now_utc().isoformat()),
    )


def touch_file(conn: Any, path: Path, size: int, mtime_ns: int) -> None:
    """Record a new size and mtime for a file whose bytes did not change."""
    conn.execute("UPDATE files SET size = ?, mtime_ns = ?, checked = ? WHERE path = ?",
                 (size, mtime_ns, now_utc().isoformat(), str(path)))


def mark_reading(ledger: Ledger, path: Path, watch_id: int | None, size: int,
                 mtime_ns: int) -> int:
    """Note that a file is about to be read; return how many tries that makes."""
    known = file_record(ledger, path)
    same = known is not None and (known.size, known.mtime_ns) == (size, mtime_ns)
    attempts = (known.attempts if same and known is not None else 0) + 1
    with ledger.transaction() as conn:
        conn.execute(
            "INSERT INTO files (path, watch_id, size, mtime_ns, status, attempts, checked)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET"
            " status = excluded.status, attempts = excluded.attempts, size = excluded.size,"
            " mtime_ns = excluded.mtime_ns, checked = excluded.checked",
            (str(path), watch_id, size, mtime_ns, FileState.READING, attempts,
             now_utc().isoformat()),
        )
    return attempts


def restore_record(ledger: Ledger, path: Path, known: FileRecord | None) -> None:
    """Put a file's row back as it was before `mark_reading` (None: no row at all)."""
    with ledger.transaction() as conn:
        if known is None:
            conn.execute("DELETE FROM files WHERE path = ?", (str(path),))
            return
        conn.execute(
            "UPDATE files SET size = ?, mtime_ns = ?, status = ?, attempts = ?, reason = ?"
            " WHERE path = ?",
            (known.size, known.mtime_ns, known.status, known.attempts, known.reason,
             str(path)),
        )


def link_sources(conn: Any, path: Path, source_ids: list[str]) -> None:
    """Record which sources a file fed (inside the caller's transaction)."""
    conn.executemany("INSERT OR IGNORE INTO file_sources (path, source_id) VALUES (?, ?)",
                     [(str(path), source_id) for source_id in source_ids])


def sources_only_from(conn: Any, path: Path) -> list[str]:
    """Sources the file fed that no other watched file feeds."""
    rows = conn.execute(
        "SELECT source_id FROM file_sources f WHERE path = ? AND NOT EXISTS ("
        " SELECT 1 FROM file_sources o WHERE o.source_id = f.source_id AND o.path != f.path)",
        (str(path),),
    ).fetchall()
    return [row[0] for row in rows]


def drop_file(conn: Any, path: Path) -> None:
    """Forget the catalog's rows for a file (inside the caller's transaction)."""
    conn.execute("DELETE FROM file_sources WHERE path = ?", (str(path),))
    conn.execute("DELETE FROM files WHERE path = ?", (str(path),))


def _watch(row: Any) -> WatchedSource:
    return WatchedSource(
        id=int(row["id"]), path=Path(row["path"]), is_folder=bool(row["is_folder"]),
        include=tuple(json.loads(row["include"])), exclude=tuple(json.loads(row["exclude"])),
        paused=bool(row["paused"]), added=datetime.fromisoformat(row["added"]),
        last_scan=datetime.fromisoformat(row["last_scan"]) if row["last_scan"] else None,
        mode=row["mode"], error=row["error"],
    )


def _file(row: Any) -> FileRecord:
    return FileRecord(
        path=Path(row["path"]), watch_id=row["watch_id"], size=int(row["size"]),
        mtime_ns=int(row["mtime_ns"]), sha256=row["sha256"], status=row["status"],
        reason=row["reason"], attempts=int(row["attempts"]),
    )
