"""The chat panel: a transcript that streams the answer, an input, Send and Stop.

A message runs as a `Lane.CHAT` job (`operations.answer`): the worker calls
`Reverie.chat` with `on_token` wired to the job's `streamed` signal, so tokens reach the
transcript on the main thread as the model writes them. When the answer is done, the
streamed text is replaced by the answer as core settled it (a copied memory list or a
made-up turn cut off), then come the sources it drew on as chips, and the memories it
was given ("Memories used"). Clicking a chip or a memory emits `citation_opened` with
the item's id: the window opens it in the timeline with its source excerpt. An answer
that none of the memories supports says so under it.

"Remember that …" and "forget …" come back as a proposal: a bar above the input asks
Yes or No, and only Yes runs the change (`operations.confirm_chat`).

Beside the transcript, the conversation list (`conversations_view.ConversationList`,
hidden and shown by the "Conversations" button) shows the stored conversations, newest
first. Opening one reads its turns in a job and shows them (without the chips of its
old answers: those are not stored); the next message continues it, with its history
given to the model. The list cannot switch while an answer is being written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import (
    QKeyEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from reverie.core.chat.commands import ChatProposal, ForgetProposal
from reverie.core.chat.conversations import OpenedConversation
from reverie.core.chat.session import ChatAnswer, Conversation
from reverie.core.service import Reverie
from reverie.core.types import Changes
from reverie.desktop.conversations_view import ConversationList
from reverie.desktop.jobs import Job, JobContext, JobRunner, Lane
from reverie.desktop.operations import ChatTurn, answer, confirm_chat
from reverie.desktop.theme import use_tone
from reverie.desktop.transcript import Transcript

log = logging.getLogger("reverie.desktop.chat")

NOT_GROUNDED = "None of your memories says this: it may be wrong."
NOTHING_MATCHED = "Nothing in your memories matched this question."
REFRESH_DELAY_MS = 300  # a burst of store changes (an import) refreshes the list once


def open_conversation(source_id: str) -> Callable[[Reverie, JobContext], OpenedConversation]:
    """A job reading a stored conversation back (its turns; no model runs)."""

    def work(facade: Reverie, _ctx: JobContext) -> OpenedConversation:
        return facade.conversations.open(source_id)

    return work


class ConfirmBar(QWidget):
    """A question with No and Yes, shown above the input while a change waits."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Confirm memory change")
        self.label = QLabel(self)
        self.yes_button = QPushButton("Yes", self)
        self.yes_button.setAccessibleName("Yes, do it")
        self.no_button = QPushButton("No", self)
        self.no_button.setAccessibleName("No, leave it")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label, 1)
        row.addWidget(self.no_button)
        row.addWidget(self.yes_button)
        self.hide()

    def ask(self, question: str) -> None:
        """Show `question` and put the focus on Yes."""
        self.label.setText(question)
        self.show()
        self.yes_button.setFocus()


