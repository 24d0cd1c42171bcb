"""`reverie --demo`: the launcher builds a throwaway store from the sample life, opens the
real app on it, and removes it when the app quits; the user's own data is untouched."""

from __future__ import annotations

import itertools
import json
import os
import tempfile
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QProgressDialog, QPushButton
from pytestqt.qtbot import QtBot

from reverie.core.config import DATA_DIR_ENV
from reverie.core.demo import SAMPLE_DIR
from reverie.core.store.keys import PASSPHRASE_ENV
from reverie.desktop import app as app_module
from reverie.desktop import launcher
from reverie.desktop.main_window import MainWindow
from tests.desktop.conftest import when, when_window
from tests.keyring_double import MemoryKeyring

pytestmark = pytest.mark.gui


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under `folder` with its size and modification time."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(autouse=True)
def keep_test_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app and the launcher configure the `reverie` loggers; tests keep pytest's."""
    monkeypatch.setattr(app_module, "configure_logging", lambda verbose: None)
    monkeypatch.setattr(launcher, "configure_logging", lambda verbose: None)


@pytest.fixture
def temp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the demo's temporary folder is made, to check that it goes away."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


@pytest.fixture
def mine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's own data directory, named by $REVERIE_DATA_DIR, with a store in it."""
    folder = tmp_path / "my-data"
    folder.mkdir()
    (folder / "ledger.db").write_bytes(b"the user's own store")
    monkeypatch.setenv(DATA_DIR_ENV, str(folder))
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    return folder


def test_demo_opens_the_sample_in_the_app_and_leaves_no_trace(
    qtbot: QtBot, mine: Path, temp_root: Path, model_choices: Path,
    memory_keyring: MemoryKeyring,
) -> None:
    before = snapshot(mine), snapshot(model_choices)
    seen: dict[str, object] = {}
    sample = [json.loads(line) for line in
              (SAMPLE_DIR / "memories.jsonl").read_text(encoding="utf-8").splitlines()]

    def look_then_quit(window: MainWindow) -> None:
        facade = window.runner.facade
        assert facade is not None
        seen["data_dir"] = facade.data_dir
        seen["counts"] = facade.counts()
        seen["inbox"] = len(facade.review_inbox())
        seen["days"] = window.timeline_model.rowCount()
        seen["keyring"] = dict(memory_keyring.entries)
        window.quit_action.trigger()

    when_window(lambda w: w.runner.facade is not None
                and w.timeline_model.rowCount() > 0, look_then_quit)
    assert launcher.main(["--demo"]) == 0

    data_dir = seen["data_dir"]
    assert isinstance(data_dir, Path)
    assert temp_root in data_dir.parents
    counts = seen["counts"]
    assert isinstance(counts, dict)
    assert counts["memories"] == len(sample)
    assert counts["episodes"] > 200
    assert seen["inbox"] == sum(m["confidence"] < 0.6 for m in sample)
    assert isinstance(seen["days"], int)
    assert seen["days"] > 30
    assert seen["keyring"] == {}  # the demo's key never went to the keyring
    assert list(temp_root.iterdir()) == []  # the temporary store is gone
    assert (snapshot(mine), snapshot(model_choices)) == before
    assert os.environ[DATA_DIR_ENV] == str(mine)
    assert PASSPHRASE_ENV not in os.environ


@pytest.mark.parametrize("args", [["--demo", "search", "x"], ["--demo", "stats"],
                                  ["--demo", "--data-dir", "somewhere"]])
def test_demo_is_only_for_the_app(
    args: list[str], temp_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        launcher.main(args)
    assert exit_info.value.code == 2
    assert "--demo" in capsys.readouterr().err
    assert list(temp_root.iterdir()) == []



def progress_dialog() -> QProgressDialog | None:
    """The progress window shown, if any."""
    return next((w for w in QApplication.topLevelWidgets()
                 if isinstance(w, QProgressDialog) and w.isVisible()), None)


def test_the_store_is_built_under_a_progress_window_that_keeps_painting(
    qtbot: QtBot, mine: Path, temp_root: Path,
) -> None:
    """Built on a worker: the progress window shows at once and the event loop runs
    throughout (a 20 ms timer keeps ticking); the app's window comes after."""
    ticks: list[float] = []
    ticker = QTimer()
    ticker.setInterval(20)

    def tick() -> None:
        if progress_dialog() is not None:
            ticks.append(time.monotonic())
        else:
            ticker.stop()  # built: what follows is the app opening, not the build

    ticker.timeout.connect(tick)
    seen: dict[str, object] = {}

    def on_dialog(dialog: QProgressDialog) -> None:
        seen["name"] = dialog.accessibleName()
        seen["windows"] = [w for w in QApplication.topLevelWidgets()
                           if isinstance(w, MainWindow) and w.isVisible()]
        ticker.start()

    def on_window(window: MainWindow) -> None:
        seen["open"] = window.runner.facade is not None
        window.quit_action.trigger()

    when(progress_dialog, on_dialog)
    when_window(lambda w: w.runner.facade is not None, on_window)
    assert launcher.main(["--demo"]) == 0
    assert seen["name"] == "Building the sample life"
    assert seen["windows"] == []  # the window waits for the store
    assert seen["open"] is True
    gaps = [later - earlier for earlier, later in itertools.pairwise(ticks)]
    assert len(ticks) > 20, ticks  # the build takes seconds: the loop ran all along
    assert max(gaps) < 1.0, max(gaps)  # no freeze while it builds
    assert list(temp_root.iterdir()) == []


def test_cancelling_the_build_closes_cleanly(
    qtbot: QtBot, mine: Path, temp_root: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    windows: list[MainWindow] = []

    def cancel(dialog: QProgressDialog) -> None:
        button = dialog.findChild(QPushButton)
        assert button is not None
        button.click()

    def unexpected(window: MainWindow) -> None:
        windows.append(window)
        window.quit_action.trigger()  # fail below rather than hang here

    when(progress_dialog, cancel)
    when_window(lambda _w: True, unexpected)  # must never come
    assert launcher.main(["--demo"]) == launcher.cli.EXIT_CANCELLED
    assert windows == []
    assert progress_dialog() is None
    assert list(temp_root.iterdir()) == []  # the half-built store is gone
    assert "cancelled" in capsys.readouterr().err
