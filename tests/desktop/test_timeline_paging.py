"""A busy day's items read a page at a time: by the model, as the tree shows them, when
a row is looked for, through a refresh, and given back when the day is closed."""

from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint
from PySide6.QtWidgets import QTreeView
from pytestqt.qtbot import QtBot

from reverie.core.errors import StoreError
from reverie.core.service import Reverie
from reverie.desktop.jobs import BUG_APOLOGY
from reverie.desktop.timeline_model import ItemIdRole, TimelineModel
from reverie.desktop.timeline_paging import DayTree, OpenDayPager
from tests.desktop.conftest import MemoryLLM
from tests.desktop.test_timeline_model import items_of, write_turns

pytestmark = pytest.mark.gui

BUSY_DAY = "2026-04-02"
TURNS = 23
PAGE = 4


@pytest.fixture
def busy_store(open_store: Callable[..., Reverie], tmp_path: Path) -> Reverie:
    """One day holding 23 turns, and a quieter day before it."""
    facade = open_store(llm=MemoryLLM())
    turns = [(f"{BUSY_DAY}T{8 + n // 4:02d}:{(n % 4) * 15:02d}:00", f"Busy day note {n}.")
             for n in range(TURNS)]
    turns.append(("2026-04-01T09:00:00", "A quiet day before it."))
    facade.import_file(write_turns(tmp_path / "busy.jsonl", "Busy", turns), extract=False)
    return facade


def all_ids(facade: Reverie) -> list[str]:
    return [item.id for item in facade.timeline_items(BUSY_DAY)]


def paged_tree(qtbot: QtBot, model: TimelineModel, height: int = 600,
               tree: type[QTreeView] = QTreeView) -> tuple[QTreeView, OpenDayPager]:
    """`model` shown in a `tree` 400 px wide and `height` tall, with the app's pager."""
    view = tree()
    qtbot.addWidget(view)
    view.setModel(model)
    view.setUniformRowHeights(True)
    pager = OpenDayPager(view, model)
    view.resize(400, height)
    view.show()
    qtbot.waitExposed(view)
    return view, pager


def test_a_day_is_read_a_page_at_a_time_in_order(
    qtmodeltester: object, busy_store: Reverie
) -> None:
    model = TimelineModel(busy_store, item_page=PAGE)
    model.fetchMore(QModelIndex())
    day = model.day_index(BUSY_DAY)
    pages = 0
    assert model.canFetchMore(day)  # Qt is offered the first page only
    while model.has_more(day):
        model.fetchMore(day)
        pages += 1
        assert model.rowCount(day) == min(pages * PAGE, TURNS)
        assert not model.canFetchMore(day)  # later pages are OpenDayPager's to read
    assert pages == TURNS // PAGE + 1  # the last page is short: the day is complete
    assert items_of(model, BUSY_DAY) == all_ids(busy_store)
    assert not model.is_partial_day(day)

    # Qt's tester, attached from the start, sees every page arrive (it fetches too).
    checked = TimelineModel(busy_store, item_page=PAGE)
    qtmodeltester.check(checked)  # type: ignore[attr-defined]
    checked.fetchMore(QModelIndex())
    day = checked.day_index(BUSY_DAY)
    while checked.has_more(day):
        checked.fetchMore(day)
    checked.release_items(day)
    assert checked.rowCount(day) == 0
    qtmodeltester.check(checked)  # type: ignore[attr-defined]  # it reads a page again
    shown = items_of(checked, BUSY_DAY)
    assert shown == all_ids(busy_store)[: len(shown)]


def test_looking_for_a_row_reads_pages_until_it_is_found(busy_store: Reverie) -> None:
    model = TimelineModel(busy_store, item_page=PAGE)
    oldest = all_ids(busy_store)[-1]
    index = model.locate(BUSY_DAY, oldest)
    assert index.data(ItemIdRole) == oldest
    assert model.rowCount(index.parent()) == TURNS  # the last page holds it


def test_a_refresh_keeps_a_part_read_day_in_step(
    busy_store: Reverie, tmp_path: Path
) -> None:
    model = TimelineModel(busy_store, item_page=PAGE)
    model.fetchMore(QModelIndex())
    day = model.day_index(BUSY_DAY)
    model.fetchMore(day)
    model.fetchMore(day)
    kept = QPersistentModelIndex(model.index(2, 0, day))
    kept_id = kept.data(ItemIdRole)
    later = write_turns(tmp_path / "later.jsonl", "Later",
                        [(f"{BUSY_DAY}T23:00:00", "The newest note of the busy day.")])
    report = busy_store.import_file(later, extract=False)
    model.refresh(report.changes)
    shown = items_of(model, BUSY_DAY)
    assert shown == all_ids(busy_store)[: 2 * PAGE + 1]  # the newcomer on top, none lost
    assert kept.data(ItemIdRole) == kept_id
    assert model.is_partial_day(model.day_index(BUSY_DAY))


