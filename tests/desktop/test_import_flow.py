"""What the status bar says when an import from the window ends."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from reverie.core.privacy import PrivacyRules, Rule, RuleKind
from reverie.desktop.main_window import MainWindow
from tests.desktop.conftest import MemoryLLM

pytestmark = pytest.mark.gui

JOB_TIMEOUT_MS = 60_000


def import_and_wait(qtbot: QtBot, window: MainWindow, path: Path) -> str:
    """Import `path` through the window's import flow; the status bar's message after."""
    job = window.import_flow.start(str(path))
    with qtbot.waitSignal(job.finished, timeout=JOB_TIMEOUT_MS):
        pass
    return window.statusBar().currentMessage()


def test_the_summary_says_how_many_turns_never_remember_rules_kept_out(
    qtbot: QtBot, make_window: Callable[..., MainWindow], sample_chat: Path
) -> None:
    window = make_window(MemoryLLM())
    facade = window.runner.facade
    assert facade is not None
    facade.set_privacy_rules(PrivacyRules((Rule(RuleKind.TEXT, "pottery"),)))
    assert import_and_wait(qtbot, window, sample_chat).startswith(
        "Imported week-with-sam.jsonl: 7 new turns (0 already stored,"
        " 2 kept out by your never-remember rules), ")
    facade.set_privacy_rules(PrivacyRules())
    # No rule kept anything out: the summary does not mention the rules.
    said = import_and_wait(qtbot, window, sample_chat)
    assert said.startswith("Imported week-with-sam.jsonl: 2 new turns (7 already stored), ")
    assert "never-remember" not in said
