"""The main window end to end: open, import through File → Import, chat, problems."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt, QTimer
from PySide6.QtWidgets import QFileDialog, QMessageBox
from pytestqt.qtbot import QtBot

from reverie.core.chat.session import ChatAnswer
from reverie.core.compose import open_reverie
from reverie.core.service import Reverie
from reverie.desktop.jobs import Lane
from reverie.desktop.main_window import MainWindow
from tests.desktop.conftest import HoldingLLM, MemoryLLM

pytestmark = pytest.mark.gui

SAMPLE_DAYS = ["2026-03-08", "2026-03-05", "2026-03-02"]
JOB_TIMEOUT_MS = 30_000
REAL_IMPORT_TIMEOUT_MS = 600_000  # extraction with the real model: a few seconds a turn
REAL_ANSWER_TIMEOUT_MS = 180_000


def choose_file(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """Make File → Import's dialog return `path`."""

    def fake_dialog(*_args: Any, **_kwargs: Any) -> tuple[str, str]:
        return str(path), "Chat files (*.jsonl)"

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(fake_dialog))


def import_through_menu(qtbot: QtBot, window: MainWindow, timeout: int = JOB_TIMEOUT_MS) -> None:
    assert window.import_action.isEnabled()
    window.import_action.trigger()
    job = window.runner.job(Lane.WORK)
    assert job is not None
    assert window.progress.isVisible()
    assert window.cancel_button.isVisible()
    assert not window.import_action.isEnabled()  # one import at a time
    with qtbot.waitSignal(job.finished, timeout=timeout):
        pass
    assert not window.progress.isVisible()


@pytest.mark.slow
def test_import_then_chat_with_the_real_model(
    qtbot: QtBot,
    make_window: Callable[..., MainWindow],
    monkeypatch: pytest.MonkeyPatch,
    sample_chat: Path,
) -> None:
    window = make_window()  # the real bundled embedder and SmolLM2
    assert window.windowTitle() == "Reverie"
    assert window.pages.currentWidget() is not window.opening_label
    qtbot.waitUntil(lambda: window.counts_label.text()
                    == "0 conversations and files · 0 pieces · 0 memories")
    assert window.timeline.showing_hint  # an empty store says how to fill it

    choose_file(monkeypatch, sample_chat)
    import_through_menu(qtbot, window, timeout=REAL_IMPORT_TIMEOUT_MS)

    model, view = window.timeline_model, window.timeline.view
    # The turns' days, and any day an extracted memory happened on ("next Monday").
    assert set(SAMPLE_DAYS) <= set(model.loaded_days)
    assert model.loaded_days == sorted(model.loaded_days, reverse=True)
    assert view.model() is model
    newest = model.index(0, 0)
    assert view.isExpanded(newest)
    assert model.rowCount(newest) > 0
    assert view.visualRect(newest).isValid()
    assert window.statusBar().currentMessage().startswith(
        "Imported week-with-sam.jsonl: 9 new turns (0 already stored)"
    )
    qtbot.waitUntil(lambda: "9 pieces" in window.counts_label.text())
    assert not window.timeline.showing_hint

    # Chat: tokens stream in as signals while the window keeps drawing.
    chat = window.chat
    tokens: list[str] = []
    ended: list[tuple[int, object]] = []
    ticks: list[int] = []
    chat.token_received.connect(tokens.append)
    chat.answer_finished.connect(lambda answer: ended.append((len(tokens), answer)))
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(20)
    qtbot.keyClicks(chat.input, "What milk do I drink now?")
    qtbot.mouseClick(chat.send_button, Qt.MouseButton.LeftButton)
    assert chat.answering
    qtbot.waitUntil(lambda: bool(ended), timeout=REAL_ANSWER_TIMEOUT_MS)
    timer.stop()

    tokens_before_end, answer = ended[0]
    assert isinstance(answer, ChatAnswer)
    assert tokens_before_end >= 3
    assert answer.text
    assert answer.text in "".join(tokens)  # core may cut a copied memory list
    transcript = chat.transcript.toPlainText()
    assert answer.text in transcript
    assert "Memories used" in transcript or "No memories were found" in transcript
    assert len(ticks) >= 3  # the event loop ran while the model wrote
    # The chat's own turns are episodes of today: the timeline shows the day on top.
    today = datetime.now().astimezone().date().isoformat()
    qtbot.waitUntil(lambda: model.loaded_days[:1] == [today])
    qtbot.waitUntil(lambda: "11 pieces" in window.counts_label.text())


def test_a_bad_file_shows_the_problem_and_changes_nothing(
    qtbot: QtBot,
    make_window: Callable[..., MainWindow],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    window = make_window(llm=MemoryLLM())
    facade = window.runner.facade
    assert facade is not None
    qtbot.waitUntil(lambda: bool(window.counts_label.text()))
    before_counts, before_label = facade.counts(), window.counts_label.text()
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"conversation": "x", "text": "no time, no speaker"}\nnot json at all\n')
    choose_file(monkeypatch, bad)
    import_through_menu(qtbot, window)

    box = window.problem_box
    assert box is not None
    assert box.isVisible()
    assert box.windowTitle() == "Could not import bad.jsonl"
    assert box.icon() == QMessageBox.Icon.Warning  # the user's problem, not a bug
    assert "nothing imported" in box.text()
    assert "line 2" in box.text()
    assert facade.counts() == before_counts
    assert window.counts_label.text() == before_label
    assert window.timeline_model.rowCount() == 0
    assert window.timeline.showing_hint
    box.accept()
    qtbot.waitUntil(lambda: window.problem_box is None)
    assert window.import_action.isEnabled()