def test_the_tree_reads_the_pages_it_shows_and_a_closed_day_lets_go(
    qtbot: QtBot, busy_store: Reverie
) -> None:
    model = TimelineModel(busy_store, item_page=PAGE)
    view, pager = paged_tree(qtbot, model)
    qtbot.waitUntil(lambda: model.rowCount() == 2)
    day = model.day_index(BUSY_DAY)
    view.expand(day)
    # 600 px hold more than 23 rows: the pager reads on until the day is complete.
    qtbot.waitUntil(lambda: model.rowCount(day) == TURNS)
    assert pager.fill_visible() == 0

    view.collapse(day)
    qtbot.waitUntil(lambda: model.rowCount(day) == 0)
    assert model.canFetchMore(day)
    view.expand(day)
    qtbot.waitUntil(lambda: model.rowCount(day) == TURNS)


def test_a_short_tree_reads_only_what_it_shows(qtbot: QtBot, busy_store: Reverie) -> None:
    model = TimelineModel(busy_store, item_page=PAGE)
    view, _pager = paged_tree(qtbot, model, height=6 * 20)  # about six rows
    qtbot.waitUntil(lambda: model.rowCount() == 2)
    day = model.day_index(BUSY_DAY)
    view.expand(day)
    qtbot.waitUntil(lambda: model.rowCount(day) >= PAGE)
    qtbot.wait(50)
    assert model.rowCount(day) < TURNS  # the rest waits until it is scrolled to
    view.verticalScrollBar().setValue(view.verticalScrollBar().maximum())
    qtbot.waitUntil(lambda: model.rowCount(day) > 2 * PAGE)


@pytest.mark.parametrize(("problem", "is_bug"), [
    (StoreError("the disk holding your memories went away"), False),
    (RuntimeError("a bug in reading"), True),
])
def test_a_page_that_cannot_be_read_is_reported_and_the_tree_carries_on(
    qtbot: QtBot, busy_store: Reverie, monkeypatch: pytest.MonkeyPatch,
    problem: Exception, is_bug: bool,
) -> None:
    # Qt itself calls fetchMore when a day opens: an exception that left that call once
    # made PySide drop a reference it did not own, and a later layout crashed.
    model = TimelineModel(busy_store, item_page=PAGE)
    reports: list[tuple[str, bool]] = []
    model.read_failed.connect(lambda message, bug: reports.append((message, bug)))
    view, _pager = paged_tree(qtbot, model)
    qtbot.waitUntil(lambda: model.rowCount() == 2)

    def fail(*_args: object, **_kwargs: object) -> list[object]:
        raise problem

    monkeypatch.setattr(busy_store, "timeline_items", fail)
    day = model.day_index(BUSY_DAY)
    view.expand(day)  # Qt asks the model for the day's first page, which fails
    qtbot.wait(50)
    assert reports == [(BUG_APOLOGY if is_bug else str(problem), is_bug)]
    assert model.rowCount(day) == 0
    assert not model.canFetchMore(day)  # no retry loop on every layout
    for _ in range(5):  # layouts, and the collector, after the failure: nothing freed
        view.collapse(day)
        view.expand(day)
        assert view.indexAt(QPoint(1, 1)).isValid()
        gc.collect()
    monkeypatch.undo()
    view.collapse(day)  # closing the day forgets the failure: opening it reads again
    qtbot.waitUntil(lambda: model.canFetchMore(day))
    view.expand(day)
    qtbot.waitUntil(lambda: model.rowCount(day) == TURNS)


class CountingModel(TimelineModel):
    """Counts the `hasChildren` calls a layout makes: one per row it lays out."""

    asked = 0

    def hasChildren(
        self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()  # noqa: B008
    ) -> bool:
        CountingModel.asked += 1
        return super().hasChildren(parent)


@pytest.mark.parametrize("item_page", [100, PAGE])
@pytest.mark.parametrize(("tree", "whole_tree"), [(QTreeView, True), (DayTree, False)])
def test_opening_a_day_lays_out_that_day_only(
    qtbot: QtBot, open_store: Callable[..., Reverie], tmp_path: Path, *,
    tree: type[QTreeView], whole_tree: bool, item_page: int,
) -> None:
    # Qt's own tree, the control, lays out every loaded row again when an opening day
    # gets its first rows; DayTree lays out that day's rows alone, and shows the same
    # rows in the same places (with small pages, the pager reads the rest after).
    facade = open_store(llm=MemoryLLM())
    days = [f"2025-{1 + n // 28:02d}-{1 + n % 28:02d}T09:00:00" for n in range(150)]
    turns = [(day, f"Note {n}.") for n, day in enumerate(days)]
    turns += [(f"{days[-4][:10]}T1{n}:00:00", f"Busy note {n}.") for n in range(9)]
    facade.import_file(write_turns(tmp_path / "many.jsonl", "Many", turns), extract=False)
    model = CountingModel(facade, page_size=200, item_page=item_page)
    view, _pager = paged_tree(qtbot, model, height=300, tree=tree)
    qtbot.waitUntil(lambda: model.rowCount() == 150)
    qtbot.wait(20)
    day = model.index(3, 0)
    CountingModel.asked = 0
    view.expand(day)
    laid_out = CountingModel.asked
    qtbot.waitUntil(lambda: model.rowCount(day) == 10)
    assert view.isExpanded(day)
    below = [view.indexBelow(day)]
    while len(below) < 11:
        below.append(view.indexBelow(below[-1]))
    assert below == [*(model.index(row, 0, day) for row in range(10)), model.index(4, 0)]
    assert (laid_out >= 150) is whole_tree, laid_out
