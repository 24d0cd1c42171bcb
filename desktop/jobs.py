"""The one way the app runs core work: off the main thread, reporting back by signal.

In the manner of Anki's `aqt/operations` and Picard's `run_task`: a widget asks the
`JobRunner` to run a callable that receives the facade (never a widget) and a
`JobContext` (progress, a cancel flag, a channel for streamed values). The callable runs
on a worker thread of its lane; everything it reports arrives as Qt signals on the main
thread, which only draws.

Lanes keep at most one job of each kind at a time: `Lane.WORK` (opening the store,
import, extraction, consolidation), `Lane.CHAT` (one answer), `Lane.SOURCES` (the Sources
screen's actions, so that they stay usable during a long import), `Lane.CARE` (the Memory
care screen's quick actions: undo, review verdicts, preview) and `Lane.STATUS` (quick reads
that keep a status display current; they never write, and a view skips a refresh rather
than wait for one) and `Lane.EMBED` (a re-embedding after the embedder changed: hours
on a big store, so it must not hold up imports or extraction) and `Lane.EDIT` (what the
user does to a memory from its detail in the timeline: edit, pin, undo, forget) and
`Lane.BROWSE` (the filtered timeline's reads, as the user types: never writes). Core serialises the
store writer and the model itself; the lanes only keep the UI from queueing work the
user cannot see.

Outcomes: `succeeded(result)`; `cancelled()` when core raised `Cancelled`;
`failed(message, is_bug)` where an `EnvironmentProblem` is shown as its own message and
anything else is a bug, logged here with its traceback and shown as a short apology.
Every job ends with `finished()`; its lane is free again before the outcome signal.
A job may announce `Changes` it made part-way
(`JobContext.announce`), and a result carrying non-empty `Changes` (its `changes`
attribute) is also announced by `JobRunner.changed`, the one signal views refresh from;
a writing job that did not succeed announces `changed(None)`: "something may have
changed, look again".
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal, Slot

from reverie.core.errors import Cancelled, EnvironmentProblem
from reverie.core.service import Reverie
from reverie.core.types import Changes

log = logging.getLogger("reverie.desktop.jobs")

T = TypeVar("T")

BUG_APOLOGY = (
    "Sorry, something went wrong inside Reverie. Nothing you did caused it; "
    "the details were written to the log."
)


class Lane(enum.Enum):
    """Which single-thread worker a job runs on."""

    WORK = "work"  # open, import, extraction, consolidation: one at a time
    CHAT = "chat"  # one chat answer at a time
    SOURCES = "sources"  # add, pause, remove a watched source: quick, beside a long import
    CARE = "care"  # undo a consolidation change, review verdicts, preview: beside long work
    STATUS = "status"  # quick reads for status displays (queue, inbox): never writes
    EMBED = "embed"  # a re-embedding after the embedder changed: long, beside all else
    EDIT = "edit"  # the user's change to one memory from its detail: edit, pin, undo, forget
    BROWSE = "browse"  # the timeline's filtered reads (search as you type): never writes


class JobBusy(RuntimeError):
    """A job was started in a lane that is already running one (a UI bug)."""


class JobContext:
    """What a job's callable gets besides the facade; safe to use from the worker."""

    def __init__(self, job: Job) -> None:
        self._job = job
        self.cancel = threading.Event()

    def progress(self, done: int, total: int, what: str) -> None:
        """A `reverie.core.jobs.Progress` callback: reports (done, total, what)."""
        self._job._progressed.emit(done, total, what)

    def emit(self, value: object) -> None:
        """Send a streamed value (a chat token, say) to the job's `streamed` signal."""
        self._job._streamed.emit(value)

    def announce(self, changes: Changes) -> None:
        """Tell the views now that part of the job changed the store (`changed`)."""
        if not changes.empty:
            self._job._announced.emit(changes)


