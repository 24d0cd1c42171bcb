"""The retrieval benchmark runs end to end (on a slice, so the suite stays quick)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import retrieval
from bench.locomo import DEV_DIR, chat_lines, questions, session_time

pytestmark = pytest.mark.slow


def test_locomo_conversion_keeps_ids_times_and_sessions() -> None:
    lines = chat_lines(DEV_DIR / "conv-30.json")
    assert len(lines) == 369
    assert lines[0] == {
        "conversation": "conv-30", "time": "2023-01-20T16:04:00", "speaker": "Gina",
        "text": "Hey Jon! Good to see you. What's up? Anything new?", "id": "D1:1",
        "session": "1",
    }
    assert session_time("1:56 pm on 8 May, 2023").isoformat() == "2023-05-08T13:56:00"
    assert {q.category for q in questions(DEV_DIR / "conv-30.json")} == {1, 2, 4, 5}


def test_benchmark_reports_all_methods(tmp_path: Path, early_locomo: Path) -> None:
    out = tmp_path / "table.md"
    retrieval.main(["--data", str(early_locomo), "--out", str(out)])
    table = out.read_text(encoding="utf-8")
    for method in retrieval.METHODS:
        assert f"| {method} |" in table
    recalls = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert recalls
    assert all(0.0 <= value <= 1.0 for value in recalls.values())
    # On two sessions' worth of turns the evidence is easy to find: a broken pipeline
    # (ids lost, wrong refs) would score near zero.
    assert recalls.get("reverie@10/4", 0.0) > 0.5
