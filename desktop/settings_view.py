"""The Settings screen: consolidation, privacy and never-remember rules, in one dialog.

Every change takes effect at once and is kept: the app's own choices (lock after idle,
the consolidation schedule) in `settings.json` in the config folder (`core.config`),
the never-remember rules and the capture pause in the store, encrypted with it
(`core.privacy`), the key where the user chose (keyring or passphrase). Writes run as
jobs (`settings_work`); a `settings.json` with bad values opens with the defaults for
those fields and the window says which, leaving the file as it was.

`install_settings` runs once the store is open (`MainWindow._on_opened`): it reads the
file, hands the schedule to `SleepBridge` before it starts, and makes the `IdleLock`.
The last consolidation shown here is Memory care's own read (`CarePane`), and Consolidate
now is its action: nothing is read or run twice.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTime, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from reverie.core import privacy
from reverie.core.config import AppSettings, check_setting, load_app_settings, resolve_config_dir
from reverie.core.consolidate.schedule import ScheduleSettings
from reverie.desktop.care_model import run_heading, tally_text, when_text
from reverie.desktop.care_sections import NO_RUN, make_button
from reverie.desktop.idle_lock import IdleLock
from reverie.desktop.jobs import Job, Lane
from reverie.desktop.settings_privacy import PrivacyTab, RulesTab
from reverie.desktop.settings_rules import PrivacyFlow
from reverie.desktop.settings_work import save_settings, start_when_free
from reverie.desktop.sleep_bridge import start_sleep
from reverie.desktop.theme import use_tone

if TYPE_CHECKING:
    from reverie.desktop.main_window import MainWindow

log = logging.getLogger("reverie.desktop.settings")

SAVE_DELAY_MS = 600  # a time typed digit by digit is saved once, when the typing stops


def schedule_of(settings: AppSettings, base: ScheduleSettings) -> ScheduleSettings:
    """The scheduler's settings for the app's choices."""
    return dataclasses.replace(base, nightly_hour=settings.nightly_hour,
                               nightly_minute=settings.nightly_minute,
                               idle_runs=settings.consolidate_when_idle)


class SettingsController(QObject):
    """Holds the app's settings while the store is open, applies and saves them."""

    def __init__(self, window: MainWindow, settings: AppSettings,
                 key_method: privacy.KeyMethod) -> None:
        super().__init__(window)
        self.window = window
        self.settings = settings
        self.config_dir = resolve_config_dir()
        self.dialog: SettingsDialog | None = None
        self.idle_lock = IdleLock(window, timeout_ms=settings.lock_minutes * 60_000,
                                  key_method=key_method)
        bridge = window.sleep_bridge
        bridge.use_settings(schedule_of(settings, bridge.settings))

    def change(self, **values: object) -> None:
        """Take new values (checked field by field), apply them at once and save them."""
        checked = {name: check_setting(name, value) for name, value in values.items()}
        before, self.settings = self.settings, dataclasses.replace(self.settings, **checked)
        if self.settings == before:
            return
        if self.settings.lock_minutes != before.lock_minutes:
            self.idle_lock.set_minutes(self.settings.lock_minutes)
        if (self.settings.nightly_time, self.settings.consolidate_when_idle) != (
                before.nightly_time, before.consolidate_when_idle):
            self._reschedule()
        start_when_free(self.window.runner, Lane.CARE, "save settings",
                        save_settings(self.config_dir, self.settings), writes=False,
                        then=self._on_saving)

    def _on_saving(self, job: Job) -> None:
        job.failed.connect(lambda message, is_bug: self.window.show_problem(
            "Your settings could not be saved", message, is_bug=is_bug))

    def _reschedule(self) -> None:
        """Apply the schedule now: stop the scheduler and start it on the new times."""
        bridge = self.window.sleep_bridge
        bridge.use_settings(schedule_of(self.settings, bridge.settings))
        if not bridge.scheduling:
            return  # not started (yet, or at all): the next start takes them

        def start_again() -> None:
            start_when_free(self.window.runner, Lane.STATUS, "start schedule",
                            start_sleep(bridge), writes=False, then=self._on_restarting)

        bridge.stopped.connect(start_again, Qt.ConnectionType.SingleShotConnection)
        bridge.stop_in_background()
        log.info("consolidation rescheduled: nightly at %s, idle runs %s",
                 self.settings.nightly_time, self.settings.consolidate_when_idle)

    def _on_restarting(self, job: Job) -> None:
        job.failed.connect(lambda message, is_bug: self.window.show_problem(
            "Consolidation will not run by itself", message, is_bug=is_bug))
        if self.dialog is not None:  # the next nightly time moved
            job.finished.connect(self.dialog.consolidation.show_last_run)

    def show(self) -> SettingsDialog:
        """Open the Settings screen (made once, shown again)."""
        if self.dialog is None:
            self.dialog = SettingsDialog(self)
        self.dialog.refresh()
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()
        return self.dialog


