"""The search latency benchmark runs end to end (tiny sizes, so the suite stays quick)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import search_latency

pytestmark = pytest.mark.slow


def test_latency_benchmark_times_both_ways(tmp_path: Path) -> None:
    out = tmp_path / "latency.md"
    search_latency.main(["--sizes", "500", "--queries", "20", "--out", str(out)])
    table = out.read_text(encoding="utf-8")
    assert "| 500 | reverie |" in table
    assert "| 500 | plain RRF |" in table
    figures = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    for way in ("reverie", "plain RRF"):
        assert 0 < figures["500"][way]["p50_ms"] <= figures["500"][way]["p95_ms"]
