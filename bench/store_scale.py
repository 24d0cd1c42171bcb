"""The store at scale: writes, search and timeline at 10k, 100k and 1M memories.

    python -m bench.store_scale [--sizes 10000,100000,1000000] [--out FILE.json]

For each size the same synthetic memories (bench/_synthetic.py: template sentences over
three years of days, mixed kinds and people, 384-d unit vectors from a bag-of-words
stand-in embedder, so no model runs) are written by two systems (bench/_systems.py):

- reverie: the product's store (SQLCipher ledger + Chroma index), one transaction of
  `--batch` memories with provenance, history, FTS and vectors, then `sync_index`, as
  extraction writes; read with the product's own search and timeline functions;
- plain: an unencrypted sqlite3 file with the same memories table, indexes and FTS5
  table, and a Chroma collection written with its own `add` (bench/_plain.py).

Each system runs in its own process and the two take short turns (bench/_workers.py),
so both meet the same load. Both are reopened before the reads, and each read is
warmed up with a few calls before it is timed. The table gives reverie, plain and
reverie/plain per figure; with `--out` the results go to that JSON file, and the table
beside it (`.md`), after every size.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from bench._systems import READS
from bench._workers import Handle, Options, start

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
SYSTEMS = ("reverie", "plain")
WARMUP = 10  # untimed calls of each read before timing it
BUILD_TURN = 10  # batches a system writes before the other's turn
READ_TURN = 10  # calls a system times before the other's turn
Result = dict[str, Any]


def percentiles(values_ms: Sequence[float]) -> dict[str, float]:
    """Median, 95th percentile and count of a list of milliseconds."""
    p50, p95 = np.percentile(np.asarray(values_ms, dtype=np.float64), [50, 95])
    return {"p50_ms": float(p50), "p95_ms": float(p95), "n": len(values_ms)}


def throughput(count: int, batch_ms: Sequence[float]) -> Result:
    """Items per second over the summed batch times, and the batch time percentiles."""
    seconds = sum(batch_ms) / 1000
    return {"per_s": count / seconds if seconds else 0.0, "seconds": seconds,
            **percentiles(batch_ms)}


def in_turns(turn: int) -> tuple[str, ...]:
    """Who goes first alternates, so neither always follows the other's cache traffic."""
    return SYSTEMS if turn % 2 == 0 else SYSTEMS[::-1]


