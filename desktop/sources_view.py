"""The Sources screen: the folders and export files Reverie follows, and what it did.

The table (`SourcesModel`) is fed by capture's status reports through `CaptureBridge`;
the pane itself never reads the store. Add, Pause/Resume, Remove (with an optional
forget, planned first) and Show skipped files each run one facade call as a
`Lane.SOURCES` job; failures go out through `problem` to the window's problem box.

A scanning source's progress is painted by a delegate, not a widget per row, so a
hundred sources reporting every few files cost a repaint of the changed cells only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from reverie.core.capture.watching import SourceStatus
from reverie.core.service import Reverie
from reverie.core.types import Changes
from reverie.desktop.actions import pane_action
from reverie.desktop.jobs import Job, JobContext, JobRunner, Lane
from reverie.desktop.sources_dialogs import RemoveDialog, SkippedDialog
from reverie.desktop.sources_model import (
    Column,
    ProgressRole,
    SourcesModel,
    StatusRole,
    display_path,
)
from reverie.desktop.theme import use_tone

EXPORT_FILTER = (
    "Chat and mail exports (*.json *.jsonl *.txt *.log *.mbox *.ics);;All files (*)"
)
EMPTY_HINT = (
    "No watched sources yet.\n\nAdd a folder of notes or documents, or an exported chat,"
    " and Reverie reads it and keeps up with its changes while it runs."
)
BUSY_MESSAGE = "Reverie is busy with another job; try again when it has finished."

Work = Callable[[Reverie, JobContext], Any]


# --- the work, run on a worker thread ---------------------------------------------------


@dataclass(frozen=True)
class SourceOutcome:
    """What a change to the list of sources did, for the status bar and the views."""

    message: str
    statuses: tuple[SourceStatus, ...] | None  # a fresh list when capture cannot report it
    changes: Changes = field(default_factory=Changes)  # announced by the job runner


def _listing(facade: Reverie) -> tuple[SourceStatus, ...] | None:
    # While capture runs it reports every change itself; a list read here as well
    # could reach the view after a newer report and show the older state.
    return None if facade.capture.running else tuple(facade.capture.sources())


def add_source(path: str) -> Callable[[Reverie, JobContext], SourceOutcome]:
    """A job that follows a folder or export file (capture scans it at once)."""

    def work(facade: Reverie, _ctx: JobContext) -> SourceOutcome:
        watch = facade.capture.add(Path(path))
        return SourceOutcome(f"Now following {display_path(watch.path)}", _listing(facade))

    return work


def set_paused(status: SourceStatus, paused: bool) -> Callable[[Reverie, JobContext], Any]:
    """A job that pauses or resumes one source."""
    shown = display_path(status.source.path)

    def work(facade: Reverie, _ctx: JobContext) -> SourceOutcome:
        if paused:
            facade.capture.pause(status.source.id)
            return SourceOutcome(f"Paused {shown}", _listing(facade))
        facade.capture.resume(status.source.id)
        return SourceOutcome(f"Following {shown} again", _listing(facade))

    return work


def remove_source(status: SourceStatus, *, forget: bool) -> Work:
    """A job that stops following a source and, with `forget`, forgets what it gave."""
    shown = display_path(status.source.path)

    def work(facade: Reverie, ctx: JobContext) -> SourceOutcome:
        changes = facade.capture.remove(status.source.id, forget=forget, progress=ctx.progress)
        message = f"Stopped following {shown}"
        if forget:
            message += (f" and forgot {changes.episodes_removed} pieces and"
                        f" {changes.memories_removed} memories read from it")
        return SourceOutcome(message, _listing(facade), changes)

    return work


def plan_remove(watch_id: int) -> Callable[[Reverie, JobContext], str]:
    """A job that says what forgetting a source would remove."""
    return lambda facade, _ctx: facade.capture.plan_remove(watch_id).describe()


def skipped_files(watch_id: int) -> Callable[[Reverie, JobContext], list[tuple[str, str]]]:
    """A job that lists a source's skipped files with their reasons."""
    return lambda facade, _ctx: facade.capture.problems(watch_id)


