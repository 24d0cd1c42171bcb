"""How a timeline row is drawn: kind marker, text with the search's words highlighted,
people chips and a source glyph; and for a day or week with a summary, a card beside it.

The view paints only what is visible, so everything here works from the row's data
roles (read with its day, never per paint) and from the font metrics. The highlight
follows the timeline's text filter (`match_expression`): every query word matches a
whole word, the last one also as a prefix (typing "caf" lights "café" and "cafeteria").
The FTS index stems words (porter), and the row's words are stemmed by the same
tokenizer (`core.store.stemming.IndexStems`), so "walked" lights "walking" and "happy"
lights "happiness", as the index matched them.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from typing import NamedTuple

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from reverie.core.store.stemming import IndexStems
from reverie.core.store.timeline_filter import MAX_WORDS
from reverie.desktop.theme import color, tone
from reverie.desktop.timeline_icons import kind_icon, source_icon
from reverie.desktop.timeline_model import (
    DAY_KIND,
    PERIOD_KIND,
    KindRole,
    PeopleRole,
    SourceRole,
    SummaryRole,
)

ModelIndex = QModelIndex | QPersistentModelIndex
Span = tuple[int, int]  # [start, end) in a row's text

_WORD = re.compile(r"\w+", re.UNICODE)  # as timeline_filter reads the query
MAX_CHIPS = 2  # people named on a row; more read "+n"
CHIP_CHARS = 14  # a chip's name is elided beyond about this many characters
GAP = 6  # pixels between the parts of a row
MIN_CARD = 80  # pixels a summary card needs beside its day's label to be worth showing


def fold(word: str) -> str:
    """A word as the FTS tokenizer compares it: case and diacritics removed."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@functools.cache
def index_stems() -> IndexStems:
    """The stemmer the rows' highlights use (one, made on first use: rows are painted
    on the main thread only)."""
    return IndexStems()


def query_words(text: str) -> tuple[str, ...]:
    """The folded words of a search, as the filter's match reads them (at most
    `MAX_WORDS`); the last one is also matched as a prefix."""
    return tuple(fold(w) for w in _WORD.findall(text))[:MAX_WORDS]


def highlight_spans(text: str, words: Sequence[str]) -> list[Span]:
    """Where `text` holds a word of the search `words` (from `query_words`): whole
    words equal to one (or to its stem), or starting with the last; in text order."""
    if not words:
        return []
    found = [(match, fold(match.group())) for match in _WORD.finditer(text)]
    stem = index_stems().stems([*words, *(token for _match, token in found)])
    wanted = {stem[w] for w in words}
    last = words[-1]
    return [(match.start(), match.end()) for match, token in found
            if stem[token] in wanted or token.startswith(last)]


def segments(text: str, spans: Sequence[Span], visible: int) -> list[tuple[str, bool]]:
    """The first `visible` characters of `text` cut into pieces, each highlighted or
    not, in order (what is past `visible` is elided)."""
    pieces: list[tuple[str, bool]] = []
    at = 0
    for start, end in [*spans, (visible, visible)]:
        lit_from, lit_to = min(start, visible), min(end, visible)
        if lit_from > at:
            pieces.append((text[at:lit_from], False))
        if lit_to > max(lit_from, at):
            pieces.append((text[max(lit_from, at):lit_to], True))
        at = max(at, lit_to)
    return pieces


class _Row(NamedTuple):
    """What painting one row needs: where, in what style, the text colour."""

    painter: QPainter
    opt: QStyleOptionViewItem
    area: QRect  # the text's part of the row
    ink: QColor


