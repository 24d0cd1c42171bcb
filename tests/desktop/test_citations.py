"""Chat citations: chips under an answer open the cited memory or turn in the timeline,
with the source excerpt it came from."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QTextCursor, QTextDocument
from pytestqt.qtbot import QtBot

from reverie.core.chat.session import DONT_REMEMBER, ChatAnswer
from reverie.core.compose import open_reverie
from reverie.desktop.chat_view import NOTHING_MATCHED, ChatPanel
from reverie.desktop.main_window import MainWindow
from reverie.desktop.timeline_model import ItemIdRole
from reverie.desktop.transcript import chip_label
from reverie.models.base import Embedder
from tests.desktop.conftest import MemoryLLM

pytestmark = pytest.mark.gui
TIMEOUT_MS = 30_000
OAT_ANSWER = "You switched to oat milk because dairy upsets your stomach."


def window_on_sample(
    make_window: Callable[..., MainWindow], tmp_path: Path, sample_chat: Path,
    embedder: Embedder, llm: MemoryLLM,
) -> MainWindow:
    data = tmp_path / "data"
    facade = open_reverie(data, llm=llm, embedder=embedder)
    facade.import_file(sample_chat)
    facade.close()
    return make_window(llm=llm, data_dir=data)


def ask(qtbot: QtBot, chat: ChatPanel, text: str) -> ChatAnswer:
    chat.input.setPlainText(text)
    with qtbot.waitSignal(chat.answer_finished, timeout=TIMEOUT_MS) as done:
        qtbot.mouseClick(chat.send_button, Qt.MouseButton.LeftButton)
    answer = done.args[0]
    assert isinstance(answer, ChatAnswer)
    return answer


def click_text(qtbot: QtBot, chat: ChatPanel, text: str) -> None:
    """Click the middle of `text` in the transcript, as a person would."""
    transcript = chat.transcript
    found = transcript.document().find(text, 0, QTextDocument.FindFlag.FindCaseSensitively)
    assert not found.isNull(), text
    middle = QTextCursor(transcript.document())
    middle.setPosition((found.selectionStart() + found.selectionEnd()) // 2)
    transcript.ensureCursorVisible()
    transcript.setTextCursor(middle)
    transcript.ensureCursorVisible()
    point = transcript.cursorRect(middle).center()
    qtbot.mouseClick(transcript.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(point))


def test_a_citation_chip_opens_the_memory_in_the_timeline_with_its_source(
    qtbot: QtBot, make_window: Callable[..., MainWindow], tmp_path: Path,
    sample_chat: Path, bundled_embedder: Embedder,
) -> None:
    window = window_on_sample(
        make_window, tmp_path, sample_chat, bundled_embedder, MemoryLLM(OAT_ANSWER))
    answer = ask(qtbot, window.chat, "What milk do I drink now?")
    assert len(answer.cited) == 1
    cited = answer.cited[0]
    chip = chip_label(answer.used.index(cited) + 1, cited)

    click_text(qtbot, window.chat, chip)

    view = window.timeline.view
    qtbot.waitUntil(lambda: view.currentIndex().data(ItemIdRole) == cited.id)
    current = view.currentIndex()
    assert view.isExpanded(current.parent())
    assert view.visualRect(current).isValid()  # scrolled into view
    detail = window.timeline.detail.text()
    # The source excerpt: the turn the answer came from, where it is and who said it.
    assert "Sam and me #s2-1" in detail
    assert "upsetting my stomach" in detail


def test_an_answer_is_settled_and_a_question_memory_lacks_says_so(
    qtbot: QtBot, make_window: Callable[..., MainWindow], tmp_path: Path,
    sample_chat: Path, bundled_embedder: Embedder,
) -> None:
    copying = MemoryLLM(f"You remember:\n- {OAT_ANSWER}\n- Sam said: Let's run.")
    window = window_on_sample(make_window, tmp_path, sample_chat, bundled_embedder, copying)
    answer = ask(qtbot, window.chat, "What milk do I drink now?")
    assert answer.text == OAT_ANSWER
    transcript = window.chat.transcript.toPlainText()
    # What streamed is replaced by the settled answer: no copied list, no made-up turn.
    assert "You remember:" not in transcript
    assert "Let's run" not in transcript

    answer = ask(qtbot, window.chat, "Where did I go skiing last winter?")
    assert answer.abstained
    transcript = window.chat.transcript.toPlainText()
    assert transcript.endswith(f"{DONT_REMEMBER}\n{NOTHING_MATCHED}")
