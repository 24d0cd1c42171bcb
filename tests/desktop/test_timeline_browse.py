"""Browsing the timeline: search as you type, filters, going to a date, and a filtered
timeline that follows changes; the model passes Qt's model tester filtered too."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import pytest
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from reverie.core.compose import open_reverie
from reverie.core.service import Reverie
from reverie.core.store.timeline_filter import EPISODES, OTHERS, WITH_ARCHIVED, TimelineFilter
from reverie.core.types import MemoryKind
from reverie.desktop.jobs import Lane
from reverie.desktop.main_window import MainWindow
from reverie.desktop.timeline_model import DayRole, ItemIdRole, KindRole
from reverie.desktop.timeline_nodes import Zoom
from reverie.models.base import Embedder
from tests.desktop.conftest import MemoryLLM, facade_of, write_chat

pytestmark = pytest.mark.gui
TIMEOUT_MS = 30_000


@pytest.fixture
def window(memories_window: MainWindow) -> MainWindow:
    return memories_window


def settle(qtbot: QtBot, window: MainWindow) -> None:
    """Wait for the filter bar's pause and the read it starts."""
    browser = window.timeline.browser
    qtbot.wait(250)
    qtbot.waitUntil(lambda: not browser.reading, timeout=TIMEOUT_MS)


def shown_rows(window: MainWindow) -> list[tuple[str, str]]:
    """(kind, text) of every item row of the expanded days."""
    model, view = window.timeline_model, window.timeline.view
    rows = []
    for day_row in range(model.rowCount()):
        day = model.index(day_row, 0)
        if view.isExpanded(day):
            items = [model.index(r, 0, day) for r in range(model.rowCount(day))]
            rows += [(str(item.data(KindRole)), str(item.data())) for item in items]
    return rows


def test_search_as_you_type_shows_the_hits_in_their_days(
    qtbot: QtBot, window: MainWindow, qtmodeltester: ModelTester,
) -> None:
    everything = window.timeline_model.rowCount()
    qtbot.keyClicks(window.timeline.filters.search, "oat mi")
    settle(qtbot, window)
    rows = shown_rows(window)
    assert rows
    assert all("oat milk" in text.lower() for _kind, text in rows)
    assert {kind for kind, _text in rows} == {"episode", "memory"}
    assert window.timeline.matches.text().startswith(f"{len(rows)} matches on")
    qtmodeltester.check(window.timeline_model)

    window.timeline.filters.search.clear()
    settle(qtbot, window)
    assert window.timeline_model.rowCount() == everything
    assert window.timeline.matches.text() == ""


def test_a_search_with_no_hit_says_so_and_keeps_the_store(
    qtbot: QtBot, window: MainWindow,
) -> None:
    before = facade_of(window).counts()
    qtbot.keyClicks(window.timeline.filters.search, "zebra crossing")
    settle(qtbot, window)
    assert window.timeline.stack.currentWidget() is window.timeline.no_match
    assert facade_of(window).counts() == before


def test_kinds_and_pinned_filters_follow_a_pin_made_meanwhile(
    qtbot: QtBot, window: MainWindow, qtmodeltester: ModelTester,
) -> None:
    filters = window.timeline.filters
    filters.kind_actions[EPISODES].setChecked(False)
    settle(qtbot, window)
    assert {kind for kind, _text in shown_rows(window)} == {"memory"}

    filters.pinned.setChecked(True)
    settle(qtbot, window)
    assert window.timeline_model.rowCount() == 0
    memory = next(item for day in facade_of(window).timeline_days(0, 10)
                  for item in facade_of(window).timeline_items(day.day)
                  if item.kind.value == "memory")
    job = window.runner.run(Lane.EDIT, "pin", lambda f, _c: _pinned(f, memory.id))
    with qtbot.waitSignal(job.finished, timeout=TIMEOUT_MS):
        pass
    settle(qtbot, window)
    model = window.timeline_model
    assert model.rowCount() == 1
    window.timeline.view.expand(model.index(0, 0))
    assert model.index(0, 0, model.index(0, 0)).data(ItemIdRole) == memory.id
    qtmodeltester.check(model)


