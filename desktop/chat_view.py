"""The chat panel: a transcript that streams the answer, an input, Send and Stop.

A message runs as a `Lane.CHAT` job (`operations.answer`): the worker calls
`Reverie.chat` with `on_token` wired to the job's `streamed` signal, so tokens reach the
transcript on the main thread as the model writes them. After the answer the panel lists
the memories the answer was given ("Memories used"), numbered as the model saw them and
marking those it cited as [n].

"Remember that …" and "forget …" come back as a proposal: a bar above the input asks
Yes or No, and only Yes runs the change (`operations.confirm_chat`).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QKeyEvent,
    QKeySequence,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from reverie.core.chat.commands import ChatProposal, ForgetProposal
from reverie.core.chat.session import ChatAnswer, Conversation
from reverie.core.types import Hit
from reverie.desktop.jobs import Job, JobRunner, Lane
from reverie.desktop.labels import short_date, speaker_name
from reverie.desktop.operations import ChatTurn, answer, confirm_chat

log = logging.getLogger("reverie.desktop.chat")

MUTED = "#6b6b6b"
ACCENT = "#2f5d8a"
PROBLEM = "#a33a2a"
_EXCERPT_CHARS = 140
_LINE_BREAK = "\u2028"  # a line break inside one block


def hit_heading(number: int, hit: Hit) -> str:
    """The first line of a "Memories used" entry: [n] date · source#ref."""
    where = ", ".join(f"{s.source}#{s.ref}" for s in hit.sources) or hit.kind.value
    return f"[{number}] {short_date(hit.time)} · {where}"


def hit_excerpt(hit: Hit) -> str:
    """The second line of a "Memories used" entry: who said what, shortened."""
    text = " ".join(hit.text.split())
    if len(text) > _EXCERPT_CHARS:
        text = text[: _EXCERPT_CHARS - 1].rstrip() + "…"
    return f"{speaker_name(hit.speaker)}: {text}" if hit.speaker else text


class Transcript(QTextBrowser):
    """The conversation as read-only rich text, written block by block."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Chat transcript")
        self.setOpenLinks(False)
        self.setPlaceholderText(
            "Ask Reverie about your past: what you planned, who said what, when it was."
        )
        self.document().setDocumentMargin(12)

    def add_message(self, who: str, text: str, *, color: str) -> None:
        """A speaker's name on its own line, then the text (possibly empty, to stream)."""
        self._block(top=0 if self.document().isEmpty() else 14)
        self._write(who, bold=True, color=color)
        self._block(top=2)
        self.append_text(text)

    def append_text(self, text: str, *, color: str | None = None) -> None:
        """Add text to the last block: streamed tokens land here."""
        self._write(text.replace("\n", _LINE_BREAK), color=color)

    def add_memories(self, used: tuple[Hit, ...], cited: tuple[Hit, ...]) -> None:
        """The "Memories used" list under an answer, cited ones marked."""
        self._block(top=8)
        if not used:
            self._write("No memories were found for this message.", color=MUTED, small=True)
            return
        self._write("Memories used", bold=True, color=MUTED, small=True)
        cited_ids = {hit.id for hit in cited}
        for number, hit in enumerate(used, 1):
            self._block(top=3, left=12)
            self._write(hit_heading(number, hit), color=MUTED, small=True)
            if hit.id in cited_ids:
                self._write("  · cited", bold=True, color=ACCENT, small=True)
            self._write(_LINE_BREAK + hit_excerpt(hit), color=MUTED, small=True)

    def _end(self) -> QTextCursor:
        cursor = self.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        return cursor

    def _block(self, *, top: float = 0, left: float = 0) -> None:
        block = QTextBlockFormat()
        block.setTopMargin(top)
        block.setLeftMargin(left)
        cursor = self._end()
        if self.document().isEmpty():
            cursor.setBlockFormat(block)
        else:
            cursor.insertBlock(block, QTextCharFormat())

    def _write(
        self, text: str, *, bold: bool = False, color: str | None = None, small: bool = False
    ) -> None:
        if not text:
            return
        fmt = QTextCharFormat()
        fmt.setFontWeight(QFont.Weight.Bold if bold else QFont.Weight.Normal)
        if color is not None:
            fmt.setForeground(QBrush(QColor(color)))
        if small:
            fmt.setFontPointSize(max(7.0, self.font().pointSizeF() * 0.88))
        self._end().insertText(text, fmt)
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())


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

    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Chat")
        self._runner = runner
        self._conversation: Conversation | None = None
        self._job: Job | None = None

        self.transcript = Transcript(self)
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
        self.transcript.add_message("Reverie", "", color="#3a3a3a")
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
        if not reply.text:
            self.transcript.append_text("(no answer)", color=MUTED)
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
