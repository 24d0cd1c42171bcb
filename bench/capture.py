"""Capture: indexing a folder of many text files, without extraction.

    python -m bench.capture [--files 10000] [--out DIR] [--workdir DIR] [--raw-share 0.25]

1. A folder of `--files` synthetic notes is written (bench/_notes.py, seeded): Markdown
   and plain text, median about 1 KB, in sub-folders.
2. Read + parse only: every file read and parsed with capture's own functions
   (`read_file`, `format_of`, `parse_bytes`), no store: the parsing floor.
3. First scan: a fresh store (temporary data directory, fixed passphrase, bundled
   embedder, no LLM), `capture.add(folder)`, then `capture.scan()` timed: read, parse,
   plan, embed, write, index, file by file as the product does. The embedder and the
   store's `sync_index` are wrapped to time what they take inside the scan.
4. Raw embedding, same run: the stored episodes' texts (`speaker: text`, as the
   importer embeds them) embedded in batches of 64 (`embed_in_batches`), with nothing
   else around; `--raw-share` embeds an evenly spaced share of them, to save time.
5. Unchanged scans: `--repeats` scans with nothing changed (a stat per file).
6. Edit rounds: `--touch` files get a new mtime (same bytes) and `--edit` other files
   get a paragraph appended, then a scan; repeated `--rounds` times on fresh files.

The table gives medians where a step is repeated. With `--out DIR` the results go to
DIR/capture.json and the table to DIR/capture.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import numpy as np

from bench._notes import SEED, NotesFolder, appended_paragraph, generate, pick
from bench.retrieval import BENCH_KEYS
from bench.store_scale import commit
from reverie.core.capture.folders import ScanReport
from reverie.core.capture.importer import DEFAULT_MAX_BYTES
from reverie.core.capture.reading import format_of, parse_bytes, read_file
from reverie.core.compose import open_reverie
from reverie.core.embedding import EMBED_BATCH, embed_in_batches
from reverie.core.jobs import no_progress
from reverie.core.service import Reverie
from reverie.models.base import ChatMessage, Embedder, TokenCallback

MB = 1_000_000
Result = dict[str, Any]
T = TypeVar("T")
P = ParamSpec("P")
# The phases a scan's time is split into (see `Phases`); REST is what none covers.
EMBEDDING, INDEX, WRITES, READS, REST = (
    "embedding", "index sync", "ledger writes", "ledger reads", "rest")
PHASES = (EMBEDDING, INDEX, WRITES, READS)
SORTED_CALL = 1024  # texts per call in the length-sorted raw baseline


@dataclass(frozen=True)
class Options:
    """What the benchmark does; the defaults are the documented run."""

    files: int = 10_000
    seed: int = SEED
    raw_share: float = 0.25  # of the stored texts embedded for the raw baseline
    repeats: int = 5  # unchanged scans
    rounds: int = 3  # touch-and-edit scans
    touch: int = 100  # files per round given a new mtime, same bytes
    edit: int = 100  # files per round given one more paragraph


class NoLLM:
    """Stands in for the chat model: capture without extraction never calls it."""

    @property
    def name(self) -> str:
        """A name no real model has."""
        return "no-llm"

    @property
    def context_size(self) -> int:
        """A plausible window, for services that read it when built."""
        return 2048

    def count_tokens(self, text: str) -> int:
        """A rough count; never needed by capture."""
        return len(text) // 4

    def chat(self, messages: Sequence[ChatMessage], *, max_tokens: int,
             temperature: float = 0.0, json_schema: Mapping[str, Any] | None = None,
             on_token: TokenCallback | None = None,
             cancel: threading.Event | None = None, stop: Sequence[str] = ()) -> str:
        """Refuse: the benchmark must not generate."""
        raise RuntimeError("the capture benchmark runs no LLM")


class Phases:
    """Exclusive time per named phase: a phase entered inside another is charged alone.

    Wrapping the store's calls this way splits a scan into embedding, index sync, ledger
    writes and ledger reads without double counting (a read inside the index sync is a
    read); what no phase covers (walk, stat, read, parse, plan) is the rest.
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._stack: list[str] = []
        self._mark = time.perf_counter()

    def _charge(self) -> None:
        now = time.perf_counter()
        if self._stack:
            top = self._stack[-1]
            self.seconds[top] = self.seconds.get(top, 0.0) + now - self._mark
        self._mark = now

    def enter(self, name: str) -> None:
        """A phase begins (inside whatever phase is running)."""
        self._charge()
        self._stack.append(name)
        self.calls[name] = self.calls.get(name, 0) + 1

    def leave(self) -> None:
        """The innermost phase ends."""
        self._charge()
        self._stack.pop()

    def reset(self) -> None:
        """Start counting afresh (between scans, when no phase runs)."""
        self.seconds, self.calls = {}, {}

    def function(self, name: str, function: Callable[P, T]) -> Callable[P, T]:
        """`function`, its calls charged to `name`."""
        def timed(*args: P.args, **kwargs: P.kwargs) -> T:
            self.enter(name)
            try:
                return function(*args, **kwargs)
            finally:
                self.leave()
        return timed

    def context(self, name: str,
                manager: Callable[[], AbstractContextManager[T]]) -> Callable[[], Any]:
        """A context manager factory whose blocks are charged to `name`."""
        @contextmanager
        def timed() -> Iterator[T]:
            self.enter(name)
            try:
                with manager() as value:
                    yield value
            finally:
                self.leave()
        return timed


