"""The watched sources as a table: path, state, files, pieces and skipped files.

The model holds the newest `list[SourceStatus]` that capture reported (through
`CaptureBridge`) and never reads the store itself. `set_statuses` merges a new snapshot
row by row, keyed by the source's id, so a selection survives the many snapshots a scan
sends, and a view repaints only the rows that changed.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Any, ClassVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QStyle

from reverie.core.capture.watching import SourceStatus
from reverie.desktop.labels import short_date
from reverie.desktop.theme import color

ModelIndex = QModelIndex | QPersistentModelIndex

StatusRole = Qt.ItemDataRole.UserRole + 1  # SourceStatus of the row
WatchIdRole = Qt.ItemDataRole.UserRole + 2  # int: the watched source's id
ProgressRole = Qt.ItemDataRole.UserRole + 3  # (done, total) while scanning, else None
StateRole = Qt.ItemDataRole.UserRole + 4  # str: capture's state word (watching, polling…)

_NO_PARENT = QModelIndex()
# Theme tones of capture's state words, read when a row is drawn (a scheme change shows).
_STATE_TONES = {"error": "problem", "polling": "warning", "paused": "muted", "idle": "muted"}
_LOOK_ROLES = (
    Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.ForegroundRole,
    Qt.ItemDataRole.TextAlignmentRole,
)


class Column(enum.IntEnum):
    """The table's columns, in order."""

    PATH = 0
    STATE = 1
    FILES = 2
    PIECES = 3
    SKIPPED = 4


HEADERS = {
    Column.PATH: ("Source", "The folder or export file Reverie follows"),
    Column.STATE: ("State", "Whether Reverie is following changes to it now"),
    Column.FILES: ("Files", "Files read and stored"),
    Column.PIECES: ("Pieces", "Conversation turns and document passages read from it"),
    Column.SKIPPED: ("Skipped", "Files Reverie could not read; Show skipped files says why"),
}

_STATE_HELP = {
    "watching": "Watching: the system tells Reverie of every change here, and Reverie "
    "reads it within a second or two.",
    "polling": "Degraded: polling. The system cannot report changes here (a network or "
    "removable drive, or more folders than the system's watch limit allows), so Reverie "
    "looks for changes every few seconds instead. Nothing is missed, but changes arrive "
    "later and looking costs some disk activity.",
    "paused": "Paused: Reverie does not read changes here. What it already read stays; "
    "Resume catches up on everything that changed meanwhile.",
    "scanning": "Checking each file against what Reverie stored: new and changed files are "
    "read, deleted ones are forgotten.",
    "idle": "Not watching: live capture is not running.",
}


def state_text(status: SourceStatus) -> str:
    """The State column: watching, degraded: polling, paused, scanning n/N, error: why."""
    if status.state == "scanning":
        return f"scanning {status.done}/{status.total}" if status.total else "scanning…"
    if status.state == "polling":
        return "degraded: polling"
    if status.state == "error":
        return f"error: {status.source.error or 'unknown problem'}"
    if status.state == "idle":
        return "not watching"
    return status.state


def state_tooltip(status: SourceStatus) -> str:
    """What the state means for the user, and what to do about it."""
    if status.state == "error":
        return (f"Error: {status.source.error or 'unknown problem'}. What Reverie read "
                "before stays; it tries again when you resume the source or restart.")
    return _STATE_HELP.get(status.state, status.state)


def display_path(path: Path) -> str:
    """The path as shown: the home folder abbreviated to ~."""
    home = Path.home()
    try:
        return f"~/{path.relative_to(home)}" if path != home else "~"
    except ValueError:
        return str(path)


def path_tooltip(status: SourceStatus) -> str:
    """Full path, what kind of source it is, and when it was last checked in full."""
    source = status.source
    kind = "Folder" if source.is_folder else "Export file"
    when = (f"last checked in full {short_date(source.last_scan.astimezone())}"
            f" {source.last_scan.astimezone():%H:%M}" if source.last_scan else "not checked yet")
    return f"{source.path}\n{kind}, {when}"


