"""The Memory care screen on a real store: queue, last consolidation with undo, inbox.

Memories are seeded as extraction writes them (tests/core/consolidate/seeding.py), and
summaries are extractive (no model), so consolidation here is fast and exact.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from reverie.core.consolidate import journal
from reverie.core.consolidate.journal import ChangeState, Run
from reverie.core.extract.extractor import QueueStatus
from reverie.core.service import Reverie
from reverie.core.types import MemoryKind
from reverie.desktop.care_model import (
    ChangeColumn,
    ChangeRow,
    ChangesModel,
    InboxItem,
    InboxModel,
    health_text,
    queue_text,
    run_heading,
    tally_text,
)
from reverie.desktop.care_view import CarePane
from reverie.desktop.jobs import JobContext, Lane
from reverie.desktop.main_window import MainWindow
from reverie.desktop.memory_dialogs import MemoryEditDialog
from tests.core.consolidate.seeding import Seed, memory, seed
from tests.desktop.conftest import MemoryLLM, facade_of

pytestmark = pytest.mark.gui

TIMEOUT_MS = 30_000
SEEDS = [
    Seed("Sam moved to Lisbon last March.", datetime(2024, 3, 1), kind=MemoryKind.EVENT),
    Seed("Sam moved back to Porto.", datetime(2024, 10, 20), kind=MemoryKind.EVENT),
    Seed("Sam works at Acme Robotics.", datetime(2024, 1, 10)),  # pinned: a proposal
    Seed("Sam started a new job at Blue Harbour.", datetime(2024, 8, 5)),
    Seed("Sam might be allergic to cats.", datetime(2024, 5, 2), confidence=0.4),
    Seed("Sam said the concert is in Berlin.", datetime(2024, 6, 9), confidence=0.5),
]
LISBON, PORTO, ACME, HARBOUR, CATS, CONCERT = range(6)


@dataclass
class Seeded:
    """The ids of the seeded memories, in `SEEDS` order (filled by the opener)."""

    ids: list[str] = field(default_factory=list)


def seed_store(reverie: Reverie, seeded: Seeded) -> None:
    """Seed `SEEDS`, pin Acme (its supersede becomes a proposal), flag two for review."""
    seeded.ids = seed(reverie, SEEDS)
    reverie.memories.pin(seeded.ids[ACME])
    with reverie.store.ledger.transaction() as conn:
        conn.execute("UPDATE memories SET review = 1 WHERE id IN (?, ?)",
                     (seeded.ids[CATS], seeded.ids[CONCERT]))


@pytest.fixture
def seeded() -> Seeded:
    return Seeded()


@pytest.fixture
def make_care_window(
    qtbot: QtBot, make_window: Callable[..., MainWindow], seeded: Seeded
) -> Callable[..., MainWindow]:
    """Windows on a seeded store, showing Memory care (closed after by `make_window`)."""

    def make(*, with_seeds: bool = True, schedule_sleep: bool = False) -> MainWindow:
        def prepare(reverie: Reverie) -> None:
            reverie.consolidation._llm = None  # extractive summaries: fast and exact
            if with_seeds:
                seed_store(reverie, seeded)

        window = make_window(MemoryLLM(), extract_captured=False,
                             schedule_sleep=schedule_sleep, prepare=prepare)
        window.show_care()
        qtbot.waitUntil(lambda: window.care.queue.label.text() != "…", timeout=TIMEOUT_MS)
        settle(qtbot, window)
        return window

    return make


@pytest.fixture
def window(make_care_window: Callable[..., MainWindow]) -> MainWindow:
    return make_care_window()


def settle(qtbot: QtBot, window: MainWindow) -> None:
    """Wait until the pane shows the newest read (none under way or owed)."""
    qtbot.waitUntil(lambda: window.care.settled, timeout=TIMEOUT_MS)


def run_and_settle(
    qtbot: QtBot, window: MainWindow, lane: Lane, start: Callable[[], object]
) -> None:
    """Start a pane action in `lane`, wait for its job, then for the read after it."""
    start()
    job = window.runner.job(lane)
    assert job is not None
    with qtbot.waitSignal(job.finished, timeout=TIMEOUT_MS):
        pass
    settle(qtbot, window)


def consolidate(qtbot: QtBot, window: MainWindow) -> None:
    run_and_settle(qtbot, window, Lane.WORK, window.care.run.consolidate_action.trigger)


def states(window: MainWindow) -> list[tuple[str, str]]:
    model = window.care.changes_model
    return [(str(model.index(row, ChangeColumn.STATE).data()),
             str(model.index(row, ChangeColumn.CHANGE).data())) for row in range(model.rowCount())]


def select_inbox(window: MainWindow, rows: list[int]) -> None:
    view = window.care.inbox.view
    selection = view.selectionModel()
    selection.clearSelection()
    for row in rows:
        selection.select(view.model().index(row, 0),
                         QItemSelectionModel.SelectionFlag.Select)


# --- the models and texts ---------------------------------------------------------------


def _change(seq: int, state: str, text: str = "merge a into b") -> ChangeRow:
    return ChangeRow("run_1", seq, "merge", state, f"{text} {seq}")


def test_the_changes_model_passes_the_model_tester_through_updates(
    qtbot: QtBot, qtmodeltester: Any
) -> None:
    model = ChangesModel()
    model.set_rows([_change(0, ChangeState.APPLIED), _change(1, ChangeState.PROPOSED)])
    qtmodeltester.check(model)
    assert model.columnCount() == 2
    assert model.index(1, ChangeColumn.STATE).data() == "waiting for review"
    assert model.index(0, ChangeColumn.CHANGE).data() == "merge a into b 0"
    changed: list[int] = []
    model.dataChanged.connect(lambda top, _bottom, _roles: changed.append(top.row()))
    model.set_rows([_change(0, ChangeState.UNDONE), _change(1, ChangeState.PROPOSED),
                    _change(2, ChangeState.APPLIED)])
    assert changed == [0]  # only the row that changed repaints
    assert model.index(0, ChangeColumn.STATE).data() == "undone"
    model.set_rows([_change(2, ChangeState.APPLIED)])
    assert model.rowCount() == 1
    assert "Undo change" in model.index(0, ChangeColumn.STATE).data(Qt.ItemDataRole.ToolTipRole)
    model.clear()
    assert model.rowCount() == 0


def test_the_inbox_model_passes_the_model_tester_and_keeps_a_selection(
    qtbot: QtBot, qtmodeltester: Any
) -> None:
    memory_item = InboxItem("mem_1", "memory", "[fact] Sam likes tea", 0.4, "user-import")
    change_item = InboxItem("run_1:0", "change", 'propose: merge "a" into "b"')
    model = InboxModel()
    model.set_rows([memory_item, change_item])
    qtmodeltester.check(model)
    assert model.index(0, 0).data() == "Memory · [fact] Sam likes tea"
    assert model.index(1, 0).data() == 'Change · merge "a" into "b"'
    assert "confidence 0.40" in model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
    kept = InboxItem("mem_2", "memory", "[plan] Sam visits Oslo")
    persistent = [model.index(1, 0)]
    model.set_rows([kept, change_item])
    assert model.rowCount() == 2
    assert model.index(1, 0).data() == 'Change · merge "a" into "b"'
    assert persistent[0].row() == 1  # the proposal's row survived the refresh


def test_the_live_models_pass_the_model_tester_on_a_real_store(
    qtbot: QtBot, window: MainWindow, seeded: Seeded, qtmodeltester: Any
) -> None:
    """The models the pane shows, read from a real seeded store: the tester stays attached
    through a consolidation (rows arrive in both) and a verdict (an inbox row goes)."""
    pane = window.care
    assert pane.inbox_model.rowCount() == 2  # the two seeded memories to check
    qtmodeltester.check(pane.changes_model)  # no run yet: empty
    qtmodeltester.check(pane.inbox_model)
    consolidate(qtbot, window)
    assert pane.changes_model.rowCount() == 2
    assert pane.inbox_model.rowCount() == 3
    qtmodeltester.check(pane.changes_model)
    qtmodeltester.check(pane.inbox_model)
    select_inbox(window, [[item.id for item in pane.inbox_model.items].index(seeded.ids[CATS])])
    run_and_settle(qtbot, window, Lane.CARE, lambda: pane.decide_selected(accept=True))
    assert pane.inbox_model.rowCount() == 2
    qtmodeltester.check(pane.inbox_model)


def test_the_texts_read_as_the_screen_promises() -> None:
    assert queue_text(QueueStatus(0, 0, None)) == "idle"
    assert queue_text(QueueStatus(12, 2, 41.25)) == "12 turns waiting · 2 put off · 41.2 tokens/s"
    assert queue_text(QueueStatus(1, 0, None)) == "1 turn waiting"
    assert queue_text(QueueStatus(0, 3, None)) == "idle · 3 put off"
    figures = {"duplicate_rate": 0.125, "contradictions_open": 1.0, "share_archived": 0.004,
               "review_waiting": 3.0}
    assert health_text(figures) == (
        "duplicates 12% · 1 contradiction open · 0.4% archived · 3 waiting for review")
    run = Run("run_1", "nightly", datetime(2026, 3, 8, 3, 0, tzinfo=UTC), None, "paused", 0, {})
    assert run_heading(run).startswith("Nightly run · ")
    assert run_heading(run).endswith(" · paused; the next run goes on with it")
    assert tally_text([_change(0, ChangeState.APPLIED), _change(1, ChangeState.APPLIED),
                       _change(2, ChangeState.UNDONE)]) == "2 applied · 1 undone"
    assert tally_text([]) == "no changes: nothing needed doing"


# --- the screen on a real store ---------------------------------------------------------


def test_consolidate_now_lists_the_runs_changes_and_fills_the_inbox(
    qtbot: QtBot, window: MainWindow, seeded: Seeded
) -> None:
    pane = window.care
    assert pane.run.heading.text().startswith("No consolidation has run yet")
    assert pane.inbox.title() == "Review &inbox (2)"  # the two memories to check
    assert window.tabs.tabText(2) == "&Memory care (2)"
    run_and_settle(qtbot, window, Lane.WORK, lambda: qtbot.mouseClick(
        pane.run.consolidate_button, Qt.MouseButton.LeftButton))
    assert window.statusBar().currentMessage() == (
        "Consolidated: 1 change made, 1 waiting for your review")
    assert states(window) == [
        ("waiting for review", 'supersede "Sam works at Acme Robotics." by'
         ' "Sam started a new job at Blue Harbour." (employer changed)'),
        ("applied", 'supersede "Sam moved to Lisbon last March." by "Sam moved back to Porto."'
         " (home changed)"),
    ]
    heading = pane.run.heading.text()
    assert "Run you started" in heading
    assert " · done" in heading
    assert "1 applied · 1 waiting for review" in heading
    assert pane.run.figures.text().startswith("Duplicates 0% · ")
    assert "3 waiting for review" in pane.run.figures.text()
    assert pane.inbox.title() == "Review &inbox (3)"
    assert window.tabs.tabText(2) == "&Memory care (3)"
    assert memory(facade_of(window), seeded.ids[LISBON])["status"] == "superseded"
    assert memory(facade_of(window), seeded.ids[ACME])["status"] == "active"  # pinned


def test_undo_one_change_puts_its_memory_back(
    qtbot: QtBot, window: MainWindow, seeded: Seeded
) -> None:
    pane, facade = window.care, facade_of(window)
    consolidate(qtbot, window)
    assert not pane.run.undo_action.isEnabled()  # nothing selected
    assert pane.run.undo_run_action.isEnabled()
    pane.run.select(1)  # the applied supersede
    assert pane.run.undo_action.isEnabled()
    pane.run.view.setFocus()
    run_and_settle(qtbot, window, Lane.CARE, lambda: qtbot.keyClick(
        pane.run.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier))
    assert memory(facade, seeded.ids[LISBON])["status"] == "active"
    assert memory(facade, seeded.ids[LISBON])["superseded_by"] is None
    assert states(window)[1][0] == "undone"
    assert pane.run.selected() is not None  # the selection survived the refresh
    assert not pane.run.undo_action.isEnabled()
    assert not pane.run.undo_run_action.isEnabled()  # nothing applied is left
    assert window.statusBar().currentMessage().startswith('Undid: supersede "Sam moved')


def test_undo_whole_run_undoes_every_applied_change(
    qtbot: QtBot, window: MainWindow, seeded: Seeded
) -> None:
    facade = facade_of(window)
    consolidate(qtbot, window)
    run_and_settle(qtbot, window, Lane.CARE, window.care.run.undo_run_action.trigger)
    assert memory(facade, seeded.ids[LISBON])["status"] == "active"
    run = journal.runs(facade.store.ledger, 1)[0]
    assert [c.state for c in journal.changes(facade.store.ledger, run.id)] == [
        ChangeState.PROPOSED, ChangeState.UNDONE]
    assert window.statusBar().currentMessage() == "Undid the whole run: 1 change"


def test_preview_shows_the_planned_lines_and_writes_nothing(
    qtbot: QtBot, window: MainWindow, seeded: Seeded
) -> None:
    pane, facade = window.care, facade_of(window)
    pane.run.preview_action.trigger()
    qtbot.waitUntil(lambda: pane.preview_dialog is not None, timeout=TIMEOUT_MS)
    dialog = pane.preview_dialog
    assert dialog is not None
    assert dialog.isVisible()
    assert dialog.lines() == [
        'propose: supersede "Sam works at Acme Robotics." by "Sam started a new job at'
        ' Blue Harbour." (employer changed)',
        'supersede "Sam moved to Lisbon last March." by "Sam moved back to Porto."'
        " (home changed)",
    ]
    assert dialog.summary.text().startswith("Consolidating now would make 2 changes.")
    assert journal.runs(facade.store.ledger) == []
    assert memory(facade, seeded.ids[LISBON])["status"] == "active"
    dialog.reject()
    qtbot.waitUntil(lambda: pane.preview_dialog is None, timeout=TIMEOUT_MS)


def test_the_review_inbox_keeps_accepts_and_rejects_in_bulk(
    qtbot: QtBot, window: MainWindow, seeded: Seeded
) -> None:
    pane, facade, ids = window.care, facade_of(window), seeded.ids
    consolidate(qtbot, window)
    items = [item.id for item in pane.inbox_model.items]
    assert len(items) == 3
    proposal = next(row for row, item in enumerate(pane.inbox_model.items)
                    if item.type == "change")
    cats = items.index(ids[CATS])
    assert not pane.inbox.keep_action.isEnabled()  # nothing selected yet
    select_inbox(window, [cats, proposal])
    assert pane.inbox.keep_button.text() == "Keep or accept"
    pane.inbox.view.setFocus()
    run_and_settle(qtbot, window, Lane.CARE, lambda: qtbot.keyClick(
        pane.inbox.view, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier))
    assert memory(facade, ids[CATS])["review"] == 0
    assert memory(facade, ids[CATS])["status"] == "active"
    assert memory(facade, ids[ACME])["status"] == "superseded"  # the proposal, accepted
    assert window.statusBar().currentMessage() == "Kept or accepted 2 items"
    assert [item.id for item in pane.inbox_model.items] == [ids[CONCERT]]
    assert pane.inbox.title() == "Review &inbox (1)"

    select_inbox(window, [0])
    assert pane.inbox.keep_button.text() == "Keep"
    run_and_settle(qtbot, window, Lane.CARE, lambda: qtbot.keyClick(
        pane.inbox.view, Qt.Key.Key_Delete))
    assert memory(facade, ids[CONCERT])["status"] == "archived"
    assert facade.review_inbox() == []
    assert pane.inbox_model.rowCount() == 0
    assert pane.inbox.stack.currentWidget() is pane.inbox.hint
    assert window.tabs.tabText(2) == "&Memory care"


def test_what_changed_behind_the_screens_back_is_explained_not_hidden(
    qtbot: QtBot, window: MainWindow, seeded: Seeded
) -> None:
    pane, facade, ids = window.care, facade_of(window), seeded.ids
    consolidate(qtbot, window)
    pane.run.select(1)
    run = journal.runs(facade.store.ledger, 1)[0]
    facade.consolidation.undo(run.id, 1)  # elsewhere (the command line), unannounced
    run_and_settle(qtbot, window, Lane.CARE, pane.run.undo_action.trigger)
    box = window.problem_box
    assert box is not None
    assert box.windowTitle() == "Could not undo the change"
    assert "no applied change 1" in box.text()
    box.accept()
    assert states(window)[1][0] == "undone"  # read again after the failure

    facade.memories.review(ids[CATS], accept=True)  # decided elsewhere meanwhile
    select_inbox(window, [row for row, item in enumerate(pane.inbox_model.items)
                          if item.type == "memory"])
    run_and_settle(qtbot, window, Lane.CARE, pane.inbox.reject_action.trigger)
    assert window.statusBar().currentMessage() == "Rejected 1 item; 1 could not be decided"
    box = window.problem_box
    assert box is not None
    assert box.windowTitle() == "Some items could not be decided"
    assert "Sam might be allergic to cats." in box.text()
    assert "not waiting for review" in box.text()
    box.accept()
    assert memory(facade, ids[CATS])["status"] == "active"  # the earlier verdict stands
    assert memory(facade, ids[CONCERT])["status"] == "archived"


def test_the_queue_shows_turns_waiting_after_an_import_and_extract_now_reads_them(
    qtbot: QtBot, make_care_window: Callable[..., MainWindow], sample_chat: Path
) -> None:
    window = make_care_window(with_seeds=False)
    pane = window.care
    assert pane.queue.label.text() == "idle"

    def import_only(facade: Reverie, ctx: JobContext) -> object:
        return facade.import_file(sample_chat, extract=False, progress=ctx.progress)

    run_and_settle(qtbot, window, Lane.WORK,
                   lambda: window.runner.run(Lane.WORK, "import", import_only))
    waiting = facade_of(window).extraction_status().waiting
    assert waiting > 0
    assert pane.queue.label.text() == f"{waiting} turns waiting"

    run_and_settle(qtbot, window, Lane.WORK, pane.queue.extract_button.click)
    assert facade_of(window).extraction_status().waiting == 0
    assert pane.queue.label.text().startswith("idle")
    assert window.statusBar().currentMessage().startswith(f"Read {waiting} turns: ")
    assert pane.queue.progress.isHidden()


def test_the_queue_is_polled_while_the_screen_is_shown(
    qtbot: QtBot, window: MainWindow, sample_chat: Path
) -> None:
    pane = window.care
    facade = facade_of(window)
    facade.import_file(sample_chat, extract=False)  # behind the views' back: no announcement
    pane.poll.setInterval(50)
    waiting = facade.extraction_status().waiting
    qtbot.waitUntil(lambda: pane.queue.label.text() == f"{waiting} turns waiting",
                    timeout=TIMEOUT_MS)


def test_a_stop_pauses_consolidation(qtbot: QtBot, window: MainWindow) -> None:
    pane = window.care
    started = threading.Event()
    release = threading.Event()
    facade = facade_of(window)
    real_run = facade.consolidation.run

    def held_run(**kwargs: Any) -> Any:
        started.set()
        cancel = kwargs["cancel"]
        while not release.wait(0.01) and not cancel.is_set():
            pass
        return real_run(**kwargs)

    facade.consolidation.run = held_run  # type: ignore[method-assign]
    pane.consolidate_now()
    qtbot.waitUntil(started.is_set, timeout=TIMEOUT_MS)
    assert pane.queue.stop_button.isVisibleTo(pane)
    assert not pane.run.preview_action.isEnabled()  # not while consolidating
    assert not pane.run.consolidate_action.isEnabled()
    run_and_settle(qtbot, window, Lane.WORK, pane.queue.stop_action.trigger)
    assert window.statusBar().currentMessage().startswith("Consolidation paused: 0 changes")
    assert "paused" in pane.run.heading.text()
    assert pane.queue.stop_button.isHidden()


def test_memory_care_is_reachable_by_menu_keyboard_and_screen_reader(
    qtbot: QtBot, window: MainWindow
) -> None:
    pane = window.care
    window.show_timeline()
    assert window.care_action.text() == "&Memory care"
    assert window.care_action.shortcut().toString() == "Ctrl+3"
    window.care_action.trigger()
    assert window.tabs.currentWidget().isAncestorOf(pane)
    assert QApplication.focusWidget() is pane.inbox.view  # the inbox holds two items
    shortcuts = {action.iconText(): action.shortcut().toString()
                 for widget in (pane.queue, pane.run, pane.inbox) for action in widget.actions()}
    assert shortcuts == {
        "Extract now": "Ctrl+E", "Stop": "Ctrl+.", "Consolidate now": "Ctrl+R",
        "Preview…": "Ctrl+Shift+R", "Undo change": "Ctrl+Z", "Undo whole run": "Ctrl+Shift+Z",
        "Keep": "Return", "Reject": "Del", "Edit…": "F2",
    }
    assert [k.toString() for k in pane.inbox.keep_action.shortcuts()] == [
        "Return", "Enter", "Ctrl+K"]
    assert {a.iconText() for a in pane.actions()} == {
        "Extract now", "Stop", "Consolidate now", "Preview…"}  # anywhere on the screen
    widgets = [pane, pane.queue, pane.run, pane.inbox, pane.queue.label, pane.run.heading,
               pane.run.figures, pane.run.view, pane.inbox.view, pane.inbox.keep_button,
               pane.inbox.reject_button, pane.inbox.edit_button, pane.queue.extract_button,
               pane.splitter]
    assert all(widget.accessibleName() for widget in widgets)
    assert pane.inbox.accessibleName() == "Review inbox, 2 waiting"
    assert all(action.toolTip() for w in (pane.queue, pane.run, pane.inbox)
               for action in w.actions())


# --- the schedule -----------------------------------------------------------------------


def test_the_sleep_bridge_runs_a_manual_run_and_the_view_refreshes(
    qtbot: QtBot, make_care_window: Callable[..., MainWindow], seeded: Seeded
) -> None:
    window = make_care_window(schedule_sleep=True)
    bridge, pane = window.sleep_bridge, window.care
    assert bridge.scheduling
    assert bridge.next_nightly() is not None
    assert "each night (next: " in pane.run.note.text()
    started: list[str] = []
    bridge.started.connect(started.append)
    with qtbot.waitSignal(pane.refreshed, timeout=TIMEOUT_MS), \
            qtbot.waitSignal(bridge.finished, timeout=TIMEOUT_MS) as finished:
        assert bridge.run_now()
    settle(qtbot, window)
    assert started == ["manual"]
    reason, report = finished.args
    assert reason == "manual"
    assert report.applied == 1
    assert bridge.running is None
    qtbot.waitUntil(lambda: len(states(window)) == 2, timeout=TIMEOUT_MS)
    assert "Run you started" in pane.run.heading.text()
    assert window.statusBar().currentMessage() == (
        "Consolidated: 1 change made, 1 waiting for your review")
    assert memory(facade_of(window), seeded.ids[LISBON])["status"] == "superseded"

    window.close()
    assert not bridge.scheduling
    alive = {thread.name for thread in threading.enumerate()}
    assert "reverie-sleep-stop" not in alive
    assert window.runner.facade is None


def test_the_sleep_bridge_hears_input_and_the_chat(
    qtbot: QtBot, make_care_window: Callable[..., MainWindow],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = make_care_window(with_seeds=False, schedule_sleep=True)
    bridge = window.sleep_bridge
    qtbot.waitUntil(lambda: bridge.idle_seconds() > 0.05, timeout=TIMEOUT_MS)
    qtbot.keyClick(window.care.run.view, Qt.Key.Key_Down)
    assert bridge.idle_seconds() < 0.05
    assert not bridge.user_busy()
    paused: list[bool] = []
    monkeypatch.setattr(bridge, "pause_for_user", lambda: paused.append(True))
    release = threading.Event()
    chat = window.runner.run(Lane.CHAT, "chat", lambda _f, _c: release.wait(30))
    try:
        assert bridge.user_busy()
        assert paused == [True]  # an answer starting stops a run
    finally:
        release.set()
        with qtbot.waitSignal(chat.finished, timeout=TIMEOUT_MS):
            pass
    assert not bridge.user_busy()


def test_no_schedule_runs_unless_asked(window: MainWindow) -> None:
    assert not window.sleep_bridge.scheduling
    assert not window.sleep_bridge.run_now()
    assert isinstance(window.care, CarePane)


# --- editing in the inbox ---------------------------------------------------------------


def open_edit(qtbot: QtBot, window: MainWindow) -> MemoryEditDialog:
    """Press F2 in the inbox; wait for the memory's read and the dialog."""
    pane = window.care
    window.activateWindow()  # back from an earlier dialog: shortcuts need the window
    qtbot.waitUntil(window.isActiveWindow, timeout=TIMEOUT_MS)
    pane.inbox.view.setFocus()
    assert pane.inbox.edit_action.isEnabled(), pane.inbox.selected()
    qtbot.keyClick(pane.inbox.view, Qt.Key.Key_F2)
    qtbot.waitUntil(lambda: pane.edit_dialog is not None, timeout=TIMEOUT_MS)
    dialog = pane.edit_dialog
    assert dialog is not None
    return dialog