class CountingEmbedder:
    """The embedder under test, its calls counted and charged to the `embedding` phase."""

    def __init__(self, inner: Embedder, phases: Phases) -> None:
        self.inner = inner
        self.texts = 0
        self._embed = phases.function(EMBEDDING, inner.embed)

    @property
    def name(self) -> str:
        """The wrapped embedder's name, so stored vectors are its own."""
        return self.inner.name

    @property
    def dim(self) -> int:
        """The wrapped embedder's vector length."""
        return self.inner.dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed with the wrapped embedder, counted and timed."""
        self.texts += len(texts)
        return self._embed(texts)


@dataclass
class Meter:
    """The embedder and the store of one benchmark run, timed by phase."""

    phases: Phases
    embedder: CountingEmbedder

    @classmethod
    def around(cls, embedder: Embedder) -> Meter:
        """A meter whose embedder wraps `embedder`."""
        phases = Phases()
        return cls(phases, CountingEmbedder(embedder, phases))

    def attach(self, reverie: Reverie) -> None:
        """Time the store's index sync, write transactions and reads from now on."""
        store, ledger, phases = reverie.store, reverie.store.ledger, self.phases
        store.sync_index = phases.function(INDEX, store.sync_index)  # type: ignore[method-assign]
        ledger.transaction = phases.context(WRITES, ledger.transaction)  # type: ignore[method-assign]
        ledger.query = phases.function(READS, ledger.query)  # type: ignore[method-assign]

    def scan(self, reverie: Reverie, watch_id: int, label: str = "") -> tuple[ScanReport, Result]:
        """One timed `capture.scan` of a source, with the time of each phase in it."""
        self.phases.reset()
        self.embedder.texts = 0
        progress = ScanProgress(label) if label else no_progress
        started = time.perf_counter()
        [report] = reverie.capture.scan(watch_id, progress=progress)
        seconds = time.perf_counter() - started
        phases = {name: self.phases.seconds.get(name, 0.0) for name in PHASES}
        return report, {
            "seconds": seconds, "phases": {**phases, REST: seconds - sum(phases.values())},
            "calls": dict(self.phases.calls), "embedded": self.embedder.texts,
            "actions": report.actions, "added": report.changes.episodes_added,
            "removed": report.changes.episodes_removed, "problems": len(report.problems),
        }


class ScanProgress:
    """Prints a line at every tenth of a long scan, so a long run shows it is alive."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.started = time.perf_counter()
        self.shown = -1

    def __call__(self, done: int, total: int, what: str) -> None:
        """Called by the scan before each file."""
        tenth = 10 * done // total if total else 10
        if tenth > self.shown:
            self.shown = tenth
            print(f"  {self.label}: {done:,}/{total:,} files,"
                  f" {time.perf_counter() - self.started:.0f} s", flush=True)


def per_second(count: float, seconds: float) -> float:
    """A rate, zero when no time passed."""
    return count / seconds if seconds > 0 else 0.0


def embed_text(speaker: str, text: str) -> str:
    """What the importer embeds for a piece."""
    return f"{speaker}: {text}"


def parse_file(path: Path) -> tuple[str, list[str]]:
    """Read and parse one file as capture does: its format and its pieces' texts."""
    content = read_file(path, DEFAULT_MAX_BYTES)
    fmt = format_of(path, content.raw)
    parsed = parse_bytes(content, fmt)
    return fmt.name, [embed_text(p.speaker, p.text) for s in parsed.sources for p in s.pieces]


