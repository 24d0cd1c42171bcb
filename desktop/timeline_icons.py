"""The small markers beside timeline rows: what kind of item each is, at any pixel
ratio (painted once per kind and ratio, then shared)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap, QPolygonF

from reverie.core.types import ItemKind, ItemSource

_icons: dict[str, QIcon] = {}
_source_icons: dict[tuple[str, str], QIcon] = {}


def kind_icon(kind: str) -> QIcon:
    """Blue dot: a turn; amber diamond: a memory; green diamond: a summary. Painted at
    1x and 2x so that high-DPI screens get a sharp marker."""
    icon = _icons.get(kind)
    if icon is None:
        icon = QIcon()
        for ratio in (1, 2):
            pixmap = _marker(kind, 16 * ratio)
            pixmap.setDevicePixelRatio(ratio)
            icon.addPixmap(pixmap)
        _icons[kind] = icon
    return icon


def _marker(kind: str, size: int = 16) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    middle = size / 2
    # A white rim keeps the marker visible on the selection highlight.
    painter.setPen(QPen(QColor("white"), size * 0.094))
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


def source_icon(source: str, ink: QColor) -> QIcon:
    """Where a row came from, drawn in `ink`: a speech bubble for Reverie's own chat, a
    tray taking in an arrow for an imported conversation, a page with a folded corner for
    a watched file; an empty icon for none. Painted at 1x and 2x, kept per colour (the
    theme may change)."""
    key = (source, ink.name())
    icon = _source_icons.get(key)
    if icon is None:
        icon = QIcon()
        if source != ItemSource.NONE.value:
            for ratio in (1, 2):
                pixmap = _glyph(source, ink, 14 * ratio)
                pixmap.setDevicePixelRatio(ratio)
                icon.addPixmap(pixmap)
        _source_icons[key] = icon
    return icon


def _glyph(source: str, ink: QColor, size: int) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(ink, max(1.0, size / 12))
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    s = size / 14  # drawn on a 14-unit grid
    path = QPainterPath()
    if source == ItemSource.CHAT.value:
        path.addRoundedRect(QRectF(1.5 * s, 2 * s, 11 * s, 7.5 * s), 2.5 * s, 2.5 * s)
        path.moveTo(4 * s, 9.5 * s)
        path.lineTo(3.5 * s, 12.5 * s)
        path.lineTo(7 * s, 9.5 * s)
    elif source == ItemSource.IMPORT.value:
        path.moveTo(1.5 * s, 8 * s)
        path.lineTo(1.5 * s, 12.5 * s)
        path.lineTo(12.5 * s, 12.5 * s)
        path.lineTo(12.5 * s, 8 * s)
        path.moveTo(7 * s, 1.5 * s)
        path.lineTo(7 * s, 9 * s)
        path.moveTo(4 * s, 6 * s)
        path.lineTo(7 * s, 9 * s)
        path.lineTo(10 * s, 6 * s)
    else:
        path.moveTo(3 * s, 1.5 * s)
        path.lineTo(8.5 * s, 1.5 * s)
        path.lineTo(11.5 * s, 4.5 * s)
        path.lineTo(11.5 * s, 12.5 * s)
        path.lineTo(3 * s, 12.5 * s)
        path.closeSubpath()
        path.moveTo(8.5 * s, 1.5 * s)
        path.lineTo(8.5 * s, 4.5 * s)
        path.lineTo(11.5 * s, 4.5 * s)
        path.moveTo(5 * s, 7.5 * s)
        path.lineTo(9.5 * s, 7.5 * s)
        path.moveTo(5 * s, 10 * s)
        path.lineTo(9.5 * s, 10 * s)
    painter.drawPath(path)
    painter.end()
    return pixmap
