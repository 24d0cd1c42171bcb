"""The chat's conversation list beside the transcript, and its rename and delete dialogs.

Every read and write runs as a job: the list's pages on `Lane.STATUS` (quick reads that
wait while the lane is busy, `JobRunner.run_when_free`), renames and
deletions on `Lane.CHAT`, where they queue behind nothing the user cannot see (the
chat panel disables the list while an answer is written). Enter or a click opens a
conversation (`open_requested`), F2 renames it, Delete asks first, showing what the
forget will remove: its turns and every memory taken from them, named one by one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QSize, Qt, Signal
from PySide6.QtGui import QAction, QFont, QFontMetrics, QKeySequence, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDialog,
    QDialogButtonBox,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QMenu,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from reverie.core.chat.conversations import PAGE, ConversationDeletion, ConversationSummary
from reverie.core.service import Reverie
from reverie.core.types import Changes
from reverie.desktop.actions import pane_action
from reverie.desktop.conversations_model import (
    ConversationsModel,
    CurrentRole,
    SourceIdRole,
    SummaryRole,
    row_details,
)
from reverie.desktop.jobs import Job, JobContext, JobRunner, Lane
from reverie.desktop.labels import plural
from reverie.desktop.theme import color, use_tone

log = logging.getLogger("reverie.desktop.chat")

ModelIndex = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Deleted:
    """A deleted conversation and what its forgetting changed (the views refresh)."""

    source_id: str
    changes: Changes


Page = tuple[int, list[ConversationSummary]]  # a page's offset and its rows


def list_page(offset: int) -> Callable[[Reverie, JobContext], Page]:
    """A job reading one page of conversations from `offset`."""

    def work(facade: Reverie, _ctx: JobContext) -> Page:
        # One more than a page tells whether another page follows.
        return offset, facade.conversations.list(offset, PAGE + 1)

    return work


def rename(source_id: str, name: str) -> Callable[[Reverie, JobContext], ConversationSummary]:
    """A job giving a conversation the user's name."""

    def work(facade: Reverie, _ctx: JobContext) -> ConversationSummary:
        return facade.conversations.rename(source_id, name)

    return work


def plan_delete(source_id: str) -> Callable[[Reverie, JobContext], ConversationDeletion]:
    """A job working out what deleting a conversation forgets (changes nothing)."""

    def work(facade: Reverie, _ctx: JobContext) -> ConversationDeletion:
        return facade.conversations.plan_delete(source_id)

    return work


def delete(deletion: ConversationDeletion) -> Callable[[Reverie, JobContext], Deleted]:
    """A job forgetting what a confirmed deletion previewed."""

    def work(facade: Reverie, ctx: JobContext) -> Deleted:
        changes = facade.conversations.delete(
            deletion, progress=ctx.progress, cancel=ctx.cancel)
        return Deleted(deletion.summary.source_id, changes)

    return work


class ConversationDelegate(QStyledItemDelegate):
    """Draws a row as its title over a smaller, muted line: when, and how many turns."""

    _PAD = 4

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        """The selection background from the style, then the two lines of text."""
        summary = index.data(SummaryRole)
        if not isinstance(summary, ConversationSummary):
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style = opt.widget.style() if opt.widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        box = opt.rect.adjusted(self._PAD + 2, self._PAD, -self._PAD, -self._PAD)
        painter.save()
        title_font = QFont(option.font)
        title_font.setBold(bool(index.data(CurrentRole)))
        painter.setFont(title_font)
        painter.setPen(opt.palette.color(text_role))
        line = QFontMetrics(title_font).height()
        painter.drawText(box.adjusted(0, 0, 0, -line), _TOP_LEFT, QFontMetrics(title_font)
                         .elidedText(summary.title, Qt.TextElideMode.ElideRight, box.width()))
        small = _small(option.font)
        painter.setFont(small)
        if not selected:
            painter.setPen(color("muted"))  # read at draw time: follows the scheme
        painter.drawText(box.adjusted(0, line + 1, 0, 0), _TOP_LEFT, row_details(summary))
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: ModelIndex) -> QSize:
        """Two lines and some air."""
        height = (QFontMetrics(option.font).height() + QFontMetrics(_small(option.font)).height()
                  + 2 * self._PAD + 1)
        return QSize(option.rect.width() or 200, height)


def _small(font: QFont) -> QFont:
    small = QFont(font)
    small.setPointSizeF(max(7.0, font.pointSizeF() * 0.88))
    return small


_TOP_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
FIRST_PAGE = "conversations"  # the read a refresh asks for (run once)
NEXT_PAGE = "conversations: next page"  # a page the list scrolls to


