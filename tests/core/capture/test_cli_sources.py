"""`reverie sources`, run as a user would on a passphrase-locked data directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.core.test_cli import reverie

pytestmark = pytest.mark.slow


def _listed(data: Path) -> list[dict[str, object]]:
    done = reverie(data, "sources", "--json")
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_add_list_pause_problems_and_remove_with_forget(tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "garden.md").write_text("# Garden\n\nSowed carrots in March.\n", encoding="utf-8")
    (folder / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(200))
    data = tmp_path / "data"

    added = reverie(data, "sources", "add", str(folder))
    assert added.returncode == 0, added.stderr
    assert "1 stored" in added.stdout
    assert "skipped" in added.stdout
    assert "binary data" in added.stdout
    (source,) = _listed(data)
    assert (source["files"], source["skipped"], source["episodes"]) == (1, 1, 1)
    assert reverie(data, "sources", "add", str(folder)).returncode == 1  # already watched

    problems = reverie(data, "sources", "problems", "1")
    assert problems.stdout.strip().endswith("binary data, not text (wrong file extension?)")
    assert reverie(data, "sources", "pause", "1").returncode == 0
    assert _listed(data)[0]["paused"] is True

    refused = reverie(data, "sources", "remove", "1", "--forget")
    assert refused.returncode == 1
    assert "needs confirmation" in refused.stderr
    removed = reverie(data, "sources", "remove", "1", "--forget", "--yes")
    assert removed.returncode == 0, removed.stderr
    assert "forgot 1 pieces" in removed.stdout
    assert _listed(data) == []
    stats = json.loads(reverie(data, "stats", "--json").stdout)
    assert stats["episodes"] == 0
