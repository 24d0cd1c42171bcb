"""A folder full of bad files is read to the end, each bad one with its reason."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from reverie.core.service import Reverie

HOSTILE = Path(__file__).parents[2] / "data" / "capture" / "hostile"
GOOD_NOTE = "The good note survives its neighbours: we planted tomatoes on Sunday.\n"


def _hostile_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "mess"
    shutil.copytree(HOSTILE, folder)
    (folder / "good.md").write_text(GOOD_NOTE, encoding="utf-8")
    with (folder / "huge.txt").open("wb") as handle:
        handle.truncate(300 * 1024 * 1024)  # sparse: costs no disk
    (folder / "loop").symlink_to(folder, target_is_directory=True)
    (folder / "ping.md").symlink_to(folder / "pong.md")
    (folder / "pong.md").symlink_to(folder / "ping.md")
    (folder / "dangling.md").symlink_to(folder / "nowhere.md")
    os.mkfifo(folder / "pipe.txt")  # reading it would block for ever
    (folder / "binary.md").write_bytes(bytes(range(256)) * 40)
    (folder / "unknown.xyz").write_text("what is this", encoding="utf-8")
    return folder


def test_every_bad_file_is_reported_and_the_good_one_is_read(
    open_store: Callable[..., Reverie], tmp_path: Path
) -> None:
    folder = _hostile_folder(tmp_path)
    data = tmp_path / "data"
    reverie = open_store(data_dir=data)
    watch = reverie.capture.add(folder)
    (report,) = reverie.capture.scan()
    problems = dict(report.problems)
    named = {Path(path).name: reason for path, reason in problems.items()}
    assert "over the 256.0 MB limit" in named["huge.txt"]
    assert "symbolic link loop" in named["loop"]
    assert "symbolic link loop" in named["ping.md"]
    assert "gone" in named["dangling.md"]
    assert "not a regular file" in named["pipe.txt"]
    assert "binary data" in named["binary.md"]
    assert "not a format Reverie reads" in named["unknown.xyz"]
    assert "damaged PDF" in named["truncated.pdf"]
    assert "binary data" in named["photo.txt"]
    assert "latin1-notes.txt" not in named
    hits = reverie.search("tomatoes Sunday", k=3)
    assert hits
    assert "tomatoes" in hits[0].text
    assert reverie.store.ledger.query("PRAGMA integrity_check")[0][0] == "ok"
    reverie.close()

    again = open_store(data_dir=data)  # a restart neither crashes nor re-reads them
    (second,) = again.capture.scan()
    assert second.actions.get("stored", 0) == 0
    assert {Path(p).name for p, _ in again.capture.problems(watch.id)} >= {
        "huge.txt", "pipe.txt", "binary.md", "truncated.pdf", "unknown.xyz"}
