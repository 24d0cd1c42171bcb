"""The first-run wizard's model check: which model does each job, and whether its file
is present and intact.

`check_setup_models` reads the model registry (`models.json`: the bundled model unless
the user chose others) and verifies each bundled file against its SHA-256 with the
models layer's own check (`BundledFile.verify`, remembered for the process, so the
opening that follows does not hash the files again). It loads no model: loading and a
real generation are `reverie doctor`'s job. `ModelCheckRunner` runs it on a worker
thread, and `ModelsPage` shows its progress and result.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from reverie.core.errors import EnvironmentProblem, ModelError
from reverie.desktop.jobs import BUG_APOLOGY
from reverie.desktop.theme import use_tone
from reverie.models.bundled import BUNDLED_EMBEDDER, BUNDLED_LLM, BUNDLED_TOKENIZER
from reverie.models.registry import ROLES, ModelRegistry

log = logging.getLogger("reverie.desktop.first_run")

Progress = Callable[[int, int, str], None]

LATER_FIX = ("Once Reverie is open, Settings \N{RIGHTWARDS ARROW} Models… lets you choose "
             "another model file for this job.")
BLOCKING_FIX = "Reverie cannot create your store until this is fixed; then press Check again."
MINILM = "all-MiniLM-L6-v2 int8 (bundled)"
ALL_READY = ("These small models work on any computer. On a faster one you can add a "
             "bigger model later (Settings \N{RIGHTWARDS ARROW} Models…).")


@dataclass(frozen=True)
class ModelRow:
    """One model Reverie will use, and what the check found."""

    jobs: str
    """The jobs it does, in words ("Chat, extraction, consolidation")."""
    model: str
    state: str
    """"verified (SHA-256)", "found", or "problem"."""
    problem: str | None = None
    """What is wrong and how to fix it; None when the model is ready."""
    blocking: bool = False
    """True when the store cannot be opened with this problem (a bundled model's)."""


def check_setup_models(
    registry: ModelRegistry, progress: Progress, cancel: threading.Event
) -> list[ModelRow]:
    """Check the model of every job; never raises for a missing or damaged file.

    Bundled files are hashed (SHA-256); a user's own file is checked to be where it
    was added and unchanged (it is loaded, and fully checked, at its first use).
    """
    try:
        roles = registry.roles()
    except ModelError as error:  # the bundled language model's file cannot be read
        return [ModelRow(_jobs(ROLES), "SmolLM2 135M Instruct (bundled)", "problem",
                         f"{error}\n{BLOCKING_FIX}", blocking=True)]
    by_model: dict[str, list[str]] = {}
    for role in ROLES:
        by_model.setdefault(roles[role], []).append(role)
    embedder = registry.embedder()
    total = len(by_model) + (2 if embedder is None else 1)
    rows: list[ModelRow] = []
    for done, (model_id, jobs) in enumerate(by_model.items()):
        if cancel.is_set():
            return rows
        entry = registry.get(model_id)
        progress(done, total, f"Checking {entry.name}…")
        rows.append(_row(_jobs(jobs), entry.name, entry.bundled, entry.problem))
    progress(len(by_model), total, "Checking the search model…")
    if embedder is not None:
        rows.append(_row("Search (embedder)", embedder.name, False, embedder.problem))
    elif not cancel.is_set():
        problem = _verify_bundled(BUNDLED_EMBEDDER.verify)
        progress(total - 1, total, "Checking the search model's tokenizer…")
        problem = problem or _verify_bundled(BUNDLED_TOKENIZER.verify)
        rows.append(_bundled_row("Search (embedder)", MINILM, problem))
    progress(total, total, "Done")
    return rows


def _row(jobs: str, name: str, bundled: bool, own_problem: str | None) -> ModelRow:
    if bundled:
        return _bundled_row(jobs, name, _verify_bundled(BUNDLED_LLM.verify))
    if own_problem is not None:
        return ModelRow(jobs, name, "problem", f"This model's {own_problem}.\n{LATER_FIX}")
    return ModelRow(jobs, name, "found (checked when it first loads)")


def _bundled_row(jobs: str, name: str, problem: str | None) -> ModelRow:
    if problem is None:
        return ModelRow(jobs, name, "verified (SHA-256)")
    return ModelRow(jobs, name, "problem", f"{problem}\n{BLOCKING_FIX}", blocking=True)


def _verify_bundled(verify: Callable[[], object]) -> str | None:
    try:
        verify()
    except ModelError as error:
        return str(error)
    return None


def _jobs(roles: list[str] | tuple[str, ...]) -> str:
    return ", ".join(roles).capitalize()


class ModelCheckRunner(QObject):
    """Runs `check_setup_models` on its own worker thread; reports on the main thread."""

    progressed = Signal(int, int, str)
    done = Signal(object)  # list[ModelRow]
    failed = Signal(str)

    # Emitted on the worker; connected to slots of this (main-thread) object, so queued.
    _progressed = Signal(int, int, str)
    _done = Signal(object)
    _failed = Signal(str)

    def __init__(self, registry: ModelRegistry, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._registry = registry
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reverie-first-run")
        self._cancel = threading.Event()
        self.running = False
        self._progressed.connect(self._on_progressed)
        self._done.connect(self._on_done)
        self._failed.connect(self._on_failed)

    def start(self) -> None:
        """Check the models again (a check under way is asked to stop first)."""
        self._cancel.set()
        self._cancel = threading.Event()
        self.running = True
        self._pool.submit(self._work, self._cancel)

    def stop(self) -> None:
        """Stop and wait for the worker (a file being hashed: under a second)."""
        self._cancel.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _work(self, cancel: threading.Event) -> None:
        def progress(done: int, total: int, what: str) -> None:
            if not cancel.is_set():
                self._progressed.emit(done, total, what)

        try:
            rows = check_setup_models(self._registry, progress, cancel)
        except EnvironmentProblem as problem:  # models.json unreadable, say
            if not cancel.is_set():
                self._failed.emit(str(problem))
            return
        except Exception:
            log.exception("the model check failed (bug)")
            if not cancel.is_set():
                self._failed.emit(BUG_APOLOGY)
            return
        if not cancel.is_set():
            self._done.emit(rows)

    @Slot(int, int, str)
    def _on_progressed(self, done: int, total: int, what: str) -> None:
        self.progressed.emit(done, total, what)

    @Slot(object)
    def _on_done(self, rows: object) -> None:
        self.running = False
        self.done.emit(rows)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.running = False
        self.failed.emit(message)


class ModelsPage(QWizardPage):
    """Shows the models Reverie will use; complete once none is missing that the store
    needs (a problem with a user's own model is shown, and does not stop set-up)."""

    def __init__(self, registry: ModelRegistry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle("The models")
        self.setSubTitle("Reverie reads and answers with models that run on this computer. "
                         "Nothing is downloaded.")
        self.rows: list[ModelRow] | None = None
        self.checker = ModelCheckRunner(registry, self)
        self.checker.progressed.connect(self._on_progress)
        self.checker.done.connect(self._on_done)
        self.checker.failed.connect(self._on_failed)
        self.progress = QProgressBar(self)
        self.progress.setAccessibleName("Model check progress")
        self.status = QLabel(self)
        self.status.setAccessibleName("Model check status")
        self.table = QTreeWidget(self)
        self.table.setAccessibleName("Models Reverie will use")
        self.table.setHeaderLabels(["Job", "Model", "State"])
        self.table.header().setAccessibleName("Columns")
        self.table.setRootIsDecorated(False)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.message = QLabel(self)
        self.message.setAccessibleName("Model check result")
        self.message.setWordWrap(True)
        self.message.setOpenExternalLinks(False)
        self.again_button = QPushButton("Check &again", self)
        self.again_button.setAccessibleName("Check again")
        self.again_button.clicked.connect(self.start_check)
        self.table.setMaximumHeight(130)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.again_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.progress)
        layout.addWidget(self.table)
        layout.addWidget(self.message)
        layout.addStretch(1)
        layout.addLayout(row)

    def initializePage(self) -> None:
        """Check the models each time the page is reached."""
        self.start_check()

    def isComplete(self) -> bool:
        """Complete when the check ended and found nothing that stops the store."""
        return self.rows is not None and not any(row.blocking for row in self.rows)

    def start_check(self) -> None:
        """Start the check on the worker; the page shows its progress."""
        self.rows = None
        self.table.clear()
        self.message.clear()
        self.progress.setRange(0, 0)  # busy until the first report gives the count
        self.progress.show()
        self.status.setText("Checking the models…")
        self.again_button.setEnabled(False)
        self.completeChanged.emit()
        self.checker.start()

    def stop(self) -> None:
        """Stop a check under way (the wizard is closing)."""
        self.checker.stop()

    def _on_progress(self, done: int, total: int, what: str) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.status.setText(what)

    def _on_done(self, rows: object) -> None:
        assert isinstance(rows, list)
        self.rows = rows
        self.progress.hide()
        self.again_button.setEnabled(True)
        for row in rows:
            item = QTreeWidgetItem([row.jobs, row.model, row.state])
            if row.problem is not None:
                item.setToolTip(2, row.problem)
            self.table.addTopLevelItem(item)
        problems = [row.problem for row in rows if row.problem is not None]
        self.status.setText("All models are ready." if not problems else
                            "Some models need attention:")
        use_tone(self.message, "problem" if problems else "muted")
        self.message.setText("\n\n".join(problems) if problems else ALL_READY)
        self.completeChanged.emit()

    def _on_failed(self, message: str) -> None:
        self.rows = None
        self.progress.hide()
        self.again_button.setEnabled(True)
        self.status.setText("The models could not be checked.")
        use_tone(self.message, "problem")
        self.message.setText(message)
        self.completeChanged.emit()
