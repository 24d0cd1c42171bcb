"""Each system under test in its own process, driven in short alternating turns.

Both systems of a size live at the same time, each in a spawned process (so that each
reports its own peak RSS), and the driver lets them work one at a time: a few batches
of writes, or a few reads, then the other's turn. Whatever else runs on the machine
then weighs on both alike, which keeps the ratios fair on a shared machine; run one
after the other, they would meet different loads.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

from bench._synthetic import Corpus
from bench._systems import SYSTEMS, Call, peak_rss_mib


@dataclass(frozen=True)
class Options:
    """How each size is built and read."""

    batch_size: int = 100
    queries: int = 200
    seed: int = 2026
    isolate: bool = True  # each system in its own process, so peak RSS is its own


class Worker:
    """One system at one size: builds in slices of batches, times reads in slices."""

    def __init__(self, system: str, size: int, workdir: Path, options: Options) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self._corpus = Corpus(size, options.batch_size, options.seed)
        self._system = SYSTEMS[system](self._corpus, workdir)
        self._queries = options.queries
        self._reads: dict[str, list[Call]] = {}

    def build(self, start: int, stop: int) -> tuple[list[float], list[float]]:
        """Write batches `start`..`stop`; the ledger's and the index's ms for each."""
        ledger_ms: list[float] = []
        index_ms: list[float] = []
        for index in range(start, stop):
            ledger, vectors = self._system.write(self._corpus.batch(index))
            ledger_ms.append(ledger)
            index_ms.append(vectors)
        return ledger_ms, index_ms

    def reopen(self) -> float:
        """Reopen as at start-up and prepare the reads; the seconds the opening took."""
        seconds = self._system.reopen()
        self._reads = self._system.reads(self._queries)
        return seconds

    def warm(self, read: str, count: int) -> None:
        """Run the first `count` calls of a read untimed (caches, lazy loading)."""
        for call in self._reads[read][:count]:
            call()

    def time_reads(self, read: str, start: int, stop: int) -> tuple[list[float], list[int]]:
        """Milliseconds and answer sizes of calls `start`..`stop` of a read."""
        elapsed: list[float] = []
        sizes: list[int] = []
        for call in self._reads[read][start:stop]:
            began = time.perf_counter()
            answer = call()
            elapsed.append(1000 * (time.perf_counter() - began))
            sizes.append(len(answer))
        return elapsed, sizes

    def finish(self) -> dict[str, Any]:
        """Counts, disk use and peak RSS; closes the system."""
        try:
            counts = self._system.counts()
        finally:
            self._system.close()
        return {"counts": counts, "disk_mib": self._system.disk_mib(),
                "peak_rss_mib": peak_rss_mib()}


class Handle(Protocol):
    """A worker the driver calls by method name, here or in another process."""

    def call(self, method: str, *args: Any) -> Any:
        """Run `method(*args)` on the worker and return its result."""
        ...

    def stop(self) -> None:
        """End the worker (its system is closed by `finish`)."""
        ...


class LocalHandle:
    """A worker in this process (for quick runs and tests; RSS is then shared)."""

    def __init__(self, system: str, size: int, workdir: Path, options: Options) -> None:
        self._worker = Worker(system, size, workdir, options)

    def call(self, method: str, *args: Any) -> Any:
        """Run the method directly."""
        return getattr(self._worker, method)(*args)

    def stop(self) -> None:
        """Nothing to end."""


class ProcessHandle:
    """A worker in a spawned process, spoken to over a pipe."""

    def __init__(self, system: str, size: int, workdir: Path, options: Options) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=serve, args=(child, system, size, workdir, options), daemon=True
        )
        self._process.start()
        child.close()
        self._answer()  # the worker is built (or failed to build)

    def call(self, method: str, *args: Any) -> Any:
        """Send the call, wait for the answer; a failure there is raised here."""
        self._conn.send((method, args))
        return self._answer()

    def _answer(self) -> Any:
        ok, value = self._conn.recv()
        if not ok:
            raise RuntimeError(f"benchmark worker failed:\n{value}")
        return value

    def stop(self) -> None:
        """Tell the worker to end and wait for it; kill it only if it will not."""
        with contextlib.suppress(OSError):  # the worker may already be gone
            self._conn.send(None)
        self._process.join(timeout=60)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()
        self._conn.close()


def serve(conn: Connection, system: str, size: int, workdir: Path, options: Options) -> None:
    """The worker process: build the worker, then answer calls until told to stop."""
    try:
        worker = Worker(system, size, workdir, options)
    except Exception:
        conn.send((False, traceback.format_exc()))
        return
    conn.send((True, None))
    while (message := conn.recv()) is not None:
        method, args = message
        try:
            conn.send((True, getattr(worker, method)(*args)))
        except Exception:
            conn.send((False, traceback.format_exc()))


def start(system: str, size: int, workdir: Path, options: Options) -> Handle:
    """A worker for `system` at `size`, in its own process unless `options.isolate` is off."""
    if options.isolate:
        return ProcessHandle(system, size, workdir, options)
    return LocalHandle(system, size, workdir, options)
