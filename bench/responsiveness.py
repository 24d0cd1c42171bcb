"""Does the window stay responsive while it imports, extracts and consolidates?

    python -m bench.responsiveness [--conversation conv-30] [--max-turns 60]
        [--max-seconds 600] [--idle 5] [--workdir DIR] [--out FILE.json]

A real `MainWindow` (offscreen) opens a fresh store with the bundled models (SmolLM2
for extraction and summaries, MiniLM for vectors). A heartbeat on the main thread
(bench/_heartbeat.py: a precise 5 ms `QTimer`) records every tick; the gaps between
ticks minus 5 ms are how late the main thread answered. Phases, in order:

- **open**: `window.start()` until `opened` (the store opened by a job);
- **idle**: `--idle` seconds of nothing: the baseline of timer jitter on this machine;
- **import**: `window.start_import(path)`, the window's own import job (turns stored,
  then every turn extracted by the bundled model, each turn's memories announced to the
  timeline and counts as they land) until the job ends. The file is the first
  `--max-turns` turns of one LoCoMo dev conversation (bench/locomo.py's conversion);
  extracting all of it takes the bundled model far too long on 2 cores. The import is
  cancelled by the window's own Cancel after `--max-seconds`;
- **consolidate**: Memory care shown, then its Consolidate now (`CarePane.consolidate_now`,
  the job the button starts) until the job ends.

Per phase: the number of ticks, max, p99, p95 and median lateness in ms; the targets
are max ≤ 50 ms and p99 ≤ 20 ms. A sampler thread records the main thread's Python
stack whenever a tick is more than 10 ms late, and the stalls of 20 ms or more are
attributed to the functions found there (`culprits`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from bench.locomo import DEV_DIR, write_jsonl
from bench.retrieval import BENCH_KEYS

PERIOD_MS = 5
TARGET_MAX_MS = 50.0
TARGET_P99_MS = 20.0
PHASES = ("open", "idle", "import", "consolidate")
WAIT_LIMIT_S = 3600.0
Result = dict[str, Any]


def capped_jsonl(source: Path, target: Path, max_turns: int | None) -> int:
    """Write `source` (LoCoMo json) as chat JSONL, only its first `max_turns` turns."""
    write_jsonl(source, target)
    lines = target.read_text(encoding="utf-8").splitlines(keepends=True)
    if max_turns is not None:
        lines = lines[:max_turns]
        target.write_text("".join(lines), encoding="utf-8")
    return len(lines)


def wait_for(signal: Any, seconds: float = WAIT_LIMIT_S) -> bool:
    """Run the event loop until `signal` fires (True) or `seconds` pass (False)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    fired: list[bool] = []
    def heard(*_args: object) -> None:
        fired.append(True)
        loop.quit()

    signal.connect(heard)
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()
    return bool(fired)


