"""Watched sources as the user sees them: add, pause, remove, scan, and watch live.

The stages, and what joins them:

    watchdog threads ──► debouncer ──► path queue ──► indexer thread ──► ledger ──► extractor
                       (FolderWatcher)  (a set: never   (read, parse,       (episodes not  thread
                                         blocks)         embed, write)       yet extracted)

The watcher only records which paths changed, so nothing downstream can block it. The
path queue holds each path once however often it changes. The indexer handles one file
at a time; the episodes it writes wait in the ledger (a durable queue) until the
extractor, which runs the slow LLM, gets to them. Quitting at any point loses nothing:
the catch-up scan at the next start finds what was not done.

Pausing all capture (`pause_all`, the tray's "Pause capture") is that same quit for
reading alone: the watches are dropped, queued paths are let go, a file being read is
put back as unread, and the pause is kept in the ledger so that it holds across
restarts. `resume_all` watches and scans every source again, which catches up on what
changed meanwhile. Extraction of what was already stored goes on while paused.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reverie.core.capture import catalog
from reverie.core.capture.catalog import FileState, WatchedSource
from reverie.core.capture.folders import FolderIndexer, ScanReport
from reverie.core.capture.isolation import IsolatedParser
from reverie.core.capture.path_queue import PathQueue
from reverie.core.capture.watcher import FolderWatcher, WatchMode
from reverie.core.editing import MemoryEditor
from reverie.core.errors import BadInput, Cancelled
from reverie.core.extract.deadline import EitherEvent
from reverie.core.jobs import Progress, no_progress
from reverie.core.store.forget import ForgetPlan, ForgetTarget
from reverie.core.store.store import Store
from reverie.core.types import Changes
from reverie.models.base import Embedder

log = logging.getLogger("reverie.capture")

Extract = Callable[[threading.Event], Changes]  # runs extraction of pending episodes
# When nothing happened for this long, every source is scanned again: a safety net for
# events the OS dropped (an overflowing inotify queue says nothing to watchdog's users).
RESCAN_SECONDS = 15 * 60
CAPTURE_PAUSED = "capture paused"  # a source's state while all capture is paused


@dataclass(frozen=True)
class SourceStatus:
    """One watched source, as `reverie sources` and the Sources screen show it."""

    source: WatchedSource
    state: str  # watching, polling, paused, capture paused, scanning, error, idle
    done: int  # files checked in the current scan
    total: int
    files: int  # files stored
    skipped: int  # files skipped with a reason
    episodes: int

    def describe(self) -> str:
        """One line: the state, progress and counts."""
        state = f"scanning {self.done}/{self.total}" if self.state == "scanning" else self.state
        if self.state == "polling":
            state = "degraded: polling"
        if self.state == "idle":
            state = "followed while Reverie runs"
        if self.source.error:
            state = f"error: {self.source.error}"
        return (f"{state}; {self.files} files, {self.episodes} pieces"
                + (f", {self.skipped} skipped" if self.skipped else ""))


class Capture:
    """Watched folders and exports of one store; `start` watches them in the background."""

    def __init__(self, store: Store, embedder: Embedder, memories: MemoryEditor,
                 isolated: IsolatedParser, max_bytes: int) -> None:
        self._store = store
        self._memories = memories
        self._indexer = FolderIndexer(store, embedder, isolated, max_bytes)
        self._lock = threading.Lock()
        self._publish_lock = threading.Lock()
        self._progress: dict[int, tuple[int, int]] = {}
        self._watcher: FolderWatcher | None = None
        self._queue = PathQueue()
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        # Set while all capture is paused; mirrors the ledger's flag, so that the hot
        # paths (every queued path, the UI's state) read memory, not the ledger.
        self._held = threading.Event()
        if catalog.capture_paused(store.ledger):
            self._held.set()
        self._hold_lock = threading.Lock()  # a pause and a new watch never interleave
        self._interrupt = EitherEvent(self._stopping, self._held)  # stops a read
        self._extract_wanted = threading.Event()
        self._on_status: Callable[[list[SourceStatus]], None] = lambda _: None
        self._on_changes: Callable[[Changes], None] = lambda _: None

    # -- the user's list ---------------------------------------------------------------

    def add(self, path: Path, *, include: tuple[str, ...] = (),
            exclude: tuple[str, ...] | None = None) -> WatchedSource:
        """Follow a folder or export file; when running, watch and scan it at once."""
        watch = catalog.add_watch(self._store.ledger, path, include, exclude)
        self._begin(watch)
        return watch

    def pause(self, watch_id: int) -> None:
        """Stop following a source for now; what is stored stays."""
        catalog.set_paused(self._store.ledger, watch_id, True)
        watch = catalog.get_watch(self._store.ledger, watch_id)
        if self._watcher is not None:
            self._watcher.unwatch(watch.path)
        self._publish()

    def resume(self, watch_id: int) -> None:
        """Follow a paused source again, catching up on what changed meanwhile."""
        catalog.set_paused(self._store.ledger, watch_id, False)
        self._begin(catalog.get_watch(self._store.ledger, watch_id))

    @property
    def paused_all(self) -> bool:
        """True while all capture is paused (`pause_all`), even across restarts."""
        return self._held.is_set()

    def pause_all(self) -> None:
        """Stop reading every watched source until `resume_all`; kept across restarts.

        What is stored stays, and what waits for extraction is still extracted. A file
        being read is put back as unread; the scan at `resume_all` reads it then.
        """
        with self._hold_lock:
            catalog.set_capture_paused(self._store.ledger, True)
            self._held.set()
            if self._watcher is not None:
                for root in self._watcher.watched():
                    self._watcher.unwatch(root)
        log.info("all capture paused")
        self._publish()

    def resume_all(self) -> None:
        """Read the watched sources again: each source not paused on its own is watched
        and scanned, which catches up on what changed while capture was paused."""
        with self._hold_lock:
            catalog.set_capture_paused(self._store.ledger, False)
            self._held.clear()
        log.info("capture resumed")
        for watch in catalog.list_watches(self._store.ledger):
            if not watch.paused:
                self._begin(watch)
        self._publish()

    def plan_remove(self, watch_id: int) -> ForgetPlan:
        """What forgetting a source's files would remove, to show before `remove`."""
        return self._memories.plan_forget(ForgetTarget(source_ids=self._source_ids(watch_id)))

    def remove(self, watch_id: int, *, forget: bool = False,
               progress: Progress = no_progress) -> Changes:
        """Stop following a source; with `forget`, also forget everything read from it."""
        watch = catalog.get_watch(self._store.ledger, watch_id)
        if self._watcher is not None:
            self._watcher.unwatch(watch.path)
        changes = Changes()
        if forget:
            plan = self.plan_remove(watch_id)
            if not plan.empty:
                changes = self._memories.forget(plan, progress=progress)
        with self._store.ledger.transaction() as conn:
            paths = [row[0] for row in conn.execute(
                "SELECT path FROM files WHERE watch_id = ?", (watch_id,))]
            for path in paths:
                catalog.drop_file(conn, Path(path))
            conn.execute("DELETE FROM watched WHERE id = ?", (watch_id,))
        self._publish()
        return changes

    def sources(self) -> list[SourceStatus]:
        """Every watched source with its state and counts."""
        return [self._status(watch) for watch in catalog.list_watches(self._store.ledger)]

    def problems(self, watch_id: int) -> list[tuple[str, str]]:
        """Files of a source that were skipped, with the reason for each."""
        rows = self._store.ledger.query(
            "SELECT path, reason FROM files WHERE watch_id = ? AND status IN (?, ?)"
            " AND reason IS NOT NULL ORDER BY path",
            (watch_id, FileState.SKIPPED, FileState.RETRY),
        )
        return [(row["path"], row["reason"]) for row in rows]

    def never_remember(self) -> tuple[str, ...]:
        """Patterns of paths never to read, in any source."""
        return catalog.never_remember(self._store.ledger)

    def set_never_remember(self, patterns: tuple[str, ...]) -> None:
        """Replace the never-remember patterns; matching files are dropped at the next scan."""
        catalog.set_never_remember(self._store.ledger, patterns)

    def scan(self, watch_id: int | None = None, *, progress: Progress = no_progress,
             cancel: threading.Event | None = None) -> list[ScanReport]:
        """Check every file of one source (or of all unpaused ones) now, in this thread.

        Refused while all capture is paused: the user asked Reverie not to read.
        """
        if self._held.is_set():
            raise BadInput("capture is paused; resume it to read your sources again")
        watches = [catalog.get_watch(self._store.ledger, watch_id)] if watch_id is not None \
            else [w for w in catalog.list_watches(self._store.ledger) if not w.paused]
        return [self._indexer.scan(watch, progress, cancel) for watch in watches]

    # -- running in the background -----------------------------------------------------

    def start(self, *, on_status: Callable[[list[SourceStatus]], None],
              on_changes: Callable[[Changes], None], extract: Extract | None = None) -> None:
        """Watch every unpaused source, catch up on each, and keep the store in step.

        Callbacks run on capture's threads: the UI must hand them to its own thread.
        """
        self._on_status, self._on_changes = on_status, on_changes
        self._stopping.clear()
        self._queue = PathQueue()
        self._watcher = FolderWatcher(self._queue.put_paths)
        self._spawn(self._index_loop, "reverie-index")
        if extract is not None:
            self._spawn(lambda: self._extract_loop(extract), "reverie-extract")
            self._extract_wanted.set()  # what an earlier session left unextracted
        for watch in catalog.list_watches(self._store.ledger):
            if not watch.paused:
                self._begin(watch)

    def stop(self) -> None:
        """Stop watching and let the threads finish their current step; safe twice."""
        self._stopping.set()
        self._extract_wanted.set()
        self._queue.close()
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        for thread in self._threads:
            thread.join(timeout=30)
        self._threads = []

    def request_extraction(self) -> None:
        """Have the background extractor look for new episodes (a chat turn, say);
        nothing happens unless capture was started with extraction."""
        self._extract_wanted.set()

    @property
    def running(self) -> bool:
        """True between `start` and `stop`."""
        return self._watcher is not None

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _begin(self, watch: WatchedSource) -> None:
        watcher = self._watcher
        if watcher is None or watch.paused:
            return
        with self._hold_lock:
            if not self._held.is_set():  # paused all: `resume_all` begins it
                try:
                    mode = watcher.watch(watch.path)
                    catalog.note_watch(self._store.ledger, watch.id, mode=mode.value)
                except OSError as exc:
                    catalog.note_watch(self._store.ledger, watch.id,
                                       error=f"cannot be watched ({exc.strerror or exc})")
                self._queue.put_scan(watch.id)
        self._publish()

    def _index_loop(self) -> None:
        while not self._stopping.is_set():
            item = self._queue.take(timeout=RESCAN_SECONDS)
            if item is None:
                if self._stopping.is_set():
                    return
                for watch in catalog.list_watches(self._store.ledger):
                    if not watch.paused and not self._held.is_set():
                        self._queue.put_scan(watch.id)
                continue
            try:
                self._handle(item)
            except Cancelled:
                return
            except Exception:  # a bug must not stop capture for every other file
                log.exception("capture failed on one item; going on")

    def _handle(self, item: int | Path) -> None:
        if self._held.is_set():
            return  # paused all: let it go; `resume_all` scans every source anyway
        try:
            self._read(item)
        except Cancelled:
            if self._stopping.is_set():
                raise
            log.info("capture paused during a read; it is read again when resumed")

    def _read(self, item: int | Path) -> None:
        if isinstance(item, int):
            self._scan_in_background(item)
            return
        watch = self._watch_of(item)
        if watch is None:
            return
        if item.is_dir():  # a folder appeared or moved in: scan the source as a whole
            self._queue.put_scan(watch.id)
            return
        outcome = self._indexer.check(watch, item, self._interrupt)
        self._after(outcome.changes, bool(outcome.added_ids))
        self._publish()

    def _scan_in_background(self, watch_id: int) -> ScanReport | None:
        try:
            watch = catalog.get_watch(self._store.ledger, watch_id)
        except Exception:  # removed meanwhile
            return None
        if watch.paused:
            return None

        def progress(done: int, total: int, what: str) -> None:
            with self._lock:
                self._progress[watch_id] = (done, total)
            if done % 25 == 0 or done == total:
                self._publish()

        try:
            return self._indexer.scan(
                watch, progress, self._interrupt,
                on_outcome=lambda o: self._after(o.changes, bool(o.added_ids)),
            )
        finally:
            with self._lock:
                self._progress.pop(watch_id, None)
            self._publish()

    def _after(self, changes: Changes, new_episodes: bool) -> None:
        if not changes.empty:
            self._on_changes(changes)
        if new_episodes:
            self._extract_wanted.set()

    def _extract_loop(self, extract: Extract) -> None:
        while not self._stopping.is_set():
            self._extract_wanted.wait()
            self._extract_wanted.clear()
            if self._stopping.is_set():
                return
            try:
                changes = extract(self._stopping)
            except Cancelled:
                return
            except Exception:
                log.exception("extraction of captured text failed; will try again later")
                continue
            if not changes.empty:
                self._on_changes(changes)

    def _watch_of(self, path: Path) -> WatchedSource | None:
        for watch in catalog.list_watches(self._store.ledger):
            if watch.paused:
                continue
            if path == watch.path or (watch.is_folder and watch.path in path.parents):
                return watch
        return None

    def _source_ids(self, watch_id: int) -> tuple[str, ...]:
        rows = self._store.ledger.query(
            "SELECT DISTINCT fs.source_id FROM file_sources fs JOIN files f ON f.path = fs.path"
            " JOIN sources s ON s.id = fs.source_id WHERE f.watch_id = ?", (watch_id,))
        return tuple(sorted(row[0] for row in rows))

    def _status(self, watch: WatchedSource) -> SourceStatus:
        counts = {row["status"]: row["n"] for row in self._store.ledger.query(
            "SELECT status, COUNT(*) AS n FROM files WHERE watch_id = ? GROUP BY status",
            (watch.id,))}
        episodes = self._store.ledger.query(
            "SELECT COUNT(*) FROM episodes WHERE source_id IN (SELECT fs.source_id FROM"
            " file_sources fs JOIN files f ON f.path = fs.path WHERE f.watch_id = ?)",
            (watch.id,))[0][0]
        with self._lock:
            done, total = self._progress.get(watch.id, (0, 0))
        return SourceStatus(
            source=watch, state=self._state(watch, scanning=watch.id in self._progress),
            done=done, total=total, files=counts.get(FileState.STORED, 0),
            skipped=counts.get(FileState.SKIPPED, 0) + counts.get(FileState.RETRY, 0),
            episodes=int(episodes),
        )

    def _state(self, watch: WatchedSource, *, scanning: bool) -> str:
        if watch.paused:
            return "paused"
        if self._held.is_set():
            return CAPTURE_PAUSED
        if self._watcher is None:
            return "idle"
        if watch.error:
            return "error"
        if scanning:
            return "scanning"
        mode = self._watcher.watched().get(watch.path)
        return "polling" if mode is WatchMode.POLLING else "watching"

    def _publish(self) -> None:
        if self._watcher is None:
            return
        # One at a time, so that listeners hear reports in the order they were read:
        # a pause from the UI's worker and a scan's progress must not arrive swapped.
        with self._publish_lock:
            try:
                self._on_status(self.sources())
            except Exception:
                log.exception("a capture status listener failed")
