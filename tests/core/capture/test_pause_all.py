"""Pausing all capture: nothing is read while paused, resuming catches up, and the pause
holds across a restart of the store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from reverie.core.capture.watching import CAPTURE_PAUSED
from reverie.core.errors import BadInput
from reverie.core.service import Reverie
from tests.core.capture.folder_state import on_disk, stored, wait_until
from tests.core.capture.test_watching import Listener

QUIET_SECONDS = 2.0  # long enough for the debouncer and the indexer to have acted


def _start(reverie: Reverie) -> Listener:
    listener = Listener()
    reverie.start_capture(on_status=listener.on_status, on_changes=listener.on_changes,
                          extract=False)
    return listener


def _names(reverie: Reverie) -> list[str]:
    return sorted(Path(path).name for path in stored(reverie))


def test_a_file_written_while_paused_is_read_only_after_resume(
    open_store: Callable[..., Reverie], tmp_path: Path
) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "before.md").write_text("Planted basil before the pause.\n", encoding="utf-8")
    reverie = open_store()
    reverie.capture.add(folder)
    listener = _start(reverie)
    try:
        assert wait_until(lambda: _names(reverie) == ["before.md"])

        reverie.set_capture_paused(True)
        assert reverie.capture_paused
        (folder / "paused.md").write_text("Called the plumber while paused.\n",
                                          encoding="utf-8")
        (folder / "before.md").write_text("Edited while paused.\n", encoding="utf-8")
        assert not wait_until(lambda: _names(reverie) != ["before.md"], seconds=QUIET_SECONDS)
        assert stored(reverie)[str(folder / "before.md")][0][1].startswith("Planted basil")
        (status,) = reverie.capture.sources()
        assert status.state == CAPTURE_PAUSED
        assert not status.source.paused  # the source's own switch is untouched
        with listener.lock:
            assert listener.statuses[-1][0].state == CAPTURE_PAUSED  # the UI heard it

        reverie.set_capture_paused(False)
        assert not reverie.capture_paused
        assert wait_until(lambda: stored(reverie) == on_disk(folder))
        assert _names(reverie) == ["before.md", "paused.md"]
        assert reverie.capture.sources()[0].state in ("watching", "polling", "scanning")
    finally:
        reverie.capture.stop()


def test_the_pause_holds_across_a_restart_until_resumed(
    open_store: Callable[..., Reverie], tmp_path: Path
) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    data = tmp_path / "data"
    first = open_store(data_dir=data)
    first.capture.add(folder)
    first.set_capture_paused(True)
    first.close()

    (folder / "while-closed.md").write_text("Written while closed and paused.\n",
                                            encoding="utf-8")
    again = open_store(data_dir=data)
    assert again.capture_paused
    _start(again)
    try:
        assert not wait_until(lambda: bool(stored(again)), seconds=QUIET_SECONDS)
        assert again.capture.sources()[0].state == CAPTURE_PAUSED
        with pytest.raises(BadInput, match="capture is paused"):
            again.capture.scan()
        assert not stored(again)  # the refused scan read nothing

        again.set_capture_paused(False)
        assert wait_until(lambda: _names(again) == ["while-closed.md"])
    finally:
        again.capture.stop()


def test_a_source_paused_on_its_own_stays_paused_when_capture_resumes(
    open_store: Callable[..., Reverie], tmp_path: Path
) -> None:
    kept, held = tmp_path / "kept", tmp_path / "held"
    for folder in (kept, held):
        folder.mkdir()
    reverie = open_store()
    reverie.capture.add(kept)
    held_watch = reverie.capture.add(held)
    reverie.capture.pause(held_watch.id)
    _start(reverie)
    try:
        reverie.set_capture_paused(True)
        (kept / "a.md").write_text("Read after the resume.\n", encoding="utf-8")
        (held / "b.md").write_text("Its source stays paused.\n", encoding="utf-8")
        reverie.capture.resume(held_watch.id)  # under the pause: waits for resume_all
        reverie.capture.pause(held_watch.id)
        reverie.set_capture_paused(False)
        assert wait_until(lambda: _names(reverie) == ["a.md"])
        assert not wait_until(lambda: "b.md" in _names(reverie), seconds=QUIET_SECONDS)
        states = {s.source.path.name: s.state for s in reverie.capture.sources()}
        assert states["held"] == "paused"
    finally:
        reverie.capture.stop()