def test_cancel_during_extraction_keeps_the_turns(
    qtbot: QtBot,
    make_window: Callable[..., MainWindow],
    monkeypatch: pytest.MonkeyPatch,
    sample_chat: Path,
) -> None:
    llm = HoldingLLM()  # extraction hangs on the first turn until cancelled
    window = make_window(llm=llm)
    choose_file(monkeypatch, sample_chat)
    window.import_action.trigger()
    job = window.runner.job(Lane.WORK)
    assert job is not None
    with qtbot.waitSignal(job.announced, timeout=JOB_TIMEOUT_MS):
        pass
    assert window.timeline_model.loaded_days == SAMPLE_DAYS  # the turns show at once
    assert llm.started.wait(JOB_TIMEOUT_MS / 1000)
    with qtbot.waitSignal(job.finished, timeout=JOB_TIMEOUT_MS):
        qtbot.mouseClick(window.cancel_button, Qt.MouseButton.LeftButton)
    assert window.statusBar().currentMessage().startswith("Extraction stopped")
    qtbot.waitUntil(lambda: window.counts_label.text()
                    == "1 conversation or file · 9 pieces · 0 memories")
    assert window.problem_box is None


def test_a_locked_data_directory_is_explained_not_a_traceback(
    qtbot: QtBot,
    make_window: Callable[..., MainWindow],
    open_store: Callable[..., Reverie],
    tmp_path: Path,
) -> None:
    data = tmp_path / "shared"
    open_store(data_dir=data)  # another Reverie holds the directory
    window = make_window(data_dir=data, wait_open=False)
    with qtbot.waitSignal(window.open_failed, timeout=JOB_TIMEOUT_MS) as failed:
        window.start()
    assert "is in use by Reverie" in failed.args[0]
    box = window.problem_box
    assert box is not None
    assert box.windowTitle() == "Reverie cannot start"
    assert "is in use by Reverie" in box.text()
    assert window.exit_code == 1
    assert not window.import_action.isEnabled()
    assert not window.chat.input.isEnabled()
    box.accept()
    qtbot.waitUntil(lambda: not window.isVisible())


def test_closing_during_an_answer_stops_it_and_releases_the_store(
    qtbot: QtBot, make_window: Callable[..., MainWindow], tmp_path: Path, bundled_embedder: Any
) -> None:
    llm = HoldingLLM()
    window = make_window(llm=llm)
    with qtbot.waitSignal(window.chat.token_received, timeout=JOB_TIMEOUT_MS):
        qtbot.keyClicks(window.chat.input, "Tell me everything")
        qtbot.mouseClick(window.chat.send_button, Qt.MouseButton.LeftButton)
    assert window.runner.busy(Lane.CHAT)
    window.close()
    assert window.runner.facade is None
    # The data directory is free again: another Reverie can open it.
    again = open_reverie(tmp_path / "data", llm=llm, embedder=bundled_embedder)
    again.close()


def test_main_widgets_have_accessible_names(
    qtbot: QtBot, make_window: Callable[..., MainWindow]
) -> None:
    window = make_window(llm=MemoryLLM())
    widgets = [
        window.timeline.view, window.chat, window.chat.transcript, window.chat.input,
        window.chat.send_button, window.chat.stop_button, window.chat.new_button,
        window.progress, window.cancel_button, window.counts_label, window.statusBar(),
    ]
    assert all(widget.accessibleName() for widget in widgets)
    assert window.timeline.view.rootIndex() == QModelIndex()
    assert window.import_action.shortcut().toString() == "Ctrl+O"
    assert window.chat.send_button.toolTip() == "Send (Ctrl+Return)"


def test_settings_start_at_login_writes_and_removes_the_login_entry(
    qtbot: QtBot, make_window: Callable[..., MainWindow], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    entry = tmp_path / "config" / "autostart" / "reverie.desktop"
    window = make_window()
    assert not window.autostart_action.isChecked()
    window.autostart_action.trigger()
    qtbot.waitUntil(entry.exists, timeout=JOB_TIMEOUT_MS)
    assert window.autostart_action.isChecked()
    # The file is written before the job reports back: wait for the job to end too.
    qtbot.waitUntil(lambda: not window.runner.busy(Lane.CARE), timeout=JOB_TIMEOUT_MS)
    window.autostart_action.trigger()
    qtbot.waitUntil(lambda: not entry.exists(), timeout=JOB_TIMEOUT_MS)


def test_closing_as_the_store_finishes_opening_reads_nothing_from_it(
    qtbot: QtBot, make_window: Callable[..., MainWindow], sample_chat: Path
) -> None:
    # The open job hands the facade to the runner on its worker; the main thread hears
    # of it a moment later. A window closed in between must not start reading the
    # store its shutdown has just closed (the demo test once crashed that way).
    window = make_window(llm=MemoryLLM(), wait_open=False,
                         prepare=lambda facade: facade.import_file(sample_chat))
    announced: list[object] = []
    window.runner.opened.connect(announced.append)
    window.start()
    deadline = time.monotonic() + JOB_TIMEOUT_MS / 1000
    while window.runner.facade is None:  # no event is delivered meanwhile
        assert time.monotonic() < deadline, "the store did not open"
        time.sleep(0.002)
    window.close()
    assert window.runner.facade is None  # closed by the shutdown
    qtbot.wait(200)  # the open job's news arrives now
    assert announced == []
    assert window.timeline_model.facade is None
    assert window.timeline_model.rowCount() == 0
    assert window.problem_box is None