def parse_only(folder: NotesFolder) -> tuple[Result, list[str]]:
    """Read and parse every file as capture does, with no store; the pieces' texts."""
    for path in folder.files[:20]:  # untimed: imports and parsers' first-use set-up
        parse_file(path)
    texts: list[str] = []
    formats: dict[str, int] = {}
    started = time.perf_counter()
    for path in folder.files:
        name, pieces = parse_file(path)
        formats[name] = formats.get(name, 0) + 1
        texts += pieces
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds, "files_per_s": per_second(len(folder.files), seconds),
        "mb_per_s": per_second(folder.total_bytes / MB, seconds), "pieces": len(texts),
        "formats": formats,
    }, texts


def stored_texts(reverie: Reverie) -> list[str]:
    """The stored episodes' texts as the importer embedded them, in the order written."""
    rows = reverie.store.ledger.query("SELECT speaker, text FROM episodes ORDER BY seq")
    return [embed_text(row["speaker"], row["text"]) for row in rows]


def sample(texts: Sequence[str], share: float) -> list[str]:
    """An evenly spaced share of `texts` (every n-th), at least one."""
    step = max(1, round(1 / share)) if share > 0 else len(texts)
    return list(texts[::step]) if texts else []


def raw_embedding(embedder: Embedder, texts: Sequence[str], by_length: bool) -> Result:
    """Embed `texts` with nothing else around: the baseline.

    As `core/embedding.py` does (`by_length` false): calls of 64 texts in stored order,
    each padded to its longest text. With `by_length`, calls of `SORTED_CALL` texts,
    which the embedder sorts by length before cutting its own batches of 64.
    """
    texts = list(texts)
    started = time.perf_counter()
    if by_length:
        for start in range(0, len(texts), SORTED_CALL):
            embedder.embed(texts[start : start + SORTED_CALL])
    else:
        embed_in_batches(embedder, texts, no_progress, None, "raw")
    seconds = time.perf_counter() - started
    size = sum(len(text.encode("utf-8")) for text in texts) / MB
    return {"pieces": len(texts), "seconds": seconds,
            "pieces_per_s": per_second(len(texts), seconds),
            "mb_per_s": per_second(size, seconds), "text_mb": size, "peak_rss_mib": peak_rss()}


def peak_rss() -> float:
    """This process's peak resident memory so far, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def first_scan(reverie: Reverie, meter: Meter, folder: NotesFolder) -> tuple[int, Result]:
    """Add the folder and time the first scan; the watch id and the figures."""
    watch = reverie.capture.add(folder.root)
    report, figures = meter.scan(reverie, watch.id, "first scan")
    seconds = figures["seconds"]
    catalog_pieces = reverie.store.ledger.query(
        "SELECT COALESCE(SUM(pieces), 0) FROM files WHERE watch_id = ?", (watch.id,))[0][0]
    figures.update({
        "files_per_s": per_second(len(folder.files), seconds),
        "mb_per_s": per_second(folder.total_bytes / MB, seconds),
        "pieces": report.changes.episodes_added,
        "pieces_per_s": per_second(report.changes.episodes_added, seconds),
        "catalog_pieces": int(catalog_pieces), "peak_rss_mib": peak_rss(),
    })
    return watch.id, figures


def unchanged_scans(reverie: Reverie, meter: Meter, watch_id: int, repeats: int) -> Result:
    """Scans with nothing changed: their times and anything they (wrongly) did."""
    runs = [meter.scan(reverie, watch_id)[1] for _ in range(repeats)]
    seconds = [run["seconds"] for run in runs]
    return {"seconds": seconds, **spread(seconds),
            "embedded": sum(run["embedded"] for run in runs), "last": runs[-1],
            "added": sum(run["added"] for run in runs),
            "removed": sum(run["removed"] for run in runs),
            "actions": [run["actions"] for run in runs]}


def spread(values: Sequence[float]) -> Result:
    """Median, least and most of repeated timings."""
    return {"median_s": statistics.median(values), "min_s": min(values),
            "max_s": max(values)} if values else {}


def touch(path: Path) -> None:
    """A new mtime one second later, the same bytes (as a sync tool or `touch` does)."""
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))


def append_paragraph(path: Path, rng: random.Random) -> None:
    """One paragraph more at the end of the note."""
    with path.open("a", encoding="utf-8") as handle:
        handle.write(appended_paragraph(rng))


def edit_rounds(reverie: Reverie, meter: Meter, watch_id: int, folder: NotesFolder,
                options: Options) -> Result:
    """Rounds of touching and editing fresh files, each followed by a timed scan."""
    rng = random.Random(f"{options.seed}:edits")
    taken: set[Path] = set()
    runs: list[Result] = []
    for _ in range(options.rounds):
        touched = pick(folder.files, options.touch, rng, taken)
        edited = pick(folder.files, options.edit, rng, taken)
        for path in touched:
            touch(path)
        for path in edited:
            append_paragraph(path, rng)
        runs.append({"touched": len(touched), "edited": len(edited),
                     **meter.scan(reverie, watch_id)[1]})
    return {"rounds": runs, **spread([run["seconds"] for run in runs]),
            "median_embedded": statistics.median(r["embedded"] for r in runs) if runs else 0}


def store_figures(reverie: Reverie, watch_id: int, data_dir: Path) -> Result:
    """What the store holds after the scans, its size and the process's peak memory."""
    ledger = reverie.store.ledger
    catalog_pieces = ledger.query("SELECT COALESCE(SUM(pieces), 0) FROM files"
                                  " WHERE watch_id = ?", (watch_id,))[0][0]
    return {
        "episodes": int(ledger.query("SELECT COUNT(*) FROM episodes")[0][0]),
        "vectors": int(ledger.query("SELECT COUNT(*) FROM vectors")[0][0]),
        "index": reverie.store.index.count(),
        "catalog_pieces": int(catalog_pieces),
        "disk_mib": sum(p.stat().st_size for p in data_dir.rglob("*") if p.is_file()) / 2**20,
        "peak_rss_mib": peak_rss(),
    }


