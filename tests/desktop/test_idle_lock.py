"""Lock after idle: no input for the timeout and the window hides behind the lock screen;
the passphrase (or Unlock, reading the keyring again) brings it back."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from reverie.core import privacy
from reverie.core.compose import open_reverie
from reverie.core.store.keys import PASSPHRASE_ENV
from reverie.desktop.app import app_icon
from reverie.desktop.idle_lock import KEYRING_REFUSED, WRONG
from reverie.desktop.main_window import MainWindow
from reverie.desktop.settings_view import SettingsDialog, show_settings
from reverie.desktop.tray import LOCKED_TOOLTIP, Tray
from reverie.models.base import Embedder
from tests.desktop.conftest import OFFSCREEN_SIZE_HINTS, OPEN_TIMEOUT_MS, MemoryLLM
from tests.keyring_double import MemoryKeyring

pytestmark = pytest.mark.gui
# The offscreen platform cannot raise a window and says so (as in test_tray).
NO_RAISE = pytest.mark.qt_log_ignore(
    OFFSCREEN_SIZE_HINTS, r"^This plugin does not support raise\(\)$")

SHORT_MS = 300
JOB_TIMEOUT_MS = 30_000
PASSPHRASE = "correct horse battery"


def _window(make_window: Callable[..., object], **kwargs: object) -> MainWindow:
    return cast(MainWindow, make_window(llm=MemoryLLM(), **kwargs))


def _content_hidden(window: MainWindow) -> bool:
    return (window.pages.currentWidget() is window.idle_lock.screen
            and not window.timeline.isVisible() and not window.chat.isVisible()
            and not window.chat.input.isEnabled() and not window.menuBar().isEnabled())


def test_it_locks_after_the_timeout_and_unlock_reads_the_keyring(
    qtbot: QtBot, make_window: Callable[..., object], memory_keyring: MemoryKeyring
) -> None:
    window = _window(make_window)
    lock = window.idle_lock
    assert lock.timeout_ms == 0  # the default: never
    with qtbot.waitSignal(lock.locked_changed, timeout=5000) as locked:
        lock.set_timeout_ms(SHORT_MS)
    assert locked.args == [True]
    assert _content_hidden(window)
    assert lock.screen.isVisible()
    assert not lock.screen.passphrase.isVisible()  # the key is in the keyring: no field
    qtbot.keyClick(lock.screen.unlock_button, Qt.Key.Key_Comma,
                   Qt.KeyboardModifier.ControlModifier)
    assert window.findChild(SettingsDialog) is None  # the menus' shortcuts are off too

    saved = dict(memory_keyring.entries)
    memory_keyring.entries.clear()  # the keyring no longer gives the key
    with qtbot.waitSignal(window.runner.busy_changed, timeout=JOB_TIMEOUT_MS):
        qtbot.mouseClick(lock.screen.unlock_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: lock.screen.problem.text() == KEYRING_REFUSED,
                    timeout=JOB_TIMEOUT_MS)
    assert lock.locked

    memory_keyring.entries.update(saved)
    with qtbot.waitSignal(lock.locked_changed, timeout=JOB_TIMEOUT_MS) as unlocked:
        qtbot.mouseClick(lock.screen.unlock_button, Qt.MouseButton.LeftButton)
    assert unlocked.args == [False]
    assert window.pages.currentIndex() == 1
    assert window.chat.input.isEnabled()
    assert window.menuBar().isEnabled()
    assert window.timeline.isVisible()


def test_input_keeps_it_unlocked(qtbot: QtBot, make_window: Callable[..., object]) -> None:
    window = _window(make_window)
    lock = window.idle_lock
    lock.set_timeout_ms(SHORT_MS)
    counted = lock.input_events
    end = time.monotonic() + SHORT_MS * 3 / 1000
    while time.monotonic() < end:  # typing: never SHORT_MS without input
        qtbot.keyClick(window.chat.input, "a")
        qtbot.wait(SHORT_MS // 4)
    assert not lock.locked
    assert lock.input_events > counted
    qtbot.waitUntil(lambda: lock.locked, timeout=5000)  # then the typing stops


def test_a_passphrase_store_asks_for_it_and_a_wrong_one_keeps_it_locked(
    qtbot: QtBot, tmp_path: Path, make_window: Callable[..., object],
    bundled_embedder: Embedder, monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = tmp_path / "data"
    facade = open_reverie(data, embedder=bundled_embedder)
    facade.change_key(privacy.new_key_unlocker(PASSPHRASE, False), to_keyring=False)
    facade.close()
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)  # how the test's window opens it
    window = _window(make_window, data_dir=data)
    lock = window.idle_lock
    lock.lock()
    assert lock.screen.passphrase.isVisible()

    qtbot.keyClicks(lock.screen.passphrase, "not the passphrase")
    qtbot.mouseClick(lock.screen.unlock_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: lock.screen.problem.text() == WRONG, timeout=JOB_TIMEOUT_MS)
    assert lock.locked
    assert lock.screen.passphrase.text() == ""

    qtbot.keyClicks(lock.screen.passphrase, PASSPHRASE)
    with qtbot.waitSignal(lock.locked_changed, timeout=JOB_TIMEOUT_MS):
        qtbot.keyClick(lock.screen.passphrase, Qt.Key.Key_Return)
    assert not lock.locked


@NO_RAISE
def test_the_tray_says_locked_and_other_windows_hide_until_unlocked(
    qtbot: QtBot, make_window: Callable[..., object]
) -> None:
    window = cast(MainWindow, make_window(llm=MemoryLLM(), wait_open=False))
    tray = Tray(window, app_icon(), window)  # made before the store opens, as run_app does
    with qtbot.waitSignal(window.opened, timeout=OPEN_TIMEOUT_MS):
        window.start()
    dialog = show_settings(window)
    assert dialog is not None
    assert dialog.isVisible()
    window.idle_lock.lock()
    assert tray.tooltip() == LOCKED_TOOLTIP
    assert not dialog.isVisible()  # it shows memory care's last run, the rules…
    with qtbot.waitSignal(window.idle_lock.locked_changed, timeout=JOB_TIMEOUT_MS):
        window.idle_lock.unlock()
    assert tray.tooltip() != LOCKED_TOOLTIP
    assert dialog.isVisible()