def test_the_show_menu_narrows_status_and_whose_words_and_says_so(
    qtbot: QtBot, window: MainWindow,
) -> None:
    filters, model = window.timeline.filters, window.timeline_model
    facade = facade_of(window)
    memory = next(item for day in facade.timeline_days(0, 10)
                  for item in facade.timeline_items(day.day) if item.kind.value == "memory")
    facade.memories.archive(memory.id)
    filters.status_actions[WITH_ARCHIVED].setChecked(True)
    settle(qtbot, window)
    assert filters.current().statuses == WITH_ARCHIVED
    assert filters.kinds_button.text() == "Show (1)"
    assert "archived too" in filters.kinds_button.toolTip()
    assert model.locate(memory.time.date().isoformat(), memory.id).data(ItemIdRole) == memory.id

    filters.trust_actions[OTHERS].setChecked(True)  # the sample chat is the user's own
    settle(qtbot, window)
    assert model.rowCount() == 0
    assert window.timeline.no_match.isVisible()
    assert filters.kinds_button.text() == "Show (2)"
    filters.reset()
    settle(qtbot, window)
    assert filters.current() == TimelineFilter()
    assert filters.kinds_button.text() == "Show"


def _pinned(facade: Reverie, memory_id: str) -> object:
    class Outcome:
        changes = facade.memories.pin(memory_id)

    return Outcome()


def test_person_choices_are_read_and_filter(qtbot: QtBot, window: MainWindow) -> None:
    facade = facade_of(window)
    facade.memories.add("Maya took the pottery class last year", about="Maya",
                        kind=MemoryKind.EVENT, when=datetime(2026, 3, 2, 19, 8))
    window.timeline.browser.read_choices()
    person = window.timeline.filters.person
    qtbot.waitUntil(lambda: person.findData("Alex") > 0, timeout=TIMEOUT_MS)
    person.setCurrentIndex(person.findData("Alex"))
    settle(qtbot, window)
    rows = shown_rows(window)
    assert rows
    assert all("Alex" in text for _kind, text in rows)


def test_go_to_a_date_pages_back_to_it(
    qtbot: QtBot, make_window: Callable[..., MainWindow], tmp_path: Path,
    bundled_embedder: Embedder,
) -> None:
    data = tmp_path / "paged"
    facade = open_reverie(data, llm=MemoryLLM(), embedder=bundled_embedder)
    facade.import_file(write_chat(tmp_path / "long.jsonl", days=400), extract=False)
    facade.close()
    window = make_window(data_dir=data)
    assert len(window.timeline_model.loaded_days) < 400  # paged: not all read yet
    assert window.timeline.go_to_day(date(2025, 1, 20))
    current = window.timeline.view.currentIndex()
    assert current.data(DayRole) == "2025-01-20"
    assert window.timeline.view.isExpanded(current)
    # A day with nothing goes to the newest day before it.
    assert window.timeline.go_to_day(date(2024, 6, 1))
    assert window.timeline.view.currentIndex().data(DayRole) == "2025-01-01"


def test_a_citation_hidden_by_a_filter_clears_the_filter_to_show_it(
    qtbot: QtBot, window: MainWindow,
) -> None:
    facade = facade_of(window)
    turn = next(item for day in facade.timeline_days(0, 10)
                for item in facade.timeline_items(day.day) if item.kind.value == "episode")
    window.timeline.filters.kind_actions[EPISODES].setChecked(False)
    settle(qtbot, window)
    window.open_item(turn.id)
    assert window.timeline_model.filter.is_default
    assert window.timeline.view.currentIndex().data(ItemIdRole) == turn.id