def machine() -> Result:
    """Cores, processor and memory as /proc gives them, and the code's version."""
    model = ""
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    ram_kib = 0
    with open("/proc/meminfo", encoding="utf-8") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                ram_kib = int(line.split()[1])
    return {"cpus": os.cpu_count(), "cpu": model, "ram_gib": round(ram_kib / 2**20, 1),
            "platform": platform.platform(), "python": platform.python_version(),
            "commit": commit()}


def measure(folder: NotesFolder, data_dir: Path, embedder: Embedder,
            options: Options) -> Result:
    """Every step on one fresh store over the generated folder."""
    meter = Meter.around(embedder)
    embedder.embed(["warm up the model before anything is timed"])
    parsed, parsed_texts = parse_only(folder)
    print(f"read + parse only: {parsed['seconds']:.1f} s, {parsed['pieces']:,} pieces",
          flush=True)
    reverie = open_reverie(data_dir, llm=NoLLM(), embedder=meter.embedder, unlocker=BENCH_KEYS)
    meter.attach(reverie)
    try:
        watch_id, first = first_scan(reverie, meter, folder)
        texts = stored_texts(reverie)
        baseline = sample(texts, options.raw_share)
        print(f"first scan: {first['seconds']:.0f} s; raw embedding of {len(baseline):,}"
              f" of {len(texts):,} pieces, two ways", flush=True)
        raw = {"batches": raw_embedding(embedder, baseline, by_length=False),
               "by_length": raw_embedding(embedder, baseline, by_length=True)}
        unchanged = unchanged_scans(reverie, meter, watch_id, options.repeats)
        edits = edit_rounds(reverie, meter, watch_id, folder, options)
        store = store_figures(reverie, watch_id, data_dir)
    finally:
        reverie.close()
    return {"parse": parsed, "first_scan": first, "raw": raw, "unchanged": unchanged,
            "edits": edits, "store": store,
            # The first scan stored exactly what parsing the files gives.
            "texts_match": sorted(parsed_texts) == sorted(texts)}


def run(options: Options, root: Path, embedder: Embedder | None = None) -> Result:
    """Generate the folder under `root`, measure, and return every figure."""
    if embedder is None:
        from reverie.models import default_embedder

        embedder = default_embedder()
    load_before, started = os.getloadavg()[0], time.perf_counter()
    measured_on = machine()  # before the run: the commit is that of the code measured
    folder = generate(root / "notes", options.files, options.seed)
    print(f"{len(folder.files):,} notes, {folder.total_bytes / MB:.1f} MB,"
          f" written in {time.perf_counter() - started:.1f} s", flush=True)
    figures = measure(folder, root / "data", embedder, options)
    return {
        "date": datetime.now().isoformat(timespec="minutes"), "machine": measured_on,
        "options": asdict(options),
        "folder": {"files": len(folder.files), "mb": folder.total_bytes / MB,
                   "median_bytes": folder.median_bytes, "folders": folder.folders},
        **figures, "ratio": ratios(figures),
        "wall_s": time.perf_counter() - started,
        # Other work on the machine slows everything; keep a trace of how busy it was.
        "load_1min": [load_before, os.getloadavg()[0]],
    }


