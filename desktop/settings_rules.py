"""What the Settings screen's privacy tabs start: reading them, changing the key,
pausing capture, and adding or removing a never-remember rule.

Adding a rule saves it at once (it holds from the next turn stored), then looks for
what is already stored that it covers; if there is any, the user is offered, not made,
to forget it, through the forget preview (`ForgetPlan.describe`) and a confirmation.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMessageBox, QWidget

from reverie.core.errors import BadInput
from reverie.core.privacy import KeyMethod, PrivacyRules, Rule, make_rule
from reverie.core.store.forget import ForgetPlan
from reverie.desktop import settings_work
from reverie.desktop.care_work import CareOutcome
from reverie.desktop.idle_lock import IdleLock
from reverie.desktop.jobs import Job, Lane
from reverie.desktop.settings_privacy import KeyDialog, PrivacyTab, RulesTab
from reverie.desktop.settings_work import PrivacySnapshot, start_when_free

if TYPE_CHECKING:
    from reverie.desktop.main_window import MainWindow

log = logging.getLogger("reverie.desktop.settings")

KEY_MOVED = {KeyMethod.KEYRING: "The key is now kept in your keyring.",
             KeyMethod.PASSPHRASE: "Your memories are now locked with the new passphrase."}


class PrivacyFlow(QObject):
    """Runs the privacy tabs' jobs and shows their outcomes there."""

    def __init__(self, window: MainWindow, lock: IdleLock, privacy_tab: PrivacyTab,
                 rules_tab: RulesTab, parent: QWidget) -> None:
        super().__init__(parent)
        self._window = window
        self._lock = lock
        self._dialog_parent = parent
        self.privacy_tab = privacy_tab
        self.rules_tab = rules_tab
        self.snapshot: PrivacySnapshot | None = None
        self.key_dialog: KeyDialog | None = None
        self.forget_box: QMessageBox | None = None
        privacy_tab.key_change_asked.connect(self.ask_key_change)
        privacy_tab.pause_toggled.connect(self.set_paused)
        rules_tab.add_asked.connect(self.add_rule)
        rules_tab.remove_asked.connect(self.remove_rule)
        # A pause or resume from the tray reaches capture, which reports its sources.
        window.capture_bridge.statuses_changed.connect(lambda _statuses: self._sync_paused())

    def refresh(self) -> None:
        """Read where the key is, the rules and the capture pause (a job)."""
        start_when_free(self._window.runner, Lane.STATUS, "read privacy",
                        settings_work.read_privacy, writes=False, then=self._on_reading)

    def _on_reading(self, job: Job) -> None:
        job.succeeded.connect(self._show)
        job.failed.connect(lambda message, is_bug: self._window.show_problem(
            "Could not read the privacy settings", message, is_bug=is_bug))

    def _show(self, snapshot: object) -> None:
        assert isinstance(snapshot, PrivacySnapshot)
        self.snapshot = snapshot
        self.privacy_tab.show_key(snapshot.key_method, snapshot.keyring_available)
        self.privacy_tab.show_paused(snapshot.capture_paused)
        self.rules_tab.show_rules(snapshot.rules, snapshot.withheld)
        self._lock.key_method = snapshot.key_method

    def _sync_paused(self) -> None:
        facade = self._window.runner.facade
        if facade is not None:  # an in-memory flag: no store read
            self.privacy_tab.show_paused(facade.capture_paused)

    # --- the key --------------------------------------------------------------------

    def ask_key_change(self, to_keyring: bool) -> KeyDialog | None:
        """Ask for what the key change needs (the dialog runs it on submit)."""
        if self.snapshot is None:
            return None
        dialog = KeyDialog(self.snapshot.key_method, to_keyring, self._dialog_parent)
        dialog.submitted.connect(self._change_key)
        self.key_dialog = dialog
        dialog.open()
        return dialog

    def _change_key(self, current: object, new: object, to_keyring: bool) -> None:
        dialog = self.key_dialog
        assert dialog is not None
        work = settings_work.change_key(
            current if isinstance(current, str) else None,
            new if isinstance(new, str) else None, to_keyring)

        def started(job: Job) -> None:
            job.succeeded.connect(lambda method: self._on_key_changed(dialog, method))
            job.failed.connect(lambda message, _bug: dialog.show_problem(message))

        start_when_free(self._window.runner, Lane.CARE, "change key", work, writes=False,
                        then=started)

    def _on_key_changed(self, dialog: KeyDialog, method: object) -> None:
        assert isinstance(method, KeyMethod)
        dialog.accept()
        self._lock.key_method = method
        self._window.statusBar().showMessage(KEY_MOVED[method], 8000)
        self.refresh()

    # --- capture --------------------------------------------------------------------

    def set_paused(self, paused: bool) -> None:
        """Pause or resume all capture, as the tray does."""

        def started(job: Job) -> None:
            self.privacy_tab.pause.setEnabled(False)
            job.finished.connect(lambda: self.privacy_tab.pause.setEnabled(True))
            job.succeeded.connect(lambda state: self.privacy_tab.show_paused(bool(state)))
            job.failed.connect(self._pause_failed)

        start_when_free(self._window.runner, Lane.CARE,
                        "pause capture" if paused else "resume capture",
                        settings_work.set_capture_paused(paused), writes=False, then=started)

    def _pause_failed(self, message: str, is_bug: bool) -> None:
        self._sync_paused()
        self._window.show_problem("Could not change capture", message, is_bug=is_bug)

    # --- the rules ------------------------------------------------------------------

    def add_rule(self, kind: str, value: str) -> None:
        """Check and save a new rule, then offer to forget what it already covers."""
        if self.snapshot is None:
            return
        try:
            rule = make_rule(kind, value)
            rules = self.snapshot.rules.added(rule)
        except BadInput as problem:
            text = str(problem)
            self.rules_tab.show_problem(text[:1].upper() + text[1:] + ".")
            return
        self.rules_tab.show_problem("")
        self.rules_tab.value.clear()
        self._save_rules(rules, then_offer=rule)

    def remove_rule(self, rule: Rule) -> None:
        """Drop a rule: what it covers may be stored again from the next import on."""
        if self.snapshot is not None:
            self._save_rules(self.snapshot.rules.without(rule), then_offer=None)

    def _save_rules(self, rules: PrivacyRules, then_offer: Rule | None) -> None:
        def started(job: Job) -> None:
            self.rules_tab.set_busy(True)
            job.finished.connect(lambda: self.rules_tab.set_busy(False))
            job.succeeded.connect(lambda saved: self._on_rules_saved(saved, then_offer))
            job.failed.connect(lambda message, _bug: self.rules_tab.show_problem(message))

        start_when_free(self._window.runner, Lane.CARE, "save rules",
                        settings_work.set_rules(rules), writes=False, then=started)

    def _on_rules_saved(self, saved: object, rule: Rule | None) -> None:
        assert isinstance(saved, PrivacyRules)
        assert self.snapshot is not None
        self.snapshot = PrivacySnapshot(
            self.snapshot.key_method, self.snapshot.keyring_available, saved,
            self.snapshot.withheld, self.snapshot.capture_paused)
        self.rules_tab.show_rules(saved, self.snapshot.withheld)
        if rule is not None:
            start_when_free(self._window.runner, Lane.CARE, "plan forget matching",
                            settings_work.plan_matching(rule), writes=False,
                            then=self._on_planning)

    def _on_planning(self, job: Job) -> None:
        job.succeeded.connect(self._offer_forget)
        job.failed.connect(lambda message, _bug: self.rules_tab.show_problem(message))

    def _offer_forget(self, plan: object) -> None:
        assert isinstance(plan, ForgetPlan)
        if plan.empty:
            self._window.statusBar().showMessage(
                "Rule added. Nothing already stored matches it.", 8000)
            return
        box = QMessageBox(
            QMessageBox.Icon.Question, "Forget what already matches?",
            "Rule added: from now on, matching text is never stored.\n\n"
            f"Already stored and matching: {plan.describe()}\n\nForget it now?",
            QMessageBox.StandardButton.NoButton, self._dialog_parent)
        box.setAccessibleName("Forget what already matches")
        forget = box.addButton("&Forget", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton("&Keep it", QMessageBox.ButtonRole.RejectRole)
        box.finished.connect(lambda _result: self._forget_answered(box, forget, plan))
        self.forget_box = box
        box.open()

    def _forget_answered(self, box: QMessageBox, forget: object, plan: ForgetPlan) -> None:
        self.forget_box = None
        if box.clickedButton() is not forget:
            return

        def started(job: Job) -> None:
            job.succeeded.connect(self._forgotten)
            job.failed.connect(lambda message, is_bug: self._window.show_problem(
                "Could not forget", message, is_bug=is_bug))

        start_when_free(self._window.runner, Lane.CARE, "forget matching",
                        settings_work.forget(plan), writes=True, then=started)

    def _forgotten(self, outcome: object) -> None:
        assert isinstance(outcome, CareOutcome)
        self._window.statusBar().showMessage(outcome.message, 8000)
