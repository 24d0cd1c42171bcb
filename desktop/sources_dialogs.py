"""The two dialogs of the Sources screen: confirm a removal, and list skipped files.

Both only show what they are given and say what the user chose; the pane runs the
facade calls (the forget plan, the list of problems) as jobs and feeds the results in.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from reverie.core.capture.watching import SourceStatus
from reverie.desktop.sources_model import display_path
from reverie.desktop.theme import use_tone


class RemoveDialog(QDialog):
    """Stop following a source; optionally forget what was read from it.

    Ticking "Also forget…" emits `plan_wanted` once; the pane answers with `show_plan`
    (or `plan_failed`). Remove stays disabled until the plan is shown, so nobody
    confirms a forget without having been told what it removes.
    """

    plan_wanted = Signal()

    def __init__(self, status: SourceStatus, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.status = status
        self.setWindowTitle("Remove source")
        self.setAccessibleName("Remove source")
        self.setMinimumWidth(460)
        shown = display_path(status.source.path)
        question = QLabel(
            f"Stop following <b>{html.escape(shown)}</b>?<br><br>What Reverie already read from"
            " it stays in your memories unless you also forget it.", self)
        question.setWordWrap(True)
        question.setAccessibleName("Question")
        self.forget_box = QCheckBox("Also &forget everything read from it", self)
        self.forget_box.setAccessibleName("Also forget everything read from it")
        self.plan_label = QLabel(self)
        self.plan_label.setAccessibleName("What will be forgotten")
        self.plan_label.setWordWrap(True)
        self.plan_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.plan_label.hide()

        self.buttons = QDialogButtonBox(self)
        self.remove_button = QPushButton("&Remove", self)
        self.remove_button.setAccessibleName("Remove")
        self.buttons.addButton(self.remove_button, QDialogButtonBox.ButtonRole.AcceptRole)
        cancel = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.setDefault(True)  # Enter must not destroy anything by accident
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(question)
        layout.addSpacing(4)
        layout.addWidget(self.forget_box)
        layout.addWidget(self.plan_label)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

        self._plan_asked = False
        self._plan_text: str | None = None
        self._waiting = False
        self.forget_box.toggled.connect(self._on_forget_toggled)

    @property
    def forget(self) -> bool:
        """True when the user asked to forget what was read from the source."""
        return self.forget_box.isChecked()

    def show_plan(self, text: str) -> None:
        """Show what forgetting removes; Remove may now be pressed."""
        self._waiting = False
        self._plan_text = text
        use_tone(self.plan_label, "problem")
        self.plan_label.setText(text)
        self._update()

    def plan_failed(self, message: str) -> None:
        """Say that the plan could not be made; forgetting stays impossible."""
        self._waiting = False
        use_tone(self.plan_label, "problem")
        self.plan_label.setText(f"Reverie could not work out what would be forgotten: {message}")
        self._update()

    def _on_forget_toggled(self, checked: bool) -> None:
        if checked and not self._plan_asked:
            self._plan_asked = True
            self._waiting = True
            use_tone(self.plan_label, "muted")
            self.plan_label.setText("Working out what would be forgotten…")
            self.plan_wanted.emit()
        self._update()

    def _update(self) -> None:
        forget = self.forget
        self.plan_label.setVisible(forget)
        self.remove_button.setText("&Remove and forget" if forget else "&Remove")
        # While the plan job runs the pane's lane is busy: a Remove now could not start.
        self.remove_button.setEnabled(
            not self._waiting and (not forget or self._plan_text is not None)
        )
        self.adjustSize()


class SkippedDialog(QDialog):
    """The files of one source that Reverie skipped, each with its reason."""

    def __init__(
        self, status: SourceStatus, problems: list[tuple[str, str]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Skipped files")
        self.setAccessibleName("Skipped files")
        self.resize(720, 380)
        root = status.source.path
        count = len(problems)
        heading = QLabel(
            f"{count} file{'' if count == 1 else 's'} of {display_path(root)} could not be"
            " read. Reverie tries each again when it changes." if problems
            else f"Reverie read every file of {display_path(root)}.", self)
        heading.setWordWrap(True)
        self.files = QTreeWidget(self)
        self.files.setAccessibleName("Skipped files and reasons")
        self.files.setColumnCount(2)
        self.files.setHeaderLabels(["File", "Reason"])
        self.files.setRootIsDecorated(False)
        self.files.setUniformRowHeights(True)
        self.files.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.files.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.files.header().setStretchLastSection(True)
        self.files.setColumnWidth(0, 260)
        for path, reason in problems:
            item = QTreeWidgetItem([_relative(Path(path), root, status.source.is_folder),
                                    reason])
            item.setToolTip(0, path)
            item.setToolTip(1, reason)
            self.files.addTopLevelItem(item)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.files, 1)
        layout.addWidget(buttons)

    def rows(self) -> list[tuple[str, str]]:
        """The (file, reason) pairs shown, in order."""
        items = (self.files.topLevelItem(row) for row in range(self.files.topLevelItemCount()))
        return [(item.text(0), item.text(1)) for item in items if item is not None]


def _relative(path: Path, root: Path, is_folder: bool) -> str:
    if is_folder:
        try:
            return str(path.relative_to(root))
        except ValueError:
            pass
    return path.name
