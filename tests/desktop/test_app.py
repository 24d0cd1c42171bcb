"""`run_app`, the launcher's entry: start-up, a clean quit, and a refused start."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from reverie.core.compose import open_reverie
from reverie.core.service import Reverie
from reverie.desktop import app as app_module
from reverie.desktop.main_window import MainWindow
from reverie.models.base import Embedder
from tests.desktop.conftest import when_window

pytestmark = pytest.mark.gui


@pytest.fixture(autouse=True)
def keep_test_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    """run_app configures the `reverie` loggers for a terminal; tests keep pytest's."""
    monkeypatch.setattr(app_module, "configure_logging", lambda verbose: None)


def test_run_app_opens_the_store_and_closes_it_on_quit(
    qtbot: QtBot, tmp_path: Path, bundled_embedder: Embedder
) -> None:
    seen: list[MainWindow] = []

    def quit_when_open(window: MainWindow) -> None:
        seen.append(window)
        assert QApplication.applicationName() == "Reverie"
        assert window.windowTitle() == "Reverie"
        window.quit_action.trigger()

    # A store exists: on an empty data directory the first-run wizard comes first
    # (tests/desktop/test_first_run.py).
    open_reverie(tmp_path / "data", embedder=bundled_embedder).close()
    when_window(lambda w: w.runner.facade is not None, quit_when_open)
    assert app_module.run_app(str(tmp_path / "data"), verbose=False) == 0
    assert seen
    assert seen[0].runner.facade is None
    # The lock was released: the data directory opens again.
    open_reverie(tmp_path / "data", embedder=bundled_embedder).close()


def test_run_app_explains_a_locked_data_directory_and_exits_1(
    qtbot: QtBot, tmp_path: Path, open_store: Callable[..., Reverie]
) -> None:
    data = tmp_path / "shared"
    open_store(data_dir=data)
    texts: list[str] = []

    def dismiss(window: MainWindow) -> None:
        box = window.problem_box
        assert box is not None
        texts.append(box.text())
        box.accept()

    when_window(lambda w: w.problem_box is not None, dismiss)
    assert app_module.run_app(str(data), verbose=False) == 1
    assert "is in use by Reverie" in texts[0]
