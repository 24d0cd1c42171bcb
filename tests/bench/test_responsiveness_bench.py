"""The responsiveness benchmark: its figures from known ticks, and a tiny run end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import responsiveness
from bench._heartbeat import IN_EVENT_LOOP, Stall, culprit, diagnose, main_sched, phase_figures

SIZE_HINTS = r"^This plugin does not support propagateSizeHints"


def test_figures_are_the_lateness_of_each_tick() -> None:
    # Ticks 5 ms apart, but one comes 60 ms late and one 15 ms late.
    ticks = [0.0]
    for gap_ms in [5] * 97 + [65, 20]:
        ticks.append(ticks[-1] + gap_ms / 1000)
    figures = phase_figures(ticks, 5)
    assert figures["ticks"] == 99
    assert figures["max_ms"] == pytest.approx(60)
    assert figures["median_ms"] == pytest.approx(0, abs=1e-9)
    assert figures["over_50_ms"] == 1
    assert figures["over_20_ms"] == 1
    assert 0 < figures["p99_ms"] <= 60
    assert phase_figures([1.0], 5)["ticks"] == 0


def test_the_main_threads_counters_only_grow() -> None:
    before = main_sched()
    sum(range(2_000_000))  # some CPU work on this thread
    after = main_sched()
    assert after[0] > before[0] > 0
    assert after[1] >= before[1]


def test_stalls_are_blamed_on_our_innermost_frame() -> None:
    ours = (("site-packages/sqlcipher3/x.py", "execute", 3),
            ("core/store/queries.py", "counts", 170),
            ("desktop/main_window.py", "_update_counts", 500))
    loop = (("desktop/app.py", "run_app", 90),)
    library = (("site-packages/PySide6/x.py", "exec", 1),)
    assert culprit(ours) == (
        "core/store/queries.py:counts:170 → site-packages/sqlcipher3/x.py:execute")
    assert culprit(loop) == "desktop/app.py:run_app:90"
    assert culprit(library) == "site-packages/PySide6/x.py:exec"
    assert culprit((("bench/responsiveness.py", "wait_for", 71),)) == IN_EVENT_LOOP
    ticks = [0.0, 0.005, 0.105, 0.110]  # one 95 ms stall after the tick at 0.005
    stalls = {0.005: Stall(0.005, [ours] * 3 + [loop], ["models/llm.py:chat:9"])}
    # Main-thread counters at each tick (ns): 30 ms on a CPU and 50 ms waiting for one.
    sched = [(0, 0), (1_000_000, 0), (31_000_000, 50_000_000), (32_000_000, 50_000_000)]
    found = diagnose(ticks, stalls, 5, sched)
    assert found["cpu_runq_blocked_ms"] == pytest.approx([30, 50, 15])
    assert found["other_threads"] == [("models/llm.py:chat:9", 1)]
    assert found["by_samples"][0] == (culprit(ours), 3)
    [worst] = found["worst"]
    assert worst["ms"] == pytest.approx(95)
    assert worst["culprit"] == culprit(ours)
    assert worst["stack"][1].startswith("core/store/queries.py:counts")


@pytest.mark.slow
@pytest.mark.gui
@pytest.mark.qt_log_ignore(SIZE_HINTS)
def test_benchmark_runs_every_phase_in_the_real_window(tmp_path: Path, qapp: object) -> None:
    out = tmp_path / "responsive.json"
    responsiveness.main(["--max-turns", "2", "--idle", "0.3", "--workdir", str(tmp_path),
                         "--out", str(out)])
    report = json.loads(out.read_text(encoding="utf-8"))
    assert set(report["phases"]) == set(responsiveness.PHASES)
    for figures in report["phases"].values():
        assert figures["ticks"] > 0
        assert 0 <= figures["median_ms"] <= figures["p95_ms"] <= figures["p99_ms"]
        assert figures["p99_ms"] <= figures["max_ms"]
        assert isinstance(figures["meets_targets"], bool)
    jobs = report["jobs"]
    assert jobs["import"]["turns_stored"] == 2
    assert not jobs["import"]["cancelled"]
    assert jobs["import"]["counts"]["episodes"] == 2
    assert jobs["consolidate"]["message"]
    table = out.with_suffix(".md").read_text(encoding="utf-8")
    assert all(f"| {phase} |" in table for phase in responsiveness.PHASES)
