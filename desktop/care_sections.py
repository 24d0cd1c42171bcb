"""The three sections of the Memory care screen, as widgets that only show and select.

Each section owns its widgets and its actions (a button and a keyboard shortcut each);
`CarePane` connects the actions to its jobs and feeds the sections what its reads return.
An action's shortcut works while the focus is inside the widget it is added to: the
section, or (for Extract, Consolidate and Preview) the whole pane.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
    QProgressBar,
    QStackedWidget,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from reverie.core.consolidate.journal import Run
from reverie.core.extract.extractor import QueueStatus
from reverie.desktop.actions import pane_action
from reverie.desktop.care_model import (
    ChangeColumn,
    ChangeRow,
    ChangesModel,
    InboxItem,
    InboxModel,
    RowRole,
    health_text,
    queue_text,
    run_heading,
    tally_text,
    when_text,
)
from reverie.desktop.theme import use_tone

NO_RUN = ("No consolidation has run yet. Reverie consolidates at night and when the computer"
          " is idle, never while you chat; Consolidate now runs it at once.")
EMPTY_INBOX = "Nothing waits for your review."
SCHEDULE_NOTE = ("Runs by itself each night{next} and when the computer is idle (on mains"
                 " power), never while you chat. Every change can be undone.")




def make_button(action: QAction, name: str, parent: QWidget) -> QToolButton:
    """A text button for `action`, named for screen readers."""
    button = QToolButton(parent)
    button.setDefaultAction(action)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    button.setAccessibleName(name)
    return button


class QueueSection(QGroupBox):
    """"12 turns waiting · 2 put off · 41.3 tokens/s", what runs now, Stop, Extract now."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Extraction &queue", parent)
        self.setAccessibleName("Extraction queue")
        self.label = QLabel("…", self)
        self.label.setAccessibleName("Queue")
        self.label.setToolTip(
            "Turns and passages waiting for Reverie to read memories out of them. Put off:"
            " the model's replies were unusable; they are tried again at the next"
            " consolidation.")
        self.activity = QLabel(self)
        self.activity.setAccessibleName("Running now")
        use_tone(self.activity, "muted")
        self.progress = QProgressBar(self)
        self.progress.setAccessibleName("Memory care progress")
        self.progress.setMaximumWidth(220)
        self.extract_action = pane_action(
            self, "E&xtract now", "Ctrl+E", "Read memories out of every turn waiting, now")
        self.stop_action = pane_action(
            self, "S&top", "Ctrl+.", "Stop the extraction or consolidation under way")
        self.stop_button = make_button(self.stop_action, "Stop", self)
        self.extract_button = make_button(self.extract_action, "Extract now", self)
        row = QHBoxLayout(self)
        row.addWidget(self.label, 1)
        row.addWidget(self.activity)
        row.addWidget(self.progress)
        row.addWidget(self.stop_button)
        row.addWidget(self.extract_button)
        self.show_activity(None, working=False)

    def show_queue(self, status: QueueStatus) -> None:
        """Show the queue's counts and the model's speed."""
        use_tone(self.label, None)
        self.label.setText(queue_text(status))

    def show_problem(self, message: str) -> None:
        """Say that the queue could not be read."""
        use_tone(self.label, "problem")
        self.label.setText(f"Could not read the queue: {message}")

    def show_activity(self, text: str | None, *, working: bool) -> None:
        """What runs now (None: nothing); `working` shows the progress bar and Stop."""
        if working and self.progress.isHidden():
            self.progress.setRange(0, 0)  # busy until the first report
        self.activity.setText(text or "")
        self.activity.setVisible(text is not None)
        self.progress.setVisible(working)
        self.stop_button.setVisible(working)

    def show_progress(self, done: int, total: int, what: str) -> None:
        """A job's progress report."""
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(min(done, max(total, 1)))
        self.activity.setText(f"{what.capitalize()}: {done} of {total}")


