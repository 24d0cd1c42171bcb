"""A busy day's items, read a page at a time as the tree shows them.

Qt's views fetch more rows by themselves only at the top level (when the scroll bar
reaches its end). A day holds up to about 1,600 items at a million memories, and laying
them out at once took over 100 ms, so the model reads a day's items `ITEM_PAGE` at a
time (`TimelineModel.fetchMore` on the day) and this helper asks for the next page when
the last row read of an open day comes into sight. A day closed again gives its items
back, so that a refresh after a change re-reads only the days that are open.

`DayTree` is the tree that shows them. Qt's tree reads a day's first page while it
lays out the day being opened, takes those rows as a reason to lay out every loaded
row again afterwards (31 ms at a million memories, 2,958 days loaded), and then lays
out the day's rows itself anyway: DayTree leaves that second, whole layout out.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QPoint, Qt, QTimer
from PySide6.QtWidgets import QAbstractItemView, QTreeView

from reverie.desktop.timeline_model import TimelineModel

MAX_PAGES_PER_TURN = 8  # one turn of the event loop reads at most this many pages


class OpenDayPager(QObject):
    """Reads further pages of the open days that the tree shows to their last row."""

    def __init__(self, view: QTreeView, model: TimelineModel) -> None:
        """Follow `view` (showing `model`): its scrolling, opening, closing and rows."""
        super().__init__(view)
        self._view = view
        self._model = model
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.fill_visible)
        for signal in (view.verticalScrollBar().valueChanged, view.expanded,
                       model.rowsInserted, model.modelReset, model.layoutChanged):
            signal.connect(lambda *_args: self._timer.start())
        # Queued: the view finishes its own collapse before the rows go.
        view.collapsed.connect(self._release, Qt.ConnectionType.QueuedConnection)

    def fill_visible(self) -> int:
        """Read the next page of every open day whose last read row is on screen;
        return how many pages were read."""
        pages = 0
        while pages < MAX_PAGES_PER_TURN:
            day = self._day_wanting_more()
            if day is None:
                break
            self._model.fetchMore(day)
            pages += 1
        return pages

    def _day_wanting_more(self) -> QModelIndex | None:
        view, model = self._view, self._model
        height = view.viewport().height()
        index = view.indexAt(QPoint(1, 1))
        while index.isValid() and view.visualRect(index).top() <= height:
            parent = index.parent()
            if (model.is_partial_day(parent) and view.isExpanded(parent)
                    and index.row() == model.rowCount(parent) - 1):
                return parent
            index = view.indexBelow(index)
        return None

    def _release(self, index: QModelIndex | QPersistentModelIndex) -> None:
        if not index.isValid() or self._view.isExpanded(index):
            return  # opened again meanwhile
        current = self._view.currentIndex()
        if current.isValid() and current.parent() == index:
            return  # keep what the detail shows
        self._model.release_items(index)


class DayTree(QTreeView):
    """The timeline's tree: opening a day lays out that day's rows only.

    `QTreeView` marks a row open, then lays it out, and the layout asks the model for
    the row's first page when it has none (`canFetchMore`). Rows inserted under an
    open row make the tree schedule a layout of all its rows, which here is redundant:
    the layout under way counts the row's children after that read and lays them out.
    So rows that arrive while a row opens (the tree's `ExpandingState`) under that
    open row are left to it; any other insert is handled as Qt does.
    """

    def rowsInserted(self, parent: QModelIndex | QPersistentModelIndex,
                     start: int, end: int) -> None:
        """Rows came under `parent` (see the class)."""
        if (self.state() == QAbstractItemView.State.ExpandingState and parent.isValid()
                and self.isExpanded(parent)):
            return
        super().rowsInserted(parent, start, end)
