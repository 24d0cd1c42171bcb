"""Dialogs for one memory: editing it, and confirming what forgetting it removes."""

from __future__ import annotations

import html
from datetime import datetime

from PySide6.QtCore import QDate, QDateTime, Qt, QTime, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from reverie.core.editing import MAX_MEMORY_CHARS, OWNER_WORDS, checked_people
from reverie.core.errors import BadInput
from reverie.core.store.forget import ForgetPlan
from reverie.core.store.memory_detail import MemoryDetail
from reverie.core.types import OWNER_SPEAKER, MemoryKind
from reverie.desktop.memory_work import MemoryEdit

EDITABLE_KINDS = [kind for kind in MemoryKind if kind is not MemoryKind.SUMMARY]
# The words that name the owner in a memory's `about`: stored as "me" (what the user
# wrote) or "user" (what extraction writes); the dialog shows them as "you".
OWNER_ABOUT = frozenset({"me", OWNER_SPEAKER})
YOU = "you"


class MemoryEditDialog(QDialog):
    """Edit a memory's text, kind, time, whom it is about and the people it names.

    Only what the user changed is sent; an unchanged dialog changes nothing. The text
    is checked here as core checks it, so the dialog never closes on input core refuses.
    """

    def __init__(self, detail: MemoryDetail, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit memory")
        self.setAccessibleName("Edit memory")
        self._detail = detail
        self.text = QPlainTextEdit(detail.text)
        self.text.setAccessibleName("Memory text")
        self.text.setTabChangesFocus(True)
        self.kind = QComboBox()
        self.kind.setAccessibleName("Kind")
        for kind in EDITABLE_KINDS:
            self.kind.addItem(kind.value.capitalize(), kind.value)
        if detail.kind in {k.value for k in EDITABLE_KINDS}:
            self.kind.setCurrentIndex([k.value for k in EDITABLE_KINDS].index(detail.kind))
        self.when = QDateTimeEdit(qt_wall_time(detail.valid_from))
        self.when.setAccessibleName("When it happened")
        self.when.setCalendarPopup(True)
        self.when.setDisplayFormat("ddd d MMM yyyy, HH:mm")
        self.about = QLineEdit(YOU if detail.about in OWNER_ABOUT else detail.about)
        self.about.setAccessibleName("About")
        self.about.setPlaceholderText("you, or a person's name")
        # The owner is never one of a memory's people (About says a memory is theirs).
        self.people = QLineEdit(", ".join(
            name for name in detail.people if name.lower() not in OWNER_WORDS))
        self.people.setAccessibleName("People")
        self.people.setPlaceholderText("names, separated by commas")
        self.people.setToolTip("The people this memory names; a new name becomes a person")
        self.problem = QLabel()
        self.problem.setAccessibleName("Problem")
        self.problem.setStyleSheet("color: palette(bright-text); background: #b3261e;"
                                   " padding: 3px 6px; border-radius: 3px")
        self.problem.hide()
        form = QFormLayout()
        form.addRow("&Text", self.text)
        form.addRow("&Kind", self.kind)
        form.addRow("&When", self.when)
        form.addRow("&About", self.about)
        form.addRow("&People", self.people)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._check_and_accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.resize(520, 330)

    def change(self) -> MemoryEdit:
        """What the user changed (fields left as they were are None); read it once the
        dialog is accepted, as it checked the people then."""
        detail = self._detail
        text = " ".join(self.text.toPlainText().split())
        kind = MemoryKind(self.kind.currentData())
        when = self.when.dateTime().toPython()
        assert isinstance(when, datetime)
        when = when.replace(tzinfo=detail.valid_from.tzinfo)
        about = _about(self.about.text())
        if about == "me" and detail.about in OWNER_ABOUT:
            about = detail.about  # still the owner: unchanged, however it is stored
        return MemoryEdit(
            text=text if text != detail.text else None,
            kind=kind if kind.value != detail.kind else None,
            when=when if _minutes(when) != _minutes(detail.valid_from) else None,
            about=about if about != detail.about else None,
            people=self._changed_people(),
        )

    def _changed_people(self) -> tuple[str, ...] | None:
        """The people typed, or None when they are those shown (in any case or order:
        core matches names whatever their case)."""
        typed = checked_people(self.people.text().split(","))
        shown = checked_people([name for name in self._detail.people
                                if name.lower() not in OWNER_WORDS])
        same = sorted(n.casefold() for n in typed) == sorted(n.casefold() for n in shown)
        return None if same and len(shown) == len(self._detail.people) else typed

    def _check_and_accept(self) -> None:
        text = " ".join(self.text.toPlainText().split())
        if not text:
            self._refuse("A memory needs some text.")
            return
        if len(text) > MAX_MEMORY_CHARS:
            self._refuse(f"A memory holds at most {MAX_MEMORY_CHARS} characters"
                         f" (this has {len(text)}).")
            return
        try:
            checked_people(self.people.text().split(","))
        except BadInput as refused:
            self._refuse(_sentence(str(refused)), self.people)
            return
        self.accept()

    def _refuse(self, message: str, field: QWidget | None = None) -> None:
        self.problem.setText(message)
        self.problem.show()
        (field or self.text).setFocus()


class ForgetDialog(QDialog):
    """Shows everything a forget removes; the user may widen it to the source turns.

    `widen_requested(bool)` asks the owner for a new plan (a job); `set_plan` shows it.
    """

    widen_requested = Signal(bool)

    def __init__(self, plan: ForgetPlan, texts: list[str], turns: int,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Forget for good")
        self.setAccessibleName("Forget for good")
        self.plan = plan
        self.summary = QLabel()
        self.summary.setAccessibleName("What will be forgotten")
        self.summary.setWordWrap(True)
        listing = QLabel("<br>".join(f"• {_escape(t)}" for t in texts[:8])
                         + ("<br>…" if len(texts) > 8 else ""))
        listing.setWordWrap(True)
        listing.setTextFormat(Qt.TextFormat.RichText)
        self.with_turns = QCheckBox(
            f"Also forget the {turns} turn{'s' if turns != 1 else ''} it came from")
        self.with_turns.setAccessibleName("Also forget the source turns")
        self.with_turns.setVisible(turns > 0)
        self.with_turns.toggled.connect(self._widen)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.forget_button = self.buttons.addButton(
            "Forget", QDialogButtonBox.ButtonRole.DestructiveRole)
        self.forget_button.clicked.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        # The safe choice is the default: Return cancels.
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setDefault(True)
        layout = QVBoxLayout(self)
        layout.addWidget(listing)
        layout.addWidget(self.with_turns)
        layout.addWidget(self.summary)
        layout.addWidget(self.buttons)
        self.set_plan(plan)
        self.resize(480, 220)

    def set_plan(self, plan: ForgetPlan) -> None:
        """Show `plan` (the first one, or the one asked for by the check box)."""
        self.plan = plan
        self.summary.setText(plan.describe())
        self.with_turns.setEnabled(True)
        self.forget_button.setEnabled(not plan.empty)

    def _widen(self, checked: bool) -> None:
        self.with_turns.setEnabled(False)  # until the new plan arrives
        self.forget_button.setEnabled(False)
        self.widen_requested.emit(checked)


def _about(typed: str) -> str:
    """Whom the typed text names: "you", "me" or nothing mean the owner (stored as "me")."""
    name = typed.strip()
    return "me" if name.lower() in {"", YOU, "me"} else name


def qt_wall_time(when: datetime) -> QDateTime:
    """The memory's wall-clock time as stored, which the dialog shows and edits (its
    offset is kept as it was)."""
    return QDateTime(QDate(when.year, when.month, when.day),
                     QTime(when.hour, when.minute, when.second))


def _sentence(message: str) -> str:
    """Core's message as the dialog shows it: capitalised, with a full stop."""
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def _minutes(when: datetime) -> tuple[int, ...]:
    return when.timetuple()[:5]


def _escape(text: str) -> str:
    return html.escape(text if len(text) < 160 else text[:159] + "…")
