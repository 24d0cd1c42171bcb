"""A main-thread heartbeat, and a sampler that catches the main thread when a beat is late.

`Heartbeat` is a precise `QTimer` on the main thread ticking every `period_ms`; each tick
records its time under the current phase. A tick comes late exactly when the main
thread was busy (running Python or Qt code, or waiting for the GIL), so the gaps between
ticks, minus the period, are the stalls a user would feel as a frozen window.

`StallSampler` is a daemon thread that looks at the heartbeat every millisecond or two.
While the newest tick is older than `period + threshold`, it takes the main thread's
Python stack (`sys._current_frames()`) every `every_ms`: what the main thread was doing
during that stall. A stack whose innermost frame is the event loop's `exec` means the
main thread was not running Python: in Qt's own C++ code, waiting for the GIL that a
worker held, or not given a CPU at all by a busy machine. The main thread's scheduler
counters (`/proc/self/task/<tid>/schedstat`: ns on a CPU, ns waiting in the run queue)
read at each sample tell these apart: on a CPU (Qt or Python work), in the run queue
(the machine is busy), or neither (blocked: the GIL, a lock). The other threads'
innermost frames are noted too: who was running Python meanwhile. Sampling costs the
main thread nothing but the GIL hand-over the sampler's own few microseconds need.
"""

from __future__ import annotations

import faulthandler
import itertools
import os
import re
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer

REPO = str(Path(__file__).resolve().parent.parent)
OURS = ("core/", "desktop/", "models/", "bench/")
Frame = tuple[str, str, int]  # file (short), function, line
# Frames whose line is the benchmark's own `QEventLoop.exec`: the main thread there is
# in Qt's C++ code or waiting (for the GIL, or for a CPU), not running Python.
EVENT_LOOP = {("bench/responsiveness.py", "wait_for"), ("bench/responsiveness.py", "pause")}
IN_EVENT_LOOP = "event loop (Qt's C++, or waiting for the GIL or a CPU)"


@dataclass
class Stall:
    """One late beat as the sampler saw it: when the last beat was, the main thread's
    stacks, and what the other threads were running meanwhile."""

    since: float  # perf_counter of the last tick before the stall
    samples: list[tuple[Frame, ...]] = field(default_factory=list)
    others: list[str] = field(default_factory=list)


class Heartbeat(QObject):
    """Ticks on the main thread every `period_ms`; records tick times per phase."""

    def __init__(self, period_ms: int = 5, parent: QObject | None = None, *,
                 dumps: StallDumps | None = None) -> None:
        super().__init__(parent)
        self.period_ms = period_ms
        self.dumps = dumps
        self.phase = "start"
        self.ticks: dict[str, list[float]] = {}
        self.sched: dict[str, list[tuple[int, int]]] = {}  # per tick: cpu ns, run-queue ns
        self.last_tick = time.perf_counter()
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(period_ms)
        self._timer.timeout.connect(self._tick)

    def start(self, phase: str) -> None:
        """Begin ticking, recording under `phase`."""
        self.begin(phase)
        self._timer.start()

    def begin(self, phase: str) -> None:
        """Record the next ticks under `phase` (its first gap starts now)."""
        self.phase = phase
        self.last_tick = time.perf_counter()
        self.ticks.setdefault(phase, []).append(self.last_tick)
        self.sched.setdefault(phase, []).append(main_sched())
        if self.dumps is not None:
            self.dumps.mark(phase)

    def stop(self) -> None:
        """Stop ticking."""
        self._timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.ticks.setdefault(self.phase, []).append(now)
        self.sched.setdefault(self.phase, []).append(main_sched())
        self.last_tick = now
        if self.dumps is not None:
            self.dumps.arm()


class StallSampler(threading.Thread):
    """Samples the main thread's stack while the heartbeat is late."""

    def __init__(self, heartbeat: Heartbeat, *, threshold_ms: float = 10.0,
                 every_ms: float = 2.0) -> None:
        super().__init__(name="bench-stall-sampler", daemon=True)
        self._heartbeat = heartbeat
        self._late = (heartbeat.period_ms + threshold_ms) / 1000
        self._every = every_ms / 1000
        self._main = threading.main_thread().ident
        self._halt = threading.Event()
        self.stalls: dict[float, Stall] = {}  # by the tick the stall followed

    def run(self) -> None:
        """Watch until `halt`."""
        while not self._halt.wait(self._every):
            since = self._heartbeat.last_tick  # a float read: atomic under the GIL
            if time.perf_counter() - since < self._late:
                continue
            frames = sys._current_frames()
            frame = frames.get(self._main or 0)
            if frame is None:
                continue
            stall = self.stalls.setdefault(since, Stall(since))
            stall.samples.append(stack(frame))
            me = threading.get_ident()
            stall.others += [culprit(stack(f)) for ident, f in frames.items()
                             if ident not in (self._main, me)]

    def halt(self) -> None:
        """Stop sampling and wait for the thread."""
        self._halt.set()
        self.join()


