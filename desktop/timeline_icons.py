"""The small markers beside timeline rows: what kind of item each is, at any pixel
ratio (painted once per kind and ratio, then shared)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap, QPolygonF

from reverie.core.types import ItemKind

_icons: dict[str, QIcon] = {}


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
