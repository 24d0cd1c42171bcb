"""Heavy native imports: one at a time, with the garbage collector held off meanwhile."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from reverie.core.native_imports import native_import


@pytest.fixture(autouse=True)
def automatic_collection() -> Iterator[None]:
    """Python's automatic collection on, as outside the app (which collects on its main
    thread instead: desktop/collector.py), and as it was afterwards."""
    enabled = gc.isenabled()
    gc.enable()
    yield
    if not enabled:
        gc.disable()


def test_collection_waits_for_the_outermost_import_and_resumes() -> None:
    assert gc.isenabled()
    with native_import():
        assert not gc.isenabled()
        with native_import():  # a package importing another
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_second_thread_waits_for_the_first_import_to_finish() -> None:
    order: list[str] = []
    inside = threading.Event()
    release = threading.Event()

    def first() -> None:
        with native_import():
            inside.set()
            assert release.wait(5)
            order.append("first done")

    def second() -> None:
        with native_import():
            order.append("second in")

    one = threading.Thread(target=first)
    one.start()
    assert inside.wait(5)
    two = threading.Thread(target=second)
    two.start()
    two.join(0.2)
    assert two.is_alive()  # held at the lock
    release.set()
    one.join(5)
    two.join(5)
    assert order == ["first done", "second in"]
    assert gc.isenabled()


def test_an_import_that_fails_gives_collection_back() -> None:
    try:
        with native_import():
            raise ImportError("no such native library")
    except ImportError:
        pass
    assert gc.isenabled()
