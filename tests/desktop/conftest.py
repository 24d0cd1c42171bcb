"""Fixtures for the desktop app: windows on tmp data dirs, chat files, scripted models."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest
import shiboken6
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from reverie.core.compose import open_reverie
from reverie.core.errors import Cancelled
from reverie.core.service import Reverie
from reverie.desktop.collector import MainThreadCollector, collect_on_main_thread
from reverie.models.base import LLM, ChatMessage, Embedder, TokenCallback
from tests.doubles import ScriptedLLM

if TYPE_CHECKING:  # imported by the fixtures themselves, once Qt is set up
    from reverie.desktop.main_window import MainWindow

OPEN_TIMEOUT_MS = 60_000
T = TypeVar("T")
W = TypeVar("W", bound=QWidget)
HOLD_LIMIT_S = 60.0
HERE = Path(__file__).resolve().parent

# The offscreen platform the tests run on cannot pass a top-level window's size limits
# to a window system and says so whenever a shown window has them. A limit of the test
# platform, not of the app: ignored by that exact message, for these tests only.
OFFSCREEN_SIZE_HINTS = r"^This plugin does not support propagateSizeHints\(\)$"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Let the desktop tests ignore the offscreen platform's size-hints notice."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_SIZE_HINTS))

_QUOTED = re.compile(r'"(.+)"', re.DOTALL)
_FIRST_PERSON = re.compile(r"\bI\b.*")
_ADDRESSED = re.compile(r"\b(you|your|we|us)\b", re.IGNORECASE)


def first_person_fact(prompt: str) -> str:
    """A fact in the message's own words: its first "I ..." clause not addressed to anyone."""
    found = _QUOTED.search(prompt)
    message = found.group(1) if found else prompt
    for sentence in re.split(r"(?<=[.!?])\s+", message):
        clause = _FIRST_PERSON.search(sentence)
        if clause and not _ADDRESSED.search(clause.group(0)):
            return clause.group(0).rstrip(".!")
    return ""


class MemoryLLM(ScriptedLLM):
    """Answers chat with `chat_text`; asked for JSON (extraction), states one grounded fact.

    The fact is the message's own first-person clause, so it passes core's grounding
    whatever the prompt's wording; extraction quality is core's (real-model) concern.
    """

    def __init__(self, chat_text: str = "I remember that [1].") -> None:
        super().__init__(lambda _messages: chat_text)

    def chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float = 0.0,
        json_schema: Mapping[str, Any] | None = None,
        on_token: TokenCallback | None = None,
        cancel: threading.Event | None = None,
        stop: Sequence[str] = (),
    ) -> str:
        if json_schema is None:
            return super().chat(
                messages, max_tokens=max_tokens, on_token=on_token, cancel=cancel, stop=stop
            )
        fact = first_person_fact(messages[-1]["content"])
        return json.dumps({"facts": [{"kind": "fact", "text": fact}] if fact else []})


class HoldingLLM(MemoryLLM):
    """Writes one token, then holds the answer until the job is cancelled (or released).

    It polls `cancel.is_set()` (the `LLM` contract) rather than `cancel.wait()`: core may
    pass an event-like object that only answers `is_set`. It gives up after
    `HOLD_LIMIT_S`, so a failing test cannot hang the suite at teardown.
    """

    def __init__(self) -> None:
        super().__init__()
        self.started = threading.Event()
        self.release = threading.Event()

    def chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float = 0.0,
        json_schema: Mapping[str, Any] | None = None,
        on_token: TokenCallback | None = None,
        cancel: threading.Event | None = None,
        stop: Sequence[str] = (),
    ) -> str:
        if on_token is not None:
            on_token("Let me think")
        self.started.set()
        deadline = time.monotonic() + HOLD_LIMIT_S
        while not self.release.wait(0.01):
            if (cancel is not None and cancel.is_set()) or time.monotonic() > deadline:
                raise Cancelled("generation cancelled")
        return super().chat(
            messages, max_tokens=max_tokens, json_schema=json_schema, on_token=on_token,
            cancel=cancel, stop=stop,
        )


def write_chat(path: Path, days: int, per_day: int = 2, start: datetime | None = None) -> Path:
    """A chat JSONL file with `per_day` turns on each of `days` consecutive days."""
    first = start or datetime(2025, 1, 1, 9, 0)
    lines = []
    for day in range(days):
        for turn in range(per_day):
            when = first + timedelta(days=day, minutes=turn)
            lines.append(
                {
                    "conversation": "Paging test", "session": str(day), "id": f"d{day}-t{turn}",
                    "time": when.isoformat(), "speaker": "Alex" if turn % 2 == 0 else "Sam",
                    "text": f"Day {day} turn {turn}: we talked about the garden again today.",
                }
            )
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    return path



@pytest.fixture(autouse=True, scope="session")
def collect_on_the_main_thread(qapp: QApplication) -> Iterator[None]:
    """As in the app: cycles are collected on the main thread only (desktop/collector.py)."""
    collector = qapp.findChild(MainThreadCollector) or collect_on_main_thread(qapp)
    yield
    collector.stop()

