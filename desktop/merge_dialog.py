"""The dialog of Merge with… (Ctrl+M) in a memory's detail: find the other memory,
see both side by side, and choose the merged text, kind and time.

The dialog never reads the store: it asks its owner for candidates
(`search_requested(query)`, "" for the memories most like this one) and shows what
comes back (`show_candidates`), ignoring answers to a query no longer typed. Typing is
debounced, so a search runs once the user pauses.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from reverie.core.editing import MAX_MEMORY_CHARS
from reverie.core.store.memory_detail import MemoryDetail
from reverie.core.types import MemoryKind
from reverie.desktop.detail_render import when_text
from reverie.desktop.memory_dialogs import qt_wall_time
from reverie.desktop.memory_work import Candidates, MergeCandidate, MergeChoice

SEARCH_PAUSE_MS = 250  # typing pauses this long before a search runs
EDITABLE_KINDS = [kind for kind in MemoryKind if kind is not MemoryKind.SUMMARY]
_ID_ROLE = Qt.ItemDataRole.UserRole


def lead_of(first: MergeCandidate, second: MergeCandidate) -> MergeCandidate:
    """The memory whose text, kind and time the merge starts from: the longer text,
    or the more recent one when both are as long."""
    if len(first.text) != len(second.text):
        return first if len(first.text) > len(second.text) else second
    return first if first.when >= second.when else second


class MergeDialog(QDialog):
    """Merge the shown memory with another one the user finds and chooses."""

    search_requested = Signal(str)

    def __init__(self, detail: MemoryDetail, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Merge memories")
        self.setAccessibleName("Merge memories")
        self.this = MergeCandidate(detail.id, detail.text, MemoryKind(detail.kind),
                                   detail.valid_from)
        self.other: MergeCandidate | None = None
        self._found: dict[str, MergeCandidate] = {}
        self._zone: tzinfo | None = detail.valid_from.tzinfo  # kept as the lead's was
        self.search = QLineEdit()
        self.search.setAccessibleName("Find the other memory")
        self.search.setPlaceholderText("Type to find the other memory")
        self.search.setClearButtonEnabled(True)
        self.status = QLabel("Looking for similar memories…")
        self.status.setAccessibleName("Search status")
        self.candidates = QListWidget()
        self.candidates.setAccessibleName("Memories to merge with")
        self.candidates.setWordWrap(True)
        self.candidates.setSpacing(3)
        self.candidates.setAlternatingRowColors(True)
        self.candidates.currentItemChanged.connect(self._on_current)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_PAUSE_MS)
        self._timer.timeout.connect(self._request)
        self.search.textChanged.connect(lambda _text: self._timer.start())
        self.this_label = _side_label("This memory")
        self.other_label = _side_label("The other memory")
        self.other_label.setText("Choose a memory above.")
        self._build(detail)
        self._set_side(self.this_label, self.this)
        self.resize(720, 620)

    def _build(self, detail: MemoryDetail) -> None:
        self.text = QPlainTextEdit(detail.text)
        self.text.setAccessibleName("Merged text")
        self.text.setTabChangesFocus(True)
        # A memory is a sentence or two: the list of candidates gets the room.
        self.text.setFixedHeight(self.fontMetrics().lineSpacing() * 4 + 12)
        self.kind = QComboBox()
        self.kind.setAccessibleName("Kind")
        for kind in EDITABLE_KINDS:
            self.kind.addItem(kind.value.capitalize(), kind.value)
        self.when = QDateTimeEdit()
        self.when.setAccessibleName("When it happened")
        self.when.setCalendarPopup(True)
        self.when.setDisplayFormat("ddd d MMM yyyy, HH:mm")
        self._fill(self.this)
        self.into_new = QCheckBox("Keep the result as a new memory (both are marked merged"
                                  " into it)")
        self.into_new.setAccessibleName("Merge both into a new memory")
        self.problem = QLabel()
        self.problem.setAccessibleName("Problem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: palette(bright-text); background: #b3261e;"
                                   " padding: 3px 6px; border-radius: 3px")
        self.problem.hide()
        sides = QHBoxLayout()
        for title, label in (("This memory", self.this_label),
                             ("The other memory", self.other_label)):
            box = QGroupBox(title)
            inner = QVBoxLayout(box)
            inner.addWidget(label)
            sides.addWidget(box, 1)
        form = QFormLayout()
        form.addRow("Merged &text", self.text)
        form.addRow("&Kind", self.kind)
        form.addRow("&When", self.when)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.merge_button = self.buttons.addButton(
            "&Merge", QDialogButtonBox.ButtonRole.AcceptRole)
        self.merge_button.setAccessibleName("Merge")
        self.merge_button.setEnabled(False)  # until the other memory is chosen
        self.buttons.accepted.connect(self._check_and_accept)
        self.buttons.rejected.connect(self.reject)
        find = QLabel("&Find the memory to merge with “"
                      f"{_short(detail.text)}”; the most similar come first:")
        find.setTextFormat(Qt.TextFormat.PlainText)
        find.setWordWrap(True)
        find.setBuddy(self.search)
        layout = QVBoxLayout(self)
        layout.addWidget(find)
        layout.addWidget(self.search)
        layout.addWidget(self.status)
        layout.addWidget(self.candidates, 1)
        layout.addLayout(sides)
        layout.addLayout(form)
        layout.addWidget(self.into_new)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)

    # --- searching ------------------------------------------------------------------

    def start(self) -> None:
        """Ask for the memories most like this one (when the dialog opens)."""
        self._request()

    def _request(self) -> None:
        self._timer.stop()
        self.status.setText("Searching…")
        self.search_requested.emit(self.search.text().strip())

    @Slot(object)
    def show_candidates(self, result: object) -> None:
        """List what a search found, unless the user has typed something else since."""
        if not isinstance(result, Candidates) or result.query != self.search.text().strip():
            return
        chosen = self.other.id if self.other is not None else None
        self.candidates.blockSignals(True)
        self.candidates.clear()
        self._found = {c.id: c for c in result.found}
        for candidate in result.found:
            item = QListWidgetItem(f"{candidate.text}\n{candidate.kind.value.capitalize()}"
                                   f" · {when_text(candidate.when)}")
            item.setData(_ID_ROLE, candidate.id)
            self.candidates.addItem(item)
            if candidate.id == chosen:
                self.candidates.setCurrentItem(item)
        self.candidates.blockSignals(False)
        count = len(result.found)
        self.status.setText(
            "No other memory matches." if not count
            else f"{count} memor{'y' if count == 1 else 'ies'}, the most similar first."
            if not result.query else f"{count} memor{'y' if count == 1 else 'ies'} match.")

    @Slot(str, bool)
    def show_failure(self, message: str, _is_bug: bool = False) -> None:
        """Say that a search failed (the dialog stays usable)."""
        self.status.setText(f"Could not search: {message}")

    # --- choosing -------------------------------------------------------------------

    def choose(self, memory_id: str) -> bool:
        """Choose a listed candidate by id (as clicking it does); False if not listed."""
        for row in range(self.candidates.count()):
            if self.candidates.item(row).data(_ID_ROLE) == memory_id:
                self.candidates.setCurrentRow(row)
                return True
        return False

    def _on_current(self, item: QListWidgetItem | None, _previous: object) -> None:
        candidate = self._found.get(str(item.data(_ID_ROLE))) if item is not None else None
        if candidate is None:
            return
        self.other = candidate
        self._set_side(self.other_label, candidate)
        self._fill(lead_of(self.this, candidate))
        self.merge_button.setEnabled(True)
        self.problem.hide()

    def _fill(self, lead: MergeCandidate) -> None:
        self.text.setPlainText(lead.text)
        self.kind.setCurrentIndex(max(0, self.kind.findData(lead.kind.value)))
        self.when.setDateTime(qt_wall_time(lead.when))
        self._zone = lead.when.tzinfo

    def _set_side(self, label: QLabel, memory: MergeCandidate) -> None:
        label.setText(f"{memory.text}\n\n{memory.kind.value.capitalize()} ·"
                      f" {when_text(memory.when)}")

    def choice(self) -> MergeChoice:
        """What the user chose (only once a candidate is chosen)."""
        if self.other is None:
            raise ValueError("no memory was chosen to merge with")
        when = self.when.dateTime().toPython()
        assert isinstance(when, datetime)
        return MergeChoice(
            other=self.other.id, text=" ".join(self.text.toPlainText().split()),
            kind=MemoryKind(self.kind.currentData()), when=when.replace(tzinfo=self._zone),
            into_new=self.into_new.isChecked())

    def _check_and_accept(self) -> None:
        text = " ".join(self.text.toPlainText().split())
        if self.other is None:
            self._refuse("Choose the memory to merge with.")
        elif not text:
            self._refuse("The merged memory needs some text.")
        elif len(text) > MAX_MEMORY_CHARS:
            self._refuse(f"A memory holds at most {MAX_MEMORY_CHARS} characters"
                         f" (this has {len(text)}).")
        else:
            self.accept()

    def _refuse(self, message: str) -> None:
        self.problem.setText(message)
        self.problem.show()
        self.text.setFocus()


def _side_label(name: str) -> QLabel:
    label = QLabel()
    label.setAccessibleName(name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _short(text: str) -> str:
    return text if len(text) <= 70 else text[:69] + "…"