def pause(seconds: float) -> None:
    """Run the event loop for `seconds` (the heartbeat ticks meanwhile)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def run_phases(window: Any, beat: Any, jsonl: Path, idle_s: float,
               max_seconds: float) -> dict[str, Any]:
    """Drive the window through every phase; what each job did."""
    from PySide6.QtCore import QTimer

    done: dict[str, Any] = {}
    beat.start("open")
    started = time.perf_counter()
    window.show()
    window.start()
    if not wait_for(window.opened, 120):
        raise SystemExit("the window did not open the store within 120 s")
    done["open_s"] = time.perf_counter() - started

    beat.begin("idle")
    pause(idle_s)

    beat.begin("import")
    started = time.perf_counter()
    job = window.start_import(str(jsonl))
    outcome: dict[str, Any] = {}
    job.succeeded.connect(lambda result: outcome.update(result=result))
    job.cancelled.connect(lambda: outcome.update(cancelled=True))
    job.failed.connect(lambda message, _bug: outcome.update(failed=message))
    cap = QTimer()
    cap.setSingleShot(True)
    cap.timeout.connect(window.cancel_import)
    cap.start(int(max_seconds * 1000))
    wait_for(job.finished)
    cap.stop()
    result = outcome.get("result")
    done["import"] = {
        "seconds": time.perf_counter() - started, "cancelled": bool(outcome.get("cancelled")),
        "failed": outcome.get("failed"),
        "turns_stored": result.report.episodes_added if result is not None else None,
        "memories_added": result.memories_added if result is not None else None,
        "counts": window.runner.facade.counts(),
    }
    if "failed" in outcome:
        raise SystemExit(f"the import failed: {outcome['failed']}")

    beat.begin("consolidate")
    started = time.perf_counter()
    window.show_care()
    pause(0.5)  # the pane reads its queue and last run when shown, as for a user
    work = window.care.consolidate_now()
    if work is None:
        raise SystemExit("Consolidate now was not available")
    ended: dict[str, Any] = {}
    work.succeeded.connect(lambda result: ended.update(message=result.message))
    work.failed.connect(lambda message, _bug: ended.update(failed=message))
    wait_for(work.finished)
    done["consolidate"] = {"seconds": time.perf_counter() - started, **ended}
    beat.begin("after")
    return done


def measure(jsonl: Path, workdir: Path, idle_s: float, max_seconds: float,
            dump_after_ms: float | None = None) -> Result:
    """Open a window on a fresh store under `workdir` and time every phase."""
    from bench._heartbeat import (
        Heartbeat,
        StallDumps,
        StallSampler,
        diagnose,
        phase_figures,
        summarise_dumps,
    )
    from reverie.core.compose import open_reverie
    from reverie.core.service import Reverie
    from reverie.desktop.app import create_application
    from reverie.desktop.main_window import MainWindow
    from reverie.models import default_embedder, default_llm

    create_application()
    data = workdir / "data"
    llm, embedder = default_llm(), default_embedder()

    def opener(_passphrase: str | None) -> Reverie:
        return open_reverie(data, llm=llm, embedder=embedder, unlocker=BENCH_KEYS)

    window = MainWindow(opener, schedule_sleep=False)
    dumps = StallDumps(dump_after_ms) if dump_after_ms else None
    beat = Heartbeat(PERIOD_MS, dumps=dumps)
    sampler = StallSampler(beat)
    sampler.start()
    try:
        done = run_phases(window, beat, jsonl, idle_s, max_seconds)
    finally:
        beat.stop()
        sampler.halt()
        window.close()
        window.shutdown()
    dumped = dumps.read() if dumps is not None else {}
    phases = {}
    for phase in PHASES:
        ticks = beat.ticks.get(phase, [])
        figures = phase_figures(ticks, PERIOD_MS)
        figures["meets_targets"] = (
            figures["max_ms"] is not None and figures["max_ms"] <= TARGET_MAX_MS
            and figures["p99_ms"] <= TARGET_P99_MS)
        phases[phase] = figures | {"culprits": diagnose(
            ticks, sampler.stalls, PERIOD_MS, beat.sched.get(phase, []))}
        if dumps is not None:
            phases[phase]["dumps"] = summarise_dumps(dumped.get(phase, []), dumps.main_id)
    return {"phases": phases, "jobs": done, "switch_interval_s": sys.getswitchinterval()}


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def report(result: Result, header: str) -> str:
    """The markdown table, then the culprits of each phase that missed a target."""
    lines = [
        header, "",
        "| phase | seconds | ticks | max ms | p99 ms | p95 ms | median ms |"
        " ticks > 20 ms | > 50 ms | max ≤ 50 and p99 ≤ 20 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for phase, f in result["phases"].items():
        lines.append(
            f"| {phase} | {f['seconds']:.1f} | {f['ticks']} | {_fmt(f['max_ms'])} |"
            f" {_fmt(f['p99_ms'])} | {_fmt(f['p95_ms'])} | {_fmt(f['median_ms'])} |"
            f" {f['over_20_ms']} | {f['over_50_ms']} | {'yes' if f['meets_targets'] else 'NO'} |")
    for phase, f in result["phases"].items():
        causes = f["culprits"]
        if not causes["by_samples"]:
            continue
        lines += ["", f"Stalls of 20 ms or more in **{phase}**, main-thread samples (every"
                  " ~2 ms) by culprit:", ""]
        lines += [f"- {count} × `{name}`" for name, count in causes["by_samples"]]
        cpu, runq, blocked = causes["cpu_runq_blocked_ms"]
        lines += ["", f"In those stalls the main thread was on a CPU"
                  f" {cpu:.0f} ms, waiting for a CPU {runq:.0f} ms, blocked (GIL, locks)"
                  f" {blocked:.0f} ms. Other threads meanwhile:", ""]
        lines += [f"- {count} × `{name}`" for name, count in causes["other_threads"]]
        lines += ["", "Longest (main thread on CPU / waiting for a CPU / blocked, ms):", ""]
        lines += [f"- {w['ms']:.0f} ms, {w['samples']} samples, mostly `{w['culprit']}`"
                  f" ({' / '.join(str(v) for v in w['cpu_runq_blocked_ms'])})"
                  for w in causes["worst"]]
        dumps = f.get("dumps")
        if dumps and dumps["dumps"]:
            lines += ["", f"faulthandler dumps ({dumps['dumps']}): main thread at", ""]
            lines += [f"- {count} × `{name}`" for name, count in dumps["main"]]
            lines += ["", "other threads busy (not in an idle wait):", ""]
            lines += [f"- {count} × `{name}`" for name, count in dumps["busy"]]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> Result:
    """Run the benchmark, print the table; return the figures (and write them with --out)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEV_DIR, help="folder of LoCoMo json files")
    parser.add_argument("--conversation", default="conv-30", help="which conversation")
    parser.add_argument("--max-turns", type=int, default=60, help="import its first N turns")
    parser.add_argument("--max-seconds", type=float, default=600.0,
                        help="cancel the import (the window's Cancel) after this long")
    parser.add_argument("--idle", type=float, default=5.0, help="seconds of idle baseline")
    parser.add_argument("--switch-interval", type=float,
                        help="sys.setswitchinterval for the run (default: Python's 0.005 s)")
    parser.add_argument("--dump-after-ms", type=float,
                        help="also dump every thread's stack (faulthandler, no GIL needed)"
                             " when the main thread misses a tick by this long (diagnosis"
                             " only: re-arming the watchdog can itself delay a tick)")
    parser.add_argument("--workdir", type=Path, help="keep the store here (default: a tmp dir)")
    parser.add_argument("--out", type=Path, help="write the figures (.json) and table (.md)")
    args = parser.parse_args(argv)
    if args.switch_interval is not None:
        sys.setswitchinterval(args.switch_interval)
    source = args.data / f"{args.conversation}.json"
    if not source.is_file():
        raise SystemExit(f"no {source.name} in {args.data}")
    command = "python -m bench.responsiveness " + " ".join(
        sys.argv[1:] if argv is None else list(argv))
    with tempfile.TemporaryDirectory(prefix="reverie-responsive-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("REVERIE_CONFIG_DIR", str(workdir / "config"))
        jsonl = workdir / f"{args.conversation}.jsonl"
        turns = capped_jsonl(source, jsonl, args.max_turns)
        load_before = os.getloadavg()
        result = measure(jsonl, workdir, args.idle, args.max_seconds, args.dump_after_ms)
    result |= {
        "command": command.strip(), "date": date.today().isoformat(), "turns_in_file": turns,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load_avg_before": load_before, "load_avg_after": os.getloadavg(),
    }
    jobs = result["jobs"]
    header = (
        f"Main-thread heartbeat ({PERIOD_MS} ms), {result['date']}; `{result['command']}`;"
        f" {turns} turns of {args.conversation}: import"
        f" {'cancelled' if jobs['import']['cancelled'] else 'finished'} after"
        f" {jobs['import']['seconds']:.0f} s, consolidation {jobs['consolidate']['seconds']:.0f} s;"
        f" load average {load_before[0]:.1f} before, {result['load_avg_after'][0]:.1f} after")
    table = report(result, header)
    print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")
        args.out.with_suffix(".md").write_text(table + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
