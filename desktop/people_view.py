"""The People screen: everyone Reverie knows, and a page per person.

Left, the people by name (`PeopleModel`, figures fetched a page at a time) under a search
box. Right, the selected person's page: a header (how many memories, first and last seen,
turns they wrote, the people they appear with most: each a link to their page) and the
memories about them over time, by month: the timeline's own `TimelineModel` through
`TimelineFilter(about=name)`, memories only. Clicking a memory there asks the window to
open it in the main timeline with its detail (`item_opened`).

Every read runs in `Lane.BROWSE` (it never writes), one at a time, through `_Reads`: the
newest wish of each kind wins, and a wish made while another view's read holds the lane
runs when the lane is free again. The screen reads only while shown; a change to the
store while it is hidden is read when it is shown again.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from reverie.core.service import Reverie
from reverie.core.store.people import PersonPage
from reverie.core.store.timeline_filter import ALL_KINDS, EPISODES, TimelineFilter
from reverie.core.types import Changes, DayCount, ItemKind
from reverie.desktop.jobs import JobContext, JobRunner, Lane
from reverie.desktop.labels import plural, short_date
from reverie.desktop.people_model import NameRole, PeopleColumn, PeopleModel
from reverie.desktop.theme import tone, use_tone
from reverie.desktop.timeline_model import PERIOD_KIND, ItemIdRole, KindRole, TimelineModel
from reverie.desktop.timeline_nodes import Zoom
from reverie.desktop.timeline_paging import DayTree, OpenDayPager

SEARCH_DELAY_MS = 150  # typing settles this long before the list is read again
OPEN_PERIODS = 3  # a page opens its newest months, so memories show at once
NO_PERSON = "Choose someone on the left to see what Reverie remembers about them."
NO_PEOPLE = ("Nobody yet. People appear here once Reverie remembers something about"
             " them: import a chat or add a memory about someone.")
MEMORY_KINDS = ALL_KINDS - {EPISODES}


@dataclass(frozen=True)
class _PageRead:
    """A person's page as read: its header and the days of its memories."""

    name: str
    page: PersonPage | None
    days: list[DayCount]
    merge: bool  # after a change: merged into the rows shown (else they are replaced)
    changes: Changes | None = None


