"""The timeline as a lazily fetching tree, newest first, at a zoom and through a filter.

At day zoom the top rows are days, read a page at a time as the view scrolls
(`canFetchMore`/`fetchMore` on the root). At week, month or year zoom the top rows are
periods holding their days; every day and its count is known at once (`day_counts` holds
one small row per day, a few thousand for ten years). A day's items are read when the
view opens it. A filter (`apply_filter`) comes with every matching day, read off the main
thread by `TimelineBrowser`. `refresh(changes)` brings the loaded part up to date after a
job changed the store, inserting and updating rows instead of resetting.

Reads happen synchronously on the main thread in `fetchMore` and `refresh`: a page of
days, all day counts, or the items of one day is an indexed SQLite read of milliseconds
(the ledger gives each thread its own read connection, and WAL keeps reads off the
writer's lock). Anything slow (filtered reads, import, the model) goes through jobs.
"""

from __future__ import annotations

import html
import itertools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any, ClassVar

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QFont

from reverie.core.errors import EnvironmentProblem
from reverie.core.service import Reverie
from reverie.core.store.timeline_filter import TimelineFilter
from reverie.core.types import Changes, DayCount, ItemSource, TimelineItem
from reverie.desktop.jobs import BUG_APOLOGY
from reverie.desktop.timeline_icons import kind_icon
from reverie.desktop.timeline_nodes import (
    Day,
    Node,
    Period,
    Zoom,
    day_label,
    group,
    item_label,
    item_tooltip,
    period_label,
)

log = logging.getLogger("reverie.desktop.timeline")

ModelIndex = QModelIndex | QPersistentModelIndex

ItemIdRole = Qt.ItemDataRole.UserRole + 1  # str: the episode/memory id ("" for a day)
KindRole = Qt.ItemDataRole.UserRole + 2  # str: "day", "period" or an ItemKind value
DayRole = Qt.ItemDataRole.UserRole + 3  # str: the ISO day of the row (a period's start)
TextRole = Qt.ItemDataRole.UserRole + 4  # str: the full text ("" for a day)
SummaryRole = Qt.ItemDataRole.UserRole + 5  # str: a day's or week's summary ("" if none)
CountRole = Qt.ItemDataRole.UserRole + 6  # int: items a day or period holds (0 for items)
PeopleRole = Qt.ItemDataRole.UserRole + 7  # tuple[str, ...]: people a memory names
SourceRole = Qt.ItemDataRole.UserRole + 8  # str: an ItemSource value ("" for none)

SOURCE_NAMES = {ItemSource.CHAT: "Reverie chat", ItemSource.IMPORT: "imported conversation",
                ItemSource.FILE: "watched file"}  # how a row's source reads aloud

DAY_KIND = "day"
PERIOD_KIND = "period"
DEFAULT_PAGE = 50
ITEM_PAGE = 100  # a day's items read at once: a busy day holds over 1,500
ALL_DAYS = 1_000_000  # more days than any store holds (2,700 years)
_NO_PARENT = QModelIndex()  # default argument: the root
_TOP = 0  # internalId of top rows; other rows carry their container's key
# Built once: Qt asks for every row's flags at each layout, thousands per expand.
_ROW_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_ITEM_FLAGS = _ROW_FLAGS | Qt.ItemFlag.ItemNeverHasChildren