class RunSection(QGroupBox):
    """The newest run (reason, when, state, health) and its changes, one row each."""

    def __init__(self, model: ChangesModel, parent: QWidget | None = None) -> None:
        super().__init__("&Last consolidation", parent)
        self.setAccessibleName("Last consolidation")
        self.model = model
        self.run: Run | None = None
        self.heading = QLabel(NO_RUN, self)
        self.heading.setAccessibleName("Last run")
        self.heading.setWordWrap(True)
        self.figures = QLabel(self)
        self.figures.setAccessibleName("Health figures")
        self.figures.setWordWrap(True)
        self.figures.setToolTip(
            "Duplicates: share of memories with a near-copy. Contradictions: memories that"
            " disagree about the same thing. Archived: faded or folded memories, kept in the"
            " history. Waiting for review: what the review inbox holds.")
        self.note = QLabel(SCHEDULE_NOTE.format(next=""), self)
        self.note.setAccessibleName("About consolidation")
        use_tone(self.note, "muted")
        self.note.setWordWrap(True)
        self.view = self._build_view(model)
        self.undo_action = pane_action(
            self, "&Undo change", "Ctrl+Z",
            "Put the memories of the selected change back as they were")
        self.undo_run_action = pane_action(
            self, "Undo whole &run", "Ctrl+Shift+Z",
            "Undo every change this run made, newest first")
        # Added to the pane as well by `CarePane`: they work anywhere on the screen.
        self.consolidate_action = pane_action(
            self, "&Consolidate now", "Ctrl+R",
            "Merge duplicates, retire what is no longer true, summarise and fade, now")
        self.preview_action = pane_action(
            self, "&Preview…", "Ctrl+Shift+R",
            "List what consolidating now would do, changing nothing")
        self.consolidate_button = make_button(self.consolidate_action, "Consolidate now", self)
        self.preview_button = make_button(self.preview_action, "Preview", self)
        self.undo_button = make_button(self.undo_action, "Undo change", self)
        self.undo_run_button = make_button(self.undo_run_action, "Undo whole run", self)
        buttons = QHBoxLayout()
        buttons.addWidget(self.consolidate_button)
        buttons.addWidget(self.preview_button)
        buttons.addStretch(1)
        buttons.addWidget(self.undo_button)
        buttons.addWidget(self.undo_run_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.figures)
        layout.addWidget(self.note)
        layout.addLayout(buttons)
        layout.addWidget(self.view, 1)

    def _build_view(self, model: ChangesModel) -> QTableView:
        view = QTableView(self)
        view.setAccessibleName("Changes of the last run")
        view.setModel(model)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setShowGrid(False)
        view.setAlternatingRowColors(True)
        view.setWordWrap(False)
        view.verticalHeader().hide()
        view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 10)
        header = view.horizontalHeader()
        header.setSectionResizeMode(ChangeColumn.CHANGE, QHeaderView.ResizeMode.Stretch)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setHighlightSections(False)
        view.setColumnWidth(ChangeColumn.STATE, 140)
        return view

    def show_run(self, run: Run | None, rows: Sequence[ChangeRow]) -> None:
        """Show `run` (None: none ran yet) and its changes."""
        self.run = run
        self.model.set_rows(rows)
        if run is None:
            self.heading.setText(NO_RUN)
            self.figures.setText("")
            return
        self.heading.setText(f"<b>{run_heading(run)}</b><br>{tally_text(rows)}")
        figures = health_text(run.figures)
        self.figures.setText(figures[:1].upper() + figures[1:])

    def show_schedule(self, next_nightly: datetime | None) -> None:
        """Say when the next nightly run is (None: not known, or not scheduled)."""
        when = f" (next: {when_text(next_nightly)})" if next_nightly is not None else ""
        self.note.setText(SCHEDULE_NOTE.format(next=when))

    def selected(self) -> ChangeRow | None:
        """The change selected in the list, if any."""
        rows = self.view.selectionModel().selectedRows()
        value = rows[0].data(RowRole) if rows else None
        return value if isinstance(value, ChangeRow) else None

    def select(self, row: int) -> None:
        """Select the change in `row`."""
        self.view.selectRow(row)


class InboxSection(QGroupBox):
    """The review inbox: many items may be selected and decided at once."""

    def __init__(self, model: InboxModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        note = QLabel("Memories Reverie is unsure of, and changes that touch what you pinned"
                      " or edited. Select several to decide them at once.", self)
        note.setWordWrap(True)
        use_tone(note, "muted")
        self.view = QListView(self)
        self.view.setAccessibleName("Review inbox items")
        self.view.setModel(model)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(True)
        self.view.setStyleSheet("QListView::item { padding: 3px 2px; }")
        # Items wrap to the width: lay them out again on a resize, never scroll sideways.
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.hint = QLabel(EMPTY_INBOX, self)
        self.hint.setAccessibleName("Empty inbox")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setStyleSheet("QLabel { background: palette(base); border: 1px solid"
                                " palette(mid); color: palette(placeholder-text);"
                                " padding: 16px; }")
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.hint)
        self.keep_action = pane_action(
            self, "&Keep", "Return", "Keep the selected memories; make the selected changes")
        # Return is the key; the keypad's Enter and the earlier Ctrl+K work as well.
        self.keep_action.setShortcuts([QKeySequence(Qt.Key.Key_Return),
                                       QKeySequence(Qt.Key.Key_Enter), QKeySequence("Ctrl+K")])
        self.edit_action = pane_action(
            self, "&Edit…", "F2",
            "Correct the selected memory; saving also keeps it (it leaves the inbox)")
        self.reject_action = pane_action(
            self, "Re&ject", QKeySequence.StandardKey.Delete,
            "Archive the selected memories; turn the selected changes down")
        self.keep_button = make_button(self.keep_action, "Keep", self)
        self.reject_button = make_button(self.reject_action, "Reject", self)
        self.edit_button = make_button(self.edit_action, "Edit", self)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.edit_button)
        buttons.addWidget(self.keep_button)
        buttons.addWidget(self.reject_button)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(buttons)
        layout.addWidget(self.stack, 1)
        self.show_items([])

    def show_items(self, items: Sequence[InboxItem]) -> None:
        """Show `items` and their count in the title."""
        self.model.set_rows(items)
        count = len(items)
        self.setTitle(f"Review &inbox ({count})")
        self.setAccessibleName(f"Review inbox, {count} waiting")
        self.stack.setCurrentWidget(self.view if count else self.hint)

    def selected(self) -> list[InboxItem]:
        """The items selected, in list order."""
        rows = sorted(self.view.selectionModel().selectedRows(), key=lambda i: i.row())
        return [item for index in rows if isinstance(item := index.data(RowRole), InboxItem)]

    def set_keep_text(self, text: str) -> None:
        """"Keep", "Accept" or "Keep or accept", as the selection calls for."""
        self.keep_action.setIconText(text)
        self.keep_button.setAccessibleName(text)
