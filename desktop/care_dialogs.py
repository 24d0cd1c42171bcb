"""The Memory care screen's dialog: what consolidating now would do (a dry run)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QVBoxLayout,
    QWidget,
)

from reverie.desktop.labels import plural


class PreviewDialog(QDialog):
    """The planned changes of a dry run, one per line; nothing was changed."""

    def __init__(self, lines: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Consolidation preview")
        self.setAccessibleName("Consolidation preview")
        if lines:
            text = (f"Consolidating now would make {plural(len(lines), 'change')}."
                    " Nothing has been changed yet.")
        else:
            text = "Consolidating now would change nothing: your memories are in order."
        self.summary = QLabel(text, self)
        self.summary.setAccessibleName("Preview summary")
        self.summary.setWordWrap(True)
        self.list = QListWidget(self)
        self.list.setAccessibleName("Planned changes")
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.addItems(lines)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        if lines:
            layout.addWidget(self.list, 1)
            self.resize(720, 420)
        else:  # a sentence and Close: no room to spare
            self.list.hide()
            self.resize(460, 110)
        layout.addWidget(buttons)

    def lines(self) -> list[str]:
        """The planned changes shown, in order."""
        return [self.list.item(row).text() for row in range(self.list.count())]