class _Reads(QObject):
    """The screen's reads, one at a time in `Lane.BROWSE`; the newest wish of each kind
    is kept (list, then page, then a page of figures) and run when the lane is free."""

    problem = Signal(str, str, bool)

    def __init__(self, runner: JobRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._wishes: dict[str, tuple[str, Callable[[Reverie, JobContext], Any],
                                      Callable[[Any], None]]] = {}
        runner.busy_changed.connect(self._on_busy)

    def want(self, kind: str, name: str, work: Callable[[Reverie, JobContext], Any],
             done: Callable[[Any], None]) -> None:
        """Read `work` (replacing an earlier wish of `kind`), then call `done` with it."""
        self._wishes[kind] = (name, work, done)
        self.pump()

    def drop(self, kind: str) -> None:
        """Forget a wish of `kind` not yet started."""
        self._wishes.pop(kind, None)

    @property
    def idle(self) -> bool:
        """True when nothing is read or waits (tests wait for it)."""
        return not self._wishes and not self._runner.busy(Lane.BROWSE)

    def pump(self) -> None:
        """Start the most important wish if the lane is free."""
        if not self._wishes or self._runner.facade is None or self._runner.busy(Lane.BROWSE):
            return
        kind = next(k for k in ("list", "page", "rows") if k in self._wishes)
        name, work, done = self._wishes.pop(kind)
        job = self._runner.run(Lane.BROWSE, name, work, writes=False)
        job.succeeded.connect(done)
        job.failed.connect(lambda text, bug: self.problem.emit(
            "Could not read the people Reverie knows", text, bug))

    def _on_busy(self, lane: object, busy: bool) -> None:
        if lane is Lane.BROWSE and not busy:
            # Ours ended, or another view's read freed the lane. Later, not now: the
            # lane is freed before its job's `finished`, where that view starts its next
            # read; taking the lane first would leave that read waiting.
            QTimer.singleShot(0, self.pump)


class PeoplePane(QWidget):
    """The people list with its search box, and the selected person's page."""

    item_opened = Signal(str)  # a memory id, to open in the main timeline
    problem = Signal(str, str, bool)
    page_shown = Signal(str)  # a person's page was read and shown (tests wait for it)

    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("People pane")
        self._runner = runner
        self._stale = True  # the store changed (or opened) since the list was read
        self._person = ""  # whose page is shown (or asked for)
        self.reads = _Reads(runner, self)
        self.reads.problem.connect(self.problem)
        self.model = PeopleModel()
        self.model.wanted.connect(self._read_rows)
        self.timeline = TimelineModel()
        self.timeline.set_zoom(Zoom.MONTH)
        self.timeline.filter_stale.connect(self._on_page_stale)
        self.timeline.read_failed.connect(lambda text, bug: self.problem.emit(
            "Could not read this person's memories", text, bug))

        self.search = QLineEdit(self)
        self.search.setAccessibleName("Search people")
        self.search.setPlaceholderText("Search people…")
        self.search.setClearButtonEnabled(True)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.reload)
        self.search.textChanged.connect(lambda _text: self._search_timer.start())
        self.search.returnPressed.connect(self._to_list)
        self.list = _people_table(self.model, self)
        self.list.selectionModel().currentRowChanged.connect(self._on_current)
        self.count = QLabel(self)
        self.count.setAccessibleName("How many people")
        use_tone(self.count, "muted")
        self.header = QLabel(NO_PERSON, self)
        self.header.setAccessibleName("Person")
        self.header.setWordWrap(True)
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.header.linkActivated.connect(self.show_person)
        self.memories = _memory_tree(self.timeline, self)
        self.memories.clicked.connect(self._on_memory_clicked)
        self.memories.activated.connect(self._on_memory_clicked)
        self.page = QStackedWidget(self)
        self.page.addWidget(QWidget(self))  # nobody chosen: the header says so
        self.page.addWidget(self.memories)
        self._build_layout()

        runner.changed.connect(self.refresh)
        runner.opened.connect(self._on_opened)

    def _build_layout(self) -> None:
        left = QWidget(self)
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.search)
        column.addWidget(self.list, 1)
        column.addWidget(self.count)
        right = QWidget(self)
        page = QVBoxLayout(right)
        page.setContentsMargins(6, 0, 0, 0)
        page.addWidget(self.header)
        page.addWidget(self.page, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setAccessibleName("People and a person's page")
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 5)
        self.splitter.setSizes([400, 760])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

    # --- state ----------------------------------------------------------------------

    @property
    def person(self) -> str:
        """The person whose page is shown or being read ("" for nobody)."""
        return self._person

    @property
    def settled(self) -> bool:
        """True when no read runs or waits and the list is up to date."""
        return self.reads.idle and not self._search_timer.isActive() and (
            not self.model.awaiting)

    def take_focus(self) -> None:
        """Put the focus in the search box: type to find someone, Return to go to the
        list."""
        self.search.setFocus()
        self.search.selectAll()

    def _to_list(self) -> None:
        if self.model.rowCount():
            if not self.list.currentIndex().isValid():
                self._select_row(0)
            self.list.setFocus()

    # --- reading --------------------------------------------------------------------

    def _on_opened(self, facade: object) -> None:
        assert isinstance(facade, Reverie)
        self.timeline.set_facade(facade)
        self._stale = True
        if self.isVisible():
            self.reload()

    def refresh(self, changes: object = None) -> None:
        """The store changed: read the list and the page again (now if shown, else when
        shown next)."""
        self._stale = True
        if self._person and self.timeline.facade is not None:
            self.timeline.refresh(changes if isinstance(changes, Changes) else None)
        if self.isVisible():
            self.reload()

    def reload(self) -> None:
        """Read the people list again (for the search box's text)."""
        if self._runner.facade is None:
            return
        self._stale = False
        text = self.search.text()

        def work(facade: Reverie, _ctx: JobContext) -> list[str]:
            return facade.person_list(text)

        self.reads.drop("rows")  # figures for the old list
        self.reads.want("list", "people list", work, self._on_list)

    def _on_list(self, names: object) -> None:
        assert isinstance(names, list)
        keep = self._person
        self.model.set_names(names)
        self.count.setText(plural(len(names), "person", "people") if names else NO_PEOPLE)
        self.count.setWordWrap(True)
        if self.model.canFetchMore():
            self.model.fetchMore()  # the first page, whether or not a view asks
        if keep and keep not in names and not self.search.text().strip():
            self._show_nobody(gone(keep))
        elif keep:
            self.show_person(keep)  # its figures may have changed (a search keeps it)

    def _read_rows(self, names: list[str]) -> None:
        def work(facade: Reverie, _ctx: JobContext) -> object:
            return facade.person_rows(names)

        self.reads.want("rows", "people figures", work, self._on_rows)

    def _on_rows(self, rows: object) -> None:
        assert isinstance(rows, list)
        self.model.add_rows(rows)
        row = self.model.row_of(self._person) if self._person else -1
        if row >= 0 and self.list.currentIndex().row() != row:
            self._select_row(row)

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        name = current.data(NameRole) if current.isValid() else None
        if isinstance(name, str) and name != self._person:
            self.show_person(name)

    def show_person(self, name: str) -> None:
        """Read and show `name`'s page (and select them in the list when listed)."""
        self._person = name
        row = self.model.row_of(name)
        if row >= 0 and self.list.currentIndex().row() != row:
            self._select_row(row)
        self._read_page(name, merge=False)

    def _read_page(self, name: str, *, merge: bool, changes: Changes | None = None) -> None:
        flt = TimelineFilter(kinds=MEMORY_KINDS, about=name)

        def work(facade: Reverie, _ctx: JobContext) -> _PageRead:
            return _PageRead(name, facade.person_page(name),
                             facade.timeline_filtered_days(flt), merge, changes)

        self.reads.want("page", f"page of {name}", work, self._on_page)

    def _on_page_stale(self, changes: object) -> None:
        if self._person and self.isVisible():
            self._read_page(self._person, merge=True,
                            changes=changes if isinstance(changes, Changes) else None)

    def _on_page(self, read: object) -> None:
        assert isinstance(read, _PageRead)
        if read.name != self._person:
            return  # someone else was chosen meanwhile; their read is queued
        if read.page is None:
            self._show_nobody(gone(read.name))
            return
        self.header.setText(header_html(read.page))
        self.header.setAccessibleName(f"Person: {read.name}")
        flt = TimelineFilter(kinds=MEMORY_KINDS, about=read.name)
        if read.merge and self.timeline.filter == flt:
            self.timeline.merge_filtered(flt, read.days, read.changes)
        else:
            self.timeline.apply_filter(flt, read.days)
            self._open_newest()
        self.page.setCurrentWidget(self.memories)
        self.page_shown.emit(read.name)

    def _show_nobody(self, text: str = NO_PERSON) -> None:
        self._person = ""
        self.header.setText(html.escape(text))
        self.header.setAccessibleName("Person")
        self.page.setCurrentIndex(0)

    def _open_newest(self) -> None:
        """Open the newest months and their days."""
        for row in range(min(OPEN_PERIODS, self.timeline.rowCount())):
            top = self.timeline.index(row, 0)
            self.memories.expand(top)
            if top.data(KindRole) == PERIOD_KIND:
                for day in range(self.timeline.rowCount(top)):
                    self.memories.expand(self.timeline.index(day, 0, top))

    def _select_row(self, row: int) -> None:
        self.list.setCurrentIndex(self.model.index(row, PeopleColumn.NAME))

    def _on_memory_clicked(self, index: QModelIndex) -> None:
        item_id = index.data(ItemIdRole)
        if item_id and index.data(KindRole) != ItemKind.EPISODE.value:
            self.item_opened.emit(str(item_id))

    def showEvent(self, event: QShowEvent) -> None:
        """Shown: read what changed while hidden."""
        super().showEvent(event)
        if self._stale:
            self.reload()

    def clear(self) -> None:
        """Show nothing (the store is closing)."""
        self.model.set_names([])
        self.timeline.set_facade(None)
        self._show_nobody()