def ratios(figures: Result) -> Result:
    """Capture against raw embedding, and embedding inside the scan against raw."""
    first, raw = figures["first_scan"], figures["raw"]
    in_scan = per_second(first["embedded"], first["phases"][EMBEDDING])
    out: Result = {"in_scan_embedding_pieces_per_s": in_scan}
    for way, result in raw.items():
        out[f"capture_over_raw_{way}"] = per_second(first["pieces_per_s"],
                                                    result["pieces_per_s"])
        out[f"in_scan_embedding_over_raw_{way}"] = per_second(in_scan, result["pieces_per_s"])
    return out


def row(label: str, value: str) -> str:
    """One line of the table."""
    return f"| {label} | {value} |"


def phase_rows(scan: Result) -> list[str]:
    """Where a scan's time went, phase by phase."""
    seconds, calls = scan["seconds"], scan["calls"]
    labels = {
        EMBEDDING: "embedding: s (share; calls; texts a call)",
        INDEX: "vector index sync, Chroma: s (share; calls)",
        WRITES: "ledger write transactions: s (share; count)",
        READS: "ledger reads: s (share; queries)",
        REST: "the rest (walk, stat, read, hash, parse, plan): s (share)",
    }
    lines = []
    for name, label in labels.items():
        spent = scan["phases"][name]
        detail = "" if name == REST else f"; {calls.get(name, 0):,}"
        if name == EMBEDDING:
            detail += f"; {per_second(scan['embedded'], calls.get(name, 0)):.1f}"
        lines.append(row(f"… {label}", f"{spent:,.1f} ({per_second(spent, seconds):.0%}{detail})"))
    return lines


def table(report: Result) -> str:
    """The figures as a markdown table."""
    folder, parsed, first = report["folder"], report["parse"], report["first_scan"]
    unchanged, edits, ratio = report["unchanged"], report["edits"], report["ratio"]
    lines = [
        "| figure | value |", "|---|---|",
        row("files (folders)", f"{folder['files']:,} ({folder['folders']})"),
        row("total size, MB (median file, bytes)",
            f"{folder['mb']:.1f} ({folder['median_bytes']:,.0f})"),
        row("read + parse only, no store: s; files/s; MB/s",
            f"{parsed['seconds']:.1f}; {parsed['files_per_s']:,.0f}; {parsed['mb_per_s']:.2f}"),
        row("**first scan**: s; files/s; MB/s", f"{first['seconds']:,.1f};"
            f" {first['files_per_s']:,.1f}; {first['mb_per_s']:.3f}"),
        row("first scan: pieces stored; pieces/s",
            f"{first['pieces']:,}; {first['pieces_per_s']:,.1f}"),
        *phase_rows(first),
        row("embedding inside the scan alone: pieces/s",
            f"{ratio['in_scan_embedding_pieces_per_s']:,.1f}"),
    ]
    for way, label in (("batches", f"calls of {EMBED_BATCH} in stored order, as"
                        " core/embedding.py"),
                       ("by_length", f"calls of {SORTED_CALL:,}, sorted by length inside")):
        raw = report["raw"][way]
        lines += [
            row(f"raw embedding, {label}: pieces; s",
                f"{raw['pieces']:,}; {raw['seconds']:,.1f}"),
            row("… pieces/s; MB of text/s; peak RSS so far, MiB",
                f"{raw['pieces_per_s']:,.1f}; {raw['mb_per_s']:.3f}; {raw['peak_rss_mib']:,.0f}"),
            row("… capture / raw, pieces/s; embedding inside the scan / raw",
                f"{ratio[f'capture_over_raw_{way}']:.2f};"
                f" {ratio[f'in_scan_embedding_over_raw_{way}']:.2f}"),
        ]
    lines += [
        row(f"**unchanged scan**, s: median of {len(unchanged['seconds'])} (min–max)",
            f"{unchanged['median_s']:.2f} ({unchanged['min_s']:.2f}–{unchanged['max_s']:.2f})"),
        row("… ledger reads in the last one: s (queries)",
            f"{unchanged['last']['phases'][READS]:.2f}"
            f" ({unchanged['last']['calls'].get(READS, 0):,})"),
        row("unchanged scans: pieces embedded; added; removed",
            f"{unchanged['embedded']}; {unchanged['added']}; {unchanged['removed']}"),
        *edit_rows(edits),
        *store_rows(report["store"], first),
    ]
    return "\n".join(lines)


