"""The timeline model over a real store: Qt's model checks, paging, refresh in place."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QTreeView
from pytestqt.qtbot import QtBot

from reverie.core.service import Reverie
from reverie.core.types import TimelineItem
from reverie.desktop.timeline_model import (
    DayRole,
    ItemIdRole,
    KindRole,
    TextRole,
    TimelineModel,
    day_label,
)
from tests.desktop.conftest import MemoryLLM, write_chat

SAMPLE_DAYS = ["2026-03-08", "2026-03-05", "2026-03-02"]  # the days of the turns


def stored_days(facade: Reverie) -> list[str]:
    """Every day holding something, newest first: the turns' days and the days the
    memories extracted from them happened on ("starts next Monday")."""
    return [day.day for day in facade.timeline_days(0, 100)]
ROOT = QModelIndex()


def fetch_all_days(model: TimelineModel) -> None:
    while model.canFetchMore(ROOT):
        model.fetchMore(ROOT)


def items_of(model: TimelineModel, day: str) -> list[str]:
    parent = model.day_index(day)
    return [model.index(row, 0, parent).data(ItemIdRole) for row in range(model.rowCount(parent))]


def write_turns(path: Path, conversation: str, turns: list[tuple[str, str]]) -> Path:
    """A chat file with one turn per (ISO time, text)."""
    lines = [
        {"conversation": conversation, "id": f"t{n}", "time": when, "speaker": "Alex", "text": text}
        for n, (when, text) in enumerate(turns)
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def sample_store(open_store: Callable[..., Reverie], sample_chat: Path) -> Reverie:
    """The sample week, imported and extracted with a scripted model (fast)."""
    facade = open_store(llm=MemoryLLM())
    report = facade.import_file(sample_chat)
    assert report.memories_added > 0
    return facade


@pytest.mark.gui
def test_model_passes_qt_model_checks_over_a_real_store(
    qtmodeltester: object, sample_store: Reverie
) -> None:
    model = TimelineModel(sample_store)
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    fetch_all_days(model)
    for row in range(model.rowCount()):
        model.fetchMore(model.index(row, 0))
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    assert model.loaded_days == stored_days(sample_store)
    assert set(SAMPLE_DAYS) <= set(model.loaded_days)


@pytest.mark.gui
def test_days_and_items_read_as_the_user_sees_them(qtbot: QtBot, sample_store: Reverie) -> None:
    model = TimelineModel(sample_store)
    fetch_all_days(model)
    counts = {d.day: d.count for d in sample_store.timeline_days(0, 10)}
    first = model.day_index("2026-03-08")
    assert first.data() == f"Sun 8 Mar 2026 · {counts['2026-03-08']} items"
    assert first.data(KindRole) == "day"
    assert first.data(DayRole) == "2026-03-08"
    assert day_label("2026-03-02", 1) == "Mon 2 Mar 2026 · 1 item"
    assert model.hasChildren(first)
    assert model.rowCount(first) == 0  # not read until asked

    march5 = model.day_index("2026-03-05")
    model.fetchMore(march5)
    stored: list[TimelineItem] = sample_store.timeline_items("2026-03-05")
    assert model.rowCount(march5) == len(stored) == counts["2026-03-05"]
    kinds = set()
    for row, item in enumerate(stored):
        index = model.index(row, 0, march5)
        assert index.data(ItemIdRole) == item.id
        assert index.data(TextRole) == item.text
        assert index.data(KindRole) == item.kind.value
        assert index.data().startswith(f"{item.time:%H:%M}")
        assert item.label in index.data()
        assert item.text.split()[0] in index.data(Qt.ItemDataRole.ToolTipRole)
        assert isinstance(index.data(Qt.ItemDataRole.DecorationRole), QIcon)
        assert index.parent() == march5
        kinds.add(item.kind.value)
    assert kinds == {"episode", "memory"}


@pytest.mark.gui
def test_days_are_fetched_a_page_at_a_time(
    qtbot: QtBot, open_store: Callable[..., Reverie], tmp_path: Path
) -> None:
    facade = open_store(llm=MemoryLLM())
    facade.import_file(write_chat(tmp_path / "twelve.jsonl", days=12), extract=False)
    model = TimelineModel(facade, page_size=5)
    assert model.rowCount() == 0
    assert model.canFetchMore(ROOT)
    loaded = []
    while model.canFetchMore(ROOT):
        model.fetchMore(ROOT)
        loaded.append(model.rowCount())
    assert loaded == [5, 10, 12]
    assert model.loaded_days == [d.day for d in facade.timeline_days(0, 100)]
    assert len(set(model.loaded_days)) == 12


@pytest.mark.gui
def test_a_view_fetches_a_days_items_when_it_is_expanded(
    qtbot: QtBot, sample_store: Reverie
) -> None:
    model = TimelineModel(sample_store)
    view = QTreeView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.show()
    qtbot.waitExposed(view)
    days = len(stored_days(sample_store))
    qtbot.waitUntil(lambda: model.rowCount() == days)  # the view asked for the first page
    day = model.index(1, 0)
    assert model.rowCount(day) == 0
    view.expand(day)
    qtbot.waitUntil(lambda: model.rowCount(day) > 0)
    assert view.isExpanded(day)


@pytest.mark.gui
def test_refresh_inserts_new_days_and_items_in_place(
    qtbot: QtBot, qtmodeltester: object, sample_store: Reverie, tmp_path: Path
) -> None:
    model = TimelineModel(sample_store)
    fetch_all_days(model)
    march5 = model.day_index("2026-03-05")
    model.fetchMore(march5)
    before = items_of(model, "2026-03-05")
    kept = QPersistentModelIndex(model.index(1, 0, march5))
    kept_id = kept.data(ItemIdRole)
    qtmodeltester.check(model)  # type: ignore[attr-defined]  # keeps checking the signals
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))

    more = write_turns(
        tmp_path / "more.jsonl", "Another chat",
        [
            ("2026-03-10T10:00:00", "We planted tomatoes on the balcony this morning."),
            ("2026-03-05T12:00:00", "Lunch with Maya at the noodle bar near the office."),
            ("2026-03-03T18:30:00", "The pottery teacher is called Ines, she is very patient."),
        ],
    )
    days_before = stored_days(sample_store)
    report = sample_store.import_file(more, extract=False)
    model.refresh(report.changes)

    assert model.loaded_days == sorted({*days_before, "2026-03-10", "2026-03-03"}, reverse=True)
    after = items_of(model, "2026-03-05")
    assert len(after) == len(before) + 1
    assert [i for i in after if i in before] == before
    assert kept.isValid()
    assert kept.data(ItemIdRole) == kept_id
    march5 = model.day_index("2026-03-05")
    assert march5.data().endswith(f"· {len(after)} items")
    assert not resets

    model.refresh(None)  # "something may have changed": nothing did
    assert items_of(model, "2026-03-05") == after
    assert not resets


@pytest.mark.gui
def test_refresh_keeps_paging_consistent(
    qtbot: QtBot, open_store: Callable[..., Reverie], tmp_path: Path
) -> None:
    facade = open_store(llm=MemoryLLM())
    facade.import_file(write_chat(tmp_path / "twelve.jsonl", days=12), extract=False)
    model = TimelineModel(facade, page_size=5)
    model.fetchMore(ROOT)
    assert model.rowCount() == 5
    more = write_turns(
        tmp_path / "more.jsonl", "Later",
        [
            ("2025-02-01T10:00:00", "A new newest day, after every other one in the store."),
            ("2024-12-01T10:00:00", "A new oldest day, long before the loaded page of days."),
        ],
    )
    report = facade.import_file(more, extract=False)
    model.refresh(report.changes)
    assert model.loaded_days[0] == "2025-02-01"
    assert "2024-12-01" not in model.loaded_days  # beyond the loaded page: fetched later
    fetch_all_days(model)
    assert model.loaded_days == [d.day for d in facade.timeline_days(0, 100)]
    assert len(model.loaded_days) == 14
