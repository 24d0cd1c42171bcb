"""What happens when Reverie itself fails: the log, a report file, and a word to the user.

Three kinds of failure, three nets:

- An exception no code caught, on the main thread (a Qt slot, say): `sys.excepthook`.
- The same on another thread (capture, a scheduler, a job's helper): `threading.excepthook`.
- A hard crash that kills the process (a segfault in llama.cpp): `faulthandler`, which
  writes every thread's stack into a file in the log folder as the process dies.

The first two log the full traceback (to stderr and to `reverie.log` in the log folder),
write a crash report file beside it, and tell the user in a window-modal box that does
not block. The box is opened on the main thread only: the hooks post a queued signal,
because a worker thread must never touch a widget, and because an exception raised in a
paint or event handler is better answered on the next turn of the event loop than from
inside it. Reverie goes on running; the report says what to send.

A fault file left non-empty means the last run died hard; `install` turns it into a
report and returns its path, for the app to mention once.
"""

from __future__ import annotations

import faulthandler
import logging
import os
import platform
import sys
import threading
import traceback
from collections.abc import Callable
from datetime import datetime
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import IO

import platformdirs
from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QObject, Qt, Signal, Slot, qVersion
from PySide6.QtWidgets import QDialog

from reverie.core.config import APP_NAME

log = logging.getLogger("reverie.desktop.crash")

LOG_DIR_ENV = "REVERIE_LOG_DIR"
LOG_FILE = "reverie.log"
LOG_ROLL_BYTES = 2 * 1024 * 1024  # a bigger log is moved to reverie.log.1 at start
MAX_REPORTS = 20  # per run: a bug that fires on every repaint must not fill the disk
CRASH_TITLE = "Reverie hit a bug"
UNEXPECTED_TITLE = "Reverie closed unexpectedly"

ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], None]
Show = Callable[[str, str], object]  # (title, message) -> the box shown, if any


def resolve_log_dir() -> Path:
    """The log folder: `$REVERIE_LOG_DIR`, else the platform's user log folder."""
    from_env = os.environ.get(LOG_DIR_ENV)
    if from_env:
        return Path(from_env).expanduser().resolve()
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def crash_message(report: Path | None) -> str:
    """What the user reads after a bug: what happened, where the report is."""
    where = (f"A report was written to:\n{report}" if report is not None
             else "The details were written to the log.")
    return ("Something went wrong inside Reverie. Nothing you did caused it.\n\n"
            f"{where}\n\nReverie keeps running; if it misbehaves, restart it.")


def unexpected_message(report: Path) -> str:
    """What the user reads once after a run that died without closing."""
    return f"Reverie closed unexpectedly last time; the report is at\n{report}"


