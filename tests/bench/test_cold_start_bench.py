"""The cold-start benchmark runs end to end: one start of the real app on a tiny store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import cold_start

pytestmark = pytest.mark.slow


def test_benchmark_times_every_milestone_in_order(tmp_path: Path) -> None:
    out = tmp_path / "cold.json"
    cold_start.main(["--runs", "1", "--memories", "60", "--store", str(tmp_path / "store"),
                     "--out", str(out)])
    report = json.loads(out.read_text(encoding="utf-8"))
    [run] = report["app_runs"]
    order = [run[step] for step in ("python", "imported", "shown", "first_paint", "ready",
                                    "interactive", "closed", "exit")]
    assert order == sorted(order)
    assert order[0] > 0
    assert run["ready"] <= run["opened"] <= run["closed"]  # opened: capture started too
    [bare] = report["bare_runs"]
    assert 0 < bare["python"] < bare["first_paint"] < bare["exit"]
    assert report["app"]["interactive"]["n"] == 1
    imports = report["imports"]
    assert imports["total_ms"] > 0
    assert any(row["package"] == "PySide6" for row in imports["by_package"])
    assert imports["direct_imports"]
    assert imports["top_self"]
    table = out.with_suffix(".md").read_text(encoding="utf-8")
    assert "| interactive |" in table
    assert "| first_paint |" in table
