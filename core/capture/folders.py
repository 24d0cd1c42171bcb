"""Keep the store equal to the files of a watched source, one file at a time.

`check` is the one operation: whatever happened to a path (created, edited, saved by
rename, moved away, deleted, newly excluded), it compares the disk with the catalog and
does what makes them agree. Watching and scanning only decide which paths to check.
Unchanged files cost one `stat`; a changed mtime with the same bytes costs a read and
a hash; only new or changed chunks are embedded.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reverie.core.capture import catalog
from reverie.core.capture.catalog import FileState, WatchedSource
from reverie.core.capture.importer import write_parsed
from reverie.core.capture.isolation import IsolatedParser
from reverie.core.capture.parsed import UnreadableFile
from reverie.core.capture.reading import FileStat, format_of, parse_bytes, read_file, stat_file
from reverie.core.capture.scan import Found, PathFilter, walk
from reverie.core.capture.sync import SourcePlan, remove_episodes
from reverie.core.errors import Cancelled
from reverie.core.jobs import Progress, check_cancel, no_progress
from reverie.core.store import records
from reverie.core.store.store import Store
from reverie.core.types import Changes
from reverie.models.base import Embedder

log = logging.getLogger("reverie.capture")

# During a scan the vector index catches up this often rather than after every file:
# one Chroma upsert costs about as much as embedding a small file.
INDEX_SYNC_SECONDS = 2.0


@dataclass(frozen=True)
class FileOutcome:
    """What checking one path did."""

    path: Path
    action: str  # stored, unchanged, removed, skipped, retry, ignored
    reason: str | None = None
    changes: Changes = field(default_factory=Changes)
    added_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScanReport:
    """What a scan of one watched source found and did."""

    watch_id: int
    actions: dict[str, int]
    problems: tuple[tuple[str, str], ...]  # (path, reason)
    changes: Changes
    added_ids: tuple[str, ...]


class FolderIndexer:
    """Brings the store in line with the files of watched sources."""

    def __init__(self, store: Store, embedder: Embedder, isolated: IsolatedParser,
                 max_bytes: int) -> None:
        self._store = store
        self._embedder = embedder
        self._isolated = isolated
        self._max_bytes = max_bytes

    def check(self, watch: WatchedSource, path: Path,
              cancel: threading.Event | None = None, *, defer_index: bool = False,
              rules: PathFilter | None = None) -> FileOutcome:
        """Make the store agree with what is at `path` now; `cancel` stops a long embed.

        With `defer_index` the vector index is brought up to date by the caller; a scan
        passes the source's `rules` it already read instead of reading them per file.
        """
        ledger = self._store.ledger
        relative = _relative(watch, path)
        if relative is None:
            return FileOutcome(path, "ignored")
        known = catalog.file_record(ledger, path)
        rules = rules or watch.rules(catalog.never_remember(ledger))
        if not rules.allows(relative):
            return self.remove(path) if known else FileOutcome(path, "ignored")
        try:
            now = stat_file(path)
        except UnreadableFile as exc:
            if not path.exists() and not path.is_symlink():
                return self.remove(path) if known else FileOutcome(path, "ignored")
            return self._skip(watch, path, FileStat(0, 0), exc)
        settled = self._settled(watch, path, now, known)
        return settled or self._read_and_store(
            watch, path, now, known, cancel=cancel, defer_index=defer_index)

    def _settled(self, watch: WatchedSource, path: Path, now: FileStat,
                 known: catalog.FileRecord | None) -> FileOutcome | None:
        """The outcome when the file needs no reading: unchanged, or it crashed us."""
        if known is None or (known.size, known.mtime_ns) != (now.size, now.mtime_ns):
            return None
        if known.status in (FileState.STORED, FileState.SKIPPED):
            return FileOutcome(path, "unchanged")
        if known.status == FileState.READING and known.attempts >= catalog.MAX_ATTEMPTS:
            return self._skip(watch, path, now, UnreadableFile(
                path, "Reverie stopped while reading this file; skipped until it changes"))
        return None

    def _read_and_store(self, watch: WatchedSource, path: Path, now: FileStat,
                        known: catalog.FileRecord | None, *,
                        cancel: threading.Event | None, defer_index: bool) -> FileOutcome:
        try:
            content = read_file(path, self._max_bytes)
            if known is not None and known.sha256 == content.sha256 \
                    and known.status == FileState.STORED:
                with self._store.ledger.transaction() as conn:  # same bytes, new mtime
                    catalog.touch_file(conn, path, content.stat.size, content.stat.mtime_ns)
                return FileOutcome(path, "unchanged")
            fmt = format_of(path, content.raw)
            catalog.mark_reading(self._store.ledger, path, watch.id, now.size, now.mtime_ns)
            parsed = parse_bytes(content, fmt, self._isolated)
        except UnreadableFile as exc:
            return self._skip(watch, path, now, exc)

        def bookkeeping(conn: Any, plans: list[SourcePlan]) -> None:
            catalog.put_file(conn, path, watch.id, size=content.stat.size,
                             mtime_ns=content.stat.mtime_ns, status=FileState.STORED,
                             sha256=content.sha256, fmt=fmt.name, pieces=parsed.pieces,
                             reason=None if parsed.pieces else "no text in it")
            catalog.link_sources(conn, path, [plan.source_id for plan in plans])

        try:
            stored = write_parsed(self._store, self._embedder, parsed, fmt.trust,
                                  cancel=cancel, extra_writes=bookkeeping,
                                  sync_index=not defer_index)
        except UnreadableFile as exc:
            return self._skip(watch, path, now, exc)
        except Cancelled:
            # A clean stop is not a crash: the next start reads the file as if anew.
            catalog.restore_record(self._store.ledger, path, known)
            raise
        return FileOutcome(path, "stored", changes=stored.changes, added_ids=stored.added_ids)

    def remove(self, path: Path) -> FileOutcome:
        """The file is gone (or excluded): its own sources' episodes go with it."""
        batch = records.new_batch_id()
        changes = Changes()
        with self._store.ledger.transaction() as conn:
            for source_id in catalog.sources_only_from(conn, path):
                episodes = [row[0] for row in conn.execute(
                    "SELECT id FROM episodes WHERE source_id = ?", (source_id,))]
                changes = changes + remove_episodes(conn, episodes, self._embedder, batch)
                _drop_source_if_empty(conn, source_id)
            catalog.drop_file(conn, path)
        self._store.sync_index()
        return FileOutcome(path, "removed", changes=changes)

    def scan(self, watch: WatchedSource, progress: Progress = no_progress,
             cancel: threading.Event | None = None,
             on_outcome: Callable[[FileOutcome], None] | None = None) -> ScanReport:
        """Check every file of a source, then remove what is no longer there.

        `on_outcome` hears each file's outcome as it happens, so views can grow while a
        long scan goes on.
        """
        ledger = self._store.ledger
        if not watch.path.exists():
            reason = "not found (moved, or on a drive that is not connected?)"
            catalog.note_watch(ledger, watch.id, error=reason)
            return ScanReport(watch.id, {}, ((str(watch.path), reason),), Changes(), ())
        found: list[Path] = []
        unreadable: list[tuple[Path, str]] = []
        rules = watch.rules(catalog.never_remember(ledger))
        for item in walk(watch.path, rules):
            if isinstance(item, Found):
                found.append(item.path)
            else:
                unreadable.append((item.path, item.reason))
        hear = on_outcome or (lambda _: None)
        outcomes = self._check_all(watch, found, progress=progress, cancel=cancel,
                                   hear=hear, rules=rules)
        outcomes += self._remove_missing(watch, set(found), [p for p, _ in unreadable], hear)
        catalog.note_watch(ledger, watch.id, scanned=True, error=None)
        return _report(watch.id, outcomes, unreadable)

    def _check_all(self, watch: WatchedSource, paths: list[Path], *, progress: Progress,
                   cancel: threading.Event | None, hear: Callable[[FileOutcome], None],
                   rules: PathFilter) -> list[FileOutcome]:
        outcomes: list[FileOutcome] = []
        synced = time.monotonic()
        try:
            for done, path in enumerate(paths):
                check_cancel(cancel)
                progress(done, len(paths), "reading files")
                outcomes.append(self.check(watch, path, cancel, defer_index=True, rules=rules))
                hear(outcomes[-1])
                if time.monotonic() - synced > INDEX_SYNC_SECONDS:
                    self._store.sync_index()
                    synced = time.monotonic()
        finally:
            self._store.sync_index()
        progress(len(paths), len(paths), "reading files")
        return outcomes

    def _remove_missing(self, watch: WatchedSource, found: set[Path], unlisted: list[Path],
                        hear: Callable[[FileOutcome], None]) -> list[FileOutcome]:
        gone = [
            path for path in catalog.files_of(self._store.ledger, watch.id)
            if path not in found and not any(folder in path.parents for folder in unlisted)
        ]
        outcomes = [self.check(watch, path) for path in gone]
        for outcome in outcomes:
            hear(outcome)
        return outcomes

    def _skip(self, watch: WatchedSource, path: Path, now: FileStat,
              problem: UnreadableFile) -> FileOutcome:
        state = FileState.RETRY if problem.transient else FileState.SKIPPED
        self._note(watch, path, now, state, reason=problem.reason)
        log.info("a file was skipped (%s)", "passing" if problem.transient else "unreadable")
        return FileOutcome(path, "retry" if problem.transient else "skipped", problem.reason)

    def _note(self, watch: WatchedSource, path: Path, now: FileStat, status: str, *,
              sha256: str | None = None, reason: str | None = None) -> None:
        known = catalog.file_record(self._store.ledger, path)
        with self._store.ledger.transaction() as conn:
            catalog.put_file(conn, path, watch.id, size=now.size, mtime_ns=now.mtime_ns,
                             status=status, sha256=sha256 or (known.sha256 if known else None),
                             reason=reason, attempts=known.attempts if known else 0)


def _relative(watch: WatchedSource, path: Path) -> Path | None:
    if not watch.is_folder:
        return Path(path.name) if path == watch.path else None
    try:
        return path.relative_to(watch.path)
    except ValueError:
        return None


def _drop_source_if_empty(conn: Any, source_id: str) -> None:
    if conn.execute("SELECT 1 FROM episodes WHERE source_id = ? LIMIT 1", (source_id,)).fetchone():
        return
    conn.execute("DELETE FROM imports WHERE source_id = ?", (source_id,))
    conn.execute("DELETE FROM sources WHERE id = ?", (source_id,))


def _report(watch_id: int, outcomes: list[FileOutcome],
            unreadable: list[tuple[Path, str]]) -> ScanReport:
    changes = Changes()
    for outcome in outcomes:
        changes = changes + outcome.changes
    problems = [(str(o.path), o.reason) for o in outcomes if o.reason and o.action != "stored"]
    problems += [(str(path), reason) for path, reason in unreadable]
    return ScanReport(
        watch_id=watch_id, actions=dict(Counter(o.action for o in outcomes)),
        problems=tuple((p, r) for p, r in problems if r),
        changes=changes, added_ids=tuple(i for o in outcomes for i in o.added_ids),
    )
