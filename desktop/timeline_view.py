"""The timeline pane: the lazily fetched tree of days, a hint while it is empty, and the
selected item in full below it (`DetailView`: a memory's fields, sources, chain and
history, with edit, pin, undo and forget).

`reveal` brings one item into view (reading pages of days and the day's items as
needed), so a citation in the chat opens where the memory sits in time.
"""

from __future__ import annotations

import html
from datetime import date

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, QPoint, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QStackedWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from reverie.core.service import Reverie
from reverie.core.store.timeline_filter import TimelineFilter
from reverie.core.types import DayCount, Excerpt, ItemKind
from reverie.desktop.detail_view import DetailView
from reverie.desktop.jobs import Job, JobContext, JobRunner, Lane
from reverie.desktop.labels import plural, short_date, speaker_name
from reverie.desktop.theme import tone
from reverie.desktop.timeline_browse import TimelineBrowser
from reverie.desktop.timeline_delegate import TimelineDelegate
from reverie.desktop.timeline_density import DensityStrip
from reverie.desktop.timeline_filters import FilterBar
from reverie.desktop.timeline_model import (
    ALL_DAYS,
    DAY_KIND,
    PERIOD_KIND,
    CountRole,
    DayRole,
    ItemIdRole,
    KindRole,
    TimelineModel,
)
from reverie.desktop.timeline_nodes import Zoom
from reverie.desktop.timeline_paging import DayTree, OpenDayPager

_EXCERPT_CHARS = 600
OPEN_MATCHING_DAYS = 5  # a filter opens this many of the newest matching days
HIDDEN_BY_FILTER = ("The filters now hide what you were reading here. Clear the search and"
                    " the filters to see it again.")


def excerpt_html(excerpts: list[Excerpt], *, quote: bool = True) -> str:
    """Where an item came from, as rich text: each source turn, quoted unless `quote`
    is False (a turn's own text is already shown)."""
    parts = []
    for excerpt in excerpts:
        text = excerpt.text if len(excerpt.text) <= _EXCERPT_CHARS else (
            excerpt.text[: _EXCERPT_CHARS - 1].rstrip() + "…")
        where = f"{excerpt.source} #{excerpt.ref} · {short_date(excerpt.time)}"
        parts.append(
            f"<p style='color: {tone('muted')}'>From {html.escape(where)}</p>"
            + (f"<blockquote><b>{html.escape(speaker_name(excerpt.speaker))}:</b> "
               f"{html.escape(text).replace(chr(10), '<br>')}</blockquote>" if quote else "")
        )
    return "".join(parts)

