"""The Qt binding keeps Python's reference counts straight.

PySide6 6.12.0 returned None from every void method without taking a reference: on
Python 3.11 (where None is not immortal) each such call took one of None's references
away, and after enough of them (a few seconds of the timeline's painting) the interpreter
aborted with "deallocating None". pyproject.toml keeps PySide6 below 6.12; this test
fails on any binding that does it again.
"""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QObject
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication

CALLS = 10_000


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from 3.12")
def test_void_methods_leave_none_its_references(qapp: QApplication) -> None:
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    owner = QObject()
    try:
        before = sys.getrefcount(None)
        for _ in range(CALLS):
            painter.save()
            painter.setPen(QColor("red"))
            painter.restore()
            owner.setObjectName("probe")
        lost = before - sys.getrefcount(None)
    finally:
        painter.end()
    assert lost < CALLS // 100, f"{lost} references to None lost in {4 * CALLS} calls"
