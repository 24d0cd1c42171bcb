"""Reading a file from a disk Reverie does not control."""

from __future__ import annotations

import builtins
import io
from pathlib import Path
from typing import Any

import pytest

from reverie.core.capture.parsed import UnreadableFile
from reverie.core.capture.reading import read_file


def test_a_file_that_vanishes_between_stat_and_open_is_a_passing_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "note.md"
    path.write_text("here a moment ago\n", encoding="utf-8")
    real_open = builtins.open

    def vanish_then_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if Path(file) == path:
            path.unlink()
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", vanish_then_open)
    with pytest.raises(UnreadableFile, match="vanished while being read") as caught:
        read_file(path, 1 << 20)
    assert caught.value.transient


def test_a_file_written_to_while_being_read_is_read_again_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "log.txt"
    path.write_text("first line\n", encoding="utf-8")
    real_open = builtins.open

    def append_while_reading(file: Any, *args: Any, **kwargs: Any) -> Any:
        handle = real_open(file, *args, **kwargs)
        if Path(file) == path:
            content = handle.read()
            with real_open(path, "a", encoding="utf-8") as writer:
                writer.write("a line written meanwhile\n")
            handle.close()
            return io.BytesIO(content)
        return handle

    monkeypatch.setattr(builtins, "open", append_while_reading)
    with pytest.raises(UnreadableFile, match="changed while being read") as caught:
        read_file(path, 1 << 20)
    assert caught.value.transient


def test_limits_and_non_files(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 2048)
    with pytest.raises(UnreadableFile, match=r"2\.0 KB is over the 1\.0 KB limit"):
        read_file(big, 1024)
    assert read_file(big, 4096).raw == b"x" * 2048
    with pytest.raises(UnreadableFile, match="not a regular file"):
        read_file(tmp_path, 4096)
    with pytest.raises(UnreadableFile, match="gone") as caught:
        read_file(tmp_path / "missing.md", 4096)
    assert caught.value.transient
