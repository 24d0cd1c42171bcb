"""The timeline pane: the lazily fetched tree of days, a hint while it is empty, and the
selected item's full text with the source it came from.

`reveal` brings one item into view (reading pages of days and the day's items as
needed), so a citation in the chat opens where the memory sits in time.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QScrollArea,
    QStackedWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from reverie.core.types import Excerpt
from reverie.desktop.labels import short_date, speaker_name
from reverie.desktop.timeline_model import DAY_KIND, ItemIdRole, KindRole, TimelineModel

_EXCERPT_CHARS = 600


def excerpt_html(excerpts: list[Excerpt], *, quote: bool = True) -> str:
    """Where an item came from, as rich text: each source turn, quoted unless `quote`
    is False (a turn's own text is already shown)."""
    parts = []
    for excerpt in excerpts:
        text = excerpt.text if len(excerpt.text) <= _EXCERPT_CHARS else (
            excerpt.text[: _EXCERPT_CHARS - 1].rstrip() + "…")
        where = f"{excerpt.source} #{excerpt.ref} · {short_date(excerpt.time)}"
        parts.append(
            f"<p style='color:#6b6b6b'>From {html.escape(where)}</p>"
            + (f"<blockquote><b>{html.escape(speaker_name(excerpt.speaker))}:</b> "
               f"{html.escape(text).replace(chr(10), '<br>')}</blockquote>" if quote else "")
        )
    return "".join(parts)

SELECT_HINT = "Select a turn or memory to read it in full here."


class TimelinePane(QWidget):
    """The timeline tree, a hint when it is empty, and the selected item's full text."""

    def __init__(self, model: TimelineModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Timeline pane")
        self.model = model
        title = QLabel("Timeline", self)
        title.setObjectName("paneTitle")
        self.hint = QLabel(
            "Nothing here yet.\n\nImport a chat file with\nFile → Import chat file… (Ctrl+O).",
            self,
        )
        self.hint.setAccessibleName("Empty timeline")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet(
            "QLabel { background: palette(base); border: 1px solid palette(mid);"
            " color: #6b6b6b; padding: 16px; }"
        )
        self.view = QTreeView(self)
        self.view.setAccessibleName("Timeline")
        self.view.setModel(model)
        self.view.setHeaderHidden(True)
        self.view.setUniformRowHeights(True)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.setExpandsOnDoubleClick(True)
        self.view.setStyleSheet("QTreeView::item { padding: 3px 2px; }")
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.hint)
        self.detail = QLabel(self)
        self.detail.setAccessibleName("Selected item")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.detail.setStyleSheet("color: #6b6b6b")
        self.detail.setText(SELECT_HINT)
        # A memory with its source turns can be long: the detail scrolls on its own.
        self.detail_area = QScrollArea(self)
        self.detail_area.setWidget(self.detail)
        self.detail_area.setWidgetResizable(True)
        self.detail_area.setFrameShape(QScrollArea.Shape.NoFrame)
        self.detail_area.setMinimumHeight(self.fontMetrics().lineSpacing() * 4)
        self.detail_area.setMaximumHeight(self.fontMetrics().lineSpacing() * 14)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(title)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.detail_area)

        model.modelReset.connect(self._fetch_first_page)
        for signal in (model.rowsInserted, model.rowsRemoved, model.loaded):
            signal.connect(self._update_hint)
        self.view.selectionModel().selectionChanged.connect(self._show_selected)
        self._update_hint()

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
        self.stack.setCurrentWidget(self.hint if self.model.is_empty else self.view)
        self.detail_area.setVisible(not self.model.is_empty)

    def _show_selected(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        indexes = selected.indexes()
        if not indexes or indexes[0].data(KindRole) == DAY_KIND:
            self.detail.setStyleSheet("color: #6b6b6b")
            self.detail.setText(SELECT_HINT)
            return
        index = indexes[0]
        text = str(index.data(Qt.ItemDataRole.ToolTipRole))
        facade = self.model.facade
        if facade is not None:
            # Where it came from: a couple of indexed reads, done as it is selected.
            text += excerpt_html(facade.excerpts(str(index.data(ItemIdRole))),
                                 quote=index.data(KindRole) != "episode")
        self.detail.setStyleSheet("")
        self.detail.setText(text)

    def reveal(self, item_id: str, day: str) -> bool:
        """Select `item_id` in `day`, expanded and scrolled into view, and show it in
        the detail; False if the timeline does not hold it (forgotten, or archived)."""
        index = self.model.locate(day, item_id)
        if not index.isValid():
            return False
        if index.parent().isValid():
            self.view.expand(index.parent())
        self.view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.view.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        return str(index.data(ItemIdRole)) == item_id

    def expand_newest(self) -> None:
        """Expand the newest day (fetching its items) so the pane is not a bare list."""
        if self.model.rowCount() == 0 and self.model.canFetchMore(QModelIndex()):
            self.model.fetchMore(QModelIndex())
        if self.model.rowCount() > 0:
            self.view.expand(self.model.index(0, 0))
