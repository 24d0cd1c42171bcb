"""Start-up and shut-down of the desktop app (`run_app`, called by the launcher).

Order: logging → QApplication (names, style, icon, garbage collection on the main thread:
desktop/collector.py) → Qt messages routed into logging →
the single-instance check (a second launch on the same data directory hands over to the
first and exits) → the first-run wizard, when the data directory has no store yet
(cancelled: exit, nothing created; the sample life: the demo instead) → the window →
the crash handler (log file, report files, faulthandler) → the tray icon → the window
shown → the facade opened (on a first run: the store created as the wizard chose) by a
job → the event loop. On the way out the window cancels and waits for running jobs and
closes the facade, then the crash handler and the instance name are released, before
we return.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QMessageLogContext, QSize, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from reverie.core.config import APP_NAME, resolve_data_dir
from reverie.core.logsetup import configure_logging
from reverie.core.store.keys import (
    PASSPHRASE_ENV,
    PassphraseRequest,
    PreparedUnlocker,
    default_unlocker,
    fixed_passphrase,
    passphrase_from_env,
    passphrase_needed,
    secure_keyring,
)
from reverie.core.store.vault import store_exists
from reverie.desktop.collector import MainThreadCollector, collect_on_main_thread
from reverie.desktop.crash import (
    UNEXPECTED_TITLE,
    CrashHandler,
    resolve_log_dir,
    unexpected_message,
)
from reverie.desktop.early_open import EarlyOpen
from reverie.desktop.single_instance import (
    Handover,
    SingleInstance,
    bring_to_front,
    instance_key,
    server_name,
)
from reverie.desktop.theme import apply_theme

if TYPE_CHECKING:
    from reverie.core.service import Reverie
    from reverie.desktop.first_run import FirstRunChoices, Start

# The window, the first-run wizard and the whole engine are imported where they are
# first needed, so that opening the store can start before they are (see early_open).

log = logging.getLogger("reverie.desktop")
qt_log = logging.getLogger("reverie.qt")

ICON_NAME = "reverie.svg"

_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def run_app(data_dir: str | None, *, verbose: bool) -> int:
    """Run the desktop app on `data_dir` (None: the default); return the exit code.

    If a Reverie app already runs on that data directory, ask it to show its window,
    say so in one line on stderr, and return at once (0, or 1 if it did not answer).
    """
    configure_logging(verbose)
    app = create_application()
    previous_handler = qInstallMessageHandler(_qt_message)
    directory = resolve_data_dir(data_dir)
    instance = SingleInstance(server_name(directory))
    try:
        handover = instance.claim()
        if handover is not None:
            sys.stderr.write(handover_line(handover, directory) + "\n")
            return 0 if handover is Handover.ACTIVATED else 1
        if not wizard_wanted(directory):
            return _run_window(app, directory, instance)
        from reverie.desktop.first_run import Start

        answer = _first_run(directory, instance)
        if answer is Start.CANCEL:
            return 0
        if answer is not Start.DEMO:
            creating = [answer]
            del answer  # the passphrase is kept only where the open job takes it from
            return _run_window(app, directory, instance, creating)
    finally:
        instance.release()
        qInstallMessageHandler(previous_handler)
    return _run_sample_life(verbose)


def wizard_wanted(directory: Path) -> bool:
    """Show the first-run wizard: no store yet, and no passphrase given by the environment.

    `$REVERIE_PASSPHRASE` is how scripts and headless machines answer the key question
    (see `passphrase_from_env`); a window waiting for a person would stall them.
    """
    return not store_exists(directory) and not os.environ.get(PASSPHRASE_ENV)


def _run_sample_life(verbose: bool) -> int:
    """The wizard's "sample life": the app on a throwaway demo store, built with a
    progress window; this data directory, keyring and model choices stay untouched."""
    from reverie.core.demo import demo_environment
    from reverie.desktop.first_run_demo import build_sample_life

    with demo_environment() as place:
        report = build_sample_life(place.data_dir)
        if report is None:
            return 0
        log.info("demo ready in %.1f s; deleted when the app quits", report.seconds)
        return run_app(str(place.data_dir), verbose=verbose)


def _first_run(directory: Path, instance: SingleInstance) -> FirstRunChoices | Start:
    """The first-run wizard, raised by a second launch while it is open."""
    from reverie.desktop.first_run import FirstRunWizard, ask_first_run

    shown: list[FirstRunWizard] = []

    def raise_wizard() -> None:
        if shown:
            bring_to_front(shown[0])

    instance.activation_requested.connect(raise_wizard)
    try:
        return ask_first_run(directory, secure_keyring() is not None, shown.append)
    finally:
        shown.clear()  # the window raises itself from now on


def handover_line(handover: Handover, directory: Path) -> str:
    """The one line a second launch prints before it exits."""
    if handover is Handover.ACTIVATED:
        return f"reverie: already running on {directory}; its window was brought to the front."
    return (f"reverie: already running on {directory}, but it did not answer; "
            "try again in a moment.")


def _run_window(
    app: QApplication, directory: Path, instance: SingleInstance,
    creating: list[FirstRunChoices] | None = None,
) -> int:
    """The window on `directory`, with the crash handler and the tray, until it closes.

    With the wizard's answers in `creating`, the store is created with the key chosen
    there (the opener takes them out, so that no passphrase stays referenced once the
    store is open), and the chosen folders are followed once it is open.
    """
    creating = creating or []
    folders = creating[0].folders if creating else ()

    def needs_passphrase() -> PassphraseRequest | None:
        if creating or os.environ.get(PASSPHRASE_ENV):
            return None
        return passphrase_needed(directory, secure_keyring())

    def open_store(passphrase: str | None, *, early: bool = False) -> Reverie:
        if creating:  # runs on the open job's worker; the answers are used once
            unlocker = creating.pop().unlocker(secure_keyring())
        else:
            ask = fixed_passphrase(passphrase) if passphrase else passphrase_from_env
            unlocker = default_unlocker(ask=ask)
            if early:  # the key first: scrypt runs while the other thread imports
                unlocker = PreparedUnlocker(unlocker, directory)
        from reverie.core.compose import open_reverie

        return open_reverie(directory, unlocker=unlocker, index_in_background=True)

    early = (None if creating or needs_passphrase()
             else EarlyOpen(lambda: open_store(None, early=True)))

    def opener(passphrase: str | None) -> Reverie:
        if early is not None and not early.taken and passphrase is None:
            return early.take()
        return open_store(passphrase)

    try:
        return _show_window(app, directory, instance, opener=opener,
                            needs_passphrase=needs_passphrase, folders=folders)
    finally:
        if early is not None:
            early.discard()


def _show_window(
    app: QApplication, directory: Path, instance: SingleInstance, *,
    opener: Callable[[str | None], Reverie],
    needs_passphrase: Callable[[], PassphraseRequest | None], folders: tuple[Path, ...],
) -> int:
    from reverie.desktop.first_run import follow_when_open
    from reverie.desktop.main_window import MainWindow
    from reverie.desktop.tray import Tray

    window = MainWindow(opener, needs_passphrase=needs_passphrase)
    follow_when_open(window, folders)
    instance.activation_requested.connect(lambda: bring_to_front(window))
    crash = CrashHandler(
        resolve_log_dir(), instance_key(directory),
        show=lambda title, message: window.show_problem(title, message, is_bug=True),
        on_interrupt=window.close,
    )
    last_crash = crash.install()
    if last_crash is not None:  # told once: the fault file became this report
        report = last_crash
        window.opened.connect(lambda: window.show_problem(
            UNEXPECTED_TITLE, unexpected_message(report), is_bug=False))
    tray = Tray(window, app.windowIcon())
    # Let Ctrl+C and `kill` quit cleanly (jobs stopped, store closed): Python handles
    # signals only between bytecodes, so wake the interpreter now and then.
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: window.close())
    wakeup = QTimer()
    wakeup.timeout.connect(lambda: None)
    wakeup.start(250)
    try:
        window.show()
        tray.show_icon()
        window.start()
        code = app.exec()
    finally:
        wakeup.stop()
        tray.hide_icon()
        window.shutdown()
        crash.uninstall()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
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
    if app.findChild(MainThreadCollector) is None:
        collect_on_main_thread(app)  # cycles are freed on the main thread only
    apply_theme(app)  # light or dark, as the system is (REVERIE_THEME overrides)
    # Matches the menu entry's reverie.desktop, so that Wayland shells find its icon.
    app.setDesktopFileName("reverie")
    app.setWindowIcon(app_icon())
    return app


def app_icon() -> QIcon:
    """Reverie's icon, from its SVG: drawn sharp at any size and device-pixel ratio.

    Qt draws an SVG icon through the QtSvg plugins shipped with PySide6; if they are
    missing the icon is empty and a warning says so (the window then has Qt's own icon).
    """
    for folder in _resource_folders():
        path = folder / "icons" / ICON_NAME
        if path.is_file():
            icon = QIcon(str(path))
            if icon.pixmap(QSize(32, 32)).isNull():
                log.warning("cannot draw %s: Qt's SVG plugins are missing", path)
                return QIcon()
            return icon
    log.info("no %s found beside the app; using Qt's icon", ICON_NAME)
    return QIcon()


def _resource_folders() -> list[Path]:
    """Where `resources/` may be: the repository (an editable install), or the folder a
    PyInstaller bundle unpacks its data into."""
    folders = [Path(__file__).resolve().parent.parent / "resources"]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        folders.append(Path(bundle) / "resources")
    return folders


def _qt_message(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
    """Qt's own warnings go to the `reverie.qt` logger instead of raw stderr."""
    qt_log.log(_QT_LEVELS.get(kind, logging.WARNING), "%s (%s)", message, context.category)

