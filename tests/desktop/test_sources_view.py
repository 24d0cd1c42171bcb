"""The Sources screen and live capture in the window, on a real store and real folders."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QFileDialog
from pytestqt.qtbot import QtBot

from reverie.core.capture.catalog import WatchedSource
from reverie.core.capture.watching import SourceStatus
from reverie.core.compose import open_reverie
from reverie.core.service import Reverie
from reverie.core.types import Changes
from reverie.desktop.capture_bridge import CaptureBridge
from reverie.desktop.jobs import Lane
from reverie.desktop.main_window import MainWindow
from reverie.desktop.sources_model import (
    Column,
    ProgressRole,
    SourcesModel,
    StateRole,
    display_path,
    state_text,
)
from reverie.models.base import Embedder
from tests.desktop.conftest import MemoryLLM, facade_of

pytestmark = pytest.mark.gui

CAPTURE_TIMEOUT_MS = 90_000  # generous: a loaded CI machine reads and embeds slowly
LIVE = ("watching", "degraded: polling")  # polling where the system cannot notify
NOTES = {
    "garden.md": "# Garden\n\nPlanted basil and tomatoes on the balcony.\n",
    "plumber.txt": "Called the plumber about the leak under the sink.\n",
    "books.md": "# Reading\n\nStarted a novel about a lighthouse keeper.\n",
}


@pytest.fixture
def window(make_window: Callable[..., MainWindow]) -> MainWindow:
    """A window on a fresh store, live capture running without extraction."""
    window = make_window(MemoryLLM(), extract_captured=False)
    window.show_sources()
    return window


def make_folder(tmp_path: Path, files: Mapping[str, str | bytes], name: str = "notes") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    for file_name, content in files.items():
        target = folder / file_name
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return folder


def row_text(window: MainWindow, row: int = 0) -> dict[Column, str]:
    model = window.sources.model
    return {column: str(model.index(row, column).data()) for column in Column}


def run_job(qtbot: QtBot, window: MainWindow, start: Callable[[], object]) -> None:
    """Start a pane action and wait for its job to end."""
    start()
    job = window.runner.job(Lane.SOURCES)
    assert job is not None
    with qtbot.waitSignal(job.finished):
        pass


def add_and_wait(qtbot: QtBot, window: MainWindow, folder: Path, files: int) -> None:
    """Add `folder` through the pane and wait until its scan has stored `files` files."""
    run_job(qtbot, window, lambda: window.sources.add(folder))
    wait_for(qtbot, lambda: window.sources.model.rowCount() == 1
             and row_text(window)[Column.STATE] in LIVE
             and row_text(window)[Column.FILES] == str(files))


def wait_for(qtbot: QtBot, condition: Callable[[], object]) -> None:
    """Wait for what capture's threads do, with room for a slow, loaded machine."""
    qtbot.waitUntil(condition, timeout=CAPTURE_TIMEOUT_MS)  # type: ignore[arg-type]


def counts_label(facade: Reverie) -> str:
    counts = facade.counts()
    pieces = "piece" if counts["episodes"] == 1 else "pieces"
    sources = "conversation or file" if counts["sources"] == 1 else "conversations and files"
    return f"{counts['sources']} {sources} · {counts['episodes']} {pieces} · 0 memories"


# --- the model --------------------------------------------------------------------------


def _status(watch_id: int, state: str, *, done: int = 0, total: int = 0,
            error: str | None = None, files: int = 2) -> SourceStatus:
    source = WatchedSource(
        id=watch_id, path=Path(f"/data/folder-{watch_id}"), is_folder=watch_id % 2 == 1,
        include=(), exclude=(), paused=state == "paused", added=datetime(2026, 1, 1, tzinfo=UTC),
        last_scan=None, mode="native", error=error,
    )
    return SourceStatus(source=source, state=state, done=done, total=total, files=files,
                        skipped=1, episodes=7)