def test_f2_edits_an_inbox_memory_and_saving_also_keeps_it(
    qtbot: QtBot, window: MainWindow, seeded: Seeded
) -> None:
    pane, facade, ids = window.care, facade_of(window), seeded.ids
    items = [item.id for item in pane.inbox_model.items]
    assert sorted(items) == sorted([ids[CATS], ids[CONCERT]])
    select_inbox(window, [0, 1])
    assert not pane.inbox.edit_action.isEnabled()  # one memory at a time
    select_inbox(window, [items.index(ids[CATS])])
    assert pane.inbox.edit_action.isEnabled()
    dialog = open_edit(qtbot, window)
    assert dialog.text.toPlainText() == "Sam might be allergic to cats."  # the timeline's dialog
    dialog.text.setPlainText("Sam is allergic to cats and dogs.")
    run_and_settle(qtbot, window, Lane.CARE, dialog.accept)
    row = memory(facade, ids[CATS])
    assert row["text"] == "Sam is allergic to cats and dogs."
    assert row["user_edited"] == 1
    assert row["review"] == 0
    assert row["status"] == "active"
    assert [item.id for item in pane.inbox_model.items] == [ids[CONCERT]]
    assert window.statusBar().currentMessage() == (
        "Memory changed and kept: it left the review inbox")
    assert pane.edit_dialog is None
    # Both steps are in the memory's history: the edit, then the keep.
    actions = [entry.action for entry in facade.memories.history(ids[CATS])]
    assert actions[:2] == ["accepted", "edited"]


