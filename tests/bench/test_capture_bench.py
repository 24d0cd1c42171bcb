"""The capture benchmark runs end to end on a few dozen notes, with the real embedder."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from bench import _notes, capture
from reverie.core.capture.chunking import paragraph_blocks
from reverie.models.base import Embedder

pytestmark = pytest.mark.slow

FILES = 30
EDIT = 3
TOUCH = 3


def test_notes_are_the_same_for_a_seed_and_look_like_notes(tmp_path: Path) -> None:
    first = _notes.generate(tmp_path / "a", 200)
    again = _notes.generate(tmp_path / "b", 200)
    other = _notes.generate(tmp_path / "c", 200, seed=7)
    relative = [p.relative_to(first.root) for p in first.files]
    assert relative == [p.relative_to(again.root) for p in again.files]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(first.files, again.files,
                                                                 strict=True))
    assert first.total_bytes != other.total_bytes
    assert len(set(relative)) == 200
    assert first.folders >= 10
    assert {p.suffix for p in first.files} == {".md", ".txt"}
    assert 700 <= first.median_bytes <= 1500
    sizes = [p.stat().st_size for p in first.files]
    assert min(sizes) < 400
    assert max(sizes) > 3000
    words = " ".join(p.read_text(encoding="utf-8") for p in first.files).split()
    assert len(set(words)) > 500  # real variety, not one paragraph repeated
    assert sum(p.read_text(encoding="utf-8").count("\n## ") for p in first.files) > 50


def test_an_appended_paragraph_is_one_block_of_under_a_chunk() -> None:
    text = _notes.appended_paragraph(random.Random(1))
    assert text.startswith("\n")
    assert text.endswith("\n")
    [block] = paragraph_blocks(text)
    assert len(block.text) < 1200


def test_benchmark_reports_consistent_figures(tmp_path: Path,
                                              bundled_embedder: Embedder) -> None:
    out = tmp_path / "out"
    argv = ["--files", str(FILES), "--touch", str(TOUCH), "--edit", str(EDIT),
            "--repeats", "2", "--rounds", "1", "--raw-share", "0.25",
            "--workdir", str(tmp_path), "--out", str(out)]
    capture.main(argv, embedder=bundled_embedder)
    report = json.loads((out / "capture.json").read_text(encoding="utf-8"))
    assert report["folder"]["files"] == FILES
    assert set(report["parse"]["formats"]) == {"markdown", "text"}

    # The first scan stored every file, and exactly the pieces parsing the files gives.
    first = report["first_scan"]
    pieces = report["parse"]["pieces"]
    assert report["texts_match"]
    assert first["actions"] == {"stored": FILES}
    assert first["problems"] == 0
    assert first["pieces"] == first["embedded"] == first["catalog_pieces"] == pieces
    assert first["calls"]["embedding"] == FILES  # one call per file: small batches
    assert 0 < first["phases"]["embedding"] < first["seconds"]
    assert sum(first["phases"].values()) == pytest.approx(first["seconds"])

    # Nothing changed: nothing read beyond a stat, nothing embedded or written.
    unchanged = report["unchanged"]
    assert len(unchanged["seconds"]) == 2
    assert all(actions == {"unchanged": FILES} for actions in unchanged["actions"])
    assert unchanged["embedded"] == unchanged["added"] == unchanged["removed"] == 0

    # Touched files are read and found equal; each edited file re-embeds one piece only.
    [edits] = report["edits"]["rounds"]
    assert edits["touched"] == TOUCH
    assert edits["edited"] == EDIT
    assert edits["actions"] == {"stored": EDIT, "unchanged": FILES - EDIT}
    assert edits["embedded"] == edits["added"] == EDIT
    assert 0 <= edits["removed"] <= EDIT

    store = report["store"]
    assert store["episodes"] == pieces + edits["added"] - edits["removed"]
    assert store["episodes"] == store["vectors"] == store["index"]
    for way in ("batches", "by_length"):
        raw = report["raw"][way]
        assert raw["pieces"] == len(range(0, pieces, 4))
        assert raw["pieces_per_s"] > 0
        assert report["ratio"][f"capture_over_raw_{way}"] > 0

    table = (out / "capture.md").read_text(encoding="utf-8")
    assert "python -m bench.capture --files 30" in table
    assert "cores" in table
    assert "RAM" in table
    assert "| **first scan**: s; files/s; MB/s |" in table
    assert "| **unchanged scan**, s: median of 2 (min–max) |" in table
    # The folder and the store were made under the work folder and removed after.
    assert not any(p.name.startswith("reverie-capture-") for p in tmp_path.iterdir())
