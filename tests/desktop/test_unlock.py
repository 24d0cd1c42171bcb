"""Without a secure keyring the app asks for a passphrase: a new one the first time,
then the one that unlocks the store, again and again until it is right."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from reverie.core.compose import open_reverie
from reverie.core.service import Reverie
from reverie.core.store.keys import (
    PassphraseRequest,
    Unlocker,
    fixed_passphrase,
    passphrase_needed,
)
from reverie.desktop.main_window import MainWindow
from reverie.desktop.unlock import PassphraseDialog
from reverie.models.base import LLM, Embedder
from tests.desktop.conftest import OPEN_TIMEOUT_MS


def window_for(
    qtbot: QtBot, data: Path, llm: LLM, embedder: Embedder
) -> MainWindow:
    def opener(passphrase: str | None) -> Reverie:
        ask = fixed_passphrase(passphrase) if passphrase else None
        return open_reverie(data, llm=llm, embedder=embedder, unlocker=Unlocker(None, ask))

    window = MainWindow(
        opener, needs_passphrase=lambda: passphrase_needed(data, None), schedule_sleep=False)
    qtbot.addWidget(window)
    window.show()
    return window


def type_into(qtbot: QtBot, dialog: PassphraseDialog, first: str, again: str = "") -> None:
    qtbot.keyClicks(dialog.entry, first)
    if again:
        qtbot.keyClicks(dialog.again, again)


def test_choose_then_unlock_with_retries(
    qtbot: QtBot, tmp_path: Path, bundled_llm: LLM, bundled_embedder: Embedder
) -> None:
    data = tmp_path / "data"
    first = window_for(qtbot, data, bundled_llm, bundled_embedder)
    first.start()
    dialog = first.passphrase_dialog
    assert dialog is not None
    assert dialog.request is PassphraseRequest.CREATE
    type_into(qtbot, dialog, "short", "short")
    dialog._check_and_accept()
    assert dialog.isVisible()
    assert "at least 8" in dialog.problem.text()
    dialog.entry.setText("river stones 42")
    dialog.again.setText("river stones 24")
    dialog._check_and_accept()
    assert "differ" in dialog.problem.text()
    dialog.again.setText("river stones 42")
    with qtbot.waitSignal(first.opened, timeout=OPEN_TIMEOUT_MS):
        dialog._check_and_accept()
    first.close()
    first.shutdown()

    second = window_for(qtbot, data, bundled_llm, bundled_embedder)
    second.start()
    assert second.passphrase_dialog is not None
    assert second.passphrase_dialog.request is PassphraseRequest.UNLOCK
    type_into(qtbot, second.passphrase_dialog, "not the one")
    second.passphrase_dialog._check_and_accept()
    qtbot.waitUntil(
        lambda: second.passphrase_dialog is not None
        and second.passphrase_dialog.request is PassphraseRequest.RETRY,
        timeout=OPEN_TIMEOUT_MS,
    )
    retry = second.passphrase_dialog
    assert retry is not None
    assert retry.problem.isVisibleTo(retry)
    type_into(qtbot, retry, "river stones 42")
    with qtbot.waitSignal(second.opened, timeout=OPEN_TIMEOUT_MS):
        retry._check_and_accept()
    assert second.exit_code == 0
    second.close()
    second.shutdown()