def test_saving_an_unchanged_edit_keeps_it_and_cancel_changes_nothing(
    qtbot: QtBot, window: MainWindow, seeded: Seeded
) -> None:
    pane, facade, ids = window.care, facade_of(window), seeded.ids
    select_inbox(window, [[i.id for i in pane.inbox_model.items].index(ids[CONCERT])])
    dialog = open_edit(qtbot, window)
    dialog.reject()
    qtbot.waitUntil(lambda: pane.edit_dialog is None, timeout=TIMEOUT_MS)
    assert memory(facade, ids[CONCERT])["review"] == 1
    dialog = open_edit(qtbot, window)
    run_and_settle(qtbot, window, Lane.CARE, dialog.accept)
    row = memory(facade, ids[CONCERT])
    assert row["review"] == 0
    assert row["user_edited"] == 0  # nothing was edited
    assert window.statusBar().currentMessage() == "Kept unchanged: it left the review inbox"


def test_return_keeps_the_selected_memory(
    qtbot: QtBot, window: MainWindow, seeded: Seeded
) -> None:
    pane, facade, ids = window.care, facade_of(window), seeded.ids
    select_inbox(window, [[i.id for i in pane.inbox_model.items].index(ids[CATS])])
    pane.inbox.view.setFocus()
    run_and_settle(qtbot, window, Lane.CARE, lambda: qtbot.keyClick(
        pane.inbox.view, Qt.Key.Key_Return))
    assert memory(facade, ids[CATS])["review"] == 0
    assert memory(facade, ids[CATS])["status"] == "active"
    assert window.statusBar().currentMessage() == "Kept 1 item"


def test_an_edit_of_a_memory_decided_meanwhile_still_stands(
    qtbot: QtBot, window: MainWindow, seeded: Seeded
) -> None:
    pane, facade, ids = window.care, facade_of(window), seeded.ids
    select_inbox(window, [[i.id for i in pane.inbox_model.items].index(ids[CATS])])
    dialog = open_edit(qtbot, window)
    facade.memories.review(ids[CATS], accept=True)  # kept elsewhere while the dialog is open
    dialog.text.setPlainText("Sam is not allergic to cats after all.")
    run_and_settle(qtbot, window, Lane.CARE, dialog.accept)
    assert memory(facade, ids[CATS])["text"] == "Sam is not allergic to cats after all."
    assert window.statusBar().currentMessage() == (
        "Memory changed; it had already left the review inbox")
    assert window.problem_box is None