class ConsolidationTab(QWidget):
    """The nightly time, idle runs on or off, and the last run with Consolidate now."""

    def __init__(self, controller: SettingsController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Consolidation")
        self._controller = controller
        window = controller.window
        self.nightly = QTimeEdit()
        self.nightly.setDisplayFormat("HH:mm")
        self.nightly.setAccessibleName("Nightly time")
        self.nightly.setMaximumWidth(110)
        self.when_idle = QCheckBox(
            "Also when you are away from the computer (on mains power)")
        self.when_idle.setAccessibleName("Consolidate when idle")
        self.next_run = QLabel()
        use_tone(self.next_run, "muted")
        schedule = QGroupBox("&Schedule")
        form = QFormLayout(schedule)
        form.addRow("Every night at:", self.nightly)
        form.addRow("", self.when_idle)
        form.addRow("", self.next_run)
        self.last_run = QLabel(NO_RUN)
        self.last_run.setAccessibleName("Last run")
        self.last_run.setWordWrap(True)
        self.consolidate_button = make_button(window.care.run.consolidate_action,
                                              "Consolidate now", self)
        self.care_button = QPushButton("Open Memory &care")
        last = QGroupBox("Last &run")
        last_layout = QVBoxLayout(last)
        last_layout.addWidget(self.last_run)
        last_layout.addWidget(QLabel(
            "Consolidation merges duplicates, retires what is no longer true, summarises"
            " and fades; every change can be undone in Memory care."))
        buttons = QHBoxLayout()
        buttons.addWidget(self.consolidate_button)
        buttons.addWidget(self.care_button)
        buttons.addStretch(1)
        last_layout.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(schedule)
        layout.addWidget(last)
        layout.addStretch(1)
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self._save_time)
        self.nightly.timeChanged.connect(lambda _time: self._save_timer.start())
        self.nightly.editingFinished.connect(self._save_time)
        self.when_idle.toggled.connect(
            lambda on: controller.change(consolidate_when_idle=on))
        self.care_button.clicked.connect(window.show_care)
        window.care.refreshed.connect(self.show_last_run)
        window.sleep_bridge.started.connect(lambda _reason: self.show_last_run())

    def refresh(self) -> None:
        """Show the settings in force and Memory care's newest run."""
        settings = self._controller.settings
        self.nightly.blockSignals(True)
        self.nightly.setTime(QTime(settings.nightly_hour, settings.nightly_minute))
        self.nightly.blockSignals(False)
        self.when_idle.blockSignals(True)
        self.when_idle.setChecked(settings.consolidate_when_idle)
        self.when_idle.blockSignals(False)
        self.show_last_run()

    def show_last_run(self) -> None:
        """Memory care's newest run (its own read) and the next nightly time."""
        care = self._controller.window.care
        run = care.run.run
        running = self._controller.window.sleep_bridge.running
        if run is None:
            text = NO_RUN
        else:
            text = f"<b>{run_heading(run)}</b><br>{tally_text(care.changes_model.rows)}"
        if running is not None or care.consolidating:
            text += "<br><i>Consolidating now…</i>"
        self.last_run.setText(text)
        upcoming = self._controller.window.sleep_bridge.next_nightly()
        self.next_run.setText(f"Next nightly run: {when_text(upcoming)}" if upcoming
                              else "Runs by itself once Reverie has started its schedule.")

    def _save_time(self) -> None:
        self._save_timer.stop()
        self._controller.change(nightly_time=self.nightly.time().toString("HH:mm"))


class SettingsDialog(QDialog):
    """Consolidation, Privacy, Never remember: each change applies and is kept at once."""

    def __init__(self, controller: SettingsController) -> None:
        super().__init__(controller.window)
        self.setWindowTitle("Settings")
        self.setAccessibleName("Settings")
        self.controller = controller
        self.tabs = QTabWidget()
        self.consolidation = ConsolidationTab(controller)
        self.privacy = PrivacyTab()
        self.rules = RulesTab()
        self.tabs.addTab(self.consolidation, "&Consolidation")
        self.tabs.addTab(self.privacy, "&Privacy")
        self.tabs.addTab(self.rules, "&Never remember")
        self.flow = PrivacyFlow(controller.window, controller.idle_lock, self.privacy,
                                self.rules, self)
        self.privacy.lock_minutes_chosen.connect(
            lambda minutes: controller.change(lock_minutes=minutes))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(buttons)
        self.resize(640, 520)

    def refresh(self) -> None:
        """Show what is in force now (the privacy part is read in a job)."""
        self.consolidation.refresh()
        self.privacy.show_lock(self.controller.settings.lock_minutes)
        self.flow.refresh()


def install_settings(window: MainWindow) -> IdleLock:
    """Read the app's settings, give the schedule to the sleep bridge and make the idle
    lock; call once the store is open. Bad values in the file are shown, not fatal."""
    facade = window.runner.facade
    assert facade is not None
    # Two small files (settings.json, key.json): read here, before the schedule starts.
    loaded = load_app_settings(resolve_config_dir())
    controller = SettingsController(window, loaded.settings, privacy.key_method(facade.data_dir))
    if loaded.problems:
        window.show_problem(
            "Some settings could not be used",
            "\n".join(loaded.problems)
            + "\n\nReverie uses the defaults for those; the file was left as it is."
              " Choosing a setting again saves a corrected file.")
    return controller.idle_lock


def show_settings(window: MainWindow) -> SettingsDialog | None:
    """Open the Settings screen (once the store is open)."""
    controller = window.findChild(SettingsController)
    return controller.show() if controller is not None else None
