"""The People screen on a real store: the lazily fetching list, search, a person's page
with the memories about them over time, opening one in the timeline, refresh on change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from reverie.core.compose import open_reverie
from reverie.core.extract.entities import Entity, EntityKind, link_entities
from reverie.core.service import Reverie
from reverie.core.types import MemoryKind
from reverie.desktop.jobs import JobContext, Lane
from reverie.desktop.main_window import MainWindow
from reverie.desktop.memory_work import MemoryOutcome
from reverie.desktop.people_model import PeopleColumn, PeopleModel, PersonRole
from reverie.desktop.timeline_model import ItemIdRole, KindRole
from reverie.models.base import Embedder
from tests.core.consolidate.seeding import Seed, seed
from tests.desktop.conftest import MemoryLLM

pytestmark = pytest.mark.gui

TIMEOUT_MS = 30_000
SEEDS = [
    Seed("Jordan is allergic to peanuts.", datetime(2026, 1, 14, 19), about="Jordan"),
    Seed("Jordan and Maya went climbing.", datetime(2026, 2, 2, 10), about="Jordan"),
    Seed("Maya moved to Porto.", datetime(2026, 3, 5, 9), about="Maya"),
    Seed("I like running.", datetime(2026, 3, 9, 7), about="me"),
] + [Seed(f"Friend {n} sent a postcard.", datetime(2026, 4, 1 + n, 8), about=f"Friend {n:02}")
     for n in range(7)]
PEANUTS, CLIMBING = 0, 1


@pytest.fixture
def data_dir(tmp_path: Path, bundled_embedder: Embedder) -> Path:
    """A store holding `SEEDS`, with Jordan and Maya linked as extraction links them."""
    directory = tmp_path / "data"
    facade = open_reverie(directory, llm=MemoryLLM(), embedder=bundled_embedder)
    try:
        ids = seed(facade, SEEDS)
        with facade.store.ledger.transaction() as conn:
            link_entities(conn, ids[CLIMBING], [Entity(EntityKind.PERSON, "Jordan"),
                                                Entity(EntityKind.PERSON, "Maya")])
    finally:
        facade.close()
    return directory


@pytest.fixture
def window(make_window: Callable[..., MainWindow], data_dir: Path) -> MainWindow:
    return make_window(MemoryLLM(), data_dir)


def facade_of(window: MainWindow) -> Reverie:
    facade = window.runner.facade
    assert facade is not None
    return facade


def settle(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window.people.settled, timeout=TIMEOUT_MS)


def names_shown(window: MainWindow) -> list[str]:
    model = window.people.model
    return [str(model.index(row, PeopleColumn.NAME).data()) for row in range(model.rowCount())]


def open_people(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.keyClick(window, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.people.model.rowCount() > 0, timeout=TIMEOUT_MS)
    settle(qtbot, window)


def show_page(qtbot: QtBot, window: MainWindow, name: str) -> None:
    with qtbot.waitSignal(window.people.page_shown, timeout=TIMEOUT_MS):
        window.people.show_person(name)
    settle(qtbot, window)


def page_memories(window: MainWindow) -> list[str]:
    """The ids of the memories the page shows, in the opened months and days."""
    model, found = window.people.timeline, []

    def walk(parent: QModelIndex) -> None:
        for row in range(model.rowCount(parent)):
            index = model.index(row, 0, parent)
            if index.data(KindRole) == "memory":
                found.append(str(index.data(ItemIdRole)))
            walk(index)

    walk(QModelIndex())
    return found


def test_the_people_model_fetches_lazily_and_passes_the_model_tester(
    qtmodeltester: ModelTester, qtbot: QtBot, window: MainWindow,
) -> None:
    facade = facade_of(window)
    model = PeopleModel(page_size=4)
    asked: list[list[str]] = []

    def answer(names: list[str]) -> None:
        asked.append(names)
        model.add_rows(facade.person_rows(names))

    model.wanted.connect(answer)
    names = facade.person_list()
    model.set_names(names)
    qtmodeltester.check(model)
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())
    assert [len(page) for page in asked] == [4, 4, 1], (names, asked)  # nine people
    assert [model.person(row).name for row in range(model.rowCount())] == names
    jordan = model.index(names.index("Jordan"), PeopleColumn.MEMORIES)
    assert jordan.data() == "2"
    assert jordan.data(PersonRole).first.isoformat() == "2026-01-14"
    model.set_names(names[:3])  # a refresh: a new list, figures read again
    qtmodeltester.check(model)
    assert model.rowCount() == 3  # the tester fetched what it could
    model.add_rows(facade.person_rows(["Maya"]))  # a page nobody asked for: ignored
    assert model.rowCount() == 3


def test_view_people_lists_everyone_but_the_owner_and_search_filters(
    qtbot: QtBot, window: MainWindow
) -> None:
    assert window.people_action.shortcut().toString() == "Ctrl+4"
    open_people(qtbot, window)
    assert window.tabs.currentWidget().isAncestorOf(window.people)
    assert QApplication.focusWidget() is window.people.search  # type to find someone
    expected = [f"Friend {n:02}" for n in range(7)] + ["Jordan", "Maya"]
    qtbot.waitUntil(lambda: names_shown(window) == expected, timeout=TIMEOUT_MS)
    assert window.people.count.text() == "9 people"
    qtbot.keyClicks(window.people.search, "ord")
    qtbot.waitUntil(lambda: names_shown(window) == ["Jordan"], timeout=TIMEOUT_MS)
    settle(qtbot, window)
    with qtbot.waitSignal(window.people.page_shown, timeout=TIMEOUT_MS):
        qtbot.keyClick(window.people.search, Qt.Key.Key_Return)  # to the list: Jordan
    assert QApplication.focusWidget() is window.people.list
    assert window.people.person == "Jordan"
    window.people.search.setText("nobody at all")
    qtbot.waitUntil(lambda: window.people.model.names == [], timeout=TIMEOUT_MS)
    assert window.people.model.rowCount() == 0
    settle(qtbot, window)
    assert window.people.person == "Jordan"  # a search leaves the page shown
    window.people.search.clear()
    qtbot.waitUntil(lambda: names_shown(window) == expected, timeout=TIMEOUT_MS)


def test_a_page_shows_the_memories_about_them_and_opens_one_in_the_timeline(
    qtbot: QtBot, window: MainWindow
) -> None:
    open_people(qtbot, window)
    show_page(qtbot, window, "Jordan")
    header = window.people.header.text()
    assert "<h2" in header
    assert "Jordan" in header
    assert "2 memories · first Wed 14 Jan 2026 · last Mon 2 Feb 2026" in header
    assert "2 messages from them" in header
    assert ">Maya</a> (1)" in header  # the people seen with them, as links
    jordan_memories = page_memories(window)
    assert len(jordan_memories) == 2
    current = window.people.list.currentIndex()
    assert current.data(PersonRole).name == "Jordan"  # selected in the list too

    with qtbot.waitSignal(window.people.page_shown, timeout=TIMEOUT_MS):
        window.people.header.linkActivated.emit("Maya")  # the companion link
    assert window.people.person == "Maya"
    assert len(page_memories(window)) == 2  # Porto (about her), climbing (names her)

    index = window.people.timeline.index(0, 0)  # the newest month...
    while window.people.timeline.rowCount(index):
        index = window.people.timeline.index(0, 0, index)  # ...its newest memory
    memory_id = str(index.data(ItemIdRole))
    rect = window.people.memories.visualRect(index)
    qtbot.mouseClick(window.people.memories.viewport(), Qt.MouseButton.LeftButton,
                     pos=rect.center())
    assert window.tabs.currentIndex() == 0
    qtbot.waitUntil(lambda: window.timeline.detail.detail is not None, timeout=TIMEOUT_MS)
    detail = window.timeline.detail.detail
    assert detail is not None
    assert detail.id == memory_id


def test_the_list_and_the_page_refresh_when_the_store_changes(
    qtbot: QtBot, window: MainWindow
) -> None:
    open_people(qtbot, window)
    show_page(qtbot, window, "Maya")
    before = set(page_memories(window))

    def add(facade: Reverie, _ctx: JobContext) -> object:
        memory_id, changes = facade.memories.add(
            "Maya starts at the lab in May.", about="Maya", kind=MemoryKind.PLAN,
            when=datetime(2026, 3, 20, 9))
        return MemoryOutcome(changes, "added", memory_id)  # the runner announces changes

    with qtbot.waitSignal(window.runner.changed, timeout=TIMEOUT_MS):
        window.runner.run(Lane.EDIT, "add", add)
    qtbot.waitUntil(lambda: "3 memories" in window.people.header.text(), timeout=TIMEOUT_MS)
    settle(qtbot, window)
    qtbot.waitUntil(lambda: len(set(page_memories(window)) - before) == 1, timeout=TIMEOUT_MS)
    maya = window.people.model.row_of("Maya")
    assert window.people.model.person(maya).memories == 3

    def add_newcomer(facade: Reverie, _ctx: JobContext) -> object:
        memory_id, changes = facade.memories.add("Zed fixed my bike.", about="Zed")
        return MemoryOutcome(changes, "added", memory_id)

    with qtbot.waitSignal(window.runner.changed, timeout=TIMEOUT_MS):
        window.runner.run(Lane.EDIT, "add", add_newcomer)
    qtbot.waitUntil(lambda: "Zed" in names_shown(window), timeout=TIMEOUT_MS)
    assert window.people.person == "Maya"  # the page shown stays


def test_someone_whose_memories_all_went_leaves_the_list_and_their_page(
    qtbot: QtBot, window: MainWindow
) -> None:
    open_people(qtbot, window)
    show_page(qtbot, window, "Friend 03")
    facade = facade_of(window)
    (memory_id,) = [row["id"] for row in facade.store.ledger.query(
        "SELECT id FROM memories WHERE about = 'Friend 03'")]

    def archive(facade: Reverie, _ctx: JobContext) -> object:
        return MemoryOutcome(facade.memories.archive(memory_id), "archived", memory_id)

    with qtbot.waitSignal(window.runner.changed, timeout=TIMEOUT_MS):
        window.runner.run(Lane.EDIT, "archive", archive)
    qtbot.waitUntil(lambda: "Friend 03" not in window.people.model.names, timeout=TIMEOUT_MS)
    settle(qtbot, window)
    assert window.people.person == ""
    assert window.people.page.currentIndex() == 0
    assert window.people.header.text() == "Nothing about Friend 03 is remembered any longer."