class TimelineDelegate(QStyledItemDelegate):
    """Paints timeline rows: items with people and source, days and weeks with their
    summary cards, and the active search's words highlighted."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._words: tuple[str, ...] = ()

    def set_query(self, text: str) -> None:
        """Highlight the words of `text` ("" for none); the caller repaints the view."""
        self._words = query_words(text)

    @property
    def words(self) -> tuple[str, ...]:
        """The folded search words highlighted now."""
        return self._words

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: ModelIndex) -> None:
        """Draw the row: the style's background and selection, then our parts."""
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text, opt.text = opt.text, ""
        kind = index.data(KindRole)
        heading = kind in (DAY_KIND, PERIOD_KIND)
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        area = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, opt, widget)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        ink = opt.palette.color(QPalette.ColorRole.HighlightedText if selected
                                else QPalette.ColorRole.Text)
        row = _Row(painter, opt, area, ink)
        painter.save()
        painter.setClipRect(opt.rect)
        if heading:
            self._paint_heading(row, text, str(index.data(SummaryRole) or ""))
        else:
            self._paint_item(row, text, index)
        painter.restore()

    # --- items --------------------------------------------------------------------

    def _paint_item(self, row: _Row, text: str, index: ModelIndex) -> None:
        painter, opt, area, ink = row
        metrics = QFontMetrics(opt.font)
        right = area.right()
        source = str(index.data(SourceRole) or "")
        if source:
            glyph = metrics.height() - 2
            box = QRect(right - glyph, area.center().y() - glyph // 2, glyph, glyph)
            muted = ink if opt.state & QStyle.StateFlag.State_Selected else color("muted")
            source_icon(source, muted).paint(painter, box)
            right = box.left() - GAP
        people = index.data(PeopleRole) or ()
        right = self._paint_chips(painter, opt, area, right, tuple(people))
        text_rect = QRect(area.left(), area.top(), max(0, right - area.left()), area.height())
        self._paint_text(painter, opt.font, text_rect, text, ink)

    def _paint_chips(self, painter: QPainter, opt: QStyleOptionViewItem, area: QRect,
                     right: int, people: tuple[str, ...]) -> int:
        """People chips, right-aligned and ending at `right`; returns where they begin.
        They never take more than half the row: the text matters more."""
        if not people:
            return right
        font = QFont(opt.font)
        font.setPointSizeF(font.pointSizeF() * 0.88)
        metrics = QFontMetrics(font)
        names = [metrics.elidedText(name, Qt.TextElideMode.ElideRight,
                                    metrics.averageCharWidth() * CHIP_CHARS)
                 for name in people[:MAX_CHIPS]]
        if len(people) > MAX_CHIPS:
            names.append(f"+{len(people) - MAX_CHIPS}")
        height = metrics.height() + 2
        top = area.center().y() - height // 2
        painter.setFont(font)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for name in reversed(names):
            width = metrics.horizontalAdvance(name) + 10
            if right - width < area.left() + area.width() // 2:
                break
            chip = QRectF(right - width, top, width, height)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color("chip"))
            painter.drawRoundedRect(chip, height / 2, height / 2)
            painter.setPen(color("accent"))
            painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, name)
            right = int(chip.left()) - 4
        return right - GAP + 4

    def _paint_text(self, painter: QPainter, font: QFont, rect: QRect, text: str,
                    ink: QColor) -> None:
        """The row's text, elided, with the search's words on a highlight tone."""
        metrics = QFontMetrics(font)
        shown = metrics.elidedText(text, Qt.TextElideMode.ElideRight, rect.width())
        visible = len(shown) if shown == text else max(0, len(shown) - 1)  # before "…"
        painter.setFont(font)
        x = rect.left()
        baseline = rect.top() + (rect.height() + metrics.ascent() - metrics.descent()) // 2
        lit = QColor(tone("highlight-text"))
        for piece, highlighted in segments(text, highlight_spans(text, self._words), visible):
            width = metrics.horizontalAdvance(piece)
            if highlighted:
                painter.fillRect(QRect(x - 1, rect.center().y() - metrics.height() // 2,
                                       width + 2, metrics.height()), color("highlight"))
            painter.setPen(lit if highlighted else ink)
            painter.drawText(x, baseline, piece)
            x += width
        if shown != text:
            painter.setPen(ink)
            painter.drawText(x, baseline, shown[visible:])

    # --- days and weeks -----------------------------------------------------------

    def _paint_heading(self, row: _Row, text: str, summary: str) -> None:
        """The day's or week's label, and its summary as a card filling the rest of the
        line (one line: the tree keeps uniform row heights, which its layout at a
        million memories needs; the tooltip holds the whole summary)."""
        painter, opt, area, ink = row
        metrics = QFontMetrics(opt.font)
        label = metrics.elidedText(text, Qt.TextElideMode.ElideRight, area.width())
        painter.setFont(opt.font)
        painter.setPen(ink)
        painter.drawText(area, int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft),
                         label)
        left = area.left() + metrics.horizontalAdvance(label) + 2 * GAP
        if summary and area.right() - left >= MIN_CARD:
            height = metrics.height()
            self._paint_card(painter, opt, QRect(left, area.center().y() - height // 2,
                                                 area.right() - left, height), summary)

    def _paint_card(self, painter: QPainter, opt: QStyleOptionViewItem, rect: QRect,
                    summary: str) -> None:
        """The summary as a rounded card: a summary marker and its first words."""
        font = QFont(opt.font)
        font.setBold(False)
        metrics = QFontMetrics(font)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color("chip"))
        card = QRectF(rect).adjusted(0, 1, -2, -1)
        painter.drawRoundedRect(card, 5, 5)
        marker = metrics.height() - 2
        kind_icon("summary").paint(painter, QRect(rect.left() + 4, rect.center().y() - marker // 2,
                                                   marker, marker))
        inner = QRect(rect.left() + marker + 10, rect.top(), rect.width() - marker - 16,
                      rect.height())
        painter.setFont(font)
        painter.setPen(QColor(tone("answer")))
        flat = " ".join(summary.split())
        painter.drawText(inner, int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft),
                         metrics.elidedText(flat, Qt.TextElideMode.ElideRight, inner.width()))