# --- the pane ---------------------------------------------------------------------------


class ProgressDelegate(QStyledItemDelegate):
    """Paints the State cell of a scanning source as a progress bar with its text."""

    def initStyleOption(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        """A state is read from its start ("error: not found…"): elide on the right."""
        super().initStyleOption(option, index)
        option.textElideMode = Qt.TextElideMode.ElideRight

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        """A progress bar while scanning; the ordinary cell otherwise."""
        progress = index.data(ProgressRole)
        if progress is None:
            super().paint(painter, option, index)
            return
        done, total = progress
        cell = QStyleOptionViewItem(option)
        self.initStyleOption(cell, index)
        cell.text = ""  # the bar carries the text
        widget = option.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, cell, painter, widget)
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(3, 3, -3, -3)
        bar.palette = option.palette
        bar.fontMetrics = option.fontMetrics
        bar.state = QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Horizontal
        bar.minimum, bar.maximum, bar.progress = 0, max(total, 1), min(done, total)
        bar.text = str(index.data(Qt.ItemDataRole.DisplayRole))
        bar.textVisible = True
        bar.textAlignment = Qt.AlignmentFlag.AlignCenter
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, widget)


class SourcesPane(QWidget):
    """The list of watched sources with Add, Pause/Resume, Remove and Show skipped."""

    problem = Signal(str, str, bool)  # title, message, is_bug: for the window's box
    message = Signal(str)  # a short note for the status bar

    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Sources pane")
        self._runner = runner
        self._job: Job | None = None
        self.remove_dialog: RemoveDialog | None = None
        self.skipped_dialog: SkippedDialog | None = None
        self.model = SourcesModel()

        title = QLabel("Watched sources", self)
        title.setObjectName("paneTitle")
        self.note = QLabel(
            "Reverie reads these while it runs and keeps up with every change.", self)
        self.note.setAccessibleName("About sources")
        use_tone(self.note, "muted")
        self.note.setWordWrap(True)
        self.view = self._build_view()
        self.hint = QLabel(EMPTY_HINT, self)
        self.hint.setAccessibleName("No sources")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet(
            "QLabel { background: palette(base); border: 1px solid palette(mid);"
            " color: palette(placeholder-text); padding: 16px; }"
        )
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.hint)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(title)
        layout.addWidget(self.note)
        layout.addLayout(self._build_actions())
        layout.addWidget(self.stack, 1)

        for signal in (self.model.rowsInserted, self.model.rowsRemoved, self.model.dataChanged):
            signal.connect(self._update)
        self.view.selectionModel().selectionChanged.connect(self._update)
        runner.busy_changed.connect(lambda _lane, _busy: self._update())
        runner.opened.connect(lambda _facade: self._update())
        self._update()

    def _build_view(self) -> QTableView:
        view = QTableView(self)
        view.setAccessibleName("Watched sources")
        view.setModel(self.model)
        view.setItemDelegateForColumn(Column.STATE, ProgressDelegate(view))
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # keep a path's both ends
        view.setShowGrid(False)
        view.setAlternatingRowColors(True)
        view.setWordWrap(False)
        view.verticalHeader().hide()
        # Fixed sizes: measuring every row's contents on each status report would cost
        # more than the repaint itself with a hundred sources.
        view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 12)
        header = view.horizontalHeader()
        header.setSectionResizeMode(Column.PATH, QHeaderView.ResizeMode.Stretch)
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        view.setColumnWidth(Column.STATE, 230)
        for column in (Column.FILES, Column.PIECES, Column.SKIPPED):
            view.setColumnWidth(column, 80)
        return view

    def _build_actions(self) -> QHBoxLayout:
        self.add_folder_action = self._action(
            "Add &folder…", "Ctrl+Shift+O", "Follow a folder of notes and documents",
            self.choose_folder)
        self.add_export_action = self._action(
            "Add &export file…", "Ctrl+Shift+E",
            "Follow one exported conversation or mailbox file", self.choose_export)
        self.pause_action = self._action(
            "&Pause", "Ctrl+P", "Stop or start following changes to the selected source",
            self.toggle_pause)
        self.remove_action = self._action(
            "&Remove…", QKeySequence.StandardKey.Delete,
            "Stop following the selected source, optionally forgetting what it gave",
            self.confirm_remove)
        self.skipped_action = self._action(
            "Show &skipped files", "Ctrl+I",
            "List the files of the selected source that could not be read, and why",
            self.show_skipped)
        row = QHBoxLayout()
        row.setSpacing(6)
        self.add_folder_button = self._button(self.add_folder_action, "Add folder")
        self.add_export_button = self._button(self.add_export_action, "Add export file")
        self.pause_button = self._button(self.pause_action, "Pause")
        self.remove_button = self._button(self.remove_action, "Remove")
        self.skipped_button = self._button(self.skipped_action, "Show skipped files")
        for button in (self.add_folder_button, self.add_export_button):
            row.addWidget(button)
        row.addStretch(1)
        for button in (self.pause_button, self.remove_button, self.skipped_button):
            row.addWidget(button)
        return row

    def _action(
        self, text: str, shortcut: str | QKeySequence.StandardKey, tip: str,
        slot: Callable[[], object],
    ) -> QAction:
        action = pane_action(self, text, shortcut, tip)
        action.triggered.connect(slot)
        return action

    def _button(self, action: QAction, name: str) -> QToolButton:
        button = QToolButton(self)
        button.setDefaultAction(action)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        button.setAccessibleName(name)
        return button

    # --- selection and state --------------------------------------------------------

    def selected(self) -> SourceStatus | None:
        """The status of the selected source, if any."""
        rows = self.view.selectionModel().selectedRows()
        if not rows:
            return None
        status = rows[0].data(StatusRole)
        return status if isinstance(status, SourceStatus) else None

    def select(self, watch_id: int) -> None:
        """Select the row of source `watch_id` (if shown)."""
        row = self.model.row_of(watch_id)
        if row is not None:
            self.view.selectRow(row)

    @property
    def ready(self) -> bool:
        """True when the store is open and no job holds the work lane."""
        return self._runner.facade is not None and not self._runner.busy(Lane.SOURCES)

    def _update(self, *_args: object) -> None:
        self.stack.setCurrentWidget(self.view if self.model.rowCount() else self.hint)
        ready, status = self.ready, self.selected()
        self.add_folder_action.setEnabled(ready)
        self.add_export_action.setEnabled(ready)
        paused = status is not None and status.state == "paused"
        self.pause_action.setText("Res&ume" if paused else "&Pause")
        self.pause_action.setIconText("Resume" if paused else "Pause")
        self.pause_action.setEnabled(ready and status is not None)
        self.remove_action.setEnabled(ready and status is not None)
        self.skipped_action.setEnabled(ready and status is not None and status.skipped > 0)
        self.pause_button.setAccessibleName("Resume" if paused else "Pause")

    def take_focus(self) -> None:
        """Put the focus in the pane (its shortcuts work only there): the list, if shown."""
        shown = self.stack.currentWidget() is self.view
        (self.view if shown else self.add_folder_button).setFocus()

    def set_capture_problem(self, message: str) -> None:
        """Say that live watching is off (capture could not start)."""
        use_tone(self.note, "problem")
        self.note.setText(f"Watching is off: {message}")

    # --- actions --------------------------------------------------------------------

    def choose_folder(self) -> None:
        """Ask for a folder and follow it."""
        if self.add_folder_action.isEnabled():
            path = QFileDialog.getExistingDirectory(self, "Add a folder", str(Path.home()))
            if path:
                self.add(path)

    def choose_export(self) -> None:
        """Ask for an export file and follow it."""
        if self.add_export_action.isEnabled():
            path, _filter = QFileDialog.getOpenFileName(
                self, "Add an export file", str(Path.home()), EXPORT_FILTER)
            if path:
                self.add(path)

    def add(self, path: str | Path) -> Job | None:
        """Follow a folder or export file; capture then scans it and reports progress."""
        return self._run("add source", add_source(str(path)), f"Could not add {path}")

    def toggle_pause(self) -> Job | None:
        """Pause the selected source, or resume it if it is paused."""
        status = self.selected()
        if status is None:
            return None
        pause = status.state != "paused"
        verb = "pause" if pause else "resume"
        return self._run(f"{verb} source", set_paused(status, pause),
                         f"Could not {verb} {display_path(status.source.path)}")

    def confirm_remove(self) -> RemoveDialog | None:
        """Ask before removing the selected source (and, if asked, forgetting it)."""
        status = self.selected()
        if status is None or not self.ready:
            return None
        dialog = RemoveDialog(status, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.plan_wanted.connect(lambda: self._plan(dialog))
        dialog.accepted.connect(lambda: self.remove(status, forget=dialog.forget))
        dialog.finished.connect(lambda _result: self._forget_dialog(dialog))
        self.remove_dialog = dialog
        dialog.open()
        return dialog

    def remove(self, status: SourceStatus, *, forget: bool) -> Job | None:
        """Stop following `status`'s source; with `forget`, forget what it gave."""
        return self._run("remove source", remove_source(status, forget=forget),
                         f"Could not remove {display_path(status.source.path)}")

    def show_skipped(self) -> Job | None:
        """List the selected source's skipped files, with reasons, in a dialog."""
        status = self.selected()
        if status is None or not self.skipped_action.isEnabled():
            return None
        job = self._run("list skipped files", skipped_files(status.source.id),
                        "Could not list the skipped files", writes=False, report=False)
        if job is not None:
            job.succeeded.connect(lambda problems: self._open_skipped(status, problems))
        return job

    # --- jobs -----------------------------------------------------------------------

    def _run(
        self, name: str, work: Work, title: str | None, *, writes: bool = True,
        report: bool = True,
    ) -> Job | None:
        """Start `work` in the work lane; a failure goes to the problem box under `title`.

        With `title` None the caller shows failures itself; with `report` the result is
        a `SourceOutcome` for the status bar (and the list, when capture is not running).
        """
        try:
            job = self._runner.run(Lane.SOURCES, name, work, writes=writes)
        except RuntimeError:  # JobBusy, or the store closing: the buttons were stale
            if title is not None:
                self.problem.emit(title, BUSY_MESSAGE, False)
            return None
        if report:
            job.succeeded.connect(self._on_done)
        if title is not None:
            job.failed.connect(
                lambda message, is_bug: self.problem.emit(title, message, is_bug))
        job.finished.connect(self._on_finished)
        self._job = job
        return job

    def _on_done(self, outcome: object) -> None:
        assert isinstance(outcome, SourceOutcome)
        if outcome.statuses is not None:
            self.model.set_statuses(list(outcome.statuses))
        self.message.emit(outcome.message)

    def _on_finished(self) -> None:
        self._job = None
        self._update()

    def _plan(self, dialog: RemoveDialog) -> None:
        # The dialog shows a failure in place: a box over the dialog would hide it.
        job = self._run("plan forget", plan_remove(dialog.status.source.id), None,
                        writes=False, report=False)
        if job is None:
            dialog.plan_failed(BUSY_MESSAGE)
            return
        job.succeeded.connect(lambda text: self._on_plan(dialog, str(text), failed=False))
        job.failed.connect(lambda message, _bug: self._on_plan(dialog, message, failed=True))

    def _on_plan(self, dialog: RemoveDialog, text: str, *, failed: bool) -> None:
        if self.remove_dialog is not dialog:
            return  # closed before the plan arrived (and deleted since)
        if failed:
            dialog.plan_failed(text)
        else:
            dialog.show_plan(text)

    def _forget_dialog(self, dialog: RemoveDialog) -> None:
        if self.remove_dialog is dialog:
            self.remove_dialog = None

    def _open_skipped(self, status: SourceStatus, problems: object) -> None:
        assert isinstance(problems, list)
        dialog = SkippedDialog(status, problems, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _result: setattr(self, "skipped_dialog", None))
        self.skipped_dialog = dialog
        dialog.open()