def test_zooming_out_groups_days_into_weeks_months_and_years(
    qtbot: QtBot, make_window: Callable[..., MainWindow], tmp_path: Path,
    bundled_embedder: Embedder, qtmodeltester: ModelTester,
) -> None:
    data = tmp_path / "zoom"
    facade = open_reverie(data, llm=MemoryLLM(), embedder=bundled_embedder)
    facade.import_file(write_chat(tmp_path / "long.jsonl", days=400), extract=False)
    facade.close()
    window = make_window(data_dir=data)
    pane, model = window.timeline, window.timeline_model

    pane.set_zoom(Zoom.MONTH)
    assert pane.zoom.currentText() == "Month"
    months = [str(model.index(row, 0).data()) for row in range(model.rowCount())]
    assert len(months) == 14  # 1 Jan 2025 .. 4 Feb 2026
    assert months[0].startswith("February 2026 · 4 days · 8 items")
    assert months[-1].startswith("January 2025 · 31 days · 62 items")
    assert model.matches == 800
    assert pane.view.isExpanded(model.index(0, 0))  # the newest month is open
    qtmodeltester.check(model)

    pane.step_zoom(1)
    assert model.zoom is Zoom.YEAR
    assert [str(model.index(r, 0).data()).split(" · ")[0] for r in range(model.rowCount())] == [
        "2026", "2025"]
    pane.step_zoom(-2)
    assert model.zoom is Zoom.WEEK
    assert str(model.index(0, 0).data()).startswith("Week of Mon 2 Feb 2026")

    # Going to a date opens its week and selects the day.
    assert pane.go_to_day(date(2025, 3, 12))
    current = pane.view.currentIndex()
    assert current.data(DayRole) == "2025-03-12"
    assert pane.view.isExpanded(current.parent())
    qtmodeltester.check(model)


def test_a_zoomed_out_timeline_takes_new_days_in_place(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, qtmodeltester: ModelTester,
) -> None:
    pane, model = window.timeline, window.timeline_model
    pane.set_zoom(Zoom.MONTH)
    qtmodeltester.check(model)
    before = model.rowCount()
    later = write_chat(tmp_path / "later.jsonl", days=2, start=datetime(2027, 5, 1, 9, 0))
    with qtbot.waitSignal(window.runner.changed, timeout=TIMEOUT_MS):
        window.start_import(str(later))
    qtbot.waitUntil(lambda: not window.runner.busy(Lane.WORK), timeout=TIMEOUT_MS)
    assert model.rowCount() == before + 1
    assert str(model.index(0, 0).data()).startswith("May 2027 · 2 days · ")

    window.timeline.filters.search.setText("garden")
    settle(qtbot, window)
    assert [str(model.index(r, 0).data()).split(" · ")[0] for r in range(model.rowCount())] == [
        "May 2027"]
    pane.set_zoom(Zoom.DAY)
    assert model.loaded_days == ["2027-05-02", "2027-05-01"]
    assert model.rowCount() == 2


def test_the_detail_follows_a_filter_keeping_what_it_still_shows(
    qtbot: QtBot, window: MainWindow,
) -> None:
    facade, view = facade_of(window), window.timeline.view
    memory = next(item for day in facade.timeline_days(0, 10)
                  for item in facade.timeline_items(day.day) if item.kind.value == "memory")
    assert window.timeline.reveal(memory.id, facade.item_day(memory.id) or "")
    detail = window.timeline.detail
    assert detail.detail is not None
    assert detail.detail.id == memory.id

    # Turns hidden: the memory is still there, selected again, its detail kept.
    window.timeline.filters.kind_actions[EPISODES].setChecked(False)
    settle(qtbot, window)
    assert view.currentIndex().data(ItemIdRole) == memory.id
    assert detail.detail is not None
    assert detail.detail.id == memory.id

    # A search it does not match: the detail says the filter hides it.
    qtbot.keyClicks(window.timeline.filters.search, "zebra crossing")
    settle(qtbot, window)
    assert detail.detail is None
    assert "filters now hide" in detail.text()
    assert not view.currentIndex().isValid()
