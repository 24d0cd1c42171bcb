"""Fixtures shared by the benchmark tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.locomo import DEV_DIR


@pytest.fixture
def early_locomo(tmp_path: Path) -> Path:
    """A LoCoMo folder holding conv-30's first two sessions and the questions whose
    evidence lies in them: the benchmarks end to end, in seconds."""
    source = json.loads((DEV_DIR / "conv-30.json").read_text(encoding="utf-8"))
    kept = {k: v for k, v in source.items() if not k.startswith("session_")
            or k.split("_")[1] in {"1", "2"}}
    early = {f"D{s}:" for s in (1, 2)}
    kept["qa"] = [q for q in source["qa"]
                  if q.get("evidence") and all(e[:3] in early for e in q["evidence"])]
    data = tmp_path / "locomo"
    data.mkdir()
    (data / "conv-30.json").write_text(json.dumps(kept), encoding="utf-8")
    return data