def test_the_model_passes_the_model_tester_through_updates(
    qtbot: QtBot, qtmodeltester: Any
) -> None:
    model = SourcesModel()
    model.set_statuses([_status(1, "watching"), _status(3, "scanning", done=4, total=10)])
    qtmodeltester.check(model)
    assert model.rowCount() == 2
    assert model.columnCount() == len(Column)
    assert model.index(1, Column.STATE).data() == "scanning 4/10"
    assert model.index(1, Column.STATE).data(ProgressRole) == (4, 10)
    assert model.index(0, Column.STATE).data(ProgressRole) is None
    assert model.index(0, Column.PIECES).data() == "7"

    # Insert before, update, and drop rows: the tester checks every signal on the way.
    changed: list[tuple[int, int, int]] = []
    model.dataChanged.connect(
        lambda top, bottom, _roles: changed.append((top.row(), bottom.row(), bottom.column())))
    later = [_status(0, "paused"), _status(1, "polling"),
             _status(3, "watching", files=10), _status(5, "error", error="gone")]
    model.set_statuses(later)
    assert changed == [(1, 1, Column.SKIPPED), (2, 2, Column.SKIPPED)]  # whole rows, views repaint
    model.set_statuses(later)
    assert len(changed) == 2  # an unchanged report repaints nothing
    assert [model.index(row, Column.STATE).data() for row in range(4)] == [
        "paused", "degraded: polling", "watching", "error: gone"]
    assert model.index(2, Column.FILES).data() == "10"
    assert model.index(3, Column.STATE).data(StateRole) == "error"
    assert "every few seconds" in model.index(1, Column.STATE).data(Qt.ItemDataRole.ToolTipRole)
    model.set_statuses([_status(3, "watching", files=10)])
    assert model.rowCount() == 1
    assert model.row_of(3) == 0
    model.clear()
    assert model.rowCount() == 0


def test_state_text_reads_as_the_screen_promises() -> None:
    assert state_text(_status(1, "scanning", done=0, total=0)) == "scanning…"
    assert state_text(_status(1, "idle")) == "not watching"
    assert state_text(_status(1, "error")) == "error: unknown problem"


def test_the_bridge_delivers_the_newest_report_on_the_main_thread(qtbot: QtBot) -> None:
    bridge = CaptureBridge()
    seen: list[tuple[list[SourceStatus], bool]] = []
    changes: list[Changes] = []
    main = threading.current_thread()
    bridge.statuses_changed.connect(
        lambda statuses: seen.append((statuses, threading.current_thread() is main)))
    bridge.changed.connect(changes.append)

    def report() -> None:
        for files in range(1, 201):
            bridge.on_status([_status(1, "scanning", done=files, total=200, files=files)])
            bridge.on_changes(Changes(episodes_added=1, days=frozenset({f"d{files % 3}"})))

    worker = threading.Thread(target=report)
    worker.start()
    worker.join()
    wait_for(qtbot, lambda: bool(seen) and seen[-1][0][0].files == 200)
    wait_for(qtbot, lambda: sum(c.episodes_added for c in changes) == 200)
    assert all(on_main for _statuses, on_main in seen)
    assert len(seen) < 200  # coalesced: the main thread was not asked 200 times
    assert set().union(*(c.days for c in changes)) == {"d0", "d1", "d2"}
    assert bridge.has_reported

    bridge.detach()
    bridge.on_status([_status(1, "watching")])
    bridge.on_changes(Changes(episodes_added=1))
    qtbot.wait(50)
    assert seen[-1][0][0].state == "scanning"
    assert sum(c.episodes_added for c in changes) == 200


# --- the pane in the window -------------------------------------------------------------


def test_an_added_folder_is_scanned_then_watched(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pane = window.sources
    assert pane.stack.currentWidget() is pane.hint  # nothing followed yet
    folder = make_folder(tmp_path, NOTES)
    # Add folder… asks the dialog, then adds what it returned.
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        staticmethod(lambda *_args, **_kwargs: str(folder)))
    run_job(qtbot, window, pane.add_folder_action.trigger)
    assert window.statusBar().currentMessage() == f"Now following {display_path(folder)}"
    wait_for(qtbot, lambda: pane.model.rowCount() == 1
             and row_text(window)[Column.STATE] in LIVE
             and row_text(window)[Column.FILES] == "3")
    row = row_text(window)
    assert row[Column.PATH].endswith("notes")
    assert int(row[Column.PIECES]) >= 3
    assert row[Column.SKIPPED] == "0"
    assert pane.stack.currentWidget() is pane.view
    # What the scan stored reached the counts and the timeline through the bridge.
    facade = facade_of(window)
    assert facade.counts()["episodes"] == int(row[Column.PIECES])
    wait_for(qtbot, lambda: window.counts_label.text() == counts_label(facade))
    assert not window.timeline.showing_hint