@pytest.fixture
def make_window(
    qtbot: QtBot, tmp_path: Path, bundled_embedder: Embedder, bundled_llm: LLM
) -> Iterator[Callable[..., object]]:
    """Open MainWindows on tmp data dirs; each is closed (jobs stopped, store closed) after.

    No consolidation schedule starts unless a test asks (`schedule_sleep=True`): a run
    that starts by itself would change what a test looks at. `prepare(facade)` runs in
    the open job, before the window reads anything (seeding a store); with
    `extract_captured=False` live capture stores files without extracting memories.
    """
    from reverie.desktop.main_window import MainWindow

    windows: list[MainWindow] = []
    closed: list[MainWindow] = []  # windows shut down with their store closed

    def close(window: QWidget) -> None:
        # pytest-qt closes and deletes every window it was given *before* fixtures are
        # torn down, and a window's shutdown runs a nested event loop that may delete an
        # earlier window (deleteLater) under us: so check each one here, while it exists.
        assert isinstance(window, MainWindow)
        window.close()
        window.shutdown()
        if window.runner.facade is None:
            closed.append(window)

    def make(
        llm: LLM | None = None, data_dir: Path | None = None, *, wait_open: bool = True,
        schedule_sleep: bool = False, extract_captured: bool = True,
        prepare: Callable[[Reverie], None] | None = None,
    ) -> MainWindow:
        directory = data_dir or tmp_path / "data"

        def opener(_passphrase: str | None) -> Reverie:
            reverie = open_reverie(directory, llm=llm or bundled_llm, embedder=bundled_embedder)
            if prepare is not None:  # seeding, in the open job, before any view reads
                try:
                    prepare(reverie)
                except BaseException:
                    reverie.close()
                    raise
            return reverie

        window = MainWindow(opener, extract_captured=extract_captured,
                            schedule_sleep=schedule_sleep)
        windows.append(window)
        qtbot.addWidget(window, before_close_func=close)
        window.show()
        if wait_open:
            with qtbot.waitSignal(window.opened, timeout=OPEN_TIMEOUT_MS):
                window.start()
        return window

    yield make
    for window in windows:
        if shiboken6.isValid(window) and window not in closed:
            close(window)  # pytest-qt did not close it (it never does on some errors)
    assert len(closed) == len(windows), "a window's store was still open after closing"


def facade_of(window: MainWindow) -> Reverie:
    """The open facade of a MainWindow (fails the test when none is open)."""
    facade = window.runner.facade
    assert isinstance(facade, Reverie)
    return facade


@pytest.fixture
def memories_window(
    make_window: Callable[..., MainWindow], tmp_path: Path, sample_chat: Path,
    bundled_embedder: Embedder,
) -> MainWindow:
    """A window on a store holding the sample chat and the memories `MemoryLLM` took
    from it (imported before the window opens, so the timeline starts full)."""
    data = tmp_path / "data"
    llm = MemoryLLM()
    facade = open_reverie(data, llm=llm, embedder=bundled_embedder)
    try:
        facade.import_file(sample_chat)
    finally:
        facade.close()
    return make_window(llm=llm, data_dir=data)


@pytest.fixture
def widget_for(
    qtbot: QtBot, open_store: Callable[..., Reverie],
) -> Iterator[Callable[..., Any]]:
    """Show a widget built on its own JobRunner over an already open facade:
    `widget_for(facade, build, size)` calls `build(runner)`; every runner is shut down
    after (the facade stays open: its opener, `open_store`, closes it). It depends on
    `open_store` so that pytest shuts the runners down first: a store closed under a
    running job crashes SQLite."""
    from reverie.desktop.jobs import JobRunner

    runners: list[JobRunner] = []

    def make(facade: Reverie, build: Callable[[JobRunner], W], size: tuple[int, int]) -> W:
        runner = JobRunner()
        runner.set_facade(facade)
        runners.append(runner)
        widget = build(runner)
        qtbot.addWidget(widget)
        widget.resize(*size)
        widget.show()
        return widget

    yield make
    for runner in runners:
        runner.shutdown()


_polls: list[list[bool]] = []  # each `when` poll's "still wanted" flag


@pytest.fixture(autouse=True)
def stop_polls() -> Iterator[None]:
    """End the test's `when` polls with it: one still polling would act on the next
    test's windows (quit them, click their buttons)."""
    yield
    for wanted in _polls:
        wanted[0] = False
    _polls.clear()


def when(find: Callable[[], T | None], then: Callable[[T], None], every_ms: int = 20) -> None:
    """Poll the event loop (one the code under test runs, e.g. `run_app`'s) until `find`
    returns something, then call `then` on it once; polling ends with the test."""
    wanted = [True]
    _polls.append(wanted)

    def poll() -> None:
        if not wanted[0]:
            return
        found = find()
        if found is not None:
            then(found)
            return
        QTimer.singleShot(every_ms, poll)

    QTimer.singleShot(0, poll)


def when_window(
    condition: Callable[[MainWindow], bool], then: Callable[[MainWindow], None]
) -> None:
    """Call `then` once on the first shown MainWindow that meets `condition`."""
    from reverie.desktop.main_window import MainWindow

    def find() -> MainWindow | None:
        return next((w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)
                     and w.isVisible() and condition(w)), None)

    when(find, then)