class DeleteConversationDialog(QDialog):
    """Asks before a conversation is forgotten, naming every memory that goes with it."""

    def __init__(self, deletion: ConversationDeletion, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.deletion = deletion
        self.setWindowTitle("Delete conversation")
        self.setAccessibleName("Delete conversation")
        self.summary = QLabel(deletion.describe(), self)
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName("What will be forgotten")
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        self.memories = QListWidget(self)
        self.memories.setAccessibleName("Memories that will be forgotten")
        self.memories.setWordWrap(True)
        if deletion.memories:
            heading = QLabel("These memories will be forgotten with it:", self)
            layout.addWidget(heading)
            self.memories.addItems(list(deletion.memories))
            hidden = len(deletion.plan.memory_ids) - len(deletion.memories)
            if hidden > 0:
                self.memories.addItem(f"… and {hidden} more")
            layout.addWidget(self.memories)
        else:
            self.memories.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.delete_button = buttons.addButton(
            "Delete for good", QDialogButtonBox.ButtonRole.DestructiveRole)
        self.delete_button.setAccessibleName("Delete the conversation for good")
        self.cancel_button = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setDefault(True)  # Enter keeps everything
        self.delete_button.clicked.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(460, 320 if deletion.memories else 160)


class ConversationList(QWidget):
    """The stored conversations, newest first; open, rename and delete them."""

    open_requested = Signal(str)  # the source id of the conversation to show
    deleted = Signal(str)  # the source id of a conversation just forgotten
    message = Signal(str)  # a line for the chat's status (a failure, a deletion)

    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Conversations")
        self._runner = runner
        self._switching = True
        self.dialog: QDialog | None = None  # the open rename or delete dialog, if any

        self.model = ConversationsModel(self)
        self.view = QListView(self)
        self.view.setModel(self.model)
        self.view.setAccessibleName("Conversation list")
        self.view.setAccessibleDescription(
            "Enter opens a conversation, F2 renames it, Delete forgets it.")
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setUniformItemSizes(True)
        self.view.setItemDelegate(ConversationDelegate(self.view))
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.empty = QLabel("No conversations yet.", self)
        self.empty.setAccessibleName("No conversations yet")
        use_tone(self.empty, "muted")
        heading = QLabel("Conversations", self)
        heading.setObjectName("paneTitle")

        self.open_action = self._action(
            "&Open", "Return", "Show this conversation and go on with it", self._open_current)
        self.rename_action = self._action(
            "&Rename…", "F2", "Give this conversation a name of your own", self.rename_current)
        self.delete_action = self._action(
            "&Delete…", QKeySequence.StandardKey.Delete,
            "Forget this conversation and the memories taken from it (asks first)",
            self.delete_current)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(heading)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.empty)

        self.model.page_wanted.connect(self._fetch_page)
        self.model.modelReset.connect(self._update_state)
        self.model.rowsInserted.connect(self._update_state)
        self.view.activated.connect(self._on_activated)
        self.view.clicked.connect(self._on_activated)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.view.selectionModel().currentChanged.connect(self._update_state)
        runner.busy_changed.connect(self._on_busy_changed)
        runner.opened.connect(self._on_opened)
        self._update_state()

    def _action(
        self, text: str, keys: str | QKeySequence.StandardKey, tip: str,
        slot: Callable[[], None],
    ) -> QAction:
        # Active only while the list has the focus: Delete and F2 mean other things in
        # other panes.
        action = pane_action(self.view, text, keys, tip)
        action.triggered.connect(slot)
        return action

    # --- what the chat panel calls --------------------------------------------------

    def refresh(self) -> None:
        """Read the first page again (a quick job; it waits while its lane is busy)."""
        if self._runner.facade is None:
            return
        # once: a read still to start will show this change too.
        self._runner.run_when_free(Lane.STATUS, FIRST_PAGE, list_page(0), writes=False,
                                   then=self._on_refresh_started, once=True)

    def _on_refresh_started(self, job: Job) -> None:
        job.succeeded.connect(self._on_first_page)
        job.failed.connect(lambda text, _bug: self.message.emit(text))

    def set_current(self, source_id: str | None) -> None:
        """Mark (and select) the conversation the transcript shows; None for a new one."""
        self.model.set_current(source_id)
        row = self.model.row_of(source_id)
        if row is None:
            self.view.clearSelection()
        else:
            self.view.setCurrentIndex(self.model.index(row))

    def set_switching_enabled(self, enabled: bool) -> None:
        """Allow opening, renaming and deleting (not while an answer is written)."""
        self._switching = enabled
        self.view.setEnabled(enabled)
        self._update_state()

    def current_id(self) -> str | None:
        """The source id of the selected conversation, if any."""
        index = self.view.currentIndex()
        return str(index.data(SourceIdRole)) if index.isValid() else None

    # --- rename and delete ----------------------------------------------------------

    def rename_current(self) -> None:
        """Ask for a new name for the selected conversation (F2)."""
        index = self.view.currentIndex()
        if not index.isValid() or not self._can_change():
            return
        summary = self.model.summary(index.row())
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Rename conversation")
        dialog.setLabelText("Name:")
        dialog.setTextEchoMode(QLineEdit.EchoMode.Normal)
        dialog.setTextValue(summary.title)
        dialog.setAccessibleName("Rename conversation")
        dialog.textValueSelected.connect(lambda name: self._rename(summary.source_id, name))
        self._show(dialog)

    def delete_current(self) -> None:
        """Work out what deleting the selected conversation forgets, then ask (Delete)."""
        source_id = self.current_id()
        if source_id is None or not self._can_change():
            return
        job = self._runner.run(Lane.CHAT, "delete preview", plan_delete(source_id),
                               writes=False)
        job.succeeded.connect(self._confirm_delete)
        job.failed.connect(lambda text, _bug: self.message.emit(text))

    def _rename(self, source_id: str, name: str) -> None:
        if not self._can_change():
            return
        job = self._runner.run(Lane.CHAT, "rename conversation", rename(source_id, name))
        job.succeeded.connect(lambda _summary: self.refresh())
        job.failed.connect(lambda text, _bug: self.message.emit(text))

    def _confirm_delete(self, deletion: object) -> None:
        assert isinstance(deletion, ConversationDeletion)
        dialog = DeleteConversationDialog(deletion, self)
        dialog.accepted.connect(lambda: self._delete(deletion))
        self._show(dialog)

    def _delete(self, deletion: ConversationDeletion) -> None:
        if not self._can_change():
            self.message.emit("Wait for the answer to finish, then delete again.")
            return
        self.message.emit("Deleting the conversation…")
        job = self._runner.run(Lane.CHAT, "delete conversation", delete(deletion))
        job.succeeded.connect(self._on_deleted)
        job.failed.connect(lambda text, _bug: self.message.emit(text))

    def _on_deleted(self, result: object) -> None:
        assert isinstance(result, Deleted)
        self.deleted.emit(result.source_id)
        gone = result.changes.memories_removed
        self.message.emit(
            f"Deleted, with {plural(gone, 'memory', 'memories')} taken from it." if gone
            else "Deleted.")
        self.refresh()

    def _show(self, dialog: QDialog) -> None:
        # Window-modal but not blocking: the event loop (and the jobs) keep running.
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _code: self._forget_dialog(dialog))
        self.dialog = dialog
        dialog.open()

    def _forget_dialog(self, dialog: QDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        self.view.setFocus()

    # --- signals --------------------------------------------------------------------

    def _on_first_page(self, result: object) -> None:
        assert isinstance(result, tuple)
        rows: list[ConversationSummary] = result[1]
        self.model.set_first_page(rows[:PAGE], more=len(rows) > PAGE)
        row = self.model.row_of(self.model.current)
        if row is not None and not self.view.currentIndex().isValid():
            self.view.setCurrentIndex(self.model.index(row))

    def _fetch_page(self, offset: int) -> None:
        if self._runner.facade is None:
            self.model.fetch_failed()  # the view asks again once a store is open
            return
        self._runner.run_when_free(Lane.STATUS, NEXT_PAGE, list_page(offset),
                                   writes=False, then=self._on_page_started)

    def _on_page_started(self, job: Job) -> None:
        # A page for a list that was read again meanwhile is dropped by the model.
        job.succeeded.connect(lambda result: self.model.add_page(
            result[0], result[1][:PAGE], more=len(result[1]) > PAGE))
        job.failed.connect(lambda _text, _bug: self.model.fetch_failed())

    def _on_opened(self, _facade: object) -> None:
        self.refresh()

    def _on_activated(self, index: QModelIndex) -> None:
        if index.isValid() and self._switching:
            self.open_requested.emit(str(index.data(SourceIdRole)))

    def _open_current(self) -> None:
        self._on_activated(self.view.currentIndex())

    def _context_menu(self, point: QPoint) -> None:
        index = self.view.indexAt(point)
        if not index.isValid():
            return
        self.view.setCurrentIndex(index)
        menu = QMenu(self)
        menu.setAccessibleName("Conversation actions")
        menu.addActions([self.open_action, self.rename_action, self.delete_action])
        menu.popup(self.view.viewport().mapToGlobal(point))

    def _on_busy_changed(self, _lane: object, _busy: bool) -> None:
        self._update_state()  # renames and deletions wait while the chat lane is busy

    def _can_change(self) -> bool:
        return (self._switching and self._runner.facade is not None
                and not self._runner.busy(Lane.CHAT))

    def _update_state(self) -> None:
        has_rows = self.model.rowCount() > 0
        self.empty.setVisible(not has_rows)
        chosen = self.view.currentIndex().isValid() and self._can_change()
        for action in (self.open_action, self.rename_action, self.delete_action):
            action.setEnabled(chosen)