def edit_rows(edits: Result) -> list[str]:
    """The touch-and-edit rounds, if any ran."""
    if not edits["rounds"]:
        return []
    one = edits["rounds"][0]
    return [
        row(f"**scan after touching {one['touched']} and editing {one['edited']} files**, s:"
            f" median of {len(edits['rounds'])} (min–max)",
            f"{edits['median_s']:.2f} ({edits['min_s']:.2f}–{edits['max_s']:.2f})"),
        row("… pieces embedded; added; removed (each round)",
            " / ".join(f"{r['embedded']}; {r['added']}; {r['removed']}"
                       for r in edits["rounds"])),
    ]


def store_rows(store: Result, first: Result) -> list[str]:
    """What the store holds at the end, its size and the peak memory."""
    return [
        row("after the first scan: catalog pieces; peak RSS, MiB",
            f"{first['catalog_pieces']:,}; {first['peak_rss_mib']:,.0f}"),
        row("at the end: episodes; vectors; index; catalog pieces",
            f"{store['episodes']:,}; {store['vectors']:,}; {store['index']:,};"
            f" {store['catalog_pieces']:,}"),
        row("store on disk, MiB; peak RSS of the whole run, MiB",
            f"{store['disk_mib']:,.0f}; {store['peak_rss_mib']:,.0f}"),
    ]


def header(report: Result, command: str) -> str:
    """The command, the machine and the date, above the table."""
    m = report["machine"]
    load = ", ".join(f"{x:.1f}" for x in report["load_1min"])
    return (f"command: `{command}`  \nmachine: {m['cpus']} cores ({m['cpu']}), "
            f"{m['ram_gib']} GiB RAM, {m['platform']}, Python {m['python']},"
            f" commit {m['commit']}  \ndate: {report['date']}; whole run"
            f" {report['wall_s']:,.0f} s; one-minute load before, after: {load}")


def save(report: Result, text: str, out: Path) -> None:
    """Write the results to out/capture.json and the table to out/capture.md."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "capture.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    (out / "capture.md").write_text(text + "\n", encoding="utf-8")


def at_least_one(text: str) -> int:
    """A count of 1 or more, for argparse."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    defaults = Options()
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--files", type=int, default=defaults.files, help="notes to write")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--raw-share", type=float, default=defaults.raw_share,
                        help="share of the stored texts embedded for the raw baseline")
    parser.add_argument("--repeats", type=at_least_one, default=defaults.repeats,
                        help="scans with nothing changed")
    parser.add_argument("--rounds", type=int, default=defaults.rounds,
                        help="rounds of touching and editing files, each then scanned")
    parser.add_argument("--touch", type=int, default=defaults.touch,
                        help="files given a new mtime per round")
    parser.add_argument("--edit", type=int, default=defaults.edit,
                        help="files given one more paragraph per round")
    parser.add_argument("--out", type=Path, help="write capture.json and capture.md here")
    parser.add_argument("--workdir", type=Path, help="where the folder and store go (temp)")
    parser.add_argument("--keep", action="store_true", help="keep the folder and the store")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, embedder: Embedder | None = None) -> Result:
    """Run the benchmark and print the table; `embedder` defaults to the bundled one."""
    args = parse(argv)
    options = Options(files=args.files, seed=args.seed, raw_share=args.raw_share,
                      repeats=args.repeats, rounds=args.rounds, touch=args.touch,
                      edit=args.edit)
    root = Path(tempfile.mkdtemp(prefix="reverie-capture-", dir=args.workdir))
    try:
        report = run(options, root, embedder)
    finally:
        if args.keep:
            print(f"folder and store kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    command = "python -m bench.capture " + " ".join(sys.argv[1:] if argv is None else argv)
    text = header(report, command.strip()) + "\n\n" + table(report)
    if args.out:
        save(report, text, args.out)
    print(text)
    return report


if __name__ == "__main__":
    main()
