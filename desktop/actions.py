"""Actions that belong to one pane: their shortcut works only while focus is inside it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget


def pane_action(
    owner: QWidget, text: str, shortcut: str | QKeySequence.StandardKey, tip: str
) -> QAction:
    """An action of `owner` whose shortcut is active while the focus is inside it.

    Delete, Ctrl+Z and Ctrl+P mean different things in different panes, so none of
    them may act on a list the user is not looking at. The tooltip shows the keys.
    """
    action = QAction(text, owner)
    action.setIconText(text.replace("&", ""))  # buttons keep the "…" of a dialog
    action.setShortcut(QKeySequence(shortcut))
    action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    action.setToolTip(f"{tip} ({keys})")
    action.setStatusTip(tip)
    owner.addAction(action)
    return action