class TimelinePane(QWidget):
    """The timeline tree, a hint when it is empty, and the selected item's full text."""

    def __init__(
        self, model: TimelineModel, runner: JobRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setAccessibleName("Timeline pane")
        self.model = model
        self.runner = runner
        title = QLabel("Timeline", self)
        title.setObjectName("paneTitle")
        self.filters = FilterBar(self)
        self.browser = TimelineBrowser(runner, model, self)
        self.filters.changed.connect(self.browser.show)
        self.filters.jump_requested.connect(self.go_to_day)
        self.browser.applied.connect(self._on_filter_applied)
        self.browser.choices_read.connect(
            lambda found: self.filters.set_choices(found.people, found.sources))
        self.zoom = self._zoom_control()
        self.matches = QLabel(self)
        self.matches.setAccessibleName("Matches")
        self.matches.setStyleSheet("color: palette(placeholder-text)")
        self.no_match = QLabel("Nothing matches these filters.", self)
        self.no_match.setAccessibleName("No matches")
        self.no_match.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint = _hint_label()
        self.delegate = TimelineDelegate()
        self.view = _tree(model, self.delegate)
        self.pager = OpenDayPager(self.view, model)
        self.stack = QStackedWidget(self)
        for page in (self.view, self.hint, self.no_match):
            self.stack.addWidget(page)
        self.density = DensityStrip(self)
        self.detail = DetailView(runner, self)
        self._reading = ""  # the id of the turn or memory the detail shows from the tree
        self.detail.setMinimumHeight(self.fontMetrics().lineSpacing() * 8)
        self.detail.memory_opened.connect(self.open_memory)
        # The detail can be made taller at the expense of the list, and back.
        self.split = QSplitter(Qt.Orientation.Vertical, self)
        self.split.addWidget(_side_by_side(self.stack, self.density))
        self.split.addWidget(self.detail)
        self.split.setChildrenCollapsible(False)
        self.split.setStretchFactor(0, 3)
        self.split.setStretchFactor(1, 2)

        self._arrange(title)

        # Queued: whoever else hears the reset (Qt's model tester does) must hear it
        # before the first page's rows arrive.
        model.modelReset.connect(self._fetch_first_page, Qt.ConnectionType.QueuedConnection)
        for signal in (model.rowsInserted, model.rowsRemoved, model.loaded):
            signal.connect(self._update_hint)
        self.view.selectionModel().selectionChanged.connect(self._show_selected)
        self._follow_for_density()
        self._update_hint()

    def _arrange(self, title: QLabel) -> None:
        """The title, matches and zoom on one line, the filters, then the split."""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        heading = QHBoxLayout()
        heading.addWidget(title)
        heading.addStretch(1)
        heading.addWidget(self.matches)
        heading.addWidget(self.zoom)
        layout.addLayout(heading)
        layout.addWidget(self.filters)
        layout.addWidget(self.split, 1)

    def _zoom_control(self) -> QComboBox:
        """The zoom chooser, and Ctrl+- / Ctrl+= to step it while the pane has focus."""
        zoom = QComboBox(self)
        zoom.setAccessibleName("Zoom")
        zoom.setToolTip("How much time each top row spans (Ctrl+- and Ctrl+= zoom)")
        for level in Zoom:
            zoom.addItem(level.value, level.value)
        zoom.currentIndexChanged.connect(lambda _i: self.set_zoom(Zoom(zoom.currentData())))
        for keys, step in (("Ctrl+-", 1), ("Ctrl+=", -1)):
            action = QAction("Zoom out" if step > 0 else "Zoom in", self)
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(lambda _checked=False, step=step: self.step_zoom(step))
            self.addAction(action)
        return zoom

    @property
    def showing_hint(self) -> bool:
        """True when the timeline is empty and the import hint shows instead."""
        return self.stack.currentWidget() is self.hint

    def _fetch_first_page(self) -> None:
        # The view fetches as it scrolls, but not while the hint hides it.
        if self.model.canFetchMore(QModelIndex()):
            self.model.fetchMore(QModelIndex())
        self._update_hint()

    def _update_hint(self) -> None:
        filtered = not self.model.filter.is_default
        nothing = filtered and self.model.rowCount() == 0
        shown = self.no_match if nothing else self.hint if self.model.is_empty else self.view
        self.stack.setCurrentWidget(shown)
        self.detail.setVisible(shown is self.view)
        self.density.setVisible(shown is self.view)  # no strip beside a hint
        self.filters.setVisible(filtered or not self.model.is_empty)
        self.matches.setText(
            f"{plural(self.model.matches, 'match', 'matches')} on"
            f" {plural(self.model.rowCount(), 'day')}" if filtered else "")

    def _on_filter_applied(self, flt: object) -> None:
        """Open the newest matching days, so hits show in their place at once, with the
        searched words lit."""
        if isinstance(flt, TimelineFilter):
            self.delegate.set_query(flt.text)
            self.view.viewport().update()
        if isinstance(flt, TimelineFilter) and not flt.is_default:
            opened = 0
            for row in range(self.model.rowCount()):
                top = self.model.index(row, 0)
                self.view.expand(top)
                days = ([self.model.index(r, 0, top) for r in range(self.model.rowCount(top))]
                        if top.data(KindRole) == PERIOD_KIND else [top])
                for day in days[:OPEN_MATCHING_DAYS - opened]:
                    self.view.expand(day)
                    opened += 1
                if opened >= OPEN_MATCHING_DAYS:
                    break
        else:
            self.expand_newest()
        self._keep_reading()
        self._update_hint()

    def _keep_reading(self) -> None:
        """After a filter rebuilt the tree (which drops the selection without a word),
        select again what the detail shows, or say that the filter hides it."""
        item_id = self._reading
        if not item_id or self.view.currentIndex().isValid():
            return
        facade = self.model.facade
        day = facade.item_day(item_id) if facade is not None else None
        if day is None or not self.reveal(item_id, day):
            self._reading = ""
            self.detail.clear(HIDDEN_BY_FILTER)

    def step_zoom(self, step: int) -> None:
        """Zoom out (+1: days to weeks to months to years) or in (-1)."""
        levels = list(Zoom)
        at = levels.index(self.model.zoom) + step
        if 0 <= at < len(levels):
            self.set_zoom(levels[at])

    def go_to_day(self, day: date, *, focus: bool = True) -> bool:
        """Show the day nearest `day` (on or before it) at the top, expanded; the tree
        takes the focus unless `focus` is False (the density strip keeps it)."""
        facade = self.model.facade
        if facade is None:
            return False
        if self.model.filter.is_default:
            near = facade.timeline_day_near(day.isoformat())
        else:
            shown = self.model.loaded_days
            near = next((d for d in shown if d <= day.isoformat()), shown[-1] if shown else None)
        index = self.model.locate(near) if near is not None else QModelIndex()
        if not index.isValid():
            return False
        self._expand_above(index)
        self.view.expand(index)
        self.view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.view.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtTop)
        if focus:
            self.view.setFocus()
        self._show_view_range()
        return True

    def _show_selected(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        indexes = selected.indexes()
        if not indexes or indexes[0].data(KindRole) in (DAY_KIND, PERIOD_KIND):
            self._reading = ""
            self.detail.clear()
            return
        index = indexes[0]
        self._reading = str(index.data(ItemIdRole))
        if index.data(KindRole) != ItemKind.EPISODE.value:
            self.detail.show_memory(str(index.data(ItemIdRole)))
            return
        text = str(index.data(Qt.ItemDataRole.ToolTipRole))
        facade = self.model.facade
        if facade is not None:
            # Where it came from: an indexed read, done as it is selected.
            text += excerpt_html(facade.excerpts(str(index.data(ItemIdRole))), quote=False)
        self.detail.show_html(text)

    def open_memory(self, memory_id: str) -> bool:
        """Show `memory_id` where it sits in the timeline (a link in a detail)."""
        facade = self.model.facade
        day = facade.item_day(memory_id) if facade is not None else None
        if day is not None and self.reveal(memory_id, day):
            return True
        # Archived or superseded memories are not rows of the timeline: show it alone.
        return self.detail.show_memory(memory_id)

    def reveal(self, item_id: str, day: str) -> bool:
        """Select `item_id` in `day`, expanded and scrolled into view, and show it in
        the detail; False if the timeline does not hold it (forgotten, or archived)."""
        index = self.model.locate(day, item_id)
        if not index.isValid():
            return False
        self._expand_above(index)
        self.view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.view.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        return str(index.data(ItemIdRole)) == item_id

    def expand_newest(self) -> None:
        """Open the newest day (and its period) so the pane is not a bare list."""
        if self.model.rowCount() == 0 and self.model.canFetchMore(QModelIndex()):
            self.model.fetchMore(QModelIndex())
        newest = self.model.index(0, 0)
        while newest.isValid():
            self.view.expand(newest)
            if newest.data(KindRole) != PERIOD_KIND:
                break
            newest = self.model.index(0, 0, newest)

    def set_zoom(self, zoom: Zoom) -> None:
        """Show days, or weeks, months or years, keeping the selected day in view."""
        current = self.view.currentIndex()
        day = str(current.data(DayRole)) if current.isValid() else ""
        self.model.set_zoom(zoom)
        if self.zoom.currentData() != zoom.value:
            self.zoom.setCurrentIndex(self.zoom.findData(zoom.value))
        if day and self.model.filter.is_default and zoom is Zoom.DAY:
            self.go_to_day(date.fromisoformat(day))
        elif day:
            index = self.model.day_index(day)
            if index.isValid():
                self._expand_above(index)
                self.view.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        else:
            self.expand_newest()

    # --- the density strip --------------------------------------------------------

    def _follow_for_density(self) -> None:
        """Read the strip's days again after a reset (a store opened, a filter shown)
        and when a filtered timeline's days were read again; outline what the tree
        shows as it scrolls and opens; jump where the strip says."""
        self.density.day_chosen.connect(lambda day: self.go_to_day(day, focus=False))
        self.model.modelReset.connect(self.refresh_density, Qt.ConnectionType.QueuedConnection)
        self.model.loaded.connect(self._on_loaded)
        # Once per turn of the event loop: rows arrive one insert at a time in a refresh,
        # and asking the view where rows are makes it lay them out.
        self._range_timer = QTimer(self)
        self._range_timer.setSingleShot(True)
        self._range_timer.setInterval(0)
        self._range_timer.timeout.connect(self._show_view_range)
        for signal in (self.view.verticalScrollBar().valueChanged, self.view.expanded,
                       self.view.collapsed, self.model.rowsInserted, self.model.layoutChanged):
            signal.connect(lambda *_args: self._range_timer.start())

    def refresh_density(self) -> None:
        """Give the strip the days shown: under a filter the model's own (its read
        returned them all), else every day's count, read in a job. Whoever refreshes
        the model after a change calls this too (the main window does)."""
        if not self.model.filter.is_default:
            self.density.set_days(_model_days(self.model))
            self._show_view_range()
            return
        if self.model.facade is None or self.runner.facade is None:
            self.density.set_days([])
            return
        self.runner.run_when_free(Lane.STATUS, "timeline density", _all_days, writes=False,
                                  then=self._on_density_job, once=True)

    def _on_density_job(self, job: Job) -> None:
        job.succeeded.connect(self._on_density_read)

    def _on_density_read(self, days: object) -> None:
        if isinstance(days, list) and self.model.filter.is_default:
            self.density.set_days(days)
            self._show_view_range()

    def _on_loaded(self) -> None:
        if not self.model.filter.is_default:
            self.refresh_density()  # a filtered timeline's days were read again
        self._range_timer.start()

    def _show_view_range(self) -> None:
        """Outline on the strip the days from the top row to the bottom row shown."""
        viewport = self.view.viewport()
        top = self.view.indexAt(QPoint(4, 1))
        bottom = self.view.indexAt(QPoint(4, viewport.height() - 2))
        if not top.isValid():
            self.density.set_view_range(None, None)
            return
        if not bottom.isValid():  # the rows end above the bottom: the last one shown
            bottom = _last_visible(self.view)
        self.density.set_view_range(_day_of(top), _day_of(bottom))

    def _expand_above(self, index: QModelIndex) -> None:
        parent = index.parent()
        while parent.isValid():
            self.view.expand(parent)
            parent = parent.parent()


def _side_by_side(wide: QWidget, slim: QWidget) -> QWidget:
    """`wide` taking the room, `slim` at its right (the tree and its density strip)."""
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(4)
    row.addWidget(wide, 1)
    row.addWidget(slim)
    return box


def _hint_label() -> QLabel:
    """What an empty timeline shows: how to fill it."""
    hint = QLabel(
        "Nothing here yet.\n\nImport a chat file with\nFile → Import chat file… (Ctrl+O).")
    hint.setAccessibleName("Empty timeline")
    hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
    hint.setWordWrap(True)
    hint.setStyleSheet(
        "QLabel { background: palette(base); border: 1px solid palette(mid);"
        " color: palette(placeholder-text); padding: 16px; }"
    )
    return hint


def _tree(model: TimelineModel, delegate: TimelineDelegate) -> QTreeView:
    """The tree of days and their items, drawn by `delegate`."""
    view = DayTree()
    view.setAccessibleName("Timeline")
    view.setModel(model)
    delegate.setParent(view)
    view.setItemDelegate(delegate)
    view.setHeaderHidden(True)
    # Uniform: the view then never asks each row for its height (a summary card sits
    # beside its day's label, not under it: two-line days cost 3-5 ms more per scroll
    # step and expand at 100,000 memories).
    view.setUniformRowHeights(True)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    view.setExpandsOnDoubleClick(True)
    view.setStyleSheet("QTreeView::item { padding: 3px 2px; }")
    return view


def _all_days(facade: Reverie, _ctx: JobContext) -> list[DayCount]:
    """Every day's count (a few thousand rows of `day_counts` for ten years)."""
    return facade.timeline_days(0, ALL_DAYS)


def _model_days(model: TimelineModel) -> list[DayCount]:
    """The days a filtered model holds, from its rows (all known at once)."""
    days: list[DayCount] = []
    for row in range(model.rowCount()):
        top = model.index(row, 0)
        if top.data(KindRole) == PERIOD_KIND:
            days += [DayCount(str(day.data(DayRole)), int(day.data(CountRole)))
                     for day in (model.index(r, 0, top) for r in range(model.rowCount(top)))]
        else:
            days.append(DayCount(str(top.data(DayRole)), int(top.data(CountRole))))
    return days


def _day_of(index: QModelIndex) -> date:
    return date.fromisoformat(str(index.data(DayRole)))


def _last_visible(view: QTreeView) -> QModelIndex:
    """The last row the tree would show when scrolled to the end."""
    model = view.model()
    index = model.index(model.rowCount() - 1, 0)
    while index.isValid() and view.isExpanded(index) and model.rowCount(index):
        index = model.index(model.rowCount(index) - 1, 0, index)
    return index
