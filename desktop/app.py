"""Start-up and shut-down of the desktop app (`run_app`, called by the launcher).

Order: logging → QApplication (names, style) → Qt messages routed into logging →
the window, shown at once → the facade opened by a job → the event loop. On the way out
the window cancels and waits for running jobs and closes the facade before we return.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import traceback
from collections.abc import Callable
from types import TracebackType

from PySide6.QtCore import QMessageLogContext, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

from reverie.core.compose import open_reverie
from reverie.core.config import APP_NAME, resolve_data_dir
from reverie.core.logsetup import configure_logging
from reverie.core.service import Reverie
from reverie.core.store.keys import (
    PASSPHRASE_ENV,
    PassphraseRequest,
    default_unlocker,
    fixed_passphrase,
    passphrase_from_env,
    passphrase_needed,
    secure_keyring,
)
from reverie.desktop.jobs import BUG_APOLOGY
from reverie.desktop.main_window import MainWindow

log = logging.getLogger("reverie.desktop")
qt_log = logging.getLogger("reverie.qt")

ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], None]

_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def run_app(data_dir: str | None, *, verbose: bool) -> int:
    """Run the desktop app on `data_dir` (None: the default); return the exit code."""
    configure_logging(verbose)
    app = create_application()
    previous_handler = qInstallMessageHandler(_qt_message)

    directory = resolve_data_dir(data_dir)

    def opener(passphrase: str | None) -> Reverie:
        ask = fixed_passphrase(passphrase) if passphrase else passphrase_from_env
        return open_reverie(directory, unlocker=default_unlocker(ask=ask))

    def needs_passphrase() -> PassphraseRequest | None:
        if os.environ.get(PASSPHRASE_ENV):
            return None
        return passphrase_needed(directory, secure_keyring())

    window = MainWindow(opener, needs_passphrase=needs_passphrase)
    previous_hook = sys.excepthook
    sys.excepthook = _bug_hook(window)
    # Let Ctrl+C and `kill` quit cleanly (jobs stopped, store closed): Python handles
    # signals only between bytecodes, so wake the interpreter now and then.
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: window.close())
    wakeup = QTimer()
    wakeup.timeout.connect(lambda: None)
    wakeup.start(250)
    try:
        window.show()
        window.start()
        code = app.exec()
    finally:
        wakeup.stop()
        window.shutdown()
        sys.excepthook = previous_hook
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        qInstallMessageHandler(previous_handler)
    log.info("app closed")
    return window.exit_code or code


def create_application() -> QApplication:
    """The QApplication with Reverie's names and style (reused if one exists)."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setOrganizationDomain("reverie.local")
    app.setStyle("Fusion")
    return app


def _qt_message(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
    """Qt's own warnings go to the `reverie.qt` logger instead of raw stderr."""
    qt_log.log(_QT_LEVELS.get(kind, logging.WARNING), "%s (%s)", message, context.category)


def _bug_hook(window: MainWindow) -> ExceptHook:
    """An excepthook for exceptions escaping Qt slots: log them, apologise, go on."""

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            window.close()
            return
        log.error(
            "uncaught exception (bug):\n%s", "".join(traceback.format_exception(kind, value, tb))
        )
        window.statusBar().showMessage(BUG_APOLOGY, 15000)

    return hook
