"""The Models screen: the language models and the embedder, the job each one does,
the memory each needs, and the re-embedding after the embedder changed.

Every read and change runs as a job (`desktop/models_work.py`); this module only
draws what they report. `Reembedding` runs the one long job of the screen, owned by
the main window so that it goes on (with its progress in the status bar) after the
dialog is closed.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from reverie.core.reembed import ReembedReport
from reverie.core.service import Reverie
from reverie.desktop import models_work
from reverie.desktop.jobs import Job, JobBusy, JobContext, JobRunner, Lane
from reverie.desktop.models_work import ModelsSnapshot
from reverie.desktop.theme import color, use_tone
from reverie.models.registry import EMBEDDER, MINILM_ID, ROLES, ModelEntry, ModelRegistry

ROLE_LABELS = {"chat": "&Chat", "extraction": "&Extraction",
               "consolidation": "C&onsolidation", EMBEDDER: "E&mbedder (search)"}
MINILM_LABEL = "all-MiniLM-L6-v2 int8 (bundled)"
_MEMORY_COLUMN = 4  # "fits in memory?", in the problem tone when a model does not


class Reembedding(QObject):
    """The re-embedding job: started when the embedder changes, resumed at start-up."""

    progressed = Signal(int, int, str)
    ended = Signal(str)  # a sentence saying how a re-embedding ended
    finished = Signal()  # any run of the job ended, even one that found nothing to do

    def __init__(self, runner: JobRunner, registry: ModelRegistry,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._registry = registry
        self._again = False

    @property
    def running(self) -> bool:
        """Whether a re-embedding job is running."""
        return self._runner.busy(Lane.EMBED)

    def start(self) -> None:
        """Run (or carry on) the re-embedding toward the chosen embedder. A run under
        way toward another model (the user changed their mind) stops, keeping its
        work, and the new one starts after it."""
        if self.running:
            self._again = True
            self.cancel()
            return
        job = self._runner.run(Lane.EMBED, "re-embed", models_work.reembed(self._registry))
        job.progressed.connect(self.progressed.emit)
        job.finished.connect(self._on_finished)
        job.succeeded.connect(self._on_done)
        job.cancelled.connect(self._on_cancelled)
        job.failed.connect(lambda message, _is_bug: self.ended.emit(
            f"Re-embedding stopped: {message}"))

    def cancel(self) -> None:
        """Stop the job; what was embedded is kept."""
        job = self._runner.job(Lane.EMBED)
        if job is not None:
            job.cancel()

    def _on_cancelled(self) -> None:
        if not self._again:  # not when it stopped only to start toward another model
            self.ended.emit("Re-embedding paused; it carries on at the next start.")

    def _on_finished(self) -> None:
        self.finished.emit()
        if self._again:
            self._again = False
            self.start()

    def _on_done(self, report: object) -> None:
        if isinstance(report, ReembedReport):
            self.ended.emit(f"Search now uses {report.model} ({report.total} items).")


class ModelsDialog(QDialog):
    """List, add and remove models; choose the model of each job."""

    def __init__(self, runner: JobRunner, registry: ModelRegistry, reembedding: Reembedding,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._registry = registry
        self._reembedding = reembedding
        self._filling = False
        self._entries: dict[str, ModelEntry] = {}
        self.setWindowTitle("Models")
        self.setAccessibleName("Models")
        self.resize(900, 560)
        self.table = self._build_table()
        self.add_button = QPushButton("&Add model file…", self)
        self.add_button.setAccessibleName("Add model file")
        self.add_button.clicked.connect(self.choose_file)
        self.remove_button = QPushButton("&Remove", self)
        self.remove_button.setAccessibleName("Remove model")
        self.remove_button.setEnabled(False)
        self.remove_button.clicked.connect(self.remove_selected)
        self.ram_label = QLabel(self)
        use_tone(self.ram_label, "muted")
        self.role_boxes = {role: self._role_box(role) for role in (*ROLES, EMBEDDER)}
        self.search_label = QLabel(self)
        self.search_label.setAccessibleName("Search")
        self.search_label.setWordWrap(True)
        self.progress = QProgressBar(self)
        self.progress.setAccessibleName("Re-embedding progress")
        self.cancel_button = QPushButton("&Pause", self)
        self.cancel_button.setAccessibleName("Pause re-embedding")
        self.cancel_button.clicked.connect(reembedding.cancel)
        self.message = QLabel(self)
        self.message.setAccessibleName("Message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._lay_out()
        reembedding.progressed.connect(self._on_reembed_progress)
        reembedding.ended.connect(self._on_reembed_ended)
        reembedding.finished.connect(lambda: self._show_reembedding(False))
        self._show_reembedding(reembedding.running)
        self.refresh()

    # --- construction -----------------------------------------------------------------

    def _build_table(self) -> QTreeWidget:
        table = QTreeWidget(self)
        table.setAccessibleName("Model list")
        table.setHeaderLabels(["Model", "Jobs", "Kind", "Size", "Memory"])
        table.setRootIsDecorated(False)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = table.header()
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        table.setColumnWidth(0, 230)
        table.setColumnWidth(1, 200)
        table.setColumnWidth(2, 120)
        table.setColumnWidth(3, 70)
        table.itemSelectionChanged.connect(self._on_selection)
        return table

    def _role_box(self, role: str) -> QComboBox:
        box = QComboBox(self)
        box.setAccessibleName(ROLE_LABELS[role].replace("&", ""))
        box.activated.connect(lambda _index: self._on_role_chosen(role))
        return box

    def _lay_out(self) -> None:
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(self.ram_label)
        roles = QFormLayout()
        for role, box in self.role_boxes.items():
            label = QLabel(ROLE_LABELS[role], self)
            label.setBuddy(box)
            roles.addRow(label, box)
        progress = QHBoxLayout()
        progress.addWidget(self.progress, 1)
        progress.addWidget(self.cancel_button)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addSpacing(6)
        title = QLabel("Which model does each job", self)
        title.setObjectName("paneTitle")
        layout.addWidget(title)
        layout.addLayout(roles)
        layout.addWidget(self.search_label)
        layout.addLayout(progress)
        layout.addWidget(self.message)
        layout.addWidget(close)

    # --- reading ----------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the models again (a job); the list and choices update when it ends."""
        self._runner.run_when_free(Lane.STATUS, "read models",
                                   models_work.read_models(self._registry), writes=False,
                                   then=self._on_read_started)

    def _on_read_started(self, job: Job) -> None:
        job.succeeded.connect(self._show)
        job.failed.connect(lambda message, _is_bug: self._say(message, problem=True))

    def _show(self, snapshot: object) -> None:
        assert isinstance(snapshot, ModelsSnapshot)
        self._filling = True
        self._entries = {row.entry.id: row.entry for row in snapshot.rows}
        self.table.clear()
        for row in snapshot.rows:
            entry = row.entry
            jobs = [role for role, chosen in snapshot.roles.items() if chosen == entry.id]
            if snapshot.embedder == entry.id:
                jobs.append(EMBEDDER)
            kind = f"{entry.architecture}, {entry.quantization}"
            item = QTreeWidgetItem([
                entry.name, ", ".join(jobs), kind, f"{entry.file_bytes / 2**20:,.0f} MiB",
                row.memory,
            ])
            item.setData(0, Qt.ItemDataRole.UserRole, entry.id)
            item.setToolTip(0, entry.path)
            item.setToolTip(_MEMORY_COLUMN, row.memory)
            if row.problem:
                item.setForeground(_MEMORY_COLUMN, color("problem"))
            self.table.addTopLevelItem(item)
        for role in ROLES:
            self._fill(self.role_boxes[role], [(r.entry.id, r.entry.name) for r in snapshot.rows
                                               if r.entry.can_chat], snapshot.roles[role])
        embedders = [(MINILM_ID, MINILM_LABEL)] + [(r.entry.id, r.entry.name)
                                                   for r in snapshot.rows]
        self._fill(self.role_boxes[EMBEDDER], embedders, snapshot.embedder)
        self.ram_label.setText(f"RAM available now: {snapshot.ram_available}")
        pending = f"; moving to {snapshot.pending}" if snapshot.pending else ""
        self.search_label.setText(
            f"Search uses <b>{html.escape(snapshot.searching_with)}</b>{html.escape(pending)}.")
        self._filling = False
        self._on_selection()

    @staticmethod
    def _fill(box: QComboBox, choices: list[tuple[str, str]], chosen: str) -> None:
        box.clear()
        for model_id, name in choices:
            box.addItem(name, model_id)
        box.setCurrentIndex(max(0, box.findData(chosen)))

    # --- changing ---------------------------------------------------------------------

    def choose_file(self) -> None:
        """Ask for a GGUF file and add it (its header is checked in a job)."""
        path, _filter = QFileDialog.getOpenFileName(
            self, "Add a model file", "", "GGUF models (*.gguf);;All files (*)")
        if path:
            self.add_file(path)

    def add_file(self, path: str) -> None:
        """Add `path`: refused with the reason when it is not a usable model."""
        self._say("Checking the file…")
        self._run("add model", models_work.add_model(self._registry, path),
                  lambda model_id: f"Added {model_id}.")

    def remove_selected(self) -> None:
        """Forget the selected added model (the bundled one cannot be removed)."""
        model_id = self._selected()
        if model_id is not None:
            self._run("remove model", models_work.remove_model(self._registry, model_id), str)

    def _on_role_chosen(self, role: str) -> None:
        if self._filling:
            return
        model_id = self.role_boxes[role].currentData()
        if not isinstance(model_id, str):
            return
        after = self._reembedding.start if role == EMBEDDER else None
        self._run("choose model", models_work.choose(self._registry, role, model_id), str,
                  after=after)

    def _run(self, name: str, work: Callable[[Reverie, JobContext], object],
             describe: Callable[[object], str], *,
             after: Callable[[], None] | None = None) -> None:
        try:
            job = self._runner.run(Lane.CARE, name, work, writes=False)
        except JobBusy:
            self._say("Another change is still being made; try again in a moment.",
                      problem=True)
            return

        def done(result: object) -> None:
            self._say(describe(result))
            self.refresh()
            if after is not None:
                after()
                self._show_reembedding(True)

        job.succeeded.connect(done)
        job.failed.connect(lambda message, _is_bug: self._say(message, problem=True))
        job.failed.connect(lambda _message, _is_bug: self.refresh())

    # --- drawing ----------------------------------------------------------------------

    def _selected(self) -> str | None:
        items = self.table.selectedItems()
        value = items[0].data(0, Qt.ItemDataRole.UserRole) if items else None
        return value if isinstance(value, str) else None

    def _on_selection(self) -> None:
        selected = self._selected()
        entry = self._entries.get(selected) if selected else None
        self.remove_button.setEnabled(entry is not None and not entry.bundled)

    def _on_reembed_progress(self, done: int, total: int, what: str) -> None:
        self._show_reembedding(True)
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"{what}: %p%")

    def _on_reembed_ended(self, sentence: str) -> None:
        self._say(sentence)
        self.refresh()

    def _show_reembedding(self, running: bool) -> None:
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        if running and self.progress.maximum() == 0:
            self.progress.setRange(0, 0)  # busy until the first report

    def changeEvent(self, event: QEvent) -> None:
        """Recolour the rows' problems when the palette (light or dark) changes."""
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            for number in range(self.table.topLevelItemCount()):
                item = self.table.topLevelItem(number)
                unmarked = Qt.BrushStyle.NoBrush
                if item is None or item.foreground(_MEMORY_COLUMN).style() == unmarked:
                    continue
                item.setForeground(_MEMORY_COLUMN, color("problem"))

    def _say(self, text: str, *, problem: bool = False) -> None:
        use_tone(self.message, "problem" if problem else "muted")
        self.message.setText(text)