def build(handles: dict[str, Handle], size: int, options: Options) -> dict[str, Result]:
    """Both systems write every batch, in turns; their write and index throughput."""
    batches = -(-size // options.batch_size)
    ledger_ms: dict[str, list[float]] = {name: [] for name in SYSTEMS}
    index_ms: dict[str, list[float]] = {name: [] for name in SYSTEMS}
    started = time.perf_counter()
    for turn, first in enumerate(range(0, batches, BUILD_TURN)):
        last = min(first + BUILD_TURN, batches)
        for name in in_turns(turn):
            ledger, index = handles[name].call("build", first, last)
            ledger_ms[name] += ledger
            index_ms[name] += index
        progress(size, last, batches, started)
    return {name: {"write": throughput(size, ledger_ms[name]),
                   "index": throughput(size, index_ms[name])} for name in SYSTEMS}


def progress(size: int, done: int, total: int, started: float) -> None:
    """A line about every tenth of a build, so a long run shows it is alive."""
    step = max(BUILD_TURN, total // 10)
    if done % step < BUILD_TURN or done == total:
        print(f"  {size:,}: {done}/{total} batches written by both,"
              f" {time.perf_counter() - started:.0f} s", flush=True)


def read(handles: dict[str, Handle], options: Options) -> dict[str, Result]:
    """Every read, warmed up and then timed in turns; latency and mean answer size."""
    out: dict[str, Result] = {name: {} for name in SYSTEMS}
    for kind in READS:
        for name in SYSTEMS:
            handles[name].call("warm", kind, WARMUP)
        elapsed: dict[str, list[float]] = {name: [] for name in SYSTEMS}
        sizes: dict[str, list[int]] = {name: [] for name in SYSTEMS}
        for turn, first in enumerate(range(0, options.queries, READ_TURN)):
            for name in in_turns(turn):
                ms, rows = handles[name].call("time_reads", kind, first, first + READ_TURN)
                elapsed[name] += ms
                sizes[name] += rows
        for name in SYSTEMS:
            out[name][kind] = {**percentiles(elapsed[name]),
                               "mean_rows": float(np.mean(sizes[name]))}
    return out


def run_size(size: int, root: Path, options: Options, keep: bool = False) -> Result:
    """Both systems at `size`: built, reopened, read, compared; files removed after."""
    print(f"{size:,} memories", flush=True)
    workdir = root / str(size)
    load_before, started = os.getloadavg()[0], time.perf_counter()
    handles: dict[str, Handle] = {}
    try:
        for name in SYSTEMS:
            handles[name] = start(name, size, workdir / name, options)
        results = build(handles, size, options)
        for name in SYSTEMS:
            results[name]["open_s"] = handles[name].call("reopen")
        for name, reads in read(handles, options).items():
            results[name]["reads"] = reads
        for name in SYSTEMS:
            results[name].update(handles[name].call("finish"))
    finally:
        for handle in handles.values():
            handle.stop()
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return {
        "size": size, **results, "ratio": ratios(results["reverie"], results["plain"]),
        "wall_s": time.perf_counter() - started,
        # Other work on the machine slows both; keep a trace of how busy it was.
        "load_1min": [load_before, os.getloadavg()[0]],
    }


@dataclass(frozen=True)
class Figure:
    """One row of the table: a label and where its value sits in a system's result."""

    label: str
    path: tuple[str, ...]
    digits: int


FIGURES = (
    Figure("write, memories/s", ("write", "per_s"), 0),
    Figure("write, ms per transaction p50", ("write", "p50_ms"), 1),
    Figure("write, ms per transaction p95", ("write", "p95_ms"), 1),
    Figure("index, memories/s", ("index", "per_s"), 0),
    Figure("index, ms per batch p50", ("index", "p50_ms"), 1),
    Figure("index, ms per batch p95", ("index", "p95_ms"), 1),
    *(
        Figure(f"{label} p{q}, ms", ("reads", kind, f"p{q}_ms"), 2)
        for kind, label in (
            ("keyword", "keyword search (FTS5)"), ("vector", "vector search (Chroma)"),
            ("fused", "fused search"), ("days", "timeline days (60)"),
            ("page", "timeline page (200)"), ("page_kind", "timeline page, one kind"),
        )
        for q in (50, 95)
    ),
    Figure("reopen, s", ("open_s",), 2),
    Figure("peak RSS, MiB", ("peak_rss_mib",), 0),
    Figure("on disk, MiB", ("disk_mib",), 0),
)


def value(result: Result, path: Sequence[str]) -> float:
    """The number at `path` in a system's result."""
    node: Any = result
    for key in path:
        node = node[key]
    return float(node)


def ratios(reverie: Result, plain: Result) -> dict[str, float]:
    """reverie / plain for every figure in the table."""
    out: dict[str, float] = {}
    for figure in FIGURES:
        base = value(plain, figure.path)
        out[figure.label] = value(reverie, figure.path) / base if base else float("nan")
    return out


def table(sizes: Iterable[Result]) -> str:
    """A markdown table: per figure, reverie, plain and their ratio at each size."""
    results = list(sizes)
    header = "| figure | " + " | ".join(
        f"{r['size']:,} reverie | plain | ratio" for r in results) + " |"
    lines = [header, "|---" * (1 + 3 * len(results)) + "|"]
    for figure in FIGURES:
        cells = []
        for r in results:
            cells += [f"{value(r['reverie'], figure.path):,.{figure.digits}f}",
                      f"{value(r['plain'], figure.path):,.{figure.digits}f}",
                      f"{r['ratio'][figure.label]:.3g}"]
        lines.append(f"| {figure.label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import chromadb
    from sqlcipher3 import dbapi2 as sqlcipher

    memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return {
        "cpus": os.cpu_count(), "ram_gib": round(memory / 2**30, 1),
        "platform": platform.platform(), "python": platform.python_version(),
        "sqlite_plain": sqlite3.sqlite_version, "sqlite_sqlcipher": sqlcipher.sqlite_version,
        "chromadb": chromadb.__version__, "commit": commit(),
    }


def commit() -> str:
    """The repository's commit, marked `+changes` when core/ differs from it."""
    repo = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True,
                              check=False)
        return done.stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + ("+changes" if git("status", "--porcelain", "--", "core") else "")


def run(sizes: Sequence[int], options: Options, root: Path, out: Path | None = None,
        keep: bool = False) -> Result:
    """Every size in turn; with `out`, the results are saved after each size."""
    report: Result = {"date": date.today().isoformat(), "machine": machine(),
                      "options": asdict(options), "sizes": []}
    for size in sizes:
        report["sizes"].append(run_size(size, root, options, keep))
        if out is not None:
            save(report, out)
    return report


def save(report: Result, out: Path) -> None:
    """Write the results as JSON to `out` and the table beside it as markdown."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    out.with_suffix(".md").write_text(table(report["sizes"]) + "\n", encoding="utf-8")


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                        help="comma-separated memory counts")
    parser.add_argument("--out", type=Path, help="write the results to this JSON file")
    parser.add_argument("--batch", type=int, default=Options.batch_size,
                        help="memories per write transaction")
    parser.add_argument("--queries", type=int, default=Options.queries,
                        help="timed calls of each search and timeline read")
    parser.add_argument("--workdir", type=Path, help="where stores are built (default: temp)")
    parser.add_argument("--keep", action="store_true", help="keep the built stores")
    parser.add_argument("--in-process", action="store_true",
                        help="run both systems in this process (peak RSS is then shared)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> Result:
    """Run the sizes asked for and print the table."""
    args = parse(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    options = Options(batch_size=args.batch, queries=args.queries, isolate=not args.in_process)
    started = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="reverie-scale-", dir=args.workdir))
    try:
        report = run(sizes, options, root, args.out, args.keep)
    finally:
        if args.keep:
            print(f"stores kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    report["wall_s"] = time.perf_counter() - started
    if args.out:
        save(report, args.out)
    print(table(report["sizes"]))
    print(f"whole run {report['wall_s']:.0f} s")
    return report


if __name__ == "__main__":
    main()
