"""Render the SVG app icon to a PNG of a given size (for the .deb, .ico and .icns).

    python installer/render_icon.py resources/icons/reverie.svg 256 out.png
"""

from __future__ import annotations

import os
import sys


def main(svg: str, size: int, target: str) -> None:
    """Draw `svg` into a transparent `size` x `size` PNG at `target`."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication([])
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    QSvgRenderer(svg).render(painter)
    painter.end()
    if not image.save(target):
        raise SystemExit(f"cannot write {target}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
