"""The chat panel: streamed answers, memories used, Stop, new conversations."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from reverie.core.chat.session import ChatAnswer
from reverie.core.service import Reverie
from reverie.desktop.chat_view import NOT_GROUNDED, ChatPanel
from reverie.desktop.jobs import JobRunner, Lane
from reverie.desktop.labels import short_date
from reverie.desktop.transcript import chip_label
from tests.desktop.conftest import HoldingLLM, MemoryLLM

pytestmark = pytest.mark.gui
TIMEOUT_MS = 30_000


@pytest.fixture
def panel_for(qtbot: QtBot) -> Iterator[Callable[[Reverie], ChatPanel]]:
    runners: list[JobRunner] = []

    def make(facade: Reverie) -> ChatPanel:
        runner = JobRunner()
        runner.set_facade(facade)
        runners.append(runner)
        panel = ChatPanel(runner)
        qtbot.addWidget(panel)
        panel.resize(600, 500)
        panel.show()
        return panel

    yield make
    for runner in runners:
        runner.shutdown()  # the facade itself is closed by open_store


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
