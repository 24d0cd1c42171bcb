"""Importing a chat file from the window: the job, its progress bar and Cancel button
in the status bar, and what the status bar says when it ends.

The import runs as a `Lane.WORK` job (`operations.import_and_extract`): it stores the
turns first (the job *announces* that, and the timeline shows them at once), then
extracts memories with progress. Cancelling between the two keeps the turns; their
memories are extracted by the next import or extraction run.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QProgressBar, QPushButton, QStatusBar

from reverie.desktop.jobs import Job, JobRunner, Lane
from reverie.desktop.labels import plural
from reverie.desktop.operations import ImportOutcome, import_and_extract


class ImportFlow(QObject):
    """One import at a time, shown in `bar` with a progress bar and a Cancel button."""

    turns_stored = Signal()  # the file's turns are in the store; extraction goes on
    problem = Signal(str, str, bool)  # title, message, is_bug

    def __init__(self, runner: JobRunner, bar: QStatusBar) -> None:
        super().__init__(bar)
        self._runner = runner
        self._bar = bar
        self._job: Job | None = None
        self._turns_stored = False
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Job progress")
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel import")
        self.cancel_button.clicked.connect(self.cancel)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)
        self.progress.hide()
        self.cancel_button.hide()

    def start(self, path: str) -> Job:
        """Import `path` and extract memories from it, as a job with progress."""
        job = self._runner.run(Lane.WORK, "import", import_and_extract(path))
        self._job = job
        self._turns_stored = False
        name = Path(path).name
        job.progressed.connect(self._on_progress)
        job.announced.connect(lambda _changes: self._on_turns_stored(name))
        job.succeeded.connect(self._on_imported)
        job.failed.connect(
            lambda message, is_bug: self.problem.emit(
                f"Could not import {name}", message, is_bug))
        job.cancelled.connect(self._on_cancelled)
        job.finished.connect(self._on_finished)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.cancel_button.setEnabled(True)
        self.cancel_button.show()
        self._bar.showMessage(f"Importing {name}…")
        return job

    def cancel(self) -> None:
        """Ask the running import to stop."""
        if self._job is not None:
            self._job.cancel()
            self.cancel_button.setEnabled(False)
            self._bar.showMessage("Cancelling…")

    def _on_progress(self, done: int, total: int, what: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(min(done, max(total, 1)))
        self._bar.showMessage(f"{what.capitalize()}: {done} of {total}")

    def _on_turns_stored(self, name: str) -> None:
        self._turns_stored = True
        self.turns_stored.emit()
        self._bar.showMessage(f"Stored the turns of {name}; extracting memories…")

    def _on_imported(self, outcome: object) -> None:
        assert isinstance(outcome, ImportOutcome)
        report = outcome.report
        # Said only when a rule kept something out: otherwise it is noise on every import.
        withheld = (f", {report.episodes_withheld} kept out by your never-remember rules"
                    if report.episodes_withheld else "")
        self._bar.showMessage(
            f"Imported {Path(report.path).name}: {plural(report.episodes_added, 'new turn')}"
            f" ({report.episodes_skipped} already stored{withheld}),"
            f" {plural(outcome.memories_added, 'memory', 'memories')} extracted"
        )

    def _on_cancelled(self) -> None:
        if self._turns_stored:
            text = (
                "Extraction stopped: the turns are stored; memories not extracted yet"
                " will be on the next import."
            )
        else:
            text = "Import cancelled: nothing was stored."
        self._bar.showMessage(text)

    def _on_finished(self) -> None:
        self._job = None
        self.progress.hide()
        self.cancel_button.hide()
