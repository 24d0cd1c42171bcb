"""The detail of the item selected in the timeline, and what the user can do to it.

A turn shows its text and source. A memory shows everything Reverie knows of it
(`detail_render`) with Edit… (F2), Merge with… (Ctrl+M), Pin (Ctrl+P), Undo (Ctrl+Z) and
Forget… (Delete), each run as a `Lane.EDIT` job (the merge dialog's searches run in
`Lane.BROWSE`, as the timeline's do); links in the text open another memory of its chain,
undo one change of its history, or open the file a source turn was read from.

Reading a memory's detail is a few indexed reads, done on the main thread as the row is
selected (as the timeline reads a day's items); every change goes through the runner.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QTextBrowser, QVBoxLayout, QWidget

from reverie.core.service import Reverie
from reverie.core.store.forget import ForgetPlan
from reverie.core.store.memory_detail import MemoryDetail
from reverie.desktop import memory_work
from reverie.desktop.actions import pane_action
from reverie.desktop.detail_render import detail_html
from reverie.desktop.jobs import Job, JobBusy, JobContext, JobRunner, Lane
from reverie.desktop.memory_dialogs import ForgetDialog, MemoryEditDialog
from reverie.desktop.memory_work import MemoryOutcome
from reverie.desktop.merge_dialog import MergeDialog

SELECT_HINT = "Select a turn or memory to read it in full here."


def open_with_system(path: Path) -> bool:
    """Open a source file in the application the system uses for it."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


