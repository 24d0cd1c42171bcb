"""The crash handler: bugs on any thread are logged, reported and shown on the main
thread; a hard crash leaves a report the next start mentions once."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import cast

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from reverie.core.compose import open_reverie
from reverie.desktop import app as app_module
from reverie.desktop.crash import CRASH_TITLE, LOG_DIR_ENV, LOG_FILE, CrashHandler
from reverie.desktop.main_window import MainWindow
from reverie.desktop.single_instance import instance_key
from reverie.models.base import Embedder
from tests.desktop.conftest import when_window

# The handler replaces sys.excepthook itself; pytest-qt must not swap it meanwhile.
pytestmark = [pytest.mark.gui, pytest.mark.qt_no_exception_capture]

Shown = list[tuple[bool, str, str]]  # (on the main thread?, title, message)


@contextmanager
def installed(handler: CrashHandler) -> Iterator[Path | None]:
    """The handler's hooks for the body of a test (pytest sets its own per phase)."""
    previous = handler.install()
    try:
        yield previous
    finally:
        handler.uninstall()


def _handler(window: MainWindow, log_dir: Path, shown: Shown) -> CrashHandler:
    def show(title: str, message: str) -> QMessageBox:
        shown.append((threading.current_thread() is threading.main_thread(), title, message))
        return window.show_problem(title, message, is_bug=True)

    return CrashHandler(log_dir, "test", show=show, on_interrupt=window.close)


def _reports(log_dir: Path) -> list[Path]:
    return sorted(log_dir.glob("crash-*.txt"))


def test_a_bug_in_a_slot_is_logged_reported_and_shown(
    qtbot: QtBot, tmp_path: Path, make_window: Callable[..., object]
) -> None:
    window = cast(MainWindow, make_window())
    logs = tmp_path / "logs"
    shown: Shown = []
    handler = _handler(window, logs, shown)

    def broken_slot() -> None:
        raise RuntimeError("a bug in a slot")

    with installed(handler):
        QTimer.singleShot(0, broken_slot)
        qtbot.waitUntil(lambda: window.problem_box is not None, timeout=5000)
        QTimer.singleShot(0, broken_slot)  # again, while the box is open
        qtbot.waitUntil(lambda: len(_reports(logs)) == 2, timeout=5000)
        qtbot.wait(50)

    first, second = _reports(logs)
    for report in (first, second):
        text = report.read_text("utf-8")
        assert "thread: MainThread" in text
        assert "in broken_slot" in text
        assert text.rstrip().endswith("RuntimeError: a bug in a slot")
    assert shown == [(True, CRASH_TITLE, shown[0][2])]  # one box at a time
    assert str(first) in shown[0][2]
    box = window.problem_box
    assert box is not None
    assert str(first) in box.text()
    assert box.isVisible()
    assert box.windowModality() == Qt.WindowModality.WindowModal
    log_text = (logs / LOG_FILE).read_text("utf-8")
    assert log_text.count("RuntimeError: a bug in a slot") == 2
    assert not (logs / "fault-test.log").exists()  # a clean end leaves no fault file
    assert window.runner.facade is not None  # the app goes on


def test_a_bug_on_a_worker_thread_is_shown_from_the_main_thread(
    qtbot: QtBot, tmp_path: Path, make_window: Callable[..., object]
) -> None:
    window = cast(MainWindow, make_window())
    logs = tmp_path / "logs"
    shown: Shown = []
    handler = _handler(window, logs, shown)
    heard: list[bool] = []
    handler.reported.connect(
        lambda _path: heard.append(threading.current_thread() is threading.main_thread()))

    def broken_worker() -> None:
        raise ValueError("a bug on a worker")

    with installed(handler):
        worker = threading.Thread(target=broken_worker, name="reverie-test-worker")
        worker.start()
        worker.join()
        (report,) = _reports(logs)  # written by the worker itself, at once
        assert not shown  # ...but the box waits for the main thread's event loop
        qtbot.waitUntil(lambda: window.problem_box is not None, timeout=5000)

    text = report.read_text("utf-8")
    assert "thread: reverie-test-worker" in text
    assert text.rstrip().endswith("ValueError: a bug on a worker")
    assert heard == [True]
    assert shown == [(True, CRASH_TITLE, shown[0][2])]
    assert str(report) in shown[0][2]
    assert "ValueError: a bug on a worker" in (logs / LOG_FILE).read_text("utf-8")


def test_ctrl_c_reaching_a_slot_closes_the_window_cleanly(
    qtbot: QtBot, tmp_path: Path, make_window: Callable[..., object]
) -> None:
    window = cast(MainWindow, make_window())
    logs = tmp_path / "logs"
    shown: Shown = []
    handler = _handler(window, logs, shown)

    def interrupted() -> None:
        raise KeyboardInterrupt

    with installed(handler):
        QTimer.singleShot(0, interrupted)
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=30_000)
    assert window.runner.facade is None  # jobs stopped, store closed
    assert not shown
    assert not _reports(logs)


def test_a_hard_crash_leaves_a_report_that_the_next_start_mentions_once(
    tmp_path: Path,
) -> None:
    logs = tmp_path / "logs"
    crash = textwrap.dedent("""
        import faulthandler, sys
        from pathlib import Path
        from reverie.desktop.crash import CrashHandler
        handler = CrashHandler(Path(sys.argv[1]), "test", show=lambda t, m: None,
                               on_interrupt=lambda: None)
        handler.install()
        faulthandler._sigsegv()  # what a bug in llama.cpp's C++ would do
    """)
    died = subprocess.run([sys.executable, "-c", crash, str(logs)], check=False,
                          capture_output=True,
                          text=True, timeout=120)
    assert died.returncode != 0
    assert (logs / "fault-test.log").stat().st_size > 0

    def quiet() -> CrashHandler:
        return CrashHandler(logs, "test", show=lambda t, m: None, on_interrupt=lambda: None)

    with installed(quiet()) as previous:
        assert previous is not None
        text = previous.read_text("utf-8")
        assert "stopped abruptly" in text
        assert "Segmentation fault" in text
        assert "File \"<string>\"" in text  # the stack of the thread that died
        assert (logs / "fault-test.log").stat().st_size == 0  # armed again, empty
    with installed(quiet()) as again:
        assert again is None  # told once
    assert not (logs / "fault-test.log").exists()


def test_run_app_tells_of_the_last_crash_once_when_open(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    bundled_embedder: Embedder,
) -> None:
    monkeypatch.setattr(app_module, "configure_logging", lambda verbose: None)
    logs = tmp_path / "logs"
    monkeypatch.setenv(LOG_DIR_ENV, str(logs))
    data = (tmp_path / "data").resolve()
    open_reverie(data, embedder=bundled_embedder).close()  # a store: no first-run wizard
    logs.mkdir()
    fault = logs / f"fault-{instance_key(data)}.log"
    fault.write_text("Fatal Python error: Segmentation fault\n\nThread 0x01 (most recent"
                     " call first):\n  File \"llama.py\", line 1 in eval\n", encoding="utf-8")
    texts: list[str] = []

    def read_and_quit(window: MainWindow) -> None:
        box = window.problem_box
        assert box is not None
        texts.append(box.text())
        box.accept()
        window.quit_action.trigger()

    when_window(lambda w: w.problem_box is not None, read_and_quit)
    assert app_module.run_app(str(data), verbose=False) == 0
    assert texts
    assert texts[0].startswith("Reverie closed unexpectedly last time")
    (report,) = _reports(logs)
    assert str(report) in texts[0]
    assert "Segmentation fault" in report.read_text("utf-8")
    assert not fault.exists()  # this run ended well
