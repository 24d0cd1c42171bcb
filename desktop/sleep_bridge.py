"""Sleep-time consolidation in the app: the scheduler's thread in, main-thread signals out.

Once the store is open, `SleepBridge.start` (run as a job) builds a core
`ConsolidationScheduler` that runs `Reverie.sleep` (retry deferred extraction, then
consolidate) nightly, when the app has seen no input for a while on AC power, and once
after a missed night, never while the chat is answering. The scheduler asks two things of
the app: the seconds since the user last pressed a key or moved the mouse in it (an event
filter on the application records the monotonic time of every input event; it adds about
2 µs to each event the app handles) and whether the chat lane is busy. When an answer
starts, `pause_for_user` stops a run between changes; it goes on later.

The run callable runs on APScheduler's thread and never touches a widget: it posts
queued signals to this object, which lives on the main thread, and the public signals
are emitted from there (GUIDE §3.5). After `detach()` nothing more is posted.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, Signal, Slot

from reverie.core.consolidate import journal
from reverie.core.consolidate.run import RunReport
from reverie.core.consolidate.schedule import (
    ConsolidationScheduler,
    ScheduleSettings,
    SystemConditions,
)
from reverie.core.errors import Cancelled, EnvironmentProblem
from reverie.core.service import Reverie
from reverie.desktop.jobs import BUG_APOLOGY, JobContext, JobRunner, Lane

log = logging.getLogger("reverie.desktop.sleep")

_INPUT_EVENTS = frozenset({
    QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick,
    QEvent.Type.MouseMove, QEvent.Type.Wheel, QEvent.Type.TouchBegin, QEvent.Type.TabletPress,
})


class SleepBridge(QObject):
    """Owns the consolidation scheduler while the store is open; create on the main thread."""

    started = Signal(str)  # reason: nightly, idle, missed or manual
    finished = Signal(str, object)  # reason, RunReport (done, or paused by its budget/user)
    failed = Signal(str, str, bool)  # reason, message for the user, is_bug
    paused = Signal(str)  # reason: stopped before it finished (the user began chatting)
    # After every run that began: None, "look again". A paused or failed run may have
    # applied changes before it stopped, and has no report saying which.
    changed = Signal(object)
    stopped = Signal()  # `stop_in_background` finished

    # Emitted from the scheduler's threads; queued to `_deliver` on the main thread.
    _posted = Signal(str, str, object, str, bool)  # event, reason, report, message, is_bug
    _stop_posted = Signal()

    def __init__(
        self, runner: JobRunner, parent: QObject | None = None, *,
        settings: ScheduleSettings | None = None,
    ) -> None:
        super().__init__(parent)
        self._settings = settings or ScheduleSettings()
        self._lock = threading.Lock()  # guards _scheduler and _detached
        self._scheduler: ConsolidationScheduler | None = None
        self._detached = False
        self._running: str | None = None  # main thread: reason of the run in progress
        self._last_input = time.monotonic()  # written on the main thread, read anywhere
        self._chat_busy = runner.busy(Lane.CHAT)
        queued = Qt.ConnectionType.QueuedConnection
        self._posted.connect(self._deliver, queued)
        self._stop_posted.connect(self.stopped, queued)
        runner.busy_changed.connect(self._on_busy)
        app = QCoreApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    # --- what the scheduler asks (any thread) ----------------------------------------

    def idle_seconds(self) -> float:
        """Seconds since the user last pressed a key, clicked or moved the mouse in the app."""
        return time.monotonic() - self._last_input

    def user_busy(self) -> bool:
        """True while the chat lane is answering."""
        return self._chat_busy

    # --- main thread ----------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Note the time of every input event; never consumes one."""
        if event.type() in _INPUT_EVENTS:
            self._last_input = time.monotonic()
        return False

    @property
    def settings(self) -> ScheduleSettings:
        """When runs may start: the settings the next `start` uses."""
        return self._settings

    def use_settings(self, settings: ScheduleSettings) -> None:
        """Take `settings` for the next `start` (the Settings screen restarts the
        scheduler to apply them at once)."""
        self._settings = settings

    @property
    def scheduling(self) -> bool:
        """True while a scheduler is started (between `start` and the stop)."""
        with self._lock:
            return self._scheduler is not None

    @property
    def running(self) -> str | None:
        """The reason of the run in progress as the signals tell it, or None."""
        return self._running

    def next_nightly(self) -> datetime | None:
        """When the nightly run fires next; None when no scheduler runs."""
        with self._lock:
            scheduler = self._scheduler
        return scheduler.next_nightly() if scheduler is not None else None

    def run_now(self, reason: str = "manual") -> bool:
        """Queue a run at once; False if none can start (not scheduling, or one is queued)."""
        with self._lock:
            scheduler = self._scheduler
        return scheduler.run_now(reason) if scheduler is not None else False

    def pause_for_user(self) -> None:
        """The user began chatting: stop a queued or running run; it goes on later."""
        with self._lock:
            scheduler = self._scheduler
        if scheduler is not None:
            scheduler.pause_for_user()

    def _on_busy(self, lane: object, busy: bool) -> None:
        if lane is Lane.CHAT:
            self._chat_busy = busy
            if busy:
                self.pause_for_user()

    def detach(self) -> None:
        """Drop every later report and stop noting input. Idempotent."""
        with self._lock:
            self._detached = True
        app = QCoreApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    def stop_in_background(self) -> threading.Thread:
        """Stop the scheduler (cancelling a run, waiting for it) on a thread; `stopped`
        follows. Call `detach` first. The thread is returned for a caller whose event loop
        cannot run any more, to join instead."""
        with self._lock:
            scheduler, self._scheduler = self._scheduler, None

        def run() -> None:
            try:
                if scheduler is not None:
                    scheduler.shutdown(wait=True)
            except Exception:  # shutting down must go on; the log keeps the bug
                log.exception("stopping the consolidation scheduler failed")
            finally:
                self._stop_posted.emit()

        thread = threading.Thread(target=run, name="reverie-sleep-stop", daemon=True)
        thread.start()
        return thread

    # --- a worker and the scheduler's thread ----------------------------------------

    def start(self, facade: Reverie) -> None:
        """Build and start the scheduler for `facade` (a job: it reads the journal)."""
        ledger = facade.store.ledger

        def run(reason: str, cancel: threading.Event) -> None:
            self._run(facade, reason, cancel)

        scheduler = ConsolidationScheduler(
            run, SystemConditions(self.idle_seconds, self.user_busy), self._settings,
            last_run=lambda: journal.last_finished(ledger),
        )
        # Under the lock: a stop that begins meanwhile waits, then finds it to stop.
        with self._lock:
            if self._detached:
                return
            scheduler.start()
            self._scheduler = scheduler
        log.info("consolidation scheduled nightly at %02d:%02d and when idle",
                 self._settings.nightly_hour, self._settings.nightly_minute)

    def _run(self, facade: Reverie, reason: str, cancel: threading.Event) -> None:
        """The scheduler's run callable: `Reverie.sleep`, reported by signal.

        An exception is reported, then raised again for the scheduler to log and to
        know the run did not finish."""
        self._post("started", reason)
        try:
            report = facade.sleep(reason, cancel)
        except Cancelled:
            self._post("paused", reason)
            raise
        except EnvironmentProblem as problem:
            self._post("failed", reason, message=str(problem))
            raise
        except Exception:
            self._post("failed", reason, message=BUG_APOLOGY, is_bug=True)
            raise
        self._post("finished", reason, report)

    def _post(self, event: str, reason: str, report: RunReport | None = None, *,
              message: str = "", is_bug: bool = False) -> None:
        with self._lock:  # inside the lock: `detach` cannot slip in before the post
            if not self._detached:
                self._posted.emit(event, reason, report, message, is_bug)

    @Slot(str, str, object, str, bool)
    def _deliver(self, event: str, reason: str, report: object, message: str,
                 is_bug: bool) -> None:
        if self._is_detached():
            return
        if event == "started":
            self._running = reason
            self.started.emit(reason)
            return
        self._running = None
        self.changed.emit(None)
        if event == "finished":
            assert isinstance(report, RunReport)
            self.finished.emit(reason, report)
        elif event == "paused":
            self.paused.emit(reason)
        else:
            self.failed.emit(reason, message, is_bug)

    def _is_detached(self) -> bool:
        with self._lock:
            return self._detached


def start_sleep(bridge: SleepBridge) -> Callable[[Reverie, JobContext], None]:
    """A job that starts the consolidation scheduler for the open store."""

    def work(facade: Reverie, _ctx: JobContext) -> None:
        bridge.start(facade)

    return work