def test_a_file_written_while_open_reaches_the_timeline_and_counts(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    folder = make_folder(tmp_path, {"garden.md": NOTES["garden.md"]})
    add_and_wait(qtbot, window, folder, files=1)
    facade = facade_of(window)
    before = facade.counts()["episodes"]
    wait_for(qtbot, lambda: window.counts_label.text() == counts_label(facade))
    assert "2024-05-01" not in window.timeline_model.loaded_days

    (folder / "trip.md").write_text(
        "---\ndate: 2024-05-01T12:00:00\n---\n# Trip\n\nTook the night train to Vienna.\n",
        encoding="utf-8",
    )
    wait_for(qtbot, lambda: row_text(window)[Column.FILES] == "2")
    assert facade.counts()["episodes"] > before
    wait_for(qtbot, lambda: "2024-05-01" in window.timeline_model.loaded_days)
    wait_for(qtbot, lambda: window.counts_label.text() == counts_label(facade))


def test_pause_and_resume(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    pane = window.sources
    folder = make_folder(tmp_path, NOTES)
    add_and_wait(qtbot, window, folder, files=3)
    assert not pane.pause_action.isEnabled()  # nothing selected yet
    pane.select(pane.model.status(0).source.id)  # type: ignore[union-attr]
    assert pane.pause_action.text() == "&Pause"
    assert pane.pause_button.text() == "Pause"
    run_job(qtbot, window, pane.pause_action.trigger)
    assert window.statusBar().currentMessage().startswith("Paused")
    wait_for(qtbot, lambda: row_text(window)[Column.STATE] == "paused")
    assert pane.pause_action.text() == "Res&ume"
    assert pane.pause_button.accessibleName() == "Resume"
    assert pane.pause_button.text() == "Resume"

    run_job(qtbot, window, pane.pause_action.trigger)
    wait_for(qtbot, lambda: row_text(window)[Column.STATE] in LIVE)
    assert pane.pause_action.text() == "&Pause"
    assert pane.pause_button.text() == "Pause"


def test_remove_and_forget_asks_shows_the_plan_and_forgets(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    pane = window.sources
    folder = make_folder(tmp_path, NOTES)
    add_and_wait(qtbot, window, folder, files=3)
    facade = facade_of(window)
    pieces = facade.counts()["episodes"]
    assert pieces >= 3
    pane.view.setFocus()
    pane.select(pane.model.status(0).source.id)  # type: ignore[union-attr]
    qtbot.keyClick(pane.view, Qt.Key.Key_Delete)  # the Remove… shortcut
    dialog = pane.remove_dialog
    assert dialog is not None
    assert dialog.isVisible()
    assert dialog.remove_button.isEnabled()  # removing alone needs no plan
    assert not dialog.plan_label.isVisible()

    dialog.forget_box.setChecked(True)
    assert not dialog.remove_button.isEnabled()  # not before the plan is shown
    wait_for(qtbot, dialog.remove_button.isEnabled)
    plan = dialog.plan_label.text()
    assert plan.startswith(f"{pieces} turns and passages")
    assert "cannot be undone" in plan
    assert dialog.remove_button.text() == "&Remove and forget"

    run_job(qtbot, window,
            lambda: qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton))
    assert window.statusBar().currentMessage().startswith("Stopped following")
    wait_for(qtbot, lambda: pane.model.rowCount() == 0)
    assert facade.counts()["episodes"] == 0
    assert facade.capture.sources() == []
    wait_for(qtbot, lambda: window.counts_label.text() == counts_label(facade))
    assert pane.stack.currentWidget() is pane.hint


def test_remove_without_forgetting_keeps_what_was_read(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    pane = window.sources
    add_and_wait(qtbot, window, make_folder(tmp_path, NOTES), files=3)
    facade = facade_of(window)
    pieces = facade.counts()["episodes"]
    pane.select(pane.model.status(0).source.id)  # type: ignore[union-attr]
    dialog = pane.confirm_remove()
    assert dialog is not None
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: pane.model.rowCount() == 0)
    assert facade.counts()["episodes"] == pieces


def test_skipped_files_are_listed_with_their_reason(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    pane = window.sources
    folder = make_folder(
        tmp_path, {"garden.md": NOTES["garden.md"], "photo.txt": bytes(range(256)) * 40})
    add_and_wait(qtbot, window, folder, files=1)
    assert row_text(window)[Column.SKIPPED] == "1"
    pane.select(pane.model.status(0).source.id)  # type: ignore[union-attr]
    assert pane.skipped_action.isEnabled()
    run_job(qtbot, window, pane.skipped_action.trigger)
    dialog = pane.skipped_dialog
    assert dialog is not None
    assert dialog.isVisible()
    ((name, reason),) = dialog.rows()
    assert name == "photo.txt"
    assert "binary data" in reason
    dialog.reject()
    wait_for(qtbot, lambda: pane.skipped_dialog is None)


def test_a_path_that_cannot_be_added_is_explained(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    run_job(qtbot, window, lambda: window.sources.add(tmp_path / "nowhere"))
    box = window.problem_box
    assert box is not None
    assert box.windowTitle().startswith("Could not add")
    assert "no such folder or file" in box.text()
    assert window.sources.model.rowCount() == 0
    box.accept()


def test_closing_stops_capture_off_the_main_thread_before_the_store_closes(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, bundled_embedder: Embedder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    add_and_wait(qtbot, window, make_folder(tmp_path, NOTES), files=3)
    facade = facade_of(window)
    was_running = facade.capture.running
    assert was_running
    real_stop = facade.capture.stop
    stopped_on: list[str] = []

    def slow_stop() -> None:  # as if a big file were being read when the user quits
        stopped_on.append(threading.current_thread().name)
        time.sleep(0.4)
        real_stop()

    monkeypatch.setattr(facade.capture, "stop", slow_stop)
    ticks: list[int] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(20)
    window.close()
    timer.stop()
    assert stopped_on[0] == "reverie-capture-stop"
    assert len(ticks) >= 5  # the window kept drawing while capture stopped
    assert not facade.capture.running
    assert window.runner.facade is None
    alive = {thread.name for thread in threading.enumerate()}
    assert not alive & {"reverie-index", "reverie-capture-stop"}
    # The data directory is free, and the source is still followed at the next start.
    again = open_reverie(tmp_path / "data", llm=MemoryLLM(), embedder=bundled_embedder)
    try:
        assert [s.source.path for s in again.capture.sources()] == [tmp_path / "notes"]
    finally:
        again.close()


def test_sources_are_reachable_by_menu_keyboard_and_screen_reader(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    pane = window.sources
    asked: list[str] = []

    def fake_dialog(_parent: object, caption: str, *_args: object) -> str:
        asked.append(caption)
        return ""  # cancelled

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(fake_dialog))
    window.show_timeline()
    assert window.tabs.currentIndex() == 0
    assert window.sources_action.text() == "&Sources…"
    assert window.sources_action.shortcut().toString() == "Ctrl+2"
    window.sources_action.trigger()
    assert window.tabs.currentWidget().isAncestorOf(pane)
    focused = QApplication.focusWidget()
    assert focused is pane.add_folder_button  # the list is empty: Add folder is next
    qtbot.keyClick(focused, Qt.Key.Key_Space)  # pressing it opens the (stubbed) dialog
    assert asked == ["Add a folder"]
    shortcuts = {action.text(): action.shortcut().toString() for action in pane.actions()}
    assert shortcuts == {
        "Add &folder…": "Ctrl+Shift+O", "Add &export file…": "Ctrl+Shift+E",
        "&Pause": "Ctrl+P", "&Remove…": "Del", "Show &skipped files": "Ctrl+I",
    }
    widgets = [pane, pane.view, pane.hint, pane.add_folder_button, pane.add_export_button,
               pane.pause_button, pane.remove_button, pane.skipped_button, window.tabs]
    assert all(widget.accessibleName() for widget in widgets)
    assert all(action.toolTip() for action in pane.actions())


def test_sources_stay_usable_while_a_long_import_runs(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    release = threading.Event()

    def long_import(facade: Reverie, context: object) -> None:
        release.wait(60)  # as an import with the real model holds its lane for minutes

    importing = window.runner.run(Lane.WORK, "import", long_import)
    try:
        assert window.runner.busy(Lane.WORK)
        folder = make_folder(tmp_path, {"garden.md": NOTES["garden.md"]})
        add_and_wait(qtbot, window, folder, files=1)
        assert window.runner.busy(Lane.WORK)  # the import was never in the way
    finally:
        release.set()
        with qtbot.waitSignal(importing.finished, timeout=10_000):
            pass


def test_the_live_model_passes_the_model_tester_on_a_real_store(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, qtmodeltester: Any
) -> None:
    """The model the pane shows, fed by real capture: the tester stays attached while
    folders are added (rows inserted, progress repainted) and removed."""
    pane = window.sources
    qtmodeltester.check(pane.model)  # empty
    add_and_wait(qtbot, window, make_folder(tmp_path, NOTES), files=3)
    qtmodeltester.check(pane.model)
    second = make_folder(tmp_path, {"tea.md": "Bought green tea for Sam.\n"}, name="more")
    run_job(qtbot, window, lambda: pane.add(second))
    wait_for(qtbot, lambda: pane.model.rowCount() == 2
             and all(row_text(window, row)[Column.STATE] in LIVE for row in range(2)))
    qtmodeltester.check(pane.model)
    pane.select(pane.model.status(0).source.id)  # type: ignore[union-attr]
    dialog = pane.confirm_remove()
    assert dialog is not None
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: pane.model.rowCount() == 1)
    qtmodeltester.check(pane.model)
