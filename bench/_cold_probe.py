"""What `bench.cold_start` runs in each fresh process: the app, with its milestones noted.

`app` mode starts the real app exactly as the `reverie` command does
(`reverie.desktop.app.run_app` on a data directory, the key from
`$REVERIE_PASSPHRASE`), with an event filter on the QApplication that notes, as
`time.time()`, when the window is first shown, first painted ("Opening your
memories…"), when it says `ready` (the main page is up: the ledger is open, the timeline
reads and the chat takes questions; the vector index may still be opening), its first
paint after that (the timeline and chat on screen: interactive), and when it says
`opened` (capture and the schedule started too); then it closes the window as a user
would. `bare` mode shows an empty `QMainWindow` until its first
paint: the least any Qt window costs here, the baseline.

The milestones go to stdout as one line, `COLD {json}`. Only the standard library is
imported before the milestone `python` so that it marks the interpreter being up.
"""

from __future__ import annotations

import json
import sys
import time

MARKS: dict[str, float] = {"python": time.time()}
HEAVY = ("llama_cpp", "onnxruntime", "chromadb", "numpy", "tokenizers", "sqlcipher3",
         "apscheduler", "watchdog", "keyring")


def _note(name: str) -> None:
    MARKS.setdefault(name, time.time())


def run_app(data_dir: str) -> None:
    """Start the real app on `data_dir` and note its milestones; close it when interactive."""
    from reverie.desktop import app as desktop_app

    _note("imported")
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QMainWindow, QWidget

    loaded: dict[str, list[str]] = {}

    class Probe(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.window: QMainWindow | None = None

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
            kind = event.type()
            if kind == QEvent.Type.Show and isinstance(watched, QMainWindow) and not self.window:
                self.window = watched
                _note("shown")
                watched.ready.connect(self.on_ready)  # type: ignore[attr-defined]
                watched.opened.connect(self.on_opened)  # type: ignore[attr-defined]
            elif (kind == QEvent.Type.Paint and isinstance(watched, QWidget)
                  and self.window and watched.window() is self.window):
                _note("first_paint")
                if "ready" in MARKS and "interactive" not in MARKS:
                    _note("interactive")
                    loaded["at_interactive"] = [m for m in HEAVY if m in sys.modules]
                if "opened" in MARKS and "interactive" in MARKS:
                    QTimer.singleShot(0, self.window.close)
            return False

        def on_ready(self) -> None:
            _note("ready")
            if self.window is not None:
                self.window.update()  # a paint is due anyway; make sure one comes

        def on_opened(self) -> None:
            _note("opened")
            loaded["at_opened"] = [m for m in HEAVY if m in sys.modules]
            if self.window is not None:
                self.window.update()

    application = desktop_app.create_application()
    probe = Probe()
    application.installEventFilter(probe)
    code = desktop_app.run_app(data_dir, verbose=True)  # its log lines time the opening
    _note("closed")
    print("COLD " + json.dumps({"marks": MARKS, "code": code, "loaded": loaded}), flush=True)


def run_bare() -> None:
    """Show an empty QMainWindow until its first paint: the baseline."""
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow

    _note("imported")
    application = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.resize(1180, 740)

    class Probe(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
            if event.type() == QEvent.Type.Paint and watched is window:
                _note("first_paint")
                QTimer.singleShot(0, application.quit)
            return False

    probe = Probe()
    window.installEventFilter(probe)
    window.show()
    _note("shown")
    application.exec()
    _note("closed")
    print("COLD " + json.dumps({"marks": MARKS, "code": 0, "loaded": {}}), flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["bare"]:
        run_bare()
    else:
        run_app(sys.argv[2] if len(sys.argv) > 2 else sys.argv[1])
