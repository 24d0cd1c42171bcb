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
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import (
    QKeyEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from reverie.core.chat.commands import ChatProposal, ForgetProposal
from reverie.core.chat.session import ChatAnswer, Conversation
from reverie.desktop.jobs import Job, JobRunner, Lane
from reverie.desktop.operations import ChatTurn, answer, confirm_chat
from reverie.desktop.transcript import ACCENT, MUTED, PROBLEM, Transcript

log = logging.getLogger("reverie.desktop.chat")

NOT_GROUNDED = "None of your memories says this: it may be wrong."
NOTHING_MATCHED = "Nothing in your memories matched this question."


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
    """Transcript, input, Send (Ctrl+Return), Stop and New conversation."""

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
        self.status.setStyleSheet(f"color: {MUTED}")

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

        self._lay_out()

        self.send_button.clicked.connect(self.send)
        self.stop_button.clicked.connect(self.stop)
        self.new_button.clicked.connect(self.new_conversation)
        self.confirm_bar.yes_button.clicked.connect(self.accept_proposal)
        self.confirm_bar.no_button.clicked.connect(self.decline_proposal)
        self.input.textChanged.connect(self._update_buttons)
        runner.busy_changed.connect(lambda _lane, _busy: self._update_buttons())
        runner.opened.connect(lambda _facade: self._update_buttons())
        self._update_buttons()

    def _lay_out(self) -> None:
        title = QLabel("Chat", self)
        title.setObjectName("paneTitle")
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addSpacing(8)
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.send_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(title)
        layout.addWidget(self.transcript, 1)
        layout.addWidget(self.confirm_bar)
        layout.addWidget(self.input)
        layout.addLayout(buttons)

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
        self.transcript.add_message("You", text, color=ACCENT)
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
            "Reverie", str(result[0]), color="#3a3a3a"))
        job.failed.connect(lambda message, _bug: self.transcript.append_text(
            message, color=PROBLEM))

    def decline_proposal(self) -> None:
        """Leave memory as it was."""
        self._proposal = None
        self.confirm_bar.hide()
        self.transcript.add_message("Reverie", "Left as it was.", color=MUTED)

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
        self.transcript.clear()
        self.status.clear()
        self.input.setFocus()

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
            self.transcript.append_text("(no answer)", color=MUTED)
        if reply.abstained:
            self.transcript.add_note(NOTHING_MATCHED, color=MUTED)
            self.status.clear()
            self.answer_finished.emit(reply)
            return
        if not reply.grounded:
            self.transcript.add_note(NOT_GROUNDED, color=PROBLEM)
        self.transcript.add_sources(reply.cited, reply.used)
        self.transcript.add_memories(reply.used, reply.cited)
        self.status.clear()
        self.answer_finished.emit(reply)

    def _on_ended(self, message: str, *, problem: bool = False) -> None:
        self.transcript.append_text(
            message if problem else f" {message}", color=PROBLEM if problem else MUTED
        )
        self.status.clear()
        self.answer_finished.emit(None)

    def _on_finished(self, turn: ChatTurn) -> None:
        if turn.conversation is not None:
            self._conversation = turn.conversation
        self._job = None
        self._update_buttons()
        self.input.setFocus()

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