def gone(name: str) -> str:
    """What the page says once nothing shown mentions `name` any longer."""
    return f"Nothing about {name} is remembered any longer."


def people_action(parent: QWidget, tabs: QTabWidget, page: QWidget, pane: PeoplePane) -> QAction:
    """View → People (Ctrl+4): shows `page` (holding `pane`) in `tabs`, focus in the list."""
    action = QAction("&People", parent)
    action.setShortcut(QKeySequence("Ctrl+4"))
    action.setStatusTip("Everyone Reverie knows, and what it remembers about each of them")

    def show() -> None:
        tabs.setCurrentWidget(page)
        pane.take_focus()

    action.triggered.connect(show)
    return action


def header_html(page: PersonPage) -> str:
    """A person's header: name, figures, and the people seen with them as links."""
    person = page.person
    parts = [plural(person.memories, "memory", "memories")]
    if person.first is not None and person.last is not None:
        parts.append(f"first {short_date(person.first)}")
        parts.append(f"last {short_date(person.last)}")
    if page.turns:
        parts.append(plural(page.turns, "message") + " from them")
    lines = [f"<h2 style='margin: 0'>{html.escape(person.name)}</h2>",
             f"<p style='color: {tone('muted')}; margin: 2px 0'>{' · '.join(parts)}</p>"]
    if page.companions:
        links = ", ".join(
            f"<a href='{html.escape(name, quote=True)}'>{html.escape(name)}</a> ({count})"
            for name, count in page.companions)
        lines.append(f"<p style='margin: 2px 0'>Often with {links}</p>")
    return "".join(lines)


def _people_table(model: PeopleModel, parent: QWidget) -> QTableView:
    view = QTableView(parent)
    view.setAccessibleName("People")
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setShowGrid(False)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().hide()
    view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 10)
    header = view.horizontalHeader()
    header.setSectionResizeMode(PeopleColumn.NAME, QHeaderView.ResizeMode.Stretch)
    # Rows arrive a page at a time, so the columns are sized for what they can hold,
    # not for the rows read so far.
    metrics = view.fontMetrics()
    widths = {PeopleColumn.MEMORIES: metrics.horizontalAdvance("Memories") + 16,
              PeopleColumn.FIRST: metrics.horizontalAdvance("28 Sep 2026") + 18,
              PeopleColumn.LAST: metrics.horizontalAdvance("28 Sep 2026") + 18}
    for column, width in widths.items():
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
        view.setColumnWidth(column, width)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    header.setHighlightSections(False)
    return view


def _memory_tree(model: TimelineModel, parent: QWidget) -> QTreeView:
    view = DayTree(parent)
    view.setAccessibleName("Memories about them over time")
    view.setModel(model)
    OpenDayPager(view, model)  # a busy day's further pages, as the timeline reads them
    view.setHeaderHidden(True)
    view.setUniformRowHeights(True)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setToolTip("Click a memory to open it in the timeline")
    return view
