"""The conversation list's model (checked by qtmodeltester) and its paging on a real store."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from reverie.core.chat.conversations import ConversationSummary
from reverie.core.service import Reverie
from reverie.desktop import conversations_view, theme
from reverie.desktop.conversations_model import (
    ConversationsModel,
    SourceIdRole,
    SummaryRole,
    row_details,
    when_label,
)
from reverie.desktop.conversations_view import ConversationList
from reverie.desktop.jobs import Lane
from reverie.desktop.labels import short_date
from tests.doubles import ScriptedLLM

pytestmark = pytest.mark.gui
TIMEOUT_MS = 30_000
START = datetime(2025, 3, 9, 12, 30, tzinfo=UTC)  # long before any test runs


def summary(n: int, turns: int = 2, title: str | None = None) -> ConversationSummary:
    return ConversationSummary(
        source_id=f"src_{n}", name=f"Chat {n}", title=title or f"Conversation {n}",
        named=title is not None, last_turn=START - timedelta(days=n), turns=turns,
    )


def test_the_model_pages_and_updates_rows_in_place(qtbot: QtBot, qtmodeltester: Any) -> None:
    model = ConversationsModel()
    model.set_first_page([summary(1), summary(2, turns=1)], more=True)
    qtmodeltester.check(model)
    assert model.rowCount() == 2
    first = model.index(0)
    assert first.data() == "Conversation 1\nSat 8 Mar 2025 · 2 turns"
    assert model.index(1).data().endswith("· 1 turn")
    assert first.data(SourceIdRole) == "src_1"
    assert first.data(SummaryRole) == summary(1)
    assert first.data(Qt.ItemDataRole.AccessibleTextRole) == (
        "Conversation 1. Last turn Sat 8 Mar 2025, 2 turns.")
    assert model.rowCount(first) == 0  # a flat list

    # The tester's fetchMore asked for the next page; while it is on its way, no other.
    assert not model.canFetchMore(QModelIndex())
    model.fetch_failed()  # it did not come: ask again
    assert model.canFetchMore(QModelIndex())
    with qtbot.waitSignal(model.page_wanted) as wanted:
        model.fetchMore(QModelIndex())
    assert wanted.args == [2]
    assert not model.canFetchMore(QModelIndex())
    model.add_page(2, [summary(3)], more=False)
    assert model.rowCount() == 3
    assert not model.canFetchMore(QModelIndex())
    model.add_page(7, [summary(9)], more=True)  # a page of an older list: dropped
    assert model.rowCount() == 3

    # The same conversations again, one renamed: only that row changes.
    with qtbot.waitSignal(model.dataChanged) as changed:
        model.set_first_page([summary(1, title="Garden"), summary(2, turns=1), summary(3)],
                             more=False)
    assert changed.args[0].row() == 0
    assert model.index(0).data().startswith("Garden\n")
    with qtbot.waitSignal(model.modelReset):
        model.set_first_page([summary(4), summary(1)], more=False)
    assert [model.index(r).data(SourceIdRole) for r in range(2)] == ["src_4", "src_1"]

    # The conversation shown in the transcript is drawn bold.
    model.set_current("src_1")
    assert model.current == "src_1"
    assert model.index(1).data(Qt.ItemDataRole.FontRole).bold()
    assert model.index(0).data(Qt.ItemDataRole.FontRole) is None
    qtmodeltester.check(model)


def test_recent_conversations_read_as_today_and_yesterday() -> None:
    today = date(2025, 3, 9)
    local = START.astimezone()
    assert when_label(local, local.date()) == f"Today {local:%H:%M}"
    assert when_label(local, local.date() + timedelta(days=1)) == f"Yesterday {local:%H:%M}"
    assert when_label(local, local.date() + timedelta(days=2)) == short_date(local)
    assert row_details(summary(0, turns=1), today).endswith(" · 1 turn")


@pytest.fixture
def list_for(widget_for: Callable[..., ConversationList]) -> Callable[[Reverie], ConversationList]:
    return lambda facade: widget_for(facade, ConversationList, (260, 400))


def test_the_list_reads_its_pages_from_the_store(
    qtbot: QtBot, list_for: Callable[[Reverie], ConversationList],
    open_store: Callable[..., Reverie], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(conversations_view, "PAGE", 2)
    facade = open_store(llm=ScriptedLLM(lambda _m: "Noted."))
    for text in ("Bread needs more salt.", "The bus was late again.", "Lena turns five soon."):
        facade.chat(facade.new_conversation(), text)
    widget = list_for(facade)
    assert widget.empty.isVisible()
    widget.refresh()
    qtbot.waitUntil(lambda: widget.model.rowCount() >= 2, timeout=TIMEOUT_MS)
    assert not widget.empty.isVisible()
    titles = [widget.model.index(r).data().split("\n")[0] for r in range(2)]
    assert titles == ["Lena turns five soon.", "The bus was late again."]
    # Scrolling to the end (Qt calls fetchMore) brings the last page.
    qtbot.waitUntil(lambda: not widget._runner.busy(Lane.STATUS), timeout=TIMEOUT_MS)
    widget.model.fetchMore(QModelIndex())
    qtbot.waitUntil(lambda: widget.model.rowCount() == 3, timeout=TIMEOUT_MS)
    assert widget.model.index(2).data().startswith("Bread needs more salt.")
    assert not widget.model.canFetchMore(QModelIndex())


def test_the_live_model_passes_the_model_tester_on_a_real_store(
    qtbot: QtBot, list_for: Callable[[Reverie], ConversationList],
    open_store: Callable[..., Reverie], monkeypatch: pytest.MonkeyPatch, qtmodeltester: Any,
) -> None:
    """The list's own model, filled by its jobs from a real store: the tester stays
    attached while pages arrive, a rename repaints a row, a new conversation moves to the
    top and a deletion takes one away."""
    monkeypatch.setattr(conversations_view, "PAGE", 2)
    facade = open_store(llm=ScriptedLLM(lambda _m: "Noted."))
    for text in ("Bread needs more salt.", "The bus was late again.", "Lena turns five soon."):
        facade.chat(facade.new_conversation(), text)
    widget = list_for(facade)
    model = widget.model
    widget.refresh()
    qtbot.waitUntil(lambda: model.rowCount() >= 2, timeout=TIMEOUT_MS)
    # The tester (or the view) asks for the next page; it arrives once the lane frees.
    qtmodeltester.check(model)
    qtbot.waitUntil(lambda: model.rowCount() == 3, timeout=TIMEOUT_MS)
    qtmodeltester.check(model)

    newest = model.summary(0).source_id
    widget._rename(newest, "Lena's birthday")
    qtbot.waitUntil(lambda: model.index(0).data().startswith("Lena's birthday\n"),
                    timeout=TIMEOUT_MS)
    facade.chat(facade.new_conversation(), "The plumber comes on Friday.")
    widget.refresh()
    qtbot.waitUntil(lambda: model.index(0).data().startswith("The plumber"),
                    timeout=TIMEOUT_MS)
    facade.conversations.delete(facade.conversations.plan_delete(newest))
    widget.refresh()
    qtbot.waitUntil(lambda: model.row_of(newest) is None, timeout=TIMEOUT_MS)
    qtmodeltester.check(model)
    assert model.rowCount() >= 1


def test_reads_asked_for_while_the_lane_is_busy_wait_for_it_once(
    qtbot: QtBot, list_for: Callable[[Reverie], ConversationList],
    open_store: Callable[..., Reverie],
) -> None:
    """Refreshes asked for while another view's read holds Lane.STATUS start one read
    when that read ends (JobRunner.run_when_free), not one each, and none is lost."""
    facade = open_store(llm=ScriptedLLM(lambda _m: "Noted."))
    facade.chat(facade.new_conversation(), "Bread needs more salt.")
    widget = list_for(facade)
    runner = widget._runner
    release = threading.Event()
    holder = runner.run(Lane.STATUS, "another view's read",
                        lambda _facade, _ctx: release.wait(TIMEOUT_MS / 1000), writes=False)
    started: list[str] = []
    runner.busy_changed.connect(
        lambda lane, busy: started.append(runner.job(lane).name)  # type: ignore[union-attr]
        if busy and lane is Lane.STATUS else None)
    for _ in range(3):
        widget.refresh()
    qtbot.wait(50)
    assert widget.model.rowCount() == 0  # still waiting: nothing read yet
    with qtbot.waitSignal(holder.finished, timeout=TIMEOUT_MS):
        release.set()
    qtbot.waitUntil(lambda: widget.model.rowCount() == 1, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: not runner.busy(Lane.STATUS), timeout=TIMEOUT_MS)
    assert started == ["conversations"]
    assert widget.model.index(0).data().startswith("Bread needs more salt.")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_details_and_the_empty_note_are_drawn_in_the_schemes_muted_tone(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, scheme: str,
    list_for: Callable[[Reverie], ConversationList], open_store: Callable[..., Reverie],
) -> None:
    qapp = QApplication.instance()
    assert isinstance(qapp, QApplication)
    saved = qapp.palette()
    monkeypatch.setenv(theme.THEME_ENV, scheme)
    theme.apply_theme(qapp)
    try:
        facade = open_store(llm=ScriptedLLM(lambda _m: "Noted."))
        widget = list_for(facade)
        assert widget.empty.isVisible()
        assert widget.empty.styleSheet() == theme.qss("muted")
        facade.chat(facade.new_conversation(), "Bread needs more salt.")
        widget.view.setFont(QFont(widget.font().family(), 40, QFont.Weight.Black))
        widget.resize(900, 400)
        widget.refresh()
        qtbot.waitUntil(lambda: widget.model.rowCount() == 1, timeout=TIMEOUT_MS)
        widget.view.clearSelection()  # selected rows draw the palette's highlighted text
        image = widget.view.viewport().grab().toImage()
        drawn = {image.pixelColor(x, y).name() for x in range(0, image.width(), 2)
                 for y in range(image.height())}
        assert theme.tone("muted") in drawn  # the details line, read at draw time
        monkeypatch.setenv(theme.THEME_ENV, {"light": "dark", "dark": "light"}[scheme])
        theme.apply_theme(qapp)
        assert theme.tone("muted") not in drawn  # the other scheme's muted: not a fixed grey
        assert widget.empty.styleSheet() == theme.qss("muted")  # the note followed too
    finally:
        qapp.setPalette(saved)