class TimelineModel(QAbstractItemModel):
    """Periods, days and their items from a `Reverie` facade, fetched as needed."""

    loaded = Signal()  # a page of days was read or a refresh ended (even if no row came)
    filter_stale = Signal(object)  # Changes | None: a filtered timeline needs its days again
    read_failed = Signal(str, bool)  # a page could not be read: message for the user, is_bug

    _fonts: ClassVar[dict[str, QFont]] = {}

    def __init__(self, facade: Reverie | None = None, *, page_size: int = DEFAULT_PAGE,
                 item_page: int = ITEM_PAGE) -> None:
        super().__init__()
        self._facade = facade
        self._page_size = page_size
        self._item_page = item_page
        self._top: list[Node] = []
        self._by_key: dict[int, Node] = {}
        self._row_of: dict[int, int] = {}  # a node's row inside its container
        self._keys = itertools.count(1)
        self._exhausted = facade is None
        self._changing = 0
        self._filter = TimelineFilter()
        self._zoom = Zoom.DAY

    # --- what is shown --------------------------------------------------------------

    def set_facade(self, facade: Reverie | None) -> None:
        """Show the timeline of `facade` (or nothing), unfiltered, from the first page."""
        self._facade = facade
        self._filter = TimelineFilter()
        self._rebuild(self._unfiltered_days())

    def apply_filter(self, flt: TimelineFilter, days: list[DayCount] | None = None) -> None:
        """Show only what `flt` keeps: `days` are every day it matches (read off the main
        thread, `Reverie.timeline_filtered_days`). The default filter needs none."""
        if not flt.is_default and days is None:
            raise ValueError("a filtered timeline needs its days")
        self._filter = flt
        self._rebuild(days if not flt.is_default else self._unfiltered_days())

    def set_zoom(self, zoom: Zoom) -> None:
        """Show days (paged), or weeks, months or years holding their days."""
        if zoom is self._zoom:
            return
        days = self._known_days() if not self._filter.is_default else None
        self._zoom = zoom
        self._rebuild(days if days is not None else self._unfiltered_days())

    @property
    def zoom(self) -> Zoom:
        """How much time a top row spans."""
        return self._zoom

    @property
    def filter(self) -> TimelineFilter:
        """What the timeline shows."""
        return self._filter

    @property
    def matches(self) -> int:
        """How many items the known days hold (every day, once filtered or zoomed out)."""
        return sum(day.count for day in self._each_day())

    @property
    def is_empty(self) -> bool:
        """True when the store is open and holds nothing to show."""
        return self._facade is not None and self._exhausted and not self._top

    @property
    def loaded_days(self) -> list[str]:
        """The ISO days known so far, newest first."""
        return [day.day for day in self._each_day()]

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
            known = self._top[-1].start if self._top else None
            if known is not None and known < day:
                break  # days come newest first: it would have been loaded already
            self.fetchMore(QModelIndex())
            parent = self.day_index(day)
        if not parent.isValid() or not item_id:
            return parent
        node = self._node(parent)
        assert isinstance(node, Day)
        checked = 0
        while True:
            items = node.items or []
            for row in range(checked, len(items)):
                if items[row].id == item_id:
                    return self.index(row, 0, parent)
            checked = len(items)
            if not self.has_more(parent):
                return parent
            self.fetchMore(parent)

    def is_partial_day(self, index: ModelIndex) -> bool:
        """True for a day row whose items are read in part (more pages to come)."""
        node = self._node(index) if index.isValid() else None
        return isinstance(node, Day) and node.items is not None and not node.complete

    def release_items(self, index: ModelIndex) -> None:
        """Forget the items read for the day at `index` (the view closed it): they are
        read again when it opens (also after a failed read), and a refresh does not
        re-read closed days."""
        node = self._node(index)
        if not isinstance(node, Day) or self._changing:
            return
        if node.items:
            with self._changing_rows():
                self.beginRemoveRows(self._index_of(node), 0, len(node.items) - 1)
                node.items = None
                self.endRemoveRows()
        node.items, node.complete = None, False

    def day_index(self, day: str) -> QModelIndex:
        """The index of a known day row (invalid if not known yet)."""
        for node in self._each_day():
            if node.day == day:
                return self._index_of(node)
        return QModelIndex()

    # --- structure ------------------------------------------------------------------

    def index(self, row: int, column: int, parent: ModelIndex = _NO_PARENT) -> QModelIndex:
        """The index of `row` under `parent`."""
        # Not hasIndex(): it calls back into rowCount() and columnCount() in Python.
        if column != 0 or row < 0 or row >= self.rowCount(parent):
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, _TOP)
        node = self._node(parent)
        return QModelIndex() if node is None else self.createIndex(row, column, node.key)

    def parent(self, index: ModelIndex = _NO_PARENT) -> QModelIndex:  # type: ignore[override]
        """Items have their day as parent, days their period (or the root)."""
        if not index.isValid() or index.internalId() == _TOP:
            return QModelIndex()
        owner = self._by_key.get(index.internalId())
        return QModelIndex() if owner is None else self._index_of(owner)

    def rowCount(self, parent: ModelIndex = _NO_PARENT) -> int:
        """Top rows under the root, days under a period, read items under a day."""
        if not parent.isValid():
            return len(self._top)
        if parent.column() != 0:
            return 0
        node = self._node(parent)
        if isinstance(node, Period):
            return len(node.days)
        return len(node.items or []) if isinstance(node, Day) else 0

    def columnCount(self, parent: ModelIndex = _NO_PARENT) -> int:
        """One column: the view elides the text."""
        return 1

    def hasChildren(self, parent: ModelIndex = _NO_PARENT) -> bool:
        """Days always have items (a day exists because something happened on it)."""
        if not parent.isValid():
            return bool(self._top) or self.canFetchMore(parent)
        if parent.column() != 0:
            return False
        node = self._node(parent)
        if isinstance(node, Period):
            return bool(node.days)
        return isinstance(node, Day) and (node.count > 0 or bool(node.items))

    def canFetchMore(self, parent: ModelIndex) -> bool:
        """More days to page in, or a day whose first page is not read yet.

        Only a day's first page is offered to Qt: its tree asks for it while laying
        out the day it opens, and would ask for each further page there too, under a
        row already open, which makes it lay out every loaded row again. Later pages
        are read by `timeline_paging.OpenDayPager` as they come into sight.
        """
        if not self.has_more(parent):
            return False
        node = self._node(parent) if parent.isValid() else None
        return node is None or (isinstance(node, Day) and node.items is None)

    def has_more(self, parent: ModelIndex) -> bool:
        """More days to page in, or a day with items not read yet (any page).

        False while rows are being changed: whoever reacts to our begin/end signals
        (Qt's model tester does) must not start a nested insert.
        """
        if self._facade is None or self._changing:
            return False
        if not parent.isValid():
            return not self._exhausted
        node = self._node(parent)
        return isinstance(node, Day) and not node.complete

    def fetchMore(self, parent: ModelIndex) -> None:
        """Read the next page of days, or of a day's items (synchronous: milliseconds).

        A read that fails stops paging there and is reported by `read_failed`: nothing
        may escape a method Qt calls. An exception that left the view's own call of
        `fetchMore` made PySide 6.11 drop a reference it did not own (it then reported
        `rowCount` as "not implemented", and a later layout crashed in a freed
        function), so this override keeps every failure inside.
        """
        if not self.has_more(parent):
            return
        try:
            with self._changing_rows():
                self._fetch(parent)
        except Exception as problem:  # see above: reported here, never raised
            self._stop_paging(parent)
            self._report_failed_read(problem)

    def _stop_paging(self, parent: ModelIndex) -> None:
        """No further page is read below `parent`: until the timeline is rebuilt, or
        refreshed (days), or the day is closed and opened again (its items)."""
        if not parent.isValid():
            self._exhausted = True
            return
        day = self._node(parent)
        if isinstance(day, Day):
            day.complete = True

    def _report_failed_read(self, problem: Exception) -> None:
        if isinstance(problem, EnvironmentProblem):
            log.warning("the timeline could not be read: %s", problem)
            self.read_failed.emit(str(problem), False)
        else:
            log.error("reading the timeline failed (bug)", exc_info=problem)
            self.read_failed.emit(BUG_APOLOGY, True)

    def _fetch(self, parent: ModelIndex) -> None:
        assert self._facade is not None
        if not parent.isValid():
            page = self._facade.timeline_days(len(self._top), self._page_size)
            if len(page) < self._page_size:
                self._exhausted = True
            if page:
                first = len(self._top)
                self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
                for entry in page:
                    self._insert(self._top, _TOP, len(self._top), self._new_day(entry, _TOP))
                self.endInsertRows()
            self.loaded.emit()
            return
        day = self._node(parent)
        assert isinstance(day, Day)
        first = len(day.items or [])
        items = self._facade.timeline_items(day.day, self._filter, offset=first,
                                            limit=self._item_page)
        day.complete = len(items) < self._item_page
        if day.items is None:
            day.items = []
        if items:
            self.beginInsertRows(parent, first, first + len(items) - 1)
            day.items = day.items + items
            self.endInsertRows()

    # --- data -----------------------------------------------------------------------

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        """Every row is selectable; items never have children."""
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        key = index.internalId()
        if key != _TOP and isinstance(self._by_key.get(key), Day):
            return _ITEM_FLAGS  # a row inside a day: an item
        return _ROW_FLAGS

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
        """Labels, tooltips, kind icons and the custom roles for every row."""
        if not index.isValid():
            return None
        node = self._node(index)
        if isinstance(node, Day):
            return self._day_data(node, role)
        if isinstance(node, Period):
            return self._period_data(node, role)
        item = self._item(index)
        return None if item is None else self._item_data(item, role)

    def _day_data(self, day: Day, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return day_label(day.day, day.count)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return _with_summary(day_label(day.day, day.count), day.summary)
        if role == Qt.ItemDataRole.ToolTipRole:
            return _summary_tooltip(f"{date.fromisoformat(day.day):%A %d %B %Y}", day.summary)
        if role == Qt.ItemDataRole.FontRole:
            return self._font("day")
        return {KindRole: DAY_KIND, DayRole: day.day, ItemIdRole: "", TextRole: "",
                SummaryRole: day.summary, CountRole: day.count}.get(role)

    def _period_data(self, period: Period, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return period_label(period)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return _with_summary(period_label(period), period.summary)
        if role == Qt.ItemDataRole.ToolTipRole and period.summary:
            return _summary_tooltip(period.label, period.summary)
        if role == Qt.ItemDataRole.FontRole:
            return self._font("period")
        return {KindRole: PERIOD_KIND, DayRole: period.start, ItemIdRole: "",
                TextRole: "", SummaryRole: period.summary, CountRole: period.count}.get(role)

    def _item_data(self, item: TimelineItem, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return item_label(item)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return item_label(item) + "".join(f" · {part}" for part in _whose(item))
        if role == Qt.ItemDataRole.ToolTipRole:
            return item_tooltip(item) + "".join(
                f"<p>{html.escape(part)}</p>" for part in _whose(item))
        if role == Qt.ItemDataRole.DecorationRole:
            return kind_icon(item.kind.value)
        return {
            ItemIdRole: item.id,
            KindRole: item.kind.value,
            DayRole: item.time.date().isoformat(),
            TextRole: item.text,
            SummaryRole: "",
            CountRole: 0,
            PeopleRole: item.people,
            SourceRole: item.source.value,
        }.get(role)

    @classmethod
    def _font(cls, name: str) -> QFont:
        font = cls._fonts.get(name)
        if font is None:
            font = QFont()
            font.setBold(True)
            if name == "period":
                font.setPointSizeF(font.pointSizeF() * 1.1)
            cls._fonts[name] = font
        return font

    # --- refreshing -----------------------------------------------------------------

    def refresh(self, changes: Changes | None) -> None:
        """Bring the known rows up to date after `changes` (None: unknown changes).

        Day counts are re-read for every known day; new days inside the known range are
        inserted; the items of touched days that were already read are re-read and new
        items inserted in place, so open days and selections survive.
        """
        if self._facade is None:
            return
        if not self._filter.is_default:
            self.filter_stale.emit(changes)  # its days are read off the main thread
            return
        touched = None if changes is None else changes.days
        if self._zoom is not Zoom.DAY:
            self._merge_all(self._facade.timeline_days(0, ALL_DAYS), touched)
            return
        extra = self._page_size if touched is None else max(1, len(touched))
        limit = len(self._top) + extra
        fresh = self._facade.timeline_days(0, limit)
        fresh_exhausted = len(fresh) < limit
        if self._exhausted:
            target = fresh
            self._exhausted = fresh_exhausted
        elif self._top:
            boundary = self._top[-1].start
            target = [entry for entry in fresh if entry.day >= boundary]
        else:
            target = []  # nothing read yet: the view's fetchMore will read the first page
        with self._changing_rows():
            self._merge_days(_TOP, target, touched)
        self.loaded.emit()

    def merge_filtered(self, flt: TimelineFilter, days: list[DayCount],
                       changes: Changes | None) -> None:
        """Bring a filtered timeline up to date with its days read again (after
        `filter_stale`); ignored if the filter changed meanwhile."""
        if flt != self._filter or flt.is_default:
            return
        self._merge_all(days, None if changes is None else changes.days)

    def _merge_all(self, days: list[DayCount], touched: frozenset[str] | None) -> None:
        with self._changing_rows():
            if self._zoom is Zoom.DAY:
                self._merge_days(_TOP, days, touched)
            else:
                self._merge_periods(days, touched)
        self.loaded.emit()

    def _merge_periods(self, days: list[DayCount], touched: frozenset[str] | None) -> None:
        row = 0
        for start, label, period_days in group(days, self._zoom):
            while row < len(self._top) and self._top[row].start > start:
                self._remove(_TOP, row)
            if row < len(self._top) and self._top[row].start == start:
                period = self._top[row]
                assert isinstance(period, Period)
                self._merge_days(period.key, period_days, touched)
                count = sum(entry.count for entry in period_days)
                summary = _week_summary(period_days)
                if count != period.count or summary != period.summary:
                    period.count, period.summary = count, summary
                    index = self.index(row, 0)
                    self.dataChanged.emit(index, index)
            else:
                self.beginInsertRows(QModelIndex(), row, row)
                self._insert(self._top, _TOP, row, self._new_period(start, label, period_days))
                self.endInsertRows()
            row += 1
        while row < len(self._top):
            self._remove(_TOP, row)

    def _merge_days(self, owner: int, target: list[DayCount],
                    touched: frozenset[str] | None) -> None:
        container = self._container(owner)
        parent = self._parent_of_container(owner)
        row = 0
        for entry in target:
            while row < len(container) and container[row].start > entry.day:
                self._remove(owner, row)
            if row < len(container) and container[row].start == entry.day:
                day = container[row]
                assert isinstance(day, Day)
                recount = day.count != entry.count or day.summary != entry.summary
                grown = max(0, entry.count - day.count)
                day.count, day.summary = entry.count, entry.summary
                if day.items is not None and (recount or touched is None or day.day in touched):
                    self._reload_items(day, grown)
                if recount:
                    index = self.index(row, 0, parent)
                    self.dataChanged.emit(index, index)
            else:
                self.beginInsertRows(parent, row, row)
                self._insert(container, owner, row, self._new_day(entry, owner))
                self.endInsertRows()
            row += 1
        while row < len(container):
            self._remove(owner, row)

    def _reload_items(self, day: Day, grown: int) -> None:
        """Read again the items shown for `day` (and the `grown` more it now holds)."""
        assert self._facade is not None
        assert day.items is not None
        parent = self._index_of(day)
        limit = -1 if day.complete else max(len(day.items) + grown, self._item_page)
        old = day.items
        new = self._facade.timeline_items(day.day, self._filter, limit=limit)
        day.complete = limit == -1 or len(new) < limit
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

    def _unfiltered_days(self) -> list[DayCount] | None:
        """Every day at a zoomed-out view; None (paging) at day zoom."""
        if self._facade is None or self._zoom is Zoom.DAY:
            return None
        return self._facade.timeline_days(0, ALL_DAYS)

    def _known_days(self) -> list[DayCount]:
        return [DayCount(day.day, day.count, day.summary) for day in self._each_day()]

    def _rebuild(self, days: list[DayCount] | None) -> None:
        """Reset to `days` (None: page them in at day zoom)."""
        with self._changing_rows():  # no fetch while views and testers hear the reset
            self.beginResetModel()
            self._top, self._by_key, self._row_of = [], {}, {}
            if self._zoom is Zoom.DAY:
                for entry in days or []:
                    self._insert(self._top, _TOP, len(self._top), self._new_day(entry, _TOP))
            else:
                for start, label, period_days in group(days or [], self._zoom):
                    period = self._new_period(start, label, period_days)
                    self._insert(self._top, _TOP, len(self._top), period)
            self._exhausted = self._facade is None or days is not None
            self.endResetModel()
        self.loaded.emit()

    @contextmanager
    def _changing_rows(self) -> Iterator[None]:
        self._changing += 1
        try:
            yield
        finally:
            self._changing -= 1

    def _each_day(self) -> Iterator[Day]:
        for node in self._top:
            if isinstance(node, Day):
                yield node
            else:
                yield from node.days

    def _node(self, index: ModelIndex) -> Node | None:
        """The day or period row at `index` (None for an item row)."""
        if index.internalId() == _TOP:
            return self._top[index.row()] if 0 <= index.row() < len(self._top) else None
        owner = self._by_key.get(index.internalId())
        if isinstance(owner, Period) and 0 <= index.row() < len(owner.days):
            return owner.days[index.row()]
        return None

    def _item(self, index: ModelIndex) -> TimelineItem | None:
        owner = self._by_key.get(index.internalId()) if index.internalId() != _TOP else None
        if isinstance(owner, Day) and owner.items is not None and (
                0 <= index.row() < len(owner.items)):
            return owner.items[index.row()]
        return None

    def _index_of(self, node: Node) -> QModelIndex:
        return self.createIndex(self._row_of[node.key], 0, node.owner)

    def _container(self, owner: int) -> list[Node]:
        if owner == _TOP:
            return self._top
        period = self._by_key[owner]
        assert isinstance(period, Period)
        return period.days  # type: ignore[return-value]

    def _parent_of_container(self, owner: int) -> QModelIndex:
        return QModelIndex() if owner == _TOP else self._index_of(self._by_key[owner])

    def _new_day(self, entry: DayCount, owner: int) -> Day:
        day = Day(next(self._keys), entry.day, entry.count, owner=owner, summary=entry.summary)
        self._by_key[day.key] = day
        return day

    def _new_period(self, start: str, label: str, days: list[DayCount]) -> Period:
        period = Period(next(self._keys), start, label, sum(d.count for d in days),
                        summary=_week_summary(days))
        self._by_key[period.key] = period
        for entry in days:
            self._insert(period.days, period.key, len(period.days),  # type: ignore[arg-type]
                         self._new_day(entry, period.key))
        return period

    def _insert(self, container: list[Node], owner: int, row: int, node: Node) -> None:
        node.owner = owner
        container.insert(row, node)
        self._renumber(container, row)

    def _remove(self, owner: int, row: int) -> None:
        container = self._container(owner)
        self.beginRemoveRows(self._parent_of_container(owner), row, row)
        node = container.pop(row)
        gone = [node, *(node.days if isinstance(node, Period) else [])]
        for each in gone:
            self._by_key.pop(each.key, None)
            self._row_of.pop(each.key, None)
        self._renumber(container, row)
        self.endRemoveRows()

    def _renumber(self, container: list[Node], start: int) -> None:
        for row in range(start, len(container)):
            self._row_of[container[row].key] = row


def _week_summary(days: list[DayCount]) -> str:
    """A week period's summary: the one dated on any of its days (its Monday)."""
    return next((entry.week_summary for entry in days if entry.week_summary), "")


def _with_summary(label: str, summary: str) -> str:
    return f"{label}. Summary: {summary}" if summary else label


def _summary_tooltip(title: str, summary: str) -> str:
    """A day's or week's title and its whole summary, as rich text so that Qt wraps it."""
    if not summary:
        return title
    return f"<p><b>{html.escape(title)}</b></p><p>{html.escape(summary)}</p>"


def _whose(item: TimelineItem) -> list[str]:
    """Who a row names and where it came from, as words (tooltips, screen readers)."""
    parts = [f"with {', '.join(item.people)}"] if item.people else []
    if item.source is not ItemSource.NONE:
        parts.append(f"from {SOURCE_NAMES[item.source]}")
    return parts
