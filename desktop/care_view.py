"""The Memory care screen: the extraction queue, the last consolidation, the review inbox.

Everything it shows is read by `care_work.read_care` in `Lane.STATUS`: after every change
the job runner announces, after each of its own jobs and after each scheduled run (told
by `SleepBridge`); while the screen is shown, the queue alone is read again every few
seconds (one COUNT). A refresh asked for while the lane is busy waits for it
(`JobRunner.run_when_free`), and one waiting read serves every refresh asked for
meanwhile; a queue poll is skipped. Extract now and Consolidate now run in
`Lane.WORK` with progress and Stop; undo, verdicts, the preview and Edit… (the
timeline's edit dialog on an inbox memory; saving also keeps it) in `Lane.CARE`, so
they stay usable during a long import. In the inbox, Return keeps, Delete rejects and
F2 edits. Failures go out through `problem` to the window's
problem box, outcomes through `message` to the status bar.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from reverie.core.consolidate.journal import ChangeState
from reverie.core.consolidate.run import RunReport
from reverie.core.extract.extractor import QueueStatus
from reverie.core.store.memory_detail import MemoryDetail
from reverie.desktop import care_work
from reverie.desktop.care_dialogs import PreviewDialog
from reverie.desktop.care_model import ChangesModel, InboxModel
from reverie.desktop.care_sections import InboxSection, QueueSection, RunSection
from reverie.desktop.care_work import CareOutcome, CareSnapshot
from reverie.desktop.jobs import Job, JobRunner, Lane
from reverie.desktop.memory_dialogs import MemoryEditDialog
from reverie.desktop.sleep_bridge import SleepBridge

POLL_MS = 3000
READ_CARE = "read memory care"  # the full read a refresh asks for (run once)
SLEEPING = {"nightly": "Consolidating: the nightly run…",
            "idle": "Consolidating while the computer is idle…",
            "missed": "Consolidating: catching up on a missed night…"}
BUSY_MESSAGE = "Reverie is busy with another job; try again when it has finished."


class CarePane(QWidget):
    """The three sections of Memory care, and the jobs their buttons start."""

    problem = Signal(str, str, bool)  # title, message, is_bug: for the window's box
    message = Signal(str)  # a short note for the status bar
    inbox_count_changed = Signal(int)
    refreshed = Signal()  # a full read was shown (tests wait for it)

    def __init__(
        self, runner: JobRunner, sleep: SleepBridge | None = None,
        parent: QWidget | None = None, *, poll_ms: int = POLL_MS,
    ) -> None:
        super().__init__(parent)
        self.setAccessibleName("Memory care pane")
        self._runner = runner
        self._sleep = sleep
        self._work: Job | None = None  # Extract now or Consolidate now
        self.preview_dialog: PreviewDialog | None = None
        self.edit_dialog: MemoryEditDialog | None = None  # an inbox memory being edited
        self.changes_model = ChangesModel()
        self.inbox_model = InboxModel()
        self.queue = QueueSection(self)
        self.run = RunSection(self.changes_model, self)
        self.inbox = InboxSection(self.inbox_model, self)
        for action in (self.queue.extract_action, self.queue.stop_action,
                       self.run.consolidate_action, self.run.preview_action):
            self.addAction(action)  # these work anywhere on the screen

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setAccessibleName("Last consolidation and review inbox")
        self.splitter.addWidget(self.run)
        self.splitter.addWidget(self.inbox)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(self.queue)
        layout.addWidget(self.splitter, 1)

        self.poll = QTimer(self)
        self.poll.setInterval(poll_ms)
        self.poll.timeout.connect(self.refresh_queue)
        self._connect(runner)
        self._update()

    def _connect(self, runner: JobRunner) -> None:
        self.queue.extract_action.triggered.connect(self.extract_now)
        self.queue.stop_action.triggered.connect(self.stop)
        self.run.consolidate_action.triggered.connect(self.consolidate_now)
        self.run.preview_action.triggered.connect(self.show_preview)
        self.run.undo_action.triggered.connect(self.undo_selected)
        self.run.undo_run_action.triggered.connect(self.undo_whole_run)
        self.inbox.keep_action.triggered.connect(lambda: self.decide_selected(accept=True))
        self.inbox.reject_action.triggered.connect(lambda: self.decide_selected(accept=False))
        self.inbox.edit_action.triggered.connect(self.edit_selected)
        runner.changed.connect(lambda _changes: self.refresh())
        runner.opened.connect(lambda _facade: self.refresh())
        runner.busy_changed.connect(lambda _lane, _busy: self._update())
        model = self.changes_model
        for signal in (model.rowsInserted, model.rowsRemoved, model.dataChanged):
            signal.connect(self._update)
        self.run.view.selectionModel().selectionChanged.connect(self._update)
        self.inbox.view.selectionModel().selectionChanged.connect(self._update)
        sleep = self._sleep
        if sleep is not None:
            sleep.started.connect(self._on_sleep_started)
            sleep.finished.connect(self._on_sleep_finished)
            sleep.paused.connect(lambda _reason: self._on_sleep_ended(
                "Consolidation paused while you chat; it goes on later."))
            sleep.failed.connect(lambda _reason, text, _bug: self._on_sleep_ended(
                f"Consolidation stopped: {text}"))

    # --- state ----------------------------------------------------------------------

    @property
    def consolidating(self) -> bool:
        """True while a consolidation runs, started here or by the schedule."""
        scheduled = self._sleep is not None and self._sleep.running is not None
        return scheduled or (self._work is not None and self._work.name == "consolidate")

    def _update(self, *_args: object) -> None:
        ready = self._runner.facade is not None
        work_free = ready and not self._runner.busy(Lane.WORK)
        care_free = ready and not self._runner.busy(Lane.CARE)
        calm = care_free and not self.consolidating
        change = self.run.selected()
        applied = any(row.state == ChangeState.APPLIED for row in self.changes_model.rows)
        items = self.inbox.selected()
        self.queue.extract_action.setEnabled(work_free)
        self.queue.stop_action.setEnabled(self._work is not None)
        self.run.consolidate_action.setEnabled(work_free and not self.consolidating)
        self.run.preview_action.setEnabled(calm)
        self.run.undo_action.setEnabled(
            calm and change is not None and change.state == ChangeState.APPLIED)
        self.run.undo_run_action.setEnabled(calm and applied and self.run.run is not None)
        self.inbox.keep_action.setEnabled(care_free and bool(items))
        self.inbox.reject_action.setEnabled(care_free and bool(items))
        self.inbox.edit_action.setEnabled(
            care_free and len(items) == 1 and items[0].type == "memory")
        word = care_work.verdict_word(items, accept=True) if items else "Kept"
        self.inbox.set_keep_text(
            {"Kept": "Keep", "Accepted": "Accept"}.get(word, "Keep or accept"))

    @property
    def settled(self) -> bool:
        """True when no read is under way or owed: what is shown is the newest."""
        return not (self._runner.is_waiting(Lane.STATUS, READ_CARE)
                    or self._runner.busy(Lane.STATUS))

    def take_focus(self) -> None:
        """Put the focus in the pane: the inbox if it holds anything, else the changes."""
        (self.inbox.view if self.inbox_model.rowCount() else self.run.view).setFocus()

    def clear(self) -> None:
        """Show nothing (the store is closing)."""
        self.poll.stop()
        self.run.show_run(None, [])
        self.inbox.show_items([])

    # --- reading --------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the queue, the newest run and the inbox again (in a worker)."""
        if self._runner.facade is None:
            return
        # once: a read still to start will show this change too.
        self._runner.run_when_free(Lane.STATUS, READ_CARE, care_work.read_care,
                                   writes=False, then=self._on_read_started, once=True)

    def _on_read_started(self, job: Job) -> None:
        job.succeeded.connect(self._show_snapshot)
        job.failed.connect(lambda message, _bug: self.queue.show_problem(message))

    def refresh_queue(self) -> None:
        """Read the extraction queue alone; skipped while another read is under way."""
        if not self.isVisible() or self._runner.busy(Lane.STATUS):
            return
        job = self._start(Lane.STATUS, "read queue", care_work.read_queue, writes=False)
        if job is not None:
            job.succeeded.connect(self._show_queue)

    def _show_queue(self, status: object) -> None:
        assert isinstance(status, QueueStatus)
        self.queue.show_queue(status)

    def _show_snapshot(self, snapshot: object) -> None:
        assert isinstance(snapshot, CareSnapshot)
        self.queue.show_queue(snapshot.queue)
        self.run.show_run(snapshot.run, snapshot.changes)
        self.run.show_schedule(self._sleep.next_nightly() if self._sleep is not None else None)
        self.inbox.show_items(snapshot.inbox)
        self.inbox_count_changed.emit(len(snapshot.inbox))
        self._update()
        self.refreshed.emit()

    def showEvent(self, event: QShowEvent) -> None:
        """Shown: read everything now, and the queue every few seconds while shown."""
        super().showEvent(event)
        if self._runner.facade is not None:
            self.refresh()
            self.poll.start()

    # --- actions --------------------------------------------------------------------

    def extract_now(self) -> Job | None:
        """Read memories out of every turn waiting, with progress and Stop."""
        if not self.queue.extract_action.isEnabled():
            return None
        return self._start_work("extract", care_work.extract_now, "Extracting memories…",
                                "Could not extract memories")

    def consolidate_now(self) -> Job | None:
        """Consolidate now, with progress and Stop (Stop pauses it between changes)."""
        if not self.run.consolidate_action.isEnabled():
            return None
        return self._start_work("consolidate", care_work.consolidate_now, "Consolidating…",
                                "Could not consolidate")

    def stop(self) -> None:
        """Ask the extraction or consolidation under way to stop."""
        if self._work is not None:
            self._work.cancel()
            self.queue.stop_action.setEnabled(False)
            self.queue.activity.setText("Stopping…")

    def show_preview(self) -> Job | None:
        """List what consolidating now would do, in a dialog; nothing is written."""
        if not self.run.preview_action.isEnabled():
            return None
        job = self._start(Lane.CARE, "preview consolidation", care_work.preview,
                          writes=False, title="Could not preview consolidation")
        if job is not None:
            job.succeeded.connect(self._open_preview)
        return job

    def undo_selected(self) -> Job | None:
        """Undo the selected applied change."""
        change = self.run.selected()
        if change is None or not self.run.undo_action.isEnabled():
            return None
        return self._start(Lane.CARE, "undo change", care_work.undo_change(change),
                           title="Could not undo the change")

    def undo_whole_run(self) -> Job | None:
        """Undo every applied change of the run shown."""
        run = self.run.run
        if run is None or not self.run.undo_run_action.isEnabled():
            return None
        return self._start(Lane.CARE, "undo run", care_work.undo_run(run.id),
                           title="Could not undo the run")

    def decide_selected(self, *, accept: bool) -> Job | None:
        """Keep/accept or reject every selected inbox item."""
        items = self.inbox.selected()
        if not items or not self.inbox.keep_action.isEnabled():
            return None
        return self._start(Lane.CARE, "review", care_work.decide(items, accept=accept),
                           title="Could not record your verdict")

    def edit_selected(self) -> Job | None:
        """Read the selected inbox memory, then open the timeline's edit dialog on it;
        saving runs the edit and keeps the memory (it leaves the inbox)."""
        items = self.inbox.selected()
        if not self.inbox.edit_action.isEnabled() or len(items) != 1:
            return None
        memory_id = items[0].id
        job = self._start(Lane.CARE, "read memory", care_work.read_detail(memory_id),
                          writes=False, title="Could not open the memory")
        if job is not None:
            job.succeeded.connect(self._open_edit)
        return job

    def _open_edit(self, detail: object) -> None:
        if not isinstance(detail, MemoryDetail):
            self.message.emit("That memory is no longer stored.")
            self.refresh()
            return
        dialog = MemoryEditDialog(detail, self)
        dialog.accepted.connect(lambda: self._save_edit(detail.id, dialog))
        dialog.finished.connect(lambda _result: self._close_edit(dialog))
        self.edit_dialog = dialog
        dialog.open()

    def _save_edit(self, memory_id: str, dialog: MemoryEditDialog) -> None:
        self._start(Lane.CARE, "edit and keep",
                    care_work.edit_and_keep(memory_id, dialog.change()),
                    title="Could not change the memory")

    def _close_edit(self, dialog: MemoryEditDialog) -> None:
        if self.edit_dialog is dialog:
            self.edit_dialog = None
        dialog.deleteLater()

    # --- jobs -----------------------------------------------------------------------

    def _start(
        self, lane: Lane, name: str, work: Callable[..., Any], *, writes: bool = True,
        title: str | None = None,
    ) -> Job | None:
        """Start `work`; a failure goes to the problem box under `title` (if given); a
        writing job's outcome goes to the status bar, and everything is read again."""
        try:
            job = self._runner.run(lane, name, work, writes=writes)
        except RuntimeError:  # JobBusy, no store, or the store closing: stale buttons
            if title is not None:
                self.problem.emit(title, BUSY_MESSAGE, False)
            return None
        if title is not None:
            job.failed.connect(lambda message, is_bug: self.problem.emit(title, message, is_bug))
        if writes:
            job.succeeded.connect(self._on_outcome)
            job.finished.connect(self.refresh)  # a rejection or a stop announces nothing
        job.finished.connect(self._update)
        return job

    def _start_work(self, name: str, work: care_work.Work, doing: str, title: str) -> Job | None:
        job = self._start(Lane.WORK, name, work, title=title)
        if job is None:
            return None
        self._work = job
        job.progressed.connect(self.queue.show_progress)
        job.cancelled.connect(lambda: self.message.emit(f"{doing.rstrip('…')}: stopped"))
        job.finished.connect(self._on_work_finished)
        self.queue.show_activity(doing, working=True)
        self._update()
        return job

    def _on_work_finished(self) -> None:
        self._work = None
        self.queue.show_activity(None, working=False)
        self._update()

    def _on_outcome(self, outcome: object) -> None:
        assert isinstance(outcome, CareOutcome)
        self.message.emit(outcome.message)
        if outcome.problems:
            self.problem.emit("Some items could not be decided",
                              "\n".join(outcome.problems), False)

    def _open_preview(self, lines: object) -> None:
        assert isinstance(lines, list)
        dialog = PreviewDialog([str(line) for line in lines], self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _result: setattr(self, "preview_dialog", None))
        self.preview_dialog = dialog
        dialog.open()

    # --- scheduled runs -------------------------------------------------------------

    def _on_sleep_started(self, reason: str) -> None:
        if self._work is None:
            self.queue.show_activity(SLEEPING.get(reason, "Consolidating…"), working=False)
        self._update()

    def _on_sleep_finished(self, _reason: str, report: object) -> None:
        assert isinstance(report, RunReport)
        self._on_sleep_ended(
            care_work.report_text(report.state, report.applied, report.proposed))

    def _on_sleep_ended(self, text: str) -> None:
        if self._work is None:
            self.queue.show_activity(None, working=False)
        self.message.emit(text)
        self._update()
        self.refresh()