class ChatPanel(QWidget):
    """Conversation list, transcript, input, Send (Ctrl+Return), Stop and New conversation."""

    token_received = Signal(str)
    answer_finished = Signal(object)  # the ChatAnswer, or None if stopped or failed
    citation_opened = Signal(str)  # the id of a cited memory or turn the user clicked

    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Chat")
        self._runner = runner
        self._conversation: Conversation | None = None
        self._job: Job | None = None

        self.transcript = Transcript(self)
        self.transcript.item_clicked.connect(self.citation_opened)
        self.status = QLabel(self)
        self.status.setAccessibleName("Chat status")
        use_tone(self.status, "muted")

        self.input = QPlainTextEdit(self)
        self.input.setAccessibleName("Message")
        self.input.setPlaceholderText("Write a message… (Ctrl+Return sends)")
        self.input.setTabChangesFocus(True)
        self.input.setFixedHeight(self.fontMetrics().lineSpacing() * 4 + 14)
        self.input.installEventFilter(self)

        self.send_button = QPushButton("Send", self)
        self.send_button.setAccessibleName("Send message")
        self.send_button.setToolTip("Send (Ctrl+Return)")
        self.send_button.setDefault(True)
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setAccessibleName("Stop answer")
        self.stop_button.setToolTip("Stop the answer being written (Esc)")
        self.stop_button.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.new_button = QPushButton("New conversation", self)
        self.new_button.setAccessibleName("New conversation")

        self.confirm_bar = ConfirmBar(self)
        self._proposal: ChatProposal | None = None

        self.conversations = ConversationList(runner, self)
        self.list_button = QPushButton("Conversations", self)
        self.list_button.setAccessibleName("Show or hide the conversation list")
        self.list_button.setToolTip("Show or hide your past conversations")
        self.list_button.setCheckable(True)
        self.list_button.setChecked(True)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_DELAY_MS)

        self._lay_out()
        self._connect(runner)

    def _connect(self, runner: JobRunner) -> None:
        self.send_button.clicked.connect(self.send)
        self.stop_button.clicked.connect(self.stop)
        self.new_button.clicked.connect(self.new_conversation)
        self.confirm_bar.yes_button.clicked.connect(self.accept_proposal)
        self.confirm_bar.no_button.clicked.connect(self.decline_proposal)
        self.input.textChanged.connect(self._update_buttons)
        self.list_button.toggled.connect(self.conversations.setVisible)
        self.conversations.open_requested.connect(self.open_conversation)
        self.conversations.deleted.connect(self._on_conversation_deleted)
        self.conversations.message.connect(self.status.setText)
        self._refresh_timer.timeout.connect(self.conversations.refresh)
        runner.changed.connect(self._on_store_changed)
        runner.busy_changed.connect(lambda _lane, _busy: self._update_buttons())
        runner.opened.connect(lambda _facade: self._update_buttons())
        self._update_buttons()

    def _lay_out(self) -> None:
        title = QLabel("Chat", self)
        title.setObjectName("paneTitle")
        header = QHBoxLayout()
        header.addWidget(title, 1)
        header.addWidget(self.list_button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addSpacing(8)
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.send_button)

        chat = QWidget(self)
        column = QVBoxLayout(chat)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(6)
        column.addWidget(self.transcript, 1)
        column.addWidget(self.confirm_bar)
        column.addWidget(self.input)
        column.addLayout(buttons)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.conversations)
        self.splitter.addWidget(chat)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([220, 480])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(header)
        layout.addWidget(self.splitter, 1)

    @property
    def answering(self) -> bool:
        """True while an answer is being written."""
        return self._job is not None

    # --- actions --------------------------------------------------------------------

    def send(self) -> None:
        """Send the input's text as a message and stream the answer."""
        text = self.input.toPlainText().strip()
        if not text or not self._can_send():
            return
        turn = ChatTurn(text, self._conversation)
        job = self._runner.run(Lane.CHAT, "chat", answer(turn))
        self._job = job
        job.streamed.connect(self._on_token)
        job.succeeded.connect(self._on_answer)
        job.cancelled.connect(lambda: self._on_ended("(stopped)"))
        job.failed.connect(lambda message, _bug: self._on_ended(message, problem=True))
        job.finished.connect(lambda: self._on_finished(turn))
        self.input.clear()
        self.transcript.add_message("You", text, color="accent")
        self.transcript.begin_answer()
        self.status.setText("Reverie is thinking…")
        self._update_buttons()

    def accept_proposal(self) -> None:
        """Do what the last "remember …"/"forget …" message proposed."""
        proposal, self._proposal = self._proposal, None
        self.confirm_bar.hide()
        if proposal is None or self._runner.facade is None:
            return
        job = self._runner.run(Lane.CHAT, "memory change", confirm_chat(proposal))
        job.succeeded.connect(lambda result: self.transcript.add_message(
            "Reverie", str(result[0]), color="answer"))
        job.failed.connect(lambda message, _bug: self.transcript.append_text(
            message, color="problem"))

    def decline_proposal(self) -> None:
        """Leave memory as it was."""
        self._proposal = None
        self.confirm_bar.hide()
        self.transcript.add_message("Reverie", "Left as it was.", color="muted")

    def stop(self) -> None:
        """Stop the answer being written (what was written so far stays)."""
        if self._job is not None:
            self._job.cancel()
            self.status.setText("Stopping…")

    def new_conversation(self) -> None:
        """Start a new conversation; the old one stays in memory and on the timeline."""
        if self.answering:
            return
        self._conversation = None
        self.conversations.set_current(None)
        self.transcript.clear()
        self.status.clear()
        self.input.setFocus()

    def open_conversation(self, source_id: str) -> None:
        """Show a stored conversation and go on with it (not while an answer is written)."""
        current = self._conversation
        if self.answering or (current is not None and current.source_id == source_id):
            return
        if self._runner.facade is None or self._runner.busy(Lane.CHAT):
            self.status.setText("Wait for Reverie to finish, then open it again.")
            return
        job = self._runner.run(Lane.CHAT, "open conversation", open_conversation(source_id),
                               writes=False)
        job.succeeded.connect(self._on_opened)
        job.failed.connect(lambda message, _bug: self.status.setText(message))
        self.status.setText("Opening the conversation…")

    def refresh_conversations(self) -> None:
        """Read the conversation list again (the window may call it after a change)."""
        self._refresh_timer.start()

    # --- job signals ----------------------------------------------------------------

    def _on_token(self, token: object) -> None:
        text = str(token)
        if self.status.text() == "Reverie is thinking…":
            self.status.setText("Reverie is writing…")
        self.transcript.append_text(text)
        self.token_received.emit(text)

    def _on_answer(self, reply: object) -> None:
        assert isinstance(reply, ChatAnswer)
        if reply.proposal is not None:
            self.transcript.append_text(reply.text)
            self._ask(reply.proposal)
            self.status.clear()
            self.answer_finished.emit(reply)
            return
        self.transcript.settle_answer(reply.text)
        if not reply.text:
            self.transcript.append_text("(no answer)", color="muted")
        if reply.abstained:
            self.transcript.add_note(NOTHING_MATCHED, color="muted")
            self.status.clear()
            self.answer_finished.emit(reply)
            return
        if not reply.grounded:
            self.transcript.add_note(NOT_GROUNDED, color="problem")
        self.transcript.add_sources(reply.cited, reply.used)
        self.transcript.add_memories(reply.used, reply.cited)
        self.status.clear()
        self.answer_finished.emit(reply)

    def _on_ended(self, message: str, *, problem: bool = False) -> None:
        self.transcript.append_text(
            message if problem else f" {message}", color="problem" if problem else "muted"
        )
        self.status.clear()
        self.answer_finished.emit(None)

    def _on_finished(self, turn: ChatTurn) -> None:
        if turn.conversation is not None:
            self._conversation = turn.conversation
            self.conversations.set_current(turn.conversation.source_id)
            self.conversations.refresh()
        self._job = None
        self._update_buttons()
        self.input.setFocus()

    def _on_opened(self, result: object) -> None:
        assert isinstance(result, OpenedConversation)
        if self.answering:
            return  # cannot happen (same lane); never swap a conversation mid-answer
        self._conversation = result.conversation
        self._proposal = None
        self.confirm_bar.hide()
        self.transcript.show_turns(result.turns, result.earlier)
        self.conversations.set_current(result.summary.source_id)
        self.status.clear()

    def _on_conversation_deleted(self, source_id: str) -> None:
        if self._conversation is not None and self._conversation.source_id == source_id:
            self.new_conversation()

    def _on_store_changed(self, changes: object) -> None:
        # Turns forgotten elsewhere (the timeline, a chat "forget") may empty or shorten
        # a conversation; new turns come from this panel, which refreshes by itself.
        if changes is None or (isinstance(changes, Changes) and changes.episodes_removed):
            self.refresh_conversations()

    def _ask(self, proposal: ChatProposal) -> None:
        if isinstance(proposal, ForgetProposal) and proposal.match is None:
            return  # nothing matched: nothing to confirm
        self._proposal = proposal
        verb = "Forget it" if isinstance(proposal, ForgetProposal) else "Remember it"
        self.confirm_bar.ask(f"{verb}?")

    # --- state ----------------------------------------------------------------------

    def _can_send(self) -> bool:
        return self._runner.facade is not None and not self._runner.busy(Lane.CHAT)

    def _update_buttons(self) -> None:
        ready = self._runner.facade is not None
        self.send_button.setEnabled(
            ready and not self.answering and bool(self.input.toPlainText().strip())
        )
        self.stop_button.setEnabled(self.answering)
        self.new_button.setEnabled(ready and not self.answering)
        self.input.setEnabled(ready)
        self.conversations.set_switching_enabled(ready and not self.answering)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Ctrl+Return (or Ctrl+Enter) in the input sends."""
        if (
            watched is self.input
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):
            self.send()
            return True
        return super().eventFilter(watched, event)
