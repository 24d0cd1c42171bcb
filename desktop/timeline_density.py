"""The density strip: how much happened each day over the whole timeline, to jump by.

A slim vertical strip beside the tree, newest at the top as the tree is. Its days come
from `day_counts` (read in a job by the pane) or, under a filter, from the days the
filter's read already returned. Days are gathered into one bin per pixel row when the
days or the height change (numpy, a few thousand days for ten years at any number of
memories), so a paint draws at most one line per pixel row and never looks at a day.

Hovering says the date and how many items; a click, or the arrow keys while it has the
focus, asks the timeline to go there (`day_chosen`). The part of the range the tree
shows is outlined.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
from PySide6.QtCore import QEvent, QLineF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import QToolTip, QWidget

from reverie.core.types import DayCount
from reverie.desktop.labels import plural, short_date
from reverie.desktop.theme import color

STRIP_WIDTH = 26
PAGE_STEP = 0.1  # Page Up/Down move a tenth of the strip


class DensityStrip(QWidget):
    """Items per day over the whole range, painted as one bar per pixel row."""

    day_chosen = Signal(object)  # datetime.date: go there

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Activity by day")
        self.setToolTip("")  # tooltips come from event(): per position
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setFixedWidth(STRIP_WIDTH)
        self.setMinimumHeight(40)
        self._ordinals = np.zeros(0, dtype=np.int64)  # newest first
        self._counts = np.zeros(0, dtype=np.int64)
        self._newest = 0
        self._span = 1  # days from the oldest to the newest, both counted
        self._bins = np.zeros(0, dtype=np.int64)  # items per pixel row
        self._first_day = np.zeros(0, dtype=np.int64)  # per row: its newest day, or 0
        self._lines: list[QLineF] = []
        self._view: tuple[int, int] | None = None  # pixel rows the tree shows
        self._cursor: int | None = None  # the keyboard's pixel row

    # --- data ---------------------------------------------------------------------

    def set_days(self, days: Sequence[DayCount]) -> None:
        """Show `days` (newest first, as the store lists them)."""
        self._ordinals = np.fromiter((date.fromisoformat(d.day).toordinal() for d in days),
                                     dtype=np.int64, count=len(days))
        self._counts = np.fromiter((d.count for d in days), dtype=np.int64, count=len(days))
        if len(days):
            self._newest = int(self._ordinals.max())
            self._span = self._newest - int(self._ordinals.min()) + 1
        self._cursor = None
        self.setAccessibleDescription(_overview(days))
        self._rebin()

    @property
    def bins(self) -> list[int]:
        """Items in each pixel row, top (newest) to bottom."""
        return [int(n) for n in self._bins]

    @property
    def total(self) -> int:
        """Items over the whole range."""
        return int(self._counts.sum())

    def row_of(self, day: date) -> int:
        """The pixel row where `day` is drawn (clamped to the strip)."""
        rows = max(1, self.height())
        at = (self._newest - day.toordinal()) * rows // self._span
        return int(min(max(at, 0), rows - 1))

    def day_at(self, y: int) -> date | None:
        """The day to go to from pixel row `y`: the newest day drawn there, or else the
        date the row stands for (the timeline goes to the nearest day before it)."""
        if not len(self._ordinals):
            return None
        row = min(max(y, 0), len(self._bins) - 1)
        if self._first_day[row]:
            return date.fromordinal(int(self._first_day[row]))
        rows = len(self._bins)
        return date.fromordinal(self._newest - (row * self._span) // rows)

    def describe(self, y: int) -> str:
        """What pixel row `y` stands for: its date (or dates) and how many items."""
        if not len(self._ordinals):
            return "Nothing yet"
        rows = len(self._bins)
        row = min(max(y, 0), rows - 1)
        newest = self._newest - -(-row * self._span // rows)  # ceil: first day in the row
        oldest = self._newest - (-(-(row + 1) * self._span // rows) - 1)
        count = plural(int(self._bins[row]), "item")
        if oldest >= newest:
            return f"{short_date(date.fromordinal(newest))}: {count}"
        return (f"{short_date(date.fromordinal(oldest))} – "
                f"{short_date(date.fromordinal(newest))}: {count}")

    @property
    def shown_rows(self) -> tuple[int, int] | None:
        """The pixel rows (top, bottom) outlined as what the tree shows."""
        return self._view

    def set_view_range(self, newest: date | None, oldest: date | None) -> None:
        """Outline the days the tree shows (None: nothing shown)."""
        view = None if newest is None or oldest is None else (
            self.row_of(newest), self.row_of(oldest))
        if view != self._view:
            self._view = view
            self.update()

    def _rebin(self) -> None:
        """Gather the days into pixel rows: on new days or a new height, not per paint."""
        rows = max(1, self.height())
        if not len(self._ordinals):
            self._bins = np.zeros(rows, dtype=np.int64)
            self._first_day = np.zeros(rows, dtype=np.int64)
        else:
            at = np.minimum((self._newest - self._ordinals) * rows // self._span, rows - 1)
            self._bins = np.bincount(at, weights=self._counts, minlength=rows).astype(np.int64)
            self._first_day = np.zeros(rows, dtype=np.int64)
            order = np.argsort(-self._ordinals, kind="stable")  # newest first
            first_rows, first_at = np.unique(at[order], return_index=True)
            self._first_day[first_rows] = self._ordinals[order][first_at]
        self._lines = self._bar_lines()
        self.update()

    def _bar_lines(self) -> list[QLineF]:
        """One line per pixel row with items, as long as the square root of its share of
        the busiest row (so a quiet day still shows beside a busy one)."""
        peak = int(self._bins.max()) if len(self._bins) else 0
        if peak <= 0:
            return []
        width = self.width() - 4
        lengths = np.maximum(1.5, np.sqrt(self._bins / peak) * width)
        return [QLineF(2, y + 0.5, 2 + float(lengths[y]), y + 0.5)
                for y in np.flatnonzero(self._bins)]

    # --- drawing and input --------------------------------------------------------

    def sizeHint(self) -> QSize:
        """Slim and as tall as it is given."""
        return QSize(STRIP_WIDTH, 200)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """A new height means new pixel rows."""
        super().resizeEvent(event)
        self._rebin()

    def paintEvent(self, _event: QPaintEvent) -> None:
        """The bars, the outline of what the tree shows, and the keyboard's row."""
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        painter.setPen(QPen(color("accent"), 1))
        painter.drawLines(self._lines)
        if self._view is not None:
            top, bottom = self._view
            shade = QColor(palette.color(QPalette.ColorRole.Highlight))
            shade.setAlpha(60)
            painter.fillRect(QRectF(0, top, self.width(), bottom - top + 1), shade)
            painter.setPen(QPen(palette.color(QPalette.ColorRole.Highlight), 1))
            painter.drawRect(QRectF(0.5, top + 0.5, self.width() - 1, max(1, bottom - top)))
        if self._cursor is not None and self.hasFocus():
            painter.setPen(QPen(palette.color(QPalette.ColorRole.Text), 2))
            painter.drawLine(QLineF(0, self._cursor + 0.5, self.width(), self._cursor + 0.5))
        painter.setPen(palette.color(QPalette.ColorRole.Mid))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        painter.end()

    def event(self, event: QEvent) -> bool:
        """Tooltips say the date and count under the pointer."""
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            QToolTip.showText(event.globalPos(), self.describe(event.pos().y()), self)
            return True
        return super().event(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """A click goes to the day under the pointer."""
        if event.button() == Qt.MouseButton.LeftButton:
            self._choose(int(event.position().y()))
            return
        super().mousePressEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Up/Down: the next busier row newer/older; Page Up/Down: a tenth of the strip;
        Home/End: the newest/oldest; Enter: go to the row again."""
        rows = len(self._bins)
        at = self._cursor if self._cursor is not None else (
            self._view[0] if self._view is not None else 0)
        key = Qt.Key(event.key())
        step = max(1, int(rows * PAGE_STEP))
        moves = {Qt.Key.Key_Up: self._next_busy(at, -1), Qt.Key.Key_Down: self._next_busy(at, 1),
                 Qt.Key.Key_PageUp: at - step, Qt.Key.Key_PageDown: at + step,
                 Qt.Key.Key_Home: 0, Qt.Key.Key_End: rows - 1,
                 Qt.Key.Key_Return: at, Qt.Key.Key_Enter: at, Qt.Key.Key_Space: at}
        if key not in moves or not len(self._ordinals):
            super().keyPressEvent(event)
            return
        self._choose(moves[key])

    def _next_busy(self, row: int, direction: int) -> int:
        """The nearest row past `row` in `direction` that holds items (else `row`)."""
        ahead = self._bins[row + 1:] if direction > 0 else self._bins[:max(row, 0)][::-1]
        found = np.flatnonzero(ahead)
        if not len(found):
            return row
        return row + direction * (int(found[0]) + 1)

    def _choose(self, y: int) -> None:
        day = self.day_at(y)
        if day is None:
            return
        self._cursor = self.row_of(day)
        self.setAccessibleDescription(self.describe(self._cursor))
        self.update()
        self.day_chosen.emit(day)


def _overview(days: Sequence[DayCount]) -> str:
    """What the whole strip holds, for screen readers."""
    if not days:
        return "Nothing yet"
    total = sum(day.count for day in days)
    oldest, newest = date.fromisoformat(days[-1].day), date.fromisoformat(days[0].day)
    return (f"{plural(total, 'item')} on {plural(len(days), 'day')},"
            f" {short_date(oldest)} to {short_date(newest)}")
