"""The bar above the timeline: search as you type, filters, "as of" and go to a date.

It only gathers what the user wants into a `TimelineFilter` (emitted by `changed`,
a moment after the last keystroke) and a day to go to (`jump_requested`); the pane
reads the store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from typing import TypeVar

from PySide6.QtCore import QDate, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLineEdit,
    QMenu,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from reverie.core.store.queries import VISIBLE
from reverie.core.store.timeline_filter import (
    ALL_KINDS,
    CURRENT,
    EPISODES,
    OTHERS,
    WITH_ARCHIVED,
    YOURS,
    TimelineFilter,
)
from reverie.core.types import MemoryKind

_Key = TypeVar("_Key")

TYPING_PAUSE_MS = 180  # search after the user pauses this long
KIND_LABELS = {EPISODES: "Turns and passages", **{
    kind.value: {"summary": "Summaries"}.get(kind.value, kind.value.capitalize() + "s")
    for kind in MemoryKind}}
EVERYONE, ALL_SOURCES = "Everyone", "All sources"
STATUS_LABELS = {VISIBLE: "Current and replaced", CURRENT: "Current only",
                 WITH_ARCHIVED: "Archived too"}
TRUST_LABELS = {"": "Anyone's words", YOURS: "Your own words", OTHERS: "Others' words"}


class FilterBar(QWidget):
    """Search, what is shown (kinds, status, whose words), person, source, pinned,
    review, "as of", and go to date."""

    changed = Signal(object)  # TimelineFilter
    jump_requested = Signal(object)  # date

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Timeline filters")
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(TYPING_PAUSE_MS)
        self._timer.timeout.connect(self._emit)
        self._last = TimelineFilter()

        self.search = QLineEdit(self)
        self.search.setAccessibleName("Search the timeline")
        self.search.setPlaceholderText("Search memories and turns (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda _text: self._timer.start())
        self.kinds_button = QToolButton(self)
        self.kinds_button.setText("Show")
        self.kinds_button.setAccessibleName("What is shown")
        self.kinds_button.setToolTip("Kinds, status and whose words are shown")
        self.kinds_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.kinds_button)
        menu.addSection("Kinds")
        self.kind_actions: dict[str, QAction] = {}
        for kind, label in KIND_LABELS.items():
            action = menu.addAction(label)
            action.setCheckable(True)
            action.setChecked(True)
            action.toggled.connect(self._menu_changed)
            self.kind_actions[kind] = action
        menu.addSection("Memories")
        self.status_actions = _choices(menu, STATUS_LABELS, self._menu_changed)
        menu.addSection("Whose words")
        self.trust_actions = _choices(menu, TRUST_LABELS, self._menu_changed)
        self.kinds_button.setMenu(menu)
        self.person = _combo("Person", EVERYONE, self)
        self.source = _combo("Source", ALL_SOURCES, self)
        self.pinned = _check("&Pinned", "Only pinned memories", self)
        self.review = _check("&Needs review", "Only memories waiting for your review", self)
        self.as_of = _check("&As of", "Show what Reverie believed on a day", self)
        self.as_of_date = _date_edit("As of date", self)
        self.as_of_date.setEnabled(False)
        self.as_of.toggled.connect(self.as_of_date.setEnabled)
        self.as_of_date.dateChanged.connect(self._as_of_moved)
        self.jump_date = _date_edit("Go to date", self)
        self.jump_button = QPushButton("&Go to", self)
        self.jump_button.setAccessibleName("Go to the date")
        self.jump_button.setToolTip("Show the chosen day in the timeline (Ctrl+G picks it)")
        self.jump_button.clicked.connect(self._jump)
        self.jump_date.editingFinished.connect(self._jump_if_focused)
        for control in (self.pinned, self.review, self.as_of):
            control.toggled.connect(lambda _on: self._emit())
        for combo in (self.person, self.source):
            combo.currentIndexChanged.connect(lambda _i: self._emit())
        self._add_shortcuts()
        self._lay_out()

    def _lay_out(self) -> None:
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.search, 1)
        top.addWidget(self.kinds_button)
        top.addWidget(self.person)
        top.addWidget(self.source)
        bottom = QHBoxLayout()
        bottom.setContentsMargins(0, 0, 0, 0)
        for widget in (self.pinned, self.review, self.as_of, self.as_of_date):
            bottom.addWidget(widget)
        bottom.addStretch(1)
        bottom.addWidget(self.jump_date)
        bottom.addWidget(self.jump_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addLayout(bottom)

    def _add_shortcuts(self) -> None:
        find = QAction("Search the timeline", self)
        find.setShortcut(QKeySequence.StandardKey.Find)
        find.triggered.connect(self._focus_search)
        go = QAction("Go to date", self)
        go.setShortcut(QKeySequence("Ctrl+G"))
        go.triggered.connect(self.jump_date.setFocus)
        for action in (find, go):
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.addAction(action)

    # --- what the user wants ----------------------------------------------------------

    def current(self) -> TimelineFilter:
        """The filter the controls describe now."""
        kinds = frozenset(k for k, action in self.kind_actions.items() if action.isChecked())
        as_of = None
        if self.as_of.isChecked():
            day = self.as_of_date.date().toPython()
            assert isinstance(day, date)
            as_of = datetime.combine(day, time(23, 59, 59)).astimezone()
        return TimelineFilter(
            kinds=kinds or ALL_KINDS, about=_chosen(self.person),
            source_id=_chosen(self.source), pinned_only=self.pinned.isChecked(),
            review_only=self.review.isChecked(), text=self.search.text().strip(),
            as_of=as_of, statuses=_picked(self.status_actions, VISIBLE),
            trust=_picked(self.trust_actions, ""))

    def set_choices(self, people: list[str], sources: list[tuple[str, str]]) -> None:
        """Offer these people and sources, keeping the current choice when it remains."""
        _fill(self.person, EVERYONE, [(name, name) for name in people])
        _fill(self.source, ALL_SOURCES, [(name, source_id) for source_id, name in sources])

    def reset(self) -> None:
        """Show everything again (one change, not one per control)."""
        controls: list[QObject] = [*self.findChildren(QWidget), *self.kind_actions.values(),
                                   *self.status_actions.values(), *self.trust_actions.values()]
        for control in controls:
            control.blockSignals(True)
        self.search.clear()
        for action in self.kind_actions.values():
            action.setChecked(True)
        self.status_actions[VISIBLE].setChecked(True)
        self.trust_actions[""].setChecked(True)
        self.person.setCurrentIndex(0)
        self.source.setCurrentIndex(0)
        for check in (self.pinned, self.review, self.as_of):
            check.setChecked(False)
        self.as_of_date.setEnabled(False)
        for control in controls:
            control.blockSignals(False)
        self._show_narrowing()
        self._emit()

    def _focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def _as_of_moved(self) -> None:
        if self.as_of.isChecked():
            self._emit()

    def _jump_if_focused(self) -> None:
        # Return in the date field goes there; leaving the field does not.
        if self.jump_date.hasFocus():
            self._jump()

    def _menu_changed(self) -> None:
        self._show_narrowing()
        self._emit()

    def _show_narrowing(self) -> None:
        """The Show button reads "Show (n)" when n of its choices narrow the timeline,
        its tooltip says which."""
        kinds = [KIND_LABELS[k] for k, a in self.kind_actions.items() if a.isChecked()]
        narrowing = []
        if len(kinds) < len(self.kind_actions):
            narrowing.append("only " + ", ".join(kinds).lower() if kinds else "every kind")
        status = _picked(self.status_actions, VISIBLE)
        if status != VISIBLE:
            narrowing.append(STATUS_LABELS[status].lower())
        trust = _picked(self.trust_actions, "")
        if trust:
            narrowing.append(TRUST_LABELS[trust].lower())
        self.kinds_button.setText(f"Show ({len(narrowing)})" if narrowing else "Show")
        self.kinds_button.setToolTip(
            "Showing " + "; ".join(narrowing) if narrowing
            else "Kinds, status and whose words are shown")

    def _emit(self) -> None:
        self._timer.stop()
        wanted = self.current()
        if wanted != self._last:
            self._last = wanted
            self.changed.emit(wanted)

    def _jump(self) -> None:
        day = self.jump_date.date().toPython()
        assert isinstance(day, date)
        self.jump_requested.emit(day)


def _choices(menu: QMenu, labels: Mapping[_Key, str],
             changed: Callable[[], None]) -> dict[_Key, QAction]:
    """Menu entries of which exactly one is checked (the first at the start)."""
    group = QActionGroup(menu)
    group.setExclusive(True)
    actions: dict[_Key, QAction] = {}
    for key, label in labels.items():
        action = menu.addAction(label)
        action.setCheckable(True)
        action.setChecked(not actions)
        group.addAction(action)
        action.toggled.connect(lambda on: changed() if on else None)
        actions[key] = action
    return actions


def _picked(actions: Mapping[_Key, QAction], default: _Key) -> _Key:
    return next((key for key, action in actions.items() if action.isChecked()), default)


def _combo(name: str, everything: str, parent: QWidget) -> QComboBox:
    combo = QComboBox(parent)
    combo.setAccessibleName(name)
    combo.addItem(everything, "")
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    combo.setMaximumWidth(170)
    return combo


def _check(text: str, tip: str, parent: QWidget) -> QCheckBox:
    check = QCheckBox(text, parent)
    check.setAccessibleName(text.replace("&", ""))
    check.setToolTip(tip)
    return check


def _date_edit(name: str, parent: QWidget) -> QDateEdit:
    edit = QDateEdit(QDate.currentDate(), parent)
    edit.setAccessibleName(name)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("d MMM yyyy")
    return edit


def _chosen(combo: QComboBox) -> str:
    return str(combo.currentData() or "")


def _fill(combo: QComboBox, everything: str, entries: list[tuple[str, str]]) -> None:
    keep = _chosen(combo)
    combo.blockSignals(True)
    combo.clear()
    combo.addItem(everything, "")
    for label, value in entries:
        combo.addItem(label, value)
    found = combo.findData(keep) if keep else 0
    combo.setCurrentIndex(max(found, 0))
    combo.blockSignals(False)
