"""The timeline as a lazily fetching tree: days newest first, each day's items below it.

Top-level rows are days, read from the facade a page at a time as the view scrolls
(`canFetchMore`/`fetchMore` on the root). A day's items are read when the view expands
it (`canFetchMore`/`fetchMore` on the day). `refresh(changes)` brings the loaded part up
to date after a job changed the store, inserting and updating rows instead of resetting.

Reads happen synchronously on the main thread in `fetchMore` and `refresh`: a page of
days or the items of one day is an indexed SQLite read of a few milliseconds (the ledger
gives each thread its own read connection, and WAL keeps reads off the writer's lock).
Anything slow (search, import, the model) goes through `reverie.desktop.jobs`.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPen, QPixmap, QPolygonF

from reverie.core.service import Reverie
from reverie.core.store.timeline_filter import TimelineFilter
from reverie.core.types import Changes, DayCount, ItemKind, TimelineItem
from reverie.desktop.labels import short_date, speaker_name

ModelIndex = QModelIndex | QPersistentModelIndex

ItemIdRole = Qt.ItemDataRole.UserRole + 1  # str: the episode/memory id ("" for a day)
KindRole = Qt.ItemDataRole.UserRole + 2  # str: "day" or an ItemKind value
DayRole = Qt.ItemDataRole.UserRole + 3  # str: the ISO day of the row
TextRole = Qt.ItemDataRole.UserRole + 4  # str: the full text ("" for a day)

DAY_KIND = "day"
DEFAULT_PAGE = 50
_NO_PARENT = QModelIndex()  # default argument: the root
_ROOT_ID = 0  # internalId of day rows; item rows carry their day's key instead


@dataclass
class _Day:
    key: int  # stable across inserts, unlike the row
    day: str
    count: int
    items: list[TimelineItem] | None = None  # None until fetched


def day_label(day: str, count: int) -> str:
    """How a day row reads: "Sat 8 Mar 2026 · 5 items"."""
    noun = "item" if count == 1 else "items"
    return f"{short_date(date.fromisoformat(day))} · {count} {noun}"


def item_label(item: TimelineItem) -> str:
    """How an item row reads: time, speaker or memory kind, text on one line."""
    text = " ".join(item.text.split())
    if item.kind is ItemKind.EPISODE:
        return f"{item.time:%H:%M}   {speaker_name(item.label)}: {text}"
    return f"{item.time:%H:%M}   {item.label} · {text}"


def item_tooltip(item: TimelineItem) -> str:
    """The full text, as rich text so that Qt wraps long lines."""
    if item.kind is ItemKind.EPISODE:
        what = speaker_name(item.label)
    else:
        what = f"{item.kind.value} ({item.label})"
    body = html.escape(item.text).replace("\n", "<br>")
    when = f"{short_date(item.time)}, {item.time:%H:%M}"
    return f"<p><b>{html.escape(what)}</b> · {when}</p><p>{body}</p>"


class TimelineModel(QAbstractItemModel):
    """Days and their items from a `Reverie` facade, fetched as the view needs them."""

    loaded = Signal()  # a page of days was read or a refresh ended (even if no row came)
    filter_stale = Signal(object)  # Changes | None: a filtered timeline needs its days again

    _icons: ClassVar[dict[str, QIcon]] = {}
    _fonts: ClassVar[dict[str, QFont]] = {}

    def __init__(self, facade: Reverie | None = None, *, page_size: int = DEFAULT_PAGE) -> None:
        super().__init__()
        self._facade = facade
        self._page_size = page_size
        self._days: list[_Day] = []
        self._by_key: dict[int, _Day] = {}
        self._row_of: dict[int, int] = {}
        self._keys = itertools.count(1)
        self._exhausted = facade is None
        self._changing = 0
        self._filter = TimelineFilter()

    # --- the facade -----------------------------------------------------------------

    def set_facade(self, facade: Reverie | None) -> None:
        """Show the timeline of `facade` (or nothing), unfiltered, from the first page."""
        with self._changing_rows():
            self.beginResetModel()
            self._facade = facade
            self._filter = TimelineFilter()
            self._days, self._by_key, self._row_of = [], {}, {}
            self._exhausted = facade is None
            self.endResetModel()

    def apply_filter(self, flt: TimelineFilter, days: list[DayCount] | None = None) -> None:
        """Show only what `flt` keeps: `days` are every day it matches (read off the main
        thread, `Reverie.timeline_filtered_days`). The default filter goes back to paging
        through all days."""
        if not flt.is_default and days is None:
            raise ValueError("a filtered timeline needs its days")
        with self._changing_rows():  # no fetch while views and testers hear the reset
            self.beginResetModel()
            self._filter = flt
            self._days, self._by_key, self._row_of = [], {}, {}
            for entry in days or []:
                self._append_day(entry)
            self._exhausted = self._facade is None or not flt.is_default
            self.endResetModel()
        self.loaded.emit()

    @property
    def filter(self) -> TimelineFilter:
        """What the timeline shows."""
        return self._filter

    @property
    def matches(self) -> int:
        """How many items the filtered timeline holds (all loaded days: a filter reads
        every matching day at once)."""
        return sum(day.count for day in self._days)

    @property
    def is_empty(self) -> bool:
        """True when the store is open and holds nothing to show."""
        return self._facade is not None and self._exhausted and not self._days

    @property
    def loaded_days(self) -> list[str]:
        """The ISO days fetched so far, newest first."""
        return [d.day for d in self._days]

    @property
    def facade(self) -> Reverie | None:
        """The open store this timeline shows (None before it opens)."""
        return self._facade

    def locate(self, day: str, item_id: str = "") -> QModelIndex:
        """The row of `item_id` in `day`, or the day's row if the item is not shown
        there; invalid if the day has nothing. Pages of days and the day's items are
        read as needed, each an indexed read of milliseconds."""
        parent = self.day_index(day)
        while not parent.isValid() and self.canFetchMore(QModelIndex()):
            if self._days and self._days[-1].day < day:
                break  # days come newest first: it would have been loaded already
            self.fetchMore(QModelIndex())
            parent = self.day_index(day)
        if not parent.isValid() or not item_id:
            return parent
        if self.canFetchMore(parent):
            self.fetchMore(parent)
        entry = self._days[parent.row()]
        for row, item in enumerate(entry.items or []):
            if item.id == item_id:
                return self.index(row, 0, parent)
        return parent

    def day_index(self, day: str) -> QModelIndex:
        """The index of a loaded day row (invalid if not loaded)."""
        for row, entry in enumerate(self._days):
            if entry.day == day:
                return self.index(row, 0)
        return QModelIndex()

    # --- structure ------------------------------------------------------------------

    def index(self, row: int, column: int, parent: ModelIndex = _NO_PARENT) -> QModelIndex:
        """The index of `row` under `parent`."""
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, _ROOT_ID)
        day = self._day_at(parent)
        if day is None:
            return QModelIndex()
        return self.createIndex(row, column, day.key)

    def parent(self, index: ModelIndex = _NO_PARENT) -> QModelIndex:  # type: ignore[override]
        """Items have their day as parent; days have the root."""
        if not index.isValid() or index.internalId() == _ROOT_ID:
            return QModelIndex()
        key = index.internalId()
        return self.createIndex(self._row_of[key], 0, _ROOT_ID)

    def rowCount(self, parent: ModelIndex = _NO_PARENT) -> int:
        """Loaded days under the root, loaded items under a day."""
        if not parent.isValid():
            return len(self._days)
        if parent.column() != 0:
            return 0
        day = self._day_at(parent)
        if day is None or day.items is None:
            return 0
        return len(day.items)

    def columnCount(self, parent: ModelIndex = _NO_PARENT) -> int:
        """One column: the view elides the text."""
        return 1

    def hasChildren(self, parent: ModelIndex = _NO_PARENT) -> bool:
        """Days always have items (a day exists because something happened on it)."""
        if not parent.isValid():
            return bool(self._days) or self.canFetchMore(parent)
        if parent.column() != 0:
            return False
        day = self._day_at(parent)
        return day is not None and (day.count > 0 or bool(day.items))

    def canFetchMore(self, parent: ModelIndex) -> bool:
        """More days to page in, or a day whose items are not read yet.

        False while rows are being changed: whoever reacts to our begin/end signals
        (Qt's model tester does) must not start a nested insert.
        """
        if self._facade is None or self._changing:
            return False
        if not parent.isValid():
            return not self._exhausted
        day = self._day_at(parent)
        return day is not None and day.items is None

    def fetchMore(self, parent: ModelIndex) -> None:
        """Read the next page of days, or a day's items (synchronous: milliseconds)."""
        if not self.canFetchMore(parent):
            return
        with self._changing_rows():
            self._fetch(parent)

    def _fetch(self, parent: ModelIndex) -> None:
        assert self._facade is not None
        if not parent.isValid():
            page = self._facade.timeline_days(len(self._days), self._page_size)
            if len(page) < self._page_size:
                self._exhausted = True
            if page:
                first = len(self._days)
                self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
                for entry in page:
                    self._append_day(entry)
                self.endInsertRows()
            self.loaded.emit()
            return
        day = self._day_at(parent)
        assert day is not None
        items = self._facade.timeline_items(day.day, self._filter)
        day.items = []
        if items:
            self.beginInsertRows(parent, 0, len(items) - 1)
            day.items = items
            self.endInsertRows()

    # --- data -----------------------------------------------------------------------

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        """Days and items are selectable; items never have children."""
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.internalId() != _ROOT_ID:
            flags |= Qt.ItemFlag.ItemNeverHasChildren
        return flags

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """The single column's title."""
        if (
            section == 0
            and orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
        ):
            return "Timeline"
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Labels, tooltips, kind icons and the custom roles for days and items."""
        if not index.isValid():
            return None
        if index.internalId() == _ROOT_ID:
            if not 0 <= index.row() < len(self._days):
                return None
            return self._day_data(self._days[index.row()], role)
        day = self._by_key.get(index.internalId())
        if day is None or day.items is None or not 0 <= index.row() < len(day.items):
            return None
        return self._item_data(day.items[index.row()], role)

    def _day_data(self, day: _Day, role: int) -> Any:
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return day_label(day.day, day.count)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{date.fromisoformat(day.day):%A %d %B %Y}"
        if role == Qt.ItemDataRole.FontRole:
            return self._day_font()
        return {KindRole: DAY_KIND, DayRole: day.day, ItemIdRole: "", TextRole: ""}.get(role)

    def _item_data(self, item: TimelineItem, role: int) -> Any:
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return item_label(item)
        if role == Qt.ItemDataRole.ToolTipRole:
            return item_tooltip(item)
        if role == Qt.ItemDataRole.DecorationRole:
            return self._icon(item.kind.value)
        return {
            ItemIdRole: item.id,
            KindRole: item.kind.value,
            DayRole: item.time.date().isoformat(),
            TextRole: item.text,
        }.get(role)

    @classmethod
    def _day_font(cls) -> QFont:
        font = cls._fonts.get("day")
        if font is None:
            font = QFont()
            font.setBold(True)
            cls._fonts["day"] = font
        return font

    @classmethod
    def _icon(cls, kind: str) -> QIcon:
        """A small painted marker per kind: blue dot (turn), amber diamond (memory)."""
        icon = cls._icons.get(kind)
        if icon is None:
            icon = QIcon(_marker(kind))
            cls._icons[kind] = icon
        return icon

    # --- refreshing -----------------------------------------------------------------

    def refresh(self, changes: Changes | None) -> None:
        """Bring the loaded rows up to date after `changes` (None: unknown changes).

        Day counts are re-read for every loaded day; new days inside the loaded range are
        inserted; the items of touched days that were already read are re-read and new
        items inserted in place, so expanded days and selections survive.
        """
        if self._facade is None:
            return
        if not self._filter.is_default:
            self.filter_stale.emit(changes)  # its days are read off the main thread
            return
        touched = None if changes is None else changes.days
        extra = self._page_size if touched is None else max(1, len(touched))
        limit = len(self._days) + extra
        fresh = self._facade.timeline_days(0, limit)
        fresh_exhausted = len(fresh) < limit
        if self._exhausted:
            target = fresh
            self._exhausted = fresh_exhausted
        elif self._days:
            boundary = self._days[-1].day
            target = [entry for entry in fresh if entry.day >= boundary]
        else:
            target = []  # nothing read yet: the view's fetchMore will read the first page
        with self._changing_rows():
            self._merge_days(target, touched)
        self.loaded.emit()

    def merge_filtered(self, flt: TimelineFilter, days: list[DayCount],
                       changes: Changes | None) -> None:
        """Bring a filtered timeline up to date with its days read again (after
        `filter_stale`); ignored if the filter changed meanwhile."""
        if flt != self._filter or flt.is_default:
            return
        with self._changing_rows():
            self._merge_days(days, None if changes is None else changes.days)
        self.loaded.emit()

    def _merge_days(self, target: list[DayCount], touched: frozenset[str] | None) -> None:
        row = 0
        for entry in target:
            while row < len(self._days) and self._days[row].day > entry.day:
                self._remove_day(row)
            if row < len(self._days) and self._days[row].day == entry.day:
                day = self._days[row]
                recount = day.count != entry.count
                day.count = entry.count
                if day.items is not None and (recount or touched is None or day.day in touched):
                    self._reload_items(row, day)
                if recount:
                    index = self.index(row, 0)
                    self.dataChanged.emit(index, index)
            else:
                self.beginInsertRows(QModelIndex(), row, row)
                self._insert_day(row, entry)
                self.endInsertRows()
            row += 1
        while row < len(self._days):
            self._remove_day(row)

    def _reload_items(self, row: int, day: _Day) -> None:
        assert self._facade is not None
        assert day.items is not None
        parent = self.index(row, 0)
        old, new = day.items, self._facade.timeline_items(day.day, self._filter)
        new_ids = [item.id for item in new]
        old_ids = [item.id for item in old]
        if [i for i in new_ids if i in set(old_ids)] != old_ids:
            # Something went away or moved: replace the day's rows.
            if old:
                self.beginRemoveRows(parent, 0, len(old) - 1)
                day.items = []
                self.endRemoveRows()
            if new:
                self.beginInsertRows(parent, 0, len(new) - 1)
                day.items = new
                self.endInsertRows()
            return
        known = set(old_ids)
        current = list(old)
        for position, item in enumerate(new):
            if item.id not in known:
                self.beginInsertRows(parent, position, position)
                current.insert(position, item)
                day.items = current
                self.endInsertRows()
        day.items = new  # same ids in the same order; texts may have been edited
        if new:
            self.dataChanged.emit(self.index(0, 0, parent), self.index(len(new) - 1, 0, parent))

    # --- bookkeeping ----------------------------------------------------------------

    @contextmanager
    def _changing_rows(self) -> Iterator[None]:
        self._changing += 1
        try:
            yield
        finally:
            self._changing -= 1

    def _day_at(self, index: ModelIndex) -> _Day | None:
        if index.internalId() != _ROOT_ID or not 0 <= index.row() < len(self._days):
            return None
        return self._days[index.row()]

    def _append_day(self, entry: DayCount) -> None:
        self._insert_day(len(self._days), entry)

    def _insert_day(self, row: int, entry: DayCount) -> None:
        day = _Day(next(self._keys), entry.day, entry.count)
        self._days.insert(row, day)
        self._by_key[day.key] = day
        self._renumber(row)

    def _remove_day(self, row: int) -> None:
        self.beginRemoveRows(QModelIndex(), row, row)
        day = self._days.pop(row)
        del self._by_key[day.key]
        del self._row_of[day.key]
        self._renumber(row)
        self.endRemoveRows()

    def _renumber(self, start: int) -> None:
        for row in range(start, len(self._days)):
            self._row_of[self._days[row].key] = row


def _marker(kind: str, size: int = 16) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    middle = size / 2
    # A white rim keeps the marker visible on the selection highlight.
    painter.setPen(QPen(QColor("white"), 1.5))
    if kind == ItemKind.EPISODE.value:
        painter.setBrush(QColor("#4a7fc1"))
        painter.drawEllipse(QPointF(middle, middle), size * 0.3, size * 0.3)
    else:
        painter.setBrush(QColor("#d08c1f" if kind == ItemKind.MEMORY.value else "#3f9a5a"))
        r = size * 0.36
        painter.drawPolygon(
            QPolygonF(
                [
                    QPointF(middle, middle - r),
                    QPointF(middle + r, middle),
                    QPointF(middle, middle + r),
                    QPointF(middle - r, middle),
                ]
            )
        )
    painter.end()
    return pixmap