_SCHEDSTAT: list[int] = []  # the open /proc file of the main thread's counters


def main_sched() -> tuple[int, int]:
    """The main thread's ns on a CPU and ns waiting in the run queue so far (Linux's
    /proc/self/task/<tid>/schedstat; zeros elsewhere). Call on the main thread."""
    try:
        if not _SCHEDSTAT:
            path = f"/proc/self/task/{threading.get_native_id()}/schedstat"
            _SCHEDSTAT.append(os.open(path, os.O_RDONLY))
        cpu, runq, _slices = os.pread(_SCHEDSTAT[0], 128, 0).split()
        return int(cpu), int(runq)
    except (OSError, ValueError):
        return 0, 0


def split_ms(before: tuple[int, int], after: tuple[int, int], gap_ms: float,
             period_ms: float) -> tuple[float, float, float]:
    """How a late gap was spent by the main thread: ms on a CPU (Qt or Python work), ms
    waiting for a CPU (the machine busy), and ms blocked beyond the period's own sleep
    (the GIL held by another thread, a lock)."""
    cpu = (after[0] - before[0]) / 1e6
    runq = (after[1] - before[1]) / 1e6
    return cpu, runq, max(0.0, gap_ms - period_ms - cpu - runq)


def stack(frame: Any, depth: int = 40) -> tuple[Frame, ...]:
    """The frames from `frame` outwards (innermost first), files shortened."""
    frames: list[Frame] = []
    while frame is not None and len(frames) < depth:
        code = frame.f_code
        frames.append((short(code.co_filename), code.co_name, frame.f_lineno))
        frame = frame.f_back
    return tuple(frames)


def short(filename: str) -> str:
    """A file name relative to the repository or to site-packages."""
    if filename.startswith(REPO):
        return filename[len(REPO) + 1:]
    marker = "site-packages/"
    at = filename.find(marker)
    return filename[at + len(marker):] if at >= 0 else filename


def culprit(sample: Sequence[Frame]) -> str:
    """Who held the main thread in one sample: the innermost frame of our code (with
    the innermost frame of all, if that is a library's), or the event loop itself."""
    if not sample:
        return "?"
    inner = sample[0]
    if (inner[0], inner[1]) in EVENT_LOOP:
        return IN_EVENT_LOOP
    ours = next((f for f in sample if f[0].startswith(OURS)), None)
    if ours is None:
        return f"{inner[0]}:{inner[1]}"
    if ours is inner:
        return f"{ours[0]}:{ours[1]}:{ours[2]}"
    return f"{ours[0]}:{ours[1]}:{ours[2]} → {inner[0]}:{inner[1]}"


def lateness_ms(ticks: Sequence[float], period_ms: float) -> np.ndarray:
    """Each gap between ticks minus the period, in ms (never below 0)."""
    gaps = np.diff(np.asarray(ticks, dtype=np.float64)) * 1000
    return np.maximum(gaps - period_ms, 0.0)


def phase_figures(ticks: Sequence[float], period_ms: float) -> dict[str, Any]:
    """Max, p99, p95 and median lateness of a phase, its ticks and seconds."""
    late = lateness_ms(ticks, period_ms)
    if late.size == 0:
        return {"ticks": 0, "seconds": 0.0, "max_ms": None, "p99_ms": None, "p95_ms": None,
                "median_ms": None, "over_50_ms": 0, "over_20_ms": 0}
    p50, p95, p99 = np.percentile(late, [50, 95, 99])
    return {
        "ticks": int(late.size), "seconds": float(ticks[-1] - ticks[0]),
        "max_ms": float(late.max()), "p99_ms": float(p99), "p95_ms": float(p95),
        "median_ms": float(p50), "over_50_ms": int((late > 50).sum()),
        "over_20_ms": int((late > 20).sum()),
    }


