"""The chat's conversation list as a lazily fetching list model.

The model never reads the store: it holds the `ConversationSummary` pages the panel's
jobs bring back (`Reverie.conversations.list`). While more may be stored,
`canFetchMore` says so and `fetchMore` asks for the next page through `page_wanted`;
`add_page` appends it. `set_first_page` replaces everything (after an answer, a rename
or a deletion) and keeps rows whose content did not change untouched, so a view's
selection and scroll position survive a refresh.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QFont

from reverie.core.chat.conversations import ConversationSummary
from reverie.desktop.labels import plural, short_date

ModelIndex = QModelIndex | QPersistentModelIndex

SourceIdRole = Qt.ItemDataRole.UserRole + 1  # str: the conversation's source id
SummaryRole = Qt.ItemDataRole.UserRole + 2  # ConversationSummary of the row
CurrentRole = Qt.ItemDataRole.UserRole + 3  # bool: the transcript shows this conversation

_NO_PARENT = QModelIndex()
_BOLD = QFont()
_BOLD.setBold(True)


def when_label(when: datetime, today: date | None = None) -> str:
    """When a conversation's last turn was: "Today 14:05", "Yesterday 09:12", or its date."""
    local = when.astimezone() if when.tzinfo is not None else when
    today = today or datetime.now().astimezone().date()
    if local.date() == today:
        return f"Today {local:%H:%M}"
    if local.date() == today - timedelta(days=1):
        return f"Yesterday {local:%H:%M}"
    return short_date(local)


def row_details(summary: ConversationSummary, today: date | None = None) -> str:
    """The second line of a row: "Today 14:05 · 4 turns"."""
    return f"{when_label(summary.last_turn, today)} · {plural(summary.turns, 'turn')}"


class ConversationsModel(QAbstractListModel):
    """Conversations, newest turn first, a page at a time."""

    page_wanted = Signal(int)  # the offset of the next page to fetch

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[ConversationSummary] = []
        self._more = False
        self._fetching = False
        self._current: str | None = None

    # --- what the panel calls -------------------------------------------------------

    def set_first_page(self, rows: list[ConversationSummary], more: bool) -> None:
        """Show `rows` as the whole list so far (`more`: further pages may be stored)."""
        self._fetching = False
        self._more = more
        if [row.source_id for row in rows] == [row.source_id for row in self._rows]:
            # Same conversations in the same order: repaint only the rows that changed.
            for number, (old, new) in enumerate(zip(self._rows, rows, strict=True)):
                if old != new:
                    self._rows[number] = new
                    index = self.index(number)
                    self.dataChanged.emit(index, index)
            return
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def add_page(self, offset: int, rows: list[ConversationSummary], more: bool) -> None:
        """Append the page fetched from `offset`; a page for an older list is dropped."""
        self._fetching = False
        if offset != len(self._rows):
            return
        known = {row.source_id for row in self._rows}
        fresh = [row for row in rows if row.source_id not in known]
        self._more = more and bool(fresh)
        if not fresh:
            return
        self.beginInsertRows(_NO_PARENT, len(self._rows), len(self._rows) + len(fresh) - 1)
        self._rows.extend(fresh)
        self.endInsertRows()

    def fetch_failed(self) -> None:
        """The page asked for did not come: allow asking again later."""
        self._fetching = False

    def set_current(self, source_id: str | None) -> None:
        """Mark the conversation shown in the transcript (its row is drawn bold)."""
        previous, self._current = self._current, source_id
        for wanted in {previous, source_id} - {None}:
            row = self.row_of(wanted)
            if row is not None:
                index = self.index(row)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.FontRole])

    @property
    def current(self) -> str | None:
        """The source id of the conversation the transcript shows (None: a new one)."""
        return self._current

    def row_of(self, source_id: str | None) -> int | None:
        """The row of a conversation, or None when it is not loaded."""
        for number, row in enumerate(self._rows):
            if row.source_id == source_id:
                return number
        return None

    def summary(self, row: int) -> ConversationSummary:
        """The conversation in `row`."""
        return self._rows[row]

    # --- QAbstractListModel ---------------------------------------------------------

    def rowCount(self, parent: ModelIndex = _NO_PARENT) -> int:
        """How many conversations are loaded (none under a row: it is a flat list)."""
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """A row's title and details, its accessible text, its id and its summary."""
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        summary = self._rows[index.row()]
        if role == Qt.ItemDataRole.FontRole:
            return _BOLD if summary.source_id == self._current else None
        spoken = (f"{summary.title}. Last turn {when_label(summary.last_turn)}, "
                  f"{plural(summary.turns, 'turn')}.")
        values: dict[int, Any] = {
            Qt.ItemDataRole.DisplayRole: f"{summary.title}\n{row_details(summary)}",
            Qt.ItemDataRole.ToolTipRole: spoken,
            Qt.ItemDataRole.AccessibleTextRole: spoken,
            SourceIdRole: summary.source_id,
            SummaryRole: summary,
            CurrentRole: summary.source_id == self._current,
        }
        return values.get(role)

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        """Rows are enabled and selectable; the name is changed by F2 through a dialog."""
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def canFetchMore(self, parent: ModelIndex) -> bool:
        """True while further pages may be stored and none is being fetched."""
        return not parent.isValid() and self._more and not self._fetching

    def fetchMore(self, parent: ModelIndex) -> None:
        """Ask (through `page_wanted`) for the page after the loaded rows."""
        if self.canFetchMore(parent):
            self._fetching = True
            self.page_wanted.emit(len(self._rows))