class CrashHandler(QObject):
    """Installs the three nets; create it on the main thread, `install`, later `uninstall`.

    `show(title, message)` is called on the main thread to tell the user (the window's
    `show_problem`); `on_interrupt()` when Ctrl+C reaches a slot (close the window).
    """

    reported = Signal(str)  # main thread: a bug was handled; the report's path or ""

    _posted = Signal(str)  # from any thread; queued to the main thread

    def __init__(self, log_dir: Path, key: str, *, show: Show,
                 on_interrupt: Callable[[], object], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.log_dir = log_dir
        self.fault_path = log_dir / f"fault-{key}.log"
        self._show = show
        self._on_interrupt = on_interrupt
        self._reports = 0
        self._count_lock = threading.Lock()
        self._box_open = False
        self._fault_file: IO[str] | None = None
        self._log_handler: logging.Handler | None = None
        self._previous: tuple[ExceptHook, Callable[[threading.ExceptHookArgs], object]] | None \
            = None
        self._fault_was_enabled = False
        self._posted.connect(self._tell, Qt.ConnectionType.QueuedConnection)

    # --- installing -----------------------------------------------------------------

    def install(self) -> Path | None:
        """Set the hooks, log to the log folder, start faulthandler; return the report
        of a previous run that died hard, if there is one (to mention once).

        A log folder that cannot be written is no reason not to start: the hooks still
        log to stderr and tell the user, and faulthandler writes to stderr.
        """
        self._previous = (sys.excepthook, threading.excepthook)
        sys.excepthook = self.main_hook
        threading.excepthook = self.thread_hook
        self._fault_was_enabled = faulthandler.is_enabled()
        try:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            self._log_handler = _file_log(self.log_dir / LOG_FILE)
            logging.getLogger("reverie").addHandler(self._log_handler)
            previous_fault = self._take_fault_file()
            self._fault_file = self.fault_path.open("w", encoding="utf-8")
        except OSError as exc:
            log.warning("crash reports cannot be written to %s: %s", self.log_dir, exc)
            if sys.__stderr__ is not None:
                faulthandler.enable(sys.__stderr__, all_threads=True)
            return None
        faulthandler.enable(self._fault_file, all_threads=True)
        log.info("crash reports go to %s", self.log_dir)
        return previous_fault

    def uninstall(self) -> None:
        """Put back the hooks, stop faulthandler (an empty fault file is removed: the run
        ended well), stop logging to the file. Safe twice."""
        if self._previous is None:
            return
        sys.excepthook, threading.excepthook = self._previous
        self._previous = None
        faulthandler.disable()
        if self._fault_was_enabled and sys.__stderr__ is not None:
            faulthandler.enable(sys.__stderr__, all_threads=True)
        if self._fault_file is not None:
            self._fault_file.close()
            self._fault_file = None
            _remove_if_empty(self.fault_path)
        if self._log_handler is not None:
            logging.getLogger("reverie").removeHandler(self._log_handler)
            self._log_handler.close()
            self._log_handler = None

    # --- the hooks ------------------------------------------------------------------

    def main_hook(self, kind: type[BaseException], value: BaseException,
                  tb: TracebackType | None) -> None:
        """`sys.excepthook`: Ctrl+C closes the window; anything else is a bug."""
        if issubclass(kind, KeyboardInterrupt):
            self._on_interrupt()
            return
        self._guarded(kind, value, tb, threading.current_thread().name)

    def thread_hook(self, args: threading.ExceptHookArgs) -> None:
        """`threading.excepthook`: a bug on another thread (SystemExit ends it quietly)."""
        if issubclass(args.exc_type, SystemExit):
            return
        value = args.exc_value if args.exc_value is not None else args.exc_type()
        name = args.thread.name if args.thread is not None else "a thread"
        self._guarded(args.exc_type, value, args.exc_traceback, name)

    def _guarded(self, kind: type[BaseException], value: BaseException,
                 tb: TracebackType | None, thread: str) -> None:
        try:
            report = self.handle(kind, value, tb, thread)
        except Exception:  # the net itself failed: Python's own printing still works
            traceback.print_exc()
            sys.__excepthook__(kind, value, tb)
            return
        self._posted.emit(str(report) if report is not None else "")

    def handle(self, kind: type[BaseException], value: BaseException,
               tb: TracebackType | None, thread: str) -> Path | None:
        """Log the traceback and write a report (on the calling thread); return its path,
        or None when no report was written (too many already, or the disk refused)."""
        text = "".join(traceback.format_exception(kind, value, tb))
        log.error("uncaught exception (bug) in thread %s:\n%s", thread, text)
        with self._count_lock:
            self._reports += 1
            if self._reports > MAX_REPORTS:
                return None
        try:
            return write_report(self.log_dir, "crash", _header(thread) + text)
        except OSError as exc:
            log.error("could not write a crash report in %s: %s", self.log_dir, exc)
            return None

    @Slot(str)
    def _tell(self, report: str) -> None:
        self.reported.emit(report)
        if self._box_open:  # one box at a time; the log and the reports have the rest
            return
        box = self._show(CRASH_TITLE, crash_message(Path(report) if report else None))
        if isinstance(box, QDialog):
            self._box_open = True
            box.finished.connect(self._box_closed)

    @Slot()
    def _box_closed(self) -> None:
        self._box_open = False

    # --- hard crashes ---------------------------------------------------------------

    def _take_fault_file(self) -> Path | None:
        """Move a fault file a dead run filled into a report; None if there is none."""
        try:
            if self.fault_path.stat().st_size == 0:
                return None
        except FileNotFoundError:
            return None
        died = datetime.fromtimestamp(self.fault_path.stat().st_mtime)
        header = (f"{APP_NAME} stopped abruptly (a fatal signal) at {died:%Y-%m-%d %H:%M:%S}."
                  "\nThe stacks of its threads at that moment:\n\n")
        report = write_report(self.log_dir, "crash",
                              header + self.fault_path.read_text("utf-8", errors="replace"),
                              when=died)
        self.fault_path.unlink()
        log.warning("the previous run ended abruptly; report at %s", report)
        return report


def write_report(folder: Path, stem: str, text: str, when: datetime | None = None) -> Path:
    """Write `text` to a new timestamped file `<stem>-YYYYmmdd-HHMMSS-micro.txt`."""
    moment = when or datetime.now()
    base = f"{stem}-{moment:%Y%m%d-%H%M%S-%f}"
    for attempt in range(100):
        path = folder / (f"{base}.txt" if attempt == 0 else f"{base}-{attempt}.txt")
        try:
            with path.open("x", encoding="utf-8") as out:
                out.write(text)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"too many reports named {base}* in {folder}")


def _header(thread: str) -> str:
    try:
        version = metadata.version("reverie")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return (f"{APP_NAME} crash report\n"
            f"time: {datetime.now().astimezone().isoformat(timespec='seconds')}\n"
            f"thread: {thread}\n"
            f"reverie: {version}\n"
            f"python: {platform.python_version()} ({platform.python_implementation()})\n"
            f"qt: {qVersion()} (PySide6 {pyside_version})\n"
            f"system: {platform.platform()}\n\n")


def _remove_if_empty(path: Path) -> None:
    try:
        if path.stat().st_size == 0:
            path.unlink()
    except FileNotFoundError:  # someone tidied the log folder meanwhile: nothing to do
        return


def _file_log(path: Path) -> logging.Handler:
    """The app log's file handler; a log grown past `LOG_ROLL_BYTES` is moved aside first.

    Not a RotatingFileHandler: two apps on two data directories share this file, and a
    rotation in the middle of the other's writes fails on Windows.
    """
    try:
        if path.stat().st_size > LOG_ROLL_BYTES:
            os.replace(path, path.with_name(path.name + ".1"))
    except OSError:  # no log yet, or the other app has it open (Windows): append to it
        log.debug("the app log was not moved aside")
    handler = logging.FileHandler(path, encoding="utf-8", delay=True)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    return handler