class Job(QObject):
    """One running job. Public signals are emitted on the main thread only."""

    progressed = Signal(int, int, str)
    streamed = Signal(object)
    announced = Signal(object)  # Changes made by a finished part of the job
    succeeded = Signal(object)
    failed = Signal(str, bool)  # message for the user, is_bug
    cancelled = Signal()
    finished = Signal()

    # Emitted from the worker thread. They are connected to slots of this object, which
    # lives on the main thread, so Qt queues them there; the public signals are re-emitted
    # from those slots. (Never connect worker-thread signals to lambdas directly.)
    _progressed = Signal(int, int, str)
    _streamed = Signal(object)
    _announced = Signal(object)
    _ended = Signal(str, object, str, bool)  # outcome, result, message, is_bug

    def __init__(
        self,
        lane: Lane,
        name: str,
        on_release: Callable[[Job], None] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.lane = lane
        self.name = name
        self._on_release = on_release
        self.context = JobContext(self)
        self.running = True
        self._progressed.connect(self._on_progressed)
        self._streamed.connect(self._on_streamed)
        self._announced.connect(self._on_announced)
        self._ended.connect(self._on_ended)

    def cancel(self) -> None:
        """Ask the job to stop; core checks the flag between steps."""
        self.context.cancel.set()

    @Slot(int, int, str)
    def _on_progressed(self, done: int, total: int, what: str) -> None:
        if self.running:
            self.progressed.emit(done, total, what)

    @Slot(object)
    def _on_streamed(self, value: object) -> None:
        if self.running:
            self.streamed.emit(value)

    @Slot(object)
    def _on_announced(self, changes: object) -> None:
        self.announced.emit(changes)

    @Slot(str, object, str, bool)
    def _on_ended(self, outcome: str, result: object, message: str, is_bug: bool) -> None:
        self.running = False
        # Free the lane before anyone hears the outcome, so that a handler of
        # `succeeded` (say, "the store is open") may start the next job at once.
        if self._on_release is not None:
            self._on_release(self)
        if outcome == "ok":
            self.succeeded.emit(result)
        elif outcome == "cancelled":
            self.cancelled.emit()
        else:
            self.failed.emit(message, is_bug)
        self.finished.emit()


class JobRunner(QObject):
    """Runs every UI-started job; owns the facade once it has opened it."""

    changed = Signal(object)  # Changes, or None when a writing job ended early
    busy_changed = Signal(object, bool)  # Lane, busy
    opened = Signal(object)  # the facade

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pools = {
            lane: ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"reverie-{lane.value}")
            for lane in Lane
        }
        self._running: dict[Lane, Job] = {}
        self._retired: dict[Lane, Job] = {}
        self._waiting: dict[Lane, list[tuple[str, Callable[[Reverie, JobContext], Any], bool,
                                             Callable[[Job], None]]]] = {}
        self._lock = threading.Lock()
        self._facade: Reverie | None = None
        self._owns_facade = False
        self._closing = False

    @property
    def facade(self) -> Reverie | None:
        """The open facade, or None before opening (or after a failed open)."""
        with self._lock:
            return self._facade

    def set_facade(self, facade: Reverie) -> None:
        """Use an already open facade; its opener stays responsible for closing it."""
        with self._lock:
            self._facade, self._owns_facade = facade, False

    def busy(self, lane: Lane) -> bool:
        """True while a job of `lane` runs."""
        return lane in self._running

    def job(self, lane: Lane) -> Job | None:
        """The job running in `lane`, if any."""
        return self._running.get(lane)

    def open(self, opener: Callable[[], Reverie]) -> Job:
        """Open the facade with `opener` (slow: loads the index, verifies models).

        On success the runner owns the facade, `opened` is emitted and `shutdown` closes
        it. A facade that finishes opening after `shutdown` began is closed at once.
        """

        def work(_ctx: JobContext) -> Reverie:
            facade = opener()
            with self._lock:
                if not self._closing:
                    self._facade, self._owns_facade = facade, True
                    return facade
            facade.close()
            raise Cancelled("closing")

        job = self._start(Lane.WORK, "open", work, writes=False)
        job.succeeded.connect(self._announce_open)
        return job

    def _announce_open(self, facade: object) -> None:
        # The worker took the facade before this signal could arrive; a shutdown in
        # between has closed it, and nobody may start reading it now.
        if facade is self.facade:
            self.opened.emit(facade)

    def run(
        self,
        lane: Lane,
        name: str,
        work: Callable[[Reverie, JobContext], T],
        *,
        writes: bool = True,
    ) -> Job:
        """Run `work(facade, context)` in `lane`; connect to the returned job's signals.

        Connect before control returns to the event loop: signals are delivered from
        the loop, so none is missed. Raises `JobBusy` if the lane is taken and
        `RuntimeError` if no facade is open.
        """
        facade = self.facade
        if facade is None:
            raise RuntimeError("no facade is open")
        return self._start(lane, name, lambda ctx: work(facade, ctx), writes=writes)

    def _start(
        self, lane: Lane, name: str, work: Callable[[JobContext], Any], *, writes: bool
    ) -> Job:
        if self._closing:
            raise RuntimeError("the runner is shutting down")
        if lane in self._running:
            raise JobBusy(f"a {self._running[lane].name} job is already running")
        # No Qt parent: the runner keeps the job while it runs and deletes it later.
        # (A job parented to the runner, with its deleteLater pending when the runner
        # was destroyed, crashed PySide 6.12 in the next processEvents.)
        job = Job(lane, name, self._release)
        self._running[lane] = job
        job.finished.connect(job.deleteLater)
        job.announced.connect(self.changed.emit)
        if writes:
            job.succeeded.connect(self._announce_changes)
            job.failed.connect(lambda _message, _is_bug: self.changed.emit(None))
            job.cancelled.connect(lambda: self.changed.emit(None))
        self._pools[lane].submit(self._execute, job, work)
        self.busy_changed.emit(lane, True)
        return job

    @staticmethod
    def _execute(job: Job, work: Callable[[JobContext], Any]) -> None:
        """The worker side: run, classify the outcome, hand it to the main thread."""
        try:
            result = work(job.context)
        except Cancelled:
            log.info("%s job cancelled", job.name)
            job._ended.emit("cancelled", None, "", False)
        except EnvironmentProblem as problem:
            log.info("%s job stopped: %s", job.name, type(problem).__name__)
            job._ended.emit("failed", None, str(problem), False)
        except Exception:
            log.exception("%s job failed (bug)", job.name)
            job._ended.emit("failed", None, BUG_APOLOGY, True)
        else:
            job._ended.emit("ok", result, "", False)

    def _announce_changes(self, result: object) -> None:
        changes = getattr(result, "changes", None)
        if isinstance(changes, Changes) and not changes.empty:
            self.changed.emit(changes)

    def _release(self, job: Job) -> None:
        if self._running.get(job.lane) is job:
            del self._running[job.lane]
            # Keep the wrapper until the lane's next job: the job is still delivering
            # its last signals, and Qt deletes it later (deleteLater on `finished`).
            self._retired[job.lane] = job
            self.busy_changed.emit(job.lane, False)
            self._start_waiting(job.lane)

    def run_when_free(
        self, lane: Lane, name: str, work: Callable[[Reverie, JobContext], Any], *,
        writes: bool = True, then: Callable[[Job], None], once: bool = False,
    ) -> None:
        """Run `work` in `lane` now, or as soon as the lane's running job ends, then hand
        the job to `then` (to connect its signals). Jobs waiting for one lane start in
        the order asked; nothing starts once no facade is open or shut-down began.

        With `once`, nothing is added while a job of that `name` still waits to start:
        a read that has not started yet will see whatever this ask was about (a read
        already running will not, so an ask then queues one more after it).
        """
        if once and self.is_waiting(lane, name):
            return
        self._waiting.setdefault(lane, []).append((name, work, writes, then))
        self._start_waiting(lane)

    def is_waiting(self, lane: Lane, name: str) -> bool:
        """Whether a job named `name` waits for `lane` to free (`run_when_free`)."""
        return any(entry[0] == name for entry in self._waiting.get(lane, []))

    def _start_waiting(self, lane: Lane) -> None:
        waiting = self._waiting.get(lane, [])
        while waiting and lane not in self._running and not self._closing and self.facade:
            name, work, writes, then = waiting.pop(0)
            then(self.run(lane, name, work, writes=writes))

    def shutdown(self) -> None:
        """Cancel running jobs, wait for the workers, close the facade if we own it.

        Blocks the main thread until the workers return; core checks the cancel flag
        between tokens and items, so that is a moment, not a model run. Idempotent.
        """
        with self._lock:
            if self._closing and self._facade is None:
                return
            self._closing = True
        for job in list(self._running.values()):
            job.cancel()
        for pool in self._pools.values():
            pool.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            facade, owns = self._facade, self._owns_facade
            self._facade = None
        if facade is not None and owns:
            facade.close()
            log.info("facade closed")
