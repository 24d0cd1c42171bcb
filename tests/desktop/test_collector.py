"""Garbage cycles are collected on the main thread only, as often as Python would."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from typing import ClassVar

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from reverie.desktop.collector import MainThreadCollector


class Cyclic:
    """A cycle that notes on which thread it was freed."""

    freed_on: ClassVar[list[str]] = []

    def __init__(self) -> None:
        self.me = self

    def __del__(self) -> None:
        Cyclic.freed_on.append(threading.current_thread().name)


@pytest.fixture
def collector(qapp: QApplication) -> Iterator[MainThreadCollector]:
    enabled = gc.isenabled()
    made = MainThreadCollector()
    yield made
    made.stop()
    if not enabled:
        gc.disable()  # as the session's own collector left it


def test_a_cycle_dropped_by_a_worker_is_freed_on_the_main_thread(
    qtbot: QtBot, collector: MainThreadCollector,
) -> None:
    assert not gc.isenabled()
    Cyclic.freed_on.clear()

    kept: list[list[int]] = []

    def work() -> None:
        Cyclic()  # dropped at once: only the cyclic collector can free it
        # Kept alive: far past the first threshold (freeing them would lower the count).
        kept.extend([n] for n in range(50_000))

    worker = threading.Thread(target=work, name="worker")
    worker.start()
    worker.join()
    assert Cyclic.freed_on == []  # no collection ran on the worker
    qtbot.waitUntil(lambda: bool(Cyclic.freed_on), timeout=5_000)  # the timer's turn
    assert Cyclic.freed_on == [threading.main_thread().name]
    assert len(kept) == 50_000


def test_nothing_is_collected_before_it_is_due(collector: MainThreadCollector) -> None:
    gc.collect()
    assert collector.collect_due() == 0


def test_stopping_gives_collection_back(qapp: QApplication) -> None:
    enabled = gc.isenabled()
    made = MainThreadCollector()
    made.stop()
    assert gc.isenabled()
    if not enabled:
        gc.disable()
