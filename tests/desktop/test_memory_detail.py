"""A memory's detail in the timeline: its fields and sources, and edit, merge, undo, pin
and forget from it, on a real store with the real embedder."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QPushButton
from pytestqt.qtbot import QtBot

from reverie.core.service import Reverie
from reverie.core.types import ItemKind, TimelineItem
from reverie.desktop.jobs import Lane
from reverie.desktop.main_window import MainWindow
from reverie.desktop.memory_work import Candidates
from reverie.desktop.merge_dialog import MergeDialog
from reverie.desktop.theme import tone
from reverie.desktop.timeline_model import ItemIdRole, PeopleRole
from tests.desktop.conftest import facade_of

pytestmark = pytest.mark.gui
TIMEOUT_MS = 30_000


def a_memory(facade: Reverie, containing: str = "") -> TimelineItem:
    """A memory with sources from the newest days, optionally one whose text holds
    `containing`."""
    for day in facade.timeline_days(0, 50):
        for item in facade.timeline_items(day.day):
            if item.kind is ItemKind.MEMORY and containing in item.text:
                return item
    raise AssertionError(f"no memory holding {containing!r}")


def select(qtbot: QtBot, window: MainWindow, item: TimelineItem) -> None:
    assert window.timeline.reveal(item.id, item.time.date().isoformat())
    qtbot.waitUntil(lambda: window.timeline.detail.detail is not None
                    and window.timeline.detail.detail.id == item.id)


def wait_edit_done(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.runner.busy(Lane.EDIT), timeout=TIMEOUT_MS)


@pytest.fixture
def window(memories_window: MainWindow) -> MainWindow:
    return memories_window


def test_selecting_a_memory_shows_its_fields_and_the_supporting_span(
    qtbot: QtBot, window: MainWindow,
) -> None:
    memory = a_memory(facade_of(window), "oat milk")
    select(qtbot, window, memory)
    detail = window.timeline.detail
    text = detail.text()
    assert memory.text in text
    for label in ("Happened", "Learned", "Confidence", "Trust", "Where it came from",
                  "History"):
        assert label in text
    assert "Created by Reverie, from what it read" in text
    assert "Yours, from a conversation you imported" in text  # trust in words, not a code
    # The turn it came from is quoted, with the sentence that supports it marked.
    html = detail.browser.toHtml()
    assert "oat milk" in text.split("Where it came from", 1)[1]
    assert f"background-color:{tone('highlight')}" in html.replace(" ", "")
    assert detail.buttons.isVisible()


def test_edit_then_undo_restores_the_text_and_the_search(
    qtbot: QtBot, window: MainWindow,
) -> None:
    facade = facade_of(window)
    memory = a_memory(facade, "oat milk")
    select(qtbot, window, memory)
    detail = window.timeline.detail

    dialog = detail.edit()
    assert dialog is not None
    dialog.text.setPlainText("I drink almond milk with my coffee every morning.")
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save).click()
    wait_edit_done(qtbot, window)
    qtbot.waitUntil(lambda: "almond milk" in detail.text(), timeout=TIMEOUT_MS)
    assert "edited by you" in detail.text()
    assert "text “" in detail.text()  # the history says what the edit changed
    # The timeline row shows the new text, and search finds it by its new words.
    row = window.timeline.view.currentIndex()
    assert row.data(ItemIdRole) == memory.id
    assert "almond milk" in str(row.data())
    hits = facade.search("almond milk", k=3)
    assert memory.id in [hit.id for hit in hits]

    detail.undo_action.trigger()
    wait_edit_done(qtbot, window)
    qtbot.waitUntil(lambda: "almond" not in detail.text().split("History")[0],
                    timeout=TIMEOUT_MS)
    assert facade.memory_detail(memory.id).text == memory.text  # type: ignore[union-attr]
    assert "(undone)" in detail.text()


def test_an_edit_that_core_would_refuse_is_refused_in_the_dialog(
    qtbot: QtBot, window: MainWindow,
) -> None:
    facade = facade_of(window)
    memory = a_memory(facade)
    select(qtbot, window, memory)
    dialog = window.timeline.detail.edit()
    assert dialog is not None
    dialog.text.setPlainText("   ")
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save).click()
    assert dialog.isVisible()
    assert dialog.problem.text() == "A memory needs some text."
    dialog.reject()
    assert facade.memory_detail(memory.id).text == memory.text  # type: ignore[union-attr]
    assert facade.memories.history(memory.id)[0].action != "edited"


def test_edit_people_shows_them_in_the_detail_and_chips_and_ctrl_z_restores(
    qtbot: QtBot, window: MainWindow,
) -> None:
    facade = facade_of(window)
    memory = a_memory(facade, "oat milk")
    select(qtbot, window, memory)
    detail = window.timeline.detail
    people_before = facade.memory_detail(memory.id).people  # type: ignore[union-attr]
    chips_before = window.timeline.view.currentIndex().data(PeopleRole)

    detail.browser.setFocus()
    qtbot.keyClick(detail.browser, Qt.Key.Key_F2)
    qtbot.waitUntil(lambda: detail.edit_dialog is not None)
    dialog = detail.edit_dialog
    assert dialog is not None
    assert dialog.people.text() == ", ".join(people_before)  # prefilled, never "you"
    dialog.people.setText(" Priya Shah, , jordan lee ,")
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save).click()
    wait_edit_done(qtbot, window)
    qtbot.waitUntil(lambda: "Priya Shah" in detail.text(), timeout=TIMEOUT_MS)

    assert set(facade.memory_detail(memory.id).people) == {  # type: ignore[union-attr]
        "Priya Shah", "jordan lee"}
    assert "jordan lee" in detail.text()
    history = detail.text().split("History")[1]
    assert "now names “jordan lee” and “Priya Shah”" in history  # who the edit added
    assert facade.memory_detail(memory.id).user_edited  # type: ignore[union-attr]
    row = window.timeline.view.currentIndex()  # the timeline row's chips name them
    assert row.data(ItemIdRole) == memory.id
    assert {"Priya Shah", "jordan lee"} <= set(row.data(PeopleRole))
    assert [p.memories for p in facade.person_rows(["Priya Shah"])] == [1]

    # The offscreen platform does not give the window back its activation when a
    # dialog closes, as a desktop's window manager does; shortcuts need it.
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    detail.browser.setFocus()
    qtbot.keyClick(detail.browser, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_edit_done(qtbot, window)
    qtbot.waitUntil(lambda: "Priya Shah" not in detail.text().split("History")[0],
                    timeout=TIMEOUT_MS)
    assert facade.memory_detail(memory.id).people == people_before  # type: ignore[union-attr]
    row = window.timeline.view.currentIndex()
    assert row.data(ItemIdRole) == memory.id
    assert row.data(PeopleRole) == chips_before
    assert sum(p.memories for p in facade.person_rows(["Priya Shah"])) == 0


def test_people_core_would_refuse_are_refused_in_the_dialog(
    qtbot: QtBot, window: MainWindow,
) -> None:
    facade = facade_of(window)
    memory = a_memory(facade)
    select(qtbot, window, memory)
    dialog = window.timeline.detail.edit()
    assert dialog is not None
    save = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save)
    dialog.people.setText("Priya, me")
    save.click()
    assert dialog.isVisible()
    assert dialog.problem.text() == ('"me" is you, and you are never one of a memory\'s'
                                     " people; set About to you instead.")
    dialog.people.setText("Priya, " + "x" * 81)
    save.click()
    assert dialog.isVisible()
    assert dialog.problem.text().startswith("A person's name holds at most 80 characters")
    dialog.reject()
    assert facade.memories.history(memory.id)[0].action != "edited"
    assert "Priya" not in facade.memory_detail(memory.id).people  # type: ignore[union-attr]


def test_pin_and_unpin(qtbot: QtBot, window: MainWindow) -> None:
    facade = facade_of(window)
    memory = a_memory(facade)
    select(qtbot, window, memory)
    detail = window.timeline.detail
    detail.pin_action.trigger()
    wait_edit_done(qtbot, window)
    qtbot.waitUntil(lambda: detail.detail is not None and detail.detail.pinned)
    assert detail.pin_action.text() == "Un&pin"
    assert "Pinned by you" in detail.text()
    detail.pin_action.trigger()
    wait_edit_done(qtbot, window)
    qtbot.waitUntil(lambda: detail.detail is not None and not detail.detail.pinned)


def test_forget_previews_what_goes_and_can_take_the_source_turns_too(
    qtbot: QtBot, window: MainWindow,
) -> None:
    facade = facade_of(window)
    memory = a_memory(facade, "oat milk")
    turns = facade.memories.cited_episode_ids(memory.id)
    before = facade.counts()
    select(qtbot, window, memory)
    detail = window.timeline.detail
    detail.forget_action.trigger()
    qtbot.waitUntil(lambda: detail.forget_dialog is not None, timeout=TIMEOUT_MS)
    dialog = detail.forget_dialog
    assert dialog is not None
    assert "1 memory will be removed for good" in dialog.summary.text()
    assert facade.counts() == before  # a preview changes nothing

    dialog.with_turns.setChecked(True)
    qtbot.waitUntil(dialog.with_turns.isEnabled, timeout=TIMEOUT_MS)
    assert "turn" in dialog.summary.text()
    assert len(dialog.plan.episode_ids) == len(turns)
    dialog.forget_button.click()
    wait_edit_done(qtbot, window)
    qtbot.waitUntil(lambda: detail.text().strip() == "Forgotten.", timeout=TIMEOUT_MS)
    after = facade.counts()
    assert after["episodes"] == before["episodes"] - len(turns)
    assert facade.item_day(memory.id) is None or all(
        item.id != memory.id for item in facade.timeline_items(memory.time.date().isoformat()))


def test_the_supersede_chain_links_to_the_memory_it_replaced(
    qtbot: QtBot, window: MainWindow,
) -> None:
    facade = facade_of(window)
    old = a_memory(facade, "oat milk")
    new_id, _changes = facade.memories.add("I now drink my coffee black.",
                                           when=old.time + timedelta(days=2))
    facade.memories.supersede(old.id, by=new_id, at=old.time + timedelta(days=2))
    window.timeline_model.refresh(None)
    new = a_memory(facade, "coffee black")
    select(qtbot, window, new)
    detail = window.timeline.detail
    assert "Replaced: " + old.text in detail.text()
    assert "You wrote this yourself" in detail.text()

    detail.browser.anchorClicked.emit(QUrl(f"memory:{old.id}"))
    qtbot.waitUntil(lambda: detail.detail is not None and detail.detail.id == old.id)
    assert "Replaced by: I now drink my coffee black." in detail.text()
    assert "no longer true" in detail.text()


def test_open_source_opens_the_file_the_turn_was_read_from(
    qtbot: QtBot, window: MainWindow, sample_chat: Path,
) -> None:
    memory = a_memory(facade_of(window), "oat milk")
    select(qtbot, window, memory)
    detail = window.timeline.detail
    opened: list[Path] = []
    detail.open_file = lambda path: opened.append(path) or True
    assert "Open source" in detail.text()
    detail.browser.anchorClicked.emit(QUrl("source:0"))
    assert opened == [sample_chat.resolve()] or opened == [sample_chat]


def test_merge_with_finds_the_similar_memory_merges_and_undo_brings_both_back(
    qtbot: QtBot, window: MainWindow,
) -> None:
    facade = facade_of(window)
    memory = a_memory(facade, "oat milk")
    other_id, _changes = facade.memories.add(
        "Dairy upsets my stomach, so I drink oat milk now.", when=memory.time + timedelta(hours=2))
    window.timeline_model.refresh(None)
    select(qtbot, window, memory)
    detail = window.timeline.detail
    assert detail.merge_action.shortcut().toString() == "Ctrl+M"
    assert "Merge with…" in [b.accessibleName() for b in detail.buttons.findChildren(QPushButton)]

    detail.browser.setFocus()
    qtbot.keyClick(detail.browser, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: detail.merge_dialog is not None)
    dialog = detail.merge_dialog
    assert dialog is not None
    assert not dialog.merge_button.isEnabled()  # nothing chosen yet
    # With nothing typed, the memories most like this one come first (never itself).
    qtbot.waitUntil(lambda: dialog.candidates.count() > 0, timeout=TIMEOUT_MS)
    listed = [dialog.candidates.item(n).data(Qt.ItemDataRole.UserRole)
              for n in range(dialog.candidates.count())]
    assert listed[0] == other_id
    assert memory.id not in listed
    # Typing searches again (in a job); an answer to the words typed is listed.
    dialog.search.setText("stomach dairy")
    qtbot.waitUntil(lambda: "match" in dialog.status.text(), timeout=TIMEOUT_MS)
    assert dialog.choose(other_id)
    # Both side by side; the merged text starts as the longer of the two.
    assert memory.text in dialog.this_label.text()
    assert "Dairy upsets my stomach" in dialog.other_label.text()
    longer = max(memory.text, "Dairy upsets my stomach, so I drink oat milk now.", key=len)
    assert dialog.text.toPlainText() == longer
    dialog.text.setPlainText("I drink oat milk because dairy upsets my stomach.")
    dialog.merge_button.click()
    wait_edit_done(qtbot, window)
    qtbot.waitUntil(lambda: "Merged from: Dairy upsets" in detail.text(), timeout=TIMEOUT_MS)

    shown = detail.detail
    assert shown is not None
    assert shown.id == memory.id
    assert shown.text == "I drink oat milk because dairy upsets my stomach."
    assert "edited by you" in detail.text()
    assert "Merged by you" in detail.text()
    assert "undo:" in detail.browser.toHtml()
    row = window.timeline.view.currentIndex()  # the timeline row shows the merged text
    assert row.data(ItemIdRole) == memory.id
    assert "because dairy upsets" in str(row.data())
    assert facade.memory_detail(other_id).status == "archived"  # type: ignore[union-attr]
    day = memory.time.date().isoformat()
    assert other_id not in [item.id for item in facade.timeline_items(day)]
    assert window.timeline_model.locate(day, other_id).data(ItemIdRole) != other_id

    detail.undo_action.trigger()
    wait_edit_done(qtbot, window)
    qtbot.waitUntil(lambda: "(undone)" in detail.text(), timeout=TIMEOUT_MS)
    assert "Merged from" not in detail.text()
    assert facade.memory_detail(memory.id).text == memory.text  # type: ignore[union-attr]
    assert facade.memory_detail(other_id).status == "active"  # type: ignore[union-attr]
    assert other_id in [item.id for item in facade.timeline_items(day)]
    assert window.timeline_model.locate(day, other_id).data(ItemIdRole) == other_id
    assert set(facade.memories.cited_episode_ids(memory.id)) == {
        source.episode_id for source in facade.memory_detail(memory.id).sources}  # type: ignore[union-attr]


def merging_oat_milk(
    qtbot: QtBot, window: MainWindow,
) -> tuple[Reverie, TimelineItem, str, MergeDialog]:
    """The oat-milk memory selected, a near copy of it added, and the merge dialog
    open on it with the copy chosen."""
    facade = facade_of(window)
    memory = a_memory(facade, "oat milk")
    other_id, _changes = facade.memories.add("I drink oat milk.", when=memory.time)
    window.timeline_model.refresh(None)
    select(qtbot, window, memory)
    dialog = window.timeline.detail.merge()
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.choose(other_id), timeout=TIMEOUT_MS)
    return facade, memory, other_id, dialog


def test_the_merge_dialog_refuses_an_empty_text_and_a_summary_cannot_be_merged(
    qtbot: QtBot, window: MainWindow,
) -> None:
    facade, memory, other_id, dialog = merging_oat_milk(qtbot, window)
    dialog.text.setPlainText("   ")
    dialog.merge_button.click()
    assert dialog.isVisible()
    assert dialog.problem.text() == "The merged memory needs some text."
    dialog.reject()
    assert facade.memory_detail(other_id).status == "active"  # type: ignore[union-attr]
    assert all(entry.action != "merged" for entry in facade.memories.history(memory.id))


def test_the_edit_dialog_says_you_for_a_memory_about_the_user(
    qtbot: QtBot, window: MainWindow,
) -> None:
    facade = facade_of(window)
    memory_id, _changes = facade.memories.add("I keep the spare key under the blue pot.")
    window.timeline_model.refresh(None)
    memory = a_memory(facade, "spare key")
    assert memory.id == memory_id
    select(qtbot, window, memory)
    dialog = window.timeline.detail.edit()
    assert dialog is not None
    assert dialog.about.text() == "you"
    assert dialog.change().empty  # "you" is who it was about: nothing changed
    dialog.about.setText("Sam")
    assert dialog.change().about == "Sam"
    dialog.reject()


def test_merging_both_into_a_new_memory_from_the_dialog_and_undoing_it(
    qtbot: QtBot, window: MainWindow,
) -> None:
    facade, memory, other_id, dialog = merging_oat_milk(qtbot, window)
    detail = window.timeline.detail
    listed = dialog.candidates.count()
    # An answer to words no longer typed is dropped, whatever it holds.
    dialog.show_candidates(Candidates("words typed before", ()))
    assert dialog.candidates.count() == listed
    dialog.into_new.setChecked(True)
    dialog.text.setPlainText("Oat milk instead of dairy, for my stomach.")
    dialog.merge_button.click()
    wait_edit_done(qtbot, window)
    qtbot.waitUntil(lambda: detail.detail is not None
                    and detail.detail.id not in (memory.id, other_id), timeout=TIMEOUT_MS)
    new = detail.detail
    assert new is not None
    assert new.text == "Oat milk instead of dairy, for my stomach."
    assert detail.text().count("Merged from: ") == 2
    for merged_away in (memory.id, other_id):
        assert facade.memory_detail(merged_away).status == "archived"  # type: ignore[union-attr]

    detail.undo_action.trigger()  # the new memory's newest change: the merge itself
    wait_edit_done(qtbot, window)
    qtbot.waitUntil(lambda: facade.memory_detail(new.id).status == "archived",  # type: ignore[union-attr]
                    timeout=TIMEOUT_MS)
    for merged_away in (memory.id, other_id):
        assert facade.memory_detail(merged_away).status == "active"  # type: ignore[union-attr]
