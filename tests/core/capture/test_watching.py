"""Watching live: the store follows a folder as it changes, and reports what it does."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reverie.core.capture.watching import SourceStatus
from reverie.core.service import Reverie
from reverie.core.types import Changes
from tests.core.capture.folder_state import on_disk, stored, wait_until


class Listener:
    """Collects what capture reports from its threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: list[list[SourceStatus]] = []
        self.changes: list[Changes] = []

    def on_status(self, statuses: list[SourceStatus]) -> None:
        with self.lock:
            self.statuses.append(statuses)

    def on_changes(self, changes: Changes) -> None:
        with self.lock:
            self.changes.append(changes)


@pytest.fixture
def watching(open_store: Callable[..., Reverie]) -> Iterator[tuple[Reverie, Listener]]:
    reverie = open_store()
    listener = Listener()
    yield reverie, listener
    reverie.capture.stop()


def _matches(reverie: Reverie, folder: Path) -> Callable[[], bool]:
    return lambda: stored(reverie) == on_disk(folder)


def test_the_store_follows_the_folder_live(
    watching: tuple[Reverie, Listener], tmp_path: Path
) -> None:
    reverie, listener = watching
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "first.md").write_text("# Garden\n\nPlanted basil today.\n", encoding="utf-8")
    reverie.capture.add(folder)
    reverie.start_capture(on_status=listener.on_status, on_changes=listener.on_changes,
                          extract=False)
    assert wait_until(lambda: len(stored(reverie)) == 1)

    (folder / "second.txt").write_text("Called the plumber about the leak.\n", encoding="utf-8")
    assert wait_until(_matches(reverie, folder))
    with (folder / "first.md").open("a", encoding="utf-8") as handle:
        handle.write("\nThe basil needs more sun.\n\n## Later\n\nMoved it to the window.\n")
    assert wait_until(_matches(reverie, folder))
    temp = folder / "second.txt.tmp"
    temp.write_text("Called the plumber; he comes on Tuesday.\n", encoding="utf-8")
    os.replace(temp, folder / "second.txt")
    assert wait_until(_matches(reverie, folder))
    (folder / "deep").mkdir()
    (folder / "first.md").rename(folder / "deep" / "moved.md")
    assert wait_until(_matches(reverie, folder))
    (folder / "second.txt").unlink()
    assert wait_until(_matches(reverie, folder))
    assert len(stored(reverie)) == 1

    (status,) = reverie.capture.sources()
    assert status.state in ("watching", "polling")
    assert (status.files, status.skipped) == (1, 0)
    with listener.lock:
        assert listener.statuses
        assert listener.changes


def test_a_thousand_atomic_saves_leave_one_current_version(
    watching: tuple[Reverie, Listener], tmp_path: Path
) -> None:
    reverie, listener = watching
    folder = tmp_path / "drafts"
    folder.mkdir()
    target = folder / "draft.md"
    target.write_text("Version 0 of the draft.\n", encoding="utf-8")
    reverie.capture.add(folder)
    reverie.start_capture(on_status=listener.on_status, on_changes=listener.on_changes,
                          extract=False)
    for version in range(1, 1001):
        temp = folder / f".draft.md.{version}.tmp"
        temp.write_text(f"# Draft\n\nVersion {version} of the draft.\n\nSame closing line.\n",
                        encoding="utf-8")
        os.replace(temp, target)
    assert wait_until(_matches(reverie, folder), seconds=60)
    texts = sorted(t for pieces in stored(reverie).values() for _, t in pieces)
    assert texts == sorted(t for _, t in on_disk(folder)[str(target)])
    assert reverie.counts()["episodes"] == len(texts)
    assert reverie.store.index.count() == reverie.counts()["episodes"]


def test_paused_sources_are_not_followed_until_resumed(
    watching: tuple[Reverie, Listener], tmp_path: Path
) -> None:
    reverie, listener = watching
    folder = tmp_path / "notes"
    folder.mkdir()
    watch = reverie.capture.add(folder)
    reverie.start_capture(on_status=listener.on_status, on_changes=listener.on_changes,
                          extract=False)
    reverie.capture.pause(watch.id)
    (folder / "while-paused.md").write_text("Written while paused.\n", encoding="utf-8")
    assert not wait_until(lambda: bool(stored(reverie)), seconds=2)
    assert reverie.capture.sources()[0].state == "paused"
    reverie.capture.resume(watch.id)
    assert wait_until(_matches(reverie, folder))


def test_starting_again_catches_up_on_changes_made_while_closed(
    open_store: Callable[..., Reverie], tmp_path: Path
) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "kept.md").write_text("Kept as it was.\n", encoding="utf-8")
    (folder / "edited.md").write_text("Before the edit.\n", encoding="utf-8")
    (folder / "deleted.md").write_text("Deleted while closed.\n", encoding="utf-8")
    data = tmp_path / "data"
    first = open_store(data_dir=data)
    first.capture.add(folder)
    listener = Listener()
    first.start_capture(on_status=listener.on_status, on_changes=listener.on_changes,
                        extract=False)
    assert wait_until(_matches(first, folder))
    first.close()  # stops capture first, then the store

    (folder / "edited.md").write_text("After the edit, while Reverie was closed.\n",
                                      encoding="utf-8")
    (folder / "deleted.md").unlink()
    (folder / "new.md").write_text("Written while closed.\n", encoding="utf-8")
    again = open_store(data_dir=data)
    again.start_capture(on_status=listener.on_status, on_changes=listener.on_changes,
                        extract=False)
    try:
        assert wait_until(_matches(again, folder))
        assert sorted(Path(p).name for p in stored(again)) == ["edited.md", "kept.md", "new.md"]
    finally:
        again.capture.stop()