class DetailView(QWidget):
    """The selected item in full, with the actions on a memory."""

    memory_opened = Signal(str)  # a chain link was followed: show that memory
    problem = Signal(str, str, bool)  # title, message, is_bug
    message = Signal(str)  # for the status bar

    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Selected item")
        self._runner = runner
        self.detail: MemoryDetail | None = None
        self.forget_dialog: ForgetDialog | None = None
        self.edit_dialog: MemoryEditDialog | None = None
        self.merge_dialog: MergeDialog | None = None
        self.open_file: Callable[[Path], bool] = open_with_system  # tests replace it
        self.browser = QTextBrowser(self)
        self.browser.setAccessibleName("Item detail")
        self.browser.setOpenLinks(False)
        self.browser.anchorClicked.connect(self._follow)
        self.browser.setFrameShape(QTextBrowser.Shape.NoFrame)
        self.edit_action = pane_action(self, "&Edit…", "F2", "Change this memory's text,"
                                       " kind, time or whom it is about")
        self.merge_action = pane_action(self, "&Merge with…", "Ctrl+M",
                                        "Merge this memory with another one you choose;"
                                        " Undo brings both back")
        self.pin_action = pane_action(self, "&Pin", "Ctrl+P", "Pinned memories never fade")
        self.undo_action = pane_action(self, "&Undo", "Ctrl+Z",
                                       "Undo the newest change to this memory")
        self.forget_action = pane_action(self, "&Forget…", "Delete",
                                         "Remove this memory for good, after a preview")
        self.edit_action.triggered.connect(self.edit)
        self.merge_action.triggered.connect(self.merge)
        self.pin_action.triggered.connect(self.toggle_pin)
        self.undo_action.triggered.connect(lambda: self.undo(None))
        self.forget_action.triggered.connect(self.forget)
        self.buttons = QWidget(self)
        row = QHBoxLayout(self.buttons)
        row.setContentsMargins(0, 0, 0, 0)
        for action in (self.edit_action, self.merge_action, self.pin_action,
                       self.undo_action):
            row.addWidget(_button_for(action))
        row.addStretch(1)
        row.addWidget(_button_for(self.forget_action))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.browser, 1)
        layout.addWidget(self.buttons)
        runner.busy_changed.connect(self._on_busy)
        self.clear()

    # --- showing --------------------------------------------------------------------

    def clear(self, hint: str = SELECT_HINT) -> None:
        """Show nothing but `hint`."""
        self.detail = None
        self.browser.setHtml(f"<p style='color: palette(placeholder-text)'>{hint}</p>")
        self._update()

    def show_html(self, text: str) -> None:
        """Show a turn (or anything that is not a memory) as rich text."""
        self.detail = None
        self.browser.setHtml(text)
        self._update()

    def show_memory(self, memory_id: str) -> bool:
        """Read and show one memory; False (and a hint) if it is gone."""
        facade = self._runner.facade
        detail = facade.memory_detail(memory_id) if facade is not None else None
        if facade is None or detail is None:
            self.clear("That memory is no longer stored.")
            return False
        self.detail = detail
        history = facade.memories.history(memory_id)
        scroll = self.browser.verticalScrollBar().value()
        self.browser.setHtml(detail_html(detail, history))
        self.browser.verticalScrollBar().setValue(scroll)
        self._update()
        return True

    def text(self) -> str:
        """What the detail shows, as plain text."""
        return self.browser.toPlainText()

    def reload(self) -> None:
        """Read the shown memory again (after a change anywhere)."""
        if self.detail is not None:
            self.show_memory(self.detail.id)

    def _on_busy(self, lane: Lane, _busy: bool) -> None:
        if lane is Lane.EDIT:
            self._update()

    def _update(self) -> None:
        is_memory = self.detail is not None
        idle = not self._runner.busy(Lane.EDIT)
        self.buttons.setVisible(is_memory)
        for action in (self.edit_action, self.merge_action, self.pin_action,
                       self.undo_action, self.forget_action):
            action.setEnabled(is_memory and idle)
        if self.detail is not None:
            self.edit_action.setEnabled(idle and self.detail.kind != "summary")
            # Only a current memory (not a summary) can be merged by hand.
            self.merge_action.setEnabled(idle and self.detail.kind != "summary"
                                         and self.detail.status == "active")
            self.pin_action.setText("Un&pin" if self.detail.pinned else "&Pin")

    # --- actions --------------------------------------------------------------------

    def edit(self) -> MemoryEditDialog | None:
        """Open the edit dialog; saving runs the edit as a job."""
        if self.detail is None or not self.edit_action.isEnabled():
            return None
        dialog = MemoryEditDialog(self.detail, self)
        memory_id = self.detail.id
        dialog.accepted.connect(lambda: self._save_edit(memory_id, dialog))
        dialog.finished.connect(dialog.deleteLater)
        self.edit_dialog = dialog
        dialog.open()
        return dialog

    def _save_edit(self, memory_id: str, dialog: MemoryEditDialog) -> None:
        change = dialog.change()
        self.edit_dialog = None
        if change.empty:
            self.message.emit("Nothing was changed")
            return
        self._run("edit", memory_work.edit(memory_id, change), "Could not change the memory")

    def merge(self) -> MergeDialog | None:
        """Open the merge dialog; choosing a memory and Merge runs the merge as a job."""
        if self.detail is None or not self.merge_action.isEnabled():
            return None
        detail = self.detail
        dialog = MergeDialog(detail, self)
        dialog.search_requested.connect(
            lambda query: self._find_candidates(dialog, detail, query))
        dialog.accepted.connect(lambda: self._merge(detail.id, dialog))
        dialog.finished.connect(dialog.deleteLater)
        dialog.finished.connect(lambda _result: setattr(self, "merge_dialog", None))
        self.merge_dialog = dialog
        dialog.open()
        dialog.start()
        return dialog

    def _merge(self, memory_id: str, dialog: MergeDialog) -> None:
        job = self._run("merge", memory_work.merge(memory_id, dialog.choice()),
                        "Could not merge the memories")
        if job is not None:
            # The merged-away row left the timeline (and the selection with it): select
            # the memory that holds the merge, where it now sits.
            job.succeeded.connect(lambda outcome: self.memory_opened.emit(outcome.memory_id)
                                  if isinstance(outcome, MemoryOutcome) else None)

    def _find_candidates(self, dialog: MergeDialog, detail: MemoryDetail, query: str) -> None:
        work = memory_work.merge_candidates(detail.id, detail.text, query)

        def connect(job: Job) -> None:
            if self.merge_dialog is not dialog:
                return  # closed while the search waited for the lane
            # Bound slots: a dialog closed before the answer arrives is disconnected.
            job.succeeded.connect(dialog.show_candidates)
            job.failed.connect(dialog.show_failure)

        # A read beside the store's writers; it waits while the timeline's own search
        # holds the lane.
        self._runner.run_when_free(Lane.BROWSE, "find merge candidates", work,
                                   writes=False, then=connect)

    def toggle_pin(self) -> None:
        """Pin the shown memory, or unpin it."""
        if self.detail is not None:
            self._run("pin", memory_work.pin(self.detail.id, not self.detail.pinned),
                      "Could not pin the memory")

    def undo(self, change: int | None) -> None:
        """Undo one change of the shown memory (None: its newest not undone)."""
        if self.detail is not None:
            self._run("undo", memory_work.undo(self.detail.id, change), "Could not undo")

    def forget(self) -> None:
        """Plan forgetting the shown memory, then show what would go for confirmation."""
        if self.detail is None or not self.forget_action.isEnabled():
            return
        detail = self.detail
        job = self._start("plan forget", memory_work.plan_forget((detail.id,)), writes=False)
        if job is not None:
            job.succeeded.connect(lambda plan: self._confirm_forget(detail, plan))
            job.failed.connect(lambda text, bug: self.problem.emit(
                "Could not forget the memory", text, bug))

    def _confirm_forget(self, detail: MemoryDetail, plan: object) -> None:
        assert isinstance(plan, ForgetPlan)
        turns = tuple(source.episode_id for source in detail.sources)
        dialog = ForgetDialog(plan, [detail.text], len(turns), self)
        dialog.widen_requested.connect(
            lambda wider: self._replan(dialog, (detail.id,), turns if wider else ()))
        dialog.accepted.connect(lambda: self._run(
            "forget", memory_work.forget(dialog.plan), "Could not forget the memory"))
        dialog.finished.connect(dialog.deleteLater)
        dialog.finished.connect(lambda _result: setattr(self, "forget_dialog", None))
        self.forget_dialog = dialog
        dialog.open()

    def _replan(self, dialog: ForgetDialog, memory_ids: tuple[str, ...],
                episode_ids: tuple[str, ...]) -> None:
        work = memory_work.plan_forget(memory_ids, episode_ids)
        job = self._start("plan forget", work, writes=False)
        if job is not None:
            job.succeeded.connect(lambda plan: dialog.set_plan(plan)
                                  if isinstance(plan, ForgetPlan) else None)

    def _follow(self, url: QUrl) -> None:
        scheme, target = url.scheme(), url.path()
        if scheme == "memory":
            self.memory_opened.emit(target)
        elif scheme == "undo" and target.isdigit():
            self.undo(int(target))
        elif scheme == "source" and target.isdigit() and self.detail is not None:
            sources = self.detail.sources
            path = sources[int(target)].path if int(target) < len(sources) else None
            if path is None or not self.open_file(path):
                self.message.emit("The source file could not be opened")

    # --- running --------------------------------------------------------------------

    def _run(self, name: str, work: memory_work.Work, title: str) -> Job | None:
        job = self._start(name, work, writes=True)
        if job is None:
            return None
        job.succeeded.connect(self._on_done)
        job.failed.connect(lambda text, bug: self.problem.emit(title, text, bug))
        job.progressed.connect(lambda done, total, what: self.message.emit(
            f"{what.capitalize()}: {done} of {total}"))
        return job

    def _start(self, name: str, work: Callable[[Reverie, JobContext], object], *,
               writes: bool) -> Job | None:
        try:
            return self._runner.run(Lane.EDIT, name, work, writes=writes)
        except JobBusy:
            self.message.emit("Another change is being made; try again in a moment")
            return None

    def _on_done(self, outcome: object) -> None:
        assert isinstance(outcome, MemoryOutcome)
        self.message.emit(outcome.message)
        if outcome.memory_id:
            self.show_memory(outcome.memory_id)
        else:
            self.clear("Forgotten.")


def _button_for(action: QAction) -> QPushButton:
    """A push button that mirrors `action` (text, enabled, tooltip)."""
    button = QPushButton(action.iconText())
    button.setAccessibleName(action.iconText())
    button.setToolTip(action.toolTip())
    button.setFocusPolicy(Qt.FocusPolicy.TabFocus)

    def mirror() -> None:
        button.setText(action.text().replace("&", ""))
        button.setEnabled(action.isEnabled())

    action.changed.connect(mirror)
    button.clicked.connect(action.trigger)
    mirror()
    return button
