"""The one Qt bridge for live capture: capture's threads in, main-thread signals out.

`Reverie.start_capture` calls `on_status` and `on_changes` on its own threads (the
indexer, the extractor, and any worker that pauses or removes a source). Those callables
never touch a widget: they keep the newest value under a lock and post one queued signal
to this object, which lives on the main thread, and the public signals are emitted from
there (GUIDE §3.5).

Bursts are coalesced. While a delivery is pending, later statuses only replace the
snapshot and later changes are added up, so a scan that reports every few files, or a
folder full of new files, costs the main thread one refresh per event-loop turn rather
than one per report; the last snapshot delivered is always the newest one.

After `detach()` the callables do nothing: a capture thread that outlives shutdown (its
join timed out) can then no longer reach a Qt object that is being destroyed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal, Slot

from reverie.core.capture.watching import SourceStatus
from reverie.core.service import Reverie
from reverie.core.types import Changes
from reverie.desktop.jobs import JobContext

log = logging.getLogger("reverie.desktop.capture")


class CaptureBridge(QObject):
    """Hands capture's reports to the main thread; create it on the main thread."""

    statuses_changed = Signal(object)  # list[SourceStatus], the newest snapshot
    changed = Signal(object)  # Changes captured since the last delivery (never empty)
    stopped = Signal()  # `stop_in_background` finished

    # Emitted from any thread; queued explicitly, so even a call from the main thread
    # itself is delivered later and never re-enters a slot that holds the lock.
    _status_posted = Signal()
    _changes_posted = Signal()
    _stop_posted = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._latest: list[SourceStatus] | None = None
        self._pending_changes = Changes()
        self._status_pending = False
        self._changes_pending = False
        self._detached = False
        self._reported = False
        queued = Qt.ConnectionType.QueuedConnection
        self._status_posted.connect(self._deliver_status, queued)
        self._changes_posted.connect(self._deliver_changes, queued)
        self._stop_posted.connect(self.stopped, queued)

    # --- called on capture's threads -----------------------------------------------

    def on_status(self, statuses: list[SourceStatus]) -> None:
        """Capture's `on_status`: keep the snapshot, post a delivery unless one is pending."""
        with self._lock:
            if self._detached:
                return
            self._latest = list(statuses)
            self._reported = True
            if self._status_pending:
                return
            self._status_pending = True
            # Posting inside the lock: `detach` cannot slip in between the check above
            # and the post, so nothing is posted to an object being torn down.
            self._status_posted.emit()

    def on_changes(self, changes: Changes) -> None:
        """Capture's `on_changes`: add them up, post a delivery unless one is pending."""
        if changes.empty:
            return
        with self._lock:
            if self._detached:
                return
            self._pending_changes = self._pending_changes + changes
            if self._changes_pending:
                return
            self._changes_pending = True
            self._changes_posted.emit()

    # --- main thread ----------------------------------------------------------------

    @property
    def has_reported(self) -> bool:
        """True once capture has sent any status (its snapshots then supersede others)."""
        with self._lock:
            return self._reported

    def detach(self) -> None:
        """Drop every later report; pending deliveries are dropped too. Idempotent."""
        with self._lock:
            self._detached = True
            self._latest = None
            self._pending_changes = Changes()

    @property
    def detached(self) -> bool:
        """True after `detach`."""
        with self._lock:
            return self._detached

    def stop_in_background(self, stop: Callable[[], None]) -> threading.Thread:
        """Run `stop` (capture's blocking `stop`) on a thread; `stopped` follows it.

        The thread is returned so that a caller whose event loop cannot run any more
        (the application already quit) may join it instead of waiting for `stopped`.
        """

        def run() -> None:
            try:
                stop()
            except Exception:  # shutting down must go on; the log keeps the bug
                log.exception("stopping capture failed")
            finally:
                self._stop_posted.emit()

        thread = threading.Thread(target=run, name="reverie-capture-stop", daemon=True)
        thread.start()
        return thread

    @Slot()
    def _deliver_status(self) -> None:
        with self._lock:
            statuses, self._latest = self._latest, None
            self._status_pending = False
        if statuses is not None:
            self.statuses_changed.emit(statuses)

    @Slot()
    def _deliver_changes(self) -> None:
        with self._lock:
            changes, self._pending_changes = self._pending_changes, Changes()
            self._changes_pending = False
        if not changes.empty:
            self.changed.emit(changes)



def start_capture(
    bridge: CaptureBridge, *, extract: bool
) -> Callable[[Reverie, JobContext], list[SourceStatus]]:
    """A job that starts live capture reporting through `bridge`; returns the sources.

    Starting is a job because it sets up a watch on every unpaused source (a walk of
    each folder tree for inotify) and writes their state to the ledger. The returned
    list matters only when capture reports nothing itself (no source is unpaused).
    """

    def work(facade: Reverie, _ctx: JobContext) -> list[SourceStatus]:
        facade.start_capture(
            on_status=bridge.on_status, on_changes=bridge.on_changes, extract=extract
        )
        return facade.capture.sources()

    return work
