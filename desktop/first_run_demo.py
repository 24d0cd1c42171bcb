"""The first-run wizard's "Try it with a sample life first": the demo store is built on
a worker thread while a progress window says so (about 8 s on 2 cores), then the app
opens on it (`run_app` does that part, inside `core.demo.demo_environment`).

`reverie --demo` builds the same store from a terminal (`launcher.run_demo`); this is
the same `build_demo`, with a window instead of lines on stderr and a Cancel button.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from PySide6.QtCore import QEventLoop, QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QLabel, QMessageBox, QProgressDialog

from reverie.core.demo import DemoReport, build_demo
from reverie.core.errors import Cancelled, EnvironmentProblem
from reverie.desktop.jobs import BUG_APOLOGY

log = logging.getLogger("reverie.desktop.first_run")

FAILED_TITLE = "The sample life could not be built"
BUILDING = ("Building the sample life: four months of someone's chats and notes, read "
            "the way Reverie reads yours…")


class DemoBuild(QObject):
    """Builds the demo store on a worker thread; reports on the main thread."""

    progressed = Signal(int, int, str)
    ended = Signal(object, str)  # the DemoReport or None, and a problem ("" if none)

    _progressed = Signal(int, int, str)  # emitted on the worker, queued to the slots
    _ended = Signal(object, str)

    def __init__(self, data_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.data_dir = data_dir
        self.cancel = threading.Event()
        self._thread = threading.Thread(target=self._work, name="reverie-demo")
        self._progressed.connect(self._on_progressed)
        self._ended.connect(self._on_ended)

    def start(self) -> None:
        """Start building."""
        self._thread.start()

    def wait(self) -> None:
        """Wait for the worker (after `ended`, it is returning)."""
        self._thread.join()

    def _work(self) -> None:
        try:
            report = build_demo(self.data_dir, self._progressed.emit, self.cancel)
        except Cancelled:
            self._ended.emit(None, "")
        except EnvironmentProblem as problem:
            self._ended.emit(None, str(problem))
        except Exception:
            log.exception("building the demo failed (bug)")
            self._ended.emit(None, BUG_APOLOGY)
        else:
            self._ended.emit(report, "")

    @Slot(int, int, str)
    def _on_progressed(self, done: int, total: int, what: str) -> None:
        self.progressed.emit(done, total, what)

    @Slot(object, str)
    def _on_ended(self, report: object, problem: str) -> None:
        self.ended.emit(report, problem)


def build_sample_life(data_dir: Path) -> DemoReport | None:
    """Build the demo store in `data_dir`, showing progress; None if cancelled or failed
    (a failure is shown in a box first; the folder is left empty either way)."""
    dialog = QProgressDialog(BUILDING, "Cancel", 0, 0)
    dialog.setWindowTitle("Reverie: the sample life")
    dialog.setAccessibleName("Building the sample life")
    dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
    dialog.setMinimumDuration(0)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    label = QLabel(BUILDING)
    label.setWordWrap(True)
    label.setAccessibleName("What is happening")
    dialog.setLabel(label)
    dialog.setMinimumWidth(440)
    build = DemoBuild(data_dir)
    loop = QEventLoop()
    outcome: dict[str, object] = {}

    def on_progress(done: int, total: int, _what: str) -> None:
        dialog.setRange(0, max(total, 1))
        dialog.setValue(min(done, max(total, 1)))

    def on_ended(report: object, problem: str) -> None:
        outcome.update(report=report, problem=problem)
        loop.quit()

    dialog.canceled.connect(build.cancel.set)  # the button, or closing the window
    dialog.rejected.connect(build.cancel.set)  # Escape
    build.progressed.connect(on_progress)
    build.ended.connect(on_ended)
    build.start()
    dialog.show()
    loop.exec()
    build.wait()
    dialog.close()
    dialog.deleteLater()
    problem = str(outcome.get("problem") or "")
    if problem:
        box = QMessageBox(QMessageBox.Icon.Warning, FAILED_TITLE, problem)
        box.setAccessibleName("Problem")
        box.exec()
    report = outcome.get("report")
    return report if isinstance(report, DemoReport) else None
