"""The system tray icon: open the window, pause capture, quit.

Only where the desktop has a tray (`QSystemTrayIcon.isSystemTrayAvailable()`); elsewhere
the `Tray` still holds its menu and actions (tests drive them), but shows nothing.
Clicking the icon brings the window to the front. "Pause capture" stops Reverie reading
the watched sources until it is unchecked, across restarts too (the flag lives in the
store, `Reverie.set_capture_paused`); the change runs as a job on `Lane.CARE`, since
resuming sets up a watch on every source and queues a catch-up scan.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from reverie.core.config import APP_NAME
from reverie.core.service import Reverie
from reverie.desktop.jobs import JobBusy, JobContext, Lane
from reverie.desktop.main_window import MainWindow
from reverie.desktop.single_instance import bring_to_front

log = logging.getLogger("reverie.desktop.tray")

PAUSED_TOOLTIP = f"{APP_NAME} — capture paused"
LOCKED_TOOLTIP = f"{APP_NAME} — locked"
PAUSED_MESSAGE = "Capture paused: Reverie reads none of your sources until you resume it."
RESUMED_MESSAGE = "Capture resumed: catching up on what changed meanwhile."
BUSY_MESSAGE = "Another change is being made; try pausing again in a moment."


def set_capture_paused(paused: bool) -> Callable[[Reverie, JobContext], bool]:
    """A job that pauses (or resumes) all capture; returns the state it left."""

    def work(facade: Reverie, _ctx: JobContext) -> bool:
        facade.set_capture_paused(paused)
        return facade.capture_paused

    return work


class Tray(QObject):
    """The tray icon and its menu, for one window. Call `show_icon()` to show it."""

    paused_changed = Signal(bool)  # capture was paused (True) or resumed, by this menu

    def __init__(self, window: MainWindow, icon: QIcon, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._window = window
        self._app_icon = icon
        self._locked = False
        self.icon: QSystemTrayIcon | None = None
        # A tray menu has no parent window to live in; this object keeps it alive.
        self.menu = QMenu()
        self.menu.setAccessibleName(f"{APP_NAME} tray menu")
        self.open_action = QAction(f"&Open {APP_NAME}", self.menu)
        self.pause_action = QAction("&Pause capture", self.menu)
        self.pause_action.setCheckable(True)
        self.pause_action.setEnabled(False)  # until the store is open
        self.pause_action.setStatusTip("Stop reading your watched folders and exports")
        self.quit_action = QAction("&Quit", self.menu)
        self.menu.addAction(self.open_action)
        self.menu.addAction(self.pause_action)
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)

        self.open_action.triggered.connect(self.open_window)
        self.pause_action.toggled.connect(self.set_paused)
        self.quit_action.triggered.connect(window.close)
        window.opened.connect(self._on_opened)
        # Capture reports its sources after a pause or resume made elsewhere (Settings).
        window.capture_bridge.statuses_changed.connect(lambda _statuses: self._sync_paused())

    # --- the icon -------------------------------------------------------------------

    def show_icon(self) -> bool:
        """Show the icon if the desktop has a tray; say whether it does."""
        if not QSystemTrayIcon.isSystemTrayAvailable():
            log.info("no system tray on this desktop; no tray icon")
            return False
        if self.icon is None:
            self.icon = QSystemTrayIcon(self._app_icon, self)
            self.icon.setContextMenu(self.menu)
            self.icon.activated.connect(self._on_activated)
        self.icon.setToolTip(self.tooltip())
        self.icon.show()
        return True

    def hide_icon(self) -> None:
        """Take the icon off the tray (before the app quits: no ghost icon is left)."""
        if self.icon is not None:
            self.icon.hide()

    def tooltip(self) -> str:
        """The icon's tooltip: the app's name, and whether it is locked or capture paused."""
        if self._locked:
            return LOCKED_TOOLTIP
        return PAUSED_TOOLTIP if self.pause_action.isChecked() else APP_NAME

    def set_locked(self, locked: bool) -> None:
        """Say in the tooltip whether the window is locked (`IdleLock.locked_changed`)."""
        self._locked = locked
        if self.icon is not None:
            self.icon.setToolTip(self.tooltip())

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger,
                      QSystemTrayIcon.ActivationReason.DoubleClick):
            self.open_window()

    # --- the actions ----------------------------------------------------------------

    def open_window(self) -> None:
        """Show the window, un-minimised, in front."""
        bring_to_front(self._window)

    def set_paused(self, paused: bool) -> None:
        """Pause or resume all capture in a job; the check mark follows the outcome."""
        runner = self._window.runner
        if runner.facade is None:
            self._show_paused(not paused)
            return
        try:
            job = runner.run(Lane.CARE, "pause capture" if paused else "resume capture",
                             set_capture_paused(paused), writes=False)
        except JobBusy:
            self._show_paused(not paused)
            self._window.statusBar().showMessage(BUSY_MESSAGE, 8000)
            return
        self.pause_action.setEnabled(False)  # one change at a time
        job.finished.connect(lambda: self.pause_action.setEnabled(True))
        job.succeeded.connect(self._on_paused)
        job.failed.connect(lambda message, is_bug: self._on_failed(paused, message, is_bug))

    def _on_paused(self, paused: object) -> None:
        state = bool(paused)
        self._show_paused(state)
        self._window.statusBar().showMessage(PAUSED_MESSAGE if state else RESUMED_MESSAGE,
                                             8000)
        self.paused_changed.emit(state)

    def _on_failed(self, wanted: bool, message: str, is_bug: bool) -> None:
        facade = self._window.runner.facade
        self._show_paused(facade.capture_paused if facade is not None else not wanted)
        title = "Could not pause capture" if wanted else "Could not resume capture"
        self._window.show_problem(title, message, is_bug=is_bug)

    def _on_opened(self) -> None:
        facade = self._window.runner.facade
        if facade is None:
            return
        # An in-memory flag the facade read when it opened: no store access here.
        self._show_paused(facade.capture_paused)
        self.pause_action.setEnabled(True)
        lock = getattr(self._window, "idle_lock", None)  # made once the store opened
        if lock is not None:
            lock.locked_changed.connect(self.set_locked)

    def _sync_paused(self) -> None:
        facade = self._window.runner.facade
        if facade is not None:
            self._show_paused(facade.capture_paused)

    def _show_paused(self, paused: bool) -> None:
        """Set the check mark and tooltip without starting another job."""
        self.pause_action.blockSignals(True)
        self.pause_action.setChecked(paused)
        self.pause_action.blockSignals(False)
        if self.icon is not None:
            self.icon.setToolTip(self.tooltip())