class SourcesModel(QAbstractTableModel):
    """One row per watched source, fed by `set_statuses`; oldest source first."""

    _icons: ClassVar[dict[bool, QIcon]] = {}

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[SourceStatus] = []

    # --- feeding --------------------------------------------------------------------

    def set_statuses(self, statuses: list[SourceStatus]) -> None:
        """Show `statuses`: rows of new ids are inserted, gone ones removed, others updated."""
        fresh = sorted(statuses, key=lambda s: s.source.id)
        row = 0
        for status in fresh:
            while row < len(self._rows) and self._rows[row].source.id < status.source.id:
                self._remove(row)
            if row < len(self._rows) and self._rows[row].source.id == status.source.id:
                if self._rows[row] != status:
                    self._rows[row] = status
                    self.dataChanged.emit(
                        self.index(row, 0), self.index(row, len(Column) - 1)
                    )
            else:
                self.beginInsertRows(_NO_PARENT, row, row)
                self._rows.insert(row, status)
                self.endInsertRows()
            row += 1
        if row < len(self._rows):
            self.beginRemoveRows(_NO_PARENT, row, len(self._rows) - 1)
            del self._rows[row:]
            self.endRemoveRows()

    def clear(self) -> None:
        """Show no sources (the store was closed)."""
        self.set_statuses([])

    def _remove(self, row: int) -> None:
        self.beginRemoveRows(_NO_PARENT, row, row)
        del self._rows[row]
        self.endRemoveRows()

    # --- lookups --------------------------------------------------------------------

    def status(self, row: int) -> SourceStatus | None:
        """The status shown in `row`, or None."""
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, watch_id: int) -> int | None:
        """The row showing source `watch_id`, or None."""
        for row, status in enumerate(self._rows):
            if status.source.id == watch_id:
                return row
        return None

    @property
    def statuses(self) -> list[SourceStatus]:
        """Every row's status, in row order."""
        return list(self._rows)

    # --- the model interface -------------------------------------------------------

    def rowCount(self, parent: ModelIndex = _NO_PARENT) -> int:
        """One row per source; a table has no children."""
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = _NO_PARENT) -> int:
        """The five columns of `Column`."""
        return 0 if parent.isValid() else len(Column)

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        """Rows are selectable and never have children."""
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemNeverHasChildren)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Column titles, with a tooltip saying what each counts."""
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Column):
            return None
        title, help_text = HEADERS[Column(section)]
        if role == Qt.ItemDataRole.DisplayRole:
            return title
        if role == Qt.ItemDataRole.ToolTipRole:
            return help_text
        if role == Qt.ItemDataRole.TextAlignmentRole and section >= Column.FILES:
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Text, tooltips, icons, colours and the custom roles of one cell."""
        status = self.status(index.row()) if index.isValid() else None
        if status is None or not 0 <= index.column() < len(Column):
            return None
        column = Column(index.column())
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._text(status, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(status, column)
        if role in _LOOK_ROLES:
            return self._look(status, column, role)
        return self._custom(status, role)

    @classmethod
    def _look(cls, status: SourceStatus, column: Column, role: int) -> Any:
        if role == Qt.ItemDataRole.DecorationRole and column is Column.PATH:
            return cls._icon(status.source.is_folder)
        if role == Qt.ItemDataRole.ForegroundRole and column is Column.STATE:
            named = _STATE_TONES.get(status.state)
            return None if named is None else color(named)
        if role == Qt.ItemDataRole.TextAlignmentRole and column >= Column.FILES:
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        return None

    @staticmethod
    def _text(status: SourceStatus, column: Column) -> str:
        if column is Column.PATH:
            return display_path(status.source.path)
        if column is Column.STATE:
            return state_text(status)
        count = {Column.FILES: status.files, Column.PIECES: status.episodes,
                 Column.SKIPPED: status.skipped}[column]
        return str(count)

    @staticmethod
    def _tooltip(status: SourceStatus, column: Column) -> str:
        if column is Column.PATH:
            return path_tooltip(status)
        if column is Column.STATE:
            return state_tooltip(status)
        if column is Column.SKIPPED and status.skipped:
            return f"{status.skipped} could not be read: Show skipped files says why."
        return HEADERS[column][1]

    @staticmethod
    def _custom(status: SourceStatus, role: int) -> Any:
        if role == StatusRole:
            return status
        if role == WatchIdRole:
            return status.source.id
        if role == StateRole:
            return status.state
        if role == ProgressRole:
            scanning = status.state == "scanning" and status.total > 0
            return (status.done, status.total) if scanning else None
        return None

    @classmethod
    def _icon(cls, is_folder: bool) -> QIcon:
        icon = cls._icons.get(is_folder)
        if icon is None:
            style = QApplication.style()
            pixmap = QStyle.StandardPixmap.SP_DirIcon if is_folder \
                else QStyle.StandardPixmap.SP_FileIcon
            icon = style.standardIcon(pixmap)
            cls._icons[is_folder] = icon
        return icon
