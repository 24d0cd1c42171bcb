"""The Settings screen on a real store: every change applies at once and is kept."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import cast

import pytest
from PySide6.QtCore import Qt, QTime
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from reverie.core import privacy
from reverie.core.config import SETTINGS_FILE, resolve_config_dir
from reverie.core.privacy import KeyMethod, RuleKind
from reverie.core.store import keys
from reverie.desktop.main_window import MainWindow
from reverie.desktop.settings_view import SettingsDialog, show_settings
from tests.desktop.conftest import OFFSCREEN_SIZE_HINTS, MemoryLLM

pytestmark = pytest.mark.gui
# The offscreen platform cannot raise a window and says so (as in test_tray); the
# closest marker wins, so each test that shows the dialog carries it.
NO_RAISE = pytest.mark.qt_log_ignore(
    OFFSCREEN_SIZE_HINTS, r"^This plugin does not support raise\(\)$")

JOB_TIMEOUT_MS = 30_000
SECRET_TURN = "The diagnosis came back fine."


def _open(qtbot: QtBot, make_window: Callable[..., object],
          **kwargs: object) -> tuple[MainWindow, SettingsDialog]:
    window = cast(MainWindow, make_window(llm=MemoryLLM(), **kwargs))
    window.settings_action.trigger()
    dialog = window.findChild(SettingsDialog)
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.flow.snapshot is not None, timeout=JOB_TIMEOUT_MS)
    return window, dialog


def _saved() -> dict[str, object]:
    path = resolve_config_dir() / SETTINGS_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def _chat(path: Path) -> Path:
    lines = [{"conversation": "Sam and me", "id": str(n), "time": f"2026-03-02T19:0{n}:00",
              "speaker": "Alex", "text": text}
             for n, text in enumerate(["We planted beans.", SECRET_TURN])]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    return path


@NO_RAISE
def test_the_action_opens_three_tabs(qtbot: QtBot, make_window: Callable[..., object]) -> None:
    window, dialog = _open(qtbot, make_window)
    assert window.settings_action.shortcut().toString() == "Ctrl+,"
    assert [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())] == [
        "&Consolidation", "&Privacy", "&Never remember"]
    assert "keyring" in dialog.privacy.key_label.text()
    assert show_settings(window) is dialog  # made once


@NO_RAISE
def test_lock_choice_applies_at_once_and_is_kept(
    qtbot: QtBot, make_window: Callable[..., object]
) -> None:
    window, dialog = _open(qtbot, make_window)
    choice = dialog.privacy.lock_choice
    choice.setCurrentIndex(choice.findData(15))
    choice.activated.emit(choice.currentIndex())
    assert window.idle_lock.timeout_ms == 15 * 60_000
    qtbot.waitUntil(lambda: _saved().get("lock_minutes") == 15, timeout=JOB_TIMEOUT_MS)


@NO_RAISE
def test_the_schedule_is_kept_and_the_scheduler_restarts_on_it(
    qtbot: QtBot, make_window: Callable[..., object]
) -> None:
    window, dialog = _open(qtbot, make_window, schedule_sleep=True)
    qtbot.waitUntil(lambda: window.sleep_bridge.scheduling, timeout=JOB_TIMEOUT_MS)
    tab = dialog.consolidation
    tab.when_idle.setChecked(False)
    tab.nightly.setTime(QTime(1, 30))
    tab.nightly.editingFinished.emit()
    assert not window.sleep_bridge.settings.idle_runs
    qtbot.waitUntil(lambda: _saved() == {"lock_minutes": 0, "nightly_time": "01:30",
                                         "consolidate_when_idle": False},
                    timeout=JOB_TIMEOUT_MS)

    def restarted() -> bool:
        upcoming = window.sleep_bridge.next_nightly()
        return upcoming is not None and (upcoming.hour, upcoming.minute) == (1, 30)

    qtbot.waitUntil(restarted, timeout=JOB_TIMEOUT_MS)
    assert "01:30" in tab.next_run.text()


def test_a_bad_settings_file_is_named_and_kept(
    qtbot: QtBot, make_window: Callable[..., object]
) -> None:
    path = resolve_config_dir() / SETTINGS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"lock_minutes": 3, "nightly_time": "04:15"})
    path.write_text(text)
    window = cast(MainWindow, make_window(llm=MemoryLLM()))
    box = window.problem_box
    assert box is not None
    assert "lock_minutes" in box.text()
    assert window.idle_lock.timeout_ms == 0  # the default, safely
    assert window.sleep_bridge.settings.nightly_hour == 4  # the good field holds
    assert path.read_text() == text


@NO_RAISE
def test_consolidate_now_is_memory_cares_and_its_run_shows_here(
    qtbot: QtBot, make_window: Callable[..., object]
) -> None:
    window, dialog = _open(qtbot, make_window)
    tab = dialog.consolidation
    assert tab.consolidate_button.defaultAction() is window.care.run.consolidate_action
    with qtbot.waitSignal(window.care.refreshed, timeout=JOB_TIMEOUT_MS):
        qtbot.mouseClick(tab.consolidate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Run you started" in tab.last_run.text(), timeout=JOB_TIMEOUT_MS)


@NO_RAISE
def test_pause_capture_mirrors_the_store(
    qtbot: QtBot, make_window: Callable[..., object]
) -> None:
    window, dialog = _open(qtbot, make_window)
    facade = window.runner.facade
    assert facade is not None
    dialog.privacy.pause.setChecked(True)
    qtbot.waitUntil(lambda: facade.capture_paused, timeout=JOB_TIMEOUT_MS)
    dialog.privacy.pause.setChecked(False)
    qtbot.waitUntil(lambda: not facade.capture_paused, timeout=JOB_TIMEOUT_MS)


@NO_RAISE
def test_adding_a_rule_offers_to_forget_what_matches(
    qtbot: QtBot, tmp_path: Path, make_window: Callable[..., object]
) -> None:
    window, dialog = _open(qtbot, make_window)
    facade = window.runner.facade
    assert facade is not None
    facade.import_file(_chat(tmp_path / "chat.jsonl"), extract=False)
    rules = dialog.rules

    qtbot.keyClicks(rules.value, "?!")
    qtbot.mouseClick(rules.add_button, Qt.MouseButton.LeftButton)
    assert "letter or digit" in rules.problem.text()
    assert facade.privacy_rules().rules == ()

    rules.value.clear()
    qtbot.keyClicks(rules.value, "DIAGNOSIS")
    qtbot.mouseClick(rules.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.flow.forget_box is not None, timeout=JOB_TIMEOUT_MS)
    assert [r.value for r in facade.privacy_rules().rules] == ["DIAGNOSIS"]
    assert rules.list.count() == 1
    box = dialog.flow.forget_box
    assert box is not None
    assert "1 turn or passage" in box.text()
    texts = lambda: [r["text"] for r in facade.store.ledger.query("SELECT text FROM episodes")]  # noqa: E731
    assert SECRET_TURN in texts()  # offered, not done
    forget = next(b for b in box.buttons()
                  if box.buttonRole(b) is QMessageBox.ButtonRole.DestructiveRole)
    with qtbot.waitSignal(window.runner.changed, timeout=JOB_TIMEOUT_MS):
        forget.click()
    assert texts() == ["We planted beans."]

    rules.kind.setCurrentIndex(rules.kind.findData(RuleKind.SOURCE.value))
    qtbot.keyClicks(rules.value, "Medical")
    qtbot.keyClick(rules.value, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: rules.list.count() == 2, timeout=JOB_TIMEOUT_MS)
    rules.list.setCurrentRow(0)
    qtbot.mouseClick(rules.remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: rules.list.count() == 1, timeout=JOB_TIMEOUT_MS)
    assert [r.kind for r in facade.privacy_rules().rules] == [RuleKind.SOURCE]


@NO_RAISE
def test_the_key_moves_to_a_passphrase_and_a_weak_or_wrong_one_changes_nothing(
    qtbot: QtBot, make_window: Callable[..., object]
) -> None:
    window, dialog = _open(qtbot, make_window)
    facade = window.runner.facade
    assert facade is not None
    key_file = facade.data_dir / keys.KEY_FILE
    before = key_file.read_text()
    key_dialog = dialog.flow.ask_key_change(False)
    assert key_dialog is not None
    assert not key_dialog.current.isVisibleTo(key_dialog)  # the keyring holds it now
    qtbot.keyClicks(key_dialog.new, "short")
    qtbot.keyClicks(key_dialog.again, "short")
    key_dialog.ok.click()
    assert "at least 8" in key_dialog.problem.text()
    assert key_file.read_text() == before

    for field in (key_dialog.new, key_dialog.again):
        field.clear()
        qtbot.keyClicks(field, "a long new passphrase")
    with qtbot.waitSignal(key_dialog.accepted, timeout=JOB_TIMEOUT_MS):
        key_dialog.ok.click()
    assert privacy.key_method(facade.data_dir) is KeyMethod.PASSPHRASE
    assert window.idle_lock.key_method is KeyMethod.PASSPHRASE
    qtbot.waitUntil(lambda: "passphrase" in dialog.privacy.key_label.text(),
                    timeout=JOB_TIMEOUT_MS)

    again = dialog.flow.ask_key_change(True)  # back to the keyring: asks the passphrase
    assert again is not None
    after = key_file.read_text()
    qtbot.keyClicks(again.current, "a wrong passphrase")
    again.ok.click()
    qtbot.waitUntil(lambda: "not the passphrase" in again.problem.text(),
                    timeout=JOB_TIMEOUT_MS)
    assert key_file.read_text() == after
    assert again.ok.isEnabled()  # another try is possible
