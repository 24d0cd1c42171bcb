"""The chat panel: streamed answers, memories used, Stop, new conversations, and the
conversation list (open, continue, rename, delete)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog, QWidget
from pytestqt.qtbot import QtBot

from reverie.core.chat.session import ChatAnswer
from reverie.core.service import Reverie
from reverie.desktop.chat_view import NOT_GROUNDED, ChatPanel
from reverie.desktop.conversations_model import SourceIdRole
from reverie.desktop.conversations_view import DeleteConversationDialog
from reverie.desktop.jobs import Lane
from reverie.desktop.labels import short_date
from reverie.desktop.transcript import STORED_NOTE, chip_label
from reverie.models.base import RoleModels
from tests.desktop.conftest import HoldingLLM, MemoryLLM

pytestmark = pytest.mark.gui
TIMEOUT_MS = 30_000


@pytest.fixture
def panel_for(widget_for: Callable[..., ChatPanel]) -> Callable[[Reverie], ChatPanel]:
    return lambda facade: widget_for(facade, ChatPanel, (600, 500))


def send(qtbot: QtBot, panel: ChatPanel, text: str) -> None:
    panel.input.setPlainText(text)
    qtbot.keyClick(panel.input, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)


def test_an_answer_streams_in_and_lists_the_memories_it_used(
    qtbot: QtBot,
    panel_for: Callable[[Reverie], ChatPanel],
    open_store: Callable[..., Reverie],
    sample_chat: Path,
) -> None:
    facade = open_store(
        llm=MemoryLLM("You switched to oat milk because dairy upsets your stomach."))
    facade.import_file(sample_chat)
    panel = panel_for(facade)
    tokens: list[str] = []
    panel.token_received.connect(tokens.append)
    assert not panel.send_button.isEnabled()  # nothing typed yet

    with qtbot.waitSignal(panel.answer_finished, timeout=TIMEOUT_MS) as done:
        send(qtbot, panel, "What milk do I drink now?")
        assert panel.answering
        assert panel.stop_button.isEnabled()
        assert not panel.send_button.isEnabled()
        assert panel.input.toPlainText() == ""
    answer = done.args[0]
    assert isinstance(answer, ChatAnswer)
    assert "".join(tokens) == answer.text
    transcript = panel.transcript.toPlainText()
    assert "What milk do I drink now?" in transcript
    assert answer.text in transcript
    assert "Memories used" in transcript
    assert answer.used
    # The one item holding the answer's words is cited, with a chip numbered as listed.
    assert len(answer.cited) == 1
    number = answer.used.index(answer.cited[0]) + 1
    cited = answer.cited[0]
    source = cited.sources[0]
    assert source.ref == "s2-1"
    assert chip_label(number, cited) in transcript
    assert f"[{number}] {short_date(cited.time)} · {source.source}#{source.ref}  · cited" in (
        transcript)
    assert transcript.count("· cited") == 1
    assert NOT_GROUNDED not in transcript
    assert not panel.answering
    assert not panel.stop_button.isEnabled()

    # The next message continues the same conversation.
    conversation = panel._conversation
    assert conversation is not None
    with qtbot.waitSignal(panel.answer_finished, timeout=TIMEOUT_MS):
        send(qtbot, panel, "And what about coffee?")
    assert panel._conversation is conversation
    assert len(conversation.history) == 4

    panel.new_button.click()
    assert panel.transcript.toPlainText() == ""
    assert panel._conversation is None


def test_stop_cancels_a_running_answer(
    qtbot: QtBot, panel_for: Callable[[Reverie], ChatPanel], open_store: Callable[..., Reverie]
) -> None:
    llm = HoldingLLM()
    panel = panel_for(open_store(llm=llm))
    with qtbot.waitSignal(panel.token_received, timeout=TIMEOUT_MS):
        send(qtbot, panel, "Tell me a long story")
    assert panel.answering
    assert not panel.new_button.isEnabled()
    with qtbot.waitSignal(panel.answer_finished, timeout=TIMEOUT_MS) as done:
        qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    assert done.args == [None]
    assert "Let me think (stopped)" in panel.transcript.toPlainText()
    qtbot.waitUntil(lambda: not panel._runner.busy(Lane.CHAT))
    assert not panel.answering
    panel.input.setPlainText("another question")
    assert panel.send_button.isEnabled()


def test_a_refused_message_is_shown_in_the_transcript(
    qtbot: QtBot, panel_for: Callable[[Reverie], ChatPanel], open_store: Callable[..., Reverie]
) -> None:
    panel = panel_for(open_store(llm=MemoryLLM()))
    with qtbot.waitSignal(panel.answer_finished, timeout=TIMEOUT_MS) as done:
        send(qtbot, panel, "x" * 9000)
    assert done.args == [None]
    assert "longer than 8000 characters" in panel.transcript.toPlainText()


def test_remember_and_forget_wait_for_yes(
    qtbot: QtBot,
    panel_for: Callable[[Reverie], ChatPanel],
    open_store: Callable[..., Reverie],
) -> None:
    facade = open_store(llm=MemoryLLM("unused"))
    panel = panel_for(facade)
    with qtbot.waitSignal(panel.answer_finished, timeout=TIMEOUT_MS):
        send(qtbot, panel, "Remember that my bike lock code is 2468")
    assert panel.confirm_bar.isVisible()
    assert panel.confirm_bar.label.text() == "Remember it?"
    assert "Shall I remember this?" in panel.transcript.toPlainText()
    assert facade.counts()["memories"] == 0
    with qtbot.waitSignal(panel._runner.busy_changed, timeout=TIMEOUT_MS,
                          check_params_cb=lambda lane, busy: lane == Lane.CHAT and not busy):
        panel.confirm_bar.yes_button.click()
    assert not panel.confirm_bar.isVisible()
    qtbot.waitUntil(lambda: "Remembered" in panel.transcript.toPlainText(), timeout=TIMEOUT_MS)
    assert facade.counts()["memories"] == 1

    with qtbot.waitSignal(panel.answer_finished, timeout=TIMEOUT_MS):
        send(qtbot, panel, "Forget my bike lock code")
    assert panel.confirm_bar.label.text() == "Forget it?"
    panel.confirm_bar.no_button.click()
    assert "Left as it was." in panel.transcript.toPlainText()
    assert facade.counts()["memories"] == 1

    with qtbot.waitSignal(panel.answer_finished, timeout=TIMEOUT_MS):
        send(qtbot, panel, "Forget my bike lock code")
    with qtbot.waitSignal(panel._runner.busy_changed, timeout=TIMEOUT_MS,
                          check_params_cb=lambda lane, busy: lane == Lane.CHAT and not busy):
        panel.confirm_bar.yes_button.click()
    qtbot.waitUntil(lambda: "Forgotten." in panel.transcript.toPlainText(), timeout=TIMEOUT_MS)
    assert facade.counts()["memories"] == 0


def wait_rows(qtbot: QtBot, panel: ChatPanel, count: int) -> None:
    qtbot.waitUntil(lambda: panel.conversations.model.rowCount() == count, timeout=TIMEOUT_MS)


def focus(qtbot: QtBot, widget: QWidget) -> None:
    """Give `widget` the keyboard focus, its window active again after a dialog closed
    (the list's F2 and Delete act on the focused list only)."""
    widget.window().activateWindow()
    widget.setFocus()
    qtbot.waitUntil(widget.hasFocus, timeout=TIMEOUT_MS)


def row_titles(panel: ChatPanel) -> list[str]:
    model = panel.conversations.model
    return [model.index(r).data().split("\n")[0] for r in range(model.rowCount())]


def test_the_list_opens_a_past_conversation_by_keyboard_and_continues_it(
    qtbot: QtBot, panel_for: Callable[[Reverie], ChatPanel], open_store: Callable[..., Reverie],
) -> None:
    llm = MemoryLLM("Noted.")
    facade = open_store(llm=llm)
    facade.chat(facade.new_conversation(), "My sister Ana moves to Porto in May.")
    facade.chat(facade.new_conversation(), "The bus was late again today.")
    panel = panel_for(facade)
    panel.conversations.refresh()
    wait_rows(qtbot, panel, 2)
    assert row_titles(panel) == ["The bus was late again today.",
                                 "My sister Ana moves to Porto in May."]
    view = panel.conversations.view
    assert view.accessibleName() == "Conversation list"
    actions = panel.conversations
    assert [a.shortcut().toString() for a in view.actions()] == ["Return", "F2", "Del"]
    assert actions.rename_action.toolTip().endswith("(F2)")
    panel.list_button.click()  # the list folds away and comes back
    assert not panel.conversations.isVisible()
    panel.list_button.click()
    assert view.isVisible()

    focus(qtbot, view)
    qtbot.keyClick(view, Qt.Key.Key_Home)
    qtbot.keyClick(view, Qt.Key.Key_Down)
    with qtbot.waitSignal(panel._runner.busy_changed, timeout=TIMEOUT_MS,
                          check_params_cb=lambda lane, busy: lane == Lane.CHAT and not busy):
        qtbot.keyClick(view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Porto" in panel.transcript.toPlainText(), timeout=TIMEOUT_MS)
    shown = panel.transcript.toPlainText()
    assert shown.index("My sister Ana moves to Porto in May.") < shown.index("Noted.")
    assert STORED_NOTE in shown
    assert "The bus was late" not in shown
    conversation = panel._conversation
    assert conversation is not None
    assert len(conversation.history) == 2
    assert panel.conversations.model.current == conversation.source_id

    # Going on: the model gets the old turns, and the list moves it to the top.
    calls = len(llm.calls)
    with qtbot.waitSignal(panel.answer_finished, timeout=TIMEOUT_MS):
        send(qtbot, panel, "I will send her a card before she moves.")
    assert any("Porto" in m["content"] for m in llm.calls[calls])
    qtbot.waitUntil(lambda: row_titles(panel)[0].startswith("My sister Ana"),
                    timeout=TIMEOUT_MS)
    assert panel.conversations.model.index(0).data().endswith("4 turns")
    assert len(conversation.history) == 4

    # Ctrl+N's slot: a new conversation, nothing selected in the list.
    panel.new_conversation()
    assert panel._conversation is None
    assert panel.conversations.model.current is None
    assert not view.selectionModel().hasSelection()


def test_the_list_cannot_switch_while_an_answer_is_written(
    qtbot: QtBot, panel_for: Callable[[Reverie], ChatPanel], open_store: Callable[..., Reverie],
) -> None:
    llm = HoldingLLM()
    facade = open_store(llm=MemoryLLM("Noted."))
    facade.chat(facade.new_conversation(), "The bus was late again today.")
    facade.use_models(RoleModels.same(llm))
    panel = panel_for(facade)
    panel.conversations.refresh()
    wait_rows(qtbot, panel, 1)
    with qtbot.waitSignal(panel.token_received, timeout=TIMEOUT_MS):
        send(qtbot, panel, "Tell me a long story")
    view = panel.conversations.view
    assert not view.isEnabled()
    assert not panel.conversations.rename_action.isEnabled()
    source_id = panel.conversations.model.index(0).data(SourceIdRole)
    panel.open_conversation(source_id)  # refused: the answer keeps its conversation
    assert "The bus was late" not in panel.transcript.toPlainText()
    with qtbot.waitSignal(panel.answer_finished, timeout=TIMEOUT_MS):
        panel.stop()
    qtbot.waitUntil(view.isEnabled, timeout=TIMEOUT_MS)
    wait_rows(qtbot, panel, 2)  # the stopped conversation is stored and listed


def test_f2_renames_and_delete_asks_naming_the_memories_that_go(
    qtbot: QtBot, panel_for: Callable[[Reverie], ChatPanel], open_store: Callable[..., Reverie],
) -> None:
    facade = open_store(llm=MemoryLLM("Noted."))
    facade.chat(facade.new_conversation(), "Hello there.")
    facade.chat(facade.new_conversation(), "I adopted a grey cat called Miso last weekend.")
    facade.extract_pending()
    memory = facade.store.ledger.query("SELECT text FROM memories")[0]["text"]
    assert "Miso" in memory
    panel = panel_for(facade)
    panel.conversations.refresh()
    wait_rows(qtbot, panel, 2)
    view = panel.conversations.view
    focus(qtbot, view)
    qtbot.keyClick(view, Qt.Key.Key_Home)
    qtbot.keyClick(view, Qt.Key.Key_F2)
    dialog = panel.conversations.dialog
    assert isinstance(dialog, QInputDialog)
    assert dialog.textValue().startswith("I adopted a grey cat")
    dialog.setTextValue("Miso")
    dialog.accept()
    qtbot.waitUntil(lambda: row_titles(panel)[0] == "Miso", timeout=TIMEOUT_MS)

    # Open it, then delete it: the confirmation names the memory taken from it.
    with qtbot.waitSignal(panel._runner.busy_changed, timeout=TIMEOUT_MS,
                          check_params_cb=lambda lane, busy: lane == Lane.CHAT and not busy):
        qtbot.keyClick(view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "grey cat" in panel.transcript.toPlainText(), timeout=TIMEOUT_MS)
    focus(qtbot, view)
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: isinstance(panel.conversations.dialog, DeleteConversationDialog),
                    timeout=TIMEOUT_MS)
    confirm = panel.conversations.dialog
    assert isinstance(confirm, DeleteConversationDialog)
    assert "“Miso”" in confirm.summary.text()
    assert "2 turns and 1 memory" in confirm.summary.text()
    assert [confirm.memories.item(r).text() for r in range(confirm.memories.count())] == [memory]
    assert confirm.cancel_button.isDefault()

    confirm.cancel_button.click()  # nothing happens
    assert facade.counts()["memories"] == 1
    focus(qtbot, view)
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: isinstance(panel.conversations.dialog, DeleteConversationDialog),
                    timeout=TIMEOUT_MS)
    confirm = panel.conversations.dialog
    assert isinstance(confirm, DeleteConversationDialog)
    confirm.delete_button.click()
    wait_rows(qtbot, panel, 1)
    assert row_titles(panel) == ["Hello there."]
    assert facade.counts()["memories"] == 0
    assert panel._conversation is None  # the deleted conversation left the transcript
    assert panel.transcript.toPlainText() == ""
    qtbot.waitUntil(lambda: panel.status.text() == "Deleted, with 1 memory taken from it.",
                    timeout=TIMEOUT_MS)