def diagnose(ticks: Sequence[float], stalls: dict[float, Stall], period_ms: float,
             sched: Sequence[tuple[int, int]] = (), *, worst: int = 8,
             at_least_ms: float = 20.0) -> dict[str, Any]:
    """The culprits of a phase's stalls of `at_least_ms` or more.

    `by_samples`: every sample of those stalls, counted by culprit (each sample stands
    for `every_ms` of main-thread time). `worst`: the longest stalls with their most
    common culprit and one full stack. `other_threads`: what the other threads were
    running at those samples. `cpu_runq_blocked_ms`: over those stalls (from `sched`,
    the main thread's counters at each tick), its time on a CPU, waiting for a CPU, and
    blocked.
    """
    late = lateness_ms(ticks, period_ms)
    starts = list(ticks[:-1])
    counted: Counter[str] = Counter()
    workers: Counter[str] = Counter()
    split = np.zeros(3)
    longest: list[dict[str, Any]] = []
    ordered = sorted(range(len(starts)), key=lambda i: -late[i])
    for i in ordered:
        start, ms = starts[i], float(late[i])
        if ms < at_least_ms:
            break
        parts = (split_ms(sched[i], sched[i + 1], ms + period_ms, period_ms)
                 if len(sched) == len(ticks) else (0.0, 0.0, 0.0))
        split += parts
        stall = stalls.get(start)
        if stall is None or not stall.samples:
            continue
        names = Counter(culprit(s) for s in stall.samples)
        counted.update(names)
        workers.update(stall.others)
        if len(longest) < worst:
            top, _ = names.most_common(1)[0]
            example = next(s for s in stall.samples if culprit(s) == top)
            longest.append({
                "ms": float(ms), "samples": len(stall.samples), "culprit": top,
                "cpu_runq_blocked_ms": [round(v, 1) for v in parts],
                "stack": [f"{f}:{n}:{line}" for f, n, line in example[:14]],
            })
    return {"by_samples": counted.most_common(12), "worst": longest,
            "other_threads": workers.most_common(8),
            "cpu_runq_blocked_ms": [round(float(v), 1) for v in split]}


class StallDumps:
    """`faulthandler`'s watchdog, re-armed at every tick: when the main thread misses
    the next `after_ms`, every thread's stack is written without taking the GIL.

    The sampler above needs the GIL to look, so it cannot see a thread that holds the
    GIL through a long C call; the watchdog can. Re-arming costs about 0.15 ms of the
    main thread per tick (it starts a watchdog thread), and it waits for the previous
    watchdog thread to end: on a busy machine that wait can itself stall the main
    thread (dumps then show it in `arm`). So it is only on when asked, for a run that
    diagnoses, not for the run whose figures are reported.
    """

    def __init__(self, after_ms: float) -> None:
        self._after = after_ms / 1000
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 (closed in `read`)
        self.main_id = f"0x{threading.main_thread().ident or 0:016x}"
        self._marks: list[tuple[str, int]] = []

    def arm(self) -> None:
        """Dump every stack unless armed again within `after_ms`."""
        faulthandler.dump_traceback_later(self._after, file=self._file)

    def mark(self, phase: str) -> None:
        """The dumps from now on belong to `phase` (until the next mark)."""
        self._marks.append((phase, os.lseek(self._file.fileno(), 0, os.SEEK_CUR)))

    def read(self) -> dict[str, list[dict[str, list[str]]]]:
        """Stop the watchdog; per phase, each dump as {thread id: frames, innermost first}."""
        faulthandler.cancel_dump_traceback_later()
        end = os.lseek(self._file.fileno(), 0, os.SEEK_CUR)
        self._file.seek(0)
        data = self._file.read(end)
        self._file.close()
        bounds = [*self._marks, ("", end)]
        out: dict[str, list[dict[str, list[str]]]] = {}
        for (phase, start), (_next, stop) in itertools.pairwise(bounds):
            text = data[start:stop].decode("utf-8", "replace")
            out.setdefault(phase, []).extend(
                _parse_dump(part) for part in text.split("Timeout (")[1:])
        return out


_DUMP_THREAD = re.compile(r"^(?:Current thread|Thread) (0x[0-9a-f]+)")
_DUMP_FRAME = re.compile(r'^\s+File "(.*)", line (\d+) in (\S+)')
IDLE_FUNCTIONS = {"wait", "_worker", "get", "_wait_for_tstate_lock", "select", "sleep", "take",
                  "_run", "_extract_loop", "run_forever", "_run_once", "poll"}


def _parse_dump(text: str) -> dict[str, list[str]]:
    threads: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        head = _DUMP_THREAD.match(line)
        if head:
            current = threads.setdefault(head.group(1), [])
            continue
        frame = _DUMP_FRAME.match(line)
        if frame and current is not None:
            current.append(f"{short(frame.group(1))}:{frame.group(3)}:{frame.group(2)}")
    return threads


def summarise_dumps(dumps: Sequence[dict[str, list[str]]], main_id: str) -> dict[str, Any]:
    """Where the main thread was in each dump, and which other threads were busy (not
    in a known idle wait), counted by their innermost frame of our code."""
    main: Counter[str] = Counter()
    busy: Counter[str] = Counter()
    for dump in dumps:
        for ident, frames in dump.items():
            if not frames:
                continue
            if ident == main_id:
                main[frames[0]] += 1
                continue
            if frames[0].split(":")[1] in IDLE_FUNCTIONS:
                continue
            ours = next((f for f in frames if f.startswith(OURS)), frames[0])
            busy[ours if ours == frames[0] else f"{ours} → {frames[0]}"] += 1
    return {"dumps": len(dumps), "main": main.most_common(8), "busy": busy.most_common(10)}
